"""``plan:<plan_file>`` — the parsed PLAN: its achievements, their sections, the handoff hint."""

from __future__ import annotations

from ..diagnostics import unreadable
from ..plan_parser import parse_plan
from . import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON

    from ..values import PlanValue


def compute_plan(param: JSON, values: list[JSON]) -> PlanValue:
    plan_file, feature, folder = param["plan_file"], param["feature"], param["folder"]
    text = files.text(values[0])
    if text is None:
        err = files.error(values[0])
        return {"plan_file": plan_file, "feature": feature, "folder": folder, "error": err, "achievements": [],
                "sections": {}, "source": "none", "hint": None, "warnings": [unreadable(plan_file, err)]}
    return {"plan_file": plan_file, "feature": feature, "folder": folder, "error": None,
            **parse_plan(text, plan_file)}
