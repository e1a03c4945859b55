"""The state machine end to end: tiny workspaces written by each test, built by
the clean-build evaluator, read through the api (docs/USER_GUIDE.md §6, "States")."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodes_testlib import WS, kinds, write


@pytest.fixture
def ws(tmp_path: Path) -> WS:
    return WS(tmp_path)


# -- the ten achievement states ------------------------------------------------------------
def test_approved_beats_everything(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.fix("01")
    ws.skipped("01")
    ws.approved("01")
    assert ws.states() == {"0.1": "approved"}


def test_skipped(ws: WS) -> None:
    ws.plan(["0.1", "0.2"])
    ws.skipped("01")
    ws.fix("01")
    assert ws.states()["0.1"] == "skipped"


def test_fix_resolved(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", "✅ Complete")
    ws.fix("01")
    ws.resolution("01")
    assert ws.states() == {"0.1": "fix_resolved"}


def test_needs_fix(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", "✅ Complete")
    ws.fix("01")
    assert ws.states() == {"0.1": "needs_fix"}


def test_no_subplan(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.task("01", 1, "✅ Complete")  # a task without a SUBPLAN does not count
    assert ws.states() == {"0.1": "no_subplan"}


def test_awaiting_review(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", "✅ COMPLETE - all deliverables created")
    assert ws.states() == {"0.1": "awaiting_review"}


def test_design_complete_is_not_complete(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", "📋 Design Phase Complete")
    assert ws.states() == {"0.1": "no_execution"}


def test_no_execution(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01")
    assert ws.states() == {"0.1": "no_execution"}


def test_active_execution(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01")
    ws.task("01", 1, "✅ Complete")
    ws.task("01", 2, "🔄 In Progress")
    r = ws.report()
    assert ws.states() == {"0.1": "active_execution"}
    assert "EXECUTION_TASK_DEMO_01_02.md" in r["prompt"]


def test_open_revision_means_open_work(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01")
    ws.task("01", 1, "✅ Complete")
    ws.task("01", 1, "🚧 In Progress", suffix="_RECOVERY")
    r = ws.report()
    assert ws.states() == {"0.1": "active_execution"}
    assert "EXECUTION_TASK_DEMO_01_01_RECOVERY.md" in r["prompt"].split("## Read")[0]


def test_next_execution(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", planned=["01_01", "01_02", "01_03"])
    ws.task("01", 1, "✅ Complete")
    ws.task("01", 2, "✅ Complete")
    r = ws.report()
    assert ws.states() == {"0.1": "next_execution"}
    assert "work-space/plans/DEMO/execution/EXECUTION_TASK_DEMO_01_03.md" in r["prompt"]


def test_all_executed(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01", planned=["01_01", "01_02"])
    ws.task("01", 1, "✅ Complete")
    ws.task("01", 2, "Completed")
    ws.task("01", 2, "✅ Complete", suffix="_V2")
    assert ws.states() == {"0.1": "all_executed"}


def test_no_table_means_files_are_the_plan(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("01")
    ws.task("01", 1, "✅ Complete")
    assert ws.states() == {"0.1": "all_executed"}


def test_flat_and_archived_copies_count(ws: WS) -> None:
    ws.plan(["0.1", "0.2", "0.3"])
    ws.subplan("01", where="")  # flat: D/SUBPLAN_F_01.md
    ws.subplan("02", where="subplans", name="SUBPLAN_DEMO_02_ARCHIVED.md")
    ws.subplan("03", "✅ Complete", where="execution/archive")
    ws.task("01", 1, "✅ Complete", where="subplans/archive/2025")
    assert ws.states() == {"0.1": "all_executed", "0.2": "no_execution", "0.3": "awaiting_review"}


def test_copies_elsewhere_do_not_count(ws: WS) -> None:
    ws.plan(["0.1"])
    write(ws.root, "work-space/subplans/SUBPLAN_DEMO_01.md", "# S\n**Status**: Complete\n")
    write(ws.root, "work-space/plans/DEMO/documentation/SUBPLAN_DEMO_01.md", "# S\n**Status**: Complete\n")
    write(ws.root, "work-space/plans/DEMO/DEMOold/execution/feedbacks/APPROVED_01.md", "")
    write(ws.root, "work-space/plans/DEMO/notes/APPROVED_01.md", "")
    assert ws.states() == {"0.1": "no_subplan"}


def test_zero_byte_feedback_counts(ws: WS) -> None:
    ws.plan(["0.1", "0.2"])
    ws.feedback("APPROVED_01.md", "")
    assert ws.states()["0.1"] == "approved"


# -- plan outcomes ---------------------------------------------------------------------------------
def test_in_progress_current_is_first_not_done(ws: WS) -> None:
    ws.plan(["0.1", "0.2", "1.1"])
    ws.approved("01")
    r = ws.report()
    assert r["plan_state"] == "in_progress"
    assert r["current"] == {"number": "0.2", "state": "no_subplan"}
    assert r["available"] == []  # no parallel.json: nothing in parallel
    assert r["exit_code"] == 0


def test_plan_complete_with_statistics(ws: WS) -> None:
    ws.plan(["0.1", "0.2"])
    ws.subplan("01", "✅ Complete")
    write(ws.root, f"{ws.folder}/execution/EXECUTION_TASK_DEMO_01_01.md",
          "# T\n**Status**: ✅ Complete\n**Actual Time**: 2.5 hours\n**Estimated**: 2-3 hours\n## Body\n")
    ws.approved("01")
    ws.skipped("02")
    r = ws.report()
    assert r["plan_state"] == "plan_complete" and r["current"] is None
    assert "2 (1 approved, 1 skipped)" in r["prompt"]
    assert "Hours spent" in r["prompt"] and "2.5" in r["prompt"]
    assert r["exit_code"] == 0


def test_no_achievements_is_never_complete(ws: WS) -> None:
    ws.plan_raw("# PLAN_DEMO\n\nNo achievements are declared here. **Status**: ✅ Complete\n")
    r = ws.report()
    assert r["plan_state"] == "no_achievements"
    assert r["current"] is None and r["achievements"] == []
    assert r["exit_code"] == 1
    assert "complete" not in r["prompt"].split("\n")[0].lower()


def test_blocked_and_skipped_dependency(ws: WS) -> None:
    ws.plan(["1.1", "1.2", "1.3"])
    ws.skipped("11")
    ws.parallel({"1.1": [], "1.2": ["1.1"], "1.3": ["1.2"]})
    r = ws.report()
    assert r["plan_state"] == "blocked" and r["current"] is None
    assert "1.2 waits for 1.1 (skipped)" in r["prompt"]
    assert "approve the skipped achievement" in r["prompt"] and "drop the dependency" in r["prompt"]


def test_parallel_available(ws: WS) -> None:
    ws.plan(["1.1", "2.1", "2.2", "2.3", "3.1"])
    ws.approved("11")
    ws.parallel({"1.1": [], "2.1": ["1.1"], "2.2": ["1.1"], "2.3": ["2.1"]})
    r = ws.report()
    assert r["current"] == {"number": "2.1", "state": "no_subplan"}
    assert r["available"] == ["2.2", "3.1"]  # 3.1 is not listed: no dependencies
    assert "--achievement 2.2" in r["prompt"]


def test_skipped_dependency_does_not_unblock(ws: WS) -> None:
    ws.plan(["1.1", "1.2", "1.3"])
    ws.skipped("11")
    ws.parallel({"1.2": ["1.1"]})
    r = ws.report()
    assert r["current"]["number"] == "1.3" and r["available"] == []
    assert "1.2 waits for skipped 1.1" in r["prompt"] and "drop the dependency" in r["prompt"]


def test_parallel_alternative_name(ws: WS) -> None:
    ws.plan(["1.1", "1.2"])
    ws.parallel({"1.2": []}, name="PARALLEL-EXECUTION-ANALYSIS.json")
    assert ws.report()["available"] == ["1.2"]


def test_invalid_parallel_falls_back_to_plan_order(ws: WS) -> None:
    ws.plan(["1.1", "1.2"])
    ws.parallel({"1.1": ["1.2"], "1.2": ["1.1"]})
    r = ws.report()
    assert r["current"]["number"] == "1.1" and r["available"] == []
    assert "parallel_invalid" in kinds(r)


def test_three_level_numbers(ws: WS) -> None:
    ws.plan(["3.5", "3.5.1", "3.5.2", "3.6"])
    ws.approved("35")
    ws.subplan("351")
    r = ws.report()
    assert [a["number"] for a in r["achievements"]] == ["3.5", "3.5.1", "3.5.2", "3.6"]
    assert r["current"] == {"number": "3.5.1", "state": "no_execution"}


def test_crlf_and_bom_files(ws: WS) -> None:
    text = "\ufeff# PLAN\r\n\r\n## Achievement Index\r\n- Achievement 0.1: A\r\n"
    write(ws.root, ws.plan_file, "", raw=text.encode("utf-8"))
    sub = "\ufeff# SUBPLAN\r\n**Status**: ✅ Complete\r\n\r\n## Objective\r\nx\r\n"
    write(ws.root, f"{ws.folder}/subplans/SUBPLAN_DEMO_01.md", "", raw=sub.encode("utf-8"))
    assert ws.states() == {"0.1": "awaiting_review"}


def test_two_plans_in_one_folder_share_feedback(tmp_path: Path) -> None:
    a = WS(tmp_path, "A", folder="work-space/plans/SHARED")
    b = WS(tmp_path, "B", folder="work-space/plans/SHARED")
    a.plan(["0.1"])
    b.plan(["0.1", "0.2"])
    a.approved("01")
    assert a.states() == {"0.1": "approved"}
    assert b.states() == {"0.1": "approved", "0.2": "no_subplan"}


def test_discovery_rules(tmp_path: Path) -> None:
    WS(tmp_path, "TOP").plan(["0.1"])
    WS(tmp_path, "PAUSED", folder="work-space/plans/a_paused/PAUSED").plan(["0.1"])
    WS(tmp_path, "LOOSE", folder="work-space/plans/a_paused").plan(["0.1"])
    for skipped in ["documentation", "archive", "subplans", "execution", "feedbacks", ".hidden", "TOPold"]:
        write(tmp_path, f"work-space/plans/TOP/{skipped}/PLAN_NOPE.md", "**Achievement 0.1**: x\n")
    write(tmp_path, "work-space/backlog-plans/BACK/PLAN_BACK.md", "**Achievement 0.1**: x\n")
    write(tmp_path, "work-space/plans/TOP/PLAN-UPDATE-SUMMARY.md", "**Achievement 0.1**: x\n")
    files = [r["plan_file"] for r in WS(tmp_path, "TOP").reports()]
    assert files == [
        "work-space/plans/TOP/PLAN_TOP.md",
        "work-space/plans/a_paused/PAUSED/PLAN_PAUSED.md",
        "work-space/plans/a_paused/PLAN_LOOSE.md",
    ]
    with_backlog = [r["feature"] for r in WS(tmp_path, "TOP").reports(("work-space/backlog-plans",))]
    assert "BACK" in with_backlog
