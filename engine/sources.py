"""Source nodes: files and directory listings, checked by stamp, read only when needed.

A source's *fingerprint* is what derived nodes record in their traces. It is
decided by the stat fast path when the stamp is unchanged and trusted (see
:mod:`.stamp`), otherwise by reading and hashing (files) or listing (directories).
Reading never follows a symbolic link out of the build root.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import time
from . import fingerprint
from .spec import source_path
from .stamp import is_racy, stat_stamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .stamp import KnownStamps, Stamp

DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024

MISSING = "missing"

#: ``recorded_ns`` of a record whose stamp proves nothing: a stamp is always
#: racy against time 0, so the source is checked again at every build.
ALWAYS_RECHECK_NS = 0


class SourceRecord:
    """What is known about one source at the end of a build (and what is stored).

    ``value`` is a directory's listing (stored) or a file's value when this build
    read it (never stored: files are re-read when a dependent recomputes).
    ``refreshed`` is True when this build read the path (new, changed or racy
    stamp). A listing loaded from the store may be given as ``load`` instead of
    ``value``: it is decoded on first use, because most builds never look at
    the listings of directories that did not change.
    """

    __slots__ = ("stamp", "recorded_ns", "fingerprint", "_value", "_load", "refreshed")

    def __init__(self, stamp: Optional[Stamp], recorded_ns: int, fingerprint: str, value: Any = None,
                 refreshed: bool = False, load: Optional[Callable[[], Any]] = None) -> None:
        self.stamp = stamp
        self.recorded_ns = recorded_ns
        self.fingerprint = fingerprint
        self._value = value
        self._load = load
        self.refreshed = refreshed

    @property
    def value(self) -> Any:
        if self._load is not None:
            self._value, self._load = self._load(), None
        return self._value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceRecord):
            return NotImplemented
        return (self.stamp, self.recorded_ns, self.fingerprint, self.value, self.refreshed) == (
            other.stamp, other.recorded_ns, other.fingerprint, other.value, other.refreshed)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __repr__(self) -> str:
        return (f"SourceRecord(stamp={self.stamp!r}, recorded_ns={self.recorded_ns!r}, "
                f"fingerprint={self.fingerprint!r}, refreshed={self.refreshed!r})")


class SourceCounters:
    __slots__ = ("stat", "read", "hashed", "listed")

    def __init__(self) -> None:
        self.stat = 0
        self.read = 0
        self.hashed = 0
        self.listed = 0


def decode_text(raw: bytes) -> dict[str, str]:
    """Bytes → the value of a ``file:`` node: UTF-8 text with universal newlines."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": "not_utf8"}
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return {"text": text}


