"""The workspace as an engine graph: node kinds, their inputs, their rules.

Node kinds (keys are readable; paths are workspace-relative with ``/``):

========================  ===========================================  ==========================
key                       inputs                                       value
========================  ===========================================  ==========================
``walk:<dir>``            ``dir:<dir>``                                expander: ``walk:`` per
                                                                       sub-folder discovery
                                                                       enters, ``scan:<dir>``
                                                                       when it holds PLANs
``scan:<D>[#k]``          ``dir:`` of D, D/subplans, D/execution,      expander: deeper
                          D/execution/feedbacks and known archives     ``scan:`` while archive
                                                                       folders remain unlisted,
                                                                       then the plan nodes
``plan:<plan_file>``      ``file:<plan_file>``                         parsed PLAN
``subplan:<path>``        ``file:<path>`` (one SUBPLAN)                status, planned
                                                                       executions, objective…
``subplans:<plan_file>``  ``subplan:`` of each SUBPLAN of the plan     the plan's SUBPLANs
``execution:<path>``      ``file:<path>`` (one EXECUTION_TASK)         status, hours
``executions:<pf>``       ``execution:`` of each EXECUTION_TASK        the plan's tasks
``feedback:<D>``          ``dir:`` feedbacks and execution, FIX files  approved / fix / …
                                                                       (shared by plans in D)
``parallel:<D>``          ``file:`` of the first parallel file name    parsed dependencies
``state:<plan_file>``     the five nodes above (+ ``plan:`` of other   the plan's state
                          plans in D, to tell their feedback from
                          orphans)
``route:<plan_file>``     ``state:<plan_file>``                        expander: ``prompt:``
``prompt:<plan_file>``    ``state:<pf>``, ``template:<name>``          rendered prompt
``template:<name>``       ``file:<templates_dir>/<name>.md``           template text
========================  ===========================================  ==========================

Why this shape:

* Discovery and inventory are *expanders* over directory listings, so adding a
  SUBPLAN or an approval file changes the graph itself, and a listing change
  that does not matter (a note file added) leaves every expander's output —
  and so the graph — equal.
* The prompt reads exactly its state and the one template it uses (the
  ``route:`` expander picks it), so editing one override re-renders exactly the
  prompts that use it.
* Each value holds only what its dependents use (early cutoff): ``state:``
  carries only the current achievement's section and SUBPLAN excerpts.
* SUBPLANs and EXECUTION_TASKs are parsed one file per node: editing one
  re-parses that file only (a plan may have dozens), and an edit that does not
  change what its parse keeps stops there.

Rule versions are derived from the source of the modules each rule uses (and,
for templates, from the built-in template texts), so changing code or a
built-in template dirties exactly the nodes it can affect.

Why the parsers are imported inside the rules: an incremental build usually
recomputes a few nodes of one or two kinds (after an edit to an EXECUTION_TASK,
only its ``execution:`` node and what depends on it). Each rule imports the modules it
needs when it first computes, so a build imports only those; the versions are
hashed from the source files next to this module, which needs no import.
"""

from __future__ import annotations

import os
from functools import lru_cache

from promptgen.engine import fingerprint
from promptgen.engine.spec import NodeSpec, Rule

from . import layout, prompts
from .diagnostics import unreadable
from .states import TEMPLATE_NAMES

# Parsers, the state machine and typing are imported where they are used (see
# the module docstring): not at module level.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from promptgen.engine.spec import JSON

    from .config import WorkspaceConfig

_LISTING_TYPES_DIR = "d"
_LISTING_TYPES_FILE = "f"


# -- helpers ---------------------------------------------------------------------
def _dirs(listing: Any) -> list[str]:
    """Sub-folder names of a ``dir:`` value (None: missing; a dict: unreadable)."""
    return [name for name, typ in listing if typ == _LISTING_TYPES_DIR] if isinstance(listing, list) else []


def _files(listing: Any) -> list[str]:
    return [name for name, typ in listing if typ == _LISTING_TYPES_FILE] if isinstance(listing, list) else []


