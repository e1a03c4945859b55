"""The engine's source values as the rules read them.

A ``file:`` value is ``{"text": …}`` or ``{"error": <code>}``; a ``dir:`` value is
a sorted list of ``[name, type]`` pairs, None for a missing folder, or
``{"error": "unreadable"}`` for one that cannot be listed — which a rule must
not take for an empty one (see ``promptgen.engine.spec``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from promptgen.engine.spec import JSON

_DIR = "d"
_FILE = "f"


def text(value: JSON) -> Optional[str]:
    """A file's text, or None when it could not be read."""
    return value.get("text") if isinstance(value, dict) else None


def error(value: JSON) -> str:
    """Why a file could not be read (an engine error code)."""
    if isinstance(value, dict) and value.get("error"):
        return str(value["error"])
    return "unreadable"


def subfolders(listing: JSON) -> list[str]:
    """Sub-folder names of a listing (none when it is missing or unreadable)."""
    return [name for name, typ in listing if typ == _DIR] if isinstance(listing, list) else []


def files(listing: JSON) -> list[str]:
    """File names of a listing (none when it is missing or unreadable)."""
    return [name for name, typ in listing if typ == _FILE] if isinstance(listing, list) else []


def unlisted(listing: JSON) -> bool:
    """True for a folder that exists but could not be listed."""
    return isinstance(listing, dict)
