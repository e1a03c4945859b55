"""The library API re-exported by the top-level package: status, next prompt, stats.

Called the way a Python user calls it, in this process: no command line, no
terminal. The answers must be the command line's answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import promptgen
from cli_testlib import DEMO_PLAN, DEMO_STATES


def test_status_is_the_status_json_document(warm: Path, pg) -> None:
    doc = promptgen.status(str(warm))
    assert doc == pg("status", "--json", cwd=warm).json()
    demo = next(p for p in doc["plans"] if p["plan_file"] == DEMO_PLAN)
    assert {a["number"]: a["state"] for a in demo["achievements"]} == DEMO_STATES


def test_next_prompt_is_what_next_prints(warm: Path, pg) -> None:
    prompt = promptgen.next_prompt("@DEMO-FEATURE", str(warm))
    assert prompt.text == pg("next", "@DEMO-FEATURE", cwd=warm).out
    assert prompt.plan["plan_file"] == DEMO_PLAN and prompt.exit_code == 0
    explicit = promptgen.next_prompt("@DEMO-FEATURE", str(warm), achievement="2.2")
    assert explicit.text == pg("next", "@DEMO-FEATURE", "--achievement", "2.2", cwd=warm).out
    draft = promptgen.next_prompt("@DRAFT-IDEA", str(warm))
    assert draft.exit_code == 1  # no achievements: an error, not "complete"


def test_errors_name_the_problem(tmp_path: Path, warm: Path) -> None:
    with pytest.raises(promptgen.WorkspaceError) as exc:
        promptgen.status(str(tmp_path / "nowhere"))
    assert "is not a workspace" in str(exc.value)
    with pytest.raises(promptgen.SelectionError) as sel:
        promptgen.next_prompt("@NO-SUCH-PLAN", str(warm))
    assert sel.value.candidates and "no plan matches @NO-SUCH-PLAN" in str(sel.value)
    with pytest.raises(promptgen.SelectionError):
        promptgen.next_prompt("@DEMO-FEATURE", str(warm), achievement="9.9")


def test_a_workspace_answers_many_questions_incrementally(warm: Path) -> None:
    ws = promptgen.Workspace.locate(str(warm))
    first = ws.next_prompt("@DEMO-FEATURE")
    assert "Achievement 0.3" in first.text
    (warm / "work-space/plans/DEMO-FEATURE/execution/feedbacks/APPROVED_03.md").write_text("ok\n")
    built = ws.build_observed()
    try:
        assert built.result.mode == "incremental"
        assert built.prompts[DEMO_PLAN] != first.text
    finally:
        built.outcome.close()
    assert "Achievement 1.1" in ws.next_prompt("@DEMO-FEATURE").text
    kinds = {w["kind"] for w in ws.warnings()}
    assert kinds <= {"handoff_mismatch", "orphan_feedback", "duplicate_achievement", "parallel_invalid",
                     "ambiguous_token", "orphan_subplan", "orphan_execution", "unreadable_file"}


def test_get_performance_stats_needs_no_command_line(warm: Path) -> None:
    stats = promptgen.get_performance_stats(str(warm))
    assert stats["total_calls"] == 1 and json.dumps(stats)
    with pytest.raises(promptgen.WorkspaceError):
        promptgen.get_performance_stats(str(warm / "work-space" / "plans" / "nowhere"))
