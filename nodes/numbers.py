"""Achievement numbers (``N.M`` or ``N.M.K``) and the tokens used in file names.

Why: files name an achievement by its *token*, the number with the dots removed
(``3.2 → 32``, ``3.5.1 → 351``). That mapping is not reversible — ``1.10`` and
``11.0`` both give ``110`` — so a token is only ever mapped back by looking it up
among the achievements a plan declares, and a token that fits two of them is
reported as ambiguous instead of being guessed, as the old script did
(docs/USER_GUIDE.md §4, "Numbers and tokens").
"""

from __future__ import annotations

from . import lazyre

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Optional

#: A number as written in a PLAN: two or three dot-separated integers, not part
#: of a longer dotted run (``1.2.3.4`` is not an achievement number).
NUMBER_PATTERN = r"\d+(?:\.\d+){1,2}(?![.\d]*\d)"
_RE_NUMBER = lazyre.compile(r"(?<![\d.])" + NUMBER_PATTERN)
_RE_FULL = lazyre.compile(r"\d+(?:\.\d+){1,2}")


def is_number(text: str) -> bool:
    return bool(_RE_FULL.fullmatch(text.strip()))


def normalize(number: str) -> str:
    """Canonical spelling: parts as plain integers (``01.1 → 1.1``)."""
    return ".".join(str(int(p)) for p in number.strip().split("."))


def key(number: str) -> tuple[int, ...]:
    """Sort key for plan order: numeric, part by part (``3.5 < 3.5.1 < 3.6``)."""
    return tuple(int(p) for p in number.split("."))


def token(number: str) -> str:
    """The file token: parts joined without dots (``0.1 → 01``, ``12.1 → 121``)."""
    return "".join(number.split("."))


def first_number(text: str) -> Optional[str]:
    """The first achievement-like number in ``text``, normalised, or None."""
    m = _RE_NUMBER.search(text)
    return normalize(m.group(0)) if m else None


def sort_numbers(numbers: Iterable[str]) -> list[str]:
    return sorted(numbers, key=key)


class TokenIndex:
    """Reverse lookup of tokens among a plan's declared achievements."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self._by_token: dict[str, list[str]] = {}
        for n in numbers:
            self._by_token.setdefault(token(n), []).append(n)

    def lookup(self, tok: str) -> tuple[Optional[str], list[str]]:
        """``(number, [])`` when unique, ``(None, candidates)`` when ambiguous,
        ``(None, [])`` when the token names no declared achievement."""
        found = self._by_token.get(tok, [])
        if len(found) == 1:
            return found[0], []
        if len(found) > 1:
            return None, sort_numbers(found)
        return None, []

    def ambiguous_tokens(self) -> dict[str, list[str]]:
        return {t: sort_numbers(ns) for t, ns in self._by_token.items() if len(ns) > 1}
