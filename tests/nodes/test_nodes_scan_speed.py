"""textutil.scan() finds the lines that matter with one regular expression.

scan() runs for every SUBPLAN, PLAN and EXECUTION file a build parses, so it
must stay well inside an edit's budget; it no longer walks every line in
Python. What it returns must not change: these tests compare it, field by
field, with the former line-by-line implementation (kept here, and only here,
as the reference) on generated text rich in the characters that make line
splitting and stripping differ, on the repository's examples, and on the real
corpus when ``$PROMPTGEN_CORPUS`` points to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptgen.nodes.textutil import Doc, normalize_text, scan

REPO = Path(__file__).resolve().parents[2]

# -- the reference: scan() as it was, one Python step per line ----------------------------------
_REF_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_REF_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def reference_scan(text: str) -> Doc:
    lines = normalize_text(text).split("\n")
    n = len(lines)
    fenced = [False] * n
    level = [0] * n
    title = [""] * n
    headings: list[int] = []
    fence: str | None = None
    for i, raw in enumerate(lines):
        s = raw.lstrip()
        head3 = s[:3]
        if fence is not None:
            fenced[i] = True
            if head3 == fence[:3] and s.rstrip().strip(fence[0]) == "" and len(s.rstrip()) >= len(fence):
                fence = None
            continue
        if head3 == "```" or head3 == "~~~":
            m = _REF_FENCE.match(raw)
            if m:
                fence = m.group(1)
                fenced[i] = True
                continue
        if head3[:1] == "#" and len(raw) - len(s) <= 3:
            h = _REF_HEADING.match(raw)
            if h:
                level[i] = len(h.group(1))
                title[i] = h.group(2)
                headings.append(i)
    return Doc(lines, fenced, level, title, headings)


def fields(doc: Doc) -> dict[str, list]:
    return {name: getattr(doc, name) for name in Doc.__slots__}


def assert_same_as_reference(text: str) -> None:
    assert fields(scan(text)) == fields(reference_scan(text)), repr(text)


# -- hand-picked cases ----------------------------------------------------------------------------
CASES = [
    "",
    "\n",
    "#",
    "# Title",
    "# Title\n",
    "\n# Title",
    "   # three spaces\n    # four spaces",
    "\t# tab\n \t# space tab\n\x0b# vertical tab",
    "####### seven\n###### six\n#no-space\n#\ttab\n# \n#",
    "# closing ##\n## closing # x\n## a#\n## a # #\n##   \n## ## \n#  ##  \t",
    "```\n# not a heading\n```\n# heading",
    "```py\ncode\n````\n# still code\n```\n# out",
    "~~~\n```\n~~~~ \n# out",
    "````\n```\n````x\n`````\n# out",
    "```\nunclosed\n# not a heading",
    "```\n\x0b```\n# heading: closed by a line indented with a vertical tab",
    "\x0b```\n# heading: a vertical tab before a fence does not open it",
    "\u2028```\n# heading: U+2028 is blank for lstrip() but does not end a line",
    "a\x85```\n# heading",
    "\x85```\n# heading",
    "\xa0# nbsp: lstrip() strips it, the heading rule does not",
    "\ufeff# BOM at the start\n\ufeff# BOM inside is text",
    "# a\r\n## b\r### c\r\n\r\n```\r\n# x\r\n```\r\n# d",
    "``` \n  ```\n# after an indented close",
    "~~~~\n~~~\n~~~~\n# out",
    "```\n```\n```\n```\n# four fences",
    "# same\n# same\n```\n# same\n```\n# same",
    "x\n```\n# same\n```\n# same\n```\n# same",
    "  ```\n  code\n     ```\n# out",
    "```\n  ~~~\n```\n# out",
]


@pytest.mark.parametrize("text", CASES)
def test_scan_matches_the_reference_on_tricky_cases(text: str) -> None:
    assert_same_as_reference(text)


def test_scan_fences_and_headings() -> None:
    doc = scan("# A\n```\n# code\n```\n## B ##\ntext\n~~~\nopen")
    assert doc.fenced == [False, True, True, True, False, False, True, True]
    assert doc.headings == [0, 4] and doc.level[4] == 2 and doc.title[4] == "B"


def test_regex_blanks_are_what_lstrip_strips() -> None:
    """scan() finds marked lines with ``[^\\S\\n]*``: ``\\s`` must be str.isspace()."""
    every = "".join(map(chr, range(0x110000)))
    by_regex = re.findall(r"\s", every)
    by_str = [c for c in every if c.isspace()]
    assert by_regex == by_str
    assert [c for c in every if (c + "x").lstrip() == "x"] == by_str


# -- generated text -------------------------------------------------------------------------------
#: Characters that make splitting, stripping and marking disagree.
ALPHABET = ["#", "`", "~", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\xa0", "a", "b", "\ufeff"]
#: Runs of them, so that short random text also opens and closes fences.
RUNS = ["```", "~~~", "````", "###", "\n```", "\n~~~", "\n# ", "\n   # "]

_INDENTS = ["", "", "", " ", "  ", "   ", "    ", "\t", " \t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
            "\xa0", "\u2028", "\u3000", "\ufeff", " \x0b"]
_MARKS = ([""] * 3 + ["#" * k for k in range(1, 9)] + ["`" * k for k in range(2, 7)]
          + ["~" * k for k in range(2, 7)] + ["-", "* ", "```python", "~~~ text", "`~`", "#`"])
_GAPS = ["", " ", "\t", "  ", " \t ", "\x0b", "\xa0"]
_TAILS = ["", "", " #", " ##", "#", " # ", "\t#\t", " ", "\t", "```", "~~~", " ``` ", "`", "\x0c"]
_SEPARATORS = ["\n"] * 4 + ["\r\n", "\r"]
_BODY = "ab #`~ \t\x0b\u2028"


def _line(x: int) -> str:
    """The line numbered ``x``: indentation, mark, gap, a short body, tail and newline.

    One drawn integer per line keeps generation cheap (thousands of documents).
    """
    parts = []
    for choices in (_INDENTS, _MARKS, _GAPS):
        x, k = divmod(x, len(choices))
        parts.append(choices[k])
    x, size = divmod(x, 7)
    for _ in range(size):
        x, k = divmod(x, len(_BODY))
        parts.append(_BODY[k])
    for choices in (_TAILS, _SEPARATORS):
        x, k = divmod(x, len(choices))
        parts.append(choices[k])
    return "".join(parts)


_LINE_NUMBERS = st.integers(min_value=0, max_value=2 ** 62)


@st.composite
def document(draw: st.DrawFn) -> str:
    """Lines from a small pool (so that some repeat) and fresh ones, mixed newlines."""
    pool = [_line(x) for x in draw(st.lists(_LINE_NUMBERS, min_size=1, max_size=5))]
    text = "".join(pool[x // 3 % len(pool)] if x % 3 == 0 else _line(x)
                   for x in draw(st.lists(_LINE_NUMBERS, max_size=30)))
    cut = draw(st.integers(min_value=0, max_value=3))
    if cut == 1:
        text = text[:-1]  # no newline at the end (or half of a "\r\n")
    elif cut == 2:
        text = "\ufeff" + text
    return text


_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=2000, **_SETTINGS)
@given(st.lists(st.sampled_from(ALPHABET + RUNS), max_size=60).map("".join))
def test_scan_matches_the_reference_on_random_text(text: str) -> None:
    assert_same_as_reference(text)


@settings(max_examples=2000, **_SETTINGS)
@given(document())
def test_scan_matches_the_reference_on_random_documents(text: str) -> None:
    assert_same_as_reference(text)


# -- real documents -------------------------------------------------------------------------------
def _markdown_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if p.is_file())


def _assert_files_match(paths: list[Path]) -> None:
    differing = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        if fields(scan(text)) != fields(reference_scan(text)):
            differing.append(str(path))
    assert differing == []


def test_scan_matches_the_reference_on_the_examples() -> None:
    paths = _markdown_under(REPO / "examples")
    assert paths, "no .md file under examples/"
    _assert_files_match(paths)


def test_scan_matches_the_reference_on_the_corpus() -> None:
    env = os.environ.get("PROMPTGEN_CORPUS")
    if not env or not Path(env).is_dir():
        pytest.skip("no corpus (set PROMPTGEN_CORPUS)")
    paths = _markdown_under(Path(env))
    assert paths, f"no .md file under {env}"
    _assert_files_match(paths)
