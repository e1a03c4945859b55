"""One writer at a time: fcntl.flock on <store>/lock with the holder's PID inside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from engine_testlib import WC_ROOTS, all_values, config, make_wc_tree, session_build, wc_rules
from promptgen.engine.build import build
from promptgen.engine.lock import LOCK_NAME, BuildLock, LockBusy
from promptgen.engine.session import run

HERE = os.path.dirname(os.path.abspath(__file__))

_HOLDER = textwrap.dedent(
    """
    import sys
    from promptgen.engine.lock import BuildLock
    lock = BuildLock(sys.argv[1])
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.readline()  # hold until told (or killed)
    lock.release()
    print("released", flush=True)
    """
)


@pytest.fixture
def wc(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two", "b.txt": "three"})
    cfg = config(root, str(tmp_path / "store"))
    os.makedirs(cfg.store_dir)
    return root, cfg


@pytest.fixture
def holder(wc):
    _, cfg = wc
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, cfg.store_dir],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "locked\n"
    yield p
    if p.poll() is None:
        p.kill()
    p.wait()


def test_busy_lock_without_waiting_raises_with_the_pid(wc, holder):
    _, cfg = wc
    with pytest.raises(LockBusy) as info:
        run(cfg, WC_ROOTS, wc_rules(), wait=False)
    assert info.value.pid == holder.pid
    assert str(holder.pid) in str(info.value)
    assert not os.path.exists(os.path.join(cfg.store_dir, "state.db"))  # nothing touched


def test_waiting_build_is_told_the_pid_then_builds(wc, holder):
    root, cfg = wc
    seen = []

    def on_wait(pid):
        seen.append(pid)
        holder.stdin.write("go\n")  # let the holder finish: this build then gets the lock
        holder.stdin.flush()

    out, values = session_build(cfg, WC_ROOTS, wc_rules(), on_wait=on_wait)
    assert seen == [holder.pid]
    assert values["report:all"] == 3
    assert holder.stdout.readline() == "released\n"


def test_no_wait_callback_when_the_lock_is_free(wc):
    _, cfg = wc
    seen = []
    session_build(cfg, WC_ROOTS, wc_rules(), on_wait=seen.append)
    session_build(cfg, WC_ROOTS, wc_rules(), wait=False)
    assert seen == []


def test_holder_pid_is_recorded_and_cleared(wc):
    _, cfg = wc
    lock = BuildLock(cfg.store_dir)
    lock.acquire()
    try:
        with open(os.path.join(cfg.store_dir, LOCK_NAME)) as fh:
            assert fh.read() == str(os.getpid())
        assert lock.holder() == os.getpid()
    finally:
        lock.release()
    assert lock.holder() is None


def test_lock_of_a_killed_holder_is_free(wc, holder):
    _, cfg = wc
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), wait=False)
    assert values["report:all"] == 3


def test_lock_timeout(wc, holder):
    _, cfg = wc
    lock = BuildLock(cfg.store_dir)
    with pytest.raises(LockBusy) as info:
        lock.acquire(timeout=0.1)
    assert info.value.pid == holder.pid


_BUILDER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {here!r})
    from engine_testlib import WC_ROOTS, config, session_build, wc_rules, write
    root, store, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    for i in range(15):
        write(os.path.join(root, "docs", f"{{tag}}{{i % 4}}.txt"), "w " * (i % 5))
        out, values = session_build(config(root, store), WC_ROOTS, wc_rules())
        assert out.warnings == [], out.warnings
    print("ok", flush=True)
    """
)


def test_two_processes_building_concurrently(wc):
    root, cfg = wc
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILDER.format(here=HERE), root, cfg.store_dir, tag],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("p", "q")
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out == "ok\n", err
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.warnings == []
    assert values == all_values(build(root, WC_ROOTS, wc_rules()))
