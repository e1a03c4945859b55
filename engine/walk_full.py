"""The full walk: every node of the graph, from the whole stored state.

Structure is dynamic: *expander* nodes declare further nodes. The order of the
last build is stored; while every expander reproduces the same nodes, the walk
simply follows that order (:class:`StoredOrder`, no scheduling). When an
expander's output changes only the inputs of its own children (a prompt
switching template), the children are patched in place and the walk goes on —
if the last graph declared every node once, that is exactly what a clean build
would see. Any other change (nodes appear or vanish, a patched child reads a
node not built yet) stops the stored order: the graph is declared again from
the roots and the expanders' values (:meth:`FullWalk.declare_again`), and
whatever is left is scheduled in topological rounds (:class:`Rounds`, with
``schedule.py``). A clean build, a forced one, or one with other roots goes to
the rounds directly.
"""

from __future__ import annotations

from . import fingerprint
from .spec import NodeSpec, is_source
from .state import BuildError, Stop, Walk, count_kinds, roots_digest, rules_digest
from .store import DECLARED_ONCE, KINDS, ORDER, ROOTS, RULES, Commit, StoreDamaged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .state import BuildState


class FullWalk:
    """One full walk over ``state``, and the declarations it saw.

    ``counting`` is True while every declaration passes through
    :meth:`declare` (clean builds, and after the graph is declared again):
    then ``declared_twice`` tells whether some node was declared by two
    expanders, which the commit records (``DECLARED_ONCE``). A walk that
    follows the stored order declares nothing, and the stored answer stands.
    """

    __slots__ = ("state", "counting", "declared_twice")

    def __init__(self, state: BuildState) -> None:
        self.state = state
        self.counting = True
        self.declared_twice = 0

    def run(self) -> None:
        state = self.state
        prev = state.prev
        for spec in state.roots:
            self.declare(spec)
        if prev.order and prev.meta.get(ORDER) not in (None, fingerprint.of_value(prev.order)):
            # rows of the nodes table are missing (or foreign): a node absent
            # from the stored order would silently leave the graph for good
            raise StoreDamaged("the stored schedule does not match the stored nodes")
        if prev.order and prev.meta.get(ROOTS) == roots_digest(state.roots) and not state.force:
            self.counting = False
            if StoredOrder(state).run() is not None:
                self.declare_again()
        else:
            state.structure_changed = True
        Rounds(state, self).run()

    def declare(self, spec: NodeSpec) -> None:
        """Add a node declared by a root or an expander to the graph."""
        specs = self.state.specs
        old = specs.get(spec.key)
        if old is not None:
            if old != spec:
                raise BuildError(f"node {spec.key} is produced twice with different inputs")
            self.declared_twice += 1
        if is_source(spec.key):
            raise BuildError(f"{spec.key}: source keys (file:, dir:) cannot be declared as derived nodes")
        specs[spec.key] = spec

    def declare_again(self) -> None:
        """After a structure change: the graph is the roots plus what the
        expanders evaluated so far produce; the rounds find the rest."""
        state = self.state
        state.structure_changed = True
        self.counting = True
        self.declared_twice = 0
        state.specs = {}
        for spec in state.roots:
            self.declare(spec)
        for key in state.order:
            spec = state.prev.traces[key].spec if key not in state.specs else state.specs[key]
            if state.rule(spec).expands:
                for child in state.value(key):
                    self.declare(NodeSpec.from_json(child))

    def commit(self) -> tuple[Commit, dict[str, int]]:
        """What to write — the graph replaces the stored one — and the derived
        nodes per kind."""
        state = self.state
        prev = state.prev
        c = Commit()
        c.sources_upsert = state.sources_to_write()
        c.sources_delete = [k for k in prev.sources if k not in state.src]
        c.nodes_upsert = dict(state.traces)
        c.nodes_delete = [k for k in prev.traces if k not in state.specs]
        if state.order != prev.order:
            c.order = list(state.order)
        kinds = count_kinds(state.specs, state.order)
        meta = {ROOTS: roots_digest(state.roots), ORDER: fingerprint.of_value(state.order)}
        if self.counting:  # else the walk declared nothing new: the stored answer stands
            meta[DECLARED_ONCE] = "1" if self.declared_twice == 0 else "0"
        meta[RULES] = rules_digest(state.rules)
        meta[KINDS] = fingerprint.canonical_json(kinds)
        c.meta.update((k, v) for k, v in meta.items() if prev.meta.get(k) != v)
        return c, kinds


