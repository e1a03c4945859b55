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
file) and ``time``; checking ~600 stamps costs about a millisecond.
"""

from __future__ import annotations

import binascii
import marshal
import os
import time
# typing imports re (~10 ms): this module is on the no-op path, so types are
# for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence

SNAPSHOT = "snapshot"
BLOBS = "snapshot.blobs"
FORMAT = 7


class Observation:
    """What the no-op check saw when the snapshot did not answer.

    ``stamps``: the current stamp of every recorded path that exists (path →
    stamp), so the build does not stat them again. ``changed``: the source keys
    whose stamp differs from the snapshot's — or None when something else
    moved (promptgen's code, a config file, the store itself) or the snapshot
    could not be read; ``generation``: the store state the snapshot was written
    after; ``payload``: its answers (to patch rather than recompute);
    ``entries``: its ``(key, path)`` pairs of sources; ``extras``: its other paths.
    """

    __slots__ = ("stamps", "changed", "generation", "payload", "entries", "extras")

    def __init__(self) -> None:
        self.stamps: dict[str, Any] = {}
        self.changed: Optional[list[str]] = None
        self.generation: Optional[str] = None
        self.payload: Optional[dict[str, Any]] = None
        self.entries: list[tuple[str, str]] = []
        #: the recorded paths no node reads (code, config), the store's own file excluded
        self.extras: list[str] = []

    def usable(self) -> bool:
        """True when a targeted build may start from this observation."""
        return self.changed is not None and self.generation is not None


def _stamp(path: str) -> Optional[tuple[int, int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def load(store_dir: str, key: str, observed: Optional[Observation] = None) -> Optional[dict[str, Any]]:
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


def _key(kind: str, name: str) -> Optional[str]:
    if kind == "r":
        return "dir:"
    prefix = _PREFIX.get(kind)
    return None if prefix is None else prefix + name


def _observe(data: dict[str, Any], first_changed: int, out: Observation, root_fd: int) -> None:
    """Stamps of every path: those before ``first_changed`` were just found equal
    to the snapshot's; the rest are stat'ed now (once, like the no-op check would).
    Then which sources changed, if only sources did."""
    names, stamps, kinds, root = data["names"], data["stamps"], data["kinds"], data["root"]
    slash = os.path.join(root, "")
    paths = [n if k == "-" else (root if n == "." else slash + n) for k, n in zip(kinds, names)]
    seen = out.stamps
    for path, stamp in zip(paths[:first_changed], stamps[:first_changed]):
        if stamp is not None:
            seen[path] = stamp
    changed: Optional[list[str]] = []
    for i in range(first_changed, len(paths)):
        try:
            st = os.stat(names[i], dir_fd=root_fd)
            stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            seen[paths[i]] = stamp
        except OSError:
            stamp = None
        if changed is not None and stamp != stamps[i]:
            key = _key(kinds[i], names[i])
            if key is None:
                changed = None  # not a workspace source: code, config or the store moved
            else:
                changed.append(key)
    if changed is not None:
        out.changed = changed
        out.generation = data["payload"].get("_generation")
        out.payload = data["payload"]
        out.entries = [(_key(k, n), p) for k, n, p in zip(kinds, names, paths) if k != "-"]
        out.extras = [p for k, p in zip(kinds[:-1], paths[:-1]) if k == "-"]  # the last is the store


def write(store_dir: str, key: str, root: str, entries: Sequence[tuple[str, Any, Optional[str]]],
          payload: dict[str, Any], blobs: Optional[dict[str, Any]] = None) -> bool:
    """Atomically replace the snapshot; ``entries`` are ``(abs_path, stamp, source_key)``
    triples (``source_key`` None for a path no node reads), sources under ``root``.

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
    names: list[str] = []
    kinds: list[str] = []
    stamps: list[Any] = []
    for path, stamp, source in list(entries) + [(db, _stamp(db), None)]:
        if source is None:
            kinds.append("-")
            names.append(path)
        elif source.startswith("file:"):
            kinds.append("f")
            names.append(source[5:])
        elif source in ("dir:", "dir:."):
            kinds.append("r" if source == "dir:" else "d")
            names.append(".")
        else:
            kinds.append("d")
            names.append(source[4:])
        stamps.append(stamp)
    data = {
        "format": FORMAT,
        "key": key,
        "root": root,
        "names": names,
        "kinds": "".join(kinds),
        "stamps": stamps,
        "payload": payload,
    }
    return _atomic_write(os.path.join(store_dir, SNAPSHOT), _framed(data))


def load_blobs(store_dir: str, payload: dict[str, Any]) -> Optional[dict[str, Any]]:
    """Every blob written with the snapshot ``payload`` came from, or None."""
    try:
        data = _read(os.path.join(store_dir, BLOBS))
        if data is None or data["token"] != payload.get("_blobs"):
            return None  # a newer or older side file: not this snapshot's
        return data["blobs"]
    except Exception:  # noqa: BLE001 - unreadable means "build"
        return None


def _framed(data: Any) -> bytes:
    """marshal bytes behind their CRC-32: a flipped bit must not become an answer."""
    body = marshal.dumps(data)
    return binascii.crc32(body).to_bytes(4, "big") + body


def _read(path: str) -> Any:
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
