"""``promptgen next PLAN``: the plan's next prompt on stdout, warnings on stderr."""

from __future__ import annotations

import sys

from ..output import info, warn
from ..workspace import build_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    _ws, built = build_for(ns)
    for line in built.select(ns.plan)["warnings"]:  # said even when --achievement is wrong
        warn(line)
    prompt = built.next_prompt(ns.plan, ns.achievement)
    text = prompt.text
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    if ns.copy:
        _copy(text)
    return prompt.exit_code


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
