"""The rebuilder: verifying traces with early cutoff (as in Shake and Salsa).

For every derived node the store keeps a *trace*: its spec, its rule version, the
fingerprints of its inputs when it was last computed, and the fingerprint of its
value. A build walks the graph in topological order and, for each node:

1. compares the current fingerprints of its inputs with the trace; if they are
   equal (and the rule version and spec are the same) the stored value is
   reused — nothing is read, nothing is computed;
2. otherwise recomputes it, and fingerprints the new value: if it equals the old
   one the node is *cut off* — its dependents see an unchanged input and are
   reused in turn.

Structure is dynamic: *expander* nodes produce further nodes. The order of the
last build is stored; while every expander reproduces the same nodes, the build
simply walks that order (no networkx import). When an expander's output changes
only the inputs of its own children (a prompt switching template), the children
are updated in place and the walk goes on — if the last graph declared every
node once, that is exactly what a clean build would see. Any other change (nodes
appear or vanish) makes the graph be declared again from the expanders' values,
and the remaining nodes are scheduled in rounds by ``schedule.py`` (graphlib).

*Targeted* builds: a caller that has just stat'ed every source and knows which
ones differ from the last build (the fast-path check does) passes them as
``changed``. Then only the nodes that depend on them are loaded and visited, in
the stored order (``Store.load_targeted``): an edit costs what it touches, not
the size of the graph. Every other node is reused without being looked at —
exactly what the full walk would decide, because none of its inputs can have
changed. Anything the targeted walk cannot prove the same (nodes appear or
vanish, a patched child would read a node not built yet, the stored state is
not the one the caller's view was taken against) falls back to the full walk.

The invariant, tested by property tests: the values after an incremental build
equal the values of a clean build of the same files.
"""

from __future__ import annotations

import json
import time

from . import explain as ex
from . import fingerprint
from .sources import DEFAULT_MAX_FILE_BYTES, SourceReader, SourceRecord
from .spec import JSON, NodeSpec, Rule, is_source
from .store import KINDS, Commit, Previous, Store, StoreDamaged, Trace, with_recovery
from .verify import Verifier

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Optional

    from .stamp import Stamp


class BuildError(Exception):
    """The graph itself is wrong (unknown kind, unknown input, cycle, clash)."""


class NodeFailed(BuildError):
    """A rule raised: the node could not be computed."""

    def __init__(self, key: str, exc: BaseException) -> None:
        self.key = key
        self.exc = exc
        super().__init__(f"computing {key} failed: {type(exc).__name__}: {exc}")


class BuildCounters:
    """``nodes``: derived nodes in the graph; ``visited``: those the build looked
    at (all of them in a full walk, the dependents of the change in a targeted one)."""

    __slots__ = ("nodes", "recomputed", "reused", "cut_off", "files_stat", "files_read",
                 "files_hashed", "dirs_listed", "visited")

    def __init__(self) -> None:
        self.nodes = 0
        self.visited = 0
        self.recomputed = 0
        self.reused = 0
        self.cut_off = 0
        self.files_stat = 0
        self.files_read = 0
        self.files_hashed = 0
        self.dirs_listed = 0

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class ValueMap:
    """Values of the derived nodes of a build; stored values are loaded on demand.

    A read-only mapping (``[]``, ``get``, ``in``, ``keys``/``items``/``values``,
    iteration over keys); ``preload`` fetches many stored values in one query.
    """

    def __init__(self, keys: Optional[list[str]], computed: dict[str, JSON], store: Optional[Store],
                 new: Optional[Mapping[str, float]] = None) -> None:
        # None: the keys of the whole stored graph, loaded on first use (a
        # targeted build never needs them unless a caller iterates), plus the
        # ``new`` nodes the build added (key → stored position)
        self._key_list = keys
        self._key_set: Optional[set[str]] = None
        self._computed = computed
        self._store = store
        self._new = new or {}

    @property
    def _keys(self) -> list[str]:
        if self._key_list is None:
            if self._store is None:
                self._key_list = list(self._computed)
            else:
                positions = dict(self._store.positions_in_order())
                positions.update(self._new)
                self._key_list = sorted(positions, key=lambda k: (positions[k], k))
        return self._key_list

    @property
    def _index(self) -> set[str]:
        if self._key_set is None:
            self._key_set = set(self._keys)
        return self._key_set

    def __getitem__(self, key: str) -> JSON:
        if key in self._computed:
            return self._computed[key]
        if self._store is None or key not in self._index:
            raise KeyError(key)
        value = self._store.value(key)
        self._computed[key] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def preload(self, keys: Iterable[str]) -> None:
        """Load the stored values of ``keys`` in one go (a caller about to read many)."""
        wanted = [k for k in keys if k in self._index and k not in self._computed]
        if wanted and self._store is not None:
            self._computed.update(self._store.values(wanted))

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        return list(self._keys)

    def items(self) -> Iterator[tuple[str, JSON]]:
        return ((k, self[k]) for k in self._keys)

    def values(self) -> Iterator[JSON]:
        return (self[k] for k in self._keys)


