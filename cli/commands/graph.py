"""``promptgen graph``: explain a build (why each node ran) or export the graph."""

from __future__ import annotations

import json
import sys
from typing import Any

from promptgen.engine.explain import describe_reason

from ..output import info
from ..storeview import open_store
from ..workspace import UsageError, locate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def run(ns: argparse.Namespace) -> int:
    ws = locate(ns.workspace, ns.plan_root, ns.store)
    with open_store(ws) as store:
        if store is None:
            raise UsageError(f"no build recorded in {ws.store_dir}: run `promptgen build` first")
        if ns.format:
            return _export(store, ns)
        if ns.dry_run:
            from promptgen.engine.dryrun import dry_run
            from promptgen.nodes.rules import RULES

            rows = dry_run(ws.root, store, RULES)
            return _print_dry_run(rows, ns)
        if ns.explain or ns.node or ns.all or ns.build != 1:  # --build/--all only mean something here
            return _explain(store, ns)
        prev = store.load()
    kinds: dict[str, int] = {}
    for t in prev.traces.values():
        kinds[t.spec.kind] = kinds.get(t.spec.kind, 0) + 1
    edges = sum(len(t.spec.inputs) for t in prev.traces.values())
    sys.stdout.write(f"{len(prev.traces)} derived nodes and {len(prev.sources)} sources, {edges} edges\n")
    for k, n in sorted(kinds.items()):
        sys.stdout.write(f"  {k:<12} {n}\n")
    sys.stdout.write("see `promptgen graph --explain` and `promptgen graph --format dot`\n")
    return 0


def _export(store, ns: argparse.Namespace) -> int:
    from promptgen.engine import graph

    prev = store.load()
    g = graph.digraph({k: t.spec for k, t in prev.traces.items()})
    for key, trace in prev.traces.items():  # what each node is, as the last build left it
        g.nodes[key].update(rule_version=trace.rule_version, fingerprint=trace.fingerprint)
    for key, rec in prev.sources.items():
        if key in g:
            g.nodes[key]["fingerprint"] = rec.fingerprint
    if ns.node:
        keep = {n for n in g if ns.node in n}
        if not keep:
            raise UsageError(f"no node matches {ns.node!r}")
        import networkx as nx

        for n in list(keep):
            keep |= nx.ancestors(g, n)
        g = g.subgraph(keep).copy()
    if ns.format == "dot":
        sys.stdout.write(graph.to_dot(g))
    else:
        sys.stdout.write(json.dumps(graph.to_json(g), indent=2) + "\n")
    return 0


def _explain(store, ns: argparse.Namespace) -> int:
    builds = store.builds()
    if not builds:
        raise UsageError("no build recorded yet: run `promptgen build` first")
    if not 1 <= ns.build <= len(builds):
        raise UsageError(f"--build must be between 1 and {len(builds)} (the recorded builds, newest first)")
    b = builds[ns.build - 1]
    rows = store.decisions(b["id"])  # the nodes that ran or were cut off
    if ns.build == 1:
        rows += store.reused_in_last_build(rows)
    elif ns.all:
        info("promptgen: reused nodes are listed for the last build only (--build 1)")
    if ns.node:
        rows = [r for r in rows if ns.node in r["node"]]
        if not rows:
            raise UsageError(f"no node of build #{b['id']} matches {ns.node!r}")
    if ns.json:
        sys.stdout.write(json.dumps({"build": b, "decisions": rows}, indent=2, ensure_ascii=False) + "\n")
        return 0
    _print_explain(b, rows, ns, store)
    return 0


def _visited(summary: dict[str, Any]) -> str:
    """How much of the graph a targeted build looked at (nothing for a full walk)."""
    visited = summary["counters"].get("nodes_visited")
    if visited is None or visited >= summary["nodes"]:
        return ""
    return f"; looked at {visited} of {summary['nodes']} nodes (the dependents of what changed)"


def _print_explain(b: dict[str, Any], rows: list[dict[str, Any]], ns: argparse.Namespace, store) -> None:
    s = b["summary"]
    out = sys.stdout
    out.write(f"build #{b['id']} ({b['mode']}, {b['duration_s'] * 1000:.1f} ms): {s['nodes']} nodes, "
              f"{s['recomputed']} recomputed ({s['cut_off']} cut off), {s['reused']} reused; files "
              f"stat'ed {s['counters']['files_stat']}, read {s['counters']['files_read']}{_visited(s)}\n\n")
    shown = rows if ns.all else [r for r in rows if r["status"] != "reused"]
    if not shown:
        out.write("nothing ran: every node was reused\n")
    for r in shown:
        label = {"ran": "ran", "cut_off": "cut off", "reused": "reused"}[r["status"]]
        out.write(f"{label:<8} {r['node']}  ({r['wall_s'] * 1000:.3f} ms)\n")
        if r["status"] != "reused":
            why = describe_reason(r["reason"], r["detail"])
            if r["status"] == "cut_off":
                # under --force every node runs anyway: its dependents were not spared
                why += ("; value unchanged" if r["reason"] == "forced"
                        else "; value unchanged, so its dependents were not re-run")
            out.write(f"         {why}\n")
    _critical_path(store, rows, out)


def _critical_path(store, rows, out) -> None:
    from promptgen.engine.graph import critical_path

    prev = store.load()
    specs = {k: t.spec for k, t in prev.traces.items()}
    wall = {r["node"]: r["wall_s"] for r in rows}
    path, total = critical_path(specs, wall)
    if total > 0:
        out.write(f"\ncritical path ({total * 1000:.3f} ms of rule time):\n")
        for key in path:
            out.write(f"  {wall.get(key, 0.0) * 1000:8.3f} ms  {key}\n")


def _print_dry_run(rows: list[dict[str, Any]], ns: argparse.Namespace) -> int:
    if ns.node:
        rows = [r for r in rows if ns.node in r["node"]]
    if ns.json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    # plain lines like --explain: a table cut the long node keys to "…" (in a
    # pipe, at 120 columns), so neither a reader nor grep could find the file
    pending = [r for r in rows if r["status"] != "reused"]
    out = sys.stdout
    if not pending:
        out.write(f"nothing would run: all {len(rows)} nodes are up to date\n")
        return 0
    out.write(f"what `promptgen build` would do now ({len(pending)} of {len(rows)} nodes):\n\n")
    for r in pending:
        why = describe_reason(r["reason"], r["detail"])
        if r["status"] == "may_run":
            why = f"only if {r['detail'].get('node')} changes value"
        if r["detail"].get("note"):
            why += f"; {r['detail']['note']}"
        label = "run" if r["status"] == "would_run" else "maybe run"
        out.write(f"{label:<10} {r['node']}\n{'':<10} {why}\n")
    return 0
