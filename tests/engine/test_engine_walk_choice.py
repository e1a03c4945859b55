"""Which walk a build takes: chosen once, before walking, in ``build()``.

Targeted when every precondition holds; otherwise full, with the reason in
``result.full_walk_reason``. A targeted walk that meets something it cannot
prove exact returns that reason and the full walk runs instead — the answer
is the clean build's either way. The damaged-store recovery is tested here
too, as the one helper both ``build`` and the session use.
"""

from __future__ import annotations

import os

import pytest

from engine_testlib import (TREE_ROOTS, TREE_RULES, WC_ROOTS, all_values, config, make_wc_tree, past_racy_window,
                            session_build, wc_rules, write)
from promptgen.engine import build as build_mod
from promptgen.engine.build import MAX_TARGETED_CHANGES, build
from promptgen.engine.spec import NodeSpec
from promptgen.engine.store import GENERATION, Store, StoreDamaged, with_recovery


@pytest.fixture
def wc(tmp_path):
    """A built word-count tree, aged; b.txt edited since (and aged too)."""
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two", "b.txt": "three", "c.txt": "four five six"})
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs", "b.txt"), "three and more")
    past_racy_window()
    store = Store.open(cfg.store_dir)
    yield root, store
    store.close()


def _build(root, store, changed=("file:docs/b.txt",), generation="stored", roots=WC_ROOTS, rules=None, **kw):
    if generation == "stored":
        generation = store.meta(GENERATION)
    return build(root, roots, rules or wc_rules(), store, changed=changed, generation=generation, **kw)


def _clean(root, roots=WC_ROOTS, rules=None):
    return all_values(build(root, roots, rules or wc_rules(), None))


def test_targeted_when_every_precondition_holds(wc):
    root, store = wc
    r = _build(root, store)
    assert r.targeted and r.full_walk_reason is None
    assert {d.key for d in r.decisions} == {"file:docs/b.txt", "count:b.txt", "report:all"}
    assert all_values(r) == _clean(root)


@pytest.mark.parametrize("change, reason", [
    (dict(changed=None), "the changed sources are not known"),
    (dict(generation=None), "the changed sources are not known"),
    (dict(force=True), "forced"),
    (dict(generation="0123456789abcdef"), "the store changed since the sources were observed"),
    (dict(rules=wc_rules(count="2")), "the roots or the rules changed"),
    (dict(roots=WC_ROOTS + [NodeSpec("count:x", "count", ("file:docs/x.txt",))]), "the roots or the rules changed"),
    (dict(changed=[f"file:docs/{i}.txt" for i in range(MAX_TARGETED_CHANGES + 1)]),
     f"more than {MAX_TARGETED_CHANGES} sources changed"),
])
def test_full_with_the_reason_when_a_precondition_fails(wc, change, reason):
    root, store = wc
    r = _build(root, store, **change)
    assert not r.targeted and r.full_walk_reason == reason
    assert r.counters.visited == r.counters.nodes  # the whole graph was looked at
    assert all_values(r) == _clean(root, change.get("roots", WC_ROOTS), change.get("rules"))


def test_no_store_means_a_full_walk(wc):
    root, _ = wc
    r = build(root, WC_ROOTS, wc_rules(), None, changed=["file:docs/b.txt"], generation="g")
    assert not r.targeted and r.full_walk_reason == "no store"


def test_a_targeted_walk_that_gives_up_returns_to_the_full_walk(wc):
    """b.txt deleted: the scan's children leave the graph, which only the full
    walk can do; the targeted walk says so instead of guessing."""
    root, store = wc
    os.unlink(os.path.join(root, "docs", "b.txt"))
    past_racy_window()
    r = _build(root, store, changed=["dir:docs", "file:docs/b.txt"])
    assert not r.targeted
    assert r.full_walk_reason == "children of scan:docs leave the graph"
    assert r.counters.visited == r.counters.nodes == 4
    assert all_values(r) == _clean(root)
    assert r.commit.nodes_delete == ["count:b.txt"]


def test_a_patched_child_reading_a_later_node_gives_up(tmp_path):
    """``chosen:`` switches to reading ``dirsum:``, which the edit of ``a``
    changes and which is stored after it: not known yet when it is visited."""
    root = str(tmp_path / "w")
    for rel, text in {"a": "x", "b.txt": "y", "config.txt": ""}.items():
        write(os.path.join(root, rel), text)
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, TREE_ROOTS, TREE_RULES)
    write(os.path.join(root, "config.txt"), "b")
    write(os.path.join(root, "a"), "x y")
    past_racy_window()
    store = Store.open(cfg.store_dir)
    try:
        r = _build(root, store, changed=["file:a", "file:config.txt"], roots=TREE_ROOTS, rules=TREE_RULES)
        values = all_values(r)
    finally:
        store.close()
    assert not r.targeted
    assert r.full_walk_reason == "chosen: now reads dirsum:, which comes later in the stored order"
    assert values == _clean(root, TREE_ROOTS, TREE_RULES)


def test_a_damaged_store_met_by_the_targeted_walk_is_the_full_walks_to_recover(wc, monkeypatch):
    root, store = wc

    def damaged(*args, **kw):
        raise StoreDamaged("database disk image is malformed")

    monkeypatch.setattr(Store, "load_targeted", damaged)
    r = _build(root, store)
    assert not r.targeted
    assert r.full_walk_reason == "the store is damaged (database disk image is malformed)"
    assert store.warnings == []  # the full walk's own load found it sound
    assert all_values(r) == _clean(root)


def test_the_choice_is_made_once_before_walking(wc, monkeypatch):
    """A build whose preconditions fail never starts a targeted walk."""
    root, store = wc
    started = []
    real = build_mod.TargetedWalk.run

    def spy(self):
        started.append(1)
        return real(self)

    monkeypatch.setattr(build_mod.TargetedWalk, "run", spy)
    _build(root, store, force=True)
    assert started == []
    _build(root, store)
    assert started == [1]


# -- the damaged-store recovery ------------------------------------------------


def test_recovery_warns_discards_and_retries_once(wc):
    _, store = wc
    calls = []

    def attempt(first):
        calls.append(first)
        if first:
            raise StoreDamaged("bad page")
        return store.load().absent

    assert with_recovery(store, attempt) == "missing"  # the store was emptied
    assert calls == [True, False]
    assert store.warnings == [f"store {store.path} is damaged (bad page); rebuilding from scratch"]
    assert store.damaged_on_open


def test_recovery_raises_damage_found_twice_or_without_a_store(wc):
    _, store = wc

    def always(first):
        raise StoreDamaged("bad page")

    with pytest.raises(StoreDamaged):
        with_recovery(store, always)
    assert len(store.warnings) == 1
    with pytest.raises(StoreDamaged):
        with_recovery(None, always)


def test_a_build_that_finds_its_store_damaged_rebuilds_clean(wc):
    root, store = wc
    # b.txt changed: report:all runs again and reads the stored value of count:c.txt
    store.conn.execute("UPDATE node_values SET value='4' WHERE key='count:c.txt'")
    r = build(root, WC_ROOTS, wc_rules(), store)
    assert [w for w in store.warnings if "does not match its fingerprint" in w]
    assert r.mode == "full" and {d.reason for d in r.decisions} == {"store_missing_or_damaged"}
    assert all_values(r) == _clean(root)
