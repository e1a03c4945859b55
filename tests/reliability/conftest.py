"""Fixtures of the reliability tests (helpers live in rellib.py)."""

from __future__ import annotations

import os

import pytest

from rellib import copy_demo, permission_preexec, promptgen_exe


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch):
    # a developer's PROMPTGEN_STORE would send every test to one shared store
    for name in ("PROMPTGEN_STORE", "PROMPTGEN_NO_FASTPATH", "PROMPTGEN_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def exe() -> str:
    return promptgen_exe()


@pytest.fixture
def demo(tmp_path):
    """A private copy of examples/demo (work-space/ only) in tmp_path/ws."""
    return copy_demo(tmp_path / "ws")


@pytest.fixture(scope="session")
def as_user():
    """preexec_fn making file permissions bind the child even as root (None when not root)."""
    try:
        return permission_preexec()
    except OSError as exc:
        pytest.skip(f"running as root (euid {os.geteuid()}) and cannot drop CAP_DAC_OVERRIDE in a child "
                    f"({exc}): root ignores file permissions, so this test cannot make a file unreadable")


def pytest_terminal_summary(terminalreporter):
    """Sum the figures tests record with record_property("rel_…", n) (kill trials, …)."""
    totals: dict[str, float] = {}
    for key in ("passed", "failed", "xfailed", "xpassed"):
        for rep in terminalreporter.stats.get(key, []):
            if getattr(rep, "when", None) != "call":
                continue
            for name, value in getattr(rep, "user_properties", []):
                if isinstance(name, str) and name.startswith("rel_") and isinstance(value, (int, float)):
                    totals[name] = totals.get(name, 0) + value
    if totals:
        terminalreporter.write_line(
            "reliability figures: " + ", ".join(f"{k[4:]}={v:g}" for k, v in sorted(totals.items())))
