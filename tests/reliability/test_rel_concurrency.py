"""Concurrency: simultaneous builds, status and next calls on one workspace.

* 2, 4 and 8 processes started together (build / status --json / next) after
  an edit: every one exits 0, every status is byte-identical to a clean build's,
  every next prompt too, and the database passes ``PRAGMA integrity_check``;
* a run that has to wait says who holds the lock (the PID written in
  ``<store>/lock``), and goes on when the lock is released;
* ``--no-wait`` exits 75 at once, naming the holder;
* a no-op ``next`` is answered from the snapshot even while a build holds the lock;
* ``clean`` racing with builds never leaves a store that answers wrongly.
"""

from __future__ import annotations

import fcntl
import os
import queue
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from history import History
from rellib import assert_no_traceback, clean, clean_status, cli, inproc, popen


def _workspace(root: Path, seed: int, plans: int = 4, steps: int = 8) -> History:
    h = History(root, seed)
    h.start(plans=plans)
    for _ in range(steps):
        h.step()
    return h


def _integrity(root: Path) -> None:
    db = root / ".promptgen" / "state.db"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def _without_wait_messages(err: str) -> str:
    return "".join(line for line in err.splitlines(keepends=True) if not line.startswith("promptgen: waiting for "))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_simultaneous_runs_agree_and_do_not_corrupt(tmp_path, n, record_property):
    root = tmp_path / "ws"
    h = _workspace(root, seed=300 + n)
    assert cli("build", "--workspace", root).code == 0
    rng = random.Random(n)
    for round_ in range(2):
        h.step()
        h.step()
        want = clean_status(root)
        plans = want.json()["plans"]
        pf = str(root / rng.choice(plans)["plan_file"])
        want_next = clean(["next", pf], root)
        verbs = [["build"], ["status", "--json"], ["next", pf]]
        procs = [(verbs[k % 3], popen(*verbs[k % 3], "--workspace", root)) for k in range(n)]
        for verb, p in procs:
            out, err = p.communicate(timeout=180)
            ctx = f"round {round_}: promptgen {' '.join(verb)} (1 of {n})\nexit {p.returncode}\n{out}\n{err}"
            assert p.returncode == 0, ctx
            assert "Traceback" not in out + err, ctx
            if verb[0] == "next":
                # the plan's own warnings go to stderr, as in the clean run
                assert (out, _without_wait_messages(err)) == (want_next.out, want_next.err), ctx
            else:
                assert _without_wait_messages(err) == "", ctx
            if verb[0] == "status":
                assert out == want.out, ctx
        _integrity(root)
        again = inproc("status", "--json", "--workspace", root)
        assert again.out == want.out and again.err == "", str(again)
    record_property("rel_concurrent_processes", 2 * n)


@contextmanager
def hold_lock(store: Path, content: str):
    """Hold ``<store>/lock`` as promptgen does: flock it after writing ``content`` into it."""
    store.mkdir(parents=True, exist_ok=True)
    fd = os.open(store / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, content.encode())
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _stderr_reader(p) -> "queue.Queue[str]":
    q: "queue.Queue[str]" = queue.Queue()

    def pump():
        for line in p.stderr:
            q.put(line)
        q.put("")

    threading.Thread(target=pump, daemon=True).start()
    return q


@pytest.mark.parametrize("verb", [["build"], ["status", "--json"], ["next"]])
def test_a_waiting_run_names_the_lock_holder_then_finishes(tmp_path, verb):
    root = tmp_path / "ws"
    h = _workspace(root, seed=31)
    assert cli("build", "--workspace", root).code == 0
    h.step()  # not a no-op: the run must take the lock
    h.op_edit_unused()
    want = clean_status(root)
    if verb == ["next"]:
        pf = str(root / want.json()["plans"][0]["plan_file"])
        verb = ["next", pf]
    holder = os.getpid()
    with hold_lock(root / ".promptgen", str(holder)):
        p = popen(*verb, "--workspace", root)
        lines = _stderr_reader(p)
        first = lines.get(timeout=60)
        assert f"process {holder}" in first, f"stderr while waiting: {first!r}"
        time.sleep(0.3)
        assert p.poll() is None, "the run did not wait for the lock"
    out = p.stdout.read()
    p.wait(timeout=120)
    rest = []
    while (line := lines.get(timeout=10)) != "":
        rest.append(line)
    assert p.returncode == 0, f"{out}\n{first}{''.join(rest)}"
    assert "Traceback" not in out + "".join(rest)
    if verb[0] == "status":
        assert out == want.out
    if verb[0] == "next":
        assert out == clean(verb, root).out


@pytest.mark.parametrize("verb", [["build"], ["status", "--json"], ["next", "@FEAT-1"], ["status"]])
def test_no_wait_exits_75_at_once_naming_the_holder(tmp_path, verb):
    root = tmp_path / "ws"
    h = _workspace(root, seed=75)
    assert cli("build", "--workspace", root).code == 0
    h.op_edit_unused()
    with hold_lock(root / ".promptgen", "4242"):
        # a waiting process would run into the 60 s timeout (the lock is held throughout)
        r = cli(*verb, "--no-wait", "--workspace", root, timeout=60)
    assert r.code == 75, str(r)
    assert "4242" in r.err, str(r)
    assert r.out == "", str(r)
    assert_no_traceback(r)
    assert r.seconds < 20, f"--no-wait took {r.seconds:.1f}s"


