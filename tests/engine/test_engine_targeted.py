"""Targeted builds: after the no-op check names the changed sources, only what
depends on them is loaded and visited — and the answer is the full walk's.

Each test checks three things: the build was (or, where it cannot be exact, was
not) targeted; it looked at no more than the dependents of the change; and its
values equal a clean build of the same files.
"""

from __future__ import annotations

import os
import sqlite3

from engine_testlib import (TREE_ROOTS, TREE_RULES, WC_ROOTS, all_values, config, make_wc_tree, past_racy_window,
                            session_build, wc_rules, write)
from promptgen.engine import fastpath
from promptgen.engine.build import build


def _observe(cfg) -> fastpath.Observation:
    obs = fastpath.Observation()
    assert fastpath.load(cfg.store_dir, cfg.snapshot_key, obs) is None, "the snapshot still answers"
    return obs


def _wc(tmp_path, files=None):
    root = str(tmp_path / "w")
    make_wc_tree(root, files or {"a.txt": "one two", "b.txt": "three", "c.txt": "four five six"})
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    return root, cfg


def _tree(tmp_path, files):
    """The property tests' tree graph over ``files``, built once and aged."""
    root = str(tmp_path / "w")
    for rel, text in files.items():
        write(os.path.join(root, rel), text)
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, TREE_ROOTS, TREE_RULES)
    return root, cfg


def _clean(root, roots, rules):
    return all_values(build(root, roots, rules, None))


def test_an_edit_visits_only_its_dependents(tmp_path):
    root, cfg = _wc(tmp_path)
    write(os.path.join(root, "docs", "b.txt"), "three and more")
    past_racy_window()
    obs = _observe(cfg)
    assert obs.usable() and obs.changed == ["file:docs/b.txt"]
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), observation=obs)
    r = out.result
    assert r.targeted
    assert values == _clean(root, WC_ROOTS, wc_rules())
    looked_at = {d.key for d in r.decisions}
    assert looked_at == {"file:docs/b.txt", "count:b.txt", "report:all"}
    # the counters still describe the whole graph
    c = r.counters
    assert (c.nodes, c.recomputed, c.reused) == (5, 2, 3)
    assert c.files_read == 1 and c.files_stat == 4  # every source was stat'ed by the check
    assert r.mode == "incremental"
    assert r.kind_counts == {"scan": 1, "count": 3, "report": 1}


def test_the_next_noop_is_answered_by_the_refreshed_snapshot(tmp_path):
    root, cfg = _wc(tmp_path)
    write(os.path.join(root, "docs", "a.txt"), "one")
    past_racy_window()
    out, _ = session_build(cfg, WC_ROOTS, wc_rules(), observation=_observe(cfg))
    assert out.result.targeted
    snap = fastpath.load(cfg.store_dir, cfg.snapshot_key)
    assert snap is not None, "a targeted build must leave a valid snapshot"
    assert snap["values"]["report:all"] == 1 + 1 + 3
    # and a second edit is targeted again, from that snapshot
    write(os.path.join(root, "docs", "c.txt"), "four")
    past_racy_window()
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), observation=_observe(cfg))
    assert out.result.targeted
    assert values == _clean(root, WC_ROOTS, wc_rules())


def test_a_cut_off_stops_the_walk(tmp_path):
    """``parity:`` rarely changes: when it does not, nothing after it is recomputed."""
    root, cfg = _tree(tmp_path, {"a": "x y", "d1/a": "p", "config.txt": "a"})
    write(os.path.join(root, "a"), "x y z w")  # 2 -> 4 words: parity unchanged
    past_racy_window()
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    r = out.result
    assert r.targeted
    assert values == _clean(root, TREE_ROOTS, TREE_RULES)
    status = {d.key: d.status for d in r.decisions}
    assert status["parity:"] == "cut_off"


def test_an_expander_that_patches_a_child_stays_targeted(tmp_path):
    """config.txt moves what ``chosen:`` reads: the child is patched in place and
    visited with what depends on it, although no changed source reaches it."""
    root, cfg = _tree(tmp_path, {"a": "x", "b.txt": "y", "d1/a": "z", "config.txt": "a"})
    write(os.path.join(root, "config.txt"), "c")  # chosen: now reads b.txt and d1/a instead of a
    past_racy_window()
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    assert values == _clean(root, TREE_ROOTS, TREE_RULES)
    # chosen: lost file:a, which may leave the graph: only the full walk can tell
    assert not out.result.targeted
    write(os.path.join(root, "config.txt"), "d")  # same inputs as "c": the child is not patched
    past_racy_window()
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    assert out.result.targeted and values == _clean(root, TREE_ROOTS, TREE_RULES)


