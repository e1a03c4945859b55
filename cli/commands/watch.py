"""``promptgen watch``: rebuild on every change, status table kept on screen."""

from __future__ import annotations

import argparse
import os

from ..output import console, warn
from ..workspace import build, locate
from .build import on_wait


def run(ns: argparse.Namespace) -> int:
    from rich.live import Live
    from watchfiles import watch

    ws = locate(ns.workspace, ns.plan_root, ns.store)
    out = console()
    paths = [os.path.join(ws.root, "work-space")]
    templates = os.path.join(ws.root, ".promptgen", "templates")
    if os.path.isdir(templates):
        paths.append(templates)
    store_dir = os.path.realpath(ws.store_dir)

    def relevant(_change, path: str) -> bool:
        """Changes in the workspace and templates; never the store we write ourselves."""
        return not os.path.realpath(path).startswith(store_dir + os.sep) or "templates" in path

    with Live(_table(ws, out), console=out, auto_refresh=False) as live:
        try:
            for _changes in watch(*paths, debounce=ns.debounce, watch_filter=relevant, raise_interrupt=False):
                live.update(_table(ws, out), refresh=True)
        except KeyboardInterrupt:
            pass
    return 0


def _table(ws, out):
    from ..tables import status_table

    built = build(ws, on_wait=on_wait)
    for w in built.outcome.warnings:
        warn(w)
    built.outcome.close()
    r = built.result
    return status_table(built.reports, f"promptgen watch — {ws.root}  (last build: {r.mode}, "
                        f"{r.counters.recomputed} recomputed, {r.duration_s * 1000:.0f} ms; Ctrl-C to stop)")
