"""``walk:`` and ``scan:`` — finding the plans and the files that belong to them.

Both are *expanders* over directory listings: adding a SUBPLAN or an approval
file changes the graph itself, while a listing change that does not matter (a
note file added) leaves their output — and so the graph — equal.

``walk:<folder>`` descends into the sub-folders discovery enters and scans a
folder that holds PLAN files. ``scan:<D>`` lists the archive folders of plan
folder ``D`` level by level (while a level reveals folders not yet listed, it
re-emits itself one level deeper), then declares every node of every plan in
``D``: its parsed PLAN, one parse node per SUBPLAN and EXECUTION_TASK file,
their lists, the folder's feedback and ``parallel.json``, the plan's state
and the route to its prompt.
"""

from __future__ import annotations

from .. import layout
from . import files, specs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from promptgen.engine.spec import JSON, NodeSpec

    from ..values import ExecutionFile, SubplanFile

    Place = tuple[str, str, JSON]  # (where, folder, its listing)


def compute_walk(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    """A folder of a plan root: descend where discovery goes; scan plan folders."""
    path = param["path"]
    listing = values[0]
    out: list[NodeSpec] = []
    for name in sorted(files.subfolders(listing)):
        if not layout.skip_for_discovery(name):
            out.append(specs.walk(layout.join(path, name)))
    if any(layout.is_plan_file(n) for n in files.files(listing)):
        out.append(specs.scan(path, [], 0))
    return out


def compute_scan(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    """Inventory of a plan folder ``D``; emits the per-plan nodes (see the module docstring)."""
    folder: str = param["folder"]
    archives: list[str] = param["archives"]
    d_list, sub_list, exe_list = values[0], values[1], values[2]
    arch_lists = dict(zip(archives, values[4:]))
    found = _archive_folders(folder, d_list, sub_list, exe_list, arch_lists)
    if found != sorted(archives):
        return [specs.scan(folder, found, param["level"] + 1)]
    places: list[Place] = [
        ("canonical_sub", layout.subplans_dir(folder), sub_list),
        ("canonical_exe", layout.execution_dir(folder), exe_list),
        ("flat", folder, d_list),
    ] + [("archive", a, arch_lists[a]) for a in sorted(archives)]
    plans = sorted(n for n in files.files(d_list) if layout.is_plan_file(n))
    out: list[NodeSpec] = []
    for name in plans:
        siblings = [layout.join(folder, other) for other in plans if other != name]
        out.extend(_plan_nodes(folder, name, places, siblings))
    if plans:
        out.extend(_folder_nodes(folder, d_list, values[3]))
    return out


def _archive_folders(folder: str, d_list: JSON, sub_list: JSON, exe_list: JSON,
                     arch_lists: dict[str, JSON]) -> list[str]:
    """The archive folders of ``D`` known from the listings so far: ``archive``
    inside D, D/subplans or D/execution, and every folder below them."""
    found: set[str] = set()
    for base, listing in ((folder, d_list), (layout.subplans_dir(folder), sub_list),
                          (layout.execution_dir(folder), exe_list)):
        if layout.ARCHIVE in files.subfolders(listing):
            found.add(layout.join(base, layout.ARCHIVE))
    for a, listing in arch_lists.items():
        for name in files.subfolders(listing):
            if not layout.skip_inside_archive(name):
                found.add(layout.join(a, name))
    return sorted(found)


def _plan_files(feature: str, places: list[Place]) -> tuple[list[SubplanFile], list[ExecutionFile]]:
    """The SUBPLAN and EXECUTION_TASK files of one plan, from the places they may live."""
    subs: list[SubplanFile] = []
    exes: list[ExecutionFile] = []
    for where, base, listing in places:
        for fname in sorted(files.files(listing)):
            if where != "canonical_exe":
                m = layout.match_subplan(feature, fname)
                if m:
                    subs.append({"path": layout.join(base, fname), "token": m[0],
                                 "where": "canonical" if where == "canonical_sub" else
                                 ("archive" if where == "archive" else "flat"),
                                 "archived": m[1] or where == "archive"})
                    continue
            if where != "canonical_sub":
                e = layout.match_execution(feature, fname)
                if e:
                    exes.append({"path": layout.join(base, fname), "token": e[0], "mm": e[1], "suffix": e[2],
                                 "where": "canonical" if where == "canonical_exe" else
                                 ("archive" if where == "archive" else "flat")})
    return subs, exes


def _plan_nodes(folder: str, name: str, places: list[Place], siblings: list[str]) -> list[NodeSpec]:
    """Every node of the plan ``name`` in ``folder``."""
    pf = layout.join(folder, name)
    subs, exes = _plan_files(layout.feature_of(name), places)
    unlisted = [base for _where, base, listing in places if files.unlisted(listing)]
    out = [specs.plan(pf, layout.feature_of(name), folder)]
    out.extend(specs.subplan(s["path"]) for s in subs)
    out.append(specs.subplans(pf, subs, unlisted))
    out.extend(specs.execution(e["path"]) for e in exes)
    out.append(specs.executions(pf, exes))
    out.append(specs.state(pf, folder, siblings))
    out.append(specs.route(pf))
    return out


def _folder_nodes(folder: str, d_list: JSON, fb_list: JSON) -> list[NodeSpec]:
    """What the plans of a folder share: its feedback files and its ``parallel.json``."""
    fb_dir = layout.feedbacks_dir(folder)
    fixes = []
    for fname in sorted(files.files(fb_list)):
        m = layout.match_feedback(fname)
        if m and m[0] == "fix":
            fixes.append(layout.join(fb_dir, fname))
    names = set(files.files(d_list))
    ppath = next((layout.join(folder, n) for n in layout.PARALLEL_FILE_NAMES if n in names), None)
    return [specs.feedback(folder, fixes), specs.parallel(folder, ppath)]
