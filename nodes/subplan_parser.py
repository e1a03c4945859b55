"""What a SUBPLAN says beyond its status: planned executions, objective, approach.

Why: an achievement whose executions are all complete is finished only if there
are as many as the SUBPLAN planned (states 9 and 10 of docs/USER_GUIDE.md §6, "The
state of one achievement"). The plan is the table under a heading containing
"Active EXECUTION_TASK"; a check list there, or a table naming no execution,
counts as no table — the files on disk are then the plan (docs/USER_GUIDE.md §5,
"Files that belong to an achievement", "Planned executions"). Execution prompts
quote only the SUBPLAN's objective and approach, so that the executing agent
reads the design, not the whole history.
"""

from __future__ import annotations

from . import lazyre
from .textutil import Doc, find_heading, scan, section_end, truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: ``NN_MM`` inside ``NN_MM``, ``EXECUTION_TASK_NN_MM`` or ``EXECUTION_TASK_F_NN_MM``
#: (a following ``_V2``-style suffix is allowed, a following ``_<digit>`` is not).
_RE_EXEC_REF = lazyre.compile(r"(?<!\d)(\d+)_(\d+)(?!\d)(?!_\d)")

#: Quoted sections are capped so that a prompt stays a prompt.
SECTION_LIMIT = 4000


def planned_executions(text: "str | Doc", token: str) -> Optional[list[int]]:
    """Distinct execution numbers planned for achievement ``token``, or None.

    Only table rows (lines starting with ``|``, outside fenced code) in the
    section of the first heading containing "Active EXECUTION_TASK" count, and
    only references whose achievement part equals ``token``.
    """
    planned = planned_by_token(text)
    return None if planned is None else planned.get(token)


def planned_by_token(text: "str | Doc") -> Optional[dict[str, list[int]]]:
    """The execution references of the plan table, per achievement token
    (``{"12": [1, 2, 3]}``), or None when the SUBPLAN has no such table.

    Why per token: which token is this SUBPLAN's depends on the plan that lists
    it, and the parse of one file should not (see ``subplan:`` nodes)."""
    doc = text if isinstance(text, Doc) else scan(text)
    start = None
    for i in doc.headings:
        if "Active EXECUTION_TASK" in doc.title[i]:
            start = i
            break
    if start is None:
        return None
    found: dict[str, set[int]] = {}
    for i in range(start + 1, section_end(doc, start)):
        line = doc.text[i]
        if doc.fenced[i] or not line.lstrip().startswith("|"):
            continue
        for m in _RE_EXEC_REF.finditer(line):
            found.setdefault(m.group(1), set()).add(int(m.group(2)))
    return {tok: sorted(nums) for tok, nums in sorted(found.items())}


def _section_text(doc: Doc, needle: str) -> str:
    i = find_heading(doc, needle)
    if i is None:
        return ""
    body = doc.slice(i, section_end(doc, i)).strip("\n").rstrip()
    return truncate(body, SECTION_LIMIT, "[… section shortened; read the rest in the SUBPLAN]")


def objective_and_approach(text: "str | Doc") -> tuple[str, str]:
    """The sections under the first "Objective" and "Approach" headings."""
    doc = text if isinstance(text, Doc) else scan(text)
    return _section_text(doc, "objective"), _section_text(doc, "approach")
