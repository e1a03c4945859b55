"""``promptgen clean``: remove the store's files, and nothing else.

Only files promptgen creates are removed (the database and its journals, the
fast-path snapshot, the metrics journal, the lock). User files in the store
folder — template overrides in ``.promptgen/templates/`` — are kept.
"""

from __future__ import annotations

import os

from promptgen.engine.fastpath import BLOBS, SNAPSHOT
from promptgen.engine.journal import JOURNAL
from promptgen.engine.lock import LOCK_NAME, BuildLock, LockBusy
from promptgen.engine.store import DB_NAME

from .. import exitcodes
from ..output import error, info
from ..workspace import locate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

OWNED = (DB_NAME, DB_NAME + "-journal", DB_NAME + "-wal", DB_NAME + "-shm", SNAPSHOT, BLOBS, JOURNAL, LOCK_NAME)


def run(ns: argparse.Namespace) -> int:
    ws = locate(ns.workspace, ns.plan_root, ns.store)
    removed = []
    # taking the lock creates the lock file: report only what was there before
    existed = {name for name in OWNED if os.path.lexists(os.path.join(ws.store_dir, name))}
    lock = None
    if os.path.isdir(ws.store_dir):
        lock = BuildLock(ws.store_dir)
        try:
            lock.acquire(wait=False)  # never pull the store from under a running build
        except LockBusy as exc:
            # clean has no --no-wait: the generic LockBusy message would name one
            error(f"{exc}; nothing removed. Run promptgen clean again when it has finished.")
            return exitcodes.LOCK_BUSY
        except OSError:
            lock = None  # a read-only folder: nothing to clean in it anyway
    for name in OWNED:
        path = os.path.join(ws.store_dir, name)
        try:
            os.unlink(path)
            if name in existed:
                removed.append(name)
        except FileNotFoundError:
            pass
    if os.path.isdir(ws.store_dir):
        for name in os.listdir(ws.store_dir):
            if name.startswith(SNAPSHOT + ".") and name.endswith(".tmp"):
                os.unlink(os.path.join(ws.store_dir, name))
    if lock is not None:
        lock.release()
    try:
        os.rmdir(ws.store_dir)  # only if empty: templates stay
    except OSError:
        pass
    info(f"promptgen: removed {', '.join(removed) if removed else 'nothing (no store)'} in {ws.store_dir}")
    return 0
