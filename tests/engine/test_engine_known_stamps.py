"""Stamps observed by the no-op check are reused by the build that follows it.

A build that starts because the snapshot check found a change would otherwise stat
every source a second time. The contract: a known stamp may only confirm
"unchanged"; anything that is read is stat'ed afresh.
"""

from __future__ import annotations

import os

from engine_testlib import WC_ROOTS, config, make_wc_tree, past_racy_window, session_build, statuses, wc_rules, write
from promptgen.engine import fastpath
from promptgen.engine.stamp import stat_stamp


def _built(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two", "b.txt": "three"})
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    return root, cfg


def test_observed_stamps_cover_every_existing_path_when_something_changed(tmp_path):
    root, cfg = _built(tmp_path)
    write(os.path.join(root, "docs", "b.txt"), "three four")
    observed = fastpath.Observation()
    assert fastpath.load(cfg.store_dir, cfg.snapshot_key, observed) is None
    expected = {p: stat_stamp(p) for p in (os.path.join(root, "docs"), os.path.join(root, "docs", "a.txt"),
                                           os.path.join(root, "docs", "b.txt"))}
    for path, stamp in expected.items():
        assert observed.stamps[path] == stamp
    # the database is a recorded path too
    assert os.path.join(cfg.store_dir, "state.db") in observed.stamps
    # and the observation names exactly what changed
    assert observed.changed == ["file:docs/b.txt"]
    assert observed.usable()


def test_no_observations_on_a_noop(tmp_path):
    root, cfg = _built(tmp_path)
    observed = fastpath.Observation()
    assert fastpath.load(cfg.store_dir, cfg.snapshot_key, observed) is not None
    assert observed.stamps == {} and not observed.usable()


def test_a_known_stamp_equal_to_the_stored_one_is_trusted_without_a_stat(tmp_path):
    """Proves the build uses the known stamp: told a changed file still has its old
    stamp, it keeps the old value (which is why only fresh observations may be given)."""
    root, cfg = _built(tmp_path)
    a = os.path.join(root, "docs", "a.txt")
    old = stat_stamp(a)
    write(a, "one two three four")
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), known_stamps={a: old})
    assert values["count:a.txt"] == 2
    assert statuses(out.result)["count:a.txt"][0] == "reused"


def test_a_known_stamp_that_differs_is_checked_afresh(tmp_path):
    root, cfg = _built(tmp_path)
    a = os.path.join(root, "docs", "a.txt")
    b = os.path.join(root, "docs", "b.txt")
    write(b, "three four five")
    past_racy_window()
    bogus = (1, 1, 1, 1)  # an observation that does not match the store: a is stat'ed again
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), known_stamps={a: bogus, b: bogus})
    assert values["count:b.txt"] == 3 and values["report:all"] == 5
    s = statuses(out.result)
    assert s["file:docs/a.txt"][0] == "reused"  # unchanged on disk: not read
    assert s["file:docs/b.txt"][0] == "ran"
    assert out.result.counters.files_read == 1
