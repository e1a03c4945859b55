"""Turning exceptions into one clear line and the right exit code."""

from __future__ import annotations

import os
import traceback

from . import exitcodes
from .output import error


def report(exc: BaseException) -> int:
    """Print what went wrong and how to fix it; return the exit code."""
    from promptgen.engine.build import BuildError, NodeFailed
    from promptgen.engine.lock import LockBusy
    from promptgen.engine.schedule import CycleError
    from promptgen.nodes.selection import SelectionError
    from promptgen.workspace import WorkspaceError

    from .workspace import UsageError

    if isinstance(exc, SelectionError):
        error(str(exc))
        for c in exc.candidates:
            error(f"  {c}", prefix=False)
        return exitcodes.USAGE
    if isinstance(exc, (UsageError, WorkspaceError)):
        error(str(exc))
        return exitcodes.USAGE
    if isinstance(exc, LockBusy):
        error(f"{exc}; not waiting (--no-wait). Try again when it has finished.")
        return exitcodes.LOCK_BUSY
    if isinstance(exc, CycleError):
        error(str(exc))
        return exitcodes.WORKSPACE_PROBLEM
    if isinstance(exc, NodeFailed):
        error(f"{exc}. This is a bug in promptgen, not in your workspace: please report it "
              "with the file named above (PROMPTGEN_DEBUG=1 shows a traceback).")
        _maybe_traceback(exc)
        return exitcodes.INTERNAL
    if isinstance(exc, BuildError):
        error(f"{exc}. This is a bug in promptgen (PROMPTGEN_DEBUG=1 shows a traceback).")
        _maybe_traceback(exc)
        return exitcodes.INTERNAL
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        error(f"cannot access{where}: {exc.strerror or exc}")
        _maybe_traceback(exc)
        return exitcodes.WORKSPACE_PROBLEM
    error(f"internal error: {type(exc).__name__}: {exc}. Please report it "
          "(PROMPTGEN_DEBUG=1 shows a traceback).")
    _maybe_traceback(exc)
    return exitcodes.INTERNAL


def _maybe_traceback(exc: BaseException) -> None:
    if os.environ.get("PROMPTGEN_DEBUG"):
        traceback.print_exception(exc)
