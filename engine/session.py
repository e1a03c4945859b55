"""A build as a user runs it: lock, store, build, commit, snapshot, metrics.

This is where the engine's guarantees are put together:

* one writer at a time (``lock.py``), others wait with a message or give up;
* a damaged store is replaced with a warning, an unwritable one means a build in
  memory with a warning — either way the answer is computed and correct;
* a no-op writes nothing to the database: its metrics go to the journal;
* after a build, the fast-path snapshot is refreshed so that the next no-op
  never reaches this module.
"""

from __future__ import annotations

import os
import sqlite3
import time

from . import fastpath, journal, metrics
from .build import NOOP, BuildResult, build
from .explain import REUSED
from .lock import BuildLock
from .spec import NodeSpec, Rule
from .stamp import is_racy, stat_stamp
from .store import Store, StoreDamaged, StoreUnavailable, with_recovery

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional, Sequence

    from .stamp import KnownStamps


class SessionConfig:
    """Where and how to build.

    ``snapshot_key`` identifies what the snapshot answers for (root, options,
    formats); ``extra_paths`` are paths whose change must invalidate the
    snapshot although no node reads them (promptgen's own code, a config file),
    or a function that lists them (called only when a snapshot is written
    without an observation that already holds them).
    """

    __slots__ = ("root", "store_dir", "snapshot_key", "extra_paths", "max_file_bytes")

    def __init__(self, root: str, store_dir: str, snapshot_key: str,
                 extra_paths: Sequence[str] | Callable[[], Sequence[str]] = (),
                 max_file_bytes: int = 8 * 1024 * 1024) -> None:
        self.root = root
        self.store_dir = store_dir
        self.snapshot_key = snapshot_key
        self.extra_paths = extra_paths
        self.max_file_bytes = max_file_bytes


class Outcome:
    """A finished build. ``store`` is kept open so that stored values can still be
    read after the build (``result.values`` loads them lazily); the lock is
    already released."""

    __slots__ = ("result", "warnings", "build_id", "persisted", "store")

    def __init__(self, result: BuildResult, warnings: Optional[list[str]] = None, build_id: Optional[int] = None,
                 persisted: bool = False, store: Optional[Store] = None) -> None:
        self.result = result
        self.warnings = [] if warnings is None else warnings
        self.build_id = build_id
        self.persisted = persisted
        self.store = store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def run(config: SessionConfig, roots: list[NodeSpec], rules: Mapping[str, Rule], *,
        force: bool = False, wait: bool = True,
        on_wait: Optional[Callable[[Optional[int]], None]] = None,
        payload: Optional[Callable[[BuildResult], Any]] = None,
        extra_metrics: Optional[Callable[[BuildResult], list[metrics.Increment]]] = None,
        progress: Optional[Callable[[int, int], None]] = None,
        known_stamps: Optional[KnownStamps] = None,
        observation: Optional[fastpath.Observation] = None) -> Outcome:
    """Build under the lock and persist; raises ``LockBusy`` when ``wait`` is False.

    ``known_stamps``: stamps observed moments ago (see ``build``), also used for
    the snapshot's extra paths. ``observation``: what the fast-path check saw
    (its stamps are the known stamps); when it names the changed sources, the
    build is targeted at them (see ``build.py``) if the store is still at the
    generation the snapshot was written after.

    A store found damaged — by the build, by ``payload`` reading stored values,
    or by the commit — is replaced and the build runs once more, from scratch
    (``store.with_recovery``)."""
    targeted: Optional[fastpath.Observation] = None
    if observation is not None:
        known_stamps = observation
        if observation.usable() and not force:
            targeted = observation
    warnings: list[str] = []
    lock = _lock(config, wait, on_wait, warnings)
    store: Optional[Store] = None
    try:
        if lock is not None:
            store = _open_store(config, warnings)

        changed_sources = targeted.changed if targeted is not None else None
        generation = targeted.generation if targeted is not None else None

        def attempt(first: bool) -> Outcome:
            changed = changed_sources if first else None
            result = build(config.root, roots, rules, store, force=force, max_file_bytes=config.max_file_bytes,
                           progress=progress, known_stamps=known_stamps, changed=changed,
                           generation=generation if changed is not None else None)
            if store is not None:
                warnings.extend(w for w in store.warnings if w not in warnings)
            outcome = Outcome(result, warnings, store=store)
            _finish(config, outcome, payload, extra_metrics, known_stamps or {},
                    targeted if result.targeted else None, may_recover=first)
            return outcome

        return with_recovery(store, attempt)
    except BaseException:
        if store is not None:
            store.close()
        raise
    finally:
        if lock is not None:
            lock.release()


def _lock(config: SessionConfig, wait: bool, on_wait: Optional[Callable[[Optional[int]], None]],
          warnings: list[str]) -> Optional[BuildLock]:
    """The store's lock, held; None (with a warning) when the folder is unusable."""
    try:
        os.makedirs(config.store_dir, exist_ok=True)
        lock = BuildLock(config.store_dir)
        lock.acquire(wait=wait, on_wait=on_wait)
    except OSError as exc:
        warnings.append(f"cannot use the store in {config.store_dir} ({_why(exc)}); building without cache")
        return None
    return lock


def _open_store(config: SessionConfig, warnings: list[str]) -> Optional[Store]:
    """The store (replaced, with its warning, if it was bad); None when it cannot be used."""
    try:
        store = Store.open(config.store_dir)
    except (StoreUnavailable, sqlite3.Error) as exc:
        warnings.append(f"cannot use the store in {config.store_dir} ({_why(exc)}); building without cache")
        return None
    warnings.extend(store.warnings)
    return store


