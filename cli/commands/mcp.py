"""``promptgen mcp``: the Model Context Protocol server on stdio (see promptgen.mcp_server)."""

from __future__ import annotations

from .. import exitcodes
from ..output import error

TYPE_CHECKING = False
if TYPE_CHECKING:  # argparse imports shutil and gettext: not on the build path
    import argparse


def run(ns: argparse.Namespace) -> int:
    try:
        import mcp.server.mcpserver  # noqa: F401 - the optional extra; the server module imports it later
    except ImportError:
        error("promptgen mcp needs the MCP SDK (mcp >= 2): pip install 'promptgen[mcp]'")
        return exitcodes.USAGE
    from promptgen.mcp_server import serve

    return serve(ns.workspace, ns.plan_root, ns.store, watch=not ns.no_watch)
