"""A build: bring every node reachable from the roots up to date.

The rebuilder follows the verifying-trace model with early cutoff (as in Shake
and Salsa). For every derived node the store keeps a *trace* — its spec, its
rule version, the fingerprints of its inputs when it was last computed, and the
fingerprint of its value — and a build, for each node it visits:

1. compares the trace with what the node is now (``verify.py``); if it holds
   the stored value is reused — nothing is read, nothing is computed;
2. otherwise recomputes it, and fingerprints the new value: if it equals the old
   one the node is *cut off* — its dependents see an unchanged input and are
   reused in turn.

How the nodes are visited is a walk over one shared :class:`BuildState`
(``state.py``): the *targeted* walk (``walk_targeted.py``) visits only the
dependents of the sources the caller names as changed; the *full* walk
(``walk_full.py``) visits the whole graph. :func:`build` chooses, once and
before walking: targeted when it can be exact (see :func:`_choose_walk`),
and if the targeted walk meets something it cannot prove exact it says so and
the full walk runs instead.

The invariant, tested by property tests: the values after an incremental build
equal the values of a clean build of the same files.
"""

from __future__ import annotations

import time

from . import explain as ex
from .sources import DEFAULT_MAX_FILE_BYTES
from .spec import is_source
from .state import BuildError, BuildState, NodeFailed, count_kinds, roots_digest, rules_digest
from .store import GENERATION, KINDS, ROOTS, RULES, Commit, Previous, StoreDamaged, with_recovery
from .walk_targeted import TargetedWalk

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Optional

    from .sources import SourceRecord
    from .spec import JSON, NodeSpec, Rule
    from .stamp import KnownStamps
    from .state import BuildCounters
    from .store import Store
    from .walk_full import FullWalk

__all__ = ["BuildError", "NodeFailed", "BuildResult", "ValueMap", "build", "FULL", "INCREMENTAL", "NOOP",
           "MAX_TARGETED_CHANGES"]

#: Build modes (``BuildResult.mode``; stored with each build and used as the
#: ``mode`` label of the builds counter, so the values are a contract):
#: a build without a usable previous state, or forced;
FULL = "full"
#: one that recomputed or rewrote something;
INCREMENTAL = "incremental"
#: one that found everything as stored and writes nothing.
NOOP = "noop"

