"""``promptgen graph``: --explain (why nodes ran), --dry-run, --build N, --format dot|json."""

from __future__ import annotations

import json
import re

from cli_testlib import DEMO_DIR, DEMO_PLAN, SHIPPED_PLAN, file_digest, set_status

SUBPLAN_22 = f"{DEMO_DIR}/subplans/SUBPLAN_DEMO-FEATURE_22.md"
HEX = re.compile(r"^[0-9a-f]{8,}$")


def decisions(pg, ws, *extra):
    r = pg("graph", "--explain", "--json", *extra, cwd=ws)
    assert r.code == 0, str(r)
    doc = r.json()
    return doc["build"], {d["node"]: d for d in doc["decisions"]}


def test_explain_after_an_edit_lists_the_dependents_with_fingerprints(warm, pg):
    set_status(warm / SUBPLAN_22, "✅ Complete")
    assert pg("build", cwd=warm).code == 0
    build, d = decisions(pg, warm)
    assert build["mode"] == "incremental"

    direct = d[f"subplan:{SUBPLAN_22}"]  # the one file's parse
    assert direct["status"] == "ran" and direct["reason"] == "input_changed", direct
    assert direct["detail"]["path"] == SUBPLAN_22
    old, new = direct["detail"]["old"], direct["detail"]["new"]
    assert HEX.match(old) and HEX.match(new) and old != new
    plan_subplans = d[f"subplans:{DEMO_PLAN}"]
    assert plan_subplans["status"] == "ran" and plan_subplans["reason"] == "dependency_changed", plan_subplans
    assert plan_subplans["detail"]["node"] == f"subplan:{SUBPLAN_22}"
    dep = d[f"state:{DEMO_PLAN}"]
    assert dep["status"] == "ran" and dep["reason"] == "dependency_changed", dep
    assert dep["detail"]["node"] == f"subplans:{DEMO_PLAN}"
    assert d[f"prompt:{SHIPPED_PLAN}"]["status"] == "reused"
    assert d[f"prompt:{SHIPPED_PLAN}"]["reason"] is None

    text = pg("graph", "--explain", cwd=warm)
    assert text.code == 0, str(text)
    out = text.out
    assert f"subplan:{SUBPLAN_22}" in out and f"state:{DEMO_PLAN}" in out, out
    assert f"{old[:12]}→{new[:12]}" in out, out
    assert SUBPLAN_22 in out
    assert f"prompt:{SHIPPED_PLAN}" not in out, "reused nodes are listed only with --all"
    assert f"prompt:{SHIPPED_PLAN}" in pg("graph", "--explain", "--all", cwd=warm).out

    only = pg("graph", "--explain", "--json", "state:", cwd=warm).json()
    assert only["decisions"] and all("state:" in x["node"] for x in only["decisions"])


def test_dry_run_shows_what_would_run_without_running_it(warm, pg):
    store = warm / ".promptgen"
    set_status(warm / SUBPLAN_22, "✅ Complete")
    before = {name: file_digest(store / name) for name in ("state.db", "snapshot") if (store / name).exists()}

    r = pg("graph", "--explain", "--dry-run", "--json", cwd=warm)
    assert r.code == 0, str(r)
    rows = {x["node"]: x for x in r.json()}
    row = rows[f"subplan:{SUBPLAN_22}"]
    assert row["status"] == "would_run" and row["reason"] == "input_changed", row
    assert row["detail"]["path"] == SUBPLAN_22
    assert rows[f"subplans:{DEMO_PLAN}"]["status"] == "may_run"
    assert rows[f"prompt:{SHIPPED_PLAN}"]["status"] == "reused"

    text = pg("graph", "--explain", "--dry-run", cwd=warm)
    assert text.code == 0, str(text)
    assert f"subplan:{SUBPLAN_22}" in text.out, text.out    # whole node names, even in a pipe
    assert SUBPLAN_22 in text.out, text.out
    assert {name: file_digest(store / name) for name in before} == before, "a dry run wrote the store"

    built = pg("build", "--json", cwd=warm).json()
    assert f"subplan:{SUBPLAN_22}" in built["recomputed_nodes"], "the dry run must not have run it"
    assert f"subplans:{DEMO_PLAN}" in built["recomputed_nodes"]
    assert f"state:{DEMO_PLAN}" in built["recomputed_nodes"]

    after = pg("graph", "--explain", "--dry-run", cwd=warm)
    assert after.code == 0 and "nothing would run" in after.out, str(after)
    after_rows = pg("graph", "--explain", "--dry-run", "--json", cwd=warm).json()
    assert {x["status"] for x in after_rows} == {"reused"}


