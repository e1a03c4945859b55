"""The command line's side of a build: the workspace the options name, a build
with a terminal's manners (say whose lock it waits for, a progress bar when it
is slow, the store's warnings on stderr), and the summary it prints.

What a build means lives in :mod:`promptgen.workspace`; this module only
adapts it to ``argparse`` options and a terminal.
"""

from __future__ import annotations

import json

from promptgen.workspace import Built, Workspace, build_summary

from . import fast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence


class UsageError(Exception):
    """Reported as a one-line message with exit code 2."""


def locate(workspace: Optional[str], plan_roots: Sequence[str] = (), store: Optional[str] = None) -> Workspace:
    """The workspace of ``--workspace`` (or the nearest above the cwd), with
    ``--plan-root`` and ``--store`` applied; ``WorkspaceError`` if there is none."""
    return Workspace.locate(workspace, plan_roots, store)


def on_wait(pid: Optional[int]) -> None:
    """Told that another process holds the build lock: say who, then wait."""
    from .output import info

    who = f"process {pid}" if pid else "another promptgen process"
    info(f"promptgen: waiting for {who} to finish its build…")


def build(ws: Workspace, *, force: bool = False, no_wait: bool = False, observation: Any = None,
          observed: bool = False) -> Built:
    """``ws.build`` with the terminal's manners; the store's warnings go to stderr.

    ``observed``: run the no-op check first (a long-lived ``watch``), so that
    its builds after an edit are targeted too."""
    from .output import warn
    from .progress import SlowBuildProgress

    progress = SlowBuildProgress()
    try:
        if observed:
            built = ws.build_observed(wait=not no_wait, on_wait=on_wait, progress=progress)
        else:
            built = ws.build(force=force, wait=not no_wait, on_wait=on_wait, progress=progress,
                             observation=observation)
    finally:
        progress.close()
    for w in built.outcome.warnings:
        warn(w)
    return built


def build_for(ns: Any, *, force: bool = False) -> tuple[Workspace, Built]:
    """What build, next and status share: find the workspace, build it (waiting
    for another build unless --no-wait, saying whose), print the store's warnings."""
    ws = locate(ns.workspace, ns.plan_root, ns.store)
    return ws, build(ws, force=force, no_wait=ns.no_wait, observation=getattr(ns, "observation", None))


def build_json(built: Built, extra: Optional[dict[str, Any]] = None) -> str:
    data = build_summary(built)
    data.update(extra or {})
    return json.dumps(data)  # one line, as the fast path prints it


def summary_line(built: Built) -> str:
    r = built.result
    c = r.counters
    nwarn = sum(len(p["warnings"]) for p in built.plans)
    return fast.format_summary(len(built.plans), c.nodes, c.recomputed, c.reused, c.cut_off,
                               r.duration_s, nwarn, r.mode)
