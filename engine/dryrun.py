"""What a build would do now, without running any rule (``graph --explain --dry-run``).

Sources are checked exactly as a build would (stamps, re-reading racy or changed
files), then the last build's graph is walked in order. A node *would run* when
one of its own sources changed, its rule version changed, or it is new; it *may
run* when only a dependency would run — whether it really does depends on that
dependency's new value (early cutoff), which only running can tell. Nothing is
written.
"""

from __future__ import annotations

from . import explain as ex
from .sources import SourceReader
from .spec import is_source, source_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

    from .spec import Rule
    from .store import Store

WOULD_RUN = "would_run"
MAY_RUN = "may_run"


class Prediction:
    """What the next build would do to one node: ``status`` is ``would_run``,
    ``may_run`` or ``reused``; ``reason`` and ``detail`` as in ``explain``."""

    __slots__ = ("key", "kind", "status", "reason", "detail")

    def __init__(self, key: str, kind: str, status: str, reason: Optional[str], detail: dict[str, Any]) -> None:
        self.key = key
        self.kind = kind
        self.status = status
        self.reason = reason
        self.detail = detail

    def __repr__(self) -> str:
        return f"Prediction({self.key!r}, {self.status!r}, reason={self.reason!r})"

    def to_json(self) -> dict[str, Any]:
        return {"node": self.key, "kind": self.kind, "status": self.status, "reason": self.reason,
                "detail": self.detail}


def dry_run(root: str, store: Store, rules: Mapping[str, Rule]) -> list[Prediction]:
    """Every node of the last build's graph, in order, with what would happen to it."""
    prev = store.load()
    reader = SourceReader(root)
    src_fp: dict[str, str] = {}
    status: dict[str, str] = {}
    out: list[Prediction] = []

    def source_fp(key: str) -> str:
        if key not in src_fp:
            src_fp[key] = reader.check(key, prev.sources.get(key)).fingerprint
        return src_fp[key]

    for key in prev.order:
        trace = prev.traces[key]
        spec = trace.spec
        rule = rules.get(spec.kind)
        verdict, reason, detail = ex.REUSED, None, {}
        if rule is None or rule.version != trace.rule_version:
            verdict, reason = WOULD_RUN, ex.RULE_CHANGED
            detail = {"old": trace.rule_version, "new": None if rule is None else rule.version}
        else:
            for dep, old in zip(spec.inputs, trace.input_fps):
                if is_source(dep):
                    new = source_fp(dep)
                    if new != old:
                        verdict, reason = WOULD_RUN, ex.INPUT_CHANGED
                        detail = {"path": source_path(dep), "old": old, "new": new}
                        break
                elif status.get(dep) in (WOULD_RUN, MAY_RUN) and verdict == ex.REUSED:
                    verdict, reason, detail = MAY_RUN, ex.DEPENDENCY_CHANGED, {"node": dep}
        if verdict != ex.REUSED and rule is not None and rule.expands:
            detail = {**detail, "note": "may add or remove nodes"}
        status[key] = verdict
        out.append(Prediction(key, spec.kind, verdict, reason, detail))
    return out
