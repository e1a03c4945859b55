"""The build graph as a ``networkx.DiGraph``: export, analysis, critical path.

Edges point from an input to the node that reads it. This is the view of the
graph as a whole, for ``graph --format``, ``--explain`` and ``--timings``. Builds
themselves never import networkx (~0.1–0.3 s to import, more than a whole
incremental build): they walk the stored order and schedule new nodes with
``schedule.py`` (the standard library's graphlib).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional

import networkx as nx

from .schedule import CycleError  # noqa: F401  (re-exported for callers that inspect graphs)
from .spec import NodeSpec, is_source, kind_of


def digraph(specs: Mapping[str, NodeSpec], nodes: Optional[Iterable[str]] = None,
            with_sources: bool = True) -> "nx.DiGraph":
    """The graph of ``nodes`` (default: all specs) and the inputs they read."""
    g = nx.DiGraph()
    keys = list(specs if nodes is None else nodes)
    for key in keys:
        g.add_node(key, kind=specs[key].kind)
    for key in keys:
        for dep in specs[key].inputs:
            if dep in g or (with_sources and is_source(dep)):
                if dep not in g:
                    g.add_node(dep, kind=kind_of(dep))
                g.add_edge(dep, key)
    return g


def critical_path(specs: Mapping[str, NodeSpec], wall: Mapping[str, float]) -> tuple[list[str], float]:
    """The chain of dependent nodes with the largest summed wall time.

    Node-weighted longest path in topological order; nodes that took no time
    at the head of the chain (unchanged sources) are left out.
    """
    g = digraph(specs)
    best: dict[str, float] = {}
    back: dict[str, Optional[str]] = {}
    for node in nx.topological_sort(g):
        pred = max(g.predecessors(node), key=lambda p: best[p], default=None)
        base = best[pred] if pred is not None else 0.0
        best[node] = base + wall.get(node, 0.0)
        back[node] = pred if pred is not None and best[pred] > 0 else None
    if not best:
        return [], 0.0
    end = max(best, key=lambda n: best[n])
    path = []
    step: Optional[str] = end
    while step is not None:
        path.append(step)
        step = back[step]
    path.reverse()
    return path, best[end]


def to_dot(g: "nx.DiGraph", label: Optional[Mapping[str, str]] = None) -> str:
    """Graphviz DOT text (written here: networkx's writers need pydot or pygraphviz)."""

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph promptgen {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for n, data in g.nodes(data=True):
        attrs = [f"label={q(n if not label or n not in label else label[n])}"]
        if data.get("kind") in ("file", "dir"):
            attrs.append("shape=note")
        lines.append(f"  {q(n)} [{', '.join(attrs)}];")
    for u, v in g.edges:
        lines.append(f"  {q(u)} -> {q(v)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(g: "nx.DiGraph") -> dict:
    return nx.node_link_data(g, edges="edges") if _has_edges_kw() else nx.node_link_data(g)


def _has_edges_kw() -> bool:
    import inspect

    return "edges" in inspect.signature(nx.node_link_data).parameters
