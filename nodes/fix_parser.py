"""The reviewer's issues in a ``FIX_T.md``, parsed tolerantly.

Why: the FIX prompt must list what the reviewer asked for, and real reviewers
write issues in several shapes — ``#### 1. Title`` headings, ``**1. Title**``
bold lines, ``1. **Title**`` numbered items, or plain bullets — grouped under
"Critical Issues (must fix)" / "Minor Issues (should fix)" headings. The old
parser missed the numbered-list format entirely. The rules as users read them:
docs/USER_GUIDE.md §6, "What a prompt contains", "The reviewer's issues".

Method: find the issues region (from the first heading mentioning "issue" to
the next heading of the same or a higher level that is not itself a grouping
heading); split it into segments at grouping headings, which also set the
severity; in each segment the strongest item shape present marks the issues and
everything else is detail of the preceding issue. A file with no recognisable
structure still yields one issue pointing at the file, so a FIX is never
silently empty.
"""

from __future__ import annotations

import re
import textwrap

from . import lazyre
from .textutil import Doc, clean_title, scan, truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .values import FixIssue

_RE_NUMBERED_TITLE = lazyre.compile(r"^(?:issue\s*)?#?\d+[.):]?\s*", re.IGNORECASE)
_RE_LEADING_NUMBER = lazyre.compile(r"^(?:issue\s*)?#?\d", re.IGNORECASE)
_RE_BOLD_NUMBERED = lazyre.compile(r"^ ?\*\*\s*(\d+)[.)]\s*(.+?)\*\*(.*)$")
_RE_NUMBERED = lazyre.compile(r"^ ?(\d+)[.)]\s+(.+)$")
_RE_BULLET = lazyre.compile(r"^ ?[-*+]\s+(?!\[[ xX]\])(.+)$")

_CRITICAL = ("critical", "must fix", "must-fix", "blocker", "blocking", "major", "high priority", "required")
_MINOR = ("minor", "should fix", "nice to have", "low priority", "optional", "suggestion", "recommendation")
_NOT_ISSUES = ("worked well", "strength", "summary", "next step", "positive", "conclusion",
               "timeline", "what went well", "overview", "context", "references")

#: Item shapes, strongest first.
HEADING_NUMBERED, BOLD_NUMBERED, NUMBERED, HEADING, BULLET = range(5)
DETAIL_LIMIT = 800


#: A label opening an item's title: "**Critical**: …", "Minor - …", "[BLOCKER] …".
_RE_INLINE_LABEL = lazyre.compile(
    r"^\W{0,3}(critical|blocker|major|must[ -]fix|minor|optional|nice to have|suggestion)\W{0,3}?\s*[:\-—–\]\)]\**\s*",
    re.IGNORECASE,
)


def inline_severity(title: str) -> tuple[Optional[str], str]:
    """A severity stated at the start of an item's own title, and the title without it."""
    m = _RE_INLINE_LABEL.match(title)
    if not m:
        return None, title
    return severity_of(m.group(1)), title[m.end():].strip() or title


def severity_of(text: str) -> Optional[str]:
    t = text.lower()
    if any(w in t for w in _CRITICAL):
        return "critical"
    if any(w in t for w in _MINOR):
        return "minor"
    return None


def _is_group(title: str) -> bool:
    t = clean_title(title).lower()
    if _RE_LEADING_NUMBER.match(t):
        return False
    return "issue" in t or severity_of(t) is not None


def _item(doc: Doc, i: int, region_level: int) -> Optional[tuple[int, str]]:
    """``(shape, title)`` when line ``i`` can start an issue."""
    if doc.fenced[i]:
        return None
    lv = doc.level[i]
    if lv:
        if lv <= region_level or _is_group(doc.title[i]):
            return None
        t = clean_title(doc.title[i])
        if _RE_LEADING_NUMBER.match(t):
            return HEADING_NUMBERED, _RE_NUMBERED_TITLE.sub("", t, count=1)
        return HEADING, t
    text = doc.text[i]
    m = _RE_BOLD_NUMBERED.match(text)
    if m:
        return BOLD_NUMBERED, clean_title(m.group(2) + m.group(3))
    m = _RE_NUMBERED.match(text)
    if m:
        return NUMBERED, clean_title(m.group(2))
    m = _RE_BULLET.match(text)
    if m:
        return BULLET, clean_title(m.group(1))
    return None


