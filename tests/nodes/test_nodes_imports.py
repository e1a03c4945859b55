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
                       "assert all(r.version for r in promptgen.nodes.rules.RULES.values())\n"
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
