"""The persistent store: one SQLite database per workspace.

It holds source stamps, node traces and values, the schedule (a topological order
of the last graph), the decisions of the last builds, and cumulative metrics.

Rules it keeps:

* A build commits in one transaction at its end, so ``kill -9`` at any moment
  leaves the previous consistent state (SQLite's rollback journal does the rest).
* A damaged, truncated, foreign or old-schema database is never trusted: it is
  discarded with a one-line warning and the build starts from nothing. The store
  is a cache; deleting it is always safe.
* Values are loaded lazily: a build that reuses a node never reads its value.
* Every edge of the graph is kept (``edges``: input → node, both ways indexed),
  so that a build told which sources changed can load just the nodes that
  depend on them (``load_targeted``), in the stored order, instead of the
  whole graph.
* Every commit that changes the state draws a new ``generation`` (meta): a
  snapshot that names the generation it was written after is provably about
  this state, whatever the file system's timestamp granularity.
"""

from __future__ import annotations

import json
import os
import sqlite3
from . import fingerprint
from .sources import SourceRecord
from .spec import NodeSpec, is_source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Optional, Sequence, TypeVar

    from .explain import Decision

    T = TypeVar("T")

# 2: values stored as the canonical JSON their fingerprint hashes
# 3: values in their own table: reading the graph (every node's trace, in
#    order) no longer reads the pages of large values
# 4: the graph's edges, the generation, the rule digest and the node counts per
#    kind: a build of a few changed sources loads only what depends on them
SCHEMA_VERSION = 4
DB_NAME = "state.db"
KEEP_BUILDS = 20

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    key TEXT PRIMARY KEY, mtime_ns INTEGER, ctime_ns INTEGER, size INTEGER, ino INTEGER,
    recorded_ns INTEGER NOT NULL, fingerprint TEXT NOT NULL, value TEXT);