class BuildResult:
    """Everything one build produced; ``commit`` is what the session persists.

    After a *targeted* build (``targeted``), ``specs``, ``decisions``,
    ``fingerprints`` and ``sources`` cover only what the build looked at (the
    dependents of the changed sources and their inputs); every other node of
    the graph was reused. ``order`` and ``values`` still cover the whole graph
    (loaded from the store when asked), and ``kind_counts`` / ``source_count``
    give the sizes of the whole graph either way.
    """

    __slots__ = ("specs", "_order", "values", "decisions", "counters", "fingerprints", "sources", "mode",
                 "started_ns", "duration_s", "commit", "structure_changed", "targeted", "kind_counts",
                 "source_count")

    def __init__(self, specs: dict[str, NodeSpec], order: Optional[list[str]], values: ValueMap,
                 decisions: list[ex.Decision], counters: BuildCounters, fingerprints: dict[str, str],
                 sources: dict[str, SourceRecord], mode: str, started_ns: int, duration_s: float,
                 commit: Optional[Commit] = None, structure_changed: bool = False, targeted: bool = False,
                 kind_counts: Optional[dict[str, int]] = None, source_count: Optional[int] = None) -> None:
        self.specs = specs
        self._order = order
        self.values = values
        self.decisions = decisions
        self.counters = counters
        self.fingerprints = fingerprints
        self.sources = sources
        self.mode = mode
        self.started_ns = started_ns
        self.duration_s = duration_s
        self.commit = Commit() if commit is None else commit
        self.structure_changed = structure_changed
        self.targeted = targeted
        self.kind_counts = count_kinds(specs, order or []) if kind_counts is None else kind_counts
        self.source_count = len(sources) if source_count is None else source_count

    @property
    def order(self) -> list[str]:
        """Every derived node of the graph, in topological order."""
        if self._order is None:
            self._order = self.values.keys()
        return self._order

    @property
    def recomputed_nodes(self) -> list[str]:
        """Derived nodes whose rule ran (value changed or cut off), as ``recomputed`` counts."""
        return [d.key for d in self.decisions if d.status != ex.REUSED and not is_source(d.key)]

    @property
    def cut_off_nodes(self) -> list[str]:
        """Recomputed nodes whose value did not change (their dependents were spared)."""
        return [d.key for d in self.decisions if d.status == ex.CUT_OFF and not is_source(d.key)]


def count_kinds(specs: Mapping[str, NodeSpec], order: Iterable[str]) -> dict[str, int]:
    """Derived nodes per kind."""
    counts: dict[str, int] = {}
    for key in order:
        kind = specs[key].kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def rules_digest(rules: Mapping[str, Rule]) -> str:
    """One fingerprint of every rule's kind and version: a targeted build is
    only exact if no rule changed since the stored state was built."""
    return fingerprint.of_value(sorted([kind, rule.version] for kind, rule in rules.items()))


def _record_moved(before: SourceRecord, rec: SourceRecord) -> bool:
    """False when a source read again left its stored record exactly as it was
    (a listing that is always re-checked): rewriting it would turn a no-op
    into a write."""
    return (before.stamp, before.recorded_ns, before.fingerprint) != (rec.stamp, rec.recorded_ns, rec.fingerprint)


def roots_digest(roots: list[NodeSpec]) -> str:
    return fingerprint.of_value([s.to_json() for s in roots])


class _Restart(Exception):
    """The optimistic walk met a changed structure; continue in rounds."""


class _NotTargetable(Exception):
    """A targeted walk met something it cannot prove exact: build in full."""


#: Meta key: the rules digest the stored state was built with.
RULES = "rules"

#: Meta key: "1" when every node of the stored graph was declared exactly once
#: (by one root or one expander), which makes patching an expander's children
#: in place exact; "0" or absent: any structure change declares the graph anew.
DECLARED_ONCE = "declared_once"


