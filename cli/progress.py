"""A progress bar for slow builds: shown on a terminal once a build passes one second.

Most builds finish long before a bar would be readable, so nothing is drawn (and
rich is not imported) unless the build is still running after ``DELAY_S`` and
stderr is a terminal.
"""

from __future__ import annotations

import sys
import time
from .output import use_color

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

DELAY_S = 1.0


class SlowBuildProgress:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.bar: Optional[Any] = None
        self.task: Optional[Any] = None
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, known: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.perf_counter() - self.t0 < DELAY_S:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(file=sys.stderr, no_color=not use_color(sys.stderr))
            self.bar = Progress(TextColumn("building"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("nodes"), TimeElapsedColumn(), console=console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("build", total=known)
        assert self.bar is not None and self.task is not None
        self.bar.update(self.task, completed=done, total=max(known, done))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
