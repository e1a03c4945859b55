"""Timing ``promptgen mcp`` as an agent's client sees it: the official SDK client over stdio.

:func:`time_next_prompt` starts the server on a workspace (``CMD mcp --workspace WS``), waits
for its first answer (its warm-up build), then times ``next_prompt`` calls: with no change,
and after each write of an edit (the file written by the caller's ``write(step)``, aged as in
the other edit scenarios). Each sample is the client's wall time around ``call_tool`` (JSON-RPC
over the pipes, both sides' validation, the server's thread hop) and the time the server spent
answering, which it reports in the result's ``_meta`` (``promptgen/served``: the question, the
build and the answer, without the protocol) — with how it answered (from memory or a build).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, Callable

#: The ``_meta`` key the server reports its own time under (promptgen.mcp_server.SERVED_META).
SERVED = "promptgen/served"


def unavailable(cmd: list[str], env: dict[str, str]) -> str | None:
    """Why the MCP scenario cannot run (None: it can): no SDK here, or no ``mcp`` verb."""
    try:
        import mcp.client.stdio  # noqa: F401
    except ImportError:
        return "the MCP SDK is not installed here (pip install '.[mcp]')"
    try:
        p = subprocess.run([*cmd, "mcp", "--help"], env=env, capture_output=True, text=True, timeout=60)
    except OSError as e:
        return f"cannot run {cmd[0]} ({e.strerror})"
    if p.returncode != 0:
        return "the promptgen command has no `mcp` verb"
    return None


def time_next_prompt(cmd: list[str], ws: Path, env: dict[str, str], plan: str, *, noop_calls: int,
                     edits: dict[str, tuple[int, Callable[[int], None]]], errlog: Path) -> dict[str, Any]:
    """``{"init_s", "first_s", "noop": [sample…], NAME: [sample…] …}``: ``noop_calls`` calls with no
    change, then for each ``NAME: (writes, write)`` of ``edits`` a call after each ``write(step)``.
    A sample is ``{"client_s", "server_s", "answered", "build", "state"}``."""
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=cmd[0], args=[*cmd[1:], "mcp", "--workspace", str(ws)], env=env,
                                   cwd=str(ws))
    out: dict[str, Any] = {"noop": [], **{name: [] for name in edits}}

    async def timed(session: ClientSession) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = await session.call_tool("next_prompt", {"plan": plan})
        client_s = time.perf_counter() - t0
        if result.is_error:
            raise RuntimeError(f"next_prompt {plan} failed: {result.content[0].text}")
        served = (result.meta or {}).get(SERVED, {})
        return {"client_s": client_s, "server_s": served.get("ms", 0.0) / 1000, "answered": served.get("answered"),
                "build": served.get("build"), "state": (result.structured_content.get("current") or {}).get("state")}

    async def main() -> None:
        with open(errlog, "w", encoding="utf-8") as err:
            async with stdio_client(params, errlog=err) as (read, write_stream):
                async with ClientSession(read, write_stream) as session:
                    t0 = time.perf_counter()
                    await session.initialize()
                    out["init_s"] = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    await timed(session)  # waits for the server's first build
                    out["first_s"] = time.perf_counter() - t0
                    for _ in range(3):  # warm-up
                        await timed(session)
                    for _ in range(noop_calls):
                        out["noop"].append(await timed(session))
                    step = 0
                    for name, (writes, write) in edits.items():
                        for _ in range(writes):
                            write(step)
                            out[name].append(await timed(session))
                            step += 1

    anyio.run(main)
    return out
