"""What a build means for each plan: reports, the status document, explicit targets.

Turns the values of a finished build into one report per plan (the
``status --json`` fields plus the folder name, the rendered prompt and the exit
code), and renders the prompt of an explicitly targeted achievement with the
same functions the ``state:`` and ``prompt:`` nodes use.
"""

from __future__ import annotations

import os

from promptgen.engine.explain import RAN, REUSED

from . import keys, layout, prompts
from .selection import SelectionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Optional, Protocol, Sequence, Union

    from promptgen.engine.explain import Decision
    from promptgen.engine.spec import JSON

    from .values import (ExecutionsValue, FeedbackValue, PlanReport, PlanValue, PlanWarning, StateValue,
                         SubplansValue, TemplateValue)

    PathArg = Union[str, "os.PathLike[str]"]

    class Values(Protocol):
        """The values of a build by node key: a dict, or the engine's store-backed map."""

        def __getitem__(self, key: str) -> JSON: ...
        def __iter__(self) -> Iterator[str]: ...
        def __contains__(self, key: object) -> bool: ...
        def get(self, key: str, default: Any = None) -> Any: ...

def plan_reports(values: Values) -> list[PlanReport]:
    """One report per plan, sorted by ``plan_file``.

    ``values`` holds every derived node's value after a build. Each report has
    the status document's fields plus ``folder_name`` (the plan folder's name), ``prompt`` (the
    rendered text of the plan's prompt) and ``exit_code`` (1 when the plan has
    no achievements or its prompt is otherwise unusable, else 0).
    """
    reports = []
    preload = getattr(values, "preload", None)  # a store-backed mapping: one query, not one per plan
    if preload is not None:
        preload([k for k in values if keys.is_kind(k, keys.STATE) or keys.is_kind(k, keys.PROMPT)])
    for key in values:  # keys only: a store-backed mapping loads values on demand
        if not keys.is_kind(key, keys.STATE):
            continue
        report = _report(values, keys.name_of(key))
        if report is not None:
            reports.append(report)
    reports.sort(key=lambda r: r["plan_file"])
    return reports


def plan_report(values: Values, plan_file: str) -> PlanReport:
    """The report of one plan (as in :func:`plan_reports`), reading only its own values."""
    report = _report(values, plan_file)
    if report is None:
        raise KeyError(plan_file)
    return report


def _report(values: Values, pf: str) -> Optional[PlanReport]:
    state: StateValue = values[keys.state(pf)]
    if not isinstance(state, dict):
        return None
    prompt = values.get(keys.prompt(pf))
    text = prompt.get("text") if isinstance(prompt, dict) else None
    exit_code = 1 if (state.get("problem") or text is None) else 0
    return {
        "feature": state["feature"],
        "plan_file": state["plan_file"],
        "plan_state": state["plan_state"],
        "current": state["current"],
        "available": list(state["available"]),
        "achievements": [{"number": a["number"], "title": a["title"], "state": a["state"]}
                         for a in state["achievements"]],
        "warnings": [{"kind": w["kind"], "message": w["message"], "path": w["path"]} for w in state["warnings"]],
        "folder_name": state["folder_name"],
        "prompt": text if text is not None else "",
        "exit_code": exit_code,
    }


def status_document(root: PathArg, reports: Sequence[PlanReport]) -> dict[str, Any]:
    """The ``promptgen status --json`` object (docs/USER_GUIDE.md, "The status document")."""
    return {
        "workspace": os.path.abspath(os.fspath(root)),
        "plans": [{"feature": r["feature"], "plan_file": r["plan_file"], "plan_state": r["plan_state"],
                   "current": r["current"], "available": r["available"], "achievements": r["achievements"],
                   "warnings": r["warnings"]}
                  for r in sorted(reports, key=lambda r: r["plan_file"])],
    }


def _sibling_plans(values: Values, folder: str, plan_file: str) -> list[PlanValue]:
    """``plan:`` values of the other plans directly in ``folder``."""
    prefix = keys.plan(folder + "/")
    return [values[k] for k in values
            if k.startswith(prefix) and k != keys.plan(plan_file) and "/" not in k[len(prefix):]]


# -- explicit achievement -------------------------------------------------------------------
def prompt_for_achievement(values: Values, report: PlanReport, number: str) -> str:
    """The prompt for an explicitly targeted achievement (``--achievement N.M``).

    Computed from the stored node values with the same functions the ``state:``
    and ``prompt:`` nodes use. Raises :class:`SelectionError` listing the
    declared numbers when ``number`` is not declared.
    """
    from . import numbers as num
    from . import state_machine as sm

    pf = report["plan_file"]
    plan: Optional[PlanValue] = values.get(keys.plan(pf))
    if not isinstance(plan, dict):
        raise SelectionError(f"{pf} has not been built; run promptgen build", [])
    declared = [a["number"] for a in plan["achievements"]]
    wanted = num.normalize(number) if num.is_number(number) else number.strip()
    if wanted not in declared:
        raise SelectionError(f"Achievement {number} is not declared in {pf}; declared:", declared)
    folder = plan["folder"]
    no_subplans: SubplansValue = {"files": [], "warnings": []}
    no_executions: ExecutionsValue = {"files": [], "warnings": []}
    no_feedback: FeedbackValue = {"dir": layout.feedbacks_dir(folder), "approved": [], "fix": {}, "resolution": [],
                                  "skipped": [], "warnings": []}
    analysis = sm.analyze(
        plan,
        values.get(keys.subplans(pf)) or no_subplans,
        values.get(keys.executions(pf)) or no_executions,
        values.get(keys.feedback(folder)) or no_feedback,
        values.get(keys.parallel(folder)),
        siblings=_sibling_plans(values, folder, pf),
    )
    state = sm.state_value(analysis, target=wanted)
    stored: Optional[TemplateValue] = values.get(keys.template(state["template"]))
    template = stored if stored is not None else prompts.template_value(state["template"], "", {"error": "missing"})
    return prompts.render(state, template)


def plan_warnings(reports: Sequence[PlanReport]) -> list[PlanWarning]:
    """Every plan's warnings in plan order, each with its plan and how to make it go away."""
    from .diagnostics import REMEDIES

    return [{"plan_file": r["plan_file"], "feature": r["feature"], "kind": w["kind"], "message": w["message"],
             "path": w["path"], "remedy": REMEDIES.get(w["kind"], "")}
            for r in reports for w in r["warnings"]]


# -- what a build changed --------------------------------------------------------------------
def changed_plans(decisions: Sequence[Decision]) -> set[str]:
    """Plan files whose state or prompt a build recomputed to a new value."""
    return {keys.name_of(d.key) for d in decisions if d.status == RAN and d.kind in (keys.STATE, keys.PROMPT)}


def prompt_timings(decisions: Sequence[Decision]) -> dict[str, float]:
    """Rule time of every prompt a build rendered (ran or cut off), by plan file."""
    return {keys.name_of(d.key): d.wall_s for d in decisions if d.kind == keys.PROMPT and d.status != REUSED}