class Builder:
    """One build. Use :func:`build`."""

    def __init__(self, root: str, roots: list[NodeSpec], rules: Mapping[str, Rule],
                 store: Optional[Store], prev: Previous, force: bool,
                 max_file_bytes: int, progress: Optional[Callable[[int, int], None]] = None,
                 known_stamps: Optional[Mapping[str, Stamp]] = None) -> None:
        self.roots = roots
        self.rules = rules
        self.store = store
        self.prev = prev
        self.force = force
        self.reader = SourceReader(root, max_file_bytes, known_stamps)
        self.verifier = Verifier(force, prev.absent)
        self.specs: dict[str, NodeSpec] = {}
        self.fps: dict[str, str] = {}
        self.computed: dict[str, JSON] = {}
        self.src: dict[str, SourceRecord] = {}
        self.decisions: list[ex.Decision] = []
        self.order: list[str] = []
        self.done: set[str] = set()
        #: Recomputed nodes: their new trace and their value as canonical JSON text.
        self.traces: dict[str, tuple[Trace, str]] = {}
        self.counters = BuildCounters()
        self.structure_changed = False
        #: Called after each node with (nodes done, nodes known so far).
        self.progress = progress
        #: True while every declaration passes through _add_spec (clean builds,
        #: after a restart): then ``declared_twice`` counts keys declared again.
        self.counting = True
        self.declared_twice = 0
        #: Children whose spec an expander changed during the stored-order walk.
        self.patched: set[str] = set()
        #: Only the dependents of changed sources are visited (see the module docstring).
        self.targeted = prev.targeted
        #: The targeted walk's nodes still to visit, by stored position (see _walk_targeted).
        self._pending: list[str] = []
        self._next = 0
        #: Derived nodes per kind of the finished graph (set by commit()).
        self.kinds: Optional[dict[str, int]] = None
        #: Nodes a targeted walk added to the graph, with their stored positions.
        self.new_nodes: dict[str, float] = {}

    # -- the walk ----------------------------------------------------------
    def run(self) -> None:
        if self.targeted:
            self._walk_targeted()
            return
        digest = roots_digest(self.roots)
        for spec in self.roots:
            self._add_spec(spec)
        prev = self.prev
        if prev.order and prev.meta.get("order") not in (None, fingerprint.of_value(prev.order)):
            # rows of the nodes table are missing (or foreign): a node absent
            # from the stored order would silently leave the graph for good
            raise StoreDamaged("the stored schedule does not match the stored nodes")
        if prev.order and prev.meta.get("roots") == digest and not self.force:
            self.counting = False  # reused expanders declare nothing in this walk
            try:
                self._walk_stored_order()
            except _Restart:
                self._respec_from_expanders()
        else:
            self.structure_changed = True
        self._rounds()

    def _walk_stored_order(self) -> None:
        prev = self.prev
        for key in prev.order:
            spec = self.specs.get(key)
            if spec is None:
                self.specs[key] = prev.traces[key].spec
            elif key in self.patched and any(i not in self.fps for i in spec.inputs if not is_source(i)):
                raise _Restart()  # its new inputs are not built yet: schedule in rounds
            self._evaluate(key, optimistic=True)

    def _walk_targeted(self) -> None:
        """Visit the dependents of the changed sources, in stored order.

        The stored order is topological, so a node comes after everything it
        reads; inputs outside the visited set are unchanged (their stored
        fingerprints were loaded with the set). Children that an expander
        patches join the walk with their own dependents.
        """
        prev = self.prev
        self.counting = False
        # nodes outside the walk are unchanged: their stored fingerprints stand
        self.fps.update(prev.outside)
        self._pending = list(prev.order)  # in stored order; _visit_also merges more in
        self._next = 0
        while self._next < len(self._pending):
            key = self._pending[self._next]
            self._next += 1
            if key in self.done:
                continue
            spec = self.specs.get(key)
            if spec is None:
                self.specs[key] = prev.traces[key].spec
            self._evaluate(key, optimistic=True)
        total = prev.node_count + len(self.new_nodes)
        self.counters.visited = self.counters.nodes
        self.counters.nodes = total
        self.counters.reused = total - self.counters.recomputed

    def _patch_children(self, key: str, children: list[NodeSpec]) -> bool:
        """An expander's value changed during the stored-order walk: give its children
        their new specs in place, if that is provably what a clean build would do.

        It is when the expander declares the same keys as before and the last graph
        declared every node once (no other expander declares these keys). Otherwise
        False: the caller declares the whole graph again.
        """
        if self.prev.meta.get(DECLARED_ONCE) != "1" or self.store is None:
            return False
        old = {}
        for data in self.store.value(key):
            child = NodeSpec.from_json(data)
            old[child.key] = child
        new = [c for c in children if c.key not in old]
        if len(children) - len(new) != len(old):
            if self.targeted:
                raise _NotTargetable(f"children of {key} leave the graph")
            return False  # nodes vanish
        if new and not self.targeted:
            return False  # nodes appear: the graph is declared again
        changed = [c for c in children if c.key in old and c != old[c.key]]
        if any(c.key in self.done for c in changed):
            return False  # cannot happen in a stored order (children follow their expander)
        if self.targeted:
            for c in changed:
                if any(is_source(i) and i not in c.inputs for i in old[c.key].inputs):
                    # a source may leave the graph: only the full walk can tell
                    raise _NotTargetable(f"{c.key} no longer reads a source")
            if changed:
                self._visit_also(key, [c.key for c in changed])
            if new:
                self._place_new(key, new, changed)
        for child in changed:
            self.specs[child.key] = child
            self.patched.add(child.key)
        self.structure_changed = True
        return True

    def _visit_also(self, expander: str, keys: list[str]) -> None:
        """Targeted walk: patched children (and what depends on them) must be
        visited too; they follow their expander in the stored order."""
        prev = self.prev
        assert self.store is not None
        added = self.store.extend_targeted(prev, keys)
        for k in added:
            if prev.positions[k] <= prev.positions[expander]:
                raise _NotTargetable(f"{k} is stored before {expander}")
        self._schedule(added)
        if any(k not in prev.traces for k in keys):
            raise _NotTargetable("a patched child is not stored")

    def _place_new(self, expander: str, new: list[NodeSpec], changed: list[NodeSpec]) -> None:
        """Targeted walk: new children of ``expander`` join the graph at a position
        between the expander and the first node that reads them (the stored order
        stays topological). Supported for children that read sources only and are
        read only by their siblings — per-file nodes, as a new file makes; anything
        else is left to the full walk."""
        prev = self.prev
        assert self.store is not None
        keys = [c.key for c in new]
        if self.store.fingerprints(keys) or any(k in self.specs for k in keys):
            raise _NotTargetable("a new child is declared elsewhere")
        low = prev.positions[expander]
        for c in new:
            if any(not is_source(i) for i in c.inputs):
                raise _NotTargetable(f"new node {c.key} reads derived nodes")
            readers = [prev.positions[r.key] for r in changed if c.key in r.inputs]
            high = min(readers) if readers else low + 1
            position = (low + high) / 2
            if not low < position < high:
                raise _NotTargetable("no room left in the stored order")
            self.specs[c.key] = c
            prev.positions[c.key] = position
            self.new_nodes[c.key] = position
        self._schedule(keys)

    def _schedule(self, keys: list[str]) -> None:
        """Merge ``keys`` into what the targeted walk has still to visit, in stored order."""
        if keys:
            positions = self.prev.positions
            rest = self._pending[self._next:] + keys
            rest.sort(key=lambda k: (positions[k], k))
            self._pending[self._next:] = rest

    def _respec_from_expanders(self) -> None:
        """After a structure change: the graph is the roots plus what evaluated expanders produce."""
        self.structure_changed = True
        self.counting = True
        self.declared_twice = 0
        self.patched = set()
        self.specs = {}
        for spec in self.roots:
            self._add_spec(spec)
        for key in self.order:
            spec = self.prev.traces[key].spec if key not in self.specs else self.specs[key]
            rule = self._rule(spec)
            if rule.expands:
                for child in self._value(key):
                    self._add_spec(NodeSpec.from_json(child))

    def _rounds(self) -> None:
        """Visit the nodes the stored order did not cover, in topological rounds.

        Each round runs every pending node whose inputs are known; expanders
        that run declare more nodes for the next round.
        """
        while True:
            pending = [k for k in self.specs if k not in self.done]
            if not pending:
                return
            from . import schedule  # graphlib: only when the stored order did not cover everything

            runnable = schedule.ready(self.specs, pending, self.done)
            if not runnable:
                missing = sorted(
                    {i for k in pending for i in self.specs[k].inputs
                     if not is_source(i) and i not in self.specs}
                )
                raise BuildError(
                    "nodes read inputs that no rule produces: " + ", ".join(missing[:10])
                )
            for key in schedule.order(self.specs, runnable):
                self._evaluate(key, optimistic=False)

    def _add_spec(self, spec: NodeSpec) -> None:
        old = self.specs.get(spec.key)
        if old is not None:
            if old != spec:
                raise BuildError(f"node {spec.key} is produced twice with different inputs")
            self.declared_twice += 1
        if is_source(spec.key):
            raise BuildError(f"{spec.key}: source keys (file:, dir:) cannot be declared as derived nodes")
        self.specs[spec.key] = spec

    def _rule(self, spec: NodeSpec) -> Rule:
        rule = self.rules.get(spec.kind)
        if rule is None:
            raise BuildError(f"no rule for node kind {spec.kind!r} (node {spec.key})")
        return rule

    # -- sources -----------------------------------------------------------
    def _source_fp(self, key: str) -> str:
        rec = self.src.get(key)
        if rec is None:
            before = self.prev.sources.get(key)
            if before is None and self.targeted and self.store is not None:
                # an input a patched child reads now: the stored record, if any
                before = self.store.source_records([key]).get(key)
                if before is not None:
                    self.prev.sources[key] = before
            # forced: no stored stamp is trusted, every source is read again
            rec = self.reader.check(key, None if self.force else before)
            self.src[key] = rec
            self.decisions.append(self.verifier.source(key, before, rec))
        return rec.fingerprint

    # -- values ------------------------------------------------------------
    def _value(self, key: str) -> JSON:
        if is_source(key):
            self._source_fp(key)
            rec = self.src[key]
            if key.startswith("dir:"):
                return rec.value
            value, fresh = self.reader.file_value(key, rec)
            if fresh is not rec:
                self.src[key] = fresh
            return value
        if key in self.computed:
            return self.computed[key]
        if self.store is None:
            raise StoreDamaged(f"no value for {key}")
        value = self.store.value(key)
        self.computed[key] = value
        return value

    # -- one node ----------------------------------------------------------
    def _evaluate(self, key: str, optimistic: bool) -> None:
        spec = self.specs[key]
        rule = self._rule(spec)
        trace = self.prev.traces.get(key)
        fps, src = self.fps, self.src
        input_fps = [
            fps[i] if i in fps  # a derived node built before this one
            else src[i].fingerprint if i in src  # a source already checked
            else self._source_fp(i) if is_source(i) else self._dep_fp(key, i, optimistic)
            for i in spec.inputs
        ]
        why = self.verifier.check(spec, rule, trace, input_fps)
        self.counters.nodes += 1
        if why is None:
            self.fps[key] = trace.fingerprint  # type: ignore[union-attr]
            self.decisions.append(self.verifier.reused(key, spec.kind))
            self.counters.reused += 1
            if rule.expands and not optimistic:
                # scheduled in rounds, nothing else will declare its children
                for child in self._value(key):
                    self._add_spec(NodeSpec.from_json(child))
            self._finish(key)
            return
        values = [self._value(i) for i in spec.inputs]
        # a file read now may differ from its stamp check: record what was used
        input_fps = [self.src[i].fingerprint if is_source(i) else self.fps[i] for i in spec.inputs]
        t0 = time.perf_counter()
        try:
            out = rule.compute(spec.param, values)
        except Exception as exc:  # noqa: BLE001 - reported with the node's name
            raise NodeFailed(key, exc) from exc
        wall = time.perf_counter() - t0
        if rule.expands:
            children = list(out)
            for child in children:
                if not isinstance(child, NodeSpec):
                    raise NodeFailed(key, TypeError(f"expander returned {type(child).__name__}, not NodeSpec"))
            value: JSON = [c.to_json() for c in children]
        else:
            value = out
        try:
            encoded = fingerprint.canonical_json(value)  # encoded once: fingerprinted and stored
        except (TypeError, ValueError) as exc:
            raise NodeFailed(key, TypeError(f"value is not JSON data: {exc}")) from exc
        fp = fingerprint.of_bytes(encoded.encode("utf-8"))
        self.fps[key] = fp
        self.computed[key] = value
        self.traces[key] = (Trace(spec, rule.version, input_fps, fp), encoded)
        decision = self.verifier.recomputed(key, spec.kind, trace, fp, why, wall)
        self.decisions.append(decision)
        cut = decision.status == ex.CUT_OFF
        self.counters.recomputed += 1
        if cut:
            self.counters.cut_off += 1
        if rule.expands:
            if optimistic:
                # the stored order already holds the children of an unchanged expander
                if not cut and not self._patch_children(key, children):
                    self._finish(key)
                    raise _Restart()
            else:
                for child in children:
                    self._add_spec(child)
        self._finish(key)

    def _finish(self, key: str) -> None:
        self.done.add(key)
        self.order.append(key)
        if self.progress is not None:
            self.progress(len(self.done), len(self.specs))

    def _dep_fp(self, key: str, dep: str, optimistic: bool = False) -> str:
        fp = self.fps.get(dep)
        if fp is None and self.targeted:
            # not visited by this walk: unchanged, unless it is still to come
            if dep in self.prev.traces:
                raise _NotTargetable(f"{key} now reads {dep}, which comes later in the stored order")
            fp = self.prev.outside.get(dep)
            if fp is None and self.store is not None:
                fp = self.store.fingerprints([dep]).get(dep)
            if fp is None:
                raise _NotTargetable(f"{key} now reads {dep}, which is not stored")
            self.fps[dep] = fp
            return fp
        if fp is None:
            if optimistic:
                # the stored order was topological when written: a node it
                # lacks means rows of the store are missing
                raise StoreDamaged(f"stored order lacks {dep}, which {key} reads")
            raise BuildError(f"{key} reads {dep}, which is not built before it")
        return fp

    # -- result ------------------------------------------------------------
    def commit(self) -> Commit:
        prev = self.prev
        c = Commit()
        for key, rec in self.src.items():
            before = prev.sources.get(key)
            if before is None or (rec.refreshed and _record_moved(before, rec)):
                c.sources_upsert[key] = rec
        if self.targeted:
            # the stored order stands; nothing leaves the graph; new nodes come
            # with their positions
            c.nodes_upsert = dict(self.traces)
            c.positions = dict(self.new_nodes)
            kinds = dict(json.loads(prev.meta[KINDS]))
            for key in self.new_nodes:
                kind = self.specs[key].kind
                kinds[kind] = kinds.get(kind, 0) + 1
            self.kinds = kinds
            if self.new_nodes:
                assert self.store is not None
                c.meta[KINDS] = fingerprint.canonical_json(kinds)
                # the digest of the stored order covers the new nodes (see run())
                positions = dict(self.store.positions_in_order())
                positions.update(self.new_nodes)
                c.meta["order"] = fingerprint.of_value(sorted(positions, key=lambda k: (positions[k], k)))
            return c
        c.sources_delete = [k for k in prev.sources if k not in self.src]
        c.nodes_upsert = dict(self.traces)
        c.nodes_delete = [k for k in prev.traces if k not in self.specs]
        if self.order != prev.order:
            c.order = list(self.order)
        digest = roots_digest(self.roots)
        if prev.meta.get("roots") != digest:
            c.meta["roots"] = digest
        order_fp = fingerprint.of_value(self.order)
        if prev.meta.get("order") != order_fp:
            c.meta["order"] = order_fp
        if self.counting:  # else the walk declared nothing new: the stored answer stands
            once = "1" if self.declared_twice == 0 else "0"
            if prev.meta.get(DECLARED_ONCE) != once:
                c.meta[DECLARED_ONCE] = once
        rules = rules_digest(self.rules)
        if prev.meta.get(RULES) != rules:
            c.meta[RULES] = rules
        self.kinds = count_kinds(self.specs, self.order)
        kinds = fingerprint.canonical_json(self.kinds)
        if prev.meta.get(KINDS) != kinds:
            c.meta[KINDS] = kinds
        return c


