"""What the corpus checks share: where the corpus is, and the installed command.

Both skip (rather than fail) without them: a clone has no ../shared, and these
checks are CI's separate corpus step (PROMPTGEN_CORPUS names the corpus).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def corpus() -> Path:
    """The corpus folder (holding expected.json and context-manager/)."""
    env = os.environ.get("PROMPTGEN_CORPUS")
    path = Path(env) if env else REPO.parent / "shared" / "corpus"
    if not (path / "expected.json").is_file():
        pytest.skip(f"no corpus at {path} (set PROMPTGEN_CORPUS)")
    return path


def promptgen_command() -> str:
    """The installed promptgen console script."""
    found = shutil.which("promptgen") or str(Path(sys.executable).parent / "promptgen")
    if not Path(found).exists():
        pytest.skip("the promptgen command is not installed")
    return found
