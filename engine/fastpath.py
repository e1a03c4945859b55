"""The no-op fast path: answer from the last build without importing the engine.

After every committed build the session writes ``<store>/snapshot``: the stamps
of every source the build read (workspace files and directories, plus the code
files of promptgen itself and any config file the caller names), the stamp of
the database, and a *payload* — the answers the caller wants to print on a
no-op (the prompts, the status document, the build summary).

A snapshot is self-validating: if every recorded path still has its recorded
stamp, the payload is exactly what a build would compute now, because it was
computed from exactly those inputs. It is only written when no stamp is racy
(see ``stamp.py``), so equality of stamps proves equality of content. Any
mismatch, or any doubt (unreadable snapshot, other format, other key), means
"not a no-op": the caller runs the real build.

When the check finds a change, it can say exactly what changed
(:class:`Observation`): the snapshot names the source key of every workspace
path and the store generation it was written after, so the build that follows
can visit only what depends on the changed sources (a *targeted* build, see
``build.py``).

This module imports only ``os``, ``marshal``, ``binascii`` (a CRC-32 guards each
file) and ``time``: checking the stamps is the whole cost of a no-op.
"""

import binascii
import marshal
import os
import time

# on the no-op path: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Sequence

SNAPSHOT = "snapshot"
BLOBS = "snapshot.blobs"
FORMAT = 7


class Observation:
    """What the no-op check saw when the snapshot did not answer.

    Its ``get`` answers the current stamp of every recorded path (absolute
    path → stamp), so the build does not stat them again. ``changed``: the source keys whose stamp differs from the
    snapshot's — or None when something else moved (promptgen's code, a config
    file, the store itself) or the snapshot could not be read; ``generation``:
    the store state the snapshot was written after; ``payload``: its answers
    (to patch rather than recompute).

    It keeps the snapshot's own arrays (names relative to the root, kinds,
    stamps) rather than building a path per entry: at 10,000 files that would
    cost more than the targeted build it serves.
    """

    __slots__ = ("changed", "generation", "payload", "_data", "_current", "_index", "_slash")

    def __init__(self) -> None:
        self.changed: Optional[list[str]] = None
        self.generation: Optional[str] = None
        self.payload: Optional[dict[str, Any]] = None
        self._data: Optional[dict[str, Any]] = None
        self._current: list[Any] = []
        self._index: Optional[dict[str, int]] = None
        self._slash = ""

    @classmethod
    def of_arrays(cls, data: "dict[str, Any]", current: "list[Any]", index: "Optional[dict[str, int]]",
                  changed: "list[str]", generation: "Optional[str]") -> "Observation":
        """An observation made by a caller that saw the changes itself (a file
        watcher) instead of stat'ing every path: ``data`` holds the snapshot's
        arrays (``root``, ``names``, ``kinds``, ``stamps``, ``payload``),
        ``current`` the stamps now, ``changed`` the source keys that moved."""
        obs = cls()
        obs._data = data
        obs._current = current
        obs._index = index
        obs._slash = os.path.join(data["root"], "")
        obs.changed = list(changed)
        obs.generation = generation
        obs.payload = data["payload"]
        return obs

    @property
    def names(self) -> "list[str]":
        """The snapshot's recorded paths (relative to the root for sources)."""
        return [] if self._data is None else list(self._data["names"])

    @property
    def index(self) -> "Optional[dict[str, int]]":
        """Recorded path → its place in the arrays, once built (shared, not copied)."""
        return self._index

    def usable(self) -> bool:
        """True when a targeted build may start from this observation."""
        return self.changed is not None and self.generation is not None

    # -- the mapping of current stamps ------------------------------------------
    def _name(self, path: str) -> str:
        if path.startswith(self._slash):
            return path[len(self._slash):]
        return "." if path == self._slash[:-1] else path

    def _position(self, path: str) -> "Optional[int]":
        if self._data is None:
            return None
        if self._index is None:
            self._index = {n: i for i, n in enumerate(self._data["names"])}
        return self._index.get(self._name(path))

    def get(self, path: str, default: "Any" = None) -> "Any":
        i = self._position(path)
        if i is None:
            return default
        stamp = self._current[i]
        return default if stamp is None else stamp

    def __bool__(self) -> bool:
        return self._data is not None

    @property
    def stamps(self) -> "dict[str, Any]":
        """Every current stamp by absolute path (built on demand: for callers that
        want a plain dict; the build uses ``get``)."""
        if self._data is None:
            return {}
        out = {}
        for kind, name, stamp in zip(self._data["kinds"], self._data["names"], self._current):
            if stamp is not None:
                out[name if kind == "-" else (self._slash[:-1] if name == "." else self._slash + name)] = stamp
        return out

    # -- the next snapshot -------------------------------------------------------
    def next_entries(self, sources: "Mapping[str, Any]") -> "tuple[list[str], list[str], list[Any]]":
        """The snapshot arrays after a targeted build: every recorded path (the
        store's own entry excluded) with the stamp seen now, or the stamp its
        source record got when this build read it again (``sources``: source key
        → record), then the sources this build read for the first time."""
        assert self._data is not None
        names = list(self._data["names"][:-1])
        kinds = list(self._data["kinds"][:-1])
        stamps = list(self._current[:-1])
        index = self._index if self._index is not None else {n: i for i, n in enumerate(names)}
        for key, rec in sources.items():
            kind, name = kind_and_name(key)
            i = index.get(name)
            if i is not None and i < len(names) and kinds[i] == kind:
                stamps[i] = rec.stamp
            else:
                names.append(name)
                kinds.append(kind)
                stamps.append(rec.stamp)
        return names, kinds, stamps


