"""File-change events for a process that stays warm: inotify, read directly.

``promptgen mcp`` answers a question without a stat of the unchanged tree when
it can prove that nothing changed since its last build, or exactly what did.
An :class:`InotifyWatcher` watches the plan roots and the templates folder
(recursively), the workspace root and the store folder; a question writes a
*sentinel* file in the store folder (never in ``work-space/``) and reads the
events up to the sentinel's own: the kernel queues one instance's events in
order, at the moment each change is made, so every change made before the
question is among them.

The inotify instance is read directly (``ctypes``) rather than through
``watchfiles``: watchfiles drops the kernel's queue-overflow notice (notify
reports it as a path-less event, which watchfiles ignores), and its
``watch()`` clears pending changes when it returns on a timeout, so a missed
event could not be told from no event at all. Read here, an overflow raises
:class:`WatchLost`, and the caller falls back to stat checks with a fresh
watcher. What inotify cannot see is out of reach (a write through a hard link
from outside the workspace, through ``mmap``, or from another machine on a
network file system): :func:`events_unavailable` and the links check say when
to use stat checks instead.
"""

from __future__ import annotations

import errno
import os
import select
import stat as _stat
import struct
import sys
from typing import Iterator, Optional, Sequence

#: The sentinel file's name in the store folder (one per server process).
SENTINEL_PREFIX = "mcp-sync-"
#: How long a call waits for its own sentinel's event before giving up on the watcher.
SENTINEL_TIMEOUT_S = 2.0

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
ENTRY_SET = _IN_CREATE | _IN_DELETE | _IN_MOVED_FROM | _IN_MOVED_TO
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
