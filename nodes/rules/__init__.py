"""The workspace as an engine graph: one rule per node kind, and the graph's roots.

Each node kind's rule lives in a module named for it, with the imports it
needs; the node keys are named in :mod:`promptgen.nodes.keys` and what each
node reads in :mod:`.specs`:

=================  ==========================================================
module             node kinds
=================  ==========================================================
``discovery``      ``walk:`` (a folder of a plan root), ``scan:`` (a plan
                   folder's inventory) — expanders that declare the rest
``plan``           ``plan:`` the parsed PLAN
``subplan``        ``subplan:`` one SUBPLAN, ``subplans:`` a plan's SUBPLANs
``execution``      ``execution:`` one task, ``executions:`` a plan's tasks
``feedback``       ``feedback:`` approvals, fixes, resolutions, skips
``parallel``       ``parallel:`` the folder's ``parallel.json``
``state``          ``state:`` the plan's state (the state machine)
``prompt``         ``route:`` (picks the template), ``prompt:`` the prompt
``template``       ``template:`` override or built-in template text
=================  ==========================================================

A rule's module is imported when the rule first computes, so a build that
recomputes a few nodes loads only the parsers they use. Rule versions are
derived from the code each rule imports (:mod:`.versions`), so an upgrade
recomputes exactly the kinds whose code changed.
"""

from __future__ import annotations

from promptgen.engine.spec import Rule

from .. import keys
from . import versions
from .specs import roots

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from promptgen.engine.spec import JSON

__all__ = ["RULES", "roots"]


class _Compute:
    """A rule's compute function, imported from its module on first call."""

    __slots__ = ("module", "name", "fn")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self.fn: Optional[Callable[[JSON, list[JSON]], Any]] = None

    def __call__(self, param: JSON, values: list[JSON]) -> Any:
        if self.fn is None:
            module = __import__(f"{__name__}.{self.module}", fromlist=[self.name])
            self.fn = getattr(module, self.name)
        return self.fn(param, values)

    def __repr__(self) -> str:
        return f"{__name__}.{self.module}.{self.name}"


#: Node kind → (the module of its rule, what it is, whether it is an expander).
_KINDS = {
    keys.WALK: ("discovery", "Plan discovery: one folder of a plan root.", True),
    keys.SCAN: ("discovery", "Inventory of a plan folder; emits the per-plan nodes.", True),
    keys.PLAN: ("plan", "Parsed PLAN.", False),
    keys.SUBPLAN: ("subplan", "One SUBPLAN file: status, planned executions, objective, approach.", False),
    keys.SUBPLANS: ("subplan", "The SUBPLANs of a plan.", False),
    keys.EXECUTION: ("execution", "One EXECUTION_TASK file: status and hours.", False),
    keys.EXECUTIONS: ("execution", "The EXECUTION_TASKs of a plan.", False),
    keys.FEEDBACK: ("feedback", "Approvals, fix requests, resolutions, skips of a plan folder.", False),
    keys.PARALLEL: ("parallel", "parallel.json of a folder.", False),
    keys.STATE: ("state", "The state machine result for one plan.", False),
    keys.ROUTE: ("prompt", "Chooses the template of a plan's prompt.", True),
    keys.PROMPT: ("prompt", "Rendered prompt.", False),
    keys.TEMPLATE: ("template", "Prompt template: workspace override or built-in text.", False),
}


def _rules() -> dict[str, Rule]:
    """Each kind's rule: ``compute_<kind>`` of its module, versioned by the code
    that module imports; the template rule also by the built-in template texts."""
    from ..prompts import BUILTIN_TEMPLATES_DIR

    modules = {kind: f"{__name__}.{module}" for kind, (module, _doc, _expands) in _KINDS.items()}
    derived = versions.versions(modules.values(), data={modules[keys.TEMPLATE]: BUILTIN_TEMPLATES_DIR})
    return {kind: Rule(kind, derived[modules[kind]], _Compute(module, f"compute_{kind}"), expands=expands, doc=doc)
            for kind, (module, doc, expands) in _KINDS.items()}


RULES: dict[str, Rule] = _rules()
