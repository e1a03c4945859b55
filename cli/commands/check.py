"""``promptgen check``: the workspace lint for CI and pre-commit.

Builds incrementally (as every verb does), then prints each warning with its
file and its remedy. Exit 0 when no warning of a failing kind is left, 1 when
one is, 2 on a usage error — so a CI step or a pre-commit hook fails exactly
when the PLANs and the files disagree.
"""

from __future__ import annotations

import json
import sys

from promptgen.nodes.diagnostics import KINDS

from .. import exitcodes
from ..workspace import UsageError, build_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from promptgen.nodes.values import PlanWarning


def failing_kinds(values: list[str]) -> list[str]:
    """The kinds ``--fail-on`` names (comma-separated, repeatable; ``all``, ``none``)."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not names or "all" in names:
        return list(KINDS)
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise UsageError(f"--fail-on: unknown warning kind {', '.join(unknown)}; "
                         f"the kinds are {', '.join(KINDS)} (or all, none)")
    return [k for k in KINDS if k in names]


def run(ns: argparse.Namespace) -> int:
    fail_on = failing_kinds(ns.fail_on)
    ws, built = build_for(ns)
    warnings = built.warnings()
    failing = [w for w in warnings if w["kind"] in fail_on]
    if ns.json:
        doc = {
            "workspace": ws.root,
            "ok": not failing,
            "fail_on": fail_on,
            "plans": len(built.plans),
            "warnings": [{**w, "fails": w["kind"] in fail_on} for w in warnings],
        }
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        _print(warnings, fail_on, len(built.plans))
    return exitcodes.WORKSPACE_PROBLEM if failing else exitcodes.OK


def _print(warnings: list[PlanWarning], fail_on: list[str], plans: int) -> None:
    out = sys.stdout
    for w in warnings:
        where = w["path"] or w["plan_file"]
        mark = "" if w["kind"] in fail_on else " (not failing)"
        out.write(f"{where}: {w['kind']}{mark}: {w['message']}\n")
        out.write(f"  @{w['feature']} — fix: {w['remedy']}\n")
    failing = sum(1 for w in warnings if w["kind"] in fail_on)
    s = "" if plans == 1 else "s"
    if not warnings:
        out.write(f"promptgen check: {plans} plan{s}, no warnings\n")
    elif failing:
        out.write(f"promptgen check: {plans} plan{s}, {len(warnings)} warning{'' if len(warnings) == 1 else 's'}"
                  f", {failing} failing (--fail-on {','.join(fail_on) if len(fail_on) < len(KINDS) else 'all'})\n")
    else:
        out.write(f"promptgen check: {plans} plan{s}, {len(warnings)} warning{'' if len(warnings) == 1 else 's'}"
                  f", none of a failing kind\n")
