"""``promptgen mcp``: the workspace's answers as MCP tools, from a process that stays warm.

A coding agent reads the prompts promptgen renders. This module serves them over
the Model Context Protocol (stdio) with four tools — ``status``, ``next_prompt``,
``explain_build`` and ``warnings`` — built on the official SDK (``mcp``, an
optional extra: ``pip install 'promptgen[mcp]'``; it is imported by
:func:`make_server` and :func:`serve` only, never by a build or the no-op path).

One :class:`WarmWorkspace` lives as long as the server. Every call is an
incremental build in this process, so the engine, the store's module and the
parsers stay loaded between calls; it keeps in memory what the last build
answered (the plan index, every prompt, every plan's report) and the *view*:
the stamp of every path that build depended on — the arrays the engine writes
to the fast-path snapshot, which it would otherwise read back and stat.

How a call finds out what changed:

* **File-change events** (Linux, the default). An inotify instance watches
  the plan roots and the templates folder (recursively), the workspace root
  and the store folder. On each call the server writes a *sentinel* file in
  the store folder (``.promptgen/``; nothing is ever written in
  ``work-space/``) and reads the instance's events until the sentinel's own
  event: the kernel queues an instance's events in order, at the moment each
  change is made, so every change made before the call is among them. No
  workspace event: the answer comes from memory, without a stat. Events: the
  changed paths are mapped to the engine's source keys through the view, the
  changed stamps are taken, and the build is *targeted* at exactly those
  keys. Anything the mapping cannot vouch for — a folder created, removed or
  renamed, ``promptgen.toml`` edited, the queue overflowed, an event for an
  unknown watch, a symbolic or hard link in the watched folders, no view
  (the last build could not be stored) — falls back to the stat-based path
  below; a lost watcher is started again first. Between questions a
  background thread follows the same events: shortly after a change (60 ms,
  so a burst of writes makes one build) it runs that build, so the question
  that follows usually finds its answer ready. It reads what is queued
  without a sentinel (its own write would wake it again); the questions'
  guarantee does not depend on it.

* **Stat checks** (``--no-watch``, other systems, network file systems, or a
  workspace with links): the fast path's check of every recorded stamp
  against the snapshot, then the same build ``promptgen build`` would run
  (targeted at what the check found). A check that finds nothing changed,
  against a snapshot written at the store generation the answers in memory
  were made from, answers from memory.

The inotify instance is read directly (``ctypes``) rather than through
``watchfiles``: watchfiles drops the kernel's queue-overflow notice (notify
reports it as a path-less event, which watchfiles ignores), and its
``watch()`` clears pending changes when it returns on a timeout, so a missed
event could not be told from no event at all. Read here, an overflow is seen
and answered with a fresh watcher and a stat-based build.

Why no call answers stale: an answer from memory needs (events) every change
since the last build to have produced an event, which the sentinel proves
delivered, and none did — or (stats) every recorded stamp equal, as for a
``promptgen build`` no-op. A targeted build is handed every source whose path
had an event (whatever its stamp says, so a change inside the racy window is
re-read by content, see ``engine/stamp.py``); every other source has had no
event since the build that recorded its stamp; the sources a build read
inside the racy window are handed to every later build as well, so the
snapshot the engine writes for the command line (which has no events to go
by) never holds a stamp only events vouch for. The store's lock serializes
this server's builds with any other promptgen's, and a store some other
process has changed since (another generation) makes the engine build in
full rather than targeted. What inotify cannot see is out of reach: a file
written through a hard link from outside the workspace, through ``mmap``, or
by another machine on a network file system — the server checks for links
and network file systems and uses stat checks there.
"""

import errno
import json
import os
import select
import stat as _stat
import struct
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

from promptgen.engine import fastpath
from promptgen.engine.stamp import is_racy, stamp_of

from .workspace import Built, Workspace, code_paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.explain import Decision
    from promptgen.nodes.values import PlanWarning

