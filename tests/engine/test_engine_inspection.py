"""The read-only inspection API: what ``promptgen graph`` asks the engine."""

from __future__ import annotations

import os

from engine_testlib import WC_ROOTS, config, make_wc_tree, past_racy_window, session_build, wc_rules, write
from promptgen.engine import explain as ex
from promptgen.engine.inspection import StoredGraph, build_decisions, recorded_builds
from promptgen.engine.store import Store


def test_the_stored_graph_and_the_recorded_builds(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two", "b.txt": "three"})
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    first, _ = session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs", "a.txt"), "one")
    last, _ = session_build(cfg, WC_ROOTS, wc_rules())
    store = Store.open(cfg.store_dir)
    try:
        g = StoredGraph.load(store)
        assert (g.node_count, g.source_count, g.edge_count()) == (4, 3, 5)
        assert g.kind_counts() == {"scan": 1, "count": 2, "report": 1}
        assert list(g.specs()) == last.result.order
        assert g.rule_version("count:a.txt") == "1"
        assert g.fingerprint("count:a.txt") == last.result.fingerprints["count:a.txt"]
        assert g.source_fingerprints()["file:docs/a.txt"] == last.result.fingerprints["file:docs/a.txt"]

        builds = recorded_builds(store)
        assert [b.id for b in builds] == [last.build_id, first.build_id]
        assert [b.mode for b in builds] == ["incremental", "full"]
        assert (builds[0].nodes, builds[0].recomputed, builds[0].files_read) == (4, 2, 1)
        assert builds[0].to_json() == {"id": last.build_id, "started_ns": last.result.started_ns,
                                       "duration_s": last.result.duration_s, "mode": "incremental",
                                       "summary": builds[0].summary}
        # the last build: what ran, then every other node of the stored graph, reused
        decisions = build_decisions(store, builds[0], last=True)
        assert sorted(d.key for d in decisions) == sorted(d.key for d in last.result.decisions)
        assert {d.key: d.status for d in decisions} == {d.key: d.status for d in last.result.decisions}
        assert all(isinstance(d, ex.Decision) for d in decisions)
        # an older build: only what ran is recorded
        older = build_decisions(store, builds[1], last=False)
        assert {d.status for d in older} == {ex.RAN}
    finally:
        store.close()
