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
    base = {"plan_file": param["plan_file"], "feature": param["feature"], "folder": param["folder"]}
    text = files.text(values[0])
    if text is None:
        err = files.error(values[0])
        return {**base, "error": err, "achievements": [], "sections": {}, "source": "none", "hint": None,
                "warnings": [unreadable(param["plan_file"], err)]}
    return {**base, "error": None, **parse_plan(text, param["plan_file"])}
