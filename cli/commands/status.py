"""``promptgen status``: every plan's progress, current achievement and warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..output import console, warn
from ..workspace import build, format_warning, locate
from .build import on_wait

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse imports shutil and gettext: not on the build path
    import argparse


def run(ns: argparse.Namespace) -> int:
    from promptgen.nodes import api

    ws = locate(ns.workspace, ns.plan_root, ns.store)
    built = build(ws, wait=not ns.no_wait, on_wait=on_wait)
    for w in built.outcome.warnings:
        warn(w)
    if ns.json:
        doc = api.status_document(Path(ws.root), built.reports)
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    from ..tables import status_table

    console().print(status_table(built.reports, f"promptgen status — {ws.root}"))
    # the table only counts them; `build` sends users here to read them
    flagged = [r for r in built.reports if r["warnings"]]
    if flagged:
        sys.stdout.write("\nwarnings:\n")
        for r in flagged:
            for w in r["warnings"]:
                sys.stdout.write(f"  @{r['feature']}: {format_warning(w)}\n")
    return 0
