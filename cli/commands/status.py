"""``promptgen status``: every plan's progress, current achievement and warnings."""

from __future__ import annotations

import json
import sys

from promptgen.nodes.reports import status_document
from promptgen.workspace import format_warning

from ..output import console
from ..workspace import build_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    ws, built = build_for(ns)
    if ns.json:
        doc = status_document(ws.root, built.reports)
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