#: The sentinel file's name in the store folder (one per server process).
SENTINEL_PREFIX = "mcp-sync-"
#: How long a call waits for its own sentinel's event before giving up on the watcher.
SENTINEL_TIMEOUT_S = 2.0
#: How long the background catch-up waits after a change before it builds: a burst of
#: writes makes one build, and the stamps it records are past the racy window
#: (``engine/stamp.py``, 50 ms), so the snapshot it leaves answers the command line too.
CATCH_UP_AFTER_S = 0.06
#: How long the workspace and the questions must have been quiet before the background
#: reads again files a build read inside the racy window (to write a snapshot the command
#: line can trust): that build serves no question, and on a large workspace writing the
#: snapshot takes long enough to delay one.
SETTLE_AFTER_QUIET_S = 1.0

# inotify(7)
_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x1000000
_IN_DONT_FOLLOW = 0x2000000
_IN_ISDIR = 0x40000000
_WATCH_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
               | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR | _IN_DONT_FOLLOW)
#: Events that add or remove an entry of the folder they are reported in.
_ENTRY_SET = _IN_CREATE | _IN_DELETE | _IN_MOVED_FROM | _IN_MOVED_TO
_EVENT_HEAD = struct.Struct("iIII")

#: File systems whose changes may come from elsewhere (another machine, the
#: host of a VM) without an inotify event here.
_REMOTE_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "fuse", "afs", "ceph",
              "glusterfs", "lustre", "gpfs", "vboxsf", "vmhgfs", "prl_fs")


class WatchLost(Exception):
    """The watcher may have missed an event (its queue overflowed, it could not
    see its own sentinel, a watch vanished unasked): start a fresh one."""


# -- the watcher ---------------------------------------------------------------

