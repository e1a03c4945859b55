"""What the store recorded, read-only and typed: for views, not for builds.

``promptgen graph`` shows the last build's graph and the recorded builds'
decisions. It asks here rather than reading the engine's traces and rows
itself, so that how the store keeps them (``Trace``, ``Previous``, the SQL
tables) stays the engine's business and can change without the views.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .explain import Decision
    from .spec import NodeSpec
    from .store import BuildRecord, Previous, Store


class StoredGraph:
    """The graph the last build left: its derived nodes (with the rule version
    and value fingerprint each was computed with) and the sources they read."""

    __slots__ = ("_prev",)

    def __init__(self, prev: Previous) -> None:
        self._prev = prev

    @classmethod
    def load(cls, store: Store) -> StoredGraph:
        """Raises ``StoreDamaged`` when the store cannot be trusted."""
        return cls(store.load())

    @property
    def node_count(self) -> int:
        """Derived nodes."""
        return len(self._prev.traces)

    @property
    def source_count(self) -> int:
        return len(self._prev.sources)

    def specs(self) -> dict[str, NodeSpec]:
        """Every derived node's spec, in the stored (topological) order."""
        return {key: trace.spec for key, trace in self._prev.traces.items()}

    def rule_version(self, key: str) -> str:
        return self._prev.traces[key].rule_version

    def fingerprint(self, key: str) -> str:
        """The fingerprint of a derived node's value."""
        return self._prev.traces[key].fingerprint

    def source_fingerprints(self) -> dict[str, str]:
        """Every source's fingerprint (of its content or listing)."""
        return {key: rec.fingerprint for key, rec in self._prev.sources.items()}

    def kind_counts(self) -> dict[str, int]:
        """Derived nodes per kind."""
        counts: dict[str, int] = {}
        for trace in self._prev.traces.values():
            counts[trace.spec.kind] = counts.get(trace.spec.kind, 0) + 1
        return counts

    def edge_count(self) -> int:
        """Inputs read, summed over the derived nodes."""
        return sum(len(trace.spec.inputs) for trace in self._prev.traces.values())


def recorded_builds(store: Store) -> list[BuildRecord]:
    """The recorded builds, newest first (no-ops are not recorded)."""
    return store.builds()


def build_decisions(store: Store, build: BuildRecord, last: bool) -> list[Decision]:
    """What happened to each node in ``build``: the nodes that ran or were cut
    off, and — for the ``last`` build only, whose graph is the stored one —
    every other node, reused."""
    decisions = store.decisions(build.id)
    if last:
        decisions += store.reused_in_last_build(decisions)
    return decisions

