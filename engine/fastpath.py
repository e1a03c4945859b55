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
FORMAT = 6


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
        paths: Sequence[str] = data["paths"]
        stamps: Sequence[Any] = data["stamps"]
    except Exception:  # noqa: BLE001 - any unreadable snapshot just means "build"
        return None
    stat = os.stat
    for path, stamp in zip(paths, stamps):
        try:
            st = stat(path)
        except OSError:
            if stamp is not None:
                break
            continue
        if stamp is None or (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino) != stamp:
            break
    else:
        payload = data["payload"]
        payload["_stat_count"] = len(paths)
        return payload
    if observed is not None:
        _observe(data, paths.index(path), observed)
    return None


def _observe(data: dict[str, Any], first_changed: int, out: Observation) -> None:
    """Stamps of every path: those before ``first_changed`` were just found equal
    to the snapshot's; the rest are stat'ed now (once, like the no-op check would).
    Then which sources changed, if only sources did."""
    paths, stamps, keys = data["paths"], data["stamps"], data.get("keys")
    seen = out.stamps
    for path, stamp in zip(paths[:first_changed], stamps[:first_changed]):
        if stamp is not None:
            seen[path] = stamp
    changed: Optional[list[str]] = [] if keys is not None else None
    for i in range(first_changed, len(paths)):
        path = paths[i]
        try:
            st = os.stat(path)
            stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            seen[path] = stamp
        except OSError:
            stamp = None
        if changed is not None and stamp != stamps[i]:
            if keys[i] is None:
                changed = None  # not a workspace source: code, config or the store moved
            else:
                changed.append(keys[i])
    if changed is not None:
        out.changed = changed
        out.generation = data["payload"].get("_generation")
        out.payload = data["payload"]
        out.entries = [(k, p) for k, p in zip(keys, paths) if k is not None]
        out.extras = [p for k, p in zip(keys[:-1], paths[:-1]) if k is None]  # the last is the store


def write(store_dir: str, key: str, entries: Sequence[tuple[str, Any, Optional[str]]], payload: dict[str, Any],
          blobs: Optional[dict[str, str]] = None) -> bool:
    """Atomically replace the snapshot; ``entries`` are ``(abs_path, stamp, source_key)``
    triples (``source_key`` None for a path no node reads).

    ``blobs`` (large answers only some commands need, e.g. every plan's prompt)
    go to a side file, so that a no-op ``build`` does not load them; the
    snapshot names the side file's token and :func:`load_blob` checks it.
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
    all_entries = list(entries) + [(db, _stamp(db), None)]
    data = {
        "format": FORMAT,
        "key": key,
        "paths": [p for p, _, _ in all_entries],
        "stamps": [s for _, s, _ in all_entries],
        "keys": [k for _, _, k in all_entries],
        "payload": payload,
    }
    return _atomic_write(os.path.join(store_dir, SNAPSHOT), _framed(data))


def load_blob(store_dir: str, payload: dict[str, Any], name: str) -> Optional[str]:
    """A blob written with the snapshot ``payload`` came from, or None (then: build)."""
    blobs = load_blobs(store_dir, payload)
    return None if blobs is None else blobs.get(name)


def load_blobs(store_dir: str, payload: dict[str, Any]) -> Optional[dict[str, str]]:
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
