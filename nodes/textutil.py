"""Line-level markdown helpers shared by every parser.

Why a module of its own: every rule of the workspace format says "outside fenced
code" and "up to the next heading of the same or a higher level". Getting those
two things right once, in one linear pass, keeps the parsers small and makes
their cost proportional to the size of the text.
"""

from __future__ import annotations

import unicodedata

from . import lazyre

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_RE_HEADING = lazyre.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_RE_FENCE = lazyre.compile(r"^[ \t]*(`{3,}|~{3,})")
_RE_SPACES = lazyre.compile(r"\s+")
_RE_CHECKBOX = lazyre.compile(r"\[[ xX✓✔]\]")
#: Bold/italic markers and the decorations the methodology sprinkles on titles.
_RE_MARKUP = lazyre.compile(r"\*\*|__")


class Doc:
    """A document split into lines, classified in one pass.

    Parallel lists (not one object per line: documents have thousands of lines
    and parsing must stay cheap): ``text[i]`` the line, ``fenced[i]`` inside a
    fenced code block (fence lines included), ``level[i]`` heading level 1-6 or
    0, ``title[i]`` the heading text without hashes ("" for other lines).
    ``headings`` lists the indices of heading lines.
    """

    __slots__ = ("text", "fenced", "level", "title", "headings")

    def __init__(self, text: list[str], fenced: list[bool], level: list[int], title: list[str],
                 headings: list[int]) -> None:
        self.text = text
        self.fenced = fenced
        self.level = level
        self.title = title
        self.headings = headings

    def __len__(self) -> int:
        return len(self.text)

    def slice(self, start: int, end: int) -> str:
        return "\n".join(self.text[start:end])


def normalize_text(text: str) -> str:
    """Text as the engine delivers it: no BOM, ``\\n`` newlines.

    The engine already normalises ``file:`` values; parsers call this too so that
    they can be used (and tested) on raw strings.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def scan(text: str) -> Doc:
    """Split a document into classified lines in one pass.

    A fence opened by ``` (or ~~~) closes at a line starting with the same
    character repeated at least as many times and nothing else. Headings are ATX
    headings (up to three leading spaces) outside fences.
    """
    lines = normalize_text(text).split("\n")
    n = len(lines)
    fenced = [False] * n
    level = [0] * n
    title = [""] * n
    headings: list[int] = []
    fence: Optional[str] = None
    for i, raw in enumerate(lines):
        s = raw.lstrip()
        head3 = s[:3]
        if fence is not None:
            fenced[i] = True
            if head3 == fence[:3] and s.rstrip().strip(fence[0]) == "" and len(s.rstrip()) >= len(fence):
                fence = None
            continue
        if head3 == "```" or head3 == "~~~":
            m = _RE_FENCE.match(raw)
            if m:
                fence = m.group(1)
                fenced[i] = True
                continue
        if head3[:1] == "#" and len(raw) - len(s) <= 3:
            h = _RE_HEADING.match(raw)
            if h:
                level[i] = len(h.group(1))
                title[i] = h.group(2)
                headings.append(i)
    return Doc(lines, fenced, level, title, headings)


def section_end(doc: Doc, start: int) -> int:
    """Index one past the section whose heading is line ``start``.

    The section runs to the next heading of the same or a higher level (a lower
    or equal number of hashes), outside fenced code.
    """
    lv0 = doc.level[start]
    for i in doc.headings:
        if i > start and doc.level[i] <= lv0:
            return i
    return len(doc.text)


def find_heading(doc: Doc, *needles: str, start: int = 0) -> Optional[int]:
    """Index of the first heading whose text contains every needle (any case)."""
    low = [n.lower() for n in needles]
    for i in doc.headings:
        if i >= start:
            t = doc.title[i].lower()
            if all(n in t for n in low):
                return i
    return None


def is_decoration(ch: str) -> bool:
    """Emoji, check marks and other pictographs (and their joiners/selectors)."""
    if ch in "\ufe0f\ufe0e\u200d\u20e3":
        return True
    o = ord(ch)
    if 0x1F000 <= o <= 0x1FAFF or 0x2600 <= o <= 0x27BF or 0x2B00 <= o <= 0x2BFF:
        return True
    return unicodedata.category(ch) == "So"


def strip_decorations(text: str) -> str:
    """Remove bold markers, check boxes, check marks and emoji; collapse spaces."""
    text = _RE_MARKUP.sub("", text)
    text = _RE_CHECKBOX.sub("", text)
    if not text.isascii():
        text = "".join(ch for ch in text if not is_decoration(ch))
    return _RE_SPACES.sub(" ", text).strip()


def clean_title(text: str) -> str:
    """A title as shown to people: decorations removed, no leading ``:``/``-``."""
    t = strip_decorations(text)
    return t.strip(" :-–—\t").strip()


def lstrip_decorations(text: str) -> str:
    """Drop leading emoji, check marks, bold markers, punctuation and spaces."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or is_decoration(ch) or (not ch.isalnum() and ch not in "([{\"'`"):
            i += 1
            continue
        break
    return text[i:]


def truncate(text: str, limit: int, note: str) -> str:
    """Cut ``text`` to about ``limit`` characters at a line boundary, saying so."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    if cut < limit // 2:
        cut = limit
    return text[:cut].rstrip() + "\n\n" + note
