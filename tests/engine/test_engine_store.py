"""The SQLite store: damage, schema versions, pruning, history, atomic commits."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from engine_testlib import (
    WC_ROOTS, all_values, config, file_state, make_wc_tree, past_racy_window, session_build, statuses, wc_rules,
    write,
)
from promptgen.engine import explain as ex
from promptgen.engine import fastpath, journal
from promptgen.engine.build import build
from promptgen.engine.store import KEEP_BUILDS, SCHEMA_VERSION, Store, StoreDamaged

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def wc(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two three", "b.txt": "four five"})
    cfg = config(root, str(tmp_path / "store"))
    past_racy_window()
    return root, cfg


def _db(cfg):
    return os.path.join(cfg.store_dir, "state.db")


def _expect_rebuilt(cfg, out, values):
    assert values["report:all"] == 5
    assert len(out.warnings) == 1, out.warnings
    w = out.warnings[0]
    assert "\n" not in w and "discarding it and rebuilding" in w or "rebuilding from scratch" in w
    derived = [d for d in out.result.decisions if not d.key.startswith(("file:", "dir:"))]
    assert {d.reason for d in derived} == {ex.STORE_MISSING_OR_DAMAGED}
    assert out.result.mode == "full"
    # and the new store is good: the next build is a no-op without warnings
    out2, values2 = session_build(cfg, WC_ROOTS, wc_rules())
    assert out2.warnings == [] and values2 == values


def _truncate(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 3)


def _random_bytes(path):
    with open(path, "wb") as fh:
        fh.write(random.Random(7).randbytes(8192))


def _zero_middle(path):
    with open(path, "r+b") as fh:
        fh.seek(4096)
        fh.write(b"\0" * 8192)


def _old_schema(path):
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 41}")
    conn.close()


def _foreign_db(path):
    os.unlink(path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE something (x)")
    conn.execute("PRAGMA user_version=1")
    conn.close()


def _bad_value(path):
    conn = sqlite3.connect(path)
    conn.execute("UPDATE node_values SET value='{not json' WHERE key='report:all'")
    conn.commit()
    conn.close()


def _bad_spec(path):
    conn = sqlite3.connect(path)
    conn.execute("UPDATE nodes SET spec='[1]' WHERE key='count:a.txt'")
    conn.commit()
    conn.close()


def _empty_file(path):
    open(path, "wb").close()


@pytest.mark.parametrize("damage", [_truncate, _random_bytes, _zero_middle, _old_schema, _foreign_db,
                                    _bad_value, _bad_spec])
def test_damaged_store_is_discarded_with_one_warning(wc, damage):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/a.txt"), "uno dos tres")  # so that values must be loaded
    damage(_db(cfg))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    _expect_rebuilt(cfg, out, values)


def test_empty_store_file_is_a_fresh_store(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    _empty_file(_db(cfg))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 5 and out.result.mode == "full"


def test_deleting_the_store_is_always_safe(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    for n in os.listdir(cfg.store_dir):
        os.unlink(os.path.join(cfg.store_dir, n))
    os.rmdir(cfg.store_dir)
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 5 and out.warnings == []
    assert {r for _, r in statuses(out.result).values()} == {ex.NEW}


def test_schema_version_is_recorded(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    conn = sqlite3.connect(_db(cfg))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


@pytest.mark.parametrize("key", ["count:a.txt", "report:all", "scan:docs"])
def test_store_row_missing_is_damage(wc, key):
    """A node row gone (a store edited by hand, a partial copy) is damage, not a
    traceback — and not a node that silently leaves the graph (regressions:
    a missing inner node raised BuildError, a missing leaf vanished for good)."""
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    conn = sqlite3.connect(_db(cfg))
    conn.execute("DELETE FROM nodes WHERE key=?", (key,))
    conn.commit()
    conn.close()
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values == all_values(build(root, WC_ROOTS, wc_rules()))
    _expect_rebuilt(cfg, out, values)


def test_damaged_value_read_after_the_build_is_rebuilt(wc):
    """Regression: a reused node's value is loaded lazily, when the caller's
    payload reads it after the build; a damaged one raised StoreDamaged out of
    session.run (a traceback) instead of a warning and a clean build."""
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    _bad_value(_db(cfg))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    _expect_rebuilt(cfg, out, values)


def test_nodes_that_left_the_graph_are_pruned(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    os.unlink(os.path.join(root, "docs/a.txt"))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    conn = sqlite3.connect(_db(cfg))
    nodes = {k for (k,) in conn.execute("SELECT key FROM nodes")}
    srcs = {k for (k,) in conn.execute("SELECT key FROM sources")}
    conn.close()
    assert nodes == {"scan:docs", "count:b.txt", "report:all"}
    assert srcs == {"dir:docs", "file:docs/b.txt"}
    assert values == {k: values[k] for k in nodes}


def test_last_20_builds_and_their_decisions_are_kept(wc):
    root, cfg = wc
    ids = []
    for i in range(KEEP_BUILDS + 5):
        write(os.path.join(root, "docs/a.txt"), "w " * (i + 1))
        out, _ = session_build(cfg, WC_ROOTS, wc_rules())
        ids.append(out.build_id)
    store = Store.open(cfg.store_dir)
    try:
        builds = store.builds(limit=100)
        assert [b.id for b in builds] == ids[::-1][:KEEP_BUILDS]
        assert builds[0].summary["counters"]["files_read"] >= 1
        assert store.decisions(ids[0]) == []  # pruned with its build
        last = store.decisions(ids[-1])
        # what ran is stored; the last build's reused nodes are the rest of the stored graph
        ran = [d.key for d in out.result.decisions if d.status != ex.REUSED]
        assert [d.key for d in last] == ran
        reused = store.reused_in_last_build(last)
        assert sorted(d.key for d in reused) == sorted(
            d.key for d in out.result.decisions if d.status == ex.REUSED)
        by = {d.key: d for d in last}
        assert by["count:a.txt"].reason == ex.INPUT_CHANGED
        assert by["count:a.txt"].detail["path"] == "docs/a.txt"
        assert all(isinstance(d.wall_s, float) for d in last)
        n = store.conn.execute("SELECT COUNT(DISTINCT build_id) FROM decisions").fetchone()[0]
        assert n == KEEP_BUILDS
    finally:
        store.close()


def test_noop_build_writes_nothing(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    for _ in range(3):  # the second and third no-ops too (the journal exists then)
        before = file_state(_db(cfg))
        out, values = session_build(cfg, WC_ROOTS, wc_rules())
        assert out.result.mode == "noop" and out.build_id is None
        assert file_state(_db(cfg)) == before
        assert values["report:all"] == 5


def test_noop_metrics_go_to_the_journal_and_are_folded_once(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    for _ in range(3):
        session_build(cfg, WC_ROOTS, wc_rules())
    jpath = os.path.join(cfg.store_dir, journal.JOURNAL)
    lines = open(jpath).read().splitlines()
    assert sum(1 for ln in lines if ln.startswith("c\tpromptgen_builds_total\tmode=noop\t")) == 3

    def noops():
        s = Store.open(cfg.store_dir)
        try:
            folded = dict(((n, lab), v) for n, lab, v in s.counters())
            pend = journal.pending(cfg.store_dir, s)
        finally:
            s.close()
        pending = sum(a for t, n, lab, a in pend if n == "promptgen_builds_total" and lab == "mode=noop")
        return folded.get(("promptgen_builds_total", "mode=noop"), 0.0), pending

    assert noops() == (0.0, 3.0)
    write(os.path.join(root, "docs/a.txt"), "changed")
    session_build(cfg, WC_ROOTS, wc_rules())  # a real build folds the journal
    assert noops() == (3.0, 0.0)
    write(os.path.join(root, "docs/a.txt"), "changed again")
    past_racy_window()  # so that the build after the next one is a no-op
    session_build(cfg, WC_ROOTS, wc_rules())  # and never twice
    assert noops() == (3.0, 0.0)
    session_build(cfg, WC_ROOTS, wc_rules())  # a no-op after that: pending, not folded
    assert noops() == (3.0, 1.0)


def test_the_journal_is_folded_by_the_builds_own_commit(wc, monkeypatch):
    """One transaction: if the build's commit fails, its journal lines stay pending
    (counted by the next build that commits, once); a build writes no other one."""
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    session_build(cfg, WC_ROOTS, wc_rules())  # a no-op: one journal line set
    write(os.path.join(root, "docs/a.txt"), "changed")
    commits = []
    real_commit, real_record = Store.commit, Store.record_metrics

    def failing_commit(self, commit):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "commit", failing_commit)
    monkeypatch.setattr(Store, "record_metrics", lambda self, *a, **k: commits.append("extra"))
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert any("could not save the store" in w for w in out.warnings)
    assert commits == []  # no transaction of its own for the journal
    monkeypatch.setattr(Store, "commit", real_commit)
    monkeypatch.setattr(Store, "record_metrics", real_record)
    session_build(cfg, WC_ROOTS, wc_rules())
    s = Store.open(cfg.store_dir)
    try:
        counted = dict(((n, lab), v) for n, lab, v in s.counters())
        assert counted[("promptgen_builds_total", "mode=noop")] == 1.0
        assert journal.pending(cfg.store_dir, s) == []
    finally:
        s.close()


def test_journal_torn_line_is_skipped():
    incs, used = journal.parse(b"c\tx\t\t1.0\nnonsense\nh\ty\t\t0.5\nc\tz\t\t2")
    assert incs == [("c", "x", "", 1.0), ("h", "y", "", 0.5)]
    assert used == len(b"c\tx\t\t1.0\nnonsense\nh\ty\t\t0.5\n")


# -- kill -9 ---------------------------------------------------------------------

_KILL_CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {here!r})
    from engine_testlib import WC_ROOTS, config, wc_rules, write
    from promptgen.engine.session import run
    root, store = sys.argv[1], sys.argv[2]
    cfg = config(root, store)
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        write(os.path.join(root, "docs", "a.txt"), "w " * (i % 7 + 1))
        write(os.path.join(root, "docs", f"n{{i % 5}}.txt"), "x " * (i % 3))
        if i % 4 == 0:
            try:
                os.unlink(os.path.join(root, "docs", f"n{{(i + 2) % 5}}.txt"))
            except FileNotFoundError:
                pass
        run(cfg, WC_ROOTS, wc_rules(), payload=lambda r: {{"r": r.values["report:all"]}})
    """
)