def test_build_n_picks_an_older_recorded_build(warm, pg):
    set_status(warm / SUBPLAN_22, "✅ Complete")
    assert pg("build", cwd=warm).code == 0
    assert pg("build", cwd=warm).code == 0  # a no-op is not recorded
    last, _ = decisions(pg, warm, "--build", "1")
    first, d1 = decisions(pg, warm, "--build", "2")
    assert last["mode"] == "incremental" and first["mode"] == "full"
    assert first["id"] < last["id"]
    assert all(x["status"] == "ran" for x in d1.values() if x["kind"] == "prompt")
    text = pg("graph", "--explain", "--build", "2", cwd=warm)
    assert text.code == 0 and text.out.startswith(f"build #{first['id']} (full"), str(text)

    for bad in ("3", "0", "-1"):
        r = pg("graph", "--explain", "--build", bad, cwd=warm)
        assert r.code == 2 and r.out == "" and "between 1 and 2" in r.err, str(r)
    r = pg("graph", "--explain", "--build", "x", cwd=warm)
    assert r.code == 2 and r.out == "", str(r)


def test_format_dot_and_json_export_the_graph(warm, pg):
    dot = pg("graph", "--format", "dot", cwd=warm)
    assert dot.code == 0, str(dot)
    assert dot.out.startswith("digraph") and dot.out.rstrip().endswith("}")
    assert f'"state:{DEMO_PLAN}" -> "prompt:{DEMO_PLAN}"' in dot.out
    assert f'"plan:{DEMO_PLAN}"' in dot.out

    js = pg("graph", "--format", "json", cwd=warm)
    assert js.code == 0, str(js)
    g = json.loads(js.out)
    ids = {n["id"] for n in g["nodes"]}
    assert {f"prompt:{DEMO_PLAN}", f"state:{DEMO_PLAN}", f"plan:{SHIPPED_PLAN}"} <= ids
    edges = {(e["source"], e["target"]) for e in g.get("edges", g.get("links", []))}
    assert (f"state:{DEMO_PLAN}", f"prompt:{DEMO_PLAN}") in edges
    assert all(s in ids and t in ids for s, t in edges)

    sub = pg("graph", "--format", "dot", f"prompt:{SHIPPED_PLAN}", cwd=warm)
    assert sub.code == 0, str(sub)
    assert f'"plan:{SHIPPED_PLAN}"' in sub.out and "DEMO-FEATURE" not in sub.out

    none = pg("graph", "--format", "dot", "no-such-node", cwd=warm)
    assert none.code == 2 and none.out == "" and "no-such-node" in none.err, str(none)
    bad = pg("graph", "--format", "svg", cwd=warm)
    assert bad.code == 2 and bad.out == "", str(bad)


def test_graph_summary_and_missing_store(demo, pg):
    r = pg("graph", cwd=demo)
    assert r.code == 2 and "promptgen build" in r.err and r.out == "", str(r)
    assert pg("build", cwd=demo).code == 0
    r = pg("graph", cwd=demo)
    assert r.code == 0, str(r)
    m = re.match(r"(\d+) derived nodes and (\d+) sources, (\d+) edges", r.out)
    assert m and int(m.group(1)) > 0 and int(m.group(3)) > 0, r.out
