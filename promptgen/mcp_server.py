"""``promptgen mcp``: the workspace's answers as MCP tools, on stdio.

A coding agent reads the prompts promptgen renders. This module serves them
over the Model Context Protocol with four tools — ``status``, ``next_prompt``,
``explain_build`` and ``warnings`` — built on the official SDK (``mcp``, an
optional extra: ``pip install 'promptgen[mcp]'``; it is imported by
:func:`make_server` and :func:`serve` only, never by a build or the no-op
path). The answers come from one :class:`~promptgen.warm.WarmWorkspace` that
lives as long as the server (``warm.py``: how a question finds out what
changed, and why it is never answered stale).
"""


import json
import sys
import threading
from typing import Any, Optional, Sequence

from .warm import WarmWorkspace


# -- the MCP server ------------------------------------------------------------

INSTRUCTIONS = """\
promptgen knows the state of every plan of a methodology workspace (PLAN / SUBPLAN /
EXECUTION_TASK / feedback files under work-space/) and renders the prompt for each
plan's next step. Call `next_prompt` with "@FEATURE" to get what to do next on a plan,
`status` to see every plan, `warnings` for problems found in the files, and
`explain_build` to see what the last build recomputed and why. Every answer reflects the
files on disk at the moment of the call: save your edits, then ask again."""

#: The ``_meta`` key of every tool result: how the server answered and how long it took.
SERVED_META = "promptgen/served"


def _schemas() -> Any:
    """The tools' output schemas (pydantic needs typing_extensions' TypedDict before 3.12).

    The status document and the decisions are typed one level deep: a client
    may check a result against its schema (the Python SDK does, with
    jsonschema), and a reference per plan made that take seconds at 50,000
    files for a document the server had ready in milliseconds; their fields
    are described instead."""
    from typing_extensions import TypedDict

    class Current(TypedDict):
        number: str
        state: str

    class StatusDocument(TypedDict):
        """The `promptgen status --json` document. `plans`: one object per plan, sorted by
        plan_file, with feature, plan_file, plan_state (in_progress, plan_complete, blocked or
        no_achievements), current ({"number", "state"} of the current achievement, or null),
        available (numbers of other achievements ready in parallel), achievements (every
        declared one in plan order: {"number", "title", "state"}) and warnings
        ({"kind", "message", "path"})."""

        workspace: str
        plans: list[dict[str, Any]]

    class NextPrompt(TypedDict):
        feature: str
        plan_file: str
        plan_state: str
        current: Optional[Current]
        achievement: Optional[str]
        exit_code: int
        warnings: list[str]
        prompt: str

    class PlanWarning(TypedDict):
        """One warning, its plan, and how to make it go away (as `promptgen check` prints it)."""

        plan_file: str
        feature: str
        kind: str
        message: str
        path: Optional[str]
        remedy: str

    class Warnings(TypedDict):
        warnings: list[PlanWarning]

    class Explained(TypedDict):
        """`build`: the recorded build (id, started_ns, duration_s, mode, summary);
        `decisions`: one object per node that ran or was cut off (and, with include_reused,
        was reused): node, kind, status (ran, cut_off, reused), reason, detail, wall_s and why
        (a sentence); `reused`: how many nodes that build reused; `builds_since`: how many
        builds were recorded after it."""

        build: dict[str, Any]
        decisions: list[dict[str, Any]]
        reused: int
        builds_since: int

    return type("Schemas", (), {"StatusDocument": StatusDocument, "NextPrompt": NextPrompt,
                                "Warnings": Warnings, "Explained": Explained})


