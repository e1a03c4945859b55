"""The PLAN parser: which achievements a plan declares, their sections, the hint.

Why it is written this way (docs/USER_GUIDE.md §4, "Achievements"):

* The **Achievement Index** is the authoritative list when it declares anything;
  the old script ignored it and turned stray bold lines into duplicate
  achievements.
* Without an index, only a few line *forms* declare: headings and bold lines
  define a number; a bullet defines it only when no heading/bold line does,
  because plans list upcoming achievements in overview bullets long before
  their real definitions. Numbered items, check boxes and emoji-led lines are
  progress notes.
* Plan order is numeric, never text order.
* The section of an achievement (what a prompt quotes) runs from its defining
  line outside the index to the next definition or level 1–2 heading.
* The "Current Status & Handoff" hint is parsed but only *compared* with the
  filesystem; the files decide.

``parse_plan`` is a pure function of the text and linear in its size.
"""

from __future__ import annotations

import bisect

from . import lazyre
from . import numbers as num
from .diagnostics import warning
from .textutil import Doc, clean_title, scan, section_end

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, TypedDict

    from .values import Declared, Hint, ParsedPlan, Warning

    class IndexLine(TypedDict):
        number: str
        title: str
        line: int

    Form = tuple[int, str, int, str]  # (line, number, rank, title) of a declaration form
    Definitions = dict[str, tuple[int, str]]  # number -> (line, title) of its defining line

_NUM = r"(" + num.NUMBER_PATTERN + r")"
#: ``### Achievement N.M: Title`` (any level; bold around the words tolerated).
_RE_HEADING_FORM = lazyre.compile(r"^ {0,3}#{1,6}[ \t]+(?:\*\*)?Achievement[ \t]+" + _NUM + r"(\*\*|:)(.*)$")
#: ``**Achievement N.M**: Title`` / ``**Achievement N.M: Title**``, optionally
#: behind one ``-``/``*``/``+`` bullet (which lowers its rank).
_RE_BOLD_FORM = lazyre.compile(r"^[ \t]*([-*+][ \t]+)?\*\*Achievement[ \t]+" + _NUM + r"(\*\*|:)(.*)$")
_RE_INDEX_NAME = lazyre.compile(r"Achievement[ \t]+(?<![\d.])" + _NUM)
_RE_NEXT = lazyre.compile(r"\bNext\b")
_RE_WHATS_NEXT_END = lazyre.compile(r"\*\*What['’]s Next\*\*:\s*$")

RANK_DEFINE = 2  # heading or bold line
RANK_BULLET = 1  # bullet line


def _form(doc: Doc, i: int) -> Optional[tuple[str, int, str]]:
    """``(number, rank, title)`` when line ``i`` is a declaration form."""
    text = doc.text[i]
    if "Achievement" not in text or doc.fenced[i]:
        return None
    if doc.level[i]:
        m = _RE_HEADING_FORM.match(text)
        if not m:
            return None
        number, sep, rest = m.group(1), m.group(2), m.group(3)
        return num.normalize(number), RANK_DEFINE, clean_title(rest)
    m = _RE_BOLD_FORM.match(text)
    if not m:
        return None
    bullet, number, sep, rest = m.group(1), m.group(2), m.group(3), m.group(4)
    if sep == ":":
        # **Achievement N.M: Title** — the title is the text inside the bold
        title = rest.split("**", 1)[0]
    else:
        title = rest
    return num.normalize(number), (RANK_BULLET if bullet else RANK_DEFINE), clean_title(title)


def _index_range(doc: Doc) -> Optional[tuple[int, int]]:
    for i in doc.headings:
        if "achievement index" in doc.title[i].lower():
            return i, section_end(doc, i)
    return None


def _parse_index(doc: Doc, start: int, end: int,
                 plan_file: Optional[str]) -> tuple[list[IndexLine], list[Warning]]:
    decls: list[IndexLine] = []
    seen: dict[str, int] = {}
    warns: list[Warning] = []
    for i in range(start + 1, end):
        text = doc.text[i]
        if "Achievement" not in text or doc.fenced[i]:
            continue
        m = _RE_INDEX_NAME.search(text)
        if not m:
            continue
        number = num.normalize(m.group(1))
        if number in seen:
            warns.append(warning(
                "duplicate_achievement",
                f"Achievement {number} is listed twice in the Achievement Index; the first is kept",
                plan_file,
            ))
            continue
        seen[number] = i
        decls.append({"number": number, "title": clean_title(text[m.end():]), "line": i})
    return decls, warns


def _parse_hint(doc: Doc) -> Optional[Hint]:
    start = None
    for i in doc.headings:
        t = doc.title[i].lower()
        if "status" in t and "handoff" in t:
            start = i
            break
    if start is None:
        return None
    end = section_end(doc, start)
    awaiting = False
    for i in range(start + 1, end):
        if doc.fenced[i]:
            continue
        text = doc.text[i]
        if awaiting and text.strip():
            awaiting = False
            n = num.first_number(text)
            if n:
                return {"number": n, "line": text.strip()}
        if _RE_NEXT.search(text):
            n = num.first_number(text)
            if n:
                return {"number": n, "line": text.strip()}
        if _RE_WHATS_NEXT_END.search(text):
            awaiting = True
    return None


