"""One build's state, and the evaluation of one node, shared by every walk.

A walk (``walk_full.py``, ``walk_targeted.py``) decides *which* nodes to visit
and in what order; :meth:`BuildState.evaluate` does the same thing for a node
whichever walk asks: gather its inputs' fingerprints, ask the verifier
(``verify.py``) whether the stored value holds, and if not run the rule and
record the new trace. What differs between walks — where a derived input's
fingerprint comes from when this build has not computed it, what an expander's
new children mean — the walk answers through the three hooks of :class:`Walk`.

A walk that cannot go on as it is (the stored order met a changed structure,
a targeted walk met something it cannot prove exact) gets a :class:`Stop`
back, and returns it in turn: stopping is an answer, not an exception.
Exceptions are errors: :class:`BuildError` (the graph is wrong),
:class:`NodeFailed` (a rule raised), ``StoreDamaged`` (the cache lies).
"""

from __future__ import annotations

import time

from . import explain as ex
from . import fingerprint
from .sources import SourceReader
from .spec import NodeSpec, is_source
from .store import StoreDamaged, Trace
from .verify import Verifier

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, Mapping, Optional

    from .sources import SourceRecord
    from .spec import JSON, Rule
    from .stamp import KnownStamps
    from .store import Previous, Store


class BuildError(Exception):
    """The graph itself is wrong (unknown kind, unknown input, cycle, clash)."""


class NodeFailed(BuildError):
    """A rule raised: the node could not be computed."""

    def __init__(self, key: str, exc: BaseException) -> None:
        self.key = key
        self.exc = exc
        super().__init__(f"computing {key} failed: {type(exc).__name__}: {exc}")


