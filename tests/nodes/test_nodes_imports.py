"""What importing the domain costs: every build imports nodes.reports and nodes.rules.

An incremental build after a one-file edit must not pay for modules it does not
use: typing, dataclasses and pathlib (types are for checkers only, paths are
os.path strings), nor the parsers and the state machine, which the rules import
when they first compute. Checked in a fresh interpreter, so that what the test
session already imported does not hide a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodes_testlib import WS
from promptgen.nodes import prompts
from promptgen.nodes import rules as graph

#: Never imported by ``import promptgen.nodes.reports, promptgen.nodes.rules``.
NOT_ON_IMPORT = (
    "typing", "dataclasses", "pathlib", "inspect", "json", "string", "shlex", "tomllib",
    "promptgen.nodes.plan_parser", "promptgen.nodes.subplan_parser", "promptgen.nodes.fix_parser",
    "promptgen.nodes.parallel", "promptgen.nodes.state_machine", "promptgen.nodes.header",
    "promptgen.nodes.textutil",
)

# What the engine modules that nodes imports bring with them is the engine's
# business (tests/engine): they are imported first, and only what importing
# the domain adds on top is checked. The standard modules above are then
# dropped from sys.modules (the interpreter's start-up or the engine may have
# imported them), so that importing one again shows.
_NEW_MODULES = """
import json, sys
import promptgen.engine.spec, promptgen.engine.fingerprint
for name in {stdlib!r}:
    sys.modules.pop(name, None)
before = set(sys.modules)
{body}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _imported_by(body: str) -> list[str]:
    stdlib = [m for m in NOT_ON_IMPORT if not m.startswith("promptgen.")]
    res = subprocess.run([sys.executable, "-c", _NEW_MODULES.format(stdlib=stdlib, body=body)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_importing_the_domain_imports_no_parser_and_no_typing() -> None:
    new = _imported_by("import promptgen.nodes.reports, promptgen.nodes.rules, promptgen.nodes.config\n"
                       "assert promptgen.nodes.rules.rules_digest()\n"
                       "promptgen.nodes.rules.roots(promptgen.nodes.config.WorkspaceConfig('.'))")
    assert "promptgen.nodes.rules" in new  # the check itself works
    assert [m for m in NOT_ON_IMPORT if m in new] == []


def test_a_build_imports_only_the_parsers_its_rules_use(tmp_path: Path) -> None:
    """No FIX file: the FIX parser is not imported."""
    ws = WS(tmp_path)
    ws.plan(["0.1", "0.2"])
    ws.subplan("01", "✅ Complete")
    ws.approved("01")
    here = os.path.dirname(os.path.abspath(__file__))
    new = _imported_by(
        f"sys.path.insert(0, {here!r})\n"
        "from nodes_testlib import reports\n"
        f"assert [r['current']['number'] for r in reports({str(tmp_path)!r})] == ['0.2']\n"
    )
    assert "promptgen.nodes.plan_parser" in new and "promptgen.nodes.state_machine" in new
    assert "promptgen.nodes.fix_parser" not in new


@pytest.fixture()
def sources_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Rule versions hashed from a copy of this package's sources, which a test may edit."""
    here = os.path.dirname(os.path.abspath(graph.__file__))
    for name in os.listdir(here):
        if name.endswith(".py"):
            (tmp_path / name).write_bytes(Path(here, name).read_bytes())
    monkeypatch.setattr(graph, "_HERE", str(tmp_path))
    graph._source_hash.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    graph._source_hash.cache_clear()


def test_rule_versions_follow_the_source_files(sources_in: Path) -> None:
    modules = {"walk": ("rules", "layout"), "scan": ("rules", "layout", "parallel"),
               "plan": graph._COMMON + ("plan_parser",), "feedback": graph._COMMON + ("fix_parser",),
               "state": graph._COMMON + ("parallel", "states", "state_machine"),
               "route": ("rules", "states", "state_machine")}
    for kind, names in modules.items():
        assert graph.RULES[kind].version == graph._v(*names), kind  # same files, same versions
    before = {kind: graph._v(*names) for kind, names in modules.items()}
    with open(sources_in / "fix_parser.py", "a", encoding="utf-8") as f:
        f.write("\n# an edit\n")
    graph._source_hash.cache_clear()
    after = {kind: graph._v(*names) for kind, names in modules.items()}
    assert [k for k in modules if before[k] != after[k]] == ["feedback"]
    with open(sources_in / "states.py", "a", encoding="utf-8") as f:
        f.write("\n# an edit\n")
    graph._source_hash.cache_clear()
    again = {kind: graph._v(*names) for kind, names in modules.items()}
    assert sorted(k for k in modules if again[k] != after[k]) == ["route", "state"]


def test_template_version_carries_the_builtin_digest() -> None:
    version = graph.RULES["template"].version
    assert version == graph._v("prompts") + "-" + prompts.builtin_digest()


def test_versions_without_source_files_hash_what_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installation without .py files next to graph.py still gets versions (from the loaded files)."""
    expected = graph._v("plan_parser", "states")
    monkeypatch.setattr(graph, "_HERE", str(tmp_path))  # an empty folder: no sources there
    graph._source_hash.cache_clear()
    try:
        assert graph._v("plan_parser", "states") == expected  # here the loaded files are the sources
    finally:
        monkeypatch.undo()
        graph._source_hash.cache_clear()
