"""The no-op fast path: a self-validating snapshot written after a build."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from engine_testlib import WC_ROOTS, config, make_wc_tree, past_racy_window, session_build, wc_rules, write
from promptgen.engine import fastpath


@pytest.fixture
def wc(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two", "b.txt": "three"})
    extra = str(tmp_path / "tool.cfg")
    write(extra, "setting")
    cfg = config(root, str(tmp_path / "store"), extra_paths=(extra,))
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    return root, cfg


def _snap(cfg, key=None):
    return fastpath.load(cfg.store_dir, key or cfg.snapshot_key)


def test_snapshot_is_valid_after_a_build(wc):
    root, cfg = wc
    snap = _snap(cfg)
    assert snap is not None and snap["values"]["report:all"] == 3
    assert snap["kinds"] == {"scan": 1, "count": 2, "report": 1}
    # every recorded source + the extra path + the database
    assert snap["_stat_count"] == 3 + 1 + 1


def test_snapshot_survives_a_noop(wc):
    root, cfg = wc
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.result.mode == "noop"
    assert _snap(cfg) is not None


@pytest.mark.parametrize("change", [
    "edit", "same_size_edit", "touch", "delete", "new_file", "new_dir_entry", "extra_path", "store",
])
def test_snapshot_is_invalidated(wc, change):
    root, cfg = wc
    a = os.path.join(root, "docs/a.txt")
    if change == "edit":
        write(a, "one two four")
    elif change == "same_size_edit":
        st = os.stat(a)
        write(a, "owt eno")
        os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "touch":
        os.utime(a)
    elif change == "delete":
        os.unlink(a)
    elif change == "new_file":
        write(os.path.join(root, "docs/c.txt"), "new")
    elif change == "new_dir_entry":
        os.mkdir(os.path.join(root, "docs/sub"))
    elif change == "extra_path":
        write(cfg.extra_paths[0], "settinG")
    elif change == "store":
        conn = sqlite3.connect(os.path.join(cfg.store_dir, "state.db"))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('x', 'y')")
        conn.commit()
        conn.close()
    assert _snap(cfg) is None


def test_snapshot_belongs_to_its_key(wc):
    root, cfg = wc
    assert _snap(cfg, "another caller") is None


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01junk", b"not marshal at all" * 10])
def test_damaged_snapshot_means_build(wc, garbage):
    root, cfg = wc
    with open(os.path.join(cfg.store_dir, fastpath.SNAPSHOT), "wb") as fh:
        fh.write(garbage)
    assert _snap(cfg) is None
    session_build(cfg, WC_ROOTS, wc_rules())
    assert _snap(cfg) is not None


def test_no_snapshot_while_a_stamp_is_racy(wc):
    root, cfg = wc
    a = os.path.join(root, "docs/a.txt")
    write(a, "one two four")
    second = (time.time_ns() // 10**9) * 10**9
    os.utime(a, ns=(second, second))  # whole second: racy for ~2 s, however slow this machine
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 4
    assert not os.path.exists(os.path.join(cfg.store_dir, fastpath.SNAPSHOT))
    os.utime(a, ns=(second - 10 * 10**9,) * 2)
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    snap = _snap(cfg)
    assert snap is not None and snap["values"]["report:all"] == 4


def test_no_snapshot_while_an_extra_path_is_racy(wc):
    root, cfg = wc
    second = (time.time_ns() // 10**9) * 10**9
    os.utime(cfg.extra_paths[0], ns=(second, second))
    session_build(cfg, WC_ROOTS, wc_rules())
    assert _snap(cfg) is None


def test_snapshot_after_the_store_changed_is_rewritten(wc):
    """A real build after an edit rewrites the snapshot with the new answer."""
    root, cfg = wc
    write(os.path.join(root, "docs/a.txt"), "one two four five")
    assert _snap(cfg) is None
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())
    snap = _snap(cfg)
    assert snap is not None and snap["values"]["report:all"] == 5