def test_a_patched_child_that_gains_inputs_stays_targeted(tmp_path):
    root, cfg = _tree(tmp_path, {"a": "x", "b.txt": "y", "d1/a": "z", "config.txt": ""})
    write(os.path.join(root, "config.txt"), "c")  # chosen: reads nothing, then b.txt and d1/a
    past_racy_window()
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    r = out.result
    assert r.targeted
    assert values == _clean(root, TREE_ROOTS, TREE_RULES)
    assert {d.key: d.status for d in r.decisions}["chosen:"] == "ran"
    assert fastpath.load(cfg.store_dir, cfg.snapshot_key) is not None


def test_a_new_file_node_joins_the_targeted_walk(tmp_path):
    """A new file makes its expander declare a node that reads only that file:
    it is placed between the expander and its reader, and the walk goes on."""
    root, cfg = _wc(tmp_path)
    write(os.path.join(root, "docs", "d.txt"), "seven")  # a new count: node
    past_racy_window()
    obs = _observe(cfg)
    assert obs.changed == ["dir:docs"]
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), observation=obs)
    r = out.result
    assert r.targeted
    assert values == _clean(root, WC_ROOTS, wc_rules())
    assert values["report:all"] == 2 + 1 + 3 + 1
    assert (r.counters.nodes, r.kind_counts["count"]) == (6, 4)
    assert {d.key: d.reason for d in r.decisions}["count:d.txt"] == "new"
    # stored in the right place, and the next edit of it is targeted too
    write(os.path.join(root, "docs", "d.txt"), "seven eight")
    past_racy_window()
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), observation=_observe(cfg))
    assert out.result.targeted and values["report:all"] == 2 + 1 + 3 + 2
    conn = sqlite3.connect(os.path.join(cfg.store_dir, "state.db"))
    try:
        order = [k for (k,) in conn.execute("SELECT key FROM nodes ORDER BY position")]
    finally:
        conn.close()
    assert order.index("scan:docs") < order.index("count:d.txt") < order.index("report:all")


def test_new_nodes_that_read_derived_nodes_fall_back_to_the_full_walk(tmp_path):
    root, cfg = _tree(tmp_path, {"a": "x", "config.txt": ""})
    write(os.path.join(root, "b.txt"), "y z")  # content:b.txt, and words:b.txt reading it
    past_racy_window()
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    assert not out.result.targeted
    assert values == _clean(root, TREE_ROOTS, TREE_RULES)


def test_another_commit_since_the_snapshot_means_a_full_walk(tmp_path):
    """The observation was taken against one stored state; if another build
    committed since, the stored records are not the ones the check compared."""
    root, cfg = _wc(tmp_path)
    write(os.path.join(root, "docs", "a.txt"), "one")
    past_racy_window()
    obs = _observe(cfg)
    session_build(cfg, WC_ROOTS, wc_rules())  # someone else builds (and commits) first
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), observation=obs)
    assert not out.result.targeted
    assert values == _clean(root, WC_ROOTS, wc_rules())


def test_changed_code_or_config_means_a_full_walk(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one"})
    extra = str(tmp_path / "rules.cfg")
    write(extra, "v1")
    cfg = config(root, str(tmp_path / "store"), extra_paths=[extra])
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    write(extra, "v2")
    write(os.path.join(root, "docs", "a.txt"), "one two")
    past_racy_window()
    obs = _observe(cfg)
    assert not obs.usable()
    out, _ = session_build(cfg, WC_ROOTS, wc_rules(), observation=obs)
    assert not out.result.targeted


def test_a_rule_version_change_means_a_full_walk(tmp_path):
    """Nodes outside the dependents would keep values of the old rule."""
    root, cfg = _wc(tmp_path)
    write(os.path.join(root, "docs", "a.txt"), "one")
    past_racy_window()
    out, values = session_build(cfg, WC_ROOTS, wc_rules(count="2"), observation=_observe(cfg))
    assert not out.result.targeted
    assert {d.key: d.reason for d in out.result.decisions}["count:c.txt"] == "rule_changed"


def test_the_store_keeps_the_edges_of_recomputed_nodes(tmp_path):
    root, cfg = _tree(tmp_path, {"a": "x", "b.txt": "y", "d1/a": "z", "config.txt": ""})
    write(os.path.join(root, "config.txt"), "c")
    past_racy_window()
    session_build(cfg, TREE_ROOTS, TREE_RULES, observation=_observe(cfg))
    conn = sqlite3.connect(os.path.join(cfg.store_dir, "state.db"))
    try:
        edges = {(i, n) for i, n in conn.execute("SELECT input, node FROM edges")}
        specs = {k: s for k, s in conn.execute("SELECT key, spec FROM nodes")}
    finally:
        conn.close()
    import json

    want = {(i, k) for k, s in specs.items() for i in json.loads(s)[2]}
    assert edges == want
    assert ("file:b.txt", "chosen:") in edges
