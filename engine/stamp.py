"""Stat stamps and the racy-clean rule.

A stamp is ``(mtime_ns, ctime_ns, size, inode)``. If a path's stamp equals the one
recorded at the last build, its content is assumed unchanged and is not read —
unless the stamp was *racy* when it was recorded.

Racy clean (the problem git's index solves the same way): a file written in the
same timestamp tick as the moment we read it can be rewritten again within that
tick, with the same size, leaving the stamp unchanged. So a stamp only proves
"unchanged" when its timestamps are safely older than the moment the content was
read (``recorded_ns``). A racy stamp makes the next build read and hash the file
again; once the file is old enough, the stamp is refreshed and trusted.

``ctime`` is in the stamp because it cannot be set by ``os.utime``: restoring an
old mtime after an edit still changes ``ctime``.

This module must stay free of heavy imports: the no-op fast path uses it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Protocol

    class KnownStamps(Protocol):
        """Stamps observed moments ago by absolute path: a dict, or what the
        no-op check saw (``fastpath.Observation``)."""

        def get(self, path: str, default: Any = None) -> Any: ...

Stamp = tuple[int, int, int, int]

#: Timestamps on this machine are taken from a coarse clock that can lag the
#: real time by one scheduler tick (1–10 ms); 50 ms leaves a wide margin.
FINE_WINDOW_NS = 50_000_000
#: A timestamp that is a whole second suggests a file system with second (or, for
#: FAT, two-second) granularity: then the racy window is two seconds.
COARSE_WINDOW_NS = 2_000_000_000


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def stat_stamp(path: str) -> Optional[Stamp]:
    """The stamp of ``path`` (following symlinks), or None if it does not exist.

    A symbolic link that leads nowhere (dangling, looping) has its own stamp:
    what it is read as ("missing", "outside_root") depends on where it points,
    so "nothing here" (None) must not stand for it.
    """
    try:
        st = os.stat(path)
    except OSError:
        try:
            st = os.lstat(path)
        except OSError:
            # no such path, EACCES on a parent, …: absent; reading it will say why.
            return None
    return stamp_of(st)


def _window(ts_ns: int) -> int:
    return COARSE_WINDOW_NS if ts_ns % 1_000_000_000 == 0 else FINE_WINDOW_NS


def is_racy(stamp: Optional[Stamp], recorded_ns: int) -> bool:
    """True when ``stamp`` cannot prove the content unchanged since ``recorded_ns``."""
    if stamp is None:
        return False
    mtime, ctime = stamp[0], stamp[1]
    return mtime >= recorded_ns - _window(mtime) or ctime >= recorded_ns - _window(ctime)
