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

_RE_FENCE = lazyre.compile(r"^[ \t]*(`{3,}|~{3,})")
#: A line (after its newline) whose first character that ``str.lstrip()`` keeps
#: is #, ``` or ~~~: a heading, or a line that may open or close a fence.
#: ``[^\S\n]`` is what ``lstrip()`` strips within a line (``\s`` and
#: ``str.isspace()`` agree on every character, which the tests check);
#: possessive, none of the marks being blank.
_RE_MARKED_LINE = lazyre.compile(r"\n([^\S\n]*+(?:#|```|~~~)[^\n]*+)")
_MARKS = ("#", "```", "~~~")
_BLANKS = (" ", "\t")
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

    scan() runs for every file a build parses, so it must stay cheap. Only lines
    starting (after blanks) with #, ``` or ~~~ can change anything: one regular
    expression finds them in the whole text, so the Python loop runs over a few
    dozen lines of a document of hundreds, and fenced ranges are filled by slice.
    """
    text = normalize_text(text)
    lines = text.split("\n")
    n = len(lines)
    fenced = [False] * n
    level = [0] * n
    title = [""] * n
    headings: list[int] = []
    marked = _RE_MARKED_LINE.findall(text)  # lines 1.., each preceded by a newline
    if lines[0].lstrip().startswith(_MARKS):
        marked.insert(0, lines[0])
        i = -1
    else:
        i = 0
    # A marked line's index is that of the next line with its text: any line
    # with that text in between would be marked too (being marked depends on
    # the text only), and the searches together read the list once. Inside a
    # fence only the closing line needs its index: the lines passed over lie
    # before it, and none of them has its text (it would have closed the fence).
    index = lines.index
    fence: Optional[str] = None
    opened = 0
    for raw in marked:
        s = raw.lstrip()
        if fence is not None:
            if s[:3] == fence[:3] and s.rstrip().strip(fence[0]) == "" and len(s.rstrip()) >= len(fence):
                i = index(raw, i + 1)
                fenced[opened:i + 1] = [True] * (i + 1 - opened)
                fence = None
            continue
        i = index(raw, i + 1)
        if s[0] != "#":  # ``` or ~~~
            m = _RE_FENCE.match(raw)
            if m:
                fence = m.group(1)
                opened = i
            continue
        # An ATX heading, as ^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$ reads it:
        # up to three spaces, one to six hashes, a space or a tab; the title is
        # the rest without its blanks, then without the longest end made of
        # hashes and blanks (what the lazy group leaves to the tail).
        rest = s.lstrip("#")
        hashes = len(s) - len(rest)
        if hashes > 6 or rest[:1] not in _BLANKS:
            continue
        indent = len(raw) - len(s)
        if indent and (indent > 3 or len(raw.lstrip(" ")) != len(s)):
            continue
        t = rest.strip(" \t")
        if t[-1:] == "#":
            t = t.rstrip("#").rstrip(" \t")
        level[i] = hashes
        title[i] = t
        headings.append(i)
    if fence is not None:
        fenced[opened:] = [True] * (n - opened)
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
