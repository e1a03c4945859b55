"""Rendered prompts meet docs/USER_GUIDE.md §6, "What a prompt contains", in every state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pytest

from nodes_testlib import WS
from promptgen.nodes import prompts

F = "work-space/plans/DEMO"


def _setup_no_subplan(ws: WS) -> None:
    pass


def _setup_awaiting(ws: WS) -> None:
    ws.subplan("01", "✅ Complete")
    ws.task("01", 1, "✅ Complete")


def _setup_needs_fix(ws: WS) -> None:
    ws.subplan("01", "✅ Complete")
    ws.fix("01", "## Issues Found\n### Critical Issues (must fix)\n1. **Tests fail**\n   - run them\n"
                 "### Minor Issues (should fix)\n1. **Typo in README**\n")


def _setup_fix_resolved(ws: WS) -> None:
    _setup_needs_fix(ws)
    ws.resolution("01")


def _setup_no_execution(ws: WS) -> None:
    ws.subplan("01")


def _setup_active(ws: WS) -> None:
    ws.subplan("01")
    ws.task("01", 1)


def _setup_next(ws: WS) -> None:
    ws.subplan("01", planned=["01_01", "01_02"])
    ws.task("01", 1, "✅ Complete")


def _setup_all_executed(ws: WS) -> None:
    ws.subplan("01")
    ws.task("01", 1, "✅ Complete")


CASES: dict[str, tuple[Callable[[WS], None], list[str]]] = {
    "no_subplan": (_setup_no_subplan, [f"{F}/subplans/SUBPLAN_DEMO_01.md", "Design done is not achievement done",
                                       "Body of 0.1."]),
    "awaiting_review": (_setup_awaiting, [f"{F}/execution/feedbacks/APPROVED_01.md",
                                          f"{F}/execution/feedbacks/FIX_01.md",
                                          f"{F}/subplans/SUBPLAN_DEMO_01.md",
                                          f"{F}/execution/EXECUTION_TASK_DEMO_01_01.md", "Body of 0.1."]),
    "needs_fix": (_setup_needs_fix, ["[Critical] Tests fail", "[Minor] Typo in README", "run them",
                                     f"{F}/execution/feedbacks/FIX_01_RESOLUTION.md"]),
    "fix_resolved": (_setup_fix_resolved, [f"{F}/execution/feedbacks/FIX_01_RESOLUTION.md",
                                           f"{F}/execution/feedbacks/APPROVED_01.md", "Tests fail"]),
    "no_execution": (_setup_no_execution, [f"{F}/execution/EXECUTION_TASK_DEMO_01_01.md", "Do the thing.",
                                           "Step by step."]),
    "active_execution": (_setup_active, [f"{F}/execution/EXECUTION_TASK_DEMO_01_01.md", "Do the thing."]),
    "next_execution": (_setup_next, [f"{F}/execution/EXECUTION_TASK_DEMO_01_02.md", "plans 2"]),
    "all_executed": (_setup_all_executed, ["Execution Results Synthesis", "**Status**: ✅ Complete",
                                           f"{F}/subplans/SUBPLAN_DEMO_01.md"]),
}


@pytest.mark.parametrize("state", sorted(CASES))
def test_achievement_prompt(tmp_path: Path, state: str) -> None:
    ws = WS(tmp_path)
    ws.plan(["0.1", "0.2"])
    setup, needles = CASES[state]
    setup(ws)
    r = ws.report()
    assert r["current"] == {"number": "0.1", "state": state}
    text = r["prompt"]
    assert text.startswith("# DEMO — Achievement 0.1: Title 0.1")
    assert "promptgen next @DEMO" in text
    assert "## Do not read" in text and "## Read" in text or "## Your job" in text
    assert "## Where your job ends" in text
    assert "[FEATURE]" not in text and not re.search(r"\$\{?[a-z_]+", text)
    for needle in needles:
        assert needle in text, needle
    if state in ("no_execution", "active_execution", "next_execution", "all_executed"):
        assert "Body of 0.1." not in text  # execution prompts quote only the SUBPLAN
    if state in ("awaiting_review", "fix_resolved"):
        assert "Do not fix anything yourself" in text


def test_plan_level_prompts(tmp_path: Path) -> None:
    ws = WS(tmp_path)
    ws.plan(["0.1"])
    ws.approved("01")
    assert "plan complete" in ws.report()["prompt"].split("\n")[0]
    ws = WS(tmp_path, "OTHER")
    ws.plan(["0.1", "0.2"])
    ws.skipped("01")
    ws.parallel({"0.2": ["0.1"]})
    text = ws.report()["prompt"]
    assert "plan blocked" in text.split("\n")[0] and "0.2 waits for 0.1 (skipped)" in text
    assert "work-space/plans/OTHER/parallel.json" in text


def test_warnings_come_first(tmp_path: Path) -> None:
    ws = WS(tmp_path)
    ws.plan(["0.1"])
    ws.approved("09")
    text = ws.report()["prompt"]
    assert text.startswith("⚠️ Warnings (1)")
    assert text.index("orphan_feedback") < text.index("# DEMO")


def test_quote_cannot_be_closed_by_the_quoted_text() -> None:
    q = prompts.quote("before\n```python\ncode\n```\nafter", "empty")
    assert q.startswith("````markdown\n") and q.endswith("\n````")
    assert prompts.quote("  \n", "empty") == "empty"