def _finish(config: SessionConfig, outcome: Outcome, payload: Optional[Callable[[BuildResult], Any]],
            extra_metrics: Optional[Callable[[BuildResult], list[metrics.Increment]]],
            known_stamps: KnownStamps, observation: Optional[fastpath.Observation],
            may_recover: bool) -> None:
    """Everything after the build: the caller's answer, metrics, the commit and
    the snapshot. ``observation``: what a targeted build started from."""
    result, store = outcome.result, outcome.store
    # the caller's views read stored values lazily: do it now, while a
    # damaged value can still be answered by a clean rebuild
    extra = extra_metrics(result) if extra_metrics else []
    data = payload(result) if payload is not None else None
    increments = metrics.for_build(result) + extra
    if store is None:
        return
    if result.mode == NOOP:
        journal.append(config.store_dir, increments)
    elif not _persist(config, outcome, increments, may_recover):
        return
    outcome.persisted = True
    if data is not None:
        _refresh_snapshot(config, result, data, known_stamps, store.generation, observation)


def _persist(config: SessionConfig, outcome: Outcome, increments: list[metrics.Increment],
             may_recover: bool) -> bool:
    """Commit the build; False (with a warning) when it could not be saved.

    Only a build that writes anyway folds the journal (in its own commit): a
    no-op must leave state.db untouched, even when earlier no-ops left lines.
    """
    result, store = outcome.result, outcome.store
    assert store is not None
    try:
        folded = journal.collect(config.store_dir, store)
    except sqlite3.Error:
        folded = None
    commit = result.commit
    commit.build = {
        "started_ns": result.started_ns,
        "duration_s": result.duration_s,
        "mode": result.mode,
        "summary": summary(result),
    }
    # reused nodes are not written: they are most of a big graph, and the
    # last build's are exactly the stored graph's other nodes (see
    # Store.reused_in_last_build)
    commit.decisions = [d for d in result.decisions if d.status != REUSED]
    commit.metrics = increments
    if folded is not None:
        commit.metrics = folded[0] + increments
        commit.meta.update(folded[1])
    try:
        outcome.build_id = store.commit(commit)
    except (StoreDamaged, sqlite3.Error) as exc:
        if may_recover and isinstance(exc, StoreDamaged):
            # pages no read had touched (a value, old decisions) are damaged:
            # the store is replaced, as if found at load time
            raise
        outcome.warnings.append(f"could not save the store ({exc}); this answer is correct but not cached")
        fastpath.remove(config.store_dir)
        return False
    if folded is not None:
        journal.rotate(config.store_dir, store, folded[1])
    return True


def summary(result: BuildResult) -> dict[str, Any]:
    """The ``promptgen build --json`` summary fields the engine knows."""
    c = result.counters
    return {
        "nodes": c.nodes,
        "recomputed": c.recomputed,
        "reused": c.reused,
        "cut_off": c.cut_off,
        "duration_s": round(result.duration_s, 6),
        "recomputed_nodes": result.recomputed_nodes,
        "cut_off_nodes": result.cut_off_nodes,
        "mode": result.mode,
        "counters": {
            "files_stat": c.files_stat,
            "files_read": c.files_read,
            "files_hashed": c.files_hashed,
            "dirs_listed": c.dirs_listed,
            "nodes_visited": c.visited,
        },
    }


def _refresh_snapshot(config: SessionConfig, result: BuildResult, answer: Any,
                      known_stamps: KnownStamps, generation: Optional[str],
                      observation: Optional[fastpath.Observation] = None) -> None:
    """Write the fast-path snapshot, unless a stamp is racy (then the next build checks).

    After a targeted build (``observation``: what it started from) the sources
    it did not look at keep the stamps the check saw — unchanged since the last
    snapshot, which proved them trusted."""
    root = os.path.abspath(config.root)
    for key, rec in result.sources.items():
        if is_racy(rec.stamp, rec.recorded_ns):
            fastpath.remove(config.store_dir)
            return
    # ``payload(result)`` gives the snapshot's payload, or (payload, blobs) with
    # large answers that only some no-ops need (see fastpath.write)
    payload, blobs = answer if isinstance(answer, tuple) else (answer, None)
    payload = dict(payload)
    payload.setdefault("kinds", result.kind_counts)
    payload["_generation"] = generation
    if observation is not None:
        # the paths it did not look at, code and config included, are unchanged
        # since the last snapshot, which found them safe
        names, kinds, stamps = observation.next_entries(result.sources)
        fastpath.write_arrays(config.store_dir, config.snapshot_key, root, names, kinds, stamps, payload, blobs)
        return
    entries: list[tuple[str, Any, Optional[str]]] = []
    for key, rec in result.sources.items():
        rel = key.split(":", 1)[1]
        entries.append((root if rel in ("", ".") else os.path.join(root, rel), rec.stamp, key))
    now = time.time_ns()
    extra = config.extra_paths() if callable(config.extra_paths) else config.extra_paths
    for path in extra:
        stamp = known_stamps.get(path) or stat_stamp(path)
        if is_racy(stamp, now):
            fastpath.remove(config.store_dir)
            return
        entries.append((path, stamp, None))
    fastpath.write(config.store_dir, config.snapshot_key, root, entries, payload, blobs)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
