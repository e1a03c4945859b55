"""Content fingerprints: xxh3-64 of bytes, and of values in a canonical JSON form.

Why xxh3: it hashes at memory speed and is not a security boundary here — a
fingerprint only has to change when content changes.
"""

from __future__ import annotations

import json

import xxhash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def of_bytes(data: bytes) -> str:
    return xxhash.xxh3_64_hexdigest(data)


def canonical_json(value: Any) -> str:
    """One spelling per value, so equal values have equal fingerprints."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def of_value(value: Any) -> str:
    return of_bytes(canonical_json(value).encode("utf-8"))
