"""The verifier: does a stored trace still hold, and if not, why not.

Every decision a build records is made here, with its reason, at the moment it
is made: a derived node's stored trace is compared with what the node is now
(its spec, its rule's version, its inputs' fingerprints), a source's stored
record with the one just checked, and a recomputed value's fingerprint with the
stored one (early cutoff). The walks only ask; they never compare traces
themselves, so the reasons ``promptgen graph --explain`` shows (``explain.py``)
come from one place whichever walk visited the node.

The first difference found is the reason, in a fixed order: forced, no trace,
rule version, spec (inputs or parameters), then the first input whose
fingerprint moved.
"""

from __future__ import annotations

from . import explain as ex
from .spec import is_source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from .sources import SourceRecord
    from .spec import NodeSpec, Rule
    from .store import Trace

    #: Why a node must run: a reason from ``explain.REASONS`` and its detail.
    Why = tuple[str, dict[str, Any]]


class Verifier:
    """The decisions of one build.

    ``force`` trusts no trace and no stamp; ``absent`` is why there is no
    previous state (``Previous.absent``): it names the reason of every node
    without a trace.
    """

    __slots__ = ("force", "absent_reason")

    def __init__(self, force: bool, absent: Optional[str]) -> None:
        self.force = force
        if force:
            self.absent_reason = ex.FORCED
        elif absent == "damaged":
            self.absent_reason = ex.STORE_MISSING_OR_DAMAGED
        else:
            self.absent_reason = ex.NEW

    # -- derived nodes -----------------------------------------------------
    def check(self, spec: NodeSpec, rule: Rule, trace: Optional[Trace], input_fps: list[str]) -> Optional[Why]:
        """None when the stored value still holds; otherwise why the node must run."""
        if self.force:
            return ex.FORCED, {}
        if trace is None:
            return self.absent_reason, {}
        if trace.rule_version != rule.version:
            return ex.RULE_CHANGED, {"old": trace.rule_version, "new": rule.version}
        if trace.spec is not spec and trace.spec != spec:
            return ex.DEPENDENCY_CHANGED, _spec_change(trace.spec, spec)
        if trace.input_fps == input_fps:
            return None
        for dep, old, new in zip(spec.inputs, trace.input_fps, input_fps):
            if old != new:
                if is_source(dep):
                    return ex.INPUT_CHANGED, {"path": dep.split(":", 1)[1], "node": dep, "old": old, "new": new}
                return ex.DEPENDENCY_CHANGED, {"node": dep, "old": old, "new": new}
        return None

    @staticmethod
    def reused(key: str, kind: str) -> ex.Decision:
        return ex.Decision(key, kind, ex.REUSED)

    @staticmethod
    def recomputed(key: str, kind: str, trace: Optional[Trace], fingerprint: str, why: Why,
                   wall_s: float) -> ex.Decision:
        """A node that ran: cut off when its new value is the stored one."""
        cut = trace is not None and trace.fingerprint == fingerprint
        return ex.Decision(key, kind, ex.CUT_OFF if cut else ex.RAN, why[0], why[1], wall_s)

    # -- sources -----------------------------------------------------------
    def source(self, key: str, before: Optional[SourceRecord], rec: SourceRecord) -> ex.Decision:
        """A source just checked (``rec``) against its stored record (``before``)."""
        kind, _, path = key.partition(":")
        if not rec.refreshed:
            return ex.Decision(key, kind, ex.REUSED)
        if before is None or self.force:
            return ex.Decision(key, kind, ex.RAN, self.absent_reason, {"path": path})
        if before.fingerprint == rec.fingerprint:
            what = ("stamp changed, content same" if before.stamp != rec.stamp
                    else "re-read (stamp too recent to trust), content same")
            return ex.Decision(key, kind, ex.CUT_OFF, ex.INPUT_CHANGED,
                               {"path": path, "old": before.fingerprint, "new": rec.fingerprint, "what": what})
        return ex.Decision(key, kind, ex.RAN, ex.INPUT_CHANGED,
                           {"path": path, "old": before.fingerprint, "new": rec.fingerprint})


def _spec_change(old: NodeSpec, new: NodeSpec) -> dict[str, Any]:
    """The detail of a node whose spec changed: which inputs came and went."""
    added = [i for i in new.inputs if i not in old.inputs]
    removed = [i for i in old.inputs if i not in new.inputs]
    what = "inputs changed"
    if added or removed:
        what = f"inputs changed (+{len(added)} -{len(removed)})"
    elif old.param != new.param:
        what = "parameters changed"
    return {"what": what, "added": added, "removed": removed}
