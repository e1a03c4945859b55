"""Read-only access to a workspace's store for graph, stats and metrics."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

from promptgen.engine.store import DB_NAME, Store

from .output import warn
from .workspace import UsageError, Workspace


@contextmanager
def open_store(ws: Workspace, required: bool = True) -> Iterator[Optional[Store]]:
    """The store, or a UsageError saying to build first when there is none."""
    if not os.path.exists(os.path.join(ws.store_dir, DB_NAME)):
        if required:
            raise UsageError(f"no store in {ws.store_dir} yet: run `promptgen build` first")
        yield None
        return
    store = Store.open(ws.store_dir)
    for w in store.warnings:
        warn(w)
    try:
        yield store
    finally:
        store.close()
