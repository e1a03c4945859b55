"""``state:<plan_file>`` — the state machine's answer for one plan.

Its value carries only what its dependents use (the current achievement's
section, SUBPLAN objective and approach, FIX issues): editing any other part
of a PLAN or SUBPLAN recomputes this node but leaves its value — and so the
rendered prompt — untouched (early cutoff).
"""

from __future__ import annotations

from .. import state_machine as sm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON

    from ..values import StateValue


def compute_state(param: JSON, values: list[JSON]) -> StateValue:
    plan, subplans, executions, feedback, parallel = values[:5]
    return sm.state_value(sm.analyze(plan, subplans, executions, feedback, parallel, siblings=values[5:]))