def test_no_wait_with_a_foreign_lock_file(tmp_path):
    """A lock file without a PID (another tool, an old format): still 75, still a clear message."""
    root = tmp_path / "ws"
    _workspace(root, seed=76)
    with hold_lock(root / ".promptgen", "not a pid\x00\xff"):
        r = cli("build", "--no-wait", "--workspace", root, timeout=60)
    assert r.code == 75, str(r)
    assert "another promptgen process" in r.err, str(r)
    assert_no_traceback(r)


def test_noop_next_is_answered_while_a_build_holds_the_lock(tmp_path):
    """Readers of an unchanged workspace do not queue behind a writer: the snapshot answers."""
    root = tmp_path / "ws"
    _workspace(root, seed=77)
    want = clean_status(root)
    # the history's last edit must be older than the racy window (50 ms) when the
    # build reads it, or the build rightly writes no snapshot and `next` must wait
    # for the lock: on an idle worker the oracle and the start of `build` can take
    # less than that
    time.sleep(0.12)
    assert cli("build", "--workspace", root).code == 0
    assert (root / ".promptgen" / "snapshot").exists(), "the build wrote no snapshot"
    pf = str(root / want.json()["plans"][0]["plan_file"])
    with hold_lock(root / ".promptgen", "4343"):
        # a reader that queued would wait for the whole timeout: 20 s says so sooner
        r = cli("next", pf, "--workspace", root, timeout=20)
    assert r.code in (0, 1), str(r)
    assert r.out == clean(["next", pf], root).out


def test_clean_racing_with_builds_never_leaves_a_wrong_store(tmp_path):
    """`promptgen clean` while builds run: refused (75) or done; the next answer is still right."""
    root = tmp_path / "ws"
    h = _workspace(root, seed=78)
    assert cli("build", "--workspace", root).code == 0
    for round_ in range(3):
        h.step()
        verbs = [["build"], ["clean"], ["status", "--json"], ["build", "--force"], ["clean"], ["build"]]
        procs = [(v, popen(*v, "--workspace", root)) for v in verbs]
        for v, p in procs:
            out, err = p.communicate(timeout=180)
            ctx = f"round {round_}: promptgen {' '.join(v)} -> {p.returncode}\n{out}\n{err}"
            assert "Traceback" not in out + err, ctx
            assert p.returncode in ((0, 75) if v == ["clean"] else (0,)), ctx
        got = cli("status", "--json", "--workspace", root)
        assert got.code == 0 and "Traceback" not in got.err, str(got)
        assert got.out == clean_status(root).out, f"round {round_}\n" + "\n".join(h.log)


def _total_calls(root: Path) -> int:
    r = cli("stats", "--json", "--workspace", root)
    assert r.code == 0, str(r)
    return int(r.json()["total_calls"])


def test_metrics_count_every_concurrent_run_exactly_once(tmp_path):
    """Cumulative counters under concurrency: no lost and no doubled increments.

    No-op runs append to the journal without the lock, builds fold it under the
    lock; whatever the interleaving, `total_calls` grows by exactly the number of runs.
    """
    root = tmp_path / "ws"
    h = _workspace(root, seed=90)
    assert cli("build", "--workspace", root).code == 0
    before = _total_calls(root)
    runs = 0
    for round_ in range(2):
        if round_:
            h.op_edit_unused()
        pf = str(root / clean_status(root).json()["plans"][0]["plan_file"])
        verbs = [["next", pf]] * 4 + [["build"], ["build", "--force"], ["status", "--json"], ["next", pf]]
        procs = [popen(*v, "--workspace", root) for v in verbs]
        for p in procs:
            out, err = p.communicate(timeout=180)
            assert p.returncode == 0 and "Traceback" not in err, err
        runs += len(verbs)
    assert _total_calls(root) - before == runs


# regression: a reader called a store that a first build is creating "damaged (schema version 0)"
@pytest.mark.parametrize("how", ["empty file", "fresh sqlite file"])
def test_a_store_being_created_is_not_called_damaged(tmp_path, how):
    """What a reader sees while the first build creates the store: an empty or schema-less database."""
    root = tmp_path / "ws"
    _workspace(root, seed=92)
    store = root / ".promptgen"
    store.mkdir(exist_ok=True)  # the history may have put a template override there
    if how == "empty file":
        (store / "state.db").write_bytes(b"")
    else:
        sqlite3.connect(store / "state.db").execute("PRAGMA journal_mode=DELETE").fetchall()
    for argv in (["stats", "--json"], ["metrics"], ["graph", "--explain"]):
        r = cli(*argv, "--workspace", root)
        assert "Traceback" not in r.err and r.code in (0, 2), str(r)
        assert "damaged" not in r.err, str(r)


def test_read_only_verbs_racing_with_the_first_build(tmp_path):
    """stats / metrics / graph while the very first build creates the store: no crash, no damage."""
    root = tmp_path / "ws"
    _workspace(root, seed=91)
    for round_ in range(3):
        cli("clean", "--workspace", root)
        verbs = [["build"], ["stats", "--json"], ["metrics"], ["graph", "--explain"], ["status", "--json"],
                 ["graph"], ["build"]]
        procs = [(v, popen(*v, "--workspace", root)) for v in verbs]
        for v, p in procs:
            out, err = p.communicate(timeout=180)
            ctx = f"round {round_}: promptgen {' '.join(v)} -> {p.returncode}\n{out[-2000:]}\n{err}"
            assert "Traceback" not in out + err and "internal error" not in err, ctx
            assert "damaged" not in err and "discarding" not in err, ctx
            # a reader that comes before the first commit is told to build first (exit 2)
            assert p.returncode in ((0, 2) if v[0] in ("stats", "metrics", "graph") else (0,)), ctx
        got = cli("status", "--json", "--workspace", root)
        assert got.out == clean_status(root).out and got.err == "", str(got)
