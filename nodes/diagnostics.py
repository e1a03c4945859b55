"""Warnings: conflicts and problems reported to the user, never raised.

Why: the replaced script crashed with a ``KeyError`` on any PLAN/filesystem
conflict. Here every problem becomes a plain JSON record with a ``kind`` from a
closed list (docs/USER_GUIDE.md §7, "Warnings"), so that ``status``, JSON output and
the top of the prompt can all show it, and scripts can filter on it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .values import Warning

KINDS = (
    "duplicate_achievement",
    "ambiguous_token",
    "orphan_subplan",
    "orphan_execution",
    "orphan_feedback",
    "handoff_mismatch",
    "parallel_invalid",
    "unreadable_file",
)

#: How to make each kind of warning go away (``promptgen check`` prints it;
#: docs/USER_GUIDE.md §7, "Warnings").
REMEDIES = {
    "duplicate_achievement": "remove or renumber the second definition; the first is kept",
    "ambiguous_token": "renumber one of the two achievements; files with that token count for neither",
    "orphan_subplan": "rename the file to a declared achievement's token, declare the achievement, "
                      "or move the file out of the plan folder",
    "orphan_execution": "rename the file to a declared achievement's token, declare the achievement, "
                        "or move the file out of the plan folder",
    "orphan_feedback": "rename the file to a declared achievement's token, declare the achievement, "
                       "or move the file out of the plan folder",
    "handoff_mismatch": "update the PLAN's Current Status & Handoff section, or create the approval files "
                        "the message names",
    "parallel_invalid": "fix the dependency file; until then the plan uses plain plan order",
    "unreadable_file": "fix or remove the file (save it as UTF-8 text); it is ignored meanwhile",
}

_FILE_ERROR_TEXT = {
    "missing": "vanished while being read",
    "not_a_file": "is not a regular file",
    "not_utf8": "is not UTF-8 text",
    "too_large": "is too large to read",
    "unreadable": "could not be read",
    "outside_root": "is a link leading out of the workspace",
}


def warning(kind: str, message: str, path: Optional[str] = None) -> Warning:
    """One warning record ``{"kind", "message", "path"}`` (path workspace-relative)."""
    if kind not in KINDS:
        raise ValueError(f"unknown warning kind {kind!r}")
    return {"kind": kind, "message": message, "path": path}


def unreadable(path: Optional[str], error: str) -> Warning:
    """The warning for a ``file:`` value that carries an error code."""
    what = _FILE_ERROR_TEXT.get(error, f"could not be read ({error})")
    return warning("unreadable_file", f"{path} {what}; it is ignored", path)


def dedupe(warnings: list[Warning]) -> list[Warning]:
    """Drop exact repeats, keeping first occurrences in order."""
    seen: set[tuple] = set()
    out = []
    for w in warnings:
        k = (w["kind"], w["message"], w["path"])
        if k not in seen:
            seen.add(k)
            out.append(w)
    return out
