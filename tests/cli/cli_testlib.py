"""Helpers for the end-to-end tests of the ``promptgen`` command line.

The tests run the installed console script as a subprocess, the way a user (or
an agent, or CI) does: what is checked is what a user sees — stdout, stderr,
exit codes, files on disk. Workspaces are copies of ``examples/demo`` (or tiny
ones written here) under ``tmp_path``; nothing is built inside the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"

DEMO_PLAN = "work-space/plans/DEMO-FEATURE/PLAN_DEMO-FEATURE.md"
SHIPPED_PLAN = "work-space/plans/SHIPPED-FEATURE/PLAN_SHIPPED-FEATURE.md"
BLOCKED_PLAN = "work-space/plans/BLOCKED-FEATURE/PLAN_BLOCKED-FEATURE.md"
DRAFT_PLAN = "work-space/plans/DRAFT-IDEA/PLAN_DRAFT-IDEA.md"
DEMO_DIR = "work-space/plans/DEMO-FEATURE"

#: The demo's DEMO-FEATURE: one achievement in each of the ten states (README).
DEMO_STATES = {
    "0.1": "approved",
    "0.2": "skipped",
    "0.3": "fix_resolved",
    "1.1": "needs_fix",
    "1.2": "no_subplan",
    "1.3": "awaiting_review",
    "2.1": "no_execution",
    "2.2": "active_execution",
    "2.3": "next_execution",
    "2.4": "all_executed",
}

#: Environment variables that change promptgen's behaviour; a test sets them explicitly.
_SCRUB = ("NO_COLOR", "FORCE_COLOR", "PYTHONPROFILEIMPORTTIME", "PYTHONWARNINGS", "COLUMNS")

ANSI = re.compile(r"\x1b[\[\]()]")


@dataclass
class Result:
    args: Sequence[str]
    code: int
    out: str
    err: str
    seconds: float

    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except ValueError as exc:  # pragma: no cover - shown on failure only
            raise AssertionError(f"stdout of {self.describe()} is not JSON: {exc}\n{self.out[:2000]}") from None

    def describe(self) -> str:
        return "promptgen " + " ".join(self.args)

    def __str__(self) -> str:  # shown by pytest when an assertion about a Result fails
        return (f"{self.describe()} -> exit {self.code}\n--- stdout ---\n{self.out[:3000]}"
                f"\n--- stderr ---\n{self.err[:3000]}")


def base_env(extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTGEN_") and k not in _SCRUB}
    env.update(extra or {})
    return env


def run(exe: str, args: Sequence[str], cwd: Path, env: Optional[Mapping[str, str]] = None,
        timeout: float = 60) -> Result:
    t0 = time.perf_counter()
    p = subprocess.run([exe, *args], cwd=str(cwd), env=base_env(env), capture_output=True,
                       timeout=timeout)
    r = Result(list(args), p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8"),
               time.perf_counter() - t0)
    # whatever the command, a user never sees a traceback
    assert "Traceback" not in r.err, str(r)
    assert "Traceback" not in r.out, str(r)
    return r


def age(root: Path, seconds: float = 30.0) -> None:
    """Make everything under ``work-space/`` older than the racy window.

    The engine trusts a stat stamp only when its mtime *and* ctime are safely
    (50 ms) older than the build that recorded it. ``os.utime`` sets the mtime
    into the past but the ctime to now, so wait out the window as well.
    """
    t = time.time() - seconds
    ws = root / "work-space"
    for p in [ws, *ws.rglob("*")]:
        os.utime(p, (t, t), follow_symlinks=False)
    time.sleep(0.12)


def copy_demo(dest: Path) -> Path:
    """A fresh copy of examples/demo (without any store someone built there), aged."""
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns(".promptgen", "__pycache__"))
    age(dest)
    return dest


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tiny_plan(feature: str, numbers: Sequence[str] = ("0.1",)) -> str:
    """A PLAN with an Achievement Index declaring ``numbers``."""
    index = "\n".join(f"- Achievement {n}: Step {n}" for n in numbers)
    sections = "\n\n".join(f"### Achievement {n}: Step {n}\n\n**Goal**: step {n} of {feature}." for n in numbers)
    return (f"# PLAN: {feature}\n\n**Status**: In Progress\n\n## 📋 Achievement Index\n\n{index}\n\n"
            f"## Achievements\n\n{sections}\n")


def make_workspace(root: Path, plans: Mapping[str, Sequence[str]]) -> Path:
    """A workspace whose plans are ``{"<folder>/…/PLAN_<FEATURE>.md": numbers}`` under work-space/plans/."""
    for rel, numbers in plans.items():
        feature = Path(rel).stem.removeprefix("PLAN_")
        write(root / "work-space" / "plans" / rel, tiny_plan(feature, numbers))
    age(root)
    return root


def set_status(path: Path, status: str) -> None:
    """Rewrite the ``**Status**:`` line of a SUBPLAN / EXECUTION_TASK header in place,
    then wait out the racy window (as any edit a person makes has): a build within
    50 ms of the write would distrust the new stamp and the build after it would
    re-hash the file, which tests counting builds must not depend on."""
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(r"^\*\*Status\*\*:.*$", f"**Status**: {status}", text, count=1, flags=re.M)
    assert n == 1, f"no **Status** line in {path}"
    path.write_text(new, encoding="utf-8")
    time.sleep(0.12)


def tree_snapshot(top: Path) -> dict[str, tuple]:
    """Every entry under ``top``: type, mode, mtime_ns, size and content hash."""
    snap: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                snap[rel] = ("f", st.st_mode, st.st_mtime_ns, st.st_size, digest)
            else:
                snap[rel] = ("d" if os.path.isdir(p) else "l", st.st_mode, st.st_mtime_ns)
    return snap


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def imported_modules(stderr: str) -> list[str]:
    """Module names from ``PYTHONPROFILEIMPORTTIME=1`` output (``import time: … | name``)."""
    mods = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                mods.append(name)
    return mods
