"""``promptgen watch``: rebuild on every change, status table kept on screen."""

from __future__ import annotations

import os

from ..output import console
from ..workspace import build, locate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    from rich.live import Live
    from watchfiles import watch

    ws = locate(ns.workspace, ns.plan_root, ns.store)
    out = console()
    store_dir = os.path.realpath(ws.store_dir) + os.sep
    templates = os.path.join(os.path.realpath(ws.root), ".promptgen", "templates") + os.sep

    def relevant(_change, path: str) -> bool:
        """Anything in the workspace (plans, templates, promptgen.toml), except the
        store's own files, which every build rewrites."""
        real = os.path.realpath(path)
        return not real.startswith(store_dir) or real.startswith(templates)

    with Live(_table(ws, out), console=out, auto_refresh=False) as live:
        try:
            for _changes in watch(ws.root, debounce=ns.debounce, watch_filter=relevant):
                live.update(_table(ws, out), refresh=True)
        except KeyboardInterrupt:
            pass
    return 0


def _table(ws, out):
    from ..tables import status_table

    built = build(ws, observed=True)
    reports = built.reports  # read from the store: before it is closed
    built.outcome.close()
    r = built.result
    return status_table(reports, f"promptgen watch — {ws.root}  (last build: {r.mode}, "
                        f"{r.counters.recomputed} recomputed, {r.duration_s * 1000:.0f} ms; Ctrl-C to stop)")
