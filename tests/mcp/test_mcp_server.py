"""``promptgen mcp`` end to end: the real server on stdio, driven by the SDK's own client.

What an agent sees: the tools and their schemas, the status document, a plan's
next prompt that moves on when a feedback file is created, tool errors for bad
input (after which the server keeps serving), and a command-line build run
against the same store while the server is serving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from conftest import SERVED, mcp_server

pytestmark = pytest.mark.anyio

FEEDBACKS = "work-space/plans/DEMO-FEATURE/execution/feedbacks"
DEMO_PLAN = "work-space/plans/DEMO-FEATURE/PLAN_DEMO-FEATURE.md"
TOOLS = {"status", "next_prompt", "explain_build", "warnings"}


def cli(exe: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTGEN_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


async def test_lists_its_tools_with_descriptions_and_schemas(promptgen_exe, demo, tmp_path):
    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        tools = {t.name: t for t in (await server.session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description or "") > 80, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
        assert tool.annotations and tool.annotations.read_only_hint
    nxt = tools["next_prompt"].input_schema
    assert nxt["required"] == ["plan"]
    assert nxt["properties"]["plan"]["type"] == "string" and "@" in nxt["properties"]["plan"]["description"]
    assert {"type": "string"} in nxt["properties"]["achievement"]["anyOf"]
    assert set(tools["next_prompt"].output_schema["required"]) >= {"prompt", "plan_state", "current", "warnings"}
    build = tools["explain_build"].input_schema["properties"]["build"]
    assert {"type": "integer", "minimum": 1} in build["anyOf"] and build["default"] is None
    assert tools["status"].input_schema.get("required", []) == []


async def test_status_is_the_status_json_document(promptgen_exe, demo, tmp_path):
    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        result = await server.call("status")
        again = await server.call("status")
    assert not result.is_error, result.content
    expected = json.loads(cli(promptgen_exe, "status", "--json", cwd=demo).stdout)
    assert result.structured_content == expected
    assert json.loads(result.content[0].text) == expected
    # the second question found no change: answered from memory, no build
    assert again.meta[SERVED]["answered"] == "memory"
    assert again.structured_content == expected


async def test_next_prompt_moves_on_when_a_feedback_file_is_created(promptgen_exe, demo, tmp_path):
    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        first = await server.call("next_prompt", plan="@DEMO-FEATURE")
        assert not first.is_error, first.content
        assert first.content[0].text.startswith("# DEMO-FEATURE — Achievement 0.3")
        data = first.structured_content
        assert (data["plan_file"], data["plan_state"], data["current"]) == (
            DEMO_PLAN, "in_progress", {"number": "0.3", "state": "fix_resolved"})
        assert data["prompt"] == first.content[0].text and data["warnings"] == []
        assert data["prompt"] == cli(promptgen_exe, "next", "@DEMO-FEATURE", cwd=demo).stdout

        # the reviewer approves 0.3; the agent asks again at once (no pause: the racy window)
        (demo / FEEDBACKS / "APPROVED_03.md").write_text("# Approved\n\nGood.\n", encoding="utf-8")
        second = await server.call("next_prompt", plan="@DEMO-FEATURE")
        assert "\n# DEMO-FEATURE — Achievement 1.1" in second.content[0].text
        assert second.structured_content["current"]["state"] == "needs_fix"
        assert second.structured_content["warnings"][0].startswith("warning (handoff_mismatch)")
        assert second.content[1].text.endswith(second.structured_content["warnings"][0])

        # and again, with a file edited: 1.1's fixes are answered
        (demo / FEEDBACKS / "FIX_11_RESOLUTION.md").write_text("# Resolution\n\nDone.\n", encoding="utf-8")
        third = await server.call("next_prompt", plan="@demo")
        assert third.structured_content["current"]["state"] == "fix_resolved"
        assert third.structured_content["prompt"] == cli(promptgen_exe, "next", "@DEMO-FEATURE", cwd=demo).stdout
        unchanged = await server.call("next_prompt", plan=DEMO_PLAN)
        assert unchanged.meta[SERVED]["answered"] == "memory"
        assert unchanged.structured_content == third.structured_content

        other = await server.call("next_prompt", plan="@DEMO-FEATURE", achievement="2.2")
        assert "Achievement 2.2" in other.content[0].text
        assert other.structured_content["achievement"] == "2.2"
    assert "file-change events" in server.stderr()


async def test_bad_input_is_a_tool_error_and_the_server_keeps_serving(promptgen_exe, demo, tmp_path):
    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        unknown = await server.call("next_prompt", plan="@NO-SUCH-PLAN")
        ambiguous = await server.call("next_prompt", plan="@feature")
        undeclared = await server.call("next_prompt", plan="@DEMO-FEATURE", achievement="9.9")
        malformed = await server.call("next_prompt", plan="@DEMO-FEATURE", achievement="first")
        outside = await server.call("next_prompt", plan="/etc/passwd")
        missing_argument = await server.session.call_tool("next_prompt", {})
        wrong_type = await server.call("explain_build", build=0)
        after = await server.call("next_prompt", plan="@SHIPPED")
    for result in (unknown, ambiguous, undeclared, malformed, outside, missing_argument, wrong_type):
        assert result.is_error, result
    text = unknown.content[0].text
    assert "no plan matches @NO-SUCH-PLAN" in text and "@DEMO-FEATURE  (work-space/plans/DEMO-FEATURE" in text
    text = ambiguous.content[0].text
    assert "@feature is ambiguous" in text and "@BLOCKED-FEATURE" in text and "@SHIPPED-FEATURE" in text
    text = undeclared.content[0].text
    assert "Achievement 9.9 is not declared" in text and "\n  2.4" in text
    assert "achievement number such as 1.2" in malformed.content[0].text
    assert "outside the workspace" in outside.content[0].text
    assert "plan" in missing_argument.content[0].text
    assert not after.is_error and after.structured_content["plan_state"] == "plan_complete"


async def test_no_workspace_is_a_tool_error_until_there_is_one(promptgen_exe, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    async with mcp_server(promptgen_exe, "--workspace", str(empty), cwd=tmp_path) as server:
        first = await server.call("status")
        assert first.is_error and "is not a workspace: it has no work-space/ folder" in first.content[0].text
        assert {t.name for t in (await server.session.list_tools()).tools} == TOOLS
        (empty / "work-space" / "plans" / "ONE").mkdir(parents=True)
        (empty / "work-space" / "plans" / "ONE" / "PLAN_ONE.md").write_text(
            "# PLAN: ONE\n\n## 📋 Achievement Index\n\n- Achievement 0.1: Start\n", encoding="utf-8")
        later = await server.call("next_prompt", plan="@ONE")
    assert not later.is_error, later.content
    assert later.content[0].text.startswith("# ONE — Achievement 0.1")
    assert "every tool will say so" in server.stderr()


async def test_a_cli_build_and_the_server_share_the_store(promptgen_exe, demo, tmp_path):
    """The build lock serializes them: the server's call waits while another
    process holds it, and a CLI build between two calls leaves both right."""
    from promptgen.engine.lock import BuildLock

    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        await server.call("next_prompt", plan="@DEMO-FEATURE")
        lock = BuildLock(str(demo / ".promptgen"))
        lock.acquire()
        (demo / FEEDBACKS / "APPROVED_03.md").write_text("# Approved\n", encoding="utf-8")
        answer: dict = {}

        async def ask() -> None:
            answer["result"] = await server.call("next_prompt", plan="@DEMO-FEATURE")
            answer["at"] = time.monotonic()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await anyio.sleep(0.5)
            assert "result" not in answer  # waiting for the lock this test holds
            released = time.monotonic()
            lock.release()
        assert answer["at"] >= released
        assert answer["result"].structured_content["current"]["state"] == "needs_fix"

        # a CLI build and next while the server is serving, on the same store
        (demo / FEEDBACKS / "FIX_11_RESOLUTION.md").write_text("# Resolution\n", encoding="utf-8")
        async with anyio.create_task_group() as tg:
            cli_answers: list = []

            def run_cli() -> None:
                cli_answers.append(cli(promptgen_exe, "build", cwd=demo))
                cli_answers.append(cli(promptgen_exe, "next", "@DEMO-FEATURE", cwd=demo))

            tg.start_soon(anyio.to_thread.run_sync, run_cli)
            served = [await server.call("next_prompt", plan="@DEMO-FEATURE") for _ in range(3)]
        built, printed = cli_answers
        assert built.returncode == 0 and "Traceback" not in built.stderr, built.stderr
        assert printed.returncode == 0, printed.stderr
        for result in served:
            assert result.structured_content["current"]["state"] == "fix_resolved"
            assert result.structured_content["prompt"] == printed.stdout
        after = await server.call("status")
    assert after.structured_content == json.loads(cli(promptgen_exe, "status", "--json", cwd=demo).stdout)


async def test_warnings_and_explain_build(promptgen_exe, demo, tmp_path):
    from promptgen import Workspace

    async with mcp_server(promptgen_exe, "--workspace", str(demo), cwd=tmp_path) as server:
        none = await server.call("warnings")
        assert none.structured_content == {"warnings": []} and none.content[0].text == "no warnings"
        # a fix request for an achievement the plan does not declare
        (demo / FEEDBACKS / "FIX_77.md").write_text("# Fix\n\n- one\n", encoding="utf-8")
        found = await server.call("warnings")
        explained = await server.call("explain_build", node="DEMO-FEATURE")
        everything = await server.call("explain_build", include_reused=True)
        too_far = await server.call("explain_build", build=99)
    rows = found.structured_content["warnings"]
    assert rows and rows == Workspace.locate(str(demo)).warnings()
    assert "@DEMO-FEATURE: warning (" in found.content[0].text
    data = explained.structured_content
    assert data["build"]["mode"] == "incremental"
    ran = {d["node"]: d for d in data["decisions"]}
    listing = f"dir:{FEEDBACKS}"
    assert listing in ran and ran[listing]["why"].startswith(f"input {FEEDBACKS} changed")
    assert all("DEMO-FEATURE" in d["node"] for d in data["decisions"])
    assert "ran      dir:work-space/plans/DEMO-FEATURE/execution/feedbacks" in explained.content[0].text
    statuses = {d["status"] for d in everything.structured_content["decisions"]}
    assert "reused" in statuses and everything.structured_content["reused"] > 0
    assert too_far.is_error and "build must be between 1 and" in too_far.content[0].text


def test_without_the_sdk_it_says_how_to_install_it(promptgen_exe, demo, tmp_path):
    """No traceback, one line, exit 2 — here with an ``mcp`` that cannot be imported."""
    fake = tmp_path / "no-sdk" / "mcp"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTGEN_")}
    env["PYTHONPATH"] = str(fake.parent)
    p = subprocess.run([promptgen_exe, "mcp", "--workspace", str(demo)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p
    assert p.stderr.strip().splitlines() == ["promptgen: promptgen mcp needs the MCP SDK (mcp >= 2): "
                                             "pip install 'promptgen[mcp]'"]
    assert p.stdout == ""


def test_help_shows_an_example_and_the_client_configuration(promptgen_exe, tmp_path):
    p = subprocess.run([promptgen_exe, "mcp", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert "promptgen mcp --workspace /path/to/project" in p.stdout
    assert '"mcpServers"' in p.stdout and "--no-watch" in p.stdout and "pip install 'promptgen[mcp]'" in p.stdout


def test_builds_and_the_library_do_not_import_the_sdk(promptgen_exe, demo, tmp_path):
    code = ("import sys, promptgen; promptgen.status(sys.argv[1]); promptgen.next_prompt('@DEMO-FEATURE', sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'mcp_types'))))")
    p = subprocess.run([sys.executable, "-c", code, str(demo)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
    for args in (["build"], ["next", "@DEMO-FEATURE"], ["build"]):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTGEN_")}
        env["PYTHONPROFILEIMPORTTIME"] = "1"
        r = subprocess.run([promptgen_exe, *args, "--workspace", str(demo)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "| mcp" not in r.stderr and "mcp_types" not in r.stderr
