"""Rule versions follow the code each rule runs (``nodes/rules/versions.py``).

The property the engine relies on: after an upgrade that changes a module a
rule's code imports — directly or through others, at module level or inside a
function — that rule's version changes, so its nodes are recomputed; a rule
that does not import the module keeps its version. Checked on a copy of the
installed package, edited here, with no list of modules written in the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import promptgen
from nodes_testlib import WS
from promptgen.nodes import rules
from promptgen.nodes.rules import versions

INSTALLED = Path(promptgen.__path__[0])


def _module_of(kind: str) -> str:
    return f"{rules.__name__}.{rules.RULES[kind].compute.module}"


@pytest.fixture()
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Versions derived from a copy of the installed package, which a test may edit."""
    copy = tmp_path / "promptgen"
    shutil.copytree(INSTALLED, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def derive() -> dict[str, str]:
        _forget()
        return {kind: versions.version(_module_of(kind)) for kind in rules.RULES}

    monkeypatch.setattr(versions, "_TOP", str(copy))
    yield copy, derive
    monkeypatch.undo()
    _forget()


def _forget() -> None:
    """What a new process knows: nothing read yet."""
    for cache in (versions._files, versions._sources, versions._deps, versions._versions, versions._listings):
        cache.clear()


def _path(copy: Path, module: str) -> Path:
    base = copy.joinpath(*module.split(".")[1:])
    return base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"


def test_changing_any_module_a_rule_imports_changes_its_version(package_copy) -> None:
    copy, derive = package_copy
    closures = {kind: versions.closure(_module_of(kind)) for kind in rules.RULES}
    modules = sorted({m for c in closures.values() for m in c})
    assert len(modules) > 15  # the rules' code spans the domain and part of the engine
    before = derive()
    for module in modules:
        with open(_path(copy, module), "a", encoding="utf-8") as f:
            f.write(f"\n# edited: {module}\n")
        after = derive()
        changed = {kind for kind in rules.RULES if after[kind] != before[kind]}
        assert changed == {kind for kind in rules.RULES if module in closures[kind]}, module
        before = after


def test_what_a_rule_imports_is_read_from_its_code() -> None:
    prompt = versions.closure(_module_of("prompt"))
    # the prompt renderer and what it imports, inside functions too (states: the template names)
    assert {"promptgen.nodes.prompts", "promptgen.nodes.states", "promptgen.nodes.lazyre"} <= set(prompt)
    feedback = versions.closure(_module_of("feedback"))
    assert "promptgen.nodes.fix_parser" in feedback  # imported only when a FIX file has text
    plan = versions.closure(_module_of("plan"))
    assert "promptgen.nodes.plan_parser" in plan and "promptgen.nodes.fix_parser" not in plan
    assert "promptgen.nodes.state_machine" in versions.closure(_module_of("state"))
    # packages' own docstrings are not rules: the library's top level is in no closure
    assert all("promptgen" not in versions.closure(_module_of(k)) for k in rules.RULES)


def test_a_new_import_joins_the_version(package_copy) -> None:
    copy, derive = package_copy
    before = derive()
    plan_rule = _path(copy, _module_of("plan"))
    plan_rule.write_text(plan_rule.read_text(encoding="utf-8") + "\nfrom ..fix_parser import parse_fix\n",
                         encoding="utf-8")
    after = derive()
    assert after["plan"] != before["plan"]
    assert "promptgen.nodes.fix_parser" in versions.closure(_module_of("plan"))
    # and from then on an edit of that module changes the plan rule's version too
    fix = _path(copy, "promptgen.nodes.fix_parser")
    fix.write_text(fix.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert derive()["plan"] != after["plan"]


def test_the_template_rule_follows_the_builtin_templates(package_copy) -> None:
    copy, derive = package_copy
    modules = [_module_of(k) for k in rules.RULES]
    template = _module_of("template")
    data = {template: str(copy / "nodes" / "templates")}
    _forget()
    before = versions.versions(modules, data)
    (copy / "nodes" / "templates" / "plan_complete.md").write_text("Done.\n", encoding="utf-8")
    _forget()
    after = versions.versions(modules, data)
    assert [m for m in modules if after[m] != before[m]] == [template]
    assert derive()["template"] == after[template].rsplit("-", 1)[0]  # code, then the texts


def _settle(copy: Path) -> None:
    """Wait until the copy's files are older than the racy window (as an
    installation's are by its first build)."""
    from promptgen.engine.stamp import is_racy, stat_stamp

    deadline = time.time() + 5
    while any(is_racy(stat_stamp(str(p)), time.time_ns()) for p in copy.rglob("*")) and time.time() < deadline:
        time.sleep(0.05)


def test_versions_are_kept_while_no_file_they_were_read_from_moves(package_copy) -> None:
    copy, derive = package_copy
    modules = [_module_of(k) for k in rules.RULES]
    expected = derive()
    cache = copy / "nodes" / "rules" / "__pycache__" / versions._CACHE_NAME
    versions.versions(modules)
    assert not cache.exists()  # the copy's files were just written: their stamps prove nothing yet
    _settle(copy)
    first = versions.versions(modules)
    assert cache.exists()
    assert {k: first[_module_of(k)] for k in rules.RULES} == expected
    _forget()
    assert versions.versions(modules) == first and not versions._sources  # answered from the cache
    state_machine = _path(copy, "promptgen.nodes.state_machine")
    state_machine.write_text(state_machine.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    _forget()
    again = versions.versions(modules)
    changed = {m for m in modules if again[m] != first[m]}
    assert changed == {_module_of("state")}


def test_without_source_files_every_file_of_the_domain_counts(package_copy) -> None:
    """An installation without .py files (bytecode only) still gets versions that change with it."""
    copy, derive = package_copy
    (copy / "nodes" / "plan_parser.py").unlink()
    before = derive()
    assert before["plan"].startswith("1-")
    (copy / "nodes" / "layout.py").write_text("# another layout\n", encoding="utf-8")
    assert derive()["plan"] != before["plan"]


UPGRADE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from promptgen.cli.main import main
sys.exit(main(["build", "--json", "--workspace", sys.argv[2]]))
"""


def _build_with(copy: Path, ws: Path) -> dict:
    env = {**os.environ, "PROMPTGEN_NO_FASTPATH": "1"}
    res = subprocess.run([sys.executable, "-c", UPGRADE, str(copy.parent), str(ws)], capture_output=True,
                         text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize("module", ["promptgen.nodes.states", "promptgen.nodes.lazyre", "promptgen.nodes.prompts"])
def test_an_upgrade_of_what_the_prompt_imports_rerenders_the_prompts(package_copy, tmp_path: Path,
                                                                     module: str) -> None:
    """The same workspace built by one installation, then by an upgraded one
    whose only change is a comment in a module the prompt rule imports: the
    prompts are rendered again, and so is every kind whose code imports the
    module — nothing else (the values are unchanged, so the rest is cut off)."""
    copy, _derive = package_copy
    ws = WS(tmp_path / "ws")
    ws.plan(["0.1", "0.2"])
    ws.subplan("01", "✅ Complete")
    ws.task("01", 1)
    first = _build_with(copy, tmp_path / "ws")
    assert first["mode"] == "full"
    present = {k.split(":", 1)[0] for k in first["recomputed_nodes"]}
    assert _build_with(copy, tmp_path / "ws")["recomputed"] == 0
    assert module in versions.closure(_module_of("prompt"))
    with open(_path(copy, module), "a", encoding="utf-8") as f:
        f.write("\n# upgraded\n")
    after = _build_with(copy, tmp_path / "ws")
    ran = {k.split(":", 1)[0] for k in after["recomputed_nodes"]}
    assert "prompt" in ran
    assert ran == {k for k in present if module in versions.closure(_module_of(k))}
    assert set(after["cut_off_nodes"]) == set(after["recomputed_nodes"])  # a comment changes no value
