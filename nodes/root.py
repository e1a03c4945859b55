"""Where a workspace starts: the nearest folder holding ``work-space/``.

``os.path`` only: the no-op fast path calls this before anything else.
"""

import os

WORKSPACE_DIR = "work-space"


def is_workspace(folder: str) -> bool:
    return os.path.isdir(os.path.join(folder, WORKSPACE_DIR))


def find_workspace_root(start: str) -> "str | None":
    """The nearest ancestor of ``start`` (itself included; a file's folder) with ``work-space/``."""
    here = os.path.abspath(start)
    if os.path.isfile(here):
        here = os.path.dirname(here)
    while True:
        if is_workspace(here):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