class StoredOrder(Walk):
    """The last build's order, walked as it stands; children an expander
    patches in place are remembered (``patched``) until they are visited."""

    __slots__ = ("state", "patched")

    def __init__(self, state: BuildState) -> None:
        self.state = state
        self.patched: set[str] = set()

    def run(self) -> Optional[Stop]:
        """None when the whole stored order was walked; else why it stopped."""
        state = self.state
        prev = state.prev
        for key in prev.order:
            spec = state.specs.get(key)
            if spec is None:
                state.specs[key] = prev.traces[key].spec
            elif key in self.patched and any(i not in state.fps for i in spec.inputs if not is_source(i)):
                return Stop(f"{key} now reads a node not built yet")
            stop = state.evaluate(key, self)
            if stop is not None:
                return stop
        return None

    def input_fp(self, key: str, dep: str) -> str:
        # the stored order was topological when written: a node it lacks
        # means rows of the store are missing
        raise StoreDamaged(f"stored order lacks {dep}, which {key} reads")

    def expanded(self, key: str, children: list[NodeSpec], cut: bool) -> Optional[Stop]:
        # an unchanged expander's children are already in the stored order
        if cut or self._patch(key, children):
            return None
        return Stop(f"the children of {key} changed")

    def _patch(self, key: str, children: list[NodeSpec]) -> bool:
        """Give an expander's children their new specs in place, if that is
        provably what a clean build would do: the expander declares the same
        keys as before, and the last graph declared every node once (no other
        expander declares these keys). Otherwise False: the graph is declared
        again."""
        state = self.state
        if state.prev.meta.get(DECLARED_ONCE) != "1" or state.store is None:
            return False
        old = state.stored_children(key)
        if len(children) != len(old) or any(c.key not in old for c in children):
            return False  # nodes vanish or appear
        changed = [c for c in children if c != old[c.key]]
        if any(c.key in state.done for c in changed):
            return False  # cannot happen in a stored order (children follow their expander)
        for child in changed:
            state.specs[child.key] = child
            self.patched.add(child.key)
        state.structure_changed = True
        return True


class Rounds(Walk):
    """The nodes the stored order did not cover, in topological rounds: each
    round runs every pending node whose inputs are known; expanders declare
    their children for the next round. Never stops."""

    __slots__ = ("state", "full")

    def __init__(self, state: BuildState, full: FullWalk) -> None:
        self.state = state
        self.full = full

    def run(self) -> None:
        state = self.state
        while True:
            pending = [k for k in state.specs if k not in state.done]
            if not pending:
                return
            from . import schedule  # graphlib: only when the stored order did not cover everything

            runnable = schedule.ready(state.specs, pending, state.done)
            if not runnable:
                missing = sorted(
                    {i for k in pending for i in state.specs[k].inputs
                     if not is_source(i) and i not in state.specs}
                )
                raise BuildError("nodes read inputs that no rule produces: " + ", ".join(missing[:10]))
            for key in schedule.order(state.specs, runnable):
                state.evaluate(key, self)

    def reused_expander(self, key: str) -> None:
        # scheduled in rounds, nothing else will declare its children
        for child in self.state.value(key):
            self.full.declare(NodeSpec.from_json(child))

    def expanded(self, key: str, children: list[NodeSpec], cut: bool) -> Optional[Stop]:
        for child in children:
            self.full.declare(child)
        return None
