"""``promptgen build``: one summary line, the ``--json`` contract and its incremental semantics."""

from __future__ import annotations

import os
import re
import time

import pytest

from cli_testlib import BLOCKED_PLAN, DEMO_DIR, DEMO_PLAN, DRAFT_PLAN, SHIPPED_PLAN, age, set_status

SUMMARY = re.compile(
    r"^(?P<plans>\d+) plans?: (?P<nodes>\d+) nodes, (?P<recomputed>\d+) recomputed, (?P<reused>\d+) reused, "
    r"(?P<cut_off>\d+) cut off \((?P<mode>full|incremental|noop), [0-9.]+ ms\)"
)
ALL_PROMPTS = [f"prompt:{p}" for p in (BLOCKED_PLAN, DEMO_PLAN, DRAFT_PLAN, SHIPPED_PLAN)]
REQUIRED = {"nodes": int, "recomputed": int, "reused": int, "cut_off": int, "duration_s": float,
            "recomputed_nodes": list}


def check_shape(doc: dict) -> None:
    for key, typ in REQUIRED.items():
        assert key in doc, f"build --json lacks {key!r}: {doc}"
        assert isinstance(doc[key], typ) and not isinstance(doc[key], bool), (key, doc[key])
    assert all(isinstance(k, str) for k in doc["recomputed_nodes"])
    assert doc["nodes"] > 0 and doc["duration_s"] >= 0
    assert doc["recomputed"] + doc["reused"] == doc["nodes"], doc
    assert 0 <= doc["cut_off"] <= doc["recomputed"], doc
    # a recomputed node is one that ran (cut off or not): the list never names more of them
    assert len(doc["recomputed_nodes"]) == doc["recomputed"], doc  # cut-off nodes included
    assert set(doc["cut_off_nodes"]) <= set(doc["recomputed_nodes"]) and len(doc["cut_off_nodes"]) == doc["cut_off"], doc
    assert len(set(doc["recomputed_nodes"])) == len(doc["recomputed_nodes"]), "a node listed twice"


def test_build_prints_exactly_one_summary_line(demo, pg):
    first = pg("build", cwd=demo)
    assert first.code == 0, str(first)
    lines = first.out.splitlines()
    assert len(lines) == 1, str(first)
    m = SUMMARY.match(lines[0])
    assert m, str(first)
    assert (m["plans"], m["mode"], m["reused"]) == ("4", "full", "0")
    assert m["recomputed"] == m["nodes"]
    assert first.err == "", "a clean demo build has nothing to say on stderr"

    second = pg("build", cwd=demo)
    assert second.code == 0 and len(second.out.splitlines()) == 1, str(second)
    m2 = SUMMARY.match(second.out)
    assert m2 and m2["mode"] == "noop" and m2["recomputed"] == "0" and m2["reused"] == m["nodes"], str(second)


def test_build_json_first_build_recomputes_everything(demo, pg):
    r = pg("build", "--json", cwd=demo)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    assert doc["reused"] == 0 and doc["recomputed"] == doc["nodes"]
    assert doc.get("mode") == "full"
    for key in ALL_PROMPTS:
        assert key in doc["recomputed_nodes"], key


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "full-path"])
def test_second_build_is_a_noop_that_reads_nothing(demo, pg, fast):
    env = {} if fast else {"PROMPTGEN_NO_FASTPATH": "1"}
    first = pg("build", "--json", cwd=demo).json()
    r = pg("build", "--json", cwd=demo, env=env)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    assert doc["nodes"] == first["nodes"]
    assert (doc["recomputed"], doc["cut_off"], doc["recomputed_nodes"]) == (0, 0, []), doc
    assert doc["reused"] == doc["nodes"]
    assert doc.get("mode") == "noop"
    assert doc["counters"]["files_read"] == 0, doc["counters"]
    assert doc["counters"]["files_hashed"] == 0, doc["counters"]


