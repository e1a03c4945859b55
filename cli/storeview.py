"""Read-only access to a workspace's store for graph, stats and metrics.

Views never write: a missing store means "nothing recorded yet", a damaged one
is reported and left for the next ``promptgen build`` to replace.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from promptgen.engine.store import Store, StoreDamaged, StoreUnavailable

from .output import warn
from .workspace import Workspace


@contextmanager
def open_store(ws: Workspace) -> Iterator[Optional[Store]]:
    """The store, or None (with a warning if it exists but cannot be read)."""
    try:
        store = Store.open_readonly(ws.store_dir)
    except StoreUnavailable:
        yield None
        return
    except StoreDamaged as exc:
        warn(f"the store in {ws.store_dir} is damaged ({exc}); `promptgen build` will rebuild it")
        yield None
        return
    try:
        yield store
    finally:
        store.close()
