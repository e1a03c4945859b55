"""What each node reads: the :class:`NodeSpec` of every kind of the workspace graph.

The expanders (discovery, the plan folder's inventory, the prompt's route)
declare nodes through these functions, and the graph's roots are made here,
so that the shape of the graph — which inputs each kind reads, in which
order its rule receives them — is written once.
"""

from __future__ import annotations

from promptgen.engine.spec import NodeSpec

from .. import keys, layout
from ..states import TEMPLATE_NAMES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from ..config import WorkspaceConfig
    from ..values import ExecutionFile, SubplanFile


def roots(config: WorkspaceConfig) -> list[NodeSpec]:
    """The root nodes: one ``walk:`` per plan root, one ``template:`` per name."""
    out = [walk(r) for r in dict.fromkeys(config.plan_roots)]
    out.extend(template(n, config.templates_dir) for n in TEMPLATE_NAMES)
    return out


def walk(folder: str) -> NodeSpec:
    return NodeSpec(keys.walk(folder), keys.WALK, (keys.dir_source(folder),), {"path": folder})


def scan(folder: str, archives: list[str], level: int) -> NodeSpec:
    """The inventory of plan folder ``folder``: its listing, those of its
    subplans/, execution/ and execution/feedbacks/, and of the archive
    folders found so far (``level`` deeper archive levels listed)."""
    inputs = (
        keys.dir_source(folder),
        keys.dir_source(layout.subplans_dir(folder)),
        keys.dir_source(layout.execution_dir(folder)),
        keys.dir_source(layout.feedbacks_dir(folder)),
    ) + tuple(keys.dir_source(a) for a in archives)
    return NodeSpec(keys.scan(folder, level), keys.SCAN, inputs,
                    {"folder": folder, "archives": list(archives), "level": level})


def plan(plan_file: str, feature: str, folder: str) -> NodeSpec:
    return NodeSpec(keys.plan(plan_file), keys.PLAN, (keys.file_source(plan_file),),
                    {"plan_file": plan_file, "feature": feature, "folder": folder})


def subplan(path: str) -> NodeSpec:
    return NodeSpec(keys.subplan(path), keys.SUBPLAN, (keys.file_source(path),), None)


def subplans(plan_file: str, files: list[SubplanFile], unlisted: list[str]) -> NodeSpec:
    """The plan's SUBPLANs: one ``subplan:`` input per file, in ``files`` order;
    ``unlisted``: folders that could not be listed (not the same as empty)."""
    param = {"files": files, "unreadable": unlisted} if unlisted else {"files": files}
    return NodeSpec(keys.subplans(plan_file), keys.SUBPLANS, tuple(keys.subplan(f["path"]) for f in files), param)


def execution(path: str) -> NodeSpec:
    return NodeSpec(keys.execution(path), keys.EXECUTION, (keys.file_source(path),), None)


def executions(plan_file: str, files: list[ExecutionFile]) -> NodeSpec:
    return NodeSpec(keys.executions(plan_file), keys.EXECUTIONS, tuple(keys.execution(f["path"]) for f in files),
                    {"files": files})


def state(plan_file: str, folder: str, sibling_plan_files: list[str]) -> NodeSpec:
    """The plan's state reads its five inventories and the parsed PLANs of the
    other plans in its folder (to tell their feedback files from orphans)."""
    inputs = (keys.plan(plan_file), keys.subplans(plan_file), keys.executions(plan_file), keys.feedback(folder),
              keys.parallel(folder)) + tuple(keys.plan(pf) for pf in sibling_plan_files)
    return NodeSpec(keys.state(plan_file), keys.STATE, inputs, None)


def route(plan_file: str) -> NodeSpec:
    return NodeSpec(keys.route(plan_file), keys.ROUTE, (keys.state(plan_file),), None)


def feedback(folder: str, fix_files: list[str]) -> NodeSpec:
    """Approvals, fixes, resolutions and skips of a plan folder: the listings
    of execution/feedbacks/ and execution/, and the text of every FIX file."""
    inputs: tuple[str, ...] = (keys.dir_source(layout.feedbacks_dir(folder)),
                               keys.dir_source(layout.execution_dir(folder)))
    inputs += tuple(keys.file_source(p) for p in fix_files)
    return NodeSpec(keys.feedback(folder), keys.FEEDBACK, inputs, {"folder": folder, "fixes": fix_files})


def parallel(folder: str, path: Optional[str]) -> NodeSpec:
    """``path``: the first dependency file name that exists in the folder, if any."""
    return NodeSpec(keys.parallel(folder), keys.PARALLEL, (keys.file_source(path),) if path else (),
                    {"folder": folder, "path": path})


def prompt(plan_file: str, template_name: str) -> NodeSpec:
    """A prompt reads exactly its plan's state and the one template it uses."""
    return NodeSpec(keys.prompt(plan_file), keys.PROMPT, (keys.state(plan_file), keys.template(template_name)), None)


def template(name: str, templates_dir: str) -> NodeSpec:
    path = layout.join(templates_dir, f"{name}.md")
    return NodeSpec(keys.template(name), keys.TEMPLATE, (keys.file_source(path),), {"name": name, "path": path})
