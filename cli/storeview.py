"""Read-only access to a workspace's store for graph, stats and metrics.

Views never write: a missing store means "nothing recorded yet", a damaged one
is reported and left for the next ``promptgen build`` to replace.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from promptgen.engine.store import Store
from promptgen.workspace import Workspace

from .output import warn


@contextmanager
def open_store(ws: Workspace) -> Iterator[Optional[Store]]:
    """The store, or None (with a warning if it exists but cannot be read)."""
    view = ws.read_store()
    with view as store:
        if view.problem:
            warn(view.problem)
        yield store
