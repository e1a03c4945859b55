"""Helpers shared by the reliability tests.

Two ways to run promptgen:

* ``cli(...)`` runs the installed console script as a subprocess — what a user
  runs; needed for kill -9, concurrency, rlimits and dropped capabilities;
* ``inproc(...)`` calls ``promptgen.cli.main.main`` in this process with
  stdout/stderr captured — the same code (fast path included), ~20x cheaper,
  so the history replay can afford a clean oracle build after every step.

The oracle everywhere is a CLEAN build: the same verb with ``--store`` pointing
at a fresh, empty folder (``clean_*``). Its output must equal, byte for byte,
what the incremental store answers.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"

#: Variables of the caller's environment that would change what promptgen does.
_SCRUB = ("PROMPTGEN_STORE", "PROMPTGEN_NO_FASTPATH", "PROMPTGEN_DEBUG")


def promptgen_exe() -> str:
    found = shutil.which("promptgen")
    if found and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return found
    local = Path(sys.executable).parent / "promptgen"
    if local.exists():
        return str(local)
    if found:
        return found
    raise RuntimeError("the promptgen console script is not installed next to this Python")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str
    seconds: float = 0.0

    def __str__(self) -> str:  # shown by failing asserts
        return (f"$ promptgen {' '.join(self.argv)}\n-> exit {self.code} in {self.seconds:.2f}s\n"
                f"--- stdout ---\n{self.out[-3000:]}\n--- stderr ---\n{self.err[-3000:]}")

    def json(self):
        return json.loads(self.out)

    def warning_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli(*argv: str, cwd: Optional[Path | str] = None, timeout: float = 120, env: Optional[dict] = None,
        preexec_fn=None) -> Run:
    """Run the installed console script; never raises on a non-zero exit."""
    args = [str(a) for a in argv]
    t0 = time.perf_counter()
    # surrogateescape: a non-UTF-8 path is printed as the raw bytes it is, as Python does under a UTF-8 locale
    p = subprocess.run([promptgen_exe(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=env or child_env(), preexec_fn=preexec_fn, errors="surrogateescape")
    return Run(args, p.returncode, p.stdout, p.stderr, time.perf_counter() - t0)


def popen(*argv: str, cwd: Optional[Path | str] = None, env: Optional[dict] = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([promptgen_exe(), *[str(a) for a in argv]], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="surrogateescape", env=env or child_env(), **kw)


def inproc(*argv: str) -> Run:
    """``promptgen ARGV`` in this process (same code as the console script)."""
    from promptgen.cli.main import main

    args = [str(a) for a in argv]
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.pop(k) for k in _SCRUB if k in os.environ}
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.environ.update(saved)
    return Run(args, int(code), out.getvalue(), err.getvalue(), time.perf_counter() - t0)


# -- workspaces -----------------------------------------------------------------
def copy_demo(dest: Path) -> Path:
    """A private copy of examples/demo's work-space/ (never its .promptgen/), aged.

    The copy keeps the mtimes but every ctime is *now*: a build within the racy
    window (50 ms) would distrust every stamp and write no snapshot, and tests
    that damage or race the snapshot would depend on how fast that build is.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEMO / "work-space", dest / "work-space", symlinks=True)
    time.sleep(0.12)
    return dest


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def plan_text(feature: str, numbers: Sequence[str], *, marker: str = "", index: bool = True) -> str:
    """A small well-formed PLAN declaring ``numbers``."""
    lines = [f"# PLAN: {feature}", "", "**Status**: In Progress", "", marker, ""]
    if index:
        lines += ["## Achievement Index", ""] + [f"- Achievement {n}: Title {n}" for n in numbers] + [""]
    lines += ["## Achievements", ""]
    for n in numbers:
        lines += [f"### Achievement {n}: Title {n}", "", f"Do the work of {n}. {marker}", ""]
    lines += ["## Current Status & Handoff", "", f"Next: Achievement {numbers[0]}" if numbers else "", ""]
    return "\n".join(lines)


