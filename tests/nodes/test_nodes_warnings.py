"""Conflicts are warnings of the documented kinds, never exceptions (docs/USER_GUIDE.md §7, "Warnings")."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodes_testlib import WS, kinds, write


@pytest.fixture
def ws(tmp_path: Path) -> WS:
    return WS(tmp_path)


def _by_kind(report: dict, kind: str) -> list[dict]:
    return [w for w in report["warnings"] if w["kind"] == kind]


def test_orphans(ws: WS) -> None:
    ws.plan(["0.1"])
    ws.subplan("09")
    ws.task("08", 1)
    ws.approved("07")
    r = ws.report()
    assert ws.states() == {"0.1": "no_subplan"}
    assert [w["path"] for w in _by_kind(r, "orphan_subplan")] == ["work-space/plans/DEMO/subplans/SUBPLAN_DEMO_09.md"]
    assert [w["path"] for w in _by_kind(r, "orphan_execution")] == [
        "work-space/plans/DEMO/execution/EXECUTION_TASK_DEMO_08_01.md"]
    assert [w["path"] for w in _by_kind(r, "orphan_feedback")] == [
        "work-space/plans/DEMO/execution/feedbacks/APPROVED_07.md"]
    assert r["prompt"].startswith("⚠️ Warnings (3)")


def test_ambiguous_token_is_never_guessed(ws: WS) -> None:
    ws.plan(["1.10", "11.0"])
    ws.approved("110")
    r = ws.report()
    assert ws.states() == {"1.10": "no_subplan", "11.0": "no_subplan"}
    amb = _by_kind(r, "ambiguous_token")
    assert amb and any("APPROVED_110.md" in w["message"] for w in amb)
    assert all("1.10" in w["message"] and "11.0" in w["message"] for w in amb)


def test_duplicate_declaration(ws: WS) -> None:
    ws.plan_raw("# P\n**Achievement 0.1**: First\n**Achievement 0.2**: Two\n**Achievement 0.1**: Again\n")
    r = ws.report()
    assert [a["title"] for a in r["achievements"]] == ["First", "Two"]
    assert _by_kind(r, "duplicate_achievement")[0]["path"] == ws.plan_file


def test_handoff_ahead_of_files_names_approval_files(ws: WS) -> None:
    ws.plan(["0.1", "0.2", "0.3"], extra="## 📝 Current Status & Handoff\n\n⏳ Next: Achievement 0.3\n")
    r = ws.report()
    assert r["current"]["number"] == "0.1"  # the files decide
    (w,) = _by_kind(r, "handoff_mismatch")
    assert "work-space/plans/DEMO/execution/feedbacks/APPROVED_01.md" in w["message"]
    assert "work-space/plans/DEMO/execution/feedbacks/APPROVED_02.md" in w["message"]


def test_handoff_agreeing_with_current_or_available(ws: WS) -> None:
    ws.plan(["0.1", "0.2"], extra="## Current Status & Handoff\n\n**Next Achievement**: 0.2\n")
    ws.parallel({"0.2": []})
    assert "handoff_mismatch" not in kinds(ws.report())
    ws.plan(["0.1", "0.2"], extra="## Current Status & Handoff\n\n**Next Achievement**: 0.1\n")
    assert "handoff_mismatch" not in kinds(ws.report())


def test_handoff_behind_and_undeclared(ws: WS) -> None:
    ws.plan(["0.1", "0.2"], extra="## Current Status & Handoff\n\nNext: Achievement 0.1\n")
    ws.approved("01")
    assert "it is approved" in _by_kind(ws.report(), "handoff_mismatch")[0]["message"]
    ws.plan(["0.1", "0.2"], extra="## Current Status & Handoff\n\nNext: Achievement 7.7\n")
    assert "declares no Achievement 7.7" in _by_kind(ws.report(), "handoff_mismatch")[0]["message"]


def test_parallel_entry_for_undeclared_is_ignored_rest_holds(ws: WS) -> None:
    ws.plan(["1.1", "1.2", "1.3"])
    ws.parallel({"1.2": [], "9.9": ["1.1"], "1.3": ["1.1"]})
    r = ws.report()
    assert r["current"]["number"] == "1.1" and r["available"] == ["1.2"]
    (w,) = _by_kind(r, "parallel_invalid")
    assert "9.9" in w["message"] and w["path"] == "work-space/plans/DEMO/parallel.json"


def test_parallel_unknown_dependency(ws: WS) -> None:
    ws.plan(["1.1", "1.2"])
    ws.parallel({"1.2": ["4.4"]})
    r = ws.report()
    assert r["available"] == [] and "4.4" in _by_kind(r, "parallel_invalid")[0]["message"]


def test_unreadable_non_utf8_files(ws: WS) -> None:
    ws.plan(["0.1", "0.2"])
    write(ws.root, f"{ws.folder}/subplans/SUBPLAN_DEMO_01.md", raw=b"# S\n**Status**: \xff\xfe Complete\n")
    write(ws.root, f"{ws.folder}/execution/feedbacks/FIX_02.md", raw=b"\xff\xfe\x00broken")
    write(ws.root, f"{ws.folder}/parallel.json", raw=b"\xff{}")
    r = ws.report()
    paths = sorted(w["path"] for w in _by_kind(r, "unreadable_file"))
    assert paths == [
        "work-space/plans/DEMO/execution/feedbacks/FIX_02.md",
        "work-space/plans/DEMO/parallel.json",
        "work-space/plans/DEMO/subplans/SUBPLAN_DEMO_01.md",
    ]
    # an unreadable SUBPLAN exists but is not complete; an unreadable FIX still counts
    assert ws.states() == {"0.1": "no_execution", "0.2": "needs_fix"}


def test_unreadable_plan(ws: WS) -> None:
    write(ws.root, ws.plan_file, raw=b"\xff\xfe PLAN")
    r = ws.report()
    assert r["plan_state"] == "no_achievements" and r["exit_code"] == 1
    assert kinds(r) == ["unreadable_file"]


def test_warnings_never_raise_on_messy_workspace(ws: WS) -> None:
    ws.plan(["0.1"])
    write(ws.root, f"{ws.folder}/execution/feedbacks/FIX_01_RESOLUTION.md", "")  # resolution without FIX
    write(ws.root, f"{ws.folder}/subplans/SUBPLAN_DEMO_.md", "")
    write(ws.root, f"{ws.folder}/execution/EXECUTION_TASK_DEMO_01.md", "")  # no execution number
    (ws.root / ws.folder / "parallel.json").mkdir()  # a directory where a file is expected
    r = ws.report()
    assert r["current"] == {"number": "0.1", "state": "no_subplan"}


def test_feedback_of_a_sibling_plan_is_not_an_orphan(tmp_path: Path) -> None:
    a = WS(tmp_path, "A", folder="work-space/plans/SHARED")
    b = WS(tmp_path, "B", folder="work-space/plans/SHARED")
    a.plan(["0.1"])
    b.plan(["0.1", "0.2"])
    a.approved("02")  # B's 0.2
    a.approved("05")  # nobody's
    ra, rb = a.report(), b.report()
    assert [w["path"].rsplit("/", 1)[1] for w in _by_kind(ra, "orphan_feedback")] == ["APPROVED_05.md"]
    assert rb["achievements"][1]["state"] == "approved"