def _text(value: Any) -> Optional[str]:
    return value.get("text") if isinstance(value, dict) else None


def _error(value: Any) -> str:
    if isinstance(value, dict) and value.get("error"):
        return str(value["error"])
    return "unreadable"


# -- discovery ---------------------------------------------------------------------
def walk_spec(path: str) -> NodeSpec:
    return NodeSpec(f"walk:{path}", "walk", (f"dir:{path}",), {"path": path})


def _scan_inputs(folder: str, archives: list[str]) -> tuple[str, ...]:
    return (
        f"dir:{folder}",
        f"dir:{layout.subplans_dir(folder)}",
        f"dir:{layout.execution_dir(folder)}",
        f"dir:{layout.feedbacks_dir(folder)}",
    ) + tuple(f"dir:{a}" for a in archives)


def scan_spec(folder: str, archives: list[str], level: int) -> NodeSpec:
    key = f"scan:{folder}" if level == 0 else f"scan:{folder}#{level}"
    return NodeSpec(key, "scan", _scan_inputs(folder, archives),
                    {"folder": folder, "archives": list(archives), "level": level})


def compute_walk(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    """A folder of a plan root: descend where discovery goes; scan plan folders."""
    path = param["path"]
    listing = values[0]
    out: list[NodeSpec] = []
    for name in sorted(_dirs(listing)):
        if not layout.skip_for_discovery(name):
            out.append(walk_spec(layout.join(path, name)))
    if any(layout.is_plan_file(n) for n in _files(listing)):
        out.append(scan_spec(path, [], 0))
    return out


def compute_scan(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    """Inventory of a plan folder ``D``; emits the per-plan nodes.

    Archive folders (``archive`` inside D, D/subplans or D/execution, and every
    folder below them) are listed level by level: while a level reveals folders
    not yet listed, the scan re-emits itself one level deeper.
    """
    folder: str = param["folder"]
    archives: list[str] = param["archives"]
    level: int = param["level"]
    d_list, sub_list, exe_list, fb_list = values[0], values[1], values[2], values[3]
    arch_lists = dict(zip(archives, values[4:]))

    found: set[str] = set()
    for base, listing in ((folder, d_list), (layout.subplans_dir(folder), sub_list),
                          (layout.execution_dir(folder), exe_list)):
        if layout.ARCHIVE in _dirs(listing):
            found.add(layout.join(base, layout.ARCHIVE))
    for a, listing in arch_lists.items():
        for name in _dirs(listing):
            if not layout.skip_inside_archive(name):
                found.add(layout.join(a, name))
    if sorted(found) != sorted(archives):
        return [scan_spec(folder, sorted(found), level + 1)]

    places: list[tuple[str, str, Optional[list]]] = [
        ("canonical_sub", layout.subplans_dir(folder), sub_list),
        ("canonical_exe", layout.execution_dir(folder), exe_list),
        ("flat", folder, d_list),
    ] + [("archive", a, arch_lists[a]) for a in sorted(archives)]

    out: list[NodeSpec] = []
    plans = sorted(n for n in _files(d_list) if layout.is_plan_file(n))
    for name in plans:
        pf = layout.join(folder, name)
        feature = layout.feature_of(name)
        subs, exes = [], []
        for where, base, listing in places:
            for fname in sorted(_files(listing)):
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
                        exes.append({"path": layout.join(base, fname), "token": e[0], "mm": e[1],
                                     "suffix": e[2],
                                     "where": "canonical" if where == "canonical_exe" else
                                     ("archive" if where == "archive" else "flat")})
        out.append(NodeSpec(f"plan:{pf}", "plan", (f"file:{pf}",),
                            {"plan_file": pf, "feature": feature, "folder": folder}))
        unlisted = [base for where, base, listing in places if isinstance(listing, dict)]
        for sub in subs:
            out.append(subplan_file_spec(sub["path"]))
        out.append(NodeSpec(f"subplans:{pf}", "subplans", tuple(f"subplan:{s['path']}" for s in subs),
                            {"files": subs, "unreadable": unlisted} if unlisted else {"files": subs}))
        for exe in exes:
            out.append(execution_file_spec(exe["path"]))
        out.append(NodeSpec(f"executions:{pf}", "executions", tuple(f"execution:{e['path']}" for e in exes),
                            {"files": exes}))
        siblings = tuple(f"plan:{layout.join(folder, other)}" for other in plans if other != name)
        out.append(NodeSpec(f"state:{pf}", "state",
                            (f"plan:{pf}", f"subplans:{pf}", f"executions:{pf}", f"feedback:{folder}",
                             f"parallel:{folder}") + siblings, None))
        out.append(NodeSpec(f"route:{pf}", "route", (f"state:{pf}",), None))
    if plans:
        fb_dir = layout.feedbacks_dir(folder)
        fixes = []
        for fname in sorted(_files(fb_list)):
            m = layout.match_feedback(fname)
            if m and m[0] == "fix":
                fixes.append(layout.join(fb_dir, fname))
        out.append(NodeSpec(f"feedback:{folder}", "feedback",
                            (f"dir:{fb_dir}", f"dir:{layout.execution_dir(folder)}")
                            + tuple(f"file:{p}" for p in fixes),
                            {"folder": folder, "fixes": fixes}))
        names = set(_files(d_list))
        ppath = next((layout.join(folder, n) for n in layout.PARALLEL_FILE_NAMES if n in names), None)
        out.append(NodeSpec(f"parallel:{folder}", "parallel", (f"file:{ppath}",) if ppath else (),
                            {"folder": folder, "path": ppath}))
    return out


# -- parsed files --------------------------------------------------------------------
def compute_plan(param: JSON, values: list[JSON]) -> JSON:
    base = {"plan_file": param["plan_file"], "feature": param["feature"], "folder": param["folder"]}
    text = _text(values[0])
    if text is None:
        err = _error(values[0])
        return {**base, "error": err, "achievements": [], "sections": {}, "source": "none", "hint": None,
                "warnings": [unreadable(param["plan_file"], err)]}
    from .plan_parser import parse_plan

    parsed = parse_plan(text, param["plan_file"])
    return {**base, "error": None, **parsed}


def subplan_file_spec(path: str) -> NodeSpec:
    return NodeSpec(f"subplan:{path}", "subplan", (f"file:{path}",), None)


def execution_file_spec(path: str) -> NodeSpec:
    return NodeSpec(f"execution:{path}", "execution", (f"file:{path}",), None)


_NO_HOURS = {"actual": None, "estimated": None}


def compute_subplan(param: JSON, values: list[JSON]) -> JSON:
    """One SUBPLAN, parsed: what any plan listing it needs (its token is the plan's business)."""
    text = _text(values[0])
    if text is None:
        return {"error": _error(values[0]), "complete": False, "planned": None, "objective": "", "approach": "",
                "hours": dict(_NO_HOURS)}
    from .header import is_complete, stated_hours
    from .subplan_parser import objective_and_approach, planned_by_token
    from .textutil import scan

    doc = scan(text)
    obj, app = objective_and_approach(doc)
    return {"error": None, "complete": is_complete(text), "planned": planned_by_token(doc), "objective": obj,
            "approach": app, "hours": stated_hours(text)}


def compute_subplans(param: JSON, values: list[JSON]) -> JSON:
    files, warns = [], []
    for folder in param.get("unreadable", ()):  # a folder that cannot be listed is not an empty one
        warns.append(unreadable(folder, "unreadable"))
    for meta, parsed in zip(param["files"], values):
        f = dict(meta)
        if parsed["error"]:
            warns.append(unreadable(meta["path"], parsed["error"]))
        planned = parsed["planned"]
        f.update(complete=parsed["complete"], planned=None if planned is None else planned.get(meta["token"]),
                 objective=parsed["objective"], approach=parsed["approach"], hours=parsed["hours"],
                 error=parsed["error"])
        files.append(f)
    return {"files": files, "warnings": warns}


def compute_execution(param: JSON, values: list[JSON]) -> JSON:
    """One EXECUTION_TASK, parsed: its status and stated hours."""
    text = _text(values[0])
    if text is None:
        return {"error": _error(values[0]), "complete": False, "hours": dict(_NO_HOURS)}
    from .header import is_complete, stated_hours

    return {"error": None, "complete": is_complete(text), "hours": stated_hours(text)}


def compute_executions(param: JSON, values: list[JSON]) -> JSON:
    files, warns = [], []
    for meta, parsed in zip(param["files"], values):
        f = dict(meta)
        if parsed["error"]:
            warns.append(unreadable(meta["path"], parsed["error"]))
        f.update(complete=parsed["complete"], hours=parsed["hours"], error=parsed["error"])
        files.append(f)
    return {"files": files, "warnings": warns}


def compute_feedback(param: JSON, values: list[JSON]) -> JSON:
    folder = param["folder"]
    fb_dir = layout.feedbacks_dir(folder)
    fb_list, exe_list = values[0], values[1]
    fix_values = values[2:]
    approved, resolution, skipped, fix_tokens = [], [], [], []
    for name in _files(fb_list):
        m = layout.match_feedback(name)
        if not m:
            continue
        kind, tok = m
        if kind == "approved":
            approved.append(tok)
        elif kind == "resolution":
            resolution.append(tok)
        elif kind == "fix":
            fix_tokens.append(tok)
    for name in _files(exe_list):
        m = layout.match_feedback(name)
        if m and m[0] == "skipped":
            skipped.append(m[1])
    warns = []
    for where, listing in ((fb_dir, fb_list), (layout.execution_dir(folder), exe_list)):
        if isinstance(listing, dict):  # a folder that cannot be listed is not an empty one
            warns.append(unreadable(where, "unreadable"))
    fix: dict[str, dict] = {}
    by_path = dict(zip(param["fixes"], fix_values))
    for tok in sorted(fix_tokens):
        path = layout.join(fb_dir, f"FIX_{tok}.md")
        value = by_path.get(path)
        text = _text(value)
        if text is None:
            # the file exists (it is listed): its existence is the signal even
            # when its text cannot be used
            err = _error(value) if value is not None else None
            if err:
                warns.append(unreadable(path, err))
            fix[tok] = {"path": path, "issues": [], "error": err}
        else:
            from .fix_parser import parse_fix  # only when a FIX file's text is there to parse

            fix[tok] = {"path": path, "issues": parse_fix(text), "error": None}
    return {"dir": fb_dir, "approved": sorted(approved), "fix": fix, "resolution": sorted(resolution),
            "skipped": sorted(skipped), "warnings": warns}


def compute_parallel(param: JSON, values: list[JSON]) -> JSON:
    path = param["path"]
    if path is None:
        return None
    text = _text(values[0])
    if text is None:
        return {"path": path, "parsed": None, "error": _error(values[0])}
    from .parallel import parse_parallel

    return {"path": path, "parsed": parse_parallel(text), "error": None}


# -- state and prompt -------------------------------------------------------------------
def compute_state(param: JSON, values: list[JSON]) -> JSON:
    from . import state_machine as sm

    plan, subplans, executions, feedback, parallel = values[:5]
    return sm.state_value(sm.analyze(plan, subplans, executions, feedback, parallel, siblings=values[5:]))


def compute_route(param: JSON, values: list[JSON]) -> list[NodeSpec]:
    state = values[0]
    pf = state["plan_file"]
    return [NodeSpec(f"prompt:{pf}", "prompt", (f"state:{pf}", f"template:{state['template']}"), None)]


def compute_prompt(param: JSON, values: list[JSON]) -> JSON:
    state, template = values
    return {"text": prompts.render(state, template), "template": template["name"], "source": template["source"]}


def template_spec(name: str, templates_dir: str) -> NodeSpec:
    path = layout.join(templates_dir, f"{name}.md")
    return NodeSpec(f"template:{name}", "template", (f"file:{path}",), {"name": name, "path": path})


def compute_template(param: JSON, values: list[JSON]) -> JSON:
    return prompts.template_value(param["name"], param["path"], values[0])


# -- rules and versions ----------------------------------------------------------------
_HERE = os.path.dirname(os.path.abspath(__file__))
_P = __package__ or "promptgen.nodes"


@lru_cache(maxsize=None)
def _source_hash(name: str) -> str:
    """The source of module ``name`` of this package, hashed once per process.

    Read from the file next to this one, so that a version does not import the
    module it describes (every start pays for this).
    """
    try:
        with open(os.path.join(_HERE, name + ".py"), "rb") as f:
            return fingerprint.of_bytes(f.read())
    except OSError:
        # no source file next to this one (an installation without sources):
        # hash the file the import system loads instead
        import importlib

        module = importlib.import_module(f"{_P}.{name}")
        with open(module.__file__, "rb") as f:  # type: ignore[arg-type]
            return fingerprint.of_bytes(f.read())


def _module_hash(*modules: str) -> str:
    return fingerprint.of_bytes("".join(_source_hash(name) for name in modules).encode())[:12]


def _v(*modules: str) -> str:
    """A rule version: changes whenever the source of one of ``modules`` (names in this package) does."""
    return "1-" + _module_hash(*modules)


_COMMON = ("textutil", "numbers", "diagnostics", "layout", "lazyre")  # lazyre: how every parser matches
RULES: dict[str, Rule] = {
    "walk": Rule("walk", _v("rules", "layout"), compute_walk, expands=True,
                 doc="Plan discovery: one folder of a plan root."),
    "scan": Rule("scan", _v("rules", "layout", "parallel"), compute_scan, expands=True,
                 doc="Inventory of a plan folder; emits the per-plan nodes."),
    "plan": Rule("plan", _v(*_COMMON, "plan_parser"), compute_plan, doc="Parsed PLAN."),
    "subplan": Rule("subplan", _v(*_COMMON, "header", "subplan_parser"), compute_subplan,
                    doc="One SUBPLAN file: status, planned executions, objective, approach."),
    "subplans": Rule("subplans", _v("rules", "diagnostics"), compute_subplans,
                     doc="The SUBPLANs of a plan."),
    "execution": Rule("execution", _v(*_COMMON, "header"), compute_execution,
                      doc="One EXECUTION_TASK file: status and hours."),
    "executions": Rule("executions", _v("rules", "diagnostics"), compute_executions,
                       doc="The EXECUTION_TASKs of a plan."),
    "feedback": Rule("feedback", _v(*_COMMON, "fix_parser"), compute_feedback,
                     doc="Approvals, fix requests, resolutions, skips of a plan folder."),
    "parallel": Rule("parallel", _v(*_COMMON, "parallel"), compute_parallel, doc="parallel.json of a folder."),
    "state": Rule("state", _v(*_COMMON, "parallel", "states", "state_machine"), compute_state,
                  doc="The state machine result for one plan."),
    "route": Rule("route", _v("rules", "states", "state_machine"), compute_route, expands=True,
                  doc="Chooses the template of a plan's prompt."),
    "prompt": Rule("prompt", _v(*_COMMON, "prompts"), compute_prompt, doc="Rendered prompt."),
    "template": Rule("template", _v("prompts") + "-" + prompts.builtin_digest(), compute_template,
                     doc="Prompt template: workspace override or built-in text."),
}


def rules_digest() -> str:
    """Stable hash of every rule's kind and version."""
    return fingerprint.of_bytes("".join(f"{kind}:{RULES[kind].version}\n" for kind in sorted(RULES)).encode())


def roots(config: WorkspaceConfig) -> list[NodeSpec]:
    """The root nodes: one ``walk:`` per plan root, one ``template:`` per name."""
    out: list[NodeSpec] = []
    seen = set()
    for r in config.plan_roots:
        if r not in seen:
            seen.add(r)
            out.append(walk_spec(r))
    out.extend(template_spec(n, config.templates_dir) for n in TEMPLATE_NAMES)
    return out
