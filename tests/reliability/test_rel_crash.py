"""Crash safety: ``kill -9`` at random moments of a build on a workspace under edit.

Each trial edits the workspace (0–3 history steps), starts the installed
``promptgen`` (mostly ``build``; sometimes ``build --force``, ``status --json``
or ``next``), sleeps a random delay in [0, measured cold-build time] and sends
SIGKILL. Then the *next* run — ``status --json --no-wait``, with no cleanup at
all — must exit 0 without a traceback or a "damaged store" warning (the lock
is released by the kernel, SQLite's rollback journal undoes a half-written
commit) and print exactly what a clean build of the same files prints. Every
third trial also compares ``next <PLAN>`` (the fast path after a crash).

Default: 5 shards x 10 trials = 50 kills. ``-m slow``: 20 more shards (200).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from history import History
from rellib import assert_no_traceback, clean, clean_status, cli, fresh_store, popen

TRIALS_PER_SHARD = 10


def cold_build_seconds(root: Path) -> float:
    """Wall time of a cold `promptgen build` of this workspace (fresh store), the kill window."""
    store = fresh_store("cold")
    try:
        r = cli("build", "--workspace", root, "--store", store)
    finally:
        shutil.rmtree(store, ignore_errors=True)
    assert r.code == 0, str(r)
    return max(r.seconds, 0.15)


def kill_trials(root: Path, seed: int, trials: int, record_property) -> None:
    rng = random.Random(seed)
    h = History(root, seed)
    h.start(plans=4)
    for _ in range(10):
        h.step()
    window = cold_build_seconds(root)
    first = cli("build", "--workspace", root)
    assert first.code == 0, str(first)
    store = root / ".promptgen"
    killed = hot = 0
    started, completed = 1, 1  # runs on this store (the first build)
    for trial in range(trials):
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            h.step()
        want = clean_status(root)
        assert want.code == 0, str(want)
        plans = want.json()["plans"]
        verb = rng.choices(
            (["build"], ["build", "--force"], ["status", "--json"], ["next"]), weights=(5, 2, 1, 1))[0]
        if verb == ["next"]:
            if not plans:
                verb = ["build"]
            else:
                verb = ["next", str(root / rng.choice(plans)["plan_file"])]
        delay = rng.uniform(0, window)
        p = popen(*verb, "--workspace", root)
        time.sleep(delay)
        if p.poll() is None:
            killed += 1
        p.send_signal(signal.SIGKILL)
        p.communicate()
        started += 1
        completed += p.returncode in (0, 1)  # it finished before the signal
        if (store / "state.db-journal").exists():
            hot += 1  # killed inside a commit: SQLite must roll it back
        context = (f"seed {seed} trial {trial}: killed `promptgen {' '.join(verb)}` after {delay:.3f}s "
                   f"(window {window:.3f}s); history:\n  " + "\n  ".join(h.log))
        got = cli("status", "--json", "--no-wait", "--workspace", root)
        started += 1
        completed += 1
        assert_no_traceback(got)
        assert got.code == 0, f"{context}\n{got}"
        assert "damaged" not in got.err and "discard" not in got.err, f"{context}\n{got}"
        assert got.out == want.out, f"{context}\nstatus after the crash differs from a clean build\n{got}"
        if trial % 3 == 0 and plans:
            pf = rng.choice(plans)["plan_file"]
            argv = ["next", str(root / pf)]
            nxt = cli(*argv, "--workspace", root)
            started += 1
            completed += 1
            ref = clean(argv, root)
            assert_no_traceback(nxt)
            assert (nxt.code, nxt.out) == (ref.code, ref.out), f"{context}\n{nxt}\n--- clean ---\n{ref}"
    # cumulative metrics: a killed run may or may not have been counted, none twice
    calls = cli("stats", "--json", "--workspace", root).json()["total_calls"]
    assert completed <= calls <= started, f"total_calls {calls}: {completed} runs completed, {started} started"
    # the store is a cache that still works for every read-only verb after all that
    for argv in (["stats", "--json"], ["metrics"], ["graph", "--explain"]):
        r = cli(*argv, "--workspace", root)
        assert_no_traceback(r)
        assert r.code == 0, str(r)
        assert "damaged" not in r.err, str(r)
    leftovers = [n for n in os.listdir(store) if n.endswith(".tmp")]
    record_property("rel_kill_trials", trials)
    record_property("rel_kill_mid_run", killed)
    record_property("rel_kill_hot_journal", hot)
    record_property("rel_kill_tmp_leftovers", len(leftovers))


@pytest.mark.parametrize("shard", range(5))
def test_kill9_during_build(tmp_path, shard, record_property):
    kill_trials(tmp_path / "ws", seed=1000 + shard, trials=TRIALS_PER_SHARD, record_property=record_property)


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(5, 25))
def test_kill9_during_build_many(tmp_path, shard, record_property):
    kill_trials(tmp_path / "ws", seed=1000 + shard, trials=TRIALS_PER_SHARD, record_property=record_property)


def test_kill9_while_holding_the_lock_leaves_no_stale_lock(tmp_path, record_property):
    """A build killed while it holds the lock: the next `--no-wait` run is not refused."""
    root = tmp_path / "ws"
    h = History(root, 4242)
    h.start(plans=4)
    for _ in range(10):
        h.step()
    assert cli("build", "--workspace", root).code == 0
    h.step()
    lock = root / ".promptgen" / "lock"
    p = popen("build", "--force", "--workspace", root)
    deadline = time.monotonic() + 30
    # wait until the child has written its PID into the lock file, i.e. holds the lock
    while time.monotonic() < deadline and p.poll() is None:
        try:
            if lock.read_text().strip() == str(p.pid):
                break
        except OSError:
            pass
        time.sleep(0.002)
    held = p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.communicate()
    r = cli("build", "--no-wait", "--workspace", root)
    assert r.code == 0, str(r)
    assert_no_traceback(r)
    assert cli("status", "--json", "--workspace", root).out == clean_status(root).out
    record_property("rel_kill_trials", 1)
    record_property("rel_kill_mid_run", int(held))


def test_kill9_inside_the_commit(tmp_path, record_property):
    """Aimed kills: SIGKILL the moment SQLite's rollback journal appears (mid-transaction).

    Random delays mostly land in interpreter start-up or the build itself; this
    test spins on ``state.db-journal`` and kills while a transaction is open, so
    the rollback path is certainly exercised (at least once, usually every time).
    """
    root = tmp_path / "ws"
    rng = random.Random(77)
    h = History(root, 77)
    h.start(plans=5)
    for _ in range(15):
        h.step()
    assert cli("build", "--workspace", root).code == 0
    journal = root / ".promptgen" / "state.db-journal"
    hits = attempts = 0
    while hits < 3 and attempts < 20:
        attempts += 1
        h.step()
        p = popen("build", *(["--force"] if rng.random() < 0.7 else []), "--workspace", root)
        exists = os.path.exists
        while p.poll() is None and not exists(journal):
            pass
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.communicate()
        if p.returncode == -signal.SIGKILL and journal.exists():
            hits += 1
        got = cli("status", "--json", "--no-wait", "--workspace", root)
        assert_no_traceback(got)
        assert got.code == 0 and "damaged" not in got.err, str(got)
        assert got.out == clean_status(root).out, "after a kill inside the commit:\n" + "\n".join(h.log)
        assert not journal.exists(), "the hot journal was not rolled back by the next run"
    record_property("rel_kill_trials", attempts)
    record_property("rel_kill_hot_journal", hits)
    assert hits >= 1, f"never managed to kill inside a transaction in {attempts} attempts"
