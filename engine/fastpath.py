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
FORMAT = 5


def _stamp(path: str) -> Optional[tuple[int, int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def load(store_dir: str, key: str, observed: Optional[dict[str, Any]] = None) -> Optional[dict[str, Any]]:
    """The payload if nothing changed since the snapshot was written, else None.

    When something changed and ``observed`` is a dict, it receives the stamp of
    every recorded path that exists (path → stamp), so that the build that
    follows does not stat each file a second time (see ``SourceReader``).
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
        _observe(paths, stamps, paths.index(path), observed)
    return None


def _observe(paths: Sequence[str], stamps: Sequence[Any], first_changed: int, out: dict[str, Any]) -> None:
    """Stamps of every path: those before ``first_changed`` were just found equal
    to the snapshot's; the rest are stat'ed now (once, like the no-op check would)."""
    for path, stamp in zip(paths[:first_changed], stamps[:first_changed]):
        if stamp is not None:
            out[path] = stamp
    for path in paths[first_changed:]:
        stamp = _stamp(path)
        if stamp is not None:
            out[path] = stamp


def write(store_dir: str, key: str, entries: Sequence[tuple[str, Any]], payload: dict[str, Any],
          blobs: Optional[dict[str, str]] = None) -> bool:
    """Atomically replace the snapshot; ``entries`` are ``(abs_path, stamp)`` pairs.

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
    all_entries = list(entries) + [(os.path.join(store_dir, DB_NAME), _stamp(os.path.join(store_dir, DB_NAME)))]
    data = {
        "format": FORMAT,
        "key": key,
        "paths": [p for p, _ in all_entries],
        "stamps": [s for _, s in all_entries],
        "payload": payload,
    }
    return _atomic_write(os.path.join(store_dir, SNAPSHOT), _framed(data))


def load_blob(store_dir: str, payload: dict[str, Any], name: str) -> Optional[str]:
    """A blob written with the snapshot ``payload`` came from, or None (then: build)."""
    try:
        data = _read(os.path.join(store_dir, BLOBS))
        if data is None or data["token"] != payload.get("_blobs"):
            return None  # a newer or older side file: not this snapshot's
        return data["blobs"].get(name)
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