class Stop:
    """Why a walk cannot go on as it is; returned up to whoever chose the walk."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"Stop({self.why!r})"


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


class Walk:
    """What a walk tells :meth:`BuildState.evaluate`; the defaults are the plain
    answers, each walk overrides what it knows better."""

    __slots__ = ()

    def input_fp(self, key: str, dep: str) -> str:
        """The fingerprint of ``dep``, a derived input of ``key`` this build has not computed."""
        raise BuildError(f"{key} reads {dep}, which is not built before it")

    def reused_expander(self, key: str) -> None:
        """``key``, an expander, kept its stored value."""

    def expanded(self, key: str, children: list[NodeSpec], cut: bool) -> Optional[Stop]:
        """``key``, an expander, ran and produced ``children`` (``cut``: the same value as stored)."""
        return None


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


def roots_digest(roots: list[NodeSpec]) -> str:
    """One fingerprint of the roots: a stored order, and a targeted walk over
    it, hold only for the roots the stored graph was declared from."""
    return fingerprint.of_value([s.to_json() for s in roots])


def _record_moved(before: SourceRecord, rec: SourceRecord) -> bool:
    """False when a source read again left its stored record exactly as it was
    (a listing that is always re-checked): rewriting it would turn a no-op
    into a write."""
    return (before.stamp, before.recorded_ns, before.fingerprint) != (rec.stamp, rec.recorded_ns, rec.fingerprint)


class BuildState:
    """Everything one build knows and produces, whichever walk fills it.

    ``specs``: the graph as far as known; ``fps``: fingerprints of derived
    nodes (computed, reused, or stored ones a targeted walk reads); ``computed``:
    values this build holds; ``src``: the records of the sources it checked;
    ``decisions`` and ``order``: what happened to each node visited, in visit
    order; ``traces``: what the commit writes for the nodes that ran.
    ``progress`` is called after each node with (nodes done, nodes known).
    """

    __slots__ = ("roots", "rules", "store", "prev", "force", "reader", "verifier", "progress", "specs", "fps",
                 "computed", "src", "decisions", "order", "done", "traces", "counters", "structure_changed")

    def __init__(self, root: str, roots: list[NodeSpec], rules: Mapping[str, Rule], store: Optional[Store],
                 prev: Previous, force: bool, max_file_bytes: int,
                 progress: Optional[Callable[[int, int], None]] = None,
                 known_stamps: Optional[KnownStamps] = None) -> None:
        self.roots = roots
        self.rules = rules
        self.store = store
        self.prev = prev
        self.force = force
        self.reader = SourceReader(root, max_file_bytes, known_stamps)
        self.verifier = Verifier(force, prev.absent)
        self.progress = progress
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

    # -- one node ----------------------------------------------------------
    def evaluate(self, key: str, walk: Walk) -> Optional[Stop]:
        """Reuse ``key``'s stored value if its trace holds, else recompute it."""
        spec = self.specs[key]
        rule = self.rule(spec)
        trace = self.prev.traces.get(key)
        fps, src = self.fps, self.src
        input_fps = [
            fps[i] if i in fps  # a derived node built before this one
            else src[i].fingerprint if i in src  # a source already checked
            else self.source_fp(i) if is_source(i) else walk.input_fp(key, i)
            for i in spec.inputs
        ]
        why = self.verifier.check(spec, rule, trace, input_fps)
        self.counters.nodes += 1
        if why is None:
            self.fps[key] = trace.fingerprint  # type: ignore[union-attr]
            self.decisions.append(self.verifier.reused(key, spec.kind))
            self.counters.reused += 1
            if rule.expands:
                walk.reused_expander(key)
            self.finish(key)
            return None
        return self._recompute(key, spec, rule, trace, why, walk)

    def _recompute(self, key: str, spec: NodeSpec, rule: Rule, trace: Optional[Trace],
                   why: tuple[str, dict], walk: Walk) -> Optional[Stop]:
        values = [self.value(i) for i in spec.inputs]
        # a file read now may differ from its stamp check: record what was used
        input_fps = [self.src[i].fingerprint if is_source(i) else self.fps[i] for i in spec.inputs]
        t0 = time.perf_counter()
        try:
            out = rule.compute(spec.param, values)
        except Exception as exc:  # noqa: BLE001 - reported with the node's name
            raise NodeFailed(key, exc) from exc
        wall = time.perf_counter() - t0
        children: list[NodeSpec] = []
        if rule.expands:
            children = _children(key, out)
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
        self.counters.recomputed += 1
        cut = decision.status == ex.CUT_OFF
        if cut:
            self.counters.cut_off += 1
        stop = walk.expanded(key, children, cut) if rule.expands else None
        self.finish(key)
        return stop

    def finish(self, key: str) -> None:
        self.done.add(key)
        self.order.append(key)
        if self.progress is not None:
            self.progress(len(self.done), len(self.specs))

    def rule(self, spec: NodeSpec) -> Rule:
        rule = self.rules.get(spec.kind)
        if rule is None:
            raise BuildError(f"no rule for node kind {spec.kind!r} (node {spec.key})")
        return rule

    # -- sources and values ------------------------------------------------
    def source_fp(self, key: str) -> str:
        """Check a source once per build (by stamp; read only if it moved)."""
        rec = self.src.get(key)
        if rec is None:
            before = self.prev.sources.get(key)
            # forced: no stored stamp is trusted, every source is read again
            rec = self.reader.check(key, None if self.force else before)
            self.src[key] = rec
            self.decisions.append(self.verifier.source(key, before, rec))
        return rec.fingerprint

    def value(self, key: str) -> JSON:
        """An input's value: a source's content, or a derived node's value (the
        stored one, loaded now, if this build reused it)."""
        if is_source(key):
            self.source_fp(key)
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

    def stored_children(self, key: str) -> dict[str, NodeSpec]:
        """The children an expander declared in the last build, by key."""
        assert self.store is not None
        old = {}
        for data in self.store.value(key):
            child = NodeSpec.from_json(data)
            old[child.key] = child
        return old

    def sources_to_write(self) -> dict[str, SourceRecord]:
        """The source records the commit must write: new ones, and those read
        again whose record moved."""
        out: dict[str, SourceRecord] = {}
        for key, rec in self.src.items():
            before = self.prev.sources.get(key)
            if before is None or (rec.refreshed and _record_moved(before, rec)):
                out[key] = rec
        return out


def _children(key: str, out: object) -> list[NodeSpec]:
    """An expander's value: the node specs it declares."""
    children = list(out)  # type: ignore[call-overload]
    for child in children:
        if not isinstance(child, NodeSpec):
            raise NodeFailed(key, TypeError(f"expander returned {type(child).__name__}, not NodeSpec"))
    return children
