"""`promptgen status --json`, run as a user runs it, on a copy of the real corpus.

This is the conformance check of the issue as stated: the installed command,
not the Python API, must agree with corpus/expected.json for every plan. It
needs ../shared (set PROMPTGEN_CORPUS); CI runs it as its own step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from corpus_lib import corpus, promptgen_command





@pytest.fixture(scope="module")
def run(tmp_path_factory):
    shared = corpus()
    ws = tmp_path_factory.mktemp("corpus") / "context-manager"
    shutil.copytree(shared / "context-manager", ws, copy_function=shutil.copy2)
    exe = promptgen_command()
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PROMPTGEN_STORE", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], cwd=ws, env=env, capture_output=True, text=True, timeout=120)

    return run


def _key(plan: dict) -> tuple:
    cur = plan.get("current") or {}
    return (
        plan.get("plan_state"),
        cur.get("number"),
        cur.get("state"),
        [(a.get("number"), a.get("state")) for a in plan.get("achievements", [])],
        sorted(plan.get("available", [])),
    )


def test_status_json_matches_expected(run) -> None:
    expected = {p["plan_file"]: p for p in json.loads((corpus() / "expected.json").read_text())["plans"]}
    for attempt in ("cold", "warm"):
        proc = run("status", "--json")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        actual = {p["plan_file"]: p for p in json.loads(proc.stdout)["plans"]}
        assert sorted(actual) == sorted(expected), attempt
        wrong = {f: (_key(actual[f]), _key(expected[f])) for f in expected if _key(actual[f]) != _key(expected[f])}
        assert not wrong, f"{attempt}: {json.dumps(wrong, indent=1)[:3000]}"


def test_every_plan_has_a_usable_prompt(run) -> None:
    plans = json.loads(run("status", "--json").stdout)["plans"]
    for plan in plans:
        proc = run("next", plan["plan_file"])
        assert proc.returncode in (0, 1), (plan["plan_file"], proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stdout.strip(), plan["plan_file"]
        assert "[FEATURE]" not in proc.stdout
        if plan["plan_state"] != "no_achievements":
            assert proc.returncode == 0
            # the exact next command: the plan's own next step, or the workspace once it is done
            wanted = "promptgen status" if plan["plan_state"] == "plan_complete" else "promptgen next @"
            assert wanted in proc.stdout, plan["plan_file"]


def test_check_fails_on_the_corpus_handoff_mismatches(run) -> None:
    """The corpus has handoff sections that disagree with its files: `check` says so."""
    proc = run("check", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False
    status = json.loads(run("status", "--json").stdout)
    expected = [(p["plan_file"], w["kind"], w["message"]) for p in status["plans"] for w in p["warnings"]]
    assert [(w["plan_file"], w["kind"], w["message"]) for w in doc["warnings"]] == expected
    assert "handoff_mismatch" in {w["kind"] for w in doc["warnings"]}
    assert all(w["remedy"] and w["fails"] for w in doc["warnings"])
    plain = run("check")
    assert plain.returncode == 1 and plain.stdout.splitlines()[-1].startswith("promptgen check: 23 plans, ")
