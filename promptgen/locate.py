"""Where a workspace is, where its store is, and what a snapshot of it answers for.

A workspace is the nearest folder holding ``work-space/``; its store is
``<root>/.promptgen`` unless ``--store`` or ``$PROMPTGEN_STORE`` says otherwise.
The no-op fast path calls these before anything else: ``os`` only.
"""

import os

WORKSPACE_DIR = "work-space"
STORE_DIRNAME = ".promptgen"
CONFIG_FILE = "promptgen.toml"

#: Bumped when what the snapshot's payload holds changes meaning.
SNAPSHOT_FORMAT = "2"


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


def find_root(workspace: "str | None") -> "str | None":
    """``workspace`` if it is one, else (when not given) the nearest ancestor of the cwd that is."""
    if workspace:
        root = os.path.abspath(workspace)
        return root if is_workspace(root) else None
    return find_workspace_root(os.getcwd())


def store_dir(root: str, store: "str | None" = None) -> str:
    store = store or os.environ.get("PROMPTGEN_STORE")
    if store:
        return os.path.abspath(store)
    return os.path.join(root, STORE_DIRNAME)


def snapshot_key(root: str, store: str, extra_plan_roots: "tuple[str, ...]") -> str:
    """What a snapshot answers for. The installation's own folder is part of it:
    two installations of promptgen sharing a workspace must not answer with each
    other's results (their code may differ)."""
    install = os.path.dirname(os.path.abspath(__file__))
    return "\0".join((SNAPSHOT_FORMAT, install, root, store, *extra_plan_roots))
