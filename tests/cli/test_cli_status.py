"""``promptgen status --json``: the contract of docs/USER_GUIDE.md §11, "JSON output", exactly; and the human table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_testlib import DEMO_DIR, DEMO_STATES, age, copy_demo, run, tiny_plan, write

PLAN_KEYS = {"feature", "plan_file", "plan_state", "current", "available", "achievements", "warnings"}
PLAN_STATES = {"in_progress", "plan_complete", "blocked", "no_achievements"}
ACH_STATES = set(DEMO_STATES.values())
WARNING_KINDS = {"duplicate_achievement", "ambiguous_token", "orphan_subplan", "orphan_execution",
                 "orphan_feedback", "handoff_mismatch", "parallel_invalid", "unreadable_file"}
NUMBER = re.compile(r"^\d+(\.\d+)+$")
NESTED = "work-space/plans/a_paused/NESTED-ONE/PLAN_NESTED-ONE.md"


@pytest.fixture(scope="module")
def ws(tmp_path_factory, promptgen_exe) -> Path:
    """The demo, plus a parked nested plan and an orphan feedback file (a warning with a path)."""
    root = copy_demo(tmp_path_factory.mktemp("status") / "ws")
    write(root / NESTED, tiny_plan("NESTED-ONE", ["0.1", "0.2"]))
    write(root / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_99.md", "stray\n")
    age(root)
    r = run(promptgen_exe, ["build"], root)
    assert r.code == 0, str(r)
    return root


@pytest.fixture(scope="module")
def doc(ws, promptgen_exe) -> dict:
    r = run(promptgen_exe, ["status", "--json"], ws)
    assert r.code == 0, str(r)
    assert r.err == "", "status --json has nothing to say on stderr for a healthy workspace"
    return r.json()


def test_top_level_shape(doc, ws):
    assert set(doc) == {"workspace", "plans"}
    assert doc["workspace"] == str(ws)
    assert Path(doc["workspace"]).is_absolute()
    assert isinstance(doc["plans"], list) and len(doc["plans"]) == 5


def test_every_plan_has_exactly_the_documented_keys_and_types(doc):
    for p in doc["plans"]:
        assert set(p) == PLAN_KEYS, p.keys()
        assert isinstance(p["feature"], str) and p["feature"]
        assert p["plan_state"] in PLAN_STATES
        assert p["current"] is None or (set(p["current"]) == {"number", "state"}
                                        and NUMBER.match(p["current"]["number"])
                                        and p["current"]["state"] in ACH_STATES), p["current"]
        assert isinstance(p["available"], list) and all(NUMBER.match(n) for n in p["available"])
        for a in p["achievements"]:
            assert set(a) == {"number", "title", "state"}, a
            assert isinstance(a["number"], str) and NUMBER.match(a["number"]), a
            assert isinstance(a["title"], str) and a["title"]
            assert a["state"] in ACH_STATES
        for w in p["warnings"]:
            assert {"kind", "message"} <= set(w) <= {"kind", "message", "path"}, w
            assert w["kind"] in WARNING_KINDS and isinstance(w["message"], str) and w["message"]


def test_paths_are_relative_with_slashes_and_plans_sorted(doc, ws):
    files = [p["plan_file"] for p in doc["plans"]]
    assert files == sorted(files)
    paths = files + [w["path"] for p in doc["plans"] for w in p["warnings"] if w.get("path")]
    for path in paths:
        assert not path.startswith("/") and "\\" not in path and not path.startswith("./"), path
        assert path.startswith("work-space/"), path
        assert (ws / path).exists(), path
    assert NESTED in files
    for p in doc["plans"]:
        assert Path(p["plan_file"]).name == f"PLAN_{p['feature']}.md"


def test_values_of_the_demo(doc):
    by = {p["feature"]: p for p in doc["plans"]}
    demo = by["DEMO-FEATURE"]
    assert demo["plan_state"] == "in_progress"
    assert demo["current"] == {"number": "0.3", "state": "fix_resolved"}
    assert [(a["number"], a["state"]) for a in demo["achievements"]] == list(DEMO_STATES.items())
    assert demo["achievements"][0]["title"] == "Project skeleton"
    (w,) = demo["warnings"]
    assert w["kind"] == "orphan_feedback" and w["path"] == f"{DEMO_DIR}/execution/feedbacks/APPROVED_99.md"
    assert by["SHIPPED-FEATURE"]["plan_state"] == "plan_complete" and by["SHIPPED-FEATURE"]["current"] is None
    assert by["BLOCKED-FEATURE"]["plan_state"] == "blocked" and by["BLOCKED-FEATURE"]["current"] is None
    assert by["DRAFT-IDEA"]["plan_state"] == "no_achievements" and by["DRAFT-IDEA"]["achievements"] == []
    assert by["NESTED-ONE"]["current"] == {"number": "0.1", "state": "no_subplan"}
    for p in doc["plans"]:
        if p["current"] is None:
            assert p["plan_state"] != "in_progress"


def test_status_json_is_stable_across_runs_and_paths(ws, pg, doc):
    again = pg("status", "--json", cwd=ws / "work-space" / "plans")
    assert again.code == 0 and again.json() == doc
    elsewhere = pg("status", "--json", "--workspace", str(ws))
    assert elsewhere.code == 0 and elsewhere.json() == doc


def test_status_table_lists_plans_states_and_warnings(ws, pg):
    r = pg("status", cwd=ws)
    assert r.code == 0, str(r)
    for feature in ("@DEMO-FEATURE", "@SHIPPED-FEATURE", "@BLOCKED-FEATURE", "@DRAFT-IDEA", "@NESTED-ONE"):
        assert feature in r.out
    for word in ("fix_resolved", "plan_complete", "blocked", "no_achievements", "2/10"):
        assert word in r.out
    # `build` says "1 warning (promptgen status)": status must then show what it is
    assert "orphan_feedback" in r.out and "APPROVED_99.md" in r.out, str(r)