def _stamp(path: str) -> "Optional[tuple[int, int, int, int]]":
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def load(store_dir: str, key: str, observed: "Optional[Observation]" = None) -> "Optional[dict[str, Any]]":
    """The payload if nothing changed since the snapshot was written, else None.

    When something changed and ``observed`` is given, it is filled in (see
    :class:`Observation`) so that the build that follows does not stat each
    file a second time (see ``SourceReader``) and can be targeted.
    """
    try:
        data = _read(os.path.join(store_dir, SNAPSHOT))
        if data is None or data["format"] != FORMAT or data["key"] != key:
            return None
        names: Sequence[str] = data["names"]
        stamps: Sequence[Any] = data["stamps"]
        # workspace paths are stored relative to the root and stat'ed from its
        # descriptor: half the bytes to load, no path strings to build
        root_fd = os.open(data["root"], os.O_RDONLY | _O_DIRECTORY)
    except Exception:  # noqa: BLE001 - any unreadable snapshot (or a vanished root) just means "build"
        return None
    try:
        stat = os.stat
        for name, stamp in zip(names, stamps):
            try:
                st = stat(name, dir_fd=root_fd)
            except OSError:
                if stamp is not None:
                    break
                continue
            if stamp is None or (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino) != stamp:
                break
        else:
            payload = data["payload"]
            payload["_stat_count"] = len(names)
            return payload
        if observed is not None:
            _observe(data, names.index(name), observed, root_fd)
        return None
    finally:
        os.close(root_fd)


_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: Entry kinds: ``f`` a ``file:`` source, ``d`` a ``dir:`` source, ``r`` the
#: ``dir:`` of the root itself (stored as "."), ``-`` a path no node reads
#: (absolute: promptgen's code, a config file, the store).
_PREFIX = {"f": "file:", "d": "dir:"}


def source_key(kind: str, name: str) -> "Optional[str]":
    """The source key of a snapshot entry (kind ``f``/``d``/``r``), None for a path no node reads."""
    if kind == "r":
        return "dir:"
    prefix = _PREFIX.get(kind)
    return None if prefix is None else prefix + name


def _observe(data: "dict[str, Any]", first_changed: int, out: "Observation", root_fd: int) -> None:
    """Stamps of every path: those before ``first_changed`` were just found equal
    to the snapshot's; the rest are stat'ed now (once, like the no-op check would).
    Then which sources changed, if only sources did."""
    names, stamps, kinds = data["names"], data["stamps"], data["kinds"]
    current = list(stamps[:first_changed])
    changed: Optional[list[str]] = []
    stat = os.stat
    for i in range(first_changed, len(names)):
        try:
            st = stat(names[i], dir_fd=root_fd)
            stamp: Any = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        current.append(stamp)
        if changed is not None and stamp != stamps[i]:
            key = source_key(kinds[i], names[i])
            if key is None:
                changed = None  # not a workspace source: code, config or the store moved
            else:
                changed.append(key)
    out._data = data
    out._current = current
    out._slash = os.path.join(data["root"], "")
    if changed is not None:
        out.changed = changed
        out.generation = data["payload"].get("_generation")
        out.payload = data["payload"]