CREATE TABLE nodes (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, spec TEXT NOT NULL, rule_version TEXT NOT NULL,
    input_fps TEXT NOT NULL, fingerprint TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE node_values (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE edges (input TEXT NOT NULL, node TEXT NOT NULL, PRIMARY KEY (input, node)) WITHOUT ROWID;
CREATE INDEX edges_by_node ON edges (node);
CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_ns INTEGER NOT NULL, duration_s REAL NOT NULL,
    mode TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE decisions (
    build_id INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT, detail TEXT NOT NULL, wall_s REAL NOT NULL,
    PRIMARY KEY (build_id, seq));
CREATE TABLE counters (name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (name, labels));
CREATE TABLE histograms (name TEXT NOT NULL, labels TEXT NOT NULL, buckets TEXT NOT NULL,
    sum REAL NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (name, labels));
"""


#: Meta keys: the generation of the state, and the derived nodes per kind (JSON).
#: The stored order is ``ORDER BY position, key``: a targeted build places new
#: nodes at fractional positions, which may tie (harmlessly: see
#: ``walk_targeted.TargetedWalk._place_new``).
GENERATION = "generation"
KINDS = "kinds"
#: Meta keys the builds write: digests of the roots, of the stored order and of
#: the rules the state was built with; and "1" when every node of the stored
#: graph was declared exactly once (by one root or one expander), which makes
#: patching an expander's children in place exact ("0" or absent: any
#: structure change declares the graph anew).
ROOTS = "roots"
ORDER = "order"
RULES = "rules"
DECLARED_ONCE = "declared_once"
#: Keys per ``IN (...)`` list (SQLite allows 32766 parameters; a few hundred is plenty).
_CHUNK = 500


class StoreDamaged(Exception):
    """The database cannot be trusted; the caller discards it and rebuilds.

    The message is one printable line: it ends up in a warning, and SQLite's
    messages may quote the damaged bytes themselves (newlines included).
    """

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def one_line(text: str, limit: int = 160) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class StoreUnavailable(Exception):
    """The store cannot be opened for writing (read-only folder, disk full, …)."""


class Trace:
    """What a derived node was computed from, last time."""

    __slots__ = ("spec", "rule_version", "input_fps", "fingerprint")

    def __init__(self, spec: NodeSpec, rule_version: str, input_fps: list[str], fingerprint: str) -> None:
        self.spec = spec
        self.rule_version = rule_version
        self.input_fps = input_fps
        self.fingerprint = fingerprint

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (self.spec, self.rule_version, self.input_fps, self.fingerprint) == (
            other.spec, other.rule_version, other.input_fps, other.fingerprint)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trace({self.spec!r}, {self.rule_version!r}, {self.input_fps!r}, {self.fingerprint!r})"


class Previous:
    """The state of the last committed build, as the next build sees it.

    ``absent`` says why there is no previous state: None, "missing" or "damaged".

    A *targeted* previous state (``Store.load_targeted``) holds only the nodes
    that depend on the changed sources (``order``, in stored order, with their
    ``positions``), the records of the sources they read and the fingerprints
    of the other nodes they read (``outside``); ``node_count`` and
    ``source_count`` are the sizes of the whole stored graph.
    """

    __slots__ = ("sources", "traces", "order", "meta", "absent", "positions", "outside",
                 "node_count", "source_count")

    def __init__(self, sources: Optional[dict[str, SourceRecord]] = None,
                 traces: Optional[dict[str, Trace]] = None, order: Optional[list[str]] = None,
                 meta: Optional[dict[str, str]] = None, absent: Optional[str] = "missing") -> None:
        self.sources = {} if sources is None else sources
        self.traces = {} if traces is None else traces
        self.order = [] if order is None else order
        self.meta = {} if meta is None else meta
        self.absent = absent
        self.positions: dict[str, float] = {}
        self.outside: dict[str, str] = {}
        self.node_count = len(self.traces)
        self.source_count = len(self.sources)


class Commit:
    """Everything one build writes, applied in one transaction.

    ``nodes_upsert`` maps a key to (trace, value as canonical JSON text);
    ``order`` is None when the stored schedule is unchanged; ``positions`` gives
    the place of nodes that are new to a stored schedule that is otherwise kept
    (a targeted build's additions; positions may be fractions).
    """

    __slots__ = ("sources_upsert", "sources_delete", "nodes_upsert", "nodes_delete", "order",
                 "meta", "build", "decisions", "metrics", "positions")

    def __init__(self) -> None:
        self.sources_upsert: dict[str, SourceRecord] = {}
        self.sources_delete: list[str] = []
        self.nodes_upsert: dict[str, tuple[Trace, str]] = {}
        self.nodes_delete: list[str] = []
        self.order: Optional[list[str]] = None
        self.meta: dict[str, str] = {}
        self.build: Optional[dict[str, Any]] = None
        self.decisions: list[Any] = []
        self.metrics: list[tuple[str, str, str, float]] = []
        self.positions: dict[str, float] = {}

    def writes_state(self) -> bool:
        return bool(
            self.sources_upsert
            or self.sources_delete
            or self.nodes_upsert
            or self.nodes_delete
            or self.order is not None
            or self.meta
        )


class BuildRecord:
    """One recorded build (``promptgen graph --explain``): when, how long, its
    mode, and ``summary``, the ``promptgen build --json`` document it printed."""

    __slots__ = ("id", "started_ns", "duration_s", "mode", "summary")

    def __init__(self, id: int, started_ns: int, duration_s: float, mode: str, summary: dict[str, Any]) -> None:
        self.id = id
        self.started_ns = started_ns
        self.duration_s = duration_s
        self.mode = mode
        self.summary = summary

    def __repr__(self) -> str:
        return f"BuildRecord(id={self.id!r}, mode={self.mode!r})"

    # the summary's figures (session.summary writes them)
    @property
    def nodes(self) -> int:
        return self.summary["nodes"]

    @property
    def recomputed(self) -> int:
        return self.summary["recomputed"]

    @property
    def cut_off(self) -> int:
        return self.summary["cut_off"]

    @property
    def reused(self) -> int:
        return self.summary["reused"]

    @property
    def files_stat(self) -> int:
        return self.summary["counters"]["files_stat"]

    @property
    def files_read(self) -> int:
        return self.summary["counters"]["files_read"]

    @property
    def nodes_visited(self) -> Optional[int]:
        """Nodes the build looked at (None in builds recorded before it was counted)."""
        return self.summary["counters"].get("nodes_visited")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "started_ns": self.started_ns, "duration_s": self.duration_s, "mode": self.mode,
                "summary": self.summary}


def _lazy_listing(key: str, text: str) -> Callable[[], Any]:
    def load() -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise StoreDamaged(f"the stored listing of {key} is not JSON: {exc}") from exc

    return load


def _source_record(row: tuple[Any, ...]) -> SourceRecord:
    """A ``sources`` row as a record; a listing is decoded only if a build looks at it."""
    key, m, c, s, ino, rec, fp, value = row
    stamp = None if m is None else (m, c, s, ino)
    return SourceRecord(stamp, rec, fp, None, False, None if value is None else _lazy_listing(key, value))


def _trace(spec: str, version: str, fps: str, fp: str) -> Trace:
    return Trace(NodeSpec.from_json(json.loads(spec)), version, json.loads(fps), fp)


def _chunks(keys: Sequence[str]) -> Iterable[tuple[list[str], str]]:
    """``keys`` in lists short enough for one ``IN (...)``, each with its placeholders."""
    for i in range(0, len(keys), _CHUNK):
        chunk = list(keys[i:i + _CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Store:
    """A connection to ``<store_dir>/state.db``; create with :meth:`open`."""

    def __init__(self, store_dir: str, conn: sqlite3.Connection) -> None:
        self.dir = store_dir
        self.path = os.path.join(store_dir, DB_NAME)
        self.conn = conn
        self.warnings: list[str] = []
        #: True when open() found a bad database and replaced it.
        self.damaged_on_open = False
        #: The generation of the state last loaded or committed (see the module docstring).
        self.generation: Optional[str] = None

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, store_dir: str) -> "Store":
        """Open (creating if needed) the store; a bad database is replaced."""
        try:
            os.makedirs(store_dir, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create {store_dir}: {exc.strerror}") from exc
        path = os.path.join(store_dir, DB_NAME)
        warnings: list[str] = []
        try:
            conn = cls._connect(path)
            problem = cls._check_schema(conn)
        except sqlite3.DatabaseError as exc:
            conn, problem = None, f"unreadable ({one_line(str(exc))})"
        if problem is not None:
            if conn is not None:
                conn.close()
            warnings.append(f"store {path} is {problem}; discarding it and rebuilding from scratch")
            cls._discard_files(path)
            try:
                conn = cls._connect(path)
                cls._check_schema(conn)
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"cannot create {path}: {exc}") from exc
        assert conn is not None  # connected, or reconnected after discarding a bad file
        store = cls(store_dir, conn)
        store.warnings = warnings
        store.damaged_on_open = bool(warnings)
        return store

    @classmethod
    def open_readonly(cls, store_dir: str) -> "Store":
        """Open an existing store for reading only; never creates or discards.

        Raises StoreUnavailable when there is none and StoreDamaged when it
        cannot be trusted — for views (graph, stats, metrics) that must not
        write, a damaged store is the next build's to replace.
        """
        path = os.path.join(store_dir, DB_NAME)
        if not os.path.isfile(path):
            raise StoreUnavailable(f"no store at {path}")
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0, isolation_level=None)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(f"unreadable ({exc})") from exc
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            conn.close()  # empty: a first build is creating it right now (or an empty file)
            raise StoreUnavailable(f"nothing recorded in {path} yet")
        if version != SCHEMA_VERSION:
            conn.close()
            raise StoreDamaged(f"from schema version {version} (this promptgen uses {SCHEMA_VERSION})")
        return cls(store_dir, conn)

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE")
        # A cache: the journal keeps kill -9 safe; an OS crash can at worst damage the
        # file, which open() detects and rebuilds. An fsync would cost more than the build.
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    @staticmethod
    def _check_schema(conn: sqlite3.Connection) -> Optional[str]:
        """None if usable (creating the schema in an empty file), else what is wrong."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables:
            try:
                # one transaction (executescript would commit, and fsync, per statement)
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(f"cannot write the store: {exc}") from exc
            return None
        if version != SCHEMA_VERSION:
            return f"from schema version {version} (this promptgen uses {SCHEMA_VERSION})"
        needed = {"meta", "sources", "nodes", "node_values", "edges", "builds", "decisions", "counters",
                  "histograms"}
        if not needed <= tables:
            return "missing tables " + ", ".join(sorted(needed - tables))
        return None

    @staticmethod
    def _discard_files(path: str) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(path + suffix)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreUnavailable(f"cannot remove damaged store {path}{suffix}: {exc.strerror}") from exc

    def discard(self) -> None:
        """Drop a store found damaged mid-build and start an empty one in its place."""
        try:
            self.conn.close()
        except sqlite3.Error:
            pass
        self._discard_files(self.path)
        self.conn = self._connect(self.path)
        self._check_schema(self.conn)

    def recover(self, exc: StoreDamaged) -> None:
        """The store was found damaged mid-build: say so (one line in
        ``warnings``), discard it, and mark the empty one in its place so that
        the rebuild says why every node runs (``store_missing_or_damaged``)."""
        self.warnings.append(f"store {self.path} is damaged ({exc}); rebuilding from scratch")
        self.discard()
        self.damaged_on_open = True

    def close(self) -> None:
        self.conn.close()

    # -- reading -----------------------------------------------------------
    def load(self) -> Previous:
        try:
            conn = self.conn
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            sources = {row[0]: _source_record(row) for row in conn.execute("SELECT * FROM sources")}
            traces = {}
            order = []
            for key, spec, version, fps, fp in conn.execute(
                "SELECT key, spec, rule_version, input_fps, fingerprint FROM nodes ORDER BY position, key"
            ):
                traces[key] = _trace(spec, version, fps, fp)
                order.append(key)
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            raise StoreDamaged(str(exc)) from exc
        absent = None if (traces or sources or meta) else "missing"
        self.generation = meta.get(GENERATION)
        return Previous(sources, traces, order, meta, absent)

    def meta_items(self) -> dict[str, str]:
        """Every meta key and value (what the stored state is, see the keys above)."""
        try:
            return dict(self.conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(str(exc)) from exc

    def load_targeted(self, changed: Sequence[str], meta: dict[str, str]) -> Previous:
        """The part of the last state that sources ``changed`` can reach.

        ``meta`` is :meth:`meta_items`, which the caller has checked: the stored
        state is the one its view of the sources was taken against, built with
        the same roots and rules, and it has node counts (``KINDS``).
        """
        try:
            prev = Previous(meta=meta, absent=None)
            prev.order = self._add_dependents(prev, changed)
            self._load_inputs_of(prev, prev.order, extra_sources=changed)
            prev.node_count = sum(json.loads(meta[KINDS]).values())
            prev.source_count = self.conn.execute("SELECT count(*) FROM sources").fetchone()[0]
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StoreDamaged(str(exc)) from exc
        self.generation = meta.get(GENERATION)
        return prev

    def extend_targeted(self, prev: Previous, keys: Sequence[str]) -> list[str]:
        """Add ``keys`` (stored nodes) and every node that depends on them to a
        targeted ``prev``; returns the keys that were not in it yet, in stored order."""
        try:
            added = self._add_dependents(prev, keys, include_seeds=True)
            self._load_inputs_of(prev, added)
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            raise StoreDamaged(str(exc)) from exc
        return added

    def _add_dependents(self, prev: Previous, seeds: Sequence[str], include_seeds: bool = False) -> list[str]:
        """Traces of the transitive dependents of ``seeds`` (and of the seeds
        themselves that are nodes, if asked) into ``prev``; returns the keys
        added, in stored order."""
        added: list[str] = []
        for chunk, marks in _chunks(seeds):
            base = f"SELECT key FROM nodes WHERE key IN ({marks}) UNION " if include_seeds else ""
            rows = self.conn.execute(
                "WITH RECURSIVE dep(key) AS ("
                f"{base}SELECT node FROM edges WHERE input IN ({marks}) "
                "UNION SELECT e.node FROM edges e JOIN dep ON e.input = dep.key) "
                "SELECT n.key, n.spec, n.rule_version, n.input_fps, n.fingerprint, n.position "
                "FROM dep JOIN nodes n ON n.key = dep.key",
                chunk + chunk if include_seeds else chunk,
            ).fetchall()
            for key, spec, version, fps, fp, position in rows:
                if key in prev.traces:
                    continue
                prev.traces[key] = _trace(spec, version, fps, fp)
                prev.positions[key] = position
                prev.outside.pop(key, None)
                added.append(key)
        added.sort(key=lambda k: (prev.positions[k], k))
        return added

    def _load_inputs_of(self, prev: Previous, keys: Sequence[str], extra_sources: Sequence[str] = ()) -> None:
        """Records of the sources and fingerprints of the other nodes that ``keys`` read."""
        want_src: set[str] = {k for k in extra_sources if k not in prev.sources}
        want_fp: set[str] = set()
        for key in keys:
            for i in prev.traces[key].spec.inputs:
                if is_source(i):
                    if i not in prev.sources:
                        want_src.add(i)
                elif i not in prev.traces and i not in prev.outside:
                    want_fp.add(i)
        prev.sources.update(self.source_records(sorted(want_src)))
        prev.outside.update(self.fingerprints(sorted(want_fp)))

    def source_records(self, keys: Sequence[str]) -> dict[str, SourceRecord]:
        """Stored records of the sources ``keys`` (those that are stored)."""
        out: dict[str, SourceRecord] = {}
        for chunk, marks in _chunks(keys):
            for row in self.conn.execute(f"SELECT * FROM sources WHERE key IN ({marks})", chunk):
                out[row[0]] = _source_record(row)
        return out

    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        """Stored value fingerprints of the derived nodes ``keys`` (those that are stored)."""
        out: dict[str, str] = {}
        for chunk, marks in _chunks(keys):
            out.update(self.conn.execute(f"SELECT key, fingerprint FROM nodes WHERE key IN ({marks})", chunk))
        return out

    def positions_in_order(self) -> list[tuple[str, float]]:
        """Every stored derived node with its position, in the stored (topological) order."""
        try:
            return list(self.conn.execute("SELECT key, position FROM nodes ORDER BY position, key"))
        except sqlite3.DatabaseError as exc:
            raise StoreDamaged(str(exc)) from exc

    def value(self, key: str) -> Any:
        """A stored value, checked against the fingerprint stored with it.

        SQLite checks its own structure, not our bytes: a value changed inside a
        well-formed file (bit rot, a torn page after an OS crash) would otherwise
        be served as the answer until its inputs change.
        """
        try:
            row = self.conn.execute(
                "SELECT v.value, n.fingerprint FROM node_values v JOIN nodes n ON n.key = v.key WHERE v.key=?", (key,)
            ).fetchone()
            if row is None:
                raise StoreDamaged(f"no stored value for {key}")
            text, fp = row
            if fingerprint.of_bytes(text.encode("utf-8")) != fp:
                raise StoreDamaged(f"the stored value of {key} does not match its fingerprint")
            return json.loads(text)
        except (sqlite3.DatabaseError, ValueError, UnicodeEncodeError) as exc:
            raise StoreDamaged(str(exc)) from exc

    def values(self, keys: list[str]) -> dict[str, Any]:
        """Several stored values at once (one query per 500 keys), each checked as in :meth:`value`."""
        out: dict[str, Any] = {}
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                rows = self.conn.execute(
                    "SELECT v.key, v.value, n.fingerprint FROM node_values v JOIN nodes n ON n.key = v.key "
                    f"WHERE v.key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                for key, text, fp in rows:
                    if fingerprint.of_bytes(text.encode("utf-8")) != fp:
                        raise StoreDamaged(f"the stored value of {key} does not match its fingerprint")
                    out[key] = json.loads(text)
        except (sqlite3.DatabaseError, ValueError, UnicodeEncodeError) as exc:
            raise StoreDamaged(str(exc)) from exc
        missing = [k for k in keys if k not in out]
        if missing:
            raise StoreDamaged(f"no stored value for {missing[0]}")
        return out

    def builds(self, limit: int = KEEP_BUILDS) -> list[BuildRecord]:
        """The recorded builds, newest first."""
        rows = self.conn.execute(
            "SELECT id, started_ns, duration_s, mode, summary FROM builds ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [BuildRecord(i, s, d, m, json.loads(summary)) for i, s, d, m, summary in rows]

    def decisions(self, build_id: int) -> list[Decision]:
        """The decisions recorded for a build: the nodes that ran or were cut off."""
        from .explain import Decision

        rows = self.conn.execute(
            "SELECT key, kind, status, reason, detail, wall_s FROM decisions WHERE build_id=? ORDER BY seq",
            (build_id,),
        ).fetchall()
        return [Decision(k, kind, st, r, json.loads(d), w) for k, kind, st, r, d, w in rows]

    def reused_in_last_build(self, recorded: list[Decision]) -> list[Decision]:
        """Decisions of the last build's reused nodes, which are not stored.

        The stored graph is the last build's graph, so every node in it that the
        recorded decisions do not name was reused. (For older builds the graph
        may have changed since, so this is only exact for the last one.)
        """
        from .explain import REUSED, Decision

        named = {d.key for d in recorded}
        keys = [k for (k,) in self.conn.execute("SELECT key FROM sources ORDER BY key")]
        keys += [k for (k,) in self.conn.execute("SELECT key FROM nodes ORDER BY position, key")]
        return [Decision(k, k.split(":", 1)[0], REUSED) for k in keys if k not in named]

    def counters(self) -> list[tuple[str, str, float]]:
        return list(self.conn.execute("SELECT name, labels, value FROM counters ORDER BY name, labels"))

    def histograms(self) -> list[tuple[str, str, list[int], float, int]]:
        return [
            (n, lab, json.loads(b), s, c)
            for n, lab, b, s, c in self.conn.execute(
                "SELECT name, labels, buckets, sum, count FROM histograms ORDER BY name, labels"
            )
        ]

    def meta(self, key: str) -> Optional[str]:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    # -- writing -----------------------------------------------------------
    def commit(self, commit: Commit) -> Optional[int]:
        """Apply ``commit`` atomically; returns the new build id (if one is recorded).

        A corrupt database raises StoreDamaged, as a read would: the caller
        recovers (:meth:`recover`) and builds again. Any other ``sqlite3.Error``
        (a full disk, a read-only folder, a lock) is raised as it is: the
        answer stands, only caching it failed.
        """
        generation = None
        if commit.writes_state():
            generation = os.urandom(8).hex()
            commit.meta[GENERATION] = generation
        try:
            build_id = self._transaction(commit)
        except BaseException as exc:
            if generation is not None:
                del commit.meta[GENERATION]
            if isinstance(exc, sqlite3.Error) and _is_corrupt(exc):
                raise StoreDamaged(str(exc)) from exc
            raise
        if generation is not None:
            self.generation = generation
        return build_id

    def _transaction(self, commit: Commit) -> Optional[int]:
        """Write ``commit`` in one transaction, rolled back on any failure."""
        conn = self.conn
        build_id = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._write_sources(commit)
            self._write_nodes(commit)
            if commit.order is not None:
                conn.executemany(
                    "UPDATE nodes SET position=? WHERE key=?", [(i, k) for i, k in enumerate(commit.order)]
                )
            if commit.meta:
                conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", list(commit.meta.items()))
            if commit.build is not None:
                build_id = self._record_build(commit.build, commit.decisions)
            if commit.metrics:
                self._apply_metrics(commit.metrics)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise
        return build_id

    def _write_sources(self, commit: Commit) -> None:
        conn = self.conn
        if commit.sources_delete:
            conn.executemany("DELETE FROM sources WHERE key=?", [(k,) for k in commit.sources_delete])
        if commit.sources_upsert:
            conn.executemany(
                "INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        key,
                        *(rec.stamp if rec.stamp is not None else (None, None, None, None)),
                        rec.recorded_ns,
                        rec.fingerprint,
                        None if not key.startswith("dir:") or rec.value is None else _dumps(rec.value),
                    )
                    for key, rec in commit.sources_upsert.items()
                ],
            )

    def _write_nodes(self, commit: Commit) -> None:
        """Traces, values and edges of the nodes that left the graph or ran."""
        conn = self.conn
        if commit.nodes_delete:
            conn.executemany("DELETE FROM nodes WHERE key=?", [(k,) for k in commit.nodes_delete])
            conn.executemany("DELETE FROM node_values WHERE key=?", [(k,) for k in commit.nodes_delete])
            conn.executemany("DELETE FROM edges WHERE node=?", [(k,) for k in commit.nodes_delete])
        if not commit.nodes_upsert:
            return
        conn.executemany(
            "INSERT OR REPLACE INTO nodes VALUES (?,?,?,?,?,?,COALESCE((SELECT position FROM nodes WHERE key=?), ?))",
            [
                (
                    key,
                    trace.spec.kind,
                    _dumps(trace.spec.to_json()),
                    trace.rule_version,
                    _dumps(trace.input_fps),
                    trace.fingerprint,
                    key,
                    commit.positions.get(key, -1),
                )
                for key, (trace, encoded) in commit.nodes_upsert.items()
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO node_values VALUES (?,?)",
            [(key, encoded) for key, (_, encoded) in commit.nodes_upsert.items()],
        )
        # a recomputed node may read other inputs than before (its spec changed)
        conn.executemany("DELETE FROM edges WHERE node=?", [(k,) for k in commit.nodes_upsert])
        conn.executemany(
            "INSERT OR IGNORE INTO edges VALUES (?,?)",
            [(i, key) for key, (trace, _) in commit.nodes_upsert.items() for i in trace.spec.inputs],
        )

    def _record_build(self, b: dict[str, Any], decisions: list[Any]) -> Optional[int]:
        """The build's row and decisions; only the last ``KEEP_BUILDS`` are kept."""
        conn = self.conn
        cur = conn.execute(
            "INSERT INTO builds (started_ns, duration_s, mode, summary) VALUES (?,?,?,?)",
            (b["started_ns"], b["duration_s"], b["mode"], _dumps(b["summary"])),
        )
        build_id = cur.lastrowid
        assert build_id is not None  # an INSERT into a rowid table
        conn.executemany(
            "INSERT INTO decisions VALUES (?,?,?,?,?,?,?,?)",
            [
                (build_id, seq, d.key, d.kind, d.status, d.reason, _dumps(d.detail), d.wall_s)
                for seq, d in enumerate(decisions)
            ],
        )
        oldest = build_id - KEEP_BUILDS
        conn.execute("DELETE FROM decisions WHERE build_id<=?", (oldest,))
        conn.execute("DELETE FROM builds WHERE id<=?", (oldest,))
        return build_id

    def _apply_metrics(self, increments: Iterable[tuple[str, str, str, float]]) -> None:
        """Add increments: ("c", name, labels, amount) or ("h", name, labels, observation)."""
        from .metrics import bucket_index, buckets_for

        conn = self.conn
        sums: dict[tuple[str, str], float] = {}
        observations: dict[tuple[str, str], list[float]] = {}
        for typ, name, labels, amount in increments:
            if typ == "c":
                sums[(name, labels)] = sums.get((name, labels), 0.0) + amount
            else:
                observations.setdefault((name, labels), []).append(amount)
        conn.executemany(
            "INSERT INTO counters VALUES (?,?,?) ON CONFLICT(name, labels) DO UPDATE SET value=value+excluded.value",
            [(n, lab, v) for (n, lab), v in sums.items()],
        )
        for (name, labels), values in observations.items():
            row = conn.execute(
                "SELECT buckets, sum, count FROM histograms WHERE name=? AND labels=?", (name, labels)
            ).fetchone()
            bounds = buckets_for(name)
            counts = json.loads(row[0]) if row else [0] * (len(bounds) + 1)
            for v in values:
                counts[bucket_index(bounds, v)] += 1
            total = (row[1] if row else 0.0) + sum(values)
            count = (row[2] if row else 0) + len(values)
            conn.execute(
                "INSERT OR REPLACE INTO histograms VALUES (?,?,?,?,?)",
                (name, labels, _dumps(counts), total, count),
            )

    def record_metrics(self, increments: list[tuple[str, str, str, float]], meta: Optional[dict[str, str]] = None) -> None:
        """A small transaction that only adds metrics (used to fold the journal)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._apply_metrics(increments)
            if meta:
                conn.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", list(meta.items()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _is_corrupt(exc: sqlite3.Error) -> bool:
    """A corrupt database (as opposed to a full disk, a read-only folder, a lock)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    return name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB" or "malformed" in str(exc)


def with_recovery(store: Optional[Store], attempt: Callable[[bool], T]) -> T:
    """``attempt(True)``; if it finds the store damaged, recover it (see
    :meth:`Store.recover`) and return ``attempt(False)`` — once: damage found
    again, or without a store, is raised.

    The one place where "warn, discard, build again" is written: ``build``
    uses it around loading and walking, the session around building,
    reading the answer and committing.
    """
    try:
        return attempt(True)
    except StoreDamaged as exc:
        if store is None:
            raise
        store.recover(exc)
    return attempt(False)
