"""The command line, declared once with argparse (the fast path defers to it)."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from typing import Any, Callable

from .exitcodes import EPILOG

DESCRIPTION = """\
promptgen reads a methodology workspace (PLAN / SUBPLAN / EXECUTION_TASK / feedback
files under work-space/), works out the state of every plan from the files on disk,
and renders the next prompt for your agent. Builds are incremental: a run that
changes nothing costs about as much as starting Python."""


class _Version(argparse.Action):
    """--version, reading the installed metadata only when asked (importlib.metadata is slow to import)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("promptgen")
        except PackageNotFoundError:
            ver = "unknown"
        # data, so stdout (parser.exit(message=…) would print it on stderr)
        sys.stdout.write(f"promptgen {ver}\n")
        parser.exit()


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    def run(ns: argparse.Namespace) -> int:
        return import_module(f"promptgen.cli.commands.{module}").run(ns)

    return run


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("workspace")
    g.add_argument("--workspace", "-w", metavar="PATH",
                   help="workspace root (the folder holding work-space/); default: the nearest "
                        "ancestor of the current directory that has one")
    g.add_argument("--plan-root", action="append", default=[], metavar="DIR",
                   help="also discover plans under DIR (relative to the root), e.g. "
                        "work-space/backlog-plans; repeatable; adds to promptgen.toml's plan_roots")
    g.add_argument("--store", metavar="DIR",
                   help="store folder (default: <root>/.promptgen, or $PROMPTGEN_STORE)")


def _sub(subs: Any, name: str, help_: str, example: str, module: str) -> argparse.ArgumentParser:
    p = subs.add_parser(name, help=help_, description=help_,
                        epilog=f"example:\n  {example}\n\n{EPILOG}",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=_lazy(module), command=name)
    return p


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promptgen",
        description=DESCRIPTION,
        epilog="examples:\n  promptgen build\n  promptgen next @MY-FEATURE\n  promptgen status --json\n"
               "  promptgen graph --explain\n\n" + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print promptgen's version and exit")
    subs = parser.add_subparsers(title="commands", metavar="COMMAND")
    _answering_verbs(subs)
    _store_verbs(subs)
    _other_verbs(subs)
    return parser


def _answering_verbs(subs: Any) -> None:
    """The verbs that build (incrementally) and then answer from the build."""
    p = _sub(subs, "build", "build every plan's prompt incrementally and print a one-line summary",
             "promptgen build --timings", "build")
    p.add_argument("plans", nargs="*", metavar="PLAN", help="@NAME or PLAN file path: report only these plans")
    p.add_argument("--timings", action="store_true", help="add a table of per-node timings, slowest first, "
                   "grouped by kind, and the critical path (with --json: a \"timings\" object in the document)")
    p.add_argument("--json", action="store_true", help="print the build summary as JSON")
    p.add_argument("--no-wait", action="store_true",
                   help="if another promptgen is building, exit with code 75 instead of waiting")
    p.add_argument("--force", action="store_true", help="recompute every node (ignore stored values)")
    _common(p)

    p = _sub(subs, "next", "print the next prompt for one plan (prompt on stdout, warnings on stderr)",
             "promptgen next @MY-FEATURE --achievement 1.2", "next")
    p.add_argument("plan", metavar="PLAN", help="@NAME (exact feature, else unique case-insensitive match on "
                   "feature or folder name) or a path to the PLAN file")
    p.add_argument("--achievement", "-a", metavar="N.M", help="the prompt for this achievement instead of the current one")
    p.add_argument("--copy", action="store_true", help="also copy the prompt to the clipboard (needs pyperclip "
                   "and a clipboard; pip install 'promptgen[clipboard]')")
    p.add_argument("--no-wait", action="store_true", help="exit with code 75 instead of waiting for another build")
    _common(p)

    p = _sub(subs, "status", "show every plan: progress, current achievement and state, warnings",
             "promptgen status --json | jq '.plans[] | {feature, plan_state}'", "status")
    p.add_argument("--json", action="store_true", help="print the status document (see docs/USER_GUIDE.md)")
    p.add_argument("--no-wait", action="store_true", help="exit with code 75 instead of waiting for another build")
    _common(p)

    p = _sub(subs, "check", "lint the workspace for CI and pre-commit: exit 1 if a plan has warnings "
             "(handoff mismatches, orphan files, …), each printed with its file and its remedy",
             "promptgen check --fail-on handoff_mismatch,orphan_feedback --json", "check")
    p.add_argument("--json", action="store_true", help="print the result as JSON (ok, fail_on, warnings)")
    p.add_argument("--fail-on", action="append", default=[], metavar="KINDS",
                   help="comma-separated warning kinds that fail the check (default: all; 'none' only reports); "
                        "the kinds: duplicate_achievement, ambiguous_token, orphan_subplan, orphan_execution, "
                        "orphan_feedback, handoff_mismatch, parallel_invalid, unreadable_file")
    p.add_argument("--no-wait", action="store_true", help="exit with code 75 instead of waiting for another build")
    _common(p)