def _region(doc: Doc) -> Optional[tuple[int, int, int]]:
    """(start, end, level) of the issues region, or None."""
    for i in doc.headings:
        if "issue" in doc.title[i].lower():
            level = doc.level[i]
            for j in doc.headings:
                if j > i and doc.level[j] <= level and not _is_group(doc.title[j]):
                    return i, j, level
            return i, len(doc), level
    return None


def _excluded(doc: Doc) -> set[int]:
    """Lines inside sections that are clearly not issues (fallback mode)."""
    out: set[int] = set()
    skip_level = 0
    for i in range(len(doc)):
        lv = doc.level[i]
        if lv:
            if skip_level and lv <= skip_level:
                skip_level = 0
            if not skip_level and any(w in doc.title[i].lower() for w in _NOT_ISSUES):
                skip_level = lv
        if skip_level:
            out.add(i)
    return out


def _collect(doc: Doc, seg_start: int, seg_end: int, region_level: int,
             severity: Optional[str], skip: set[int]) -> list[FixIssue]:
    items: list[tuple[int, int, str]] = []
    for i in range(seg_start, seg_end):
        if i in skip:
            continue
        it = _item(doc, i, region_level)
        if it:
            items.append((i, it[0], it[1]))
    if not items:
        return []
    best = min(shape for _i, shape, _t in items)
    chosen = [(i, t) for i, shape, t in items if shape == best and t]
    out: list[FixIssue] = []
    for k, (i, title) in enumerate(chosen):
        stop = chosen[k + 1][0] if k + 1 < len(chosen) else seg_end
        body = [doc.text[j] for j in range(i + 1, stop) if j not in skip]
        detail = textwrap.dedent("\n".join(l.rstrip() for l in body if l.strip() not in ("---", "***")))
        own, title = inline_severity(title)
        out.append({
            "severity": severity or own,
            "title": title,
            "detail": truncate(detail.strip("\n"), DETAIL_LIMIT, "[…]"),
        })
    return out


def parse_fix(text: str) -> list[FixIssue]:
    """Issues of a FIX file: ``[{"severity": "critical"|"minor"|None, "title", "detail"}]``."""
    doc = scan(text)
    region = _region(doc)
    issues: list[FixIssue] = []
    if region is not None:
        start, end, level = region
        for sev, s, e in _split(doc, start, end, level):
            issues.extend(_collect(doc, s, e, level, sev, set()))
    if not issues:
        # no issues region: the whole file, minus praise and summaries; the
        # document title (a level-1 heading) is not an issue
        skip = _excluded(doc)
        for sev, s, e in _split(doc, 0, len(doc), 0):
            issues.extend(_collect(doc, s, e, 1, sev, skip))
    if not issues:
        for i in range(len(doc)):
            t = clean_title(doc.text[i])
            if t and not doc.level[i] and not doc.fenced[i]:
                issues.append({"severity": severity_of(text), "title": t[:200],
                               "detail": "(no issue list found; read the whole FIX file)"})
                break
    return issues


def _split(doc: Doc, start: int, end: int, region_level: int) -> list[tuple[Optional[str], int, int]]:
    """Segments of the region between grouping headings, with their severity.

    The region heading's own severity (e.g. "## Critical Issues") applies until a
    grouping heading states another.
    """
    base = severity_of(doc.title[start]) if region_level and doc.level[start] else None
    segs: list[tuple[Optional[str], int, int]] = []
    sev = base
    seg_start = start + 1 if region_level else start
    for i in range(seg_start, end):
        if doc.level[i] and _is_group(doc.title[i]):
            if i > seg_start:
                segs.append((sev, seg_start, i))
            sev = severity_of(doc.title[i]) or base
            seg_start = i + 1
    if seg_start < end:
        segs.append((sev, seg_start, end))
    return segs