def build(root: str, roots: list[NodeSpec], rules: Mapping[str, Rule],
          store: Optional[Store] = None, *, force: bool = False,
          max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
          progress: Optional[Callable[[int, int], None]] = None,
          known_stamps: Optional[Mapping[str, Stamp]] = None,
          changed: Optional[Collection[str]] = None, generation: Optional[str] = None) -> BuildResult:
    """Bring every node reachable from ``roots`` up to date; does not commit.

    ``known_stamps`` (absolute path → stamp) are stamps the caller observed just
    before, e.g. while checking the fast-path snapshot: a source whose known stamp
    equals its stored one is not stat'ed again.

    ``changed`` (source keys) and ``generation``: the caller vouches that every
    other stored source still has its stored, trusted stamp, as observed against
    the stored state of that generation. Then the build is targeted (see the
    module docstring) — if the store still holds that generation, built with
    the same roots and rules; otherwise, or if the targeted walk cannot be
    exact, it is a full walk.

    With ``store=None`` the build is clean and in memory. The caller commits
    ``result.commit`` (see ``session.py``). A store found damaged while loading
    values is discarded and the build restarts clean (``store.warnings`` says so).
    """
    started_ns = time.time_ns()
    t0 = time.perf_counter()
    if changed is not None and generation is not None and store is not None and not force:
        result = _targeted(root, roots, rules, store, changed, generation, max_file_bytes, progress,
                           known_stamps, started_ns, t0)
        if result is not None:
            return result

    def attempt(first: bool) -> Builder:
        prev = Previous()
        if store is not None:
            prev = store.load()
            if store.damaged_on_open and prev.absent:
                prev.absent = "damaged"
        builder = Builder(root, roots, rules, store, prev, force, max_file_bytes, progress, known_stamps)
        builder.run()
        return builder

    builder = with_recovery(store, attempt)
    return _result(builder, builder.prev, force, store, started_ns, t0)


