"""``subplan:<path>`` — one SUBPLAN parsed; ``subplans:<plan_file>`` — a plan's SUBPLANs.

One parse node per file: editing one SUBPLAN re-parses that file only (a plan
may have dozens), and an edit that does not change what its parse keeps stops
there. The parse keeps what any plan listing the file needs; which achievement
its token names is the plan's business (``subplans:`` and the state).
"""

from __future__ import annotations

from ..diagnostics import unreadable
from ..header import is_complete, stated_hours
from ..subplan_parser import objective_and_approach, planned_by_token
from ..textutil import scan
from . import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON

    from ..values import SubplanEntry, SubplanFile, SubplanParse, SubplansValue, Warning


def compute_subplan(param: JSON, values: list[JSON]) -> SubplanParse:
    """One SUBPLAN: complete or not, planned executions, objective, approach, stated hours."""
    text = files.text(values[0])
    if text is None:
        return {"error": files.error(values[0]), "complete": False, "planned": None, "objective": "",
                "approach": "", "hours": {"actual": None, "estimated": None}}
    doc = scan(text)
    obj, app = objective_and_approach(doc)
    return {"error": None, "complete": is_complete(text), "planned": planned_by_token(doc), "objective": obj,
            "approach": app, "hours": stated_hours(text)}


def compute_subplans(param: JSON, values: list[JSON]) -> SubplansValue:
    """Each SUBPLAN file of the plan with its parse (its own token's planned executions)."""
    found: list[SubplanEntry] = []
    warns: list[Warning] = []
    for folder in param.get("unreadable", ()):  # a folder that cannot be listed is not an empty one
        warns.append(unreadable(folder, "unreadable"))
    metas: list[SubplanFile] = param["files"]
    parses: list[SubplanParse] = values
    for meta, parsed in zip(metas, parses):
        if parsed["error"]:
            warns.append(unreadable(meta["path"], parsed["error"]))
        planned = parsed["planned"]
        found.append({**meta, "complete": parsed["complete"],
                      "planned": None if planned is None else planned.get(meta["token"]),
                      "objective": parsed["objective"], "approach": parsed["approach"], "hours": parsed["hours"],
                      "error": parsed["error"]})
    return {"files": found, "warnings": warns}
