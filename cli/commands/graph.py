"""``promptgen graph``: explain a build (why each node ran) or export the graph."""

from __future__ import annotations

import json
import sys

from promptgen.engine.explain import CUT_OFF, RAN, REUSED, describe_reason
from promptgen.engine.inspection import StoredGraph, build_decisions, recorded_builds

from ..output import info
from ..storeview import open_store
from ..workspace import UsageError, locate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from promptgen.engine.dryrun import Prediction
    from promptgen.engine.explain import Decision
    from promptgen.engine.store import BuildRecord, Store

#: How --explain labels each status.
LABELS = {RAN: "ran", CUT_OFF: "cut off", REUSED: "reused"}


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
        graph = StoredGraph.load(store)
    sys.stdout.write(f"{graph.node_count} derived nodes and {graph.source_count} sources, "
                     f"{graph.edge_count()} edges\n")
    for k, n in sorted(graph.kind_counts().items()):
        sys.stdout.write(f"  {k:<12} {n}\n")
    sys.stdout.write("see `promptgen graph --explain` and `promptgen graph --format dot`\n")
    return 0


def _export(store: Store, ns: argparse.Namespace) -> int:
    from promptgen.engine import graph

    stored = StoredGraph.load(store)
    specs = stored.specs()
    g = graph.digraph(specs)
    for key in specs:  # what each node is, as the last build left it
        g.nodes[key].update(rule_version=stored.rule_version(key), fingerprint=stored.fingerprint(key))
    for key, fp in stored.source_fingerprints().items():
        if key in g:
            g.nodes[key]["fingerprint"] = fp
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


def _explain(store: Store, ns: argparse.Namespace) -> int:
    builds = recorded_builds(store)
    if not builds:
        raise UsageError("no build recorded yet: run `promptgen build` first")
    if not 1 <= ns.build <= len(builds):
        raise UsageError(f"--build must be between 1 and {len(builds)} (the recorded builds, newest first)")
    b = builds[ns.build - 1]
    decisions = build_decisions(store, b, last=ns.build == 1)
    if ns.build != 1 and ns.all:
        info("promptgen: reused nodes are listed for the last build only (--build 1)")
    if ns.node:
        decisions = [d for d in decisions if ns.node in d.key]
        if not decisions:
            raise UsageError(f"no node of build #{b.id} matches {ns.node!r}")
    if ns.json:
        doc = {"build": b.to_json(), "decisions": [d.to_json() for d in decisions]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    _print_explain(b, decisions, ns, store)
    return 0


def _visited(b: BuildRecord) -> str:
    """How much of the graph a targeted build looked at (nothing for a full walk)."""
    visited = b.nodes_visited
    if visited is None or visited >= b.nodes:
        return ""
    return f"; looked at {visited} of {b.nodes} nodes (the dependents of what changed)"


def _print_explain(b: BuildRecord, decisions: list[Decision], ns: argparse.Namespace, store: Store) -> None:
    out = sys.stdout
    out.write(f"build #{b.id} ({b.mode}, {b.duration_s * 1000:.1f} ms): {b.nodes} nodes, "
              f"{b.recomputed} recomputed ({b.cut_off} cut off), {b.reused} reused; files "
              f"stat'ed {b.files_stat}, read {b.files_read}{_visited(b)}\n\n")
    shown = decisions if ns.all else [d for d in decisions if d.status != REUSED]
    if not shown:
        out.write("nothing ran: every node was reused\n")
    for d in shown:
        out.write(f"{LABELS[d.status]:<8} {d.key}  ({d.wall_s * 1000:.3f} ms)\n")
        if d.status != REUSED:
            out.write(f"         {d.why()}\n")
    _critical_path(store, decisions, out)


def _critical_path(store: Store, decisions: list[Decision], out: TextIO) -> None:
    from promptgen.engine.graph import critical_path

    specs = StoredGraph.load(store).specs()
    wall = {d.key: d.wall_s for d in decisions}
    path, total = critical_path(specs, wall)
    if total > 0:
        out.write(f"\ncritical path ({total * 1000:.3f} ms of rule time):\n")
        for key in path:
            out.write(f"  {wall.get(key, 0.0) * 1000:8.3f} ms  {key}\n")


def _print_dry_run(rows: list[Prediction], ns: argparse.Namespace) -> int:
    from promptgen.engine.dryrun import MAY_RUN, WOULD_RUN

    if ns.node:
        rows = [r for r in rows if ns.node in r.key]
    if ns.json:
        sys.stdout.write(json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False) + "\n")
        return 0
    # plain lines like --explain: a table cut the long node keys to "…" (in a
    # pipe, at 120 columns), so neither a reader nor grep could find the file
    pending = [r for r in rows if r.status != REUSED]
    out = sys.stdout
    if not pending:
        out.write(f"nothing would run: all {len(rows)} nodes are up to date\n")
        return 0
    out.write(f"what `promptgen build` would do now ({len(pending)} of {len(rows)} nodes):\n\n")
    for r in pending:
        why = describe_reason(r.reason, r.detail)
        if r.status == MAY_RUN:
            why = f"only if {r.detail.get('node')} changes value"
        if r.detail.get("note"):
            why += f"; {r.detail['note']}"
        label = "run" if r.status == WOULD_RUN else "maybe run"
        out.write(f"{label:<10} {r.key}\n{'':<10} {why}\n")
    return 0