#: More changed sources than this: a full walk is cheaper than chasing them.
MAX_TARGETED_CHANGES = 500


def _targeted(root: str, roots: list[NodeSpec], rules: Mapping[str, Rule], store: Store,
              changed: Collection[str], generation: str, max_file_bytes: int,
              progress: Optional[Callable[[int, int], None]], known_stamps: Optional[Mapping[str, Stamp]],
              started_ns: int, t0: float) -> Optional[BuildResult]:
    """A targeted build, or None when only a full walk can be exact."""
    from .store import GENERATION

    if len(changed) > MAX_TARGETED_CHANGES:
        return None
    expect = {GENERATION: generation, "roots": roots_digest(roots), RULES: rules_digest(rules)}
    try:
        prev = store.load_targeted(sorted(changed), expect)
        if prev is None:
            return None
        builder = Builder(root, roots, rules, store, prev, False, max_file_bytes, progress, known_stamps)
        builder.run()
    except (_NotTargetable, _Restart, StoreDamaged):
        # the full walk decides again from the whole stored state (and deals
        # with a damaged store as it always does)
        return None
    rc = builder.reader.counters
    # every stored source was stat'ed by the caller's check (its known stamps),
    # and the build stat'ed the sources it met for the first time
    new_sources = sum(1 for k in builder.src if k not in prev.sources)
    rc.stat = max(rc.stat, prev.source_count + new_sources)
    return _result(builder, prev, False, store, started_ns, t0)


