"""A workspace kept warm: the answers of the last build in memory, brought up to date per question.

One :class:`WarmWorkspace` lives as long as ``promptgen mcp`` (or any
long-lived caller). Every question is an incremental build in this process, so
the engine, the store's module and the parsers stay loaded; it keeps what the
last build answered (the plan index, every prompt, every plan's report) and
the *view*: the stamp of every path that build depended on — the arrays the
engine writes to the fast-path snapshot, which it would otherwise read back
and stat.

How a question finds out what changed:

* **File-change events** (``watcher.py``, Linux, the default). No workspace
  event since the last build: the answer comes from memory, without a stat.
  Events: the changed paths are mapped to the engine's source keys through
  the view, and the build is *targeted* at exactly those keys. Anything the
  mapping cannot vouch for — a folder created, removed or renamed,
  ``promptgen.toml`` edited, the queue overflowed, an event for an unknown
  watch, a symbolic or hard link in the watched folders, no view — falls back
  to the stat-based path below; a lost watcher is started again first.
  Between questions a background thread follows the same events and builds
  shortly after a change, so the question that follows usually finds its
  answer ready; the questions' guarantee does not depend on it.

* **Stat checks** (``--no-watch``, other systems, network file systems, or a
  workspace with links): the fast path's check of every recorded stamp, then
  the same build ``promptgen build`` would run (targeted at what the check
  found). A check that finds nothing changed, against a snapshot written at
  the store generation the answers in memory were made from, answers from
  memory.

Why no question is answered stale: an answer from memory needs (events) every
change since the last build to have produced an event, which the sentinel
proves delivered, and none did — or (stats) every recorded stamp equal, as for
a ``promptgen build`` no-op. A targeted build is handed every source whose
path had an event (whatever its stamp says, so a change inside the racy window
is re-read by content, see ``engine/stamp.py``); the sources a build read
inside the racy window are handed to every later build as well, so the
snapshot the engine writes for the command line (which has no events to go
by) never holds a stamp only events vouch for. The store's lock serializes
these builds with any other promptgen's, and a store another process changed
since (another generation) makes the engine build in full rather than
targeted.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

from promptgen.engine import fastpath
from promptgen.engine.stamp import is_racy, stamp_of

from .watcher import ENTRY_SET, InotifyWatcher, WatchLost, events_unavailable
from .workspace import Built, Workspace, code_paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.explain import Decision
    from promptgen.nodes.values import PlanWarning

#: How long the background catch-up waits after a change before it builds: a burst of
#: writes makes one build, and the stamps it records are past the racy window
#: (``engine/stamp.py``, 50 ms), so the snapshot it leaves answers the command line too.
CATCH_UP_AFTER_S = 0.06
#: How long the workspace and the questions must have been quiet before the background
#: reads again files a build read inside the racy window (to write a snapshot the command
#: line can trust): that build serves no question, and on a large workspace writing the
#: snapshot takes long enough to delay one.
SETTLE_AFTER_QUIET_S = 1.0

# -- what the last build depended on -------------------------------------------

class _View:
    """Every path the last build depended on, with its stamp, and the store
    generation that build left: the arrays of the fast-path snapshot
    (``fastpath.Observation`` reads and extends them), kept in memory. Names are
    relative to the root for sources, absolute for the others (kind ``-``:
    promptgen's code, ``promptgen.toml``); the last entry stands for the store's
    database, as in the snapshot.

    ``racy``: the sources whose stamp was racy when a build read them (source
    key → stamp, see ``engine/stamp.py``). Events vouch for their content here,
    but a stamp only proves it to a reader without events once it is read again
    outside the racy window: they are handed to every build as changed, so that
    the engine reads them again and the snapshot it writes for the command line
    never holds a racy stamp."""

    __slots__ = ("data", "index", "generation", "racy", "first_new")

    def __init__(self, root: str, names: list[str], kinds: list[str], stamps: list[Any],
                 generation: str, racy: dict[str, Any], index: Optional[dict[str, int]] = None,
                 first_new: int = 0) -> None:
        self.data: dict[str, Any] = {"root": root, "names": names, "kinds": kinds, "stamps": stamps,
                                     "payload": {"_generation": generation}}
        self.index = {n: i for i, n in enumerate(names)} if index is None else index
        self.generation = generation
        self.racy = racy
        #: The entries from here on are new since the previous view.
        self.first_new = first_new

    def outside(self, trees: Sequence[str]) -> Optional[str]:
        """A new source that is in none of ``trees`` (watched folders), if any."""
        names, kinds = self.data["names"], self.data["kinds"]
        prefixes = tuple(t + "/" for t in trees)
        for i in range(self.first_new, len(names)):
            name = names[i]
            if kinds[i] in ("f", "d") and name not in trees and not name.startswith(prefixes):
                return name
        return None

    def kind(self, rel: str) -> Optional[str]:
        """``f``, ``d``, ``r`` (a source), ``-`` (a file read by no node), or None."""
        i = self.index.get(rel if rel else ".")
        if i is None:
            i = self.index.get(os.path.join(self.data["root"], rel))
        return None if i is None else self.data["kinds"][i]

    def settled(self) -> bool:
        """True when every racy source would be read outside the racy window now."""
        now = time.time_ns()
        return not any(is_racy(stamp, now) for stamp in self.racy.values())

    @classmethod
    def after_targeted(cls, previous: "Optional[_View]", obs: fastpath.Observation, built: Built,
                       generation: str) -> "_View":
        """The view after a build targeted from ``obs``: what the engine writes to the snapshot."""
        sources = built.result.sources
        names, kinds, stamps = obs.next_entries(sources)
        old = obs.names or [""]
        db = old[-1]
        index, racy = None, _racy(sources)
        if previous is not None and obs.index is previous.index:
            index = previous.index  # the entries keep their places; new ones come at the end
            index.pop(db, None)
            for i in range(len(old) - 1, len(names)):
                index[names[i]] = i
            index[db] = len(names)
            racy.update((k, st) for k, st in previous.racy.items() if k not in sources)
        return cls(built.root, names + [db], kinds + ["-"], stamps + [None], generation, racy, index,
                   first_new=len(old) - 1)

    @classmethod
    def after_full(cls, ws: Workspace, built: Built, generation: str) -> "_View":
        """The view after a full walk, from the sources it read (as ``engine.session``
        writes the snapshot) and the stamps of promptgen's code and configuration."""
        from promptgen.engine.fastpath import kind_and_name  # the snapshot's encoding of a source key
        from promptgen.engine.store import DB_NAME

        names, kinds, stamps = [], [], []
        for key, rec in built.result.sources.items():
            kind, name = kind_and_name(key)
            names.append(name)
            kinds.append(kind)
            stamps.append(rec.stamp)
        for path in [*code_paths(), ws.config_path, os.path.join(ws.store_dir, DB_NAME)]:
            names.append(path)
            kinds.append("-")
            stamps.append(_stamp(path))
        return cls(ws.root, names, kinds, stamps, generation, _racy(built.result.sources))


def _explained(decisions: "list[Decision]") -> list[dict[str, Any]]:
    """Decision rows as ``promptgen graph --explain --json`` prints them, with
    ``why``: the sentence ``promptgen graph --explain`` prints."""
    return [{**d.to_json(), "why": d.why()} for d in decisions]


def _racy(sources: Any) -> dict[str, Any]:
    """The sources a build read whose stamp was racy then (listings that hold a
    link are re-checked by every build anyway, and never settle)."""
    from promptgen.engine.sources import ALWAYS_RECHECK_NS

    return {key: rec.stamp for key, rec in sources.items()
            if rec.recorded_ns != ALWAYS_RECHECK_NS and is_racy(rec.stamp, rec.recorded_ns)}


def _event_observation(view: _View, keys: Sequence[str]) -> fastpath.Observation:
    """What the watcher saw, in the shape the engine takes from the no-op check:
    the view's stamps, those of the paths with an event taken again, and those
    paths' source keys as the changes (the no-op check fills the same fields
    from a stat of every path)."""
    root = view.data["root"]
    current = list(view.data["stamps"])
    for key in keys:
        name = key.split(":", 1)[1] or "."
        current[view.index[name]] = _stamp(root if name == "." else os.path.join(root, name))
    return fastpath.Observation.of_arrays(view.data, current, view.index, list(keys), view.generation)


def _stamp(path: str) -> Any:
    """The stamp the snapshot records (``fastpath``): the target's, None when absent."""
    try:
        return stamp_of(os.stat(path))
    except OSError:
        return None


class _HeldAnswers:
    """What the last build answered: the plan index and every prompt (as the
    command line prints them), every plan's report, and the store generation
    they were made from."""

    __slots__ = ("plans", "prompts", "reports", "generation")

    def __init__(self, plans: list[Any], prompts: dict[str, str], reports: dict[str, Any],
                 generation: Optional[str]) -> None:
        self.plans = plans
        self.prompts = prompts
        self.reports = reports
        self.generation = generation


# -- the warm workspace --------------------------------------------------------

class WarmWorkspace:
    """One workspace, kept warm for a server's life (see the module docstring).

    ``workspace``, ``plan_roots``, ``store``: as for :meth:`Workspace.locate`
    (located at the first question, and again at each one until it is found).
    ``watch``: False finds changes with stat checks only. The questions are
    thread-safe: one runs at a time.
    """

    def __init__(self, workspace: Optional[str] = None, plan_roots: Sequence[str] = (),
                 store: Optional[str] = None, *, watch: bool = True,
                 log: Optional[Any] = None) -> None:
        self._where = (workspace, tuple(plan_roots), store)
        self._watch = watch
        self._log = log
        self._lock = threading.Lock()
        self.ws: Optional[Workspace] = None
        self._config_stamp: Any = None  # promptgen.toml's when the workspace was located
        self._watcher: Optional[InotifyWatcher] = None
        self._view: Optional[_View] = None
        self._answers: Optional[_HeldAnswers] = None
        #: How changes are found: "events" (inotify) or "stat", and why.
        self.changes = "stat"
        self.changes_why = "not started"
        #: How the last question was answered (see :meth:`_served`); ``served_here()``
        #: gives the one of the calling thread's last question.
        self.served: dict[str, Any] = {}
        self._here = threading.local()
        self._closed = False
        self._active = time.monotonic()  # the last question or change

    def served_here(self) -> dict[str, Any]:
        """How the calling thread's last question was answered (the server runs
        each tool call in a worker thread, and several may wait for the lock)."""
        return dict(getattr(self._here, "served", {}))

    def close(self) -> None:
        self._closed = True
        with self._lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None

    # -- the questions -------------------------------------------------------------
    def warm_up(self) -> None:
        """Build once (a server does it at start, so the first question is quick)."""
        from .workspace import WorkspaceError

        try:
            with self._call():
                pass
        except WorkspaceError as exc:
            self._say(f"promptgen mcp: {exc} (every tool will say so until it is fixed)")

    def follow(self, settle_s: float = CATCH_UP_AFTER_S) -> None:
        """Build once, then keep the answers current until :meth:`close`: when
        the workspace's files change, build in the background (``settle_s``
        after the first event, so that a burst of writes makes one build), so
        the next question finds its answer ready. A question that comes first
        builds itself; either way one build serves both, under the lock. Once a
        build's racy sources have settled and the workspace has been quiet for
        a second, they are read again, so that the snapshot the command line
        answers from is written again too."""
        try:
            self.warm_up()
        except Exception as exc:  # noqa: BLE001 - the first question will try again and say why
            self._say(f"promptgen mcp: the first build failed ({type(exc).__name__}: {exc})")
        while not self._closed:
            watcher, view = self._watcher, self._view
            if watcher is None or watcher.fd < 0:
                time.sleep(0.5)  # stat checks: each question checks for itself
                continue
            quiet = SETTLE_AFTER_QUIET_S - (time.monotonic() - self._active)
            racy = view is not None and bool(view.racy)
            try:
                changed = watcher.wait(max(quiet, settle_s) if racy else 0.5)
            except (OSError, ValueError):
                continue  # replaced meanwhile
            if changed:
                time.sleep(settle_s)
                self._catch_up(settle=False)
            elif racy and view is not None and view.settled() and quiet <= 0:
                self._catch_up(settle=True)

    def _catch_up(self, settle: bool) -> None:
        with self._lock:
            if self._closed or self.ws is None:
                return
            try:
                built = self._sync(need_values=False, sentinel=False, settle=settle)
            except Exception as exc:  # noqa: BLE001 - the next question checks every file
                self._say(f"promptgen mcp: a background build failed ({type(exc).__name__}: {exc})")
                return
            if built is not None:
                built.outcome.close()
                self._active = time.monotonic()

    def status(self) -> dict[str, Any]:
        """The status document (``promptgen status --json``)."""
        from promptgen.nodes.reports import status_document

        with self._call():
            assert self.ws is not None and self._answers is not None
            return status_document(self.ws.root, list(self._answers.reports.values()))

    def warnings(self) -> "list[PlanWarning]":
        """Every plan's warnings, as :meth:`Workspace.warnings` gives them."""
        with self._call():
            assert self._answers is not None
            from promptgen.nodes.reports import plan_warnings

            return plan_warnings([r for _, r in sorted(self._answers.reports.items())])

    def next_prompt(self, plan: str, achievement: Optional[str] = None) -> dict[str, Any]:
        """The next prompt of ``plan`` (``@NAME`` or a PLAN file path, relative to
        the workspace root or absolute), or of its achievement ``achievement``,
        with the plan's state, current achievement (number and state) and
        warnings. ``SelectionError`` for an unknown or ambiguous plan, or an
        achievement the plan does not declare."""
        from promptgen.nodes.selection import select

        with self._call(need_values=achievement is not None) as built:
            ws, answers = self.ws, self._answers
            assert ws is not None and answers is not None
            entry = select(answers.plans, plan, ws.root, ws.root)
            if achievement is None:
                text, code = answers.prompts[entry["plan_file"]], entry["exit_code"]
            else:
                assert built is not None
                prompt = built.next_prompt(entry["plan_file"], achievement, cwd=ws.root)
                text, code = prompt.text, prompt.exit_code
            current = answers.reports[entry["plan_file"]]["current"]
        return {"feature": entry["feature"], "plan_file": entry["plan_file"], "plan_state": entry["plan_state"],
                "current": current, "achievement": achievement, "exit_code": code,
                "warnings": list(entry["warnings"]), "prompt": text}

    def explain(self, build: Optional[int] = None, node: Optional[str] = None,
                include_reused: bool = False) -> dict[str, Any]:
        """The decisions of a recorded build, as ``promptgen graph --explain
        --json`` prints them, each with a sentence saying why. ``build``: 1 is
        the last recorded build, 2 the one before...; by default the last one
        that recomputed something (a build that only read again files whose
        stamps were too recent to trust recomputes nothing, and would hide the
        one that answered the last question)."""
        from promptgen.engine.inspection import build_decisions, recorded_builds

        from .workspace import WorkspaceError

        with self._call():
            assert self.ws is not None
            with self.ws.read_store() as store:
                if store is None:
                    raise WorkspaceError("no store yet: nothing was built")
                builds = recorded_builds(store)
                if not builds:
                    raise WorkspaceError("no build is recorded in the store yet")
                if build is None:
                    build = next((i for i, b in enumerate(builds, 1) if b.recomputed), 1)
                if not 1 <= build <= len(builds):
                    raise WorkspaceError(f"build must be between 1 and {len(builds)} "
                                         "(the recorded builds, newest first)")
                chosen = builds[build - 1]
                # the reused nodes are not stored: every other node of the graph (the last build's only)
                rows = _explained(build_decisions(store, chosen, last=include_reused and build == 1))
        if node:
            rows = [r for r in rows if node in r["node"]]
        return {"build": chosen.to_json(), "decisions": rows, "reused": chosen.reused,
                "builds_since": build - 1}

    # -- one question at a time ------------------------------------------------------
    @contextmanager
    def _call(self, need_values: bool = False) -> Iterator[Optional[Built]]:
        """Bring the answers up to date (see :meth:`_sync`), then let the caller
        read them; the build's store is closed after."""
        t0 = time.perf_counter()  # waiting for another question or the background build counts
        self._active = time.monotonic()
        with self._lock:
            built = self._sync(need_values)
            try:
                yield built
            finally:
                if built is not None:
                    built.outcome.close()
                self.served["ms"] = round((time.perf_counter() - t0) * 1000, 3)
                self._here.served = self.served

    def _served(self, answered: str, built: Optional[Built] = None) -> None:
        b = None
        if built is not None:
            r = built.result
            b = {"mode": r.mode, "targeted": r.targeted, "recomputed": r.counters.recomputed,
                 "nodes_visited": r.counters.visited, "files_stat": r.counters.files_stat}
        self.served = {"answered": answered, "changes": self.changes, "build": b}

    def _say(self, text: str) -> None:
        if self._log is not None:
            self._log(text)

    def _workspace(self) -> Workspace:
        if self.ws is None:
            ws = Workspace.locate(*self._where)
            self._config_stamp = _stamp(ws.config_path)
            self._start_watching(ws)
            self.ws = ws
        return self.ws

    def _relocate(self) -> Workspace:
        """``promptgen.toml`` changed: read it again (plan roots, templates folder),
        watch what it names, and forget the answers of the old configuration."""
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self.ws, self._view, self._answers = None, None, None
        return self._workspace()

    def _stop_watching(self, why: str) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self.changes, self.changes_why = "stat", why
        self._say(f"promptgen mcp: changes found by stat checks from now on: {why}")

    def _start_watching(self, ws: Workspace) -> None:
        """Events when they can vouch for every change, else stat checks (and why)."""
        trees = [*ws.plan_roots, ws.config.templates_dir]
        why = "--no-watch" if not self._watch else events_unavailable(ws.root, trees)
        watcher = None
        if why is None:
            try:
                watcher = InotifyWatcher(ws.root, trees, ws.store_dir)
            except (OSError, WatchLost) as exc:
                why = f"cannot watch the workspace ({exc})"
            else:
                if watcher.links:
                    why = (f"{watcher.links[0]} is a symbolic or hard link: what it points to can change "
                           "without an event in the workspace")
                    watcher.close()
                    watcher = None
        self._watcher = watcher
        self.changes, self.changes_why = ("events", "inotify") if watcher else ("stat", why or "")
        self._say(f"promptgen mcp: {ws.root}: changes found by "
                  + ("file-change events (inotify)" if watcher else f"stat checks: {why}"))

    # -- what changed, and the build that follows ------------------------------------
    def _sync(self, need_values: bool, sentinel: bool = True, settle: bool = False) -> Optional[Built]:
        """None when the answers in memory are those of the files now; else the
        build that made them so (the caller closes it). ``settle``: also build
        when nothing changed but the view's racy sources have settled."""
        ws = self._workspace()
        try:
            keys = self._changed_keys(ws, sentinel) if self._watcher is not None else None
            if _stamp(ws.config_path) != self._config_stamp:  # after the events: they cover its change
                ws, keys = self._relocate(), None
            if keys is not None and self._view is not None:
                view = self._view
                if not keys and not need_values and not (settle and view.racy and view.settled()):
                    self._served("memory")
                    return None
                return self._build_from_view(ws, keys)
            return self._build_from_stats(ws, need_values)
        except BaseException:
            # the events are spent and no answer replaced the old ones: check every file next time
            self._view = self._answers = None
            raise

    def _changed_keys(self, ws: Workspace, sentinel: bool = True) -> Optional[list[str]]:
        """The source keys whose paths had an event; None when events cannot say."""
        watcher = self._watcher
        assert watcher is not None
        try:
            paths, structural = watcher.sync(sentinel)
        except WatchLost as exc:
            watcher.close()
            self._say(f"promptgen mcp: {exc}; watching again, and checking every file once")
            self._start_watching(ws)
            return None
        if watcher.links:
            watcher.close()
            self._start_watching(ws)  # says why stat checks take over
            return None
        if structural or self._view is None or self._answers is None:
            return None
        return self._keys(self._view, paths)

    @staticmethod
    def _keys(view: _View, paths: dict[str, int]) -> Optional[list[str]]:
        """Event paths → changed source keys: the file or listing itself, and the
        listing of its folder when an entry came or went. None for a path the
        snapshot records but no node reads (``promptgen.toml``)."""
        keys = set()
        for rel, mask in paths.items():
            kind = view.kind(rel)
            if kind == "-":
                return None
            key = fastpath.source_key(kind, rel) if kind is not None else None
            if key is not None:
                keys.add(key)
            if mask & ENTRY_SET:
                parent = rel.rpartition("/")[0]
                pkind = view.kind(parent)
                parent_key = fastpath.source_key(pkind, parent or ".") if pkind in ("d", "r") else None
                if parent_key is not None:
                    keys.add(parent_key)
        return sorted(keys)

    def _build_from_view(self, ws: Workspace, keys: Sequence[str]) -> Built:
        """A build targeted at ``keys`` (and at the sources still racy), from the
        view and the answers in memory."""
        assert self._view is not None and self._answers is not None
        obs = _event_observation(self._view, sorted({*keys, *self._view.racy}))
        built = ws.build(observation=obs, answers=(self._answers.plans, self._answers.prompts))
        self._absorb(ws, built, obs)
        return built

    def _build_from_stats(self, ws: Workspace, need_values: bool) -> Optional[Built]:
        """The no-op check of every recorded stamp, then the build it calls for."""
        obs = fastpath.Observation()
        payload = fastpath.load(ws.store_dir, ws.snapshot_key, obs)
        answers, view = self._answers, self._view
        if payload is not None and answers is not None and payload.get("_generation") == answers.generation:
            # nothing changed since a snapshot of the stored state these answers come from
            if not need_values:
                self._served("memory")
                return None
            if view is not None and view.generation == answers.generation:
                return self._build_from_view(ws, [])
        built = ws.build(observation=obs)
        self._absorb(ws, built, obs if obs else None)
        return built

    def _absorb(self, ws: Workspace, built: Built, obs: Optional[fastpath.Observation]) -> None:
        """Keep what ``built`` answered, and the view it leaves."""
        from promptgen.nodes.reports import changed_plans

        result, store, old = built.result, built.outcome.store, self._answers
        generation = store.generation if store is not None and built.outcome.persisted else None
        if result.targeted and obs is not None and old is not None and old.generation == obs.generation:
            reports = dict(old.reports)
            for pf in changed_plans(result.decisions):
                reports[pf] = built.report(pf)
        else:
            reports = {r["plan_file"]: r for r in built.reports}
        self._answers = _HeldAnswers(built.plans, built.prompts, reports, generation)
        if generation is None:
            self._view = None  # not stored: the next question checks every file
        elif result.targeted and obs is not None:
            self._view = _View.after_targeted(self._view, obs, built, generation)
        else:
            self._view = _View.after_full(ws, built, generation)
        outside = self._view.outside(self._watcher.trees) if self._view and self._watcher else None
        if outside is not None:  # a source no watch covers: its changes would go unseen
            self._stop_watching(f"{outside} is read but is in no watched folder")
        self._served("build", built)
