"""promptgen: incremental prompt builder for methodology workspaces.

This module is deliberately tiny: every `promptgen` invocation imports it, so it
imports nothing at module level. The public helpers below import what they need
when they are called.
"""

# typing imports re (~10 ms): this module is on the no-op path, so types are
# for checkers only.
# On the no-op path: annotations are strings rather than `from __future__ import
# annotations`, which imports the __future__ module (~0.25 ms, 2% of a no-op).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["get_performance_stats"]


def get_performance_stats(workspace: "str | None" = None, store: "str | None" = None) -> "dict[str, Any]":
    """Cumulative performance figures for a workspace, read from its store.

    The same dict `promptgen stats --json` prints: ``cache_hit_rate``,
    ``avg_parse_time``, ``avg_generation_time``, ``avg_build_time`` (seconds),
    ``total_calls``, ``total_builds`` (by mode), ``prompts_generated``,
    ``prompts_cached``, ``nodes_cache_hits``, ``nodes_cache_misses`` — see
    docs/METRICS.md. `workspace` defaults to the nearest ancestor of the current
    directory holding `work-space/`; `store` to its `.promptgen/`.
    """
    from promptgen.cli.stats import performance_stats

    return performance_stats(workspace, store)
