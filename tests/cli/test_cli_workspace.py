"""Workspace options seen from the command line: symlinks, plan roots, the store's location, watch."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

from cli_testlib import DEMO_DIR, age, base_env, tiny_plan, write


def test_symlinks_out_of_the_workspace_are_never_followed(demo, pg, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "EVIL" / "PLAN_EVIL.md", tiny_plan("EVIL", ["0.1"]))
    secret = outside / "secret.md"
    secret.write_text("**Status**: ✅ Complete\nTOP-SECRET-CONTENT\n", encoding="utf-8")
    os.symlink(outside / "EVIL", demo / "work-space" / "plans" / "EVIL")
    os.symlink(secret, demo / DEMO_DIR / "subplans" / "SUBPLAN_DEMO-FEATURE_12.md")
    age(demo)

    st = pg("status", "--json", cwd=demo)
    assert st.code == 0, str(st)
    features = [p["feature"] for p in st.json()["plans"]]
    assert "EVIL" not in features
    (plan,) = [p for p in st.json()["plans"] if p["feature"] == "DEMO-FEATURE"]
    assert {a["number"]: a["state"] for a in plan["achievements"]}["1.2"] == "no_subplan"
    for args in (["next", "@DEMO", "-a", "1.2"], ["next", "@DEMO"], ["status"], ["status", "--json"]):
        r = pg(*args, cwd=demo)
        assert "TOP-SECRET-CONTENT" not in r.out + r.err, str(r)
    r = pg("next", "work-space/plans/EVIL/PLAN_EVIL.md", cwd=demo)
    assert r.code == 2 and r.out == "", str(r)


def test_extra_plan_roots_from_the_option_and_promptgen_toml(demo, pg):
    write(demo / "work-space" / "backlog" / "LATER" / "PLAN_LATER.md", tiny_plan("LATER", ["0.1"]))
    age(demo)
    assert pg("build", cwd=demo).out.startswith("4 plans")
    with_root = pg("build", "--plan-root", "work-space/backlog", cwd=demo)
    assert with_root.code == 0 and with_root.out.startswith("5 plans"), str(with_root)
    r = pg("next", "@LATER", "--plan-root", "work-space/backlog", cwd=demo)
    assert r.code == 0 and "# LATER — Achievement 0.1" in r.out, str(r)
    # a snapshot built with an extra root must not answer a plain run (and vice versa)
    for _ in range(2):
        plain = pg("next", "@LATER", cwd=demo)
        assert plain.code == 2 and "@DEMO-FEATURE" in plain.err, str(plain)
        assert pg("build", "--json", cwd=demo).json()["plans"] == 4

    (demo / "promptgen.toml").write_text('plan_roots = ["work-space/plans", "work-space/backlog"]\n')
    for _ in range(2):
        r = pg("next", "@LATER", cwd=demo)
        assert r.code == 0 and "# LATER — Achievement 0.1" in r.out, str(r)
    st = pg("status", "--json", cwd=demo).json()
    assert "work-space/backlog/LATER/PLAN_LATER.md" in [p["plan_file"] for p in st["plans"]]

    bad = pg("build", "--plan-root", "../elsewhere", cwd=demo)
    assert bad.code == 2 and bad.out == "", str(bad)


def test_store_elsewhere_leaves_the_workspace_root_alone(demo, pg, tmp_path):
    store = tmp_path / "store"
    r = pg("build", "--store", str(store), cwd=demo)
    assert r.code == 0, str(r)
    assert not (demo / ".promptgen").exists()
    assert (store / "state.db").exists()
    env = {"PROMPTGEN_STORE": str(store)}
    noop = pg("build", "--json", cwd=demo, env=env)
    assert noop.code == 0 and noop.json()["mode"] == "noop", str(noop)
    assert pg("next", "@DEMO", cwd=demo, env=env).out.startswith("# DEMO-FEATURE")
    assert pg("stats", "--json", "--store", str(store), cwd=demo).json()["total_calls"] == 3
    assert pg("graph", "--explain", "--json", cwd=demo, env=env).code == 0
    assert not (demo / ".promptgen").exists()
    c = pg("clean", "--store", str(store), cwd=demo)
    assert c.code == 0 and not (store / "state.db").exists(), str(c)


def _read_until(fd: int, needle: bytes, buf: bytearray, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            buf += chunk
    return needle in buf


def test_watch_rebuilds_on_a_change_and_stops_cleanly_on_ctrl_c(demo, promptgen_exe):
    master, slave = pty.openpty()
    p = subprocess.Popen([promptgen_exe, "watch", "--debounce", "50"], cwd=str(demo),
                         env=base_env({"TERM": "xterm-256color", "NO_COLOR": "1", "COLUMNS": "150"}),
                         stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    buf = bytearray()
    try:
        assert _read_until(master, b"fix_resolved", buf, 30), bytes(buf).decode(errors="replace")
        time.sleep(0.5)  # the watcher starts right after the first table
        (demo / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_03.md").write_text("Approved.\n")
        assert _read_until(master, b"needs_fix", buf, 30), bytes(buf).decode(errors="replace")
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0
        _read_until(master, b"\0", buf, 0.5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    text = bytes(buf).decode("utf-8", "replace")
    assert "Traceback" not in text
    assert "3/10" in text
