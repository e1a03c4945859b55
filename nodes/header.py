"""The ``**Status**:`` header rule for SUBPLAN and EXECUTION_TASK files, and hours.

Why a strict rule: the old script matched "Complete" anywhere in a file, so an
iteration note such as "Phase 1 complete" marked a whole task done.
Here only the *header* counts — the text before the first line starting with
``## `` — and only a ``**Status**:`` value that, once leading emoji, check marks,
bold and punctuation are dropped, **begins with the word** ``Complete`` or
``Completed`` (any case). "Design Phase Complete" is a finished design, not a
finished piece of work (docs/USER_GUIDE.md §5, "Files that belong to an
achievement", "When is a SUBPLAN or EXECUTION_TASK complete?").

The header also often states hours ("**Estimated Effort**: 3-4 hours",
"**Actual Time**: ~2.5 hours"); they feed the plan-complete statistics
(docs/USER_GUIDE.md §6, "The state of a plan", "Statistics of a complete plan").
"""

from __future__ import annotations

import re

from . import lazyre
from .textutil import lstrip_decorations, normalize_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .values import Hours

_RE_STATUS = lazyre.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*Status(?:\*\*[ \t]*:|:\*\*)(.*)$", re.MULTILINE)
_RE_COMPLETE = lazyre.compile(r"completed?\b", re.IGNORECASE)
_RE_FIELD = lazyre.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*([^*\n]{1,40}?):?\*\*:?[ \t]*(.*)$", re.MULTILINE)
_RE_RANGE = lazyre.compile(r"(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*(?:h\b|hours?\b|hrs?\b)", re.IGNORECASE)
_RE_SINGLE = lazyre.compile(r"(\d+(?:\.\d+)?)\s*(?:h\b|hours?\b|hrs?\b)", re.IGNORECASE)


def header(text: str) -> str:
    """The text before the first line that starts with ``## ``."""
    text = normalize_text(text)
    if text.startswith("## "):
        return ""
    cut = text.find("\n## ")
    return text if cut < 0 else text[:cut]


def status_values(text: str) -> list[str]:
    """Every ``**Status**:`` value in the header, as written."""
    return [m.group(1).strip() for m in _RE_STATUS.finditer(header(text))]


def is_complete_value(value: str) -> bool:
    """Does a status value begin with the word Complete/Completed?"""
    return bool(_RE_COMPLETE.match(lstrip_decorations(value)))


def is_complete(text: str) -> bool:
    """A SUBPLAN/EXECUTION_TASK is complete when a header status says so."""
    return any(is_complete_value(v) for v in status_values(text))


def _hours(value: str) -> Optional[tuple[float, float]]:
    m = _RE_RANGE.search(value)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return (min(lo, hi), max(lo, hi))
    m = _RE_SINGLE.search(value)
    if m:
        v = float(m.group(1))
        return (v, v)
    return None


def stated_hours(text: str) -> Hours:
    """Hours stated in the header: ``{"actual": float|None, "estimated": [lo, hi]|None}``.

    A field whose name contains "estimat" is an estimate; "actual", "spent",
    "time" or "duration" otherwise is actual time. A range as actual time counts
    as its midpoint. The first field of each kind wins.
    """
    actual: Optional[float] = None
    estimated: Optional[list[float]] = None
    for m in _RE_FIELD.finditer(header(text)):
        name = m.group(1).strip().lower()
        h = _hours(m.group(2))
        if h is None:
            continue
        if "estimat" in name:
            if estimated is None:
                estimated = [h[0], h[1]]
        elif any(w in name for w in ("actual", "spent", "time", "duration")):
            if actual is None:
                actual = round((h[0] + h[1]) / 2, 2)
    return {"actual": actual, "estimated": estimated}