def _result(builder: Builder, prev: Previous, force: bool, store: Optional[Store], started_ns: int,
            t0: float) -> BuildResult:
    counters = builder.counters
    if not builder.targeted:
        counters.visited = counters.nodes
    rc = builder.reader.counters
    counters.files_stat, counters.files_read = rc.stat, rc.read
    counters.files_hashed, counters.dirs_listed = rc.hashed, rc.listed
    commit = builder.commit()
    changed_sources = any(d.status == ex.RAN for d in builder.decisions if is_source(d.key))
    if prev.absent or force:
        mode = "full"
    elif counters.recomputed == 0 and not changed_sources and not commit.writes_state():
        mode = "noop"
    else:
        mode = "incremental"
    if builder.targeted:
        # the graph is the stored one (plus what the walk added): keys and
        # values come from the store when asked
        keys, values = None, ValueMap(None, builder.computed, store, builder.new_nodes)
        source_count: Optional[int] = prev.source_count + sum(1 for k in builder.src if k not in prev.sources)
    else:
        keys = list(builder.order)
        values, source_count = ValueMap(keys, builder.computed, store), None
    return BuildResult(
        specs=builder.specs,
        order=keys,
        values=values,
        decisions=builder.decisions,
        counters=counters,
        fingerprints={**{k: r.fingerprint for k, r in builder.src.items()}, **builder.fps},
        sources=builder.src,
        mode=mode,
        started_ns=started_ns,
        duration_s=time.perf_counter() - t0,
        commit=commit,
        structure_changed=builder.structure_changed,
        targeted=builder.targeted,
        kind_counts=builder.kinds,
        source_count=source_count,
    )
