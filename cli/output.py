"""Where output goes and whether it is coloured.

Data goes to stdout, messages to stderr. Colour only when the stream is a
terminal and ``NO_COLOR`` is unset (https://no-color.org); never in a pipe.
rich is imported only by the functions that draw tables.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def error(message: str, prefix: bool = True) -> None:
    text = f"promptgen: {message}" if prefix else message
    if use_color(sys.stderr):
        text = f"\x1b[31m{text}\x1b[0m"
    sys.stderr.write(text + "\n")


def warn(message: str) -> None:
    text = message if message.startswith("warning") else f"warning: {message}"
    if use_color(sys.stderr):
        text = f"\x1b[33m{text}\x1b[0m"
    sys.stderr.write(text + "\n")


def info(message: str) -> None:
    sys.stderr.write(message + "\n")


def console(stream: TextIO | None = None) -> Any:
    """A rich Console on ``stream`` that respects the colour rules above."""
    from rich.console import Console

    stream = stream or sys.stdout
    color = use_color(stream)
    con = Console(
        file=stream,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        soft_wrap=False,
        width=None if stream.isatty() else 120,
    )
    # rich answers a closed pipe with SystemExit(1); let main() treat it like any
    # other write to a reader that left (exit 0, nothing on stderr)
    con.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]  # rich documents it as a hook
    return con


def _broken_pipe() -> None:
    raise BrokenPipeError(32, "Broken pipe")