def test_subplan_status_edit_recomputes_that_plan_and_changes_its_state(warm, pg):
    before = {a["number"]: a["state"] for a in _demo_plan(pg("status", "--json", cwd=warm).json())["achievements"]}
    assert before["2.2"] == "active_execution"

    set_status(warm / DEMO_DIR / "subplans" / "SUBPLAN_DEMO-FEATURE_22.md", "✅ Complete")
    r = pg("build", "--json", cwd=warm)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    assert doc.get("mode") == "incremental"
    assert doc["counters"]["files_read"] >= 1
    assert f"state:{DEMO_PLAN}" in doc["recomputed_nodes"], doc
    assert f"subplans:{DEMO_PLAN}" in doc["recomputed_nodes"], doc
    others = [k for k in doc["recomputed_nodes"] if "DEMO-FEATURE" not in k]
    assert others == [], f"an edit in DEMO-FEATURE recomputed other plans' nodes: {others}"
    assert doc["reused"] > 0 and doc["recomputed"] < doc["nodes"]

    after = {a["number"]: a["state"] for a in _demo_plan(pg("status", "--json", cwd=warm).json())["achievements"]}
    assert after["2.2"] == "awaiting_review"
    assert {n: s for n, s in after.items() if n != "2.2"} == {n: s for n, s in before.items() if n != "2.2"}


def test_touching_a_file_without_changing_it_recomputes_nothing(warm, pg):
    target = warm / DEMO_DIR / "subplans" / "SUBPLAN_DEMO-FEATURE_22.md"
    old = target.stat().st_mtime
    t = time.time() - 5
    os.utime(target, (t, t))
    assert target.stat().st_mtime != old
    time.sleep(0.12)  # out of the racy window (utime set the ctime to now)
    r = pg("build", "--json", cwd=warm)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    assert doc["recomputed_nodes"] == [], doc
    assert doc["recomputed"] == 0, doc
    assert doc["counters"]["files_read"] <= 1, "only the touched file may be read again"
    again = pg("build", "--json", cwd=warm).json()
    assert again.get("mode") == "noop" and again["counters"]["files_read"] == 0, again


def test_build_timings_adds_tables_after_the_summary(warm, pg):
    r = pg("build", "--timings", cwd=warm)
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert SUMMARY.match(lines[0]), str(r)
    assert "time by node kind" in r.out
    assert "critical path" in r.out
    for kind in ("plan", "prompt", "state"):
        assert re.search(rf"\b{kind}\b", r.out), kind


def test_build_json_with_timings_is_still_one_json_document(warm, pg):
    """A script asking for ``--json`` must be able to parse stdout, whatever else it asked for."""
    r = pg("build", "--json", "--timings", cwd=warm)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    kinds = {k["kind"] for k in doc["timings"]["kinds"]}
    assert {"plan", "state", "prompt"} <= kinds, kinds
    assert isinstance(doc["timings"]["critical_path"]["nodes"], list)


def test_build_with_plans_reports_them_and_their_exit_code(warm, pg):
    r = pg("build", "@DEMO-FEATURE", "@shipped", cwd=warm)
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert SUMMARY.match(lines[0])
    assert lines[1:] == ["  @DEMO-FEATURE: 0.3 fix_resolved", "  @SHIPPED-FEATURE: plan_complete"], str(r)

    r = pg("build", "@DRAFT-IDEA", cwd=warm)
    assert r.code == 1, "a target PLAN without achievements is a workspace problem (exit 1)"
    assert "no_achievements" in r.out and "complete" not in r.out.lower()

    r = pg("build", "@nope", cwd=warm)
    assert r.code == 2 and "@DEMO-FEATURE" in r.err and r.out == "", str(r)


def test_build_force_recomputes_every_node(warm, pg):
    r = pg("build", "--force", "--json", cwd=warm)
    assert r.code == 0, str(r)
    doc = r.json()
    check_shape(doc)
    assert doc["recomputed"] == doc["nodes"] and doc["reused"] == 0


def test_a_new_file_is_seen_by_the_fast_path_and_the_next_build(warm, pg):
    """The no-op fast path must notice a new feedback file instead of serving its snapshot."""
    assert pg("next", "@DEMO-FEATURE", cwd=warm).out.startswith("# DEMO-FEATURE — Achievement 0.3")
    fb = warm / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_03.md"
    fb.write_text("Approved.\n", encoding="utf-8")
    for _ in range(2):  # the first run rebuilds, the second may be answered by the fast path
        nxt = pg("next", "@DEMO-FEATURE", cwd=warm)
        assert nxt.code == 0, str(nxt)
        assert "\n# DEMO-FEATURE — Achievement 1.1:" in "\n" + nxt.out, str(nxt)
    r = pg("build", "--json", cwd=warm, env={"PROMPTGEN_NO_FASTPATH": "1"})
    assert r.code == 0 and r.json()["recomputed"] == 0, str(r)


def _demo_plan(status: dict) -> dict:
    (plan,) = [p for p in status["plans"] if p["feature"] == "DEMO-FEATURE"]
    return plan
