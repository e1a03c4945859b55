"""promptgen: the next prompt for every plan of a methodology workspace, built incrementally.

The library, in three calls (each builds incrementally first, so the answer is
the one the files on disk give now)::

    import promptgen

    promptgen.status("path/to/project")               # the `promptgen status --json` document
    promptgen.next_prompt("@MY-FEATURE", "path/to/project").text
    promptgen.get_performance_stats("path/to/project")

and :class:`promptgen.Workspace` for a caller that asks many times (its
builds after an edit look only at what changed). Errors: ``WorkspaceError``
(no workspace, a bad ``promptgen.toml``) and ``SelectionError`` (an unknown or
ambiguous plan, an undeclared achievement), both with a message that says what
to do.

Import cost, said once for the whole code base: most runs are no-ops answered
from a snapshot in about the time Python takes to start, so every module on
that path (this one, ``cli.main``, ``cli.fast``, ``locate``,
``engine.fastpath``, ``engine.journal``, ``engine.metrics``,
``nodes.selection``) imports only ``os``, ``sys``, ``time``, ``marshal`` and
``binascii``: type annotations are strings or guarded by ``TYPE_CHECKING =
False`` (``typing`` imports ``re``; even ``from __future__ import annotations``
is a module to load), and everything else is imported inside the function
that needs it. Paths that build import sqlite3, json and ``re`` but never
networkx, rich or prometheus_client, which only ``--timings``, ``status``,
``graph``, ``stats`` and ``metrics`` load. ``tests/cli/test_cli_fastpath.py``
and the benchmark harness enforce it; docs/PERFORMANCE_OPTIMIZATION_GUIDE.md
has the measurements.
"""

import os as _os
import sys as _sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .workspace import NextPrompt

# A source checkout keeps engine/, nodes/ and cli/ beside this folder (pyproject.toml
# maps them into the package). Run from the checkout's root (``python -m pytest``,
# ``python -m bench.run``), the current directory comes first on sys.path and this
# folder is found before the installed package: then the installed package's folder
# goes first, so that every submodule is the installed one (the usual pkgutil-style
# namespace rule, written out because importing pkgutil would cost every start).
if not _os.path.isdir(_os.path.join(__path__[0], "engine")):
    __path__[:0] = [d for d in (_os.path.join(p, __name__) for p in _sys.path if p)
                    if _os.path.isdir(_os.path.join(d, "engine"))]

__all__ = ["Workspace", "WorkspaceError", "SelectionError", "NextPrompt", "status", "next_prompt",
           "get_performance_stats"]


def status(workspace: "str | None" = None) -> "dict[str, Any]":
    """The status document of the workspace at (or above) ``workspace`` (default:
    the current directory): every plan's state, current and available
    achievements, every achievement's state and the warnings — the
    ``promptgen status --json`` contract (docs/USER_GUIDE.md)."""
    from .workspace import Workspace

    return Workspace.locate(workspace).status()


def next_prompt(plan: str, workspace: "str | None" = None, achievement: "str | None" = None) -> "NextPrompt":
    """The next prompt of ``plan`` (``@NAME`` or a PLAN file path): ``.text``,
    ``.plan`` (its index entry) and ``.exit_code``; ``achievement`` ("1.2")
    targets another achievement than the current one."""
    from .workspace import Workspace

    return Workspace.locate(workspace).next_prompt(plan, achievement)


def get_performance_stats(workspace: "str | None" = None, store: "str | None" = None) -> "dict[str, Any]":
    """Cumulative performance figures for a workspace, read from its store.

    The same dict `promptgen stats --json` prints: ``cache_hit_rate``,
    ``avg_parse_time``, ``avg_generation_time``, ``avg_build_time`` (seconds),
    ``total_calls``, ``total_builds`` (by mode), ``prompts_generated``,
    ``prompts_cached``, ``nodes_cache_hits``, ``nodes_cache_misses`` — see
    docs/METRICS.md. `workspace` defaults to the nearest ancestor of the current
    directory holding `work-space/`; `store` to its `.promptgen/`. Empty figures
    before the first build, or when the store is damaged (the next build replaces it).
    """
    from .stats import performance_stats
    from .workspace import Workspace

    return performance_stats(Workspace.locate(workspace, store=store))[0]


def __getattr__(name: str) -> "Any":
    # the classes load their module only when asked for (see "Import cost" above)
    if name in ("Workspace", "WorkspaceError", "NextPrompt"):
        from . import workspace

        return getattr(workspace, name)
    if name == "SelectionError":
        from .nodes.selection import SelectionError

        return SelectionError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
