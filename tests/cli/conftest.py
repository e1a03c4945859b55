"""Fixtures of the end-to-end CLI tests: the installed ``promptgen`` and fresh workspaces."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from cli_testlib import Result, copy_demo, run  # noqa: E402


@pytest.fixture(scope="session")
def promptgen_exe() -> str:
    """The installed console script (what users run), not ``python -m``."""
    found = shutil.which("promptgen")
    exe = Path(found) if found else Path(sys.executable).parent / "promptgen"
    if not exe.exists():
        pytest.fail(f"the promptgen console script is not installed (looked on PATH and in {exe.parent}); "
                    "pip install -e '.[test]'")
    return str(exe)


PG = Callable[..., Result]


@pytest.fixture
def pg(promptgen_exe: str, tmp_path: Path) -> PG:
    """``pg(*args, cwd=…, env=…)`` runs promptgen and returns a :class:`Result`."""

    def call(*args: str, cwd: Optional[Path] = None, env: Optional[Mapping[str, str]] = None,
             timeout: float = 60) -> Result:
        return run(promptgen_exe, list(args), cwd or tmp_path, env, timeout)

    return call


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A fresh copy of examples/demo, no store yet, files older than the racy window."""
    return copy_demo(tmp_path / "ws")


@pytest.fixture
def warm(demo: Path, pg: PG) -> Path:
    """The demo copy after one full build (its store and fast-path snapshot exist)."""
    r = pg("build", cwd=demo)
    assert r.code == 0, str(r)
    return demo


@pytest.fixture(scope="module")
def ro_warm(tmp_path_factory, promptgen_exe) -> Path:
    """A built demo copy shared by a module's tests that never edit its files (they may use its store)."""
    ws = copy_demo(tmp_path_factory.mktemp("ro") / "ws")
    r = run(promptgen_exe, ["build"], ws)
    assert r.code == 0, str(r)
    return ws
