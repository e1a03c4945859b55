"""``promptgen status``: every plan's progress, current achievement and warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..output import console
from ..workspace import build_for, format_warning

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse imports shutil and gettext: not on the build path
    import argparse


def run(ns: argparse.Namespace) -> int:
    from promptgen.nodes import api

    ws, built = build_for(ns)
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
