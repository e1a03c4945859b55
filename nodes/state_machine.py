"""The workflow state machine: from parsed files to the state of every plan.

Why pure functions over plain JSON: the state is computed inside an engine node
(``state:<plan_file>``) from the values of five input nodes, and again by the
API for an explicitly targeted achievement (``--achievement N.M``). Both must
agree, so both call :func:`analyze` on the same data.

The rules are in docs/USER_GUIDE.md §6, "States": "The state of one achievement"
(ten states, first rule that holds) and "The state of a plan" (current
achievement, available ones, plan complete / blocked / no achievements, the
handoff hint); conflicts are warnings, never exceptions (§7, "Warnings").

Early cutoff: the state value carries only what its dependents use — the
current achievement's section, SUBPLAN objective and approach, and FIX issues —
so that editing any other part of a PLAN or SUBPLAN recomputes this node but
leaves its value, and therefore the rendered prompt, untouched.
"""

from __future__ import annotations

from . import layout
from . import numbers as num
from .diagnostics import dedupe, unreadable, warning
from .parallel import validate_parallel
from .states import (  # noqa: F401  (re-exported: the state machine's vocabulary)
    APPROVED, SKIPPED, FIX_RESOLVED, NEEDS_FIX, NO_SUBPLAN, AWAITING_REVIEW, NO_EXECUTION,
    ACTIVE_EXECUTION, NEXT_EXECUTION, ALL_EXECUTED, ACHIEVEMENT_STATES, DONE, IN_PROGRESS,
    PLAN_COMPLETE, BLOCKED, NO_ACHIEVEMENTS, PLAN_STATES, TEMPLATE_FOR, TEMPLATE_NAMES,
    EXECUTION_STATES,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence, TypeVar

    from .values import (Analysis, Dependency, ExecutionEntry, ExecutionGroup, ExecutionsValue, Facts,
                         FeedbackSignals, FeedbackValue, FixInfo, Hours, ParallelValue, PlanStats, PlanValue,
                         SkippedWait, StateValue, SubplanEntry, SubplansValue, Target, Wait, Warning)

    F = TypeVar("F", SubplanEntry, ExecutionEntry)

_WHERE_RANK = {"canonical": 0, "flat": 1, "archive": 2}


# -- per achievement ------------------------------------------------------------
def _sort_files(files: list[F]) -> list[F]:
    return sorted(files, key=lambda f: (_WHERE_RANK.get(f["where"], 3), f.get("archived", False),
                                        f.get("suffix", ""), f["path"]))


def _group_executions(files: list[ExecutionEntry]) -> list[ExecutionGroup]:
    """Executions by number; one counts as complete only if all its files are."""
    by_mm: dict[int, list[ExecutionEntry]] = {}
    for f in files:
        by_mm.setdefault(f["mm"], []).append(f)
    out: list[ExecutionGroup] = []
    for mm in sorted(by_mm):
        fs = _sort_files(by_mm[mm])
        out.append({
            "mm": mm,
            "files": [{"path": f["path"], "complete": f["complete"]} for f in fs],
            "complete": all(f["complete"] for f in fs),
        })
    return out


def achievement_state(approved: bool, skipped: bool, fix: bool, resolution: bool,
                      subplan: Optional[SubplanEntry], executions: list[ExecutionGroup]) -> str:
    """The state of one achievement: the first rule of the state table that holds
    (docs/USER_GUIDE.md §6, "The state of one achievement").

    ``subplan`` is the preferred SUBPLAN file (``complete``, ``planned``) or
    None; ``executions`` are grouped executions (:func:`_group_executions`).
    """
    if approved:
        return APPROVED
    if skipped:
        return SKIPPED
    if fix and resolution:
        return FIX_RESOLVED
    if fix:
        return NEEDS_FIX
    if subplan is None:
        return NO_SUBPLAN
    if subplan["complete"]:
        return AWAITING_REVIEW
    if not executions:
        return NO_EXECUTION
    if not all(e["complete"] for e in executions):
        return ACTIVE_EXECUTION
    planned = subplan.get("planned")
    if planned and len(executions) < len(planned):
        return NEXT_EXECUTION
    return ALL_EXECUTED


def _hours_of(subplan: Optional[SubplanEntry], exec_files: list[ExecutionEntry]) -> Hours:
    """Hours of one achievement: executions' actual time (first stated file per
    execution) else the SUBPLAN's; the SUBPLAN's estimate else the executions'."""
    actual: Optional[float] = None
    seen: set[int] = set()
    for f in _sort_files(exec_files):
        stated = f["hours"]["actual"]
        if f["mm"] not in seen and stated is not None:
            seen.add(f["mm"])
            actual = (actual or 0.0) + stated
    if actual is None and subplan is not None:
        actual = subplan["hours"]["actual"]
    estimated = subplan["hours"]["estimated"] if subplan is not None else None
    if estimated is None:
        lo = hi = 0.0
        found: set[int] = set()
        for f in _sort_files(exec_files):
            range_ = f["hours"]["estimated"]
            if f["mm"] not in found and range_:
                found.add(f["mm"])
                lo += range_[0]
                hi += range_[1]
        estimated = [lo, hi] if found else None
    return {"actual": actual, "estimated": estimated}


# -- inventory: files → achievements -------------------------------------------
def _resolve(index: num.TokenIndex, tok: str, path: str, orphan_kind: str, what: str,
             warns: list[Warning]) -> Optional[str]:
    number, candidates = index.lookup(tok)
    if number is not None:
        return number
    if candidates:
        warns.append(warning(
            "ambiguous_token",
            f"{layout.basename(path)}: token {tok} fits Achievements {' and '.join(candidates)}; "
            f"it is not counted for either (rename the file or renumber one achievement)",
            path,
        ))
    else:
        warns.append(warning(
            orphan_kind,
            f"{layout.basename(path)}: token {tok} matches no achievement the PLAN declares; "
            f"this {what} is ignored",
            path,
        ))
    return None


def _input_warnings(plan: PlanValue, index: num.TokenIndex, subplans: SubplansValue, executions: ExecutionsValue,
                    feedback: FeedbackValue) -> list[Warning]:
    """The warnings a plan starts with: the PLAN's own (duplicates, unreadable),
    then two declared numbers that share a file token (such a token is never
    guessed: docs/USER_GUIDE.md §4, "Numbers and tokens"), then those of the
    SUBPLAN, EXECUTION_TASK and feedback inputs."""
    warns: list[Warning] = list(plan.get("warnings", []))
    for tok, ns in sorted(index.ambiguous_tokens().items()):
        warns.append(warning(
            "ambiguous_token",
            f"Achievements {' and '.join(ns)} share the file token {tok}; files named with it are not counted "
            f"for either (renumber one of them)",
            plan["plan_file"],
        ))
    warns.extend(subplans.get("warnings", []))
    warns.extend(executions.get("warnings", []))
    warns.extend(feedback.get("warnings", []))
    return warns


def _files_by_achievement(index: num.TokenIndex, files: list[F], orphan_kind: str, what: str,
                          warns: list[Warning]) -> dict[str, list[F]]:
    """SUBPLAN or EXECUTION_TASK files grouped by the achievement their token names
    (docs/USER_GUIDE.md §5, "Files that belong to an achievement"); a file whose
    token names none, or two, is reported and not counted."""
    by: dict[str, list[F]] = {}
    for f in files:
        n = _resolve(index, f["token"], f["path"], orphan_kind, what, warns)
        if n:
            by.setdefault(n, []).append(f)
    return by


def _resolve_feedback(index: num.TokenIndex, tok: str, path: str, sibling_tokens: set[str],
                      warns: list[Warning]) -> Optional[str]:
    """The achievement a feedback file is about. Feedback names carry no feature,
    so a token that another plan of the folder declares belongs to that plan: it
    is silently not ours, rather than an orphan (docs/USER_GUIDE.md §5, "Feedback
    files are shared")."""
    number, candidates = index.lookup(tok)
    if number is None and not candidates and tok in sibling_tokens:
        return None
    return _resolve(index, tok, path, "orphan_feedback", "feedback file", warns)


def _feedback_by_achievement(index: num.TokenIndex, feedback: FeedbackValue, folder: str,
                             siblings: Sequence[PlanValue], warns: list[Warning]) -> FeedbackSignals:
    """The feedback signals of the state table (docs/USER_GUIDE.md §6, "The state
    of one achievement") by achievement number: ``approved``,
    ``fix`` (number → FIX file info), ``resolution`` and ``skipped``."""
    sibling_tokens = {num.token(a["number"]) for p in siblings if isinstance(p, dict)
                      for a in p.get("achievements", [])}
    fb_dir = feedback.get("dir", layout.feedbacks_dir(folder))
    exe_dir = layout.execution_dir(folder)

    def numbers(tokens: list[str], directory: str, pattern: str) -> set[str]:
        out = set()
        for tok in tokens:
            n = _resolve_feedback(index, tok, layout.join(directory, pattern.format(tok)), sibling_tokens, warns)
            if n:
                out.add(n)
        return out

    approved = numbers(feedback.get("approved", []), fb_dir, "APPROVED_{}.md")
    fixes: dict[str, FixInfo] = {}
    for tok, info in sorted(feedback.get("fix", {}).items()):
        n = _resolve_feedback(index, tok, info["path"], sibling_tokens, warns)
        if n:
            fixes[n] = info
    resolutions = numbers(feedback.get("resolution", []), fb_dir, "FIX_{}_RESOLUTION.md")
    skipped = numbers(feedback.get("skipped", []), exe_dir, "SKIPPED_{}.md")
    return {"approved": approved, "fix": fixes, "resolution": resolutions, "skipped": skipped}


def _achievement_facts(n: str, sub_files: list[SubplanEntry], exe_files: list[ExecutionEntry],
                       fb: FeedbackSignals) -> Facts:
    """What the files say about achievement ``n``: its state (docs/USER_GUIDE.md
    §6, "The state of one achievement"), the preferred SUBPLAN (§5, "Several
    copies of a SUBPLAN") and every copy, its grouped executions, its FIX file,
    and its hours."""
    subs = _sort_files(sub_files)
    sub = subs[0] if subs else None
    groups = _group_executions(exe_files)
    st = achievement_state(n in fb["approved"], n in fb["skipped"], n in fb["fix"], n in fb["resolution"],
                           sub, groups)
    return {"state": st, "subplan": sub, "subplans": subs, "executions": groups,
            "fix": fb["fix"].get(n), "resolution": n in fb["resolution"],
            "hours": _hours_of(sub, exe_files)}


# -- the plan: dependencies, current and available, waits ------------------------
def _dependencies(parallel: Optional[ParallelValue], declared: list[str],
                  warns: list[Warning]) -> tuple[bool, dict[str, list[str]], Optional[str]]:
    """The folder's parallel.json validated against this plan's declared numbers
    (docs/USER_GUIDE.md §5, "Files that belong to an achievement", on parallel.json):
    an unreadable file is reported and counts as absent.
    Returns :func:`validate_parallel`'s ``valid`` and ``deps``, and the file's path."""
    par_path = parallel["path"] if parallel else None
    parsed = None
    if parallel:
        error = parallel["error"]
        if error:
            warns.append(unreadable(par_path, error))
        else:
            parsed = parallel["parsed"]
    pv = validate_parallel(parsed, declared, par_path)
    warns.extend(pv["warnings"])
    return pv["valid"], pv["deps"], par_path


def _plan_state(declared: list[str], states: dict[str, str], deps: dict[str, list[str]],
                parallel_valid: bool) -> tuple[str, Optional[str], list[str]]:
    """``(plan_state, current, available)`` (docs/USER_GUIDE.md §6, "The state of a
    plan"): the current achievement is
    the first in plan order that is not done and whose dependencies are all
    approved (a skipped one is not met); the others ready like it are available
    only with a valid parallel.json. Nothing ready and not complete is blocked."""
    current: Optional[str] = None
    available: list[str] = []
    if not declared:
        return NO_ACHIEVEMENTS, current, available
    if all(states[n] in DONE for n in declared):
        return PLAN_COMPLETE, current, available
    for n in declared:
        if states[n] not in DONE and all(states[d] == APPROVED for d in deps.get(n, [])):
            if current is None:
                current = n
            elif parallel_valid:
                available.append(n)
    return (IN_PROGRESS if current is not None else BLOCKED), current, available


def _waits(declared: list[str], states: dict[str, str],
           deps: dict[str, list[str]]) -> tuple[list[Wait], list[SkippedWait]]:
    """What each unfinished achievement waits for (the blocked report), and which
    of those waits are on skipped achievements: skipped is not approved, and the
    prompt names the two ways out (docs/USER_GUIDE.md §6, "The state of a plan")."""
    waits: list[Wait] = []
    for n in declared:
        if states[n] in DONE:
            continue
        unmet: list[Dependency] = [{"number": d, "state": states[d]} for d in deps.get(n, []) if states[d] != APPROVED]
        if unmet:
            waits.append({"number": n, "waits_for": unmet})
    skipped_waits: list[SkippedWait] = [{"number": w["number"], "skipped": [u["number"] for u in w["waits_for"] if u["state"] == SKIPPED]}
                     for w in waits if any(u["state"] == SKIPPED for u in w["waits_for"])]
    return waits, skipped_waits


def analyze(plan: PlanValue, subplans: SubplansValue, executions: ExecutionsValue, feedback: FeedbackValue,
            parallel: Optional[ParallelValue], siblings: Sequence[PlanValue] = ()) -> Analysis:
    """Everything the state machine concludes about one plan.

    Inputs are the values of the ``plan:``, ``subplans:``, ``executions:``,
    ``feedback:`` and ``parallel:`` nodes, and the ``plan:`` values of the other
    plans in the same folder (feedback names carry no feature: a feedback file
    that belongs to a sibling plan is not an orphan of this one). The result
    keeps per-achievement facts for every achievement; :func:`state_value`
    selects what a prompt needs. Warnings keep the order of the phases below.
    """
    folder = plan["folder"]
    declared = [a["number"] for a in plan["achievements"]]
    index = num.TokenIndex(declared)
    warns = _input_warnings(plan, index, subplans, executions, feedback)
    sub_by = _files_by_achievement(index, subplans.get("files", []), "orphan_subplan", "SUBPLAN", warns)
    exe_by = _files_by_achievement(index, executions.get("files", []), "orphan_execution", "EXECUTION_TASK",
                                   warns)
    fb = _feedback_by_achievement(index, feedback, folder, siblings, warns)
    facts = {n: _achievement_facts(n, sub_by.get(n, []), exe_by.get(n, []), fb) for n in declared}
    parallel_valid, deps, parallel_path = _dependencies(parallel, declared, warns)
    states = {n: facts[n]["state"] for n in declared}
    plan_state, current, available = _plan_state(declared, states, deps, parallel_valid)
    waits, skipped_waits = _waits(declared, states, deps)
    warns.extend(_handoff_warnings(plan, declared, states, current, available, plan_state, folder))

    return {
        "feature": plan["feature"],
        "plan_file": plan["plan_file"],
        "folder": folder,
        "declared": declared,
        "titles": {a["number"]: a["title"] for a in plan["achievements"]},
        "sections": plan.get("sections", {}),
        "facts": facts,
        "deps": deps,
        "parallel_valid": parallel_valid,
        "parallel_path": parallel_path,
        "plan_state": plan_state,
        "current": current,
        "available": available,
        "waits": waits,
        "skipped_waits": skipped_waits,
        "hint": plan.get("hint"),
        "plan_error": plan.get("error"),
        "warnings": dedupe(warns),
    }


def _handoff_warnings(plan: PlanValue, declared: list[str], states: dict[str, str], current: Optional[str],
                      available: list[str], plan_state: str, folder: str) -> list[Warning]:
    hint = plan.get("hint")
    if not hint:
        return []
    n = hint["number"]
    pf = plan["plan_file"]
    said = f"The PLAN's Current Status & Handoff says Achievement {n} is next"
    if n not in states:
        return [warning("handoff_mismatch", f"{said}, but the PLAN declares no Achievement {n}", pf)]
    if n == current or n in available:
        return []
    if plan_state == PLAN_COMPLETE:
        return [warning("handoff_mismatch",
                        f"{said}, but every achievement is approved or skipped; update the handoff section", pf)]
    if current is None:
        return [warning("handoff_mismatch",
                        f"{said}, but no achievement can start: dependencies are unmet (see the blocked report)",
                        pf)]
    if num.key(n) > num.key(current):
        pending = [d for d in declared if num.key(d) < num.key(n) and states[d] not in DONE]
        files = [layout.approved_path(folder, num.token(d)) for d in pending]
        return [warning(
            "handoff_mismatch",
            f"{said}, but the files say Achievement {current} ({states[current]}) is current. If "
            f"{', '.join(pending)} {'is' if len(pending) == 1 else 'are'} done, record "
            f"{'it' if len(pending) == 1 else 'them'} by creating: {', '.join(files)}",
            pf,
        )]
    return [warning(
        "handoff_mismatch",
        f"{said}, but it is {states[n]}; the files say Achievement {current} ({states[current]}) is current. "
        f"Update the handoff section",
        pf,
    )]


# -- what a prompt needs ---------------------------------------------------------
def detail(analysis: Analysis, number: str) -> Target:
    """Everything a prompt for achievement ``number`` needs (and nothing else)."""
    folder = analysis["folder"]
    feature = analysis["feature"]
    f = analysis["facts"][number]
    tok = num.token(number)
    st = f["state"]
    groups = f["executions"]
    sub = f["subplan"]
    planned = sub.get("planned") if sub else None
    cont_mm = None
    cont_files: list[str] = []
    for g in groups:
        if not g["complete"]:
            cont_mm = g["mm"]
            cont_files = [x["path"] for x in g["files"] if not x["complete"]]
            break
    have = {g["mm"] for g in groups}
    if not groups:
        next_mm: Optional[int] = 1
    else:
        missing = sorted(set(planned or []) - have)
        next_mm = missing[0] if missing else max(have) + 1
    d: Target = {
        "number": number,
        "token": tok,
        "title": analysis["titles"].get(number, ""),
        "state": st,
        "section": analysis["sections"].get(number, ""),
        "subplan": {"path": sub["path"], "complete": sub["complete"]} if sub else None,
        "subplan_path": sub["path"] if sub else layout.subplan_path(folder, feature, tok),
        "executions": groups,
        "planned": planned,
        "continue_mm": cont_mm,
        "continue_files": cont_files,
        "next_mm": next_mm,
        "next_execution_path": layout.execution_path(folder, feature, tok, next_mm) if next_mm else None,
        "approved_path": layout.approved_path(folder, tok),
        "fix_path": layout.fix_path(folder, tok),
        "resolution_path": layout.resolution_path(folder, tok),
        "skipped_path": layout.skipped_path(folder, tok),
        "deps": [{"number": x, "state": analysis["facts"][x]["state"]} for x in analysis["deps"].get(number, [])],
        "objective": "",
        "approach": "",
        "fix": None,
    }
    if st in EXECUTION_STATES and sub:
        d["objective"] = sub.get("objective", "")
        d["approach"] = sub.get("approach", "")
    if st in (NEEDS_FIX, FIX_RESOLVED) and f["fix"]:
        d["fix"] = {"path": f["fix"]["path"], "issues": f["fix"].get("issues", []),
                    "error": f["fix"].get("error")}
    return d


def plan_statistics(analysis: Analysis) -> PlanStats:
    """Plan-complete statistics: counts, and hours where the files state them."""
    facts = analysis["facts"]
    states = [facts[n]["state"] for n in analysis["declared"]]
    subplans = sum(1 for n in analysis["declared"] if facts[n]["subplans"])
    tasks = sum(len(facts[n]["executions"]) for n in analysis["declared"])
    task_files = sum(len(g["files"]) for n in analysis["declared"] for g in facts[n]["executions"])
    actual, actual_n = 0.0, 0
    est, est_n = [0.0, 0.0], 0
    for n in analysis["declared"]:
        hours = facts[n]["hours"]
        if hours["actual"] is not None:
            actual += hours["actual"]
            actual_n += 1
        if hours["estimated"] is not None:
            est[0] += hours["estimated"][0]
            est[1] += hours["estimated"][1]
            est_n += 1
    return {
        "achievements": len(states),
        "approved": states.count(APPROVED),
        "skipped": states.count(SKIPPED),
        "subplans": subplans,
        "execution_tasks": tasks,
        "execution_files": task_files,
        "actual_hours": round(actual, 2) if actual_n else None,
        "actual_hours_known_for": actual_n,
        "estimated_hours": [round(est[0], 2), round(est[1], 2)] if est_n else None,
        "estimated_hours_known_for": est_n,
    }


def state_value(analysis: Analysis, target: Optional[str] = None) -> StateValue:
    """The value of ``state:<plan_file>`` (or, with ``target``, the same for an
    explicitly targeted achievement)."""
    number = target if target is not None else analysis["current"]
    plan_state = analysis["plan_state"]
    tgt = detail(analysis, number) if number is not None else None
    if tgt is not None:
        template = TEMPLATE_FOR[tgt["state"]]
    else:
        template = TEMPLATE_FOR[plan_state]
    folder = analysis["folder"]
    problem = None
    if plan_state == NO_ACHIEVEMENTS:
        problem = ("the PLAN could not be read" if analysis.get("plan_error")
                   else "the PLAN declares no achievements")
    return {
        "feature": analysis["feature"],
        "plan_file": analysis["plan_file"],
        "folder": folder,
        "folder_name": layout.basename(folder),
        "plan_state": plan_state,
        "current": ({"number": analysis["current"], "state": analysis["facts"][analysis["current"]]["state"]}
                    if analysis["current"] is not None else None),
        "available": list(analysis["available"]),
        "achievements": [{"number": n, "title": analysis["titles"][n], "state": analysis["facts"][n]["state"]}
                         for n in analysis["declared"]],
        "warnings": analysis["warnings"],
        "template": template,
        "target": tgt,
        "explicit": target is not None,
        "hint": analysis["hint"],
        "waits": analysis["waits"] if plan_state == BLOCKED else [],
        "skipped_waits": analysis["skipped_waits"],
        "parallel_path": analysis["parallel_path"] if analysis["parallel_valid"] else None,
        "stats": plan_statistics(analysis) if plan_state == PLAN_COMPLETE else None,
        "problem": problem,
    }