def add_plan(root: Path, feature: str, numbers: Sequence[str] = ("0.1", "0.2"), folder: Optional[str] = None,
             **kw) -> Path:
    folder = folder or feature
    return write(root / "work-space" / "plans" / folder / f"PLAN_{feature}.md", plan_text(feature, numbers, **kw))


def fresh_store(tag: str = "clean") -> str:
    return tempfile.mkdtemp(prefix=f"pg-{tag}-")


def clean(verb_argv: Sequence[str], root: Path | str) -> Run:
    """The oracle: the same command against a fresh, empty store (in process)."""
    store = fresh_store()
    try:
        return inproc(*verb_argv, "--workspace", str(root), "--store", store)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def clean_status(root: Path | str) -> Run:
    return clean(["status", "--json"], root)


def clean_answers(root: Path | str) -> tuple[Run, dict[str, Run]]:
    """Clean ``status --json`` and clean ``next <PLAN>`` for every plan (one fresh store)."""
    store = fresh_store()
    try:
        status = inproc("status", "--json", "--workspace", str(root), "--store", store)
        nexts = {}
        if status.code == 0:
            for p in json.loads(status.out)["plans"]:
                nexts[p["plan_file"]] = inproc("next", str(Path(root) / p["plan_file"]), "--workspace", str(root),
                                               "--store", store)
        return status, nexts
    finally:
        shutil.rmtree(store, ignore_errors=True)


def assert_no_traceback(*runs: Run) -> None:
    for r in runs:
        for text in (r.out, r.err):
            assert "Traceback" not in text, str(r)
            assert "promptgen: internal error" not in text, str(r)
        assert r.code != 3, f"exit 3 means an internal error:\n{r}"


def plans_by_file(status: Run) -> dict[str, dict]:
    return {p["plan_file"]: p for p in status.json()["plans"]}


def plan_entry(status: Run, feature: str) -> dict:
    hits = [p for p in status.json()["plans"] if p["feature"] == feature]
    assert len(hits) == 1, f"{feature}: {len(hits)} entries\n{status}"
    return hits[0]


# -- file trees -------------------------------------------------------------------
def tree_snapshot(top: Path) -> dict[str, tuple]:
    """Every path under ``top`` (not following symlinks): type, bytes, mode, mtime_ns."""
    snap: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                snap[rel] = ("link", os.readlink(p), st.st_mtime_ns)
            elif os.path.isdir(p):
                snap[rel] = ("dir", st.st_mode, st.st_mtime_ns)
            else:
                with open(p, "rb") as fh:
                    data = fh.read()
                snap[rel] = ("file", data, st.st_mode, st.st_mtime_ns)
    st = os.lstat(top)
    snap["."] = ("dir", st.st_mode, st.st_mtime_ns)
    return snap


def diff_trees(before: dict, after: dict) -> list[str]:
    out = []
    for k in sorted(set(before) | set(after)):
        if k not in after:
            out.append(f"deleted {k}")
        elif k not in before:
            out.append(f"created {k}")
        elif before[k] != after[k]:
            out.append(f"changed {k}")
    return out


# -- permissions as root ------------------------------------------------------------
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _PR_CAPBSET_DROP = 1, 2, 24
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the forked child only calls it


def _drop_dac() -> None:  # runs in the forked child, before exec
    libc = _LIBC
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def permission_preexec():
    """A preexec_fn under which file permissions bind the child, or None if they already do.

    Root ignores permissions through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH. Dropping
    both from the child's bounding set before exec leaves a root child that obeys
    chmod like any user. Raises ``OSError`` when that is impossible here.
    """
    if os.geteuid() != 0:
        return None
    probe_dir = tempfile.mkdtemp(prefix="pg-perm-")
    try:
        probe = Path(probe_dir) / "f"
        probe.write_text("x")
        probe.chmod(0)
        p = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"], preexec_fn=_drop_dac,
                           capture_output=True)
        if p.returncode == 0:
            raise OSError("dropping CAP_DAC_OVERRIDE did not make permissions bind")
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    return _drop_dac


def read_all(paths: Iterable[Path]) -> str:
    return "".join(Path(p).read_text(errors="replace") for p in paths)
