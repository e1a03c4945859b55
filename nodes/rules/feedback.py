"""``feedback:<D>`` — the reviewers' files of plan folder ``D``.

Approvals, fix requests (with their issues parsed), resolutions and skips, by
file token. Shared by every plan in ``D``: feedback names carry no feature
(the state tells a sibling plan's files from orphans).
"""

from __future__ import annotations

from .. import layout
from ..diagnostics import unreadable
from . import files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from promptgen.engine.spec import JSON

    from ..values import FeedbackValue, FixInfo, Warning


def compute_feedback(param: JSON, values: list[JSON]) -> FeedbackValue:
    folder = param["folder"]
    fb_dir = layout.feedbacks_dir(folder)
    fb_list, exe_list = values[0], values[1]
    tokens: dict[str, list[str]] = {"approved": [], "resolution": [], "fix": [], "skipped": []}
    for name in files.files(fb_list):
        m = layout.match_feedback(name)
        if m and m[0] != "skipped":
            tokens[m[0]].append(m[1])
    for name in files.files(exe_list):
        m = layout.match_feedback(name)
        if m and m[0] == "skipped":
            tokens["skipped"].append(m[1])
    warns: list[Warning] = []
    for where, listing in ((fb_dir, fb_list), (layout.execution_dir(folder), exe_list)):
        if files.unlisted(listing):  # a folder that cannot be listed is not an empty one
            warns.append(unreadable(where, "unreadable"))
    by_path = dict(zip(param["fixes"], values[2:]))
    fix = {tok: _fix(layout.join(fb_dir, f"FIX_{tok}.md"), by_path, warns) for tok in sorted(tokens["fix"])}
    return {"dir": fb_dir, "approved": sorted(tokens["approved"]), "fix": fix,
            "resolution": sorted(tokens["resolution"]), "skipped": sorted(tokens["skipped"]), "warnings": warns}


def _fix(path: str, by_path: dict[str, JSON], warns: list[Warning]) -> FixInfo:
    """One FIX file: its issues, or why its text could not be used. The file
    exists (it is listed): its existence is the signal even when its text is not."""
    value = by_path.get(path)
    text = files.text(value)
    if text is None:
        err: Optional[str] = files.error(value) if value is not None else None
        if err:
            warns.append(unreadable(path, err))
        return {"path": path, "issues": [], "error": err}
    from ..fix_parser import parse_fix  # only when a FIX file's text is there to parse

    return {"path": path, "issues": parse_fix(text), "error": None}
