"""``execution:<path>`` — one EXECUTION_TASK parsed; ``executions:<plan_file>`` — a plan's tasks.

One parse node per file, as for SUBPLANs: an edit re-parses one task.
"""

from __future__ import annotations

from ..diagnostics import unreadable
from ..header import is_complete, stated_hours
from . import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON

    from ..values import ExecutionEntry, ExecutionFile, ExecutionParse, ExecutionsValue, Warning


def compute_execution(param: JSON, values: list[JSON]) -> ExecutionParse:
    """One EXECUTION_TASK: complete or not, stated hours."""
    text = files.text(values[0])
    if text is None:
        return {"error": files.error(values[0]), "complete": False, "hours": {"actual": None, "estimated": None}}
    return {"error": None, "complete": is_complete(text), "hours": stated_hours(text)}


def compute_executions(param: JSON, values: list[JSON]) -> ExecutionsValue:
    found: list[ExecutionEntry] = []
    warns: list[Warning] = []
    metas: list[ExecutionFile] = param["files"]
    parses: list[ExecutionParse] = values
    for meta, parsed in zip(metas, parses):
        if parsed["error"]:
            warns.append(unreadable(meta["path"], parsed["error"]))
        found.append({**meta, "complete": parsed["complete"], "hours": parsed["hours"], "error": parsed["error"]})
    return {"files": found, "warnings": warns}