def _forms_outside_index(doc: Doc, idx: Optional[tuple[int, int]]) -> list[Form]:
    """Every declaration form outside the index, in text order: ``(line, number,
    rank, title)``. Inside the index, lines are the index's business."""
    forms: list[Form] = []
    for i in range(len(doc)):
        if idx is not None and idx[0] <= i < idx[1]:
            continue
        f = _form(doc, i)
        if f:
            forms.append((i, f[0], f[1], f[2]))
    return forms


def _first_definitions(forms: list[Form]) -> tuple[Definitions, Definitions, list[tuple[str, int]]]:
    """``(defined, bullets, repeats)``: the first heading/bold line of each number,
    the first bullet line of each number (``(line, title)`` both), and every later
    form of a number at a rank that already has it, as ``(number, rank)``."""
    defined: Definitions = {}
    bullets: Definitions = {}
    repeats: list[tuple[str, int]] = []
    for i, number, rank, title in forms:
        table = defined if rank == RANK_DEFINE else bullets
        if number in table:
            repeats.append((number, rank))
            continue
        table[number] = (i, title)
    return defined, bullets, repeats


def _duplicate_warnings(repeats: list[tuple[str, int]], defined: Definitions, bullets: Definitions,
                        plan_file: Optional[str]) -> list[Warning]:
    """A number defined twice at the same rank keeps the first; asked only
    without an index (docs/USER_GUIDE.md §4, "Duplicates"). A repeated bullet only
    matters when bullets are the definition, i.e. no heading/bold line defines
    the number."""
    warns: list[Warning] = []
    for number, rank in repeats:
        if rank == RANK_BULLET and number in defined:
            continue
        # no line numbers in messages: they would change with every edit above
        # and defeat early cutoff of the state and prompt nodes
        what = "defined" if rank == RANK_DEFINE else "listed as a bullet"
        table = defined if rank == RANK_DEFINE else bullets
        warns.append(warning(
            "duplicate_achievement",
            f"Achievement {number} is {what} more than once; the first (\"{table[number][1]}\") is kept",
            plan_file,
        ))
    return warns


def _declarations(index_decls: list[IndexLine], defined: Definitions) -> tuple[str, list[Declared]]:
    """``(source, achievements)``: the index when it declares anything (its titles,
    else the definition's), else the definitions outside it; in numeric plan order."""
    if index_decls:
        source = "index"
        decls: list[Declared] = [{"number": d["number"], "title": d["title"] or (defined.get(d["number"], (0, ""))[1])}
                 for d in index_decls]
    elif defined:
        source = "forms"
        decls = [{"number": n, "title": t} for n, (i, t) in defined.items()]
    else:
        source = "none"
        decls = []
    decls.sort(key=lambda d: num.key(d["number"]))
    return source, decls


def _sections(doc: Doc, decls: list[Declared], forms: list[Form], defined: Definitions,
              idx: Optional[tuple[int, int]]) -> dict[str, str]:
    """The text a prompt quotes per achievement: from its defining line to the next
    heading/bold declaration of any number, the next defining line, a level 1–2
    heading or the start of the index (docs/USER_GUIDE.md §4, "The section of an
    achievement"); empty when only the index names it."""
    boundaries = sorted({i for i, _n, rank, _t in forms if rank == RANK_DEFINE}
                        | {i for (i, _t) in defined.values()}
                        | {i for i in doc.headings if doc.level[i] <= 2})
    sections: dict[str, str] = {}
    for d in decls:
        n = d["number"]
        if n not in defined:
            sections[n] = ""
            continue
        start = defined[n][0]
        j = bisect.bisect_right(boundaries, start)
        end = boundaries[j] if j < len(boundaries) else len(doc)
        if idx is not None and start < idx[0] < end:
            end = idx[0]
        sections[n] = doc.slice(start, end).strip("\n").rstrip()
    return sections


def parse_plan(text: str, plan_file: Optional[str] = None) -> ParsedPlan:
    """Parse a PLAN.

    Returns ``{"achievements": [{"number", "title"}] (plan order),
    "sections": {number: text}, "source": "index"|"forms"|"none",
    "hint": {"number", "line"} | None, "warnings": [...]}``.
    """
    doc = scan(text)
    idx = _index_range(doc)
    index_decls: list[IndexLine] = []
    warns: list[Warning] = []
    if idx is not None:
        index_decls, warns = _parse_index(doc, idx[0], idx[1], plan_file)
    forms = _forms_outside_index(doc, idx)
    defined, bullets, repeats = _first_definitions(forms)
    if not index_decls:
        warns.extend(_duplicate_warnings(repeats, defined, bullets, plan_file))
    # a bullet defines a number only when no heading/bold line does
    for number, v in bullets.items():
        defined.setdefault(number, v)
    source, decls = _declarations(index_decls, defined)
    return {
        "achievements": decls,
        "sections": _sections(doc, decls, forms, defined, idx),
        "source": source,
        "hint": _parse_hint(doc),
        "warnings": warns,
    }