def make_server(warm: WarmWorkspace) -> Any:
    """An ``MCPServer`` (mcp ≥ 2) whose tools answer from ``warm``."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("promptgen", title="promptgen", instructions=INSTRUCTIONS, version=_version(),
                       log_level="WARNING")
    schemas = _schemas()
    _status_tools(server, warm, schemas)
    _prompt_tools(server, warm, schemas)
    return server


def _status_tools(server: Any, warm: WarmWorkspace, schemas: Any) -> None:
    from typing import Annotated

    from mcp_types import CallToolResult, ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(name="status", title="Status of every plan", annotations=read_only)
    def status() -> Annotated[CallToolResult, schemas.StatusDocument]:
        """The state of every plan of the workspace: its progress, current
        achievement and that achievement's state, the achievements ready in
        parallel, every declared achievement with its state, and its warnings.
        The same document as `promptgen status --json`."""
        doc, served = _ask(warm, warm.status)
        return _result([json.dumps(doc, indent=2, ensure_ascii=False)], doc, served)

    @server.tool(name="warnings", title="Warnings of every plan", annotations=read_only)
    def warnings() -> Annotated[CallToolResult, schemas.Warnings]:
        """Every problem promptgen found in the workspace's files (a malformed
        Achievement Index, an unreadable file, a feedback file for an undeclared
        achievement, ...), one per plan and kind, with the file it is about."""
        rows, served = _ask(warm, warm.warnings)
        lines = [f"@{w['feature']}: warning ({w['kind']}): {w['message']}"
                 + (f" [{w['path']}]" if w.get("path") and w["path"] not in w["message"] else "")
                 + f"\n  fix: {w['remedy']}" for w in rows]
        return _result(["\n".join(lines) or "no warnings"], {"warnings": rows}, served)

    @server.tool(name="explain_build", title="Why the last build recomputed what it did", annotations=read_only)
    def explain_build(
        build: Annotated[Optional[int], _field("Which recorded build: 1 is the last one, 2 the one before, "
                                               "...; by default the last one that recomputed something",
                                               ge=1)] = None,
        node: Annotated[Optional[str], _field("Only the nodes whose key contains this text, e.g. a "
                                              "file name or 'prompt:'")] = None,
        include_reused: Annotated[bool, _field("Also list the nodes that were reused (last build only; "
                                               "usually most of the graph)")] = False,
    ) -> Annotated[CallToolResult, schemas.Explained]:
        """What a build recomputed and why: every node that ran (its value
        changed) or was cut off (recomputed to the same value, so its dependents
        were spared), with the input or dependency that made it run — the data
        of `promptgen graph --explain --json`. The workspace is brought up to
        date first, so after an edit this explains the build the edit caused."""
        data, served = _ask(warm, warm.explain, build, node, include_reused)
        return _result([_explain_text(data)], data, served)


def _prompt_tools(server: Any, warm: WarmWorkspace, schemas: Any) -> None:
    from typing import Annotated

    from mcp_types import CallToolResult, ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(name="next_prompt", title="The next prompt of one plan", annotations=read_only)
    def next_prompt(
        plan: Annotated[str, _field("The plan: @FEATURE (the exact feature name, else a unique "
                                    "case-insensitive part of the feature or folder name) or the "
                                    "path of its PLAN file, relative to the workspace root",
                                    examples=["@MY-FEATURE", "work-space/plans/MY-FEATURE/PLAN_MY-FEATURE.md"])],
        achievement: Annotated[Optional[str], _field("The prompt for this achievement instead of the "
                                                     "current one, e.g. 1.2", examples=["1.2"])] = None,
    ) -> Annotated[CallToolResult, schemas.NextPrompt]:
        """The prompt for a plan's next step — what the coding agent should do
        now (create the SUBPLAN, execute, review, fix, ...) — rendered from the
        files on disk, with the plan's state and warnings. After you create or
        edit a workspace file, call it again for the step that follows."""
        data, served = _ask(warm, warm.next_prompt, plan, achievement)
        cur = data["current"]
        where = f"achievement {cur['number']} is current, {cur['state']}" if cur else data["plan_state"]
        footer = "\n".join([f"@{data['feature']} ({data['plan_file']}): {where}", *data["warnings"]])
        return _result([data["prompt"], footer], data, served)


def _field(description: str, **kw: Any) -> Any:
    from pydantic import Field

    return Field(description=description, **kw)


def _ask(warm: WarmWorkspace, question: Any, *args: Any) -> tuple[Any, dict[str, Any]]:
    """``question(*args)`` and how it was served; a problem the caller can fix
    becomes a tool error (the server goes on serving)."""
    from mcp.server.mcpserver.exceptions import ToolError

    from promptgen.nodes.selection import SelectionError

    from .workspace import WorkspaceError

    try:
        value = question(*args)
    except SelectionError as exc:
        raise ToolError("\n".join([exc.message, *(f"  {c}" for c in exc.candidates)])) from None
    except WorkspaceError as exc:
        raise ToolError(str(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise ToolError(f"cannot access{where}: {exc.strerror or exc}") from None
    return value, warm.served_here()


def _result(texts: list[str], structured: Any, served: dict[str, Any]) -> Any:
    from mcp_types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=t) for t in texts],
                          structured_content=structured, _meta={SERVED_META: served})


def _explain_text(data: dict[str, Any]) -> str:
    b, s = data["build"], data["build"]["summary"]
    since = data["builds_since"]
    later = f" ({since} build{'s' if since != 1 else ''} recorded since)" if since else ""
    lines = [f"build #{b['id']} ({b['mode']}, {b['duration_s'] * 1000:.1f} ms): {s['nodes']} nodes, "
             f"{s['recomputed']} recomputed ({s['cut_off']} cut off), {s['reused']} reused{later}"]
    shown = [r for r in data["decisions"] if r["status"] != "reused"]
    if not shown:
        lines.append("nothing ran: every node was reused")
    for r in data["decisions"]:
        label = {"ran": "ran", "cut_off": "cut off", "reused": "reused"}[r["status"]]
        lines.append(f"{label:<8} {r['node']}")
        if r.get("why"):
            lines.append(f"         {r['why']}")
    return "\n".join(lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promptgen")
    except PackageNotFoundError:
        return "unknown"


def serve(workspace: Optional[str] = None, plan_roots: Sequence[str] = (), store: Optional[str] = None,
          *, watch: bool = True) -> int:
    """Run the server on stdio until the client leaves."""
    def log(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    warm = WarmWorkspace(workspace, plan_roots, store, watch=watch, log=log)
    server = make_server(warm)  # raises ImportError without the mcp extra
    # the first build runs while the client connects (the first question waits for
    # it), then the answers are kept current as files change
    threading.Thread(target=warm.follow, name="promptgen-follow", daemon=True).start()
    try:
        server.run("stdio")
    finally:
        warm.close()
    return 0
