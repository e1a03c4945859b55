"""Regular expressions compiled on first use.

The parsers declare their patterns at module level (one place, named), but an
incremental build usually runs one or two of them: after an edit to an
EXECUTION_TASK, only the status rule parses anything. Compiling all ~40
patterns on every start would cost a large part of such a build, so each
pattern compiles when it is first used, once per process (the import-cost rule
is in promptgen/__init__.py; docs/PERFORMANCE_OPTIMIZATION_GUIDE.md measures it).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional


class LazyPattern:
    """The subset of ``re.Pattern`` the parsers use, compiled on the first call."""

    __slots__ = ("_source", "_flags", "_compiled")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: Optional[re.Pattern[str]] = None

    def _get(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
        return compiled

    @property
    def pattern(self) -> str:
        return self._source

    def match(self, string: str, *args: Any) -> Optional[re.Match[str]]:
        return self._get().match(string, *args)

    def fullmatch(self, string: str, *args: Any) -> Optional[re.Match[str]]:
        return self._get().fullmatch(string, *args)

    def search(self, string: str, *args: Any) -> Optional[re.Match[str]]:
        return self._get().search(string, *args)

    def finditer(self, string: str, *args: Any) -> Iterator[re.Match[str]]:
        return self._get().finditer(string, *args)

    def findall(self, string: str, *args: Any) -> list[Any]:
        return self._get().findall(string, *args)

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        return self._get().sub(repl, string, count)


def compile(source: str, flags: int = 0) -> LazyPattern:  # noqa: A001 - mirrors re.compile
    return LazyPattern(source, flags)