class InotifyWatcher:
    """File-change events of a workspace's plan roots and templates folder.

    ``trees`` (folders relative to ``root``) are watched recursively, or, while
    missing, through their nearest existing ancestor; ``root`` itself and the
    store folder are watched too (``promptgen.toml``; the sentinel). Each
    :meth:`sync` returns the paths (relative to ``root``) that had an event since
    the last one, and whether the folder structure changed. ``links`` lists the
    symbolic links and hard-linked files met in the trees: their content can
    change without an event here.
    """

    def __init__(self, root: str, trees: Sequence[str], store_dir: str) -> None:
        import ctypes

        self._libc = ctypes.CDLL(None, use_errno=True)
        self._errno = ctypes.get_errno
        fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            err = self._errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self.fd = fd
        self.root = root
        self.trees = tuple(dict.fromkeys(_clean_rel(t) for t in trees))
        self.store_dir = os.path.abspath(store_dir)
        self.sentinel = os.path.join(self.store_dir, f"{SENTINEL_PREFIX}{os.getpid()}")
        self._dirs: dict[int, str] = {}   # watch descriptor → folder relative to root ("" is root)
        self._wds: dict[str, int] = {}
        self._dropped: set[int] = set()   # removed by us: their late events are old news
        self._store_wd: Optional[int] = None
        self._sentinel_fd = -1
        self.links: list[str] = []
        try:
            self._watch_store()
            self._cover()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for fd in (self.fd, self._sentinel_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self._sentinel_fd = -1
        try:
            os.unlink(self.sentinel)
        except OSError:
            pass

    # -- watches -----------------------------------------------------------------
    def _add(self, rel: str) -> Optional[int]:
        """Watch one folder (relative to root); None when it is gone or not a folder."""
        if rel in self._wds:
            return self._wds[rel]
        path = os.path.join(self.root, rel) if rel else self.root
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), _WATCH_MASK)
        if wd < 0:
            err = self._errno()
            if err in (errno.ENOENT, errno.ENOTDIR):
                return None  # gone already: its parent's event says so
            why = ("the limit of inotify watches is reached (sysctl fs.inotify.max_user_watches)"
                   if err == errno.ENOSPC else os.strerror(err))
            raise WatchLost(f"cannot watch {path}: {why}")
        if wd in self._dirs:  # the same folder under two names (a bind mount, a loop)
            self.links.append(rel)
        self._dirs[wd] = rel
        self._wds[rel] = wd
        return wd

    def _watch_store(self) -> None:
        """Watch the store folder, and open the sentinel: a write to an open file
        costs a microsecond where creating one costs a journal commit."""
        os.makedirs(self.store_dir, exist_ok=True)
        _remove_stale_sentinels(self.store_dir)
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(self.store_dir), _WATCH_MASK)
        if wd < 0:
            err = self._errno()
            raise WatchLost(f"cannot watch the store folder {self.store_dir}: {os.strerror(err)}")
        self._store_wd = wd
        if self._sentinel_fd >= 0:
            os.close(self._sentinel_fd)
        self._sentinel_fd = os.open(self.sentinel, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def _add_tree(self, top: str) -> None:
        """Watch ``top`` and every folder under it: each folder is watched before
        it is listed, so a folder made meanwhile is either listed or reported."""
        stack = [top]
        store = _rel_inside(self.store_dir, self.root)
        while stack:
            rel = stack.pop()
            if self._add(rel) is None:
                continue
            try:
                with os.scandir(os.path.join(self.root, rel) if rel else self.root) as it:
                    for entry in it:
                        child = f"{rel}/{entry.name}" if rel else entry.name
                        if entry.is_symlink():
                            self.links.append(child)
                        elif entry.is_dir(follow_symlinks=False):
                            if child != store:  # the store's own files are not the workspace's
                                stack.append(child)
                        elif entry.stat(follow_symlinks=False).st_nlink > 1:
                            self.links.append(child)
            except (FileNotFoundError, NotADirectoryError):
                continue

    def _cover(self) -> None:
        """Watch the root, every existing tree, and the nearest existing ancestor of a missing one."""
        self._add("")
        for tree in self.trees:
            if tree in self._wds:
                continue
            path = os.path.join(self.root, tree)
            if os.path.islink(path):
                self.links.append(tree)  # what it points to is not watched
                continue
            if os.path.isdir(path):
                self._add_tree(tree)
                continue
            parent = tree
            while parent:
                parent = parent.rpartition("/")[0]
                if os.path.isdir(os.path.join(self.root, parent) if parent else self.root):
                    self._add(parent)
                    break

    def _drop(self, top: str) -> None:
        """Stop watching ``top`` and everything under it (it moved or vanished)."""
        for rel in [r for r in self._wds if r == top or r.startswith(top + "/")]:
            wd = self._wds.pop(rel)
            self._dirs.pop(wd, None)
            self._dropped.add(wd)
            self._libc.inotify_rm_watch(self.fd, wd)  # EINVAL when the kernel removed it first

    def _in_scope(self, rel: str) -> bool:
        """A folder inside a tree, or on the way to one."""
        return any(rel == t or rel.startswith(t + "/") or t.startswith(rel + "/") or not rel
                   for t in self.trees)

    # -- events ------------------------------------------------------------------
    def sync(self, sentinel: bool = True) -> tuple[dict[str, int], bool]:
        """``(paths, structural)``: every path (relative to root) with an event
        since the last sync, with its event mask, and whether folders appeared,
        vanished or moved. Raises :class:`WatchLost` when events may be missing.

        ``sentinel``: write the sentinel and read up to its own event (a
        question's sync); else read what is queued (a catch-up after
        :meth:`wait`, which must not make an event of its own)."""
        if self.fd < 0:
            raise WatchLost("the watcher is closed")
        if self._store_wd is None:
            self._watch_store()
        if sentinel:
            try:
                os.pwrite(self._sentinel_fd, b"\0", 0)
            except OSError as exc:
                raise WatchLost(f"cannot write the sentinel {self.sentinel}: {exc.strerror}") from None
        paths: dict[str, int] = {}
        structural = False
        seen = not sentinel
        name = os.path.basename(self.sentinel)
        while True:
            events = self._read(wait=not seen)
            if events is None:
                return paths, structural
            for wd, mask, entry in events:
                if wd == self._store_wd and entry == name:
                    seen = seen or bool(mask & _IN_MODIFY)
                elif self._event(wd, mask, entry, paths):
                    structural = True

    def wait(self, timeout: float) -> bool:
        """True when events are queued (waiting up to ``timeout`` seconds)."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))

    def _read(self, wait: bool) -> Optional[Iterator[tuple[int, int, str]]]:
        """The queued events; None when there are none and ``wait`` is False,
        else waiting for some (up to the timeout: then the watcher is lost)."""
        try:
            buf = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            if not wait:
                return None
            if not self.wait(SENTINEL_TIMEOUT_S):
                raise WatchLost("the watcher did not report its own sentinel in time") from None
            return iter(())
        return _parse(buf)

    def _event(self, wd: int, mask: int, entry: str, paths: dict[str, int]) -> bool:
        """Record one event in ``paths``; True when the folder structure changed."""
        if mask & _IN_Q_OVERFLOW:
            raise WatchLost("the kernel's event queue overflowed")
        if wd == self._store_wd:
            return self._store_event(mask, entry)
        folder = self._dirs.get(wd)
        if folder is None:
            if wd in self._dropped or mask & _IN_IGNORED:
                return False
            raise WatchLost(f"an event for an unknown watch ({wd})")
        if mask & _IN_IGNORED:  # the folder is gone (removed, unmounted)
            self._drop(folder)
            self._cover()
            return True
        if not entry:  # the watched folder itself: deleted, moved, its mode changed
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
                # its path now names another folder, or none: watch what is there
                # (a tree's root has no watched parent to report the move)
                self._drop(folder)
                self._cover()
            return True
        rel = f"{folder}/{entry}" if folder else entry
        if mask & _IN_ISDIR:
            return self._folder_event(rel, mask)
        if mask & (_IN_CREATE | _IN_MOVED_TO) and _is_link(os.path.join(self.root, rel)):
            self.links.append(rel)
        paths[rel] = paths.get(rel, 0) | mask
        return False

    def _store_event(self, mask: int, entry: str) -> bool:
        """The store folder: its own files are not the workspace's, but a templates
        folder may be made in it, and it may be removed (``promptgen clean``)."""
        if mask & _IN_IGNORED:
            self._store_wd = None  # watched again at the next sync
            return False
        if entry and mask & _IN_ISDIR:
            rel = _rel_inside(os.path.join(self.store_dir, entry), self.root)
            if rel is not None:
                return self._folder_event(rel, mask)
        return False

    def _folder_event(self, rel: str, mask: int) -> bool:
        """A folder appeared, vanished, moved or changed mode: watch what is
        there now (the new folder before anyone lists it; the nearest ancestor of
        a tree that is gone, to see it come back). True unless it is out of scope."""
        if not self._in_scope(rel):
            return False  # e.g. .git/ beside work-space/
        if mask & (_IN_DELETE | _IN_MOVED_FROM):
            self._drop(rel)
        self._cover()
        if mask & (_IN_CREATE | _IN_MOVED_TO) and rel not in self._wds and any(
                rel == t or rel.startswith(t + "/") for t in self.trees):
            self._add_tree(rel)
        return True


def _parse(buf: bytes) -> Iterator[tuple[int, int, str]]:
    """inotify_event records: ``(wd, mask, name)``."""
    off, end, head = 0, len(buf), _EVENT_HEAD.size
    while off + head <= end:
        wd, mask, _cookie, length = _EVENT_HEAD.unpack_from(buf, off)
        raw = buf[off + head:off + head + length]
        off += head + length
        yield wd, mask, os.fsdecode(raw.split(b"\0", 1)[0]) if length else ""


def _remove_stale_sentinels(store_dir: str) -> None:
    """Sentinels of servers that are gone (killed before they could remove theirs)."""
    try:
        names = [n for n in os.listdir(store_dir) if n.startswith(SENTINEL_PREFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(SENTINEL_PREFIX):]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join(store_dir, name))
            except OSError:
                pass
        except OSError:
            pass  # alive, another user's


def _clean_rel(path: str) -> str:
    parts = [p for p in path.replace(os.sep, "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def _rel_inside(path: str, root: str) -> Optional[str]:
    """``path`` relative to ``root`` ("/"-separated), or None when it is outside."""
    rel = os.path.relpath(path, root)
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _is_link(path: str) -> bool:
    """A symbolic link, or a file with another name somewhere (a hard link)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return _stat.S_ISLNK(st.st_mode) or (_stat.S_ISREG(st.st_mode) and st.st_nlink > 1)


def events_unavailable(root: str, folders: Sequence[str] = ()) -> Optional[str]:
    """Why file-change events cannot vouch for the changes under ``root`` and its
    ``folders`` (relative; the plan roots) (None: they can)."""
    if not sys.platform.startswith("linux"):
        return f"file-change events are read with inotify, which {sys.platform} does not have"
    for path in [root, *(os.path.join(root, f) for f in folders)]:
        fstype = _fs_type(path) if os.path.exists(path) else None
        if fstype and fstype.split(".")[0] in _REMOTE_FS:
            return f"{path} is on a {fstype} file system, whose changes may come from elsewhere without an event"
    return None


def _fs_type(path: str) -> Optional[str]:
    """The file system type of the mount holding ``path`` (/proc/self/mountinfo)."""
    real = os.path.realpath(path)
    best, fstype = "", None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) < 5 or not right:
                    continue
                mount = fields[4].replace("\\040", " ")
                if (real == mount or real.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                    best, fstype = mount, right.split()[0]
    except OSError:
        return None
    return fstype


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


class _Answers:
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
        self._answers: Optional[_Answers] = None
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
            if mask & _ENTRY_SET:
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
        self._answers = _Answers(built.plans, built.prompts, reports, generation)
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


# -- the MCP server ------------------------------------------------------------

INSTRUCTIONS = """\
promptgen knows the state of every plan of a methodology workspace (PLAN / SUBPLAN /
EXECUTION_TASK / feedback files under work-space/) and renders the prompt for each
plan's next step. Call `next_prompt` with "@FEATURE" to get what to do next on a plan,
`status` to see every plan, `warnings` for problems found in the files, and
`explain_build` to see what the last build recomputed and why. Every answer reflects the
files on disk at the moment of the call: save your edits, then ask again."""

#: The ``_meta`` key of every tool result: how the server answered and how long it took.
SERVED_META = "promptgen/served"


def _schemas() -> Any:
    """The tools' output schemas (pydantic needs typing_extensions' TypedDict before 3.12).

    The status document and the decisions are typed one level deep: a client
    may check a result against its schema (the Python SDK does, with
    jsonschema), and a reference per plan made that take seconds at 50,000
    files for a document the server had ready in milliseconds; their fields
    are described instead."""
    from typing_extensions import TypedDict

    class Current(TypedDict):
        number: str
        state: str

    class StatusDocument(TypedDict):
        """The `promptgen status --json` document. `plans`: one object per plan, sorted by
        plan_file, with feature, plan_file, plan_state (in_progress, plan_complete, blocked or
        no_achievements), current ({"number", "state"} of the current achievement, or null),
        available (numbers of other achievements ready in parallel), achievements (every
        declared one in plan order: {"number", "title", "state"}) and warnings
        ({"kind", "message", "path"})."""

        workspace: str
        plans: list[dict[str, Any]]

    class NextPrompt(TypedDict):
        feature: str
        plan_file: str
        plan_state: str
        current: Optional[Current]
        achievement: Optional[str]
        exit_code: int
        warnings: list[str]
        prompt: str

    class PlanWarning(TypedDict):
        """One warning, its plan, and how to make it go away (as `promptgen check` prints it)."""

        plan_file: str
        feature: str
        kind: str
        message: str
        path: Optional[str]
        remedy: str

    class Warnings(TypedDict):
        warnings: list[PlanWarning]

    class Explained(TypedDict):
        """`build`: the recorded build (id, started_ns, duration_s, mode, summary);
        `decisions`: one object per node that ran or was cut off (and, with include_reused,
        was reused): node, kind, status (ran, cut_off, reused), reason, detail, wall_s and why
        (a sentence); `reused`: how many nodes that build reused; `builds_since`: how many
        builds were recorded after it."""

        build: dict[str, Any]
        decisions: list[dict[str, Any]]
        reused: int
        builds_since: int

    return type("Schemas", (), {"StatusDocument": StatusDocument, "NextPrompt": NextPrompt,
                                "Warnings": Warnings, "Explained": Explained})


def make_server(warm: WarmWorkspace) -> Any:
    """An ``MCPServer`` (mcp ≥ 2) whose tools answer from ``warm``."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("promptgen", title="promptgen", instructions=INSTRUCTIONS, version=_version(),
                       log_level="WARNING")
    schemas = _schemas()
    _status_tools(server, warm, schemas)
    _prompt_tools(server, warm, schemas)
    return server


def _status_tools(server: Any, warm: WarmWorkspace, schemas: Any) -> None:
    from typing import Annotated

    from mcp_types import CallToolResult, ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(name="status", title="Status of every plan", annotations=read_only)
    def status() -> Annotated[CallToolResult, schemas.StatusDocument]:
        """The state of every plan of the workspace: its progress, current
        achievement and that achievement's state, the achievements ready in
        parallel, every declared achievement with its state, and its warnings.
        The same document as `promptgen status --json`."""
        doc, served = _ask(warm, warm.status)
        return _result([json.dumps(doc, indent=2, ensure_ascii=False)], doc, served)

    @server.tool(name="warnings", title="Warnings of every plan", annotations=read_only)
    def warnings() -> Annotated[CallToolResult, schemas.Warnings]:
        """Every problem promptgen found in the workspace's files (a malformed
        Achievement Index, an unreadable file, a feedback file for an undeclared
        achievement, ...), one per plan and kind, with the file it is about."""
        rows, served = _ask(warm, warm.warnings)
        lines = [f"@{w['feature']}: warning ({w['kind']}): {w['message']}"
                 + (f" [{w['path']}]" if w.get("path") and w["path"] not in w["message"] else "")
                 + f"\n  fix: {w['remedy']}" for w in rows]
        return _result(["\n".join(lines) or "no warnings"], {"warnings": rows}, served)

    @server.tool(name="explain_build", title="Why the last build recomputed what it did", annotations=read_only)
    def explain_build(
        build: Annotated[Optional[int], _field("Which recorded build: 1 is the last one, 2 the one before, "
                                               "...; by default the last one that recomputed something",
                                               ge=1)] = None,
        node: Annotated[Optional[str], _field("Only the nodes whose key contains this text, e.g. a "
                                              "file name or 'prompt:'")] = None,
        include_reused: Annotated[bool, _field("Also list the nodes that were reused (last build only; "
                                               "usually most of the graph)")] = False,
    ) -> Annotated[CallToolResult, schemas.Explained]:
        """What a build recomputed and why: every node that ran (its value
        changed) or was cut off (recomputed to the same value, so its dependents
        were spared), with the input or dependency that made it run — the data
        of `promptgen graph --explain --json`. The workspace is brought up to
        date first, so after an edit this explains the build the edit caused."""
        data, served = _ask(warm, warm.explain, build, node, include_reused)
        return _result([_explain_text(data)], data, served)


def _prompt_tools(server: Any, warm: WarmWorkspace, schemas: Any) -> None:
    from typing import Annotated

    from mcp_types import CallToolResult, ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(name="next_prompt", title="The next prompt of one plan", annotations=read_only)
    def next_prompt(
        plan: Annotated[str, _field("The plan: @FEATURE (the exact feature name, else a unique "
                                    "case-insensitive part of the feature or folder name) or the "
                                    "path of its PLAN file, relative to the workspace root",
                                    examples=["@MY-FEATURE", "work-space/plans/MY-FEATURE/PLAN_MY-FEATURE.md"])],
        achievement: Annotated[Optional[str], _field("The prompt for this achievement instead of the "
                                                     "current one, e.g. 1.2", examples=["1.2"])] = None,
    ) -> Annotated[CallToolResult, schemas.NextPrompt]:
        """The prompt for a plan's next step — what the coding agent should do
        now (create the SUBPLAN, execute, review, fix, ...) — rendered from the
        files on disk, with the plan's state and warnings. After you create or
        edit a workspace file, call it again for the step that follows."""
        data, served = _ask(warm, warm.next_prompt, plan, achievement)
        cur = data["current"]
        where = f"achievement {cur['number']} is current, {cur['state']}" if cur else data["plan_state"]
        footer = "\n".join([f"@{data['feature']} ({data['plan_file']}): {where}", *data["warnings"]])
        return _result([data["prompt"], footer], data, served)


def _field(description: str, **kw: Any) -> Any:
    from pydantic import Field

    return Field(description=description, **kw)


def _ask(warm: WarmWorkspace, question: Any, *args: Any) -> tuple[Any, dict[str, Any]]:
    """``question(*args)`` and how it was served; a problem the caller can fix
    becomes a tool error (the server goes on serving)."""
    from mcp.server.mcpserver.exceptions import ToolError

    from promptgen.nodes.selection import SelectionError

    from .workspace import WorkspaceError

    try:
        value = question(*args)
    except SelectionError as exc:
        raise ToolError("\n".join([exc.message, *(f"  {c}" for c in exc.candidates)])) from None
    except WorkspaceError as exc:
        raise ToolError(str(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise ToolError(f"cannot access{where}: {exc.strerror or exc}") from None
    return value, warm.served_here()


def _result(texts: list[str], structured: Any, served: dict[str, Any]) -> Any:
    from mcp_types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(type="text", text=t) for t in texts],
                          structured_content=structured, _meta={SERVED_META: served})


def _explain_text(data: dict[str, Any]) -> str:
    b, s = data["build"], data["build"]["summary"]
    since = data["builds_since"]
    later = f" ({since} build{'s' if since != 1 else ''} recorded since)" if since else ""
    lines = [f"build #{b['id']} ({b['mode']}, {b['duration_s'] * 1000:.1f} ms): {s['nodes']} nodes, "
             f"{s['recomputed']} recomputed ({s['cut_off']} cut off), {s['reused']} reused{later}"]
    shown = [r for r in data["decisions"] if r["status"] != "reused"]
    if not shown:
        lines.append("nothing ran: every node was reused")
    for r in data["decisions"]:
        label = {"ran": "ran", "cut_off": "cut off", "reused": "reused"}[r["status"]]
        lines.append(f"{label:<8} {r['node']}")
        if r.get("why"):
            lines.append(f"         {r['why']}")
    return "\n".join(lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promptgen")
    except PackageNotFoundError:
        return "unknown"


def serve(workspace: Optional[str] = None, plan_roots: Sequence[str] = (), store: Optional[str] = None,
          *, watch: bool = True) -> int:
    """Run the server on stdio until the client leaves."""
    def log(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    warm = WarmWorkspace(workspace, plan_roots, store, watch=watch, log=log)
    server = make_server(warm)  # raises ImportError without the mcp extra
    # the first build runs while the client connects (the first question waits for
    # it), then the answers are kept current as files change
    threading.Thread(target=warm.follow, name="promptgen-follow", daemon=True).start()
    try:
        server.run("stdio")
    finally:
        warm.close()
    return 0