def _store_verbs(subs: Any) -> None:
    """The verbs that read what the store recorded (they never build)."""
    p = _sub(subs, "graph", "explain the last build (why each node ran or was reused) or export the graph",
             "promptgen graph --explain --dry-run", "graph")
    p.add_argument("node", nargs="?", metavar="NODE", help="only this node (a key such as prompt:work-space/…, "
                   "or a substring of one)")
    p.add_argument("--explain", action="store_true", help="why each node of the last build ran or was reused")
    p.add_argument("--dry-run", action="store_true", help="with --explain: what would run now, without running it")
    p.add_argument("--build", type=int, default=1, metavar="N",
                   help="with --explain: the N-th most recent recorded build (1 = last)")
    p.add_argument("--all", action="store_true", help="with --explain: list reused nodes too")
    p.add_argument("--format", choices=("dot", "json"), help="export the graph of the last build")
    p.add_argument("--json", action="store_true", help="with --explain: print the decisions as JSON")
    _common(p)

    p = _sub(subs, "stats", "cumulative performance figures from the store (cache hit rate, average times)",
             "promptgen stats --json", "stats")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    _common(p)

    p = _sub(subs, "metrics", "print Prometheus metrics (text exposition format) from the store",
             "promptgen metrics --metrics-file /var/lib/node_exporter/textfile/promptgen.prom", "metrics")
    p.add_argument("--metrics-file", metavar="PATH.prom", help="write atomically to this file (for "
                   "node_exporter's textfile collector) instead of stdout")
    _common(p)


def _other_verbs(subs: Any) -> None:
    p = _sub(subs, "watch", "rebuild on every change and show the status table live (Ctrl-C to stop)",
             "promptgen watch", "watch")
    p.add_argument("--debounce", type=int, default=200, metavar="MS", help="wait this long for edits to settle")
    _common(p)

    _mcp(subs)

    p = _sub(subs, "clean", "remove the store (.promptgen/ cache files); never touches anything else",
             "promptgen clean", "clean")
    _common(p)


def _mcp(subs: Any) -> None:
    """The `mcp` verb (apart, so that make_parser stays short)."""
    p = _sub(subs, "mcp", "serve the prompts to a coding agent: an MCP server on stdio that keeps the build warm",
             "promptgen mcp --workspace /path/to/project\n\n"
             "needs the MCP SDK: pip install 'promptgen[mcp]'\n\n"
             "in an MCP client's configuration (Claude Code's .mcp.json, Cursor's .cursor/mcp.json):\n"
             '  {"mcpServers": {"promptgen": {"command": "promptgen",\n'
             '                                "args": ["mcp", "--workspace", "/path/to/project"]}}}\n\n'
             "tools: status, next_prompt, explain_build, warnings (docs/USER_GUIDE.md, \"promptgen mcp\")", "mcp")
    p.add_argument("--no-watch", action="store_true",
                   help="check the files with stat before each answer instead of following file-change "
                        "events (slower on large workspaces; for file systems without inotify)")
    _common(p)
