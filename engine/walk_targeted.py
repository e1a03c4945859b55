"""The targeted walk: visit only what depends on the sources that changed.

A caller that has just stat'ed every source and knows which ones differ from
the last build (the no-op check does) names them; ``Store.load_targeted`` then
loads only their transitive dependents, in the stored order, with the stored
fingerprints of everything else they read. Every node outside that set is
reused without being looked at — exactly what a full walk would decide, since
none of its inputs can have changed. An edit costs what it touches, not the
size of the graph.

The stored order is topological, so a node comes after everything it reads.
When an expander's value changes, its children may be patched in place (same
keys, other inputs: they join the walk with their dependents) and new children
that read only sources may be placed between the expander and their first
reader (a new file's parse node). Anything else — nodes leaving the graph, a
patched child reading something not built yet, a stored graph that may declare
a node twice — the walk cannot prove exact: it returns a :class:`Stop` naming
why, and ``build`` walks the whole graph instead.
"""

from __future__ import annotations

import json

from . import fingerprint
from .spec import is_source
from .state import Stop, Walk
from .store import DECLARED_ONCE, KINDS, ORDER, Commit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .spec import NodeSpec
    from .state import BuildState


class TargetedWalk(Walk):
    """One targeted walk over ``state`` (whose ``prev`` is a targeted load).

    ``pending`` is what is still to visit, by stored position (``next`` is the
    first not visited yet); ``new_nodes`` are the nodes the walk added to the
    stored order, with their positions.
    """

    __slots__ = ("state", "pending", "next", "new_nodes")

    def __init__(self, state: BuildState) -> None:
        self.state = state
        self.pending = list(state.prev.order)
        self.next = 0
        self.new_nodes: dict[str, float] = {}

    def run(self) -> Optional[Stop]:
        """Visit the dependents in stored order; None when done, else why not exact."""
        state = self.state
        prev = state.prev
        # nodes outside the walk are unchanged: their stored fingerprints stand
        state.fps.update(prev.outside)
        while self.next < len(self.pending):
            key = self.pending[self.next]
            self.next += 1
            if key in state.done:
                continue
            if key not in state.specs:
                state.specs[key] = prev.traces[key].spec
            stop = self._inputs_known(key) or state.evaluate(key, self)
            if stop is not None:
                return stop
        counters = state.counters
        total = prev.node_count + len(self.new_nodes)
        counters.visited = counters.nodes
        counters.nodes = total
        counters.reused = total - counters.recomputed
        return None

    def _inputs_known(self, key: str) -> Optional[Stop]:
        """Make sure every input of ``key`` outside the walk is known as stored.

        Only a patched child can read something the targeted load did not
        bring: a source not stored with the others (its stored record is
        fetched, if any) or a derived node outside the walk (its stored
        fingerprint). A derived input still to come in the stored order, or
        not stored at all, cannot be proved unchanged.
        """
        state = self.state
        prev, store = state.prev, state.store
        assert store is not None
        for dep in state.specs[key].inputs:
            if is_source(dep):
                if dep not in state.src and dep not in prev.sources:
                    before = store.source_records([dep]).get(dep)
                    if before is not None:
                        prev.sources[dep] = before
            elif dep not in state.fps:
                if dep in prev.traces:
                    return Stop(f"{key} now reads {dep}, which comes later in the stored order")
                fp = prev.outside.get(dep)
                if fp is None:
                    fp = store.fingerprints([dep]).get(dep)
                if fp is None:
                    return Stop(f"{key} now reads {dep}, which is not stored")
                state.fps[dep] = fp
        return None

    def expanded(self, key: str, children: list[NodeSpec], cut: bool) -> Optional[Stop]:
        """An expander's value changed: patch its children in place and place
        its new ones, if that is provably what a clean build would do."""
        if cut:
            return None
        state = self.state
        if state.prev.meta.get(DECLARED_ONCE) != "1":
            return Stop("the stored graph may declare a node twice")
        old = state.stored_children(key)
        new = [c for c in children if c.key not in old]
        if len(children) - len(new) != len(old):
            return Stop(f"children of {key} leave the graph")
        changed = [c for c in children if c.key in old and c != old[c.key]]
        if any(c.key in state.done for c in changed):
            return Stop(f"a child of {key} was visited before it")
        for c in changed:
            if any(is_source(i) and i not in c.inputs for i in old[c.key].inputs):
                # a source may leave the graph: only the full walk can tell
                return Stop(f"{c.key} no longer reads a source")
        stop = self._visit_also(key, [c.key for c in changed]) if changed else None
        if stop is None and new:
            stop = self._place_new(key, new, changed)
        if stop is not None:
            return stop
        for child in changed:
            state.specs[child.key] = child
        state.structure_changed = True
        return None

    def _visit_also(self, expander: str, keys: list[str]) -> Optional[Stop]:
        """Patched children (and what depends on them) are visited too; they
        follow their expander in the stored order."""
        state = self.state
        prev = state.prev
        assert state.store is not None
        added = state.store.extend_targeted(prev, keys)
        for k in added:
            if prev.positions[k] <= prev.positions[expander]:
                return Stop(f"{k} is stored before {expander}")
        self._schedule(added)
        if any(k not in prev.traces for k in keys):
            return Stop("a patched child is not stored")
        return None

    def _place_new(self, expander: str, new: list[NodeSpec], changed: list[NodeSpec]) -> Optional[Stop]:
        """New children of ``expander`` join the graph at a position between the
        expander and the first node that reads them (the stored order stays
        topological). Supported for children that read sources only and are
        read only by their siblings — per-file nodes, as a new file makes."""
        state = self.state
        prev = state.prev
        assert state.store is not None
        keys = [c.key for c in new]
        if state.store.fingerprints(keys) or any(k in state.specs for k in keys):
            return Stop("a new child is declared elsewhere")
        low = prev.positions[expander]
        for c in new:
            if any(not is_source(i) for i in c.inputs):
                return Stop(f"new node {c.key} reads derived nodes")
            readers = [prev.positions[r.key] for r in changed if c.key in r.inputs]
            high = min(readers) if readers else low + 1
            position = (low + high) / 2
            if not low < position < high:
                return Stop("no room left in the stored order")
            state.specs[c.key] = c
            prev.positions[c.key] = position
            self.new_nodes[c.key] = position
        self._schedule(keys)
        return None

    def _schedule(self, keys: list[str]) -> None:
        """Merge ``keys`` into what is still to visit, in stored order."""
        if keys:
            positions = self.state.prev.positions
            rest = self.pending[self.next:] + keys
            rest.sort(key=lambda k: (positions[k], k))
            self.pending[self.next:] = rest

    def commit(self) -> tuple[Commit, dict[str, int]]:
        """What to write, and the derived nodes per kind of the graph now.

        The stored order stands and nothing leaves the graph; new nodes come
        with their positions.
        """
        state = self.state
        prev = state.prev
        c = Commit()
        c.sources_upsert = state.sources_to_write()
        c.nodes_upsert = dict(state.traces)
        c.positions = dict(self.new_nodes)
        kinds = dict(json.loads(prev.meta[KINDS]))
        for key in self.new_nodes:
            kind = state.specs[key].kind
            kinds[kind] = kinds.get(kind, 0) + 1
        if self.new_nodes:
            assert state.store is not None
            c.meta[KINDS] = fingerprint.canonical_json(kinds)
            # the digest of the stored order covers the new nodes (the full
            # walk checks it against the stored order it loads)
            positions = dict(state.store.positions_in_order())
            positions.update(self.new_nodes)
            c.meta[ORDER] = fingerprint.of_value(sorted(positions, key=lambda k: (positions[k], k)))
        return c, kinds
