"""``promptgen stats``: cumulative performance figures from the store."""

from __future__ import annotations

import json
import sys

from promptgen.stats import performance_stats

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    from ..workspace import locate

    ws = locate(ns.workspace, ns.plan_root, ns.store)
    stats, problem = performance_stats(ws)
    if problem:
        from ..output import warn

        warn(problem)
    if ns.json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return 0
    from rich.table import Table

    from ..output import console

    def ms(x):
        return "—" if x is None else f"{x * 1000:.3f} ms"

    t = Table(title="promptgen stats (cumulative, from the store)", title_justify="left")
    t.add_column("figure")
    t.add_column("value", justify="right")
    rate = stats["cache_hit_rate"]
    t.add_row("cache hit rate (nodes reused / nodes visited)", "—" if rate is None else f"{rate:.1%}")
    t.add_row("average PLAN parse time", ms(stats["avg_parse_time"]))
    t.add_row("average prompt generation time", ms(stats["avg_generation_time"]))
    t.add_row("average build time", ms(stats["avg_build_time"]))
    b = stats["total_builds"]
    t.add_row("total calls (builds)", f"{stats['total_calls']}  (noop {b['noop']}, incremental "
              f"{b['incremental']}, full {b['full']})")
    t.add_row("prompts generated / served from cache", f"{stats['prompts_generated']} / {stats['prompts_cached']}")
    console().print(t)
    return 0
