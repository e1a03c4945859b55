"""The declared shapes hold: mypy over the installed package finds no error.

Node values are plain JSON at run time; their shapes are TypedDicts
(``nodes/values.py``) that the domain, the library and the command line are
annotated with. This test is what makes those declarations a contract rather
than a comment: a key read that a shape does not declare, or a value built
without one, fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_error_in_the_package(tmp_path: Path) -> None:
    # run from an empty folder: a checkout's own promptgen/ must not stand in for the installed package
    res = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                          "--cache-dir", str(tmp_path / "cache"), "-p", "promptgen"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