def _kill_trials(tmp_path, trials):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "a"})
    cfg = config(root, str(tmp_path / "store"))
    rnd = random.Random(1)
    for trial in range(trials):
        child = subprocess.Popen([sys.executable, "-c", _KILL_CHILD.format(here=HERE), root, cfg.store_dir],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout.readline() == b"ready\n", child.stderr.read()
        time.sleep(rnd.uniform(0.005, 0.15))
        child.send_signal(signal.SIGKILL)
        child.wait()
        # the store is the previous consistent state: usable, and builds are correct
        out, values = session_build(cfg, WC_ROOTS, wc_rules())
        assert out.warnings == [], out.warnings
        assert values == all_values(build(root, WC_ROOTS, wc_rules()))
        snap = fastpath.load(cfg.store_dir, cfg.snapshot_key)
        if snap is not None:
            assert snap["values"] == values
        s = Store.open(cfg.store_dir)
        try:
            assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            s.close()


def test_kill_9_leaves_a_consistent_store(tmp_path):
    _kill_trials(tmp_path, 6)


@pytest.mark.slow
def test_kill_9_leaves_a_consistent_store_many(tmp_path):
    _kill_trials(tmp_path, 60)


def test_unusable_store_means_a_correct_build_without_cache(wc):
    root, cfg = wc
    os.makedirs(os.path.join(cfg.store_dir, "state.db"))  # a folder where the database should be
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 5 and not out.persisted
    assert len(out.warnings) == 1 and "building without cache" in out.warnings[0]


def test_store_dir_that_is_a_file(wc, tmp_path):
    root, cfg = wc
    blocker = str(tmp_path / "blocker")
    write(blocker, "not a folder")
    out, values = session_build(config(root, blocker), WC_ROOTS, wc_rules())
    assert values["report:all"] == 5 and not out.persisted
    assert len(out.warnings) == 1 and "building without cache" in out.warnings[0]


_KILL_AT_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {here!r})
    from engine_testlib import WC_ROOTS, config, wc_rules
    from promptgen.engine import session
    from promptgen.engine.store import Store

    class Dying:
        # the store's connection, killing this process just before COMMIT
        def __init__(self, conn):
            self._conn = conn
        def __getattr__(self, name):
            return getattr(self._conn, name)
        def execute(self, sql, *args):
            if sql == "COMMIT" and self._conn.in_transaction:
                os.kill(os.getpid(), signal.SIGKILL)
            return self._conn.execute(sql, *args)

    real_open = Store.open.__func__
    def dying_open(cls, store_dir):
        store = real_open(cls, store_dir)
        store.conn = Dying(store.conn)
        return store
    Store.open = classmethod(dying_open)
    session.run(config(sys.argv[1], sys.argv[2]), WC_ROOTS, wc_rules())
    print("not killed")
    """
)


def _dump(db):
    conn = sqlite3.connect(db)
    try:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("meta", "sources", "nodes", "builds", "decisions", "counters")]
    finally:
        conn.close()


def test_kill_9_just_before_commit_leaves_the_previous_state(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    before = _dump(_db(cfg))
    write(os.path.join(root, "docs/a.txt"), "now four words here")
    write(os.path.join(root, "docs/new.txt"), "a b")
    child = subprocess.run([sys.executable, "-c", _KILL_AT_COMMIT.format(here=HERE), root, cfg.store_dir],
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert os.path.exists(_db(cfg) + "-journal")  # the hot journal of the killed transaction
    assert _dump(_db(cfg)) == before  # rolled back on the next open: the previous state
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.warnings == [] and values["report:all"] == 8


def test_values_in_one_go_are_checked_like_one_value(wc):
    """``ValueMap.preload`` (a caller about to read many values) goes through
    ``Store.values``: the same fingerprint check, the same damage report."""
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    store = Store.open(cfg.store_dir)
    try:
        keys = ["count:a.txt", "count:b.txt", "report:all"]
        assert store.values(keys) == {k: store.value(k) for k in keys}
        with pytest.raises(StoreDamaged, match="no stored value for count:zzz"):
            store.values(keys + ["count:zzz"])
    finally:
        store.close()
    _bad_value(_db(cfg))
    store = Store.open(cfg.store_dir)
    try:
        with pytest.raises(StoreDamaged):
            store.values(["report:all"])
    finally:
        store.close()


def test_damage_is_reported_on_one_printable_line():
    """SQLite quotes undecodable bytes in its messages; a warning stays one line."""
    exc = StoreDamaged("Could not decode to UTF-8 column 'key' with text 'state:x\n\x00\x1bgarbage'" + "y" * 400)
    text = str(exc)
    assert "\n" not in text and "\x00" not in text and len(text) <= 160
    assert text.startswith("Could not decode to UTF-8 column 'key'")


def test_damage_found_only_by_the_commit_replaces_the_store(wc, monkeypatch):
    """Garbage in pages no read touches (a value, old decisions) surfaces when the
    build writes: the store is replaced once, not "could not save" forever."""
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/a.txt"), "changed")
    past_racy_window()  # so that the build after the recovery is a no-op
    real = Store._transaction  # the transaction, beneath Store.commit's reading of the error
    calls = []

    def commit_once_malformed(self, commit):
        calls.append(1)
        if len(calls) == 1:
            exc = sqlite3.DatabaseError("database disk image is malformed")
            exc.sqlite_errorname = "SQLITE_CORRUPT"
            raise exc
        return real(self, commit)

    monkeypatch.setattr(Store, "_transaction", commit_once_malformed)
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert len(calls) == 2 and out.persisted
    assert [w for w in out.warnings if "damaged" in w] and not [w for w in out.warnings if "could not save" in w]
    assert values == all_values(build(root, WC_ROOTS, wc_rules()))
    monkeypatch.setattr(Store, "_transaction", real)
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.warnings == [] and out.result.mode == "noop"


@pytest.mark.parametrize("errorname, raised", [
    ("SQLITE_CORRUPT", StoreDamaged), ("SQLITE_NOTADB", StoreDamaged), ("SQLITE_FULL", sqlite3.OperationalError),
])
def test_commit_reads_a_corrupt_database_as_damage(wc, monkeypatch, errorname, raised):
    """Like every read, the commit calls a corrupt database damage; other errors pass as they are,
    and a failed commit leaves no generation behind."""
    root, cfg = wc
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    commit = out.result.commit

    def failing(self, commit):
        exc = sqlite3.OperationalError("database disk image is malformed" if raised is StoreDamaged else "full")
        exc.sqlite_errorname = errorname
        raise exc

    monkeypatch.setattr(Store, "_transaction", failing)
    store = Store.open(cfg.store_dir)
    try:
        with pytest.raises(raised):
            store.commit(commit)
    finally:
        store.close()
    assert "generation" not in commit.meta


def test_a_full_disk_at_commit_is_not_called_damage(wc, monkeypatch):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/a.txt"), "changed")

    def full(self, commit):
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorname = "SQLITE_FULL"
        raise exc

    monkeypatch.setattr(Store, "commit", full)
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert [w for w in out.warnings if "could not save the store" in w] and not out.persisted
