"""``promptgen check``: the workspace lint for CI and pre-commit, its hook, its portable store."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from cli_testlib import DEMO_DIR, DEMO_PLAN, REPO, age, copy_demo, write


def _with_warnings(ws: Path) -> Path:
    """The demo plus an orphan approval and a handoff hint ahead of the files."""
    write(ws / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_77.md", "ok\n")
    plan = ws / DEMO_PLAN
    plan.write_text(plan.read_text(encoding="utf-8").replace("**Next**: Achievement 0.3", "**Next**: Achievement 2.1"),
                    encoding="utf-8")
    age(ws)
    return ws


def test_the_demo_passes(demo: Path, pg) -> None:
    r = pg("check", cwd=demo)
    assert r.code == 0, str(r)
    assert r.out == "promptgen check: 4 plans, no warnings\n"
    doc = pg("check", "--json", cwd=demo).json()
    assert doc["ok"] is True and doc["warnings"] == [] and doc["plans"] == 4


def test_each_warning_is_printed_with_its_file_and_remedy(demo: Path, pg) -> None:
    ws = _with_warnings(demo)
    r = pg("check", cwd=ws)
    assert r.code == 1, str(r)
    lines = r.out.splitlines()
    orphan = f"{DEMO_DIR}/execution/feedbacks/APPROVED_77.md: orphan_feedback: APPROVED_77.md: token 77"
    assert any(line.startswith(orphan) for line in lines), r.out
    assert any(line.startswith(f"{DEMO_PLAN}: handoff_mismatch: ") for line in lines), r.out
    assert sum(1 for line in lines if line.startswith("  @DEMO-FEATURE — fix: ")) == 2
    assert lines[-1] == "promptgen check: 4 plans, 2 warnings, 2 failing (--fail-on all)"


def test_json_names_what_fails(demo: Path, pg) -> None:
    ws = _with_warnings(demo)
    r = pg("check", "--json", "--fail-on", "orphan_feedback", cwd=ws)
    assert r.code == 1, str(r)
    doc = r.json()
    assert doc["ok"] is False and doc["fail_on"] == ["orphan_feedback"]
    fails = {w["kind"]: w["fails"] for w in doc["warnings"]}
    assert fails == {"orphan_feedback": True, "handoff_mismatch": False}
    assert all(set(w) == {"plan_file", "feature", "kind", "message", "path", "remedy", "fails"}
               for w in doc["warnings"])


def test_fail_on_chooses_the_kinds(demo: Path, pg) -> None:
    ws = _with_warnings(demo)
    assert pg("check", "--fail-on", "parallel_invalid,unreadable_file", cwd=ws).code == 0
    assert pg("check", "--fail-on", "none", cwd=ws).code == 0
    assert pg("check", "--fail-on", "parallel_invalid", "--fail-on", "handoff_mismatch", cwd=ws).code == 1
    shown = pg("check", "--fail-on", "none", cwd=ws)
    assert "(not failing)" in shown.out and shown.out.endswith("2 warnings, none of a failing kind\n")


def test_usage_errors_exit_2(demo: Path, pg, tmp_path: Path) -> None:
    r = pg("check", "--fail-on", "orphans", cwd=demo)
    assert r.code == 2 and "unknown warning kind orphans" in r.err and "handoff_mismatch" in r.err
    r = pg("check", cwd=tmp_path)
    assert r.code == 2 and "no workspace found" in r.err


def _hooks() -> list[dict[str, str]]:
    """The hooks of .pre-commit-hooks.yaml (a flat list of maps: read without a YAML library)."""
    hooks: list[dict[str, str]] = []
    for line in (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("- "):
            hooks.append({})
            line = line[2:]
        key, _, value = line.strip().partition(":")
        hooks[-1][key] = value.strip()
    return hooks


def test_the_pre_commit_hook_runs_check(demo: Path, pg) -> None:
    (hook,) = _hooks()
    assert hook["id"] == "promptgen-check" and hook["pass_filenames"] == "false"
    exe, *args = shlex.split(hook["entry"])
    assert exe == "promptgen"
    assert pg(*args, cwd=demo).code == 0
    assert pg(*args, cwd=_with_warnings(demo)).code == 1


def test_a_restored_store_recomputes_no_node(demo: Path, pg, tmp_path: Path) -> None:
    """What a CI cache gives: a fresh checkout elsewhere (new paths, new stamps)
    with the .promptgen/ of an earlier run restored into it."""
    assert pg("build", cwd=demo).code == 0
    checkout = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(demo, checkout, copy_function=shutil.copyfile)  # new mtimes, ctimes and inodes
    age(checkout)
    r = pg("build", "--json", cwd=checkout)
    assert r.code == 0, str(r)
    doc = r.json()
    assert doc["recomputed"] == 0 and doc["recomputed_nodes"] == [], doc
    assert doc["counters"]["files_hashed"] > 0  # the sources were read again, and found the same
    assert pg("check", cwd=checkout).code == 0