def kind_and_name(source: "Optional[str]", path: str = "") -> "tuple[str, str]":
    """The snapshot's (kind, name) of a source key (see ``source_key``); ``path`` for others."""
    if source is None:
        return "-", path
    if source.startswith("file:"):
        return "f", source[5:]
    if source in ("dir:", "dir:."):
        return ("r" if source == "dir:" else "d"), "."
    return "d", source[4:]


def write(store_dir: str, key: str, root: str, entries: "Sequence[tuple[str, Any, Optional[str]]]",
          payload: "dict[str, Any]", blobs: "Optional[dict[str, Any]]" = None) -> bool:
    """Atomically replace the snapshot; ``entries`` are ``(abs_path, stamp, source_key)``
    triples (``source_key`` None for a path no node reads), sources under ``root``."""
    names, kinds, stamps = [], [], []
    for path, stamp, source in entries:
        kind, name = kind_and_name(source, path)
        names.append(name)
        kinds.append(kind)
        stamps.append(stamp)
    return write_arrays(store_dir, key, root, names, kinds, stamps, payload, blobs)


def write_arrays(store_dir: str, key: str, root: str, names: "list[str]", kinds: "list[str]", stamps: "list[Any]",
                 payload: "dict[str, Any]", blobs: "Optional[dict[str, Any]]" = None) -> bool:
    """:func:`write` from the snapshot's own arrays (see ``Observation.next_entries``).

    ``blobs`` (large answers only some commands need, e.g. every plan's prompt)
    go to a side file, so that a no-op ``build`` does not load them; the
    snapshot names the side file's token and :func:`load_blobs` checks it.
    The database's own stamp is appended here (after its commit), so a store
    changed by anyone else invalidates the snapshot.
    """
    from .store import DB_NAME

    if blobs is not None:
        token = f"{os.getpid()}-{time.time_ns()}"
        if not _atomic_write(os.path.join(store_dir, BLOBS), _framed({"token": token, "blobs": blobs})):
            return False
        payload = {**payload, "_blobs": token}
    db = os.path.join(store_dir, DB_NAME)
    data = {
        "format": FORMAT,
        "key": key,
        "root": root,
        "names": names + [db],
        "kinds": "".join(kinds) + "-",
        "stamps": stamps + [_stamp(db)],
        "payload": payload,
    }
    return _atomic_write(os.path.join(store_dir, SNAPSHOT), _framed(data))


def load_blobs(store_dir: str, payload: "dict[str, Any]") -> "Optional[dict[str, Any]]":
    """Every blob written with the snapshot ``payload`` came from, or None."""
    try:
        data = _read(os.path.join(store_dir, BLOBS))
        if data is None or data["token"] != payload.get("_blobs"):
            return None  # a newer or older side file: not this snapshot's
        return data["blobs"]
    except Exception:  # noqa: BLE001 - unreadable means "build"
        return None


def _framed(data: "Any") -> bytes:
    """marshal bytes behind their CRC-32: a flipped bit must not become an answer."""
    body = marshal.dumps(data)
    return binascii.crc32(body).to_bytes(4, "big") + body


def _read(path: str) -> "Any":
    """What _framed wrote, or None when the checksum does not match."""
    with open(path, "rb") as fh:
        raw = fh.read()
    body = raw[4:]
    if len(raw) < 4 or binascii.crc32(body) != int.from_bytes(raw[:4], "big"):
        return None
    return marshal.loads(body)


def _atomic_write(path: str, data: bytes) -> bool:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def remove(store_dir: str) -> None:
    try:
        os.unlink(os.path.join(store_dir, SNAPSHOT))
    except OSError:
        pass