#: More changed sources than this: a full walk is cheaper than chasing them.
MAX_TARGETED_CHANGES = 500


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
    give the sizes of the whole graph either way. ``full_walk_reason`` says
    why a build that is not targeted walked the whole graph.
    """

    __slots__ = ("specs", "_order", "values", "decisions", "counters", "fingerprints", "sources", "mode",
                 "started_ns", "duration_s", "commit", "structure_changed", "targeted", "kind_counts",
                 "source_count", "full_walk_reason")

    def __init__(self, specs: dict[str, NodeSpec], order: Optional[list[str]], values: ValueMap,
                 decisions: list[ex.Decision], counters: BuildCounters, fingerprints: dict[str, str],
                 sources: dict[str, SourceRecord], mode: str, started_ns: int, duration_s: float,
                 commit: Optional[Commit] = None, structure_changed: bool = False, targeted: bool = False,
                 kind_counts: Optional[dict[str, int]] = None, source_count: Optional[int] = None,
                 full_walk_reason: Optional[str] = None) -> None:
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
        self.full_walk_reason = full_walk_reason

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


def build(root: str, roots: list[NodeSpec], rules: Mapping[str, Rule],
          store: Optional[Store] = None, *, force: bool = False,
          max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
          progress: Optional[Callable[[int, int], None]] = None,
          known_stamps: Optional[KnownStamps] = None,
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

    def new_state(prev: Previous) -> BuildState:
        return BuildState(root, roots, rules, store, prev, force, max_file_bytes, progress, known_stamps)

    targeted = _choose_walk(store, changed, generation, force, roots, rules)
    if isinstance(targeted, Previous):
        walk = TargetedWalk(new_state(targeted))
        why_full = _walk_targeted(walk)
        if why_full is None:
            return _targeted_result(walk, started_ns, t0)
    else:
        why_full = targeted

    def attempt(first: bool) -> FullWalk:
        from .walk_full import FullWalk  # here: a targeted build never needs it

        full = FullWalk(new_state(_load(store)))
        full.run()
        return full

    return _full_result(with_recovery(store, attempt), why_full, started_ns, t0)


def _choose_walk(store: Optional[Store], changed: Optional[Collection[str]], generation: Optional[str],
                   force: bool, roots: list[NodeSpec], rules: Mapping[str, Rule]) -> Previous | str:
    """The walk, chosen before walking: the stored state a targeted walk starts
    from, or why the build must walk the whole graph.

    A targeted walk is exact only if the caller's view of the sources was taken
    against the stored state (same generation) and that state was built with
    the same roots and rules; a forced build trusts nothing stored.
    """
    if changed is None or generation is None:
        return "the changed sources are not known"
    if store is None:
        return "no store"
    if force:
        return "forced"
    if len(changed) > MAX_TARGETED_CHANGES:
        return f"more than {MAX_TARGETED_CHANGES} sources changed"
    try:
        meta = store.meta_items()
        if meta.get(GENERATION) != generation:
            return "the store changed since the sources were observed"
        if meta.get(ROOTS) != roots_digest(roots) or meta.get(RULES) != rules_digest(rules):
            return "the roots or the rules changed"
        if KINDS not in meta:
            return "the store does not count its nodes"
        return store.load_targeted(sorted(changed), meta)
    except StoreDamaged as exc:
        return f"the store is damaged ({exc})"  # the full walk loads it whole and deals with it


def _walk_targeted(walk: TargetedWalk) -> Optional[str]:
    """Run the targeted walk; None when it finished, else why the full walk must run."""
    try:
        stop = walk.run()
    except StoreDamaged as exc:
        return f"the store is damaged ({exc})"  # the full walk loads it whole and deals with it
    return None if stop is None else stop.why


def _load(store: Optional[Store]) -> Previous:
    """The whole stored state (none without a store)."""
    if store is None:
        return Previous()
    prev = store.load()
    if store.damaged_on_open and prev.absent:
        prev.absent = "damaged"
    return prev


def _targeted_result(walk: TargetedWalk, started_ns: int, t0: float) -> BuildResult:
    state = walk.state
    prev = state.prev
    rc = state.reader.counters
    # every stored source was stat'ed by the caller's check (its known stamps),
    # and the build stat'ed the sources it met for the first time
    new_sources = sum(1 for k in state.src if k not in prev.sources)
    rc.stat = max(rc.stat, prev.source_count + new_sources)
    commit, kinds = walk.commit()
    # the graph is the stored one (plus what the walk added): keys and values
    # come from the store when asked
    values = ValueMap(None, state.computed, state.store, walk.new_nodes)
    return _result(state, commit, kinds, None, values, prev.source_count + new_sources, None, started_ns, t0)


def _full_result(walk: FullWalk, why_full: str, started_ns: int, t0: float) -> BuildResult:
    state = walk.state
    state.counters.visited = state.counters.nodes
    commit, kinds = walk.commit()
    keys = list(state.order)
    values = ValueMap(keys, state.computed, state.store)
    return _result(state, commit, kinds, keys, values, None, why_full, started_ns, t0)


def _result(state: BuildState, commit: Commit, kinds: dict[str, int], keys: Optional[list[str]], values: ValueMap,
            source_count: Optional[int], why_full: Optional[str], started_ns: int, t0: float) -> BuildResult:
    counters = state.counters
    rc = state.reader.counters
    counters.files_stat, counters.files_read = rc.stat, rc.read
    counters.files_hashed, counters.dirs_listed = rc.hashed, rc.listed
    return BuildResult(
        specs=state.specs,
        order=keys,
        values=values,
        decisions=state.decisions,
        counters=counters,
        fingerprints={**{k: r.fingerprint for k, r in state.src.items()}, **state.fps},
        sources=state.src,
        mode=_mode(state, commit),
        started_ns=started_ns,
        duration_s=time.perf_counter() - t0,
        commit=commit,
        structure_changed=state.structure_changed,
        targeted=why_full is None,
        kind_counts=kinds,
        source_count=source_count,
        full_walk_reason=why_full,
    )


def _mode(state: BuildState, commit: Commit) -> str:
    if state.prev.absent or state.force:
        return FULL
    if (state.counters.recomputed == 0 and not commit.writes_state()
            and not any(d.status == ex.RAN for d in state.decisions if is_source(d.key))):
        return NOOP
    return INCREMENTAL
