"""The stat fast path and git's racy-clean rule.

A stamp is (mtime_ns, ctime_ns, size, inode). An unchanged stamp lets the engine
skip reading a file — unless the stamp was *racy* (its timestamps not safely
older than the moment it was recorded), in which case the file is read again.
"""

from __future__ import annotations

import os
import time
from unittest import mock

import pytest

from engine_testlib import ECHO_RULES, config, echo_roots, past_racy_window, session_build, write
from promptgen.engine import explain as ex
from promptgen.engine import sources, stamp
from promptgen.engine.stamp import COARSE_WINDOW_NS, FINE_WINDOW_NS, is_racy


def test_is_racy_unit():
    now = 1_700_000_000_500_000_000
    old = now - 10 * 10**9 + 7
    assert not is_racy(None, now)
    assert not is_racy((old, old, 3, 1), now)
    assert is_racy((now - FINE_WINDOW_NS // 2, old, 3, 1), now)  # mtime in the window
    assert is_racy((old, now - 1, 3, 1), now)  # ctime in the window (utime cannot hide it)
    assert is_racy((now + 10**6, old, 3, 1), now)  # written after it was read
    assert not is_racy((now - FINE_WINDOW_NS - 1, old, 3, 1), now)
    whole = (now // 10**9) * 10**9  # a whole-second mtime: maybe a 1 s / 2 s file system
    assert is_racy((whole - 10**9, old, 3, 1), now)
    assert not is_racy((whole - COARSE_WINDOW_NS - 10**9, old, 3, 1), now)


def _frozen_ctime(real):
    """Stamps of a file system whose ctime does not reveal writes (ctime = mtime).

    This is what a coarse-timestamp file system amounts to when two writes fall
    in one tick; on this kernel ctime is fine-grained, so it is simulated.
    """

    def stat_stamp(path):
        s = real(path)
        return None if s is None else (s[0], s[0], s[2], s[3])

    return stat_stamp


@pytest.fixture
def recent_second():
    """A whole-second timestamp of the last second: racy for the next ~2 s."""
    return (time.time_ns() // 10**9) * 10**9


def _same_tick_edit(root, cfg, mtime_ns):
    path = os.path.join(root, "x")
    write(path, "aaa")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    out, values = session_build(cfg, echo_roots("x"), ECHO_RULES)
    assert values == {"echo:x": "aaa"}
    st = os.stat(path)
    write(path, "bbb")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime, same inode
    return session_build(cfg, echo_roots("x"), ECHO_RULES)


def test_same_size_edit_with_equal_mtime_is_seen_because_the_stamp_was_racy(tmp_path, recent_second):
    root = str(tmp_path / "w")
    cfg = config(root, str(tmp_path / "store"))
    with mock.patch.object(sources, "stat_stamp", _frozen_ctime(stamp.stat_stamp)):
        out, values = _same_tick_edit(root, cfg, recent_second)
    assert values == {"echo:x": "bbb"}
    assert out.result.counters.files_read == 1
    assert {d.key: d.status for d in out.result.decisions}["echo:x"] == ex.RAN


def test_META_without_the_racy_rule_the_same_tick_edit_is_missed(tmp_path, recent_second):
    """META: the test above depends on the racy rule — switched off, it fails."""
    root = str(tmp_path / "w")
    cfg = config(root, str(tmp_path / "store"))
    with mock.patch.object(sources, "stat_stamp", _frozen_ctime(stamp.stat_stamp)), \
            mock.patch.object(sources, "is_racy", lambda *a: False):
        out, values = _same_tick_edit(root, cfg, recent_second)
    assert values == {"echo:x": "aaa"}  # stale: the stamp matched and was trusted
    assert out.result.counters.files_read == 0


def test_same_size_edit_restoring_an_old_mtime_is_seen_by_ctime(tmp_path):
    """mtime AND size restored after a trusted stamp: ctime (not settable) gives it away."""
    root = str(tmp_path / "w")
    path = os.path.join(root, "x")
    write(path, "aaa")
    os.utime(path, ns=(1_600_000_000_123_000_000,) * 2)
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, echo_roots("x"), ECHO_RULES)
    out, _ = session_build(cfg, echo_roots("x"), ECHO_RULES)
    assert out.result.mode == "noop" and out.result.counters.files_read == 0  # trusted
    st = os.stat(path)
    write(path, "bbb")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    new = os.stat(path)
    assert (new.st_mtime_ns, new.st_size, new.st_ino) == (st.st_mtime_ns, st.st_size, st.st_ino)
    out, values = session_build(cfg, echo_roots("x"), ECHO_RULES)
    assert values == {"echo:x": "bbb"}


def test_racy_directory_listing_is_listed_again(tmp_path, recent_second):
    """Directory listings follow the same rule: a file added in the listing's tick."""
    from engine_testlib import WC_ROOTS, make_wc_tree, wc_rules

    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one"})
    cfg = config(root, str(tmp_path / "store"))
    d = os.path.join(root, "docs")
    os.utime(d, ns=(recent_second, recent_second))
    with mock.patch.object(sources, "stat_stamp", _frozen_ctime(stamp.stat_stamp)):
        session_build(cfg, WC_ROOTS, wc_rules())
        write(os.path.join(d, "b.txt"), "two")
        os.rename(os.path.join(d, "a.txt"), os.path.join(d, "c.txt"))  # same number of entries
        os.utime(d, ns=(recent_second, recent_second))
        out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 2 and "count:c.txt" in values and "count:a.txt" not in values


def test_unchanged_trusted_stamp_reads_nothing(tmp_path):
    root = str(tmp_path / "w")
    for n in "abc":
        write(os.path.join(root, n), n * 3)
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    session_build(cfg, echo_roots(*"abc"), ECHO_RULES)
    with mock.patch.object(sources.SourceReader, "_read", side_effect=AssertionError("read")):
        out, values = session_build(cfg, echo_roots(*"abc"), ECHO_RULES)
    assert values == {"echo:a": "aaa", "echo:b": "bbb", "echo:c": "ccc"}
    c = out.result.counters
    assert (c.files_stat, c.files_read, c.files_hashed) == (3, 0, 0)
