"""Output rules: colours, stdout vs stderr, exit codes, the build lock, no tracebacks."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from cli_testlib import ANSI, DEMO_PLAN, base_env, run

VERBS = ["build", "next", "status", "check", "graph", "stats", "metrics", "watch", "clean"]


# ---------------------------------------------------------------------------
# help and documented exit codes


def test_every_verb_has_help_with_an_example(pg):
    top = pg("--help")
    assert top.code == 0 and top.err == "", str(top)
    for verb in VERBS:
        assert re.search(rf"^\s+{verb}\s+\S", top.out, re.M), f"{verb} missing from promptgen --help"
        r = pg(verb, "--help")
        assert r.code == 0, str(r)
        assert r.out.startswith(f"usage: promptgen {verb}"), str(r)
        m = re.search(r"^examples?:\n((?:  .+\n)+)", r.out, re.M)
        assert m, f"promptgen {verb} --help has no example:\n{r.out}"
        assert f"promptgen {verb}" in m.group(1), m.group(1)
    assert pg("help").code == 2
    v = pg("--version")
    assert v.code == 0 and re.fullmatch(r"promptgen \d+\.\d+\.\d+\S*\n", v.out), str(v)


def test_exit_codes_are_documented_in_help(pg):
    out = pg("--help").out
    block = out[out.index("exit codes:"):]
    for code in ("0", "1", "2", "75"):
        assert re.search(rf"^\s+{code}\s+\S", block, re.M), f"exit code {code} is not documented"
    assert "--no-wait" in block


# ---------------------------------------------------------------------------
# colours


COMMANDS = [["build"], ["build", "--timings"], ["status"], ["next", "@DEMO-FEATURE"], ["graph", "--explain"],
            ["graph", "--explain", "--dry-run"], ["stats"], ["metrics"], ["next", "@nope"], ["bogus"]]


def test_no_ansi_escapes_in_pipes(ro_warm, pg):
    for args in COMMANDS:
        r = pg(*args, cwd=ro_warm)
        assert not ANSI.search(r.out) and not ANSI.search(r.err), str(r)


def run_on_tty(exe: str, args: list[str], cwd: Path, env: dict) -> tuple[int, bytes]:
    """Run with stdout and stderr on a pseudo-terminal; return (exit code, everything written)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([exe, *args], cwd=str(cwd), env=env, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    return p.wait(timeout=60), out


def test_no_color_on_a_terminal(ro_warm, promptgen_exe):
    warm = ro_warm
    env = base_env({"TERM": "xterm-256color", "COLUMNS": "200"})
    coloured = 0
    for args in (["status"], ["next", "@nope"], ["build", "--timings"], ["stats"]):
        code, out = run_on_tty(promptgen_exe, args, warm, env)
        coloured += bool(ANSI.search(out.decode("utf-8", "replace")))
        code_nc, out_nc = run_on_tty(promptgen_exe, args, warm, {**env, "NO_COLOR": "1"})
        assert code_nc == code
        text = out_nc.decode("utf-8", "replace")
        assert not ANSI.search(text), f"NO_COLOR=1 but {args} wrote escapes:\n{text!r}"
        assert "Traceback" not in text
    assert coloured, "no command used colour on a terminal: this test would not notice escapes"


# ---------------------------------------------------------------------------
# data on stdout, messages on stderr


def test_data_on_stdout_messages_on_stderr(warm, pg):
    r = pg("build", cwd=warm)
    assert r.out.count("\n") == 1 and r.err == ""
    r = pg("clean", cwd=warm)
    assert r.out == "" and "removed" in r.err
    r = pg("build", "--json", cwd=warm)
    assert r.json()["mode"] == "full" and r.err == ""
    for args in (["status", "--json"], ["stats", "--json"], ["graph", "--format", "json"],
                 ["graph", "--explain", "--json"]):
        r = pg(*args, cwd=warm)
        assert r.code == 0 and r.err == "", str(r)
        r.json()
    r = pg("next", "@nope", cwd=warm)
    assert r.out == "" and r.err.startswith("promptgen: ")


# ---------------------------------------------------------------------------
# the build lock


@pytest.fixture
def held_lock(ro_warm):
    """Hold <store>/lock as another promptgen would (flock + its PID inside)."""
    path = ro_warm / ".promptgen" / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    yield os.getpid()
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@pytest.mark.parametrize("args", [["build", "--no-wait"], ["build", "--json", "--no-wait"],
                                  ["next", "@DEMO-FEATURE", "--no-wait"], ["status", "--no-wait"]])
def test_no_wait_with_the_lock_held_exits_75_naming_the_pid(ro_warm, pg, held_lock, args):
    t0 = time.monotonic()
    r = pg(*args, cwd=ro_warm, timeout=20)
    assert r.code == 75, str(r)
    assert time.monotonic() - t0 < 10, "--no-wait must not wait"
    assert str(held_lock) in r.err, str(r)
    assert r.out == ""


def test_clean_with_the_lock_held_leaves_the_store(ro_warm, pg, held_lock):
    r = pg("clean", cwd=ro_warm, timeout=20)
    assert r.code == 75, str(r)
    assert str(held_lock) in r.err and "--no-wait" not in r.err, str(r)
    assert (ro_warm / ".promptgen" / "state.db").exists()


def test_a_build_waits_for_the_lock_and_says_who_holds_it(demo, promptgen_exe):
    store = demo / ".promptgen"
    store.mkdir()
    fd = os.open(store / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, str(os.getpid()).encode())
    try:
        p = subprocess.Popen([promptgen_exe, "build"], cwd=str(demo), env=base_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = p.stderr.readline().decode()
        assert f"waiting for process {os.getpid()}" in line, line
        assert p.poll() is None, "the build did not wait"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "full" in out.decode()


# ---------------------------------------------------------------------------
# user errors: one line, the right code, never a traceback


def test_user_errors_in_an_empty_folder(tmp_path, pg):
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (["frobnicate"], 2), (["--frobnicate"], 2), ([], 2),
        (["build"], 2), (["next", "@X"], 2), (["status"], 2), (["graph", "--explain"], 2), (["stats"], 2),
        (["metrics"], 2), (["clean"], 2), (["status", "--json"], 2),
        (["build", "--workspace", str(a_file)], 2), (["next", "@X", "--workspace", str(a_file)], 2),
        (["status", "-w", str(tmp_path / "nope")], 2), (["build", f"--workspace={a_file}"], 2),
    ]
    for args, code in cases:
        r = pg(*args, cwd=empty)
        assert r.code == code, str(r)
        assert r.out == "", str(r)
        assert r.err.strip(), str(r)
    r = pg("build", cwd=empty)
    assert "work-space" in r.err and len(r.err.strip().splitlines()) == 1, str(r)


@pytest.mark.parametrize("args, code", [
    (["build", "--frob"], 2), (["next", "@DEMO", "--frob"], 2), (["status", "--bogus"], 2),
    (["next"], 2), (["next", "@.."], 2), (["next", "/etc/passwd"], 2), (["next", "../../../etc/passwd"], 2),
    (["next", "@DEMO", "--achievement", "abc"], 2), (["next", "@DEMO", "--achievement"], 2),
    (["next", "@DEMO", "--achievement", "9.9"], 2), (["next", "@DEMO", "-a", "1.1.1.1"], 2),
    (["graph", "--explain", "--build", "99"], 2), (["graph", "--explain", "--build", "abc"], 2),
    (["graph", "nothing-matches"], 2), (["graph", "--format", "png"], 2), (["watch", "--debounce", "x"], 2),
    (["build", "@nope"], 2), (["next", "@DRAFT-IDEA"], 1), (["next", "@", "extra"], 2),
])
def test_user_errors_in_a_workspace(ro_warm, pg, args, code):
    r = pg(*args, cwd=ro_warm)
    assert r.code == code, str(r)
    if code == 2:
        assert r.out == "", str(r)
        assert r.err.startswith(("promptgen: ", "usage: ")), str(r)


def test_bad_promptgen_toml_is_a_usage_error(warm, pg):
    cases = [("plan_roots = [", ["build"]), ("plan_roots = 5", ["next", "@DEMO"]),
             ('plan_roots = ["../../etc"]', ["status", "--json"]), ("unknown_setting = 1", ["build", "--json"]),
             ("\x00\x01", ["next", "@DEMO"])]
    for toml, args in cases:
        (warm / "promptgen.toml").write_text(toml, encoding="utf-8")
        r = pg(*args, cwd=warm)
        assert r.code == 2, (toml, str(r))
        assert "promptgen.toml" in r.err and r.out == "", (toml, str(r))
    (warm / "promptgen.toml").unlink()
    assert pg("next", "@DEMO", cwd=warm).code == 0


def test_damaged_store_is_replaced_with_a_warning(warm, pg):
    store = warm / ".promptgen"
    (store / "state.db").write_bytes(b"this is not a database" * 100)
    (store / "snapshot").write_bytes(b"\x00garbage")
    (store / "journal").write_text("not a journal line\n")
    r = pg("build", "--json", cwd=warm)
    assert r.code == 0, str(r)
    assert r.json()["mode"] == "full"
    assert "warning" in r.err, str(r)
    for args in (["next", "@DEMO-FEATURE"], ["stats", "--json"], ["metrics"], ["graph", "--explain"]):
        assert pg(*args, cwd=warm).code == 0


def test_unreadable_plan_is_a_warning_not_a_crash(warm, pg):
    (warm / DEMO_PLAN).write_bytes(b"\xff\xfe\x00 not utf-8 \x80\x81")
    r = pg("status", "--json", cwd=warm)
    assert r.code == 0, str(r)
    (demo,) = [p for p in r.json()["plans"] if p["feature"] == "DEMO-FEATURE"]
    assert any(w["kind"] == "unreadable_file" for w in demo["warnings"]), demo
    n = pg("next", "@DEMO-FEATURE", cwd=warm)
    assert n.code in (0, 1) and "unreadable_file" in n.err, str(n)


@pytest.mark.parametrize("args", [["build"], ["build", "--json"], ["next", "@DEMO-FEATURE"], ["status"],
                                  ["status", "--json"], ["stats"], ["graph", "--explain"],
                                  ["next", "@DEMO", "--achievement", "2.2"]])
def test_a_reader_that_left_is_not_an_error(ro_warm, promptgen_exe, args):
    """`promptgen … | head` when head has already exited: no traceback, exit 0, nothing on stderr."""
    subprocess.run([promptgen_exe, "build"], cwd=str(ro_warm), env=base_env(), capture_output=True, timeout=60)
    r, w = os.pipe()
    os.close(r)  # the reader is gone before promptgen writes
    try:
        p = subprocess.run([promptgen_exe, *args], cwd=str(ro_warm), env=base_env(), stdout=w,
                           stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(w)
    err = p.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert (p.returncode, err) == (0, ""), (p.returncode, err)
