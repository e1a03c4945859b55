"""Topological scheduling of the nodes a build still has to visit.

Uses the standard library's ``graphlib``: scheduling is on the path of every
build whose structure changed (an edit that changes which template a prompt
uses is enough), and importing networkx would cost such an edit several times
its whole budget. networkx stays the model for everything that looks at the
graph as a whole (``graph.py``: export, explain, critical path).
"""

from __future__ import annotations

import graphlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Mapping

from .spec import NodeSpec, is_source


class CycleError(Exception):
    """Nodes that depend on each other in a ring; ``cycle`` lists them in order."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " → ".join(cycle + cycle[:1]))


def order(specs: Mapping[str, NodeSpec], nodes: Iterable[str]) -> list[str]:
    """A topological order of ``nodes`` (derived keys); inputs outside ``nodes`` are taken as done."""
    wanted = set(nodes)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for key in wanted:
        sorter.add(key, *(i for i in specs[key].inputs if i in wanted and not is_source(i)))
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        ring = list(exc.args[1])  # graphlib gives [a, b, …, a]
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring = ring[:-1]
        raise CycleError(ring) from None


def ready(specs: Mapping[str, NodeSpec], pending: Iterable[str], done: set[str]) -> list[str]:
    """The pending nodes that can run this round: none of their inputs, directly or
    through other pending nodes, is still unknown (an expander may declare it later)."""
    pending = list(pending)
    pending_set = set(pending)
    dependents: dict[str, list[str]] = {}
    blocked: list[str] = []
    for key in pending:
        for i in specs[key].inputs:
            if is_source(i) or i in done:
                continue
            if i in pending_set:
                dependents.setdefault(i, []).append(key)
            else:
                blocked.append(key)  # reads a node nobody has declared (yet)
    stuck = set(blocked)
    while blocked:
        for d in dependents.get(blocked.pop(), ()):
            if d not in stuck:
                stuck.add(d)
                blocked.append(d)
    return [k for k in pending if k not in stuck]
