"""``promptgen build``: build every plan's prompt; one summary line."""

from __future__ import annotations

import sys

from .. import exitcodes
from ..workspace import build_for, build_json, summary_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    _ws, built = build_for(ns, force=ns.force)
    chosen = [built.report(built.select(p)["plan_file"]) for p in ns.plans]
    if ns.json:
        # stdout stays one JSON document: the timings go inside it, not after it
        extra = None
        if ns.timings:
            from ..timings import timings_json

            extra = {"timings": timings_json(built.result)}
        sys.stdout.write(build_json(built, extra) + "\n")
    else:
        sys.stdout.write(summary_line(built) + "\n")
        for plan in chosen:
            cur = plan.get("current")
            where = f"{cur['number']} {cur['state']}" if cur else plan["plan_state"]
            sys.stdout.write(f"  @{plan['feature']}: {where}\n")
    if ns.timings and not ns.json:
        from ..timings import print_timings

        print_timings(built.result)
    code = exitcodes.OK
    for plan in chosen:
        code = max(code, plan["exit_code"])
    return code
