"""A damaged, foreign, read-only or full store: one warning, a correct answer, exit 0.

The store is a cache. Whatever happened to it, ``status --json`` and ``next``
must print what a clean build prints, with at most one warning line on stderr,
exit 0 and no traceback — and once the cause is gone, the next run is silent.

How "disk full" is simulated (no tmpfs without privileges, LD_PRELOAD is out):
the child runs under ``RLIMIT_FSIZE`` (``setrlimit`` in ``preexec_fn``). Any
write that would grow a file past the limit fails with ``EFBIG`` (Python
ignores ``SIGXFSZ``), which SQLite reports exactly like a full disk
(``SQLITE_FULL``: "database or disk is full"). Limits from 0 bytes (even the
lock's PID cannot be written) to just under the database size (the rollback
journal or the growing database fails mid-commit) hit every write path.

Read-only stores use ``chmod 555``; as root the child is run without
``CAP_DAC_OVERRIDE``/``CAP_DAC_READ_SEARCH`` (see ``rellib.permission_preexec``)
so that the permissions bind it as they bind any user.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import stat
from pathlib import Path

import pytest

from rellib import assert_no_traceback, clean, cli, copy_demo

PLAN = "@DEMO-FEATURE"



@pytest.fixture
def built(tmp_path) -> Path:
    root = copy_demo(tmp_path / "ws")
    r = cli("build", "--workspace", root)
    assert r.code == 0, str(r)
    return root


def db(root: Path) -> Path:
    return root / ".promptgen" / "state.db"


def check(root: Path, *, warnings: tuple[int, ...] = (1,), preexec=None, extra=()) -> list[str]:
    """status --json and next on the (damaged) store: correct, exit 0, `warnings` lines on stderr."""
    stderr_lines = []
    for argv in (["status", "--json"], ["next", PLAN]):
        want = clean(argv, root)
        got = cli(*argv, *extra, "--workspace", root, preexec_fn=preexec, timeout=60)
        assert_no_traceback(got)
        assert got.code == want.code == 0, f"{got}\n--- clean ---\n{want}"
        assert got.out == want.out, f"wrong answer from a damaged store\n{got}"
        extra_err = got.err.replace(want.err, "", 1) if want.err else got.err
        lines = [line for line in extra_err.splitlines() if line.strip()]
        stderr_lines.append(lines)
    # the first run meets the damage: the expected number of warnings, each one line
    assert len(stderr_lines[0]) in warnings, f"expected {warnings} warning line(s), got {stderr_lines[0]}"
    return stderr_lines[0]


def check_recovered(root: Path) -> None:
    """After the damage is gone: silent, correct."""
    want = clean(["status", "--json"], root)
    got = cli("status", "--json", "--workspace", root)
    assert got.code == 0 and got.out == want.out, str(got)
    assert got.err == "", f"the store was not rebuilt once and for all:\n{got}"


# -- damaged files -------------------------------------------------------------------
@pytest.mark.parametrize("keep", ["half", "100 bytes", "header only"])
def test_truncated_database(built, keep):
    path = db(built)
    size = path.stat().st_size
    n = {"half": size // 2, "100 bytes": 100, "header only": 16}[keep]
    with open(path, "r+b") as fh:
        fh.truncate(n)
    (built / ".promptgen" / "snapshot").unlink(missing_ok=True)
    lines = check(built)
    assert "state.db" in lines[0]
    check_recovered(built)


def test_database_truncated_to_zero_bytes_is_an_empty_store(built):
    db(built).write_bytes(b"")
    check(built, warnings=(0, 1))
    check_recovered(built)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_database_replaced_by_random_bytes(built, seed):
    path = db(built)
    path.write_bytes(random.Random(seed).randbytes(path.stat().st_size))
    check(built)
    check_recovered(built)


@pytest.mark.parametrize("seed", range(8))
def test_random_garbage_inside_the_database(built, seed):
    """Overwrite a random region after the header: SQLite may or may not notice; the answer must be right."""
    path = db(built)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = rng.randrange(100, len(data) - 64)
    length = rng.choice((1, 8, 64, 512, 4096))
    data[start:start + length] = rng.randbytes(min(length, len(data) - start))
    path.write_bytes(bytes(data))
    # where the garbage lands depends on this run's byte layout; before ad2ac6d a hit on a stored
    # value gave either exit 3 or a wrong answer (see the two regression tests below)
    check(built, warnings=(0, 1))
    check_recovered(built)


def test_wrong_schema_version(built):
    conn = sqlite3.connect(db(built))
    conn.execute("PRAGMA user_version=99")
    conn.close()
    lines = check(built)
    assert "99" in lines[0], lines
    check_recovered(built)


def test_missing_table(built):
    conn = sqlite3.connect(db(built))
    conn.execute("DROP TABLE nodes")
    conn.commit()
    conn.close()
    check(built)
    check_recovered(built)


def test_foreign_sqlite_database(built):
    path = db(built)
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, blob BLOB)")
    conn.commit()
    conn.close()
    check(built)
    check_recovered(built)


def test_stored_value_that_is_not_json(built):
    """Regression (fixed in ad2ac6d): a damaged value read lazily by the metrics callback exited 3."""
    conn = sqlite3.connect(db(built))
    conn.execute("UPDATE node_values SET value='{\"text\": ' "
                 "WHERE key IN (SELECT key FROM nodes WHERE kind IN ('prompt', 'state'))")
    conn.commit()
    conn.close()
    (built / ".promptgen" / "snapshot").unlink()
    check(built, warnings=(1,))
    check_recovered(built)


def _flip_in_stored_prompt(root: Path) -> None:
    """Change one letter inside a stored prompt text, leaving the file structurally valid.

    This is what bit rot, or an OS crash with ``synchronous=OFF`` tearing a page,
    looks like: SQLite has no page checksums and JSON still parses.
    """
    path = db(root)
    data = bytearray(path.read_bytes())
    needle = b"Configuration loader"  # the title of DEMO-FEATURE's current achievement (0.3)
    at = data.find(needle)
    assert at > 0, "the stored prompt was not found in state.db"
    while at >= 0:
        data[at:at + 1] = b"X"
        at = data.find(needle, at + 1)
    path.write_bytes(bytes(data))


def test_corrupted_stored_value_is_not_served(built):
    """Regression (fixed in ad2ac6d: values are checked against their stored fingerprint)."""
    _flip_in_stored_prompt(built)
    (built / ".promptgen" / "snapshot").unlink()
    check(built, warnings=(0, 1))


def test_corrupted_snapshot_is_not_served(built):
    """One letter changed inside the fast-path snapshot (its prompts may live in a side file)."""
    hits = 0
    for path in sorted((built / ".promptgen").glob("snapshot*")):
        data = bytearray(path.read_bytes())
        at = data.find(b"Configuration loader")
        while at >= 0:
            data[at:at + 1] = b"X"
            hits += 1
            at = data.find(b"Configuration loader", at + 1)
        path.write_bytes(bytes(data))
    assert hits, "the snapshot files do not hold the prompt text in the clear; the test needs a new way in"
    want = clean(["next", PLAN], built)
    got = cli("next", PLAN, "--workspace", built)
    assert_no_traceback(got)
    assert (got.code, got.out) == (want.code, want.out), str(got)


@pytest.mark.parametrize("how", ["random bytes", "truncated", "empty"])
def test_damaged_snapshot_is_ignored(built, how):
    path = built / ".promptgen" / "snapshot"
    data = path.read_bytes()
    path.write_bytes({"random bytes": random.Random(5).randbytes(len(data)), "truncated": data[: len(data) // 2],
                      "empty": b""}[how])
    check(built, warnings=(0,))


def test_damaged_metrics_journal(built):
    j = built / ".promptgen" / "journal"
    with open(j, "ab") as fh:
        fh.write(random.Random(9).randbytes(3000) + b"\nc\tpromptgen_x_total\t{}\tnot-a-number\nh\t")
    assert cli("next", PLAN, "--workspace", built).code == 0  # a no-op appends after the garbage
    for argv in (["metrics"], ["stats", "--json"], ["build", "--force"], ["metrics"]):
        r = cli(*argv, "--workspace", built)
        assert_no_traceback(r)
        assert r.code == 0, str(r)
    check(built, warnings=(0,))


def test_stale_random_rollback_journal(built):
    """A leftover `state.db-journal` of garbage (no real transaction): ignored, not fatal."""
    (built / ".promptgen" / "state.db-journal").write_bytes(random.Random(3).randbytes(5000))
    (built / ".promptgen" / "snapshot").unlink()
    check(built, warnings=(0, 1))
    check_recovered(built)


def test_database_path_is_a_directory(built):
    path = db(built)
    path.unlink()
    path.mkdir()
    (path / "x").write_text("not a database")
    (built / ".promptgen" / "snapshot").unlink()
    check(built)


def test_database_path_is_a_fifo(built):
    path = db(built)
    path.unlink()
    os.mkfifo(path)
    (built / ".promptgen" / "snapshot").unlink()
    check(built, warnings=(1,))


def test_store_option_names_a_regular_file(built, tmp_path):
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    lines = check(built, extra=("--store", str(f)))
    assert "not-a-folder" in lines[0]


def test_store_option_below_a_regular_file(built, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    check(built, extra=("--store", str(f / "sub" / "store")))


# -- read-only -------------------------------------------------------------------------
def _chmod_tree(top: Path, dir_mode: int, file_mode: int) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), file_mode)
    for dirpath, dirnames, _ in os.walk(top, topdown=False):
        for n in dirnames:
            os.chmod(os.path.join(dirpath, n), dir_mode)
    os.chmod(top, dir_mode)


@pytest.mark.parametrize("what", ["folder and files", "folder only"])
def test_read_only_store(built, as_user, what):
    store = built / ".promptgen"
    (built / "work-space" / "plans" / "DEMO-FEATURE" / "execution" / "feedbacks" / "APPROVED_03.md").write_text("")
    try:
        _chmod_tree(store, 0o555, 0o444 if what == "folder and files" else 0o644)
        lines = check(built, preexec=as_user)
        assert "store" in lines[0]
    finally:
        _chmod_tree(store, 0o755, 0o644)
    check_recovered(built)


def test_read_only_store_noop_next_still_answers(built, as_user):
    store = built / ".promptgen"
    try:
        _chmod_tree(store, 0o555, 0o444)
        want = clean(["next", PLAN], built)
        got = cli("next", PLAN, "--workspace", built, preexec_fn=as_user)
        assert_no_traceback(got)
        assert (got.code, got.out) == (want.code, want.out), str(got)
    finally:
        _chmod_tree(store, 0o755, 0o644)


# -- disk full -----------------------------------------------------------------------------
def _fsize_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_rlimit_fsize_really_fails_writes(tmp_path):
    """The simulation itself: under the limit, a write past it fails with EFBIG (no signal)."""
    r = cli("--version", preexec_fn=_fsize_limit(0))
    assert r.code == 0
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", f"open({str(tmp_path / 'f')!r}, 'wb').write(b'x' * 10000)"],
                       preexec_fn=_fsize_limit(4096), capture_output=True, text=True)
    assert p.returncode == 1 and "File too large" in p.stderr, p.stderr


@pytest.mark.parametrize("limit", ["0", "1", "4096", "db-1", "db+4096"])
def test_disk_full(built, limit):
    size = db(built).stat().st_size
    n = {"0": 0, "1": 1, "4096": 4096, "db-1": size - 1, "db+4096": size + 4096}[limit]
    # an edit, so that the run has something to commit
    (built / "work-space" / "plans" / "DEMO-FEATURE" / "execution" / "feedbacks" / "APPROVED_03.md").write_text("")
    (built / "work-space" / "plans" / "NEW-PLAN").mkdir()
    (built / "work-space" / "plans" / "NEW-PLAN" / "PLAN_NEW-PLAN.md").write_text(
        "# PLAN\n\n## Achievement Index\n\n- Achievement 0.1: One\n- Achievement 0.2: Two\n" * 40)
    check(built, warnings=(0, 1), preexec=_fsize_limit(n))
    check_recovered(built)


def test_disk_full_on_a_fresh_store(tmp_path):
    """No store yet and no room for one: the answer is still computed, with one warning."""
    root = copy_demo(tmp_path / "ws")
    lines = check(root, warnings=(1,), preexec=_fsize_limit(0))
    assert "store" in lines[0]
    check_recovered(root)


@pytest.mark.parametrize("damage", ["truncated", "schema 99"])
def test_read_only_verbs_on_a_damaged_store(built, damage):
    """stats / metrics / graph meet the damage first: a warning, no traceback; the next build is right."""
    if damage == "truncated":
        with open(db(built), "r+b") as fh:
            fh.truncate(5000)
    else:
        conn = sqlite3.connect(db(built))
        conn.execute("PRAGMA user_version=99")
        conn.close()
    for argv in (["stats", "--json"], ["metrics"], ["graph", "--explain"], ["graph", "--format", "dot"]):
        r = cli(*argv, "--workspace", built)
        assert_no_traceback(r)
        assert r.code in (0, 2), str(r)
        assert "damaged" in r.err or "build" in r.err, str(r)
    st = cli("status", "--json", "--workspace", built)
    assert st.code == 0 and st.out == clean(["status", "--json"], built).out, str(st)
    check_recovered(built)
