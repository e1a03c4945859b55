"""``promptgen next PLAN``: the plan's next prompt on stdout, warnings on stderr."""

from __future__ import annotations

import os
import sys

from promptgen.nodes.selection import SelectionError, select

from .. import exitcodes
from ..output import info, warn
from ..workspace import build_for

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse imports shutil and gettext: not on the build path
    import argparse


def run(ns: argparse.Namespace) -> int:
    ws, built = build_for(ns)
    plan = select(built.plans, ns.plan, ws.root, os.getcwd())
    for line in plan["warnings"]:
        warn(line)
    if ns.achievement is not None:
        from promptgen.nodes import api

        report = built.report(plan["plan_file"])
        parts = ns.achievement.split(".")
        if len(parts) < 2 or not all(x.isdigit() for x in parts):
            raise SelectionError(f"--achievement takes an achievement number such as 1.2, not {ns.achievement!r}; "
                                 f"{plan['plan_file']} declares:", [a["number"] for a in report["achievements"]])

        text = api.prompt_for_achievement(built.result.values, report, ns.achievement)
        code = exitcodes.OK
    else:
        text = built.prompts[plan["plan_file"]]
        code = plan["exit_code"]
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    if ns.copy:
        _copy(text)
    return code


def _copy(text: str) -> None:
    try:
        import pyperclip
    except ImportError:
        info("promptgen: --copy needs pyperclip: pip install 'promptgen[clipboard]' (prompt printed above)")
        return
    try:
        pyperclip.copy(text)
        info("promptgen: prompt copied to the clipboard")
    except Exception as exc:  # noqa: BLE001 - pyperclip raises its own types per platform
        info(f"promptgen: no clipboard available ({exc}); the prompt is printed above")
