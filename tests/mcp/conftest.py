"""Fixtures of the MCP server tests: the installed ``promptgen mcp`` driven by the SDK's own client."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Optional

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "cli"))

from cli_testlib import copy_demo  # noqa: E402

pytest.importorskip("mcp.client.stdio", reason="the MCP SDK is not installed: pip install '.[test]'")

from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

#: The ``_meta`` key of every tool result (promptgen.mcp_server.SERVED_META).
SERVED = "promptgen/served"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def promptgen_exe() -> str:
    found = shutil.which("promptgen")
    exe = Path(found) if found else Path(sys.executable).parent / "promptgen"
    if not exe.exists():
        pytest.fail(f"the promptgen console script is not installed (looked on PATH and in {exe.parent})")
    return str(exe)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A fresh copy of examples/demo, no store yet, files older than the racy window."""
    return copy_demo(tmp_path / "ws")


class Server:
    """A ``promptgen mcp`` subprocess and the client session talking to it."""

    def __init__(self, session: ClientSession, errlog: Path) -> None:
        self.session = session
        self.errlog = errlog

    async def call(self, tool: str, **arguments: Any) -> Any:
        return await self.session.call_tool(tool, arguments)

    def stderr(self) -> str:
        return self.errlog.read_text(encoding="utf-8", errors="replace")


@asynccontextmanager
async def mcp_server(exe: str, *args: str, cwd: Path, env: Optional[dict[str, str]] = None) -> AsyncIterator[Server]:
    """``promptgen mcp ARGS`` started and initialized, as an MCP client (Claude Code, Cursor) does."""
    errlog = cwd / f"mcp-stderr-{os.getpid()}-{id(args)}.log"
    params = StdioServerParameters(command=exe, args=["mcp", *args], cwd=str(cwd), env=env)
    with open(errlog, "w", encoding="utf-8") as err:
        async with stdio_client(params, errlog=err) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield Server(session, errlog)