class SourceReader:
    """Checks and reads the sources of one build, under one root."""

    def __init__(self, root: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 known_stamps: Optional[KnownStamps] = None) -> None:
        self.root = os.path.abspath(root)
        self.root_real = os.path.realpath(self.root)
        self._root_slash = os.path.join(self.root, "")  # keys hold relative "/" paths
        self.max_file_bytes = max_file_bytes
        self.counters = SourceCounters()
        #: Stamps (by absolute path) this process observed moments ago — the
        #: no-op check stats every source before deciding to build; a path not
        #: in it is stat'ed here.
        self.known_stamps = known_stamps or {}

    # -- paths -------------------------------------------------------------
    def abspath(self, key: str) -> str:
        rel = source_path(key)
        return self.root if rel in ("", ".") else self._root_slash + rel

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root_real or real.startswith(self.root_real + os.sep)

    # -- checking ----------------------------------------------------------
    def check(self, key: str, prev: Optional[SourceRecord]) -> SourceRecord:
        """The current record of a source, reading it only if the stamp says so."""
        path = self.abspath(key)
        stamp = self.known_stamps.get(path)
        if stamp is None or prev is None or stamp != prev.stamp:
            # only "unchanged" is taken from an earlier look; what is read is stat'ed now
            stamp = stat_stamp(path)
        self.counters.stat += 1
        if prev is not None and prev.stamp == stamp and not is_racy(stamp, prev.recorded_ns):
            return prev
        now = time.time_ns()  # before reading: the racy rule needs "read no earlier than"
        if key.startswith("dir:"):
            return self._list(path, stamp, now)
        return self._read(path, stamp, now)

    def file_value(self, key: str, record: SourceRecord) -> tuple[Any, SourceRecord]:
        """The value of a ``file:`` source; reads the file if this build has not."""
        if record.refreshed and record.value is not None:
            return record.value, record
        path = self.abspath(key)
        fresh = self._read(path, stat_stamp(path), time.time_ns())
        return fresh.value, fresh

    # -- reading -----------------------------------------------------------
    def _read(self, path: str, stamp: Optional[Stamp], now: int) -> SourceRecord:
        def error(code: str, fp: Optional[str] = None) -> SourceRecord:
            return SourceRecord(stamp, now, fp or f"error:{code}", {"error": code}, True)

        if stamp is None:
            if os.path.lexists(path) and not self._inside(path):
                return error("outside_root")
            return SourceRecord(None, now, MISSING, {"error": "missing"}, True)
        if not self._inside(path):
            return error("outside_root")
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            # keep the stamp: a dangling link has one (see stat_stamp)
            return SourceRecord(stamp, now, MISSING, {"error": "missing"}, True)
        except IsADirectoryError:
            return error("not_a_file")
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link loop: as missing, as it always was
                return SourceRecord(stamp, now, MISSING, {"error": "missing"}, True)
            return error("unreadable")
        try:
            st = os.fstat(fd)
            if not _stat.S_ISREG(st.st_mode):
                return error("not_a_file")
            if st.st_size > self.max_file_bytes:
                return error("too_large", f"error:too_large:{st.st_size}:{st.st_mtime_ns}")
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                if sum(map(len, chunks)) > self.max_file_bytes:
                    return error("too_large", f"error:too_large:grew:{st.st_mtime_ns}")
            raw = b"".join(chunks)
        except OSError:
            return error("unreadable")
        finally:
            os.close(fd)
        self.counters.read += 1
        self.counters.hashed += 1
        return SourceRecord(stamp, now, fingerprint.of_bytes(raw), decode_text(raw), True)

    def _list(self, path: str, stamp: Optional[Stamp], now: int) -> SourceRecord:
        if stamp is None:
            return SourceRecord(None, now, MISSING, None, True)
        if not self._inside(path):
            return SourceRecord(stamp, now, "error:outside_root", None, True)
        entries: list[list[str]] = []
        links = False
        try:
            with os.scandir(path) as it:
                for entry in it:
                    try:
                        entry.name.encode("utf-8")
                    except UnicodeEncodeError:
                        continue  # not a UTF-8 name: no workspace file can be called that
                    entries.append([entry.name, self._entry_type(entry)])
                    links = links or entry.is_symlink()
        except NotADirectoryError:
            return SourceRecord(stamp, now, "error:not_a_directory", None, True)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):  # keep the stamp: see stat_stamp
                return SourceRecord(stamp, now, MISSING, None, True)
            return SourceRecord(stamp, now, "error:unreadable", {"error": "unreadable"}, True)
        entries.sort()
        self.counters.listed += 1
        # The type of a symbolic link's entry follows its target, which the
        # directory's stamp does not cover (deleting the target leaves the
        # directory untouched): such a listing is never trusted from its stamp.
        recorded = ALWAYS_RECHECK_NS if links else now
        return SourceRecord(stamp, recorded, fingerprint.of_value(entries), entries, True)

    def _entry_type(self, entry: "os.DirEntry[str]") -> str:
        try:
            if entry.is_symlink():
                if not self._inside(entry.path):
                    return "x"
                st = os.stat(entry.path)
                if _stat.S_ISDIR(st.st_mode):
                    # not "d": walking into linked folders aliases them and can loop
                    # (a link to "." or to an ancestor); rules decide what to do
                    return "l"
                return "f" if _stat.S_ISREG(st.st_mode) else "o"
            if entry.is_dir(follow_symlinks=False):
                return "d"
            return "f" if entry.is_file(follow_symlinks=False) else "o"
        except OSError:
            return "x"
