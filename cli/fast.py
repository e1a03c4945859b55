"""The no-op fast path of ``promptgen build`` and ``promptgen next``.

Most runs change nothing (an agent asking "what next?" in a loop, CI, editor
hooks). For those, this module answers from the fast-path snapshot
(``promptgen.engine.fastpath``) without importing argparse, json, sqlite3,
networkx or rich — each of which costs more than the whole answer.

It accepts only the plain forms of the two commands; anything else (``--help``,
``--timings``, ``--achievement``, a typo) returns None and the full CLI takes
over, so the full parser stays the one authority on the command line.
"""

import os
import sys
import time

from promptgen.locate import find_root, snapshot_key, store_dir

# on the no-op path: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from typing import Any

    from promptgen.engine.fastpath import Observation


def format_summary(plans: int, nodes: int, recomputed: int, reused: int, cut_off: int,
                   seconds: float, warnings: int, mode: str) -> str:
    warn = f", {warnings} warning{'s' if warnings != 1 else ''} (promptgen status)" if warnings else ""
    return (
        f"{plans} plan{'s' if plans != 1 else ''}: {nodes} nodes, {recomputed} recomputed, "
        f"{reused} reused, {cut_off} cut off ({mode}, {seconds * 1000:.1f} ms){warn}"
    )


def _parse(argv: "list[str]") -> "Optional[tuple[str, Optional[str], bool, list[str]]]":
    """(verb, workspace, json, positionals) for the plain forms, else None."""
    if not argv or argv[0] not in ("build", "next"):
        return None
    verb, rest = argv[0], argv[1:]
    workspace: Optional[str] = None
    as_json = False
    positionals: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--workspace" and i + 1 < len(rest):
            workspace = rest[i + 1]
            i += 2
            continue
        if arg.startswith("--workspace="):
            workspace = arg.split("=", 1)[1]
        elif arg == "--json" and verb == "build":
            as_json = True
        elif arg.startswith("-"):
            return None  # anything else is the full parser's business
        else:
            positionals.append(arg)
        i += 1
    if verb == "build" and positionals:
        return None
    if verb == "next" and len(positionals) != 1:
        return None
    return verb, workspace, as_json, positionals


def plain_namespace(argv: "list[str]", observed: "Optional[Observation]" = None) -> "Optional[Any]":
    """For a plain ``build``/``next``, the namespace argparse would produce, else None.

    When the snapshot cannot answer, the plain forms still skip building the
    argparse parser (one sub-parser per verb): the edit path is budgeted too.
    """
    parsed = _parse(argv)
    if parsed is None:
        return None
    from types import SimpleNamespace

    verb, workspace, as_json, positionals = parsed
    common: "dict[str, object]" = dict(command=verb, workspace=workspace, plan_root=[], store=None, no_wait=False,
                  observation=observed)
    if verb == "build":
        return SimpleNamespace(**common, plans=[], json=as_json, timings=False, force=False)
    return SimpleNamespace(**common, plan=positionals[0], achievement=None, copy=False)


def try_fast(argv: "list[str]", observed: "Optional[Observation]" = None) -> "Optional[int]":
    """Answer a no-op from the snapshot and return the exit code, or None.

    When the snapshot does not answer because something changed, ``observed``
    receives what its check saw (see ``fastpath.Observation``)."""
    t0 = time.perf_counter()
    parsed = _parse(argv)
    if parsed is None or os.environ.get("PROMPTGEN_NO_FASTPATH"):
        return None
    verb, workspace, as_json, positionals = parsed
    root = find_root(workspace)
    if root is None:
        return None
    store = store_dir(root)
    from promptgen.engine import fastpath

    payload = fastpath.load(store, snapshot_key(root, store, ()), observed)
    if payload is None:
        return None
    if verb == "next":
        from promptgen.nodes.selection import SelectionError, select

        blobs = fastpath.load_blobs(store, payload)  # the plan index and the prompts
        if blobs is None:
            return None
        try:
            plan = select(blobs["plans"], positionals[0], root, os.getcwd())
        except SelectionError:
            return None  # let the full CLI report it (and check the workspace)
        prompt = blobs["prompts"].get(plan["plan_file"])
        if prompt is None:
            return None
        for line in plan["warnings"]:
            sys.stderr.write(line + "\n")
        sys.stdout.write(prompt)
        if not prompt.endswith("\n"):
            sys.stdout.write("\n")
        code = plan["exit_code"]
        states = {plan["state"] or plan["plan_state"]: 1}
    else:
        nodes, plans = payload["nodes"], payload["plan_count"]
        elapsed = time.perf_counter() - t0
        if as_json:
            sys.stdout.write(
                '{"nodes": %d, "recomputed": 0, "reused": %d, "cut_off": 0, "duration_s": %.6f, '
                '"recomputed_nodes": [], "cut_off_nodes": [], "mode": "noop", "counters": {"files_stat": %d, '
                '"files_read": 0, "files_hashed": 0, "dirs_listed": 0, "nodes_visited": 0}, "plans": %d, '
                '"warnings": []}\n'
                % (nodes, nodes, elapsed, payload.get("sources", payload["_stat_count"]), plans)
            )
        else:
            sys.stdout.write(
                format_summary(plans, nodes, 0, nodes, 0, elapsed, payload["warning_count"], "noop") + "\n"
            )
        code = 0
        states = payload["states"]
    sys.stdout.flush()
    _record(store, payload, states, time.perf_counter() - t0)
    return code


def _record(store: str, payload: "dict", states: "dict[str, int]", seconds: float) -> None:
    """Metrics of this no-op, appended to the journal (never the database);
    ``states``: the prompts served, counted by state."""
    from promptgen.engine import journal, metrics

    increments = metrics.for_noop(payload.get("kinds", {}), payload["_stat_count"], seconds)
    for state, n in sorted(states.items()):  # one line per state, not per plan
        increments.append(metrics.counter("promptgen_prompt_generation_total", n, state=state, status="cached"))
    journal.append(store, increments)
