"""Why a node ran or was reused: decisions as data.

Every node of every build gets one :class:`Decision`. ``status`` says what
happened (``ran``: recomputed and its value changed; ``cut_off``: recomputed but
its value is the same as before, so it dirties nothing downstream; ``reused``:
not recomputed). ``reason`` says why it ran, from a closed set, with ``detail``
naming the input and the fingerprints involved. The store keeps the decisions of
the last builds so that ``promptgen graph --explain`` can show them later.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

# Why a node ran (the closed set).
NEW = "new"
INPUT_CHANGED = "input_changed"
DEPENDENCY_CHANGED = "dependency_changed"
RULE_CHANGED = "rule_changed"
FORCED = "forced"
STORE_MISSING_OR_DAMAGED = "store_missing_or_damaged"
REASONS = (NEW, INPUT_CHANGED, DEPENDENCY_CHANGED, RULE_CHANGED, FORCED, STORE_MISSING_OR_DAMAGED)

# What happened.
RAN = "ran"
CUT_OFF = "cut_off"
REUSED = "reused"
STATUSES = (RAN, CUT_OFF, REUSED)


class Decision:
    """What happened to one node in one build (a plain class: see spec.py on why)."""

    __slots__ = ("key", "kind", "status", "reason", "detail", "wall_s")

    def __init__(self, key: str, kind: str, status: str, reason: Optional[str] = None,
                 detail: Optional[dict[str, Any]] = None, wall_s: float = 0.0) -> None:
        self.key = key
        self.kind = kind
        self.status = status
        self.reason = reason
        self.detail = {} if detail is None else detail
        self.wall_s = wall_s

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Decision({self.key!r}, {self.kind!r}, {self.status!r}, reason={self.reason!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.key,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "wall_s": self.wall_s,
        }

    def why(self) -> str:
        """Why it ran, as ``promptgen graph --explain`` says it ("" when reused)."""
        if self.status == REUSED:
            return ""
        why = describe_reason(self.reason, self.detail)
        if self.status == CUT_OFF:
            # under --force every node runs anyway: its dependents were not spared
            why += ("; value unchanged" if self.reason == FORCED
                    else "; value unchanged, so its dependents were not re-run")
        return why

    def describe(self) -> str:
        """One line a person can read: what happened and, if it ran, why."""
        if self.status == REUSED:
            return "reused (inputs unchanged)"
        why = describe_reason(self.reason, self.detail)
        if self.status == CUT_OFF:
            return f"ran ({why}); value unchanged, dependents cut off"
        return f"ran ({why})"


def describe_reason(reason: Optional[str], detail: dict[str, Any]) -> str:
    if reason == INPUT_CHANGED and detail.get("old") == detail.get("new"):
        if str(detail.get("what", "")).startswith("re-read"):
            return f"input {detail.get('path')} re-read (stamp too recent to trust), content same"
        return f"input {detail.get('path')} touched (stamp changed, content same)"
    if reason == INPUT_CHANGED:
        return f"input {detail.get('path')} changed {short(detail.get('old'))}→{short(detail.get('new'))}"
    if reason == DEPENDENCY_CHANGED:
        if "node" in detail:
            return f"dependency {detail['node']} changed {short(detail.get('old'))}→{short(detail.get('new'))}"
        return detail.get("what", "its inputs changed")
    if reason == RULE_CHANGED:
        return f"rule version {detail.get('old')}→{detail.get('new')}"
    if reason == NEW:
        return "new node"
    if reason == FORCED:
        return "forced"
    if reason == STORE_MISSING_OR_DAMAGED:
        return "no usable store"
    return str(reason)


def short(fp: Any) -> str:
    if fp is None:
        return "∅"
    s = str(fp)
    return s if len(s) <= 12 else s[:12]
