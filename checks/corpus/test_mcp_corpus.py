"""`promptgen mcp` on a copy of the real corpus, driven by the official MCP client.

The client starts the installed server on stdio as an agent's MCP client does,
lists the tools, gets the status (which must be `promptgen status --json`'s
document, and agree with corpus/expected.json) and @LLM-DASHBOARD-CLI's next
prompt; then APPROVED_11.md is created and the same server's next answer is
the prompt of the step that follows. Needs ../shared (set PROMPTGEN_CORPUS);
CI runs it with the other corpus checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from corpus_lib import corpus, promptgen_command

PLAN = "work-space/plans/LLM-DASHBOARD-CLI/PLAN_LLM-DASHBOARD-CLI.md"
APPROVED_11 = "work-space/plans/LLM-DASHBOARD-CLI/execution/feedbacks/APPROVED_11.md"




def _cli(exe: str, ws: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMPTGEN_")}
    p = subprocess.run([exe, *args, "--workspace", str(ws)], cwd=ws, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_the_mcp_server_on_the_corpus(tmp_path):
    pytest.importorskip("mcp.client.stdio", reason="the MCP SDK is not installed: pip install '.[mcp]'")
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    shared = corpus()
    exe = promptgen_command()
    ws = tmp_path / "context-manager"
    shutil.copytree(shared / "context-manager", ws, copy_function=shutil.copy2)
    expected = {p["plan_file"]: p for p in json.loads((shared / "expected.json").read_text("utf-8"))["plans"]}
    seen: dict = {}

    async def session() -> None:
        params = StdioServerParameters(command=exe, args=["mcp", "--workspace", str(ws)], cwd=str(tmp_path))
        with open(tmp_path / "server-stderr.log", "w", encoding="utf-8") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as client:
                    await client.initialize()
                    seen["tools"] = {t.name for t in (await client.list_tools()).tools}
                    seen["status"] = await client.call_tool("status", {})
                    seen["before"] = await client.call_tool("next_prompt", {"plan": "@LLM-DASHBOARD-CLI"})
                    (ws / APPROVED_11).write_text("# APPROVED: Achievement 1.1\n\nThe fixes are in.\n",
                                                  encoding="utf-8")
                    seen["after"] = await client.call_tool("next_prompt", {"plan": "@LLM-DASHBOARD-CLI"})

    anyio.run(session)
    assert seen["tools"] == {"status", "next_prompt", "explain_build", "warnings"}
    status = seen["status"]
    assert not status.is_error, status.content
    plans = {p["plan_file"]: p for p in status.structured_content["plans"]}
    for plan_file, ref in expected.items():
        got = plans[plan_file]
        assert (got["plan_state"], got["current"] and got["current"]["number"],
                got["current"] and got["current"]["state"]) == (
            ref["plan_state"], ref["current"] and ref["current"]["number"],
            ref["current"] and ref["current"]["state"]), plan_file

    before, after = seen["before"], seen["after"]
    assert not before.is_error and not after.is_error, (before.content, after.content)
    assert before.structured_content["plan_file"] == PLAN
    assert before.structured_content["current"] == {"number": "1.1", "state": "needs_fix"}  # FIX_11.md
    assert "# LLM-DASHBOARD-CLI — Achievement 1.1:" in before.content[0].text
    assert after.content[0].text != before.content[0].text  # the plan moved on
    assert "# LLM-DASHBOARD-CLI — Achievement 1.2:" in after.content[0].text
    assert after.structured_content["current"]["number"] == "1.2"
    # the same answers as the command line gives for the same files
    assert after.structured_content["prompt"] == _cli(exe, ws, "next", "@LLM-DASHBOARD-CLI")
    (ws / APPROVED_11).unlink()
    assert status.structured_content == json.loads(_cli(exe, ws, "status", "--json"))
