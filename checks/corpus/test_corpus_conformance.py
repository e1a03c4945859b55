"""Conformance of promptgen.nodes with the reference answers for the real corpus.

Run explicitly: ``pytest checks/corpus`` (it is outside ``testpaths`` because a
clone of the project does not have the corpus). The corpus is read from
``$PROMPTGEN_CORPUS`` or from ``../shared/corpus`` next to the repository; when
neither exists every test is skipped with the reason.

For every plan of ``expected.json`` it compares ``plan_state``, the current
achievement (number and state), every declared achievement's number and state
in plan order, and the sorted ``available`` list — titles and warnings are not
part of the reference. The workspace is copied to a temporary folder first
(the corpus is read-only). The graph is built clean, in memory, by the engine
(``promptgen.engine.build.build``); ``test_cli_status_json.py`` checks the same
answers through the installed command, cold and warm.

A reference answer we believe is wrong under the rules of docs/USER_GUIDE.md
is listed in ``XFAIL`` below with the reason; checks/corpus/README.md says
what the corpus shows.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]

#: plan_file -> reason, for reference answers found wrong under docs/USER_GUIDE.md (none so far).
XFAIL: dict[str, str] = {}


def _corpus_dir() -> Path | None:
    env = os.environ.get("PROMPTGEN_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "corpus")
    for c in candidates:
        if (c / "expected.json").is_file() and (c / "context-manager" / "work-space").is_dir():
            return c
    return None


CORPUS = _corpus_dir()
SKIP_REASON = ("corpus not found: set PROMPTGEN_CORPUS to a folder holding expected.json and "
               "context-manager/, or place it at ../shared/corpus next to the repository")


def _expected() -> list[dict]:
    if CORPUS is None:
        return []
    return json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))["plans"]


def _build_engine(root: Path) -> dict[str, Any]:
    from promptgen.engine.build import build
    from promptgen.nodes import config, rules

    cfg = config.load_config(root)
    result = build(root, rules.roots(cfg), rules.RULES)
    return {k: result.values[k] for k in result.values}


DRIVERS: dict[str, Callable[[Path], dict[str, Any]]] = {"engine": _build_engine}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CORPUS is None:
        pytest.skip(SKIP_REASON)
    dest = tmp_path_factory.mktemp("corpus") / "context-manager"
    shutil.copytree(CORPUS / "context-manager", dest, symlinks=True)
    return dest


_reports_cache: dict[str, dict[str, dict]] = {}


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def reports(request: pytest.FixtureRequest, workspace: Path) -> dict[str, dict]:
    from promptgen.nodes.reports import plan_reports

    name = request.param
    if name not in _reports_cache:
        values = DRIVERS[name](workspace)
        _reports_cache[name] = {r["plan_file"]: r for r in plan_reports(values)}
    return _reports_cache[name]


def _key(plan: dict) -> dict:
    return {
        "plan_state": plan["plan_state"],
        "current": plan["current"],
        "available": sorted(plan["available"]),
        "achievements": [[a["number"], a["state"]] for a in plan["achievements"]],
    }


def _params() -> list:
    out = []
    for p in _expected():
        marks = [pytest.mark.xfail(reason=XFAIL[p["plan_file"]], strict=True)] if p["plan_file"] in XFAIL else []
        out.append(pytest.param(p, id=p["plan_file"].split("/")[-1], marks=marks))
    return out or [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=SKIP_REASON))]


@pytest.mark.parametrize("expected", _params())
def test_plan_matches_reference(reports: dict[str, dict], expected: dict) -> None:
    got = reports.get(expected["plan_file"])
    assert got is not None, f"{expected['plan_file']} was not discovered"
    assert _key(got) == _key(expected)


def test_no_unexpected_plans(reports: dict[str, dict]) -> None:
    """Discovery finds exactly the reference plans (default plan root only)."""
    assert sorted(reports) == sorted(p["plan_file"] for p in _expected())


def test_every_fix_file_parses_to_issues(workspace: Path) -> None:
    from promptgen.nodes.fix_parser import parse_fix

    fixes = [p for p in workspace.rglob("FIX_*.md") if not p.name.endswith("_RESOLUTION.md")]
    assert fixes, "the corpus holds FIX files"
    for p in fixes:
        assert parse_fix(p.read_text(encoding="utf-8")), f"{p} yields no issue"
