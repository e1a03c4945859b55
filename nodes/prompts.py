"""Prompts: built-in templates, workspace overrides, and rendering.

Why templates are data: a workspace must be able to change the wording without
touching code, and a template must never be able to run code. Templates are
therefore plain text filled with :meth:`string.Template.safe_substitute` from a
dict of strings built here (an unknown ``$name`` is left as written).

What every rendered prompt guarantees (docs/USER_GUIDE.md §6, "What a prompt
contains"), whatever the template says: warnings come first, at the top.
Everything else — real file names, the exact next command, context boundaries,
the quoted section, where the job ends — is provided as placeholders that the
built-in templates use (§10, "Template overrides", lists them).

Placeholders: ``feature plan_file plan_dir folder plan_state next_command
status_command number token title state section subplan_path execution_path
execution_number execution_files executions_status continue_files
continue_number done_count planned_count planned_note objective approach
fix_path resolution_path approved_path skipped_path issues available_note
deps_note current_note achievements_list stats blocked_report skipped_note
parallel_path problem``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from . import lazyre

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .values import FixInfo, PlanStats, StateValue, Target, TemplateValue, Warning

_RE_BACKTICKS = lazyre.compile(r"`{3,}")
#: Where the built-in templates are (their texts are part of the template rule's version).
BUILTIN_TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "templates")

_SEVERITY_LABEL = {"critical": "Critical", "minor": "Minor", None: "Issue"}


# -- templates ---------------------------------------------------------------------
@lru_cache(maxsize=None)
def builtin_text(name: str) -> str:
    """The built-in template ``<name>.md`` shipped in ``promptgen.nodes.templates``."""
    # read next to this module (the package data of promptgen.nodes.templates):
    # importlib.resources would cost more import time than every template read
    with open(os.path.join(BUILTIN_TEMPLATES_DIR, f"{name}.md"), encoding="utf-8") as f:
        return f.read()


def template_value(name: str, path: str, file_value: object) -> TemplateValue:
    """The value of ``template:<name>``: the override when readable, else built-in."""
    if isinstance(file_value, dict) and isinstance(file_value.get("text"), str):
        return {"name": name, "text": file_value["text"], "source": "override", "path": path, "warning": None}
    err = file_value.get("error") if isinstance(file_value, dict) else None
    warn = None
    if err and err != "missing":
        warn = f"template override {path} is unusable ({err}); the built-in template was used"
    return {"name": name, "text": builtin_text(name), "source": "builtin", "path": path, "warning": warn}


# -- formatting helpers --------------------------------------------------------------
def quote(text: str, empty: str) -> str:
    """A fenced block that cannot be closed by the quoted text itself."""
    if not text.strip():
        return empty
    runs = [len(m.group(0)) for m in _RE_BACKTICKS.finditer(text)]
    fence = "`" * (max(runs) + 1 if runs else 3)
    return f"{fence}markdown\n{text}\n{fence}"


def _bullets(items: list[str], empty: str = "- (none)") -> str:
    return "\n".join(f"- {i}" for i in items) if items else empty


def format_issues(fix: Optional[FixInfo]) -> str:
    if not fix:
        return "- (the FIX file could not be found; read it yourself)"
    if fix.get("error"):
        return f"- (the FIX file could not be read: {fix['error']}; open `{fix['path']}` yourself)"
    issues = fix.get("issues") or []
    if not issues:
        return f"- (`{fix['path']}` lists no issues — it may be empty; ask the reviewer what to fix)"
    out = []
    for k, it in enumerate(issues, 1):
        label = _SEVERITY_LABEL.get(it.get("severity"), "Issue")
        out.append(f"{k}. [{label}] {it['title']}")
        detail = (it.get("detail") or "").strip("\n")
        if detail:
            out.extend("   " + line if line.strip() else "" for line in detail.split("\n"))
    return "\n".join(out)


def _mm(n: Optional[int]) -> str:
    return f"{n:02d}" if n is not None else ""


def _stats(stats: Optional[PlanStats]) -> str:
    if not stats:
        return "- (none)"
    lines = [
        f"- Achievements: {stats['achievements']} ({stats['approved']} approved, {stats['skipped']} skipped)",
        f"- SUBPLANs: {stats['subplans']}",
        f"- Execution tasks: {stats['execution_tasks']} ({stats['execution_files']} files)",
    ]
    if stats.get("actual_hours") is not None:
        lines.append(f"- Hours spent (stated for {stats['actual_hours_known_for']} achievements): "
                     f"{stats['actual_hours']:g}")
    estimated = stats.get("estimated_hours")
    if estimated:
        lo, hi = estimated
        lines.append(f"- Hours estimated (stated for {stats['estimated_hours_known_for']} achievements): "
                     f"{lo:g}–{hi:g}")
    return "\n".join(lines)


def warnings_block(warnings: list[Warning]) -> str:
    if not warnings:
        return ""
    lines = [f"⚠️ Warnings ({len(warnings)}) — the files decide; resolve these when you can:"]
    for w in warnings:
        where = f" ({w['path']})" if w.get("path") else ""
        lines.append(f"- [{w['kind']}] {w['message']}{where}")
    return "\n".join(lines) + "\n\n---\n\n"


# -- context -------------------------------------------------------------------------
def _next_command(state: StateValue, t: Optional[Target]) -> str:
    """The exact next command (docs/USER_GUIDE.md §8, "Selecting a plan").
    Pasted into a shell, so the selector is quoted; an explicitly targeted
    achievement continues with the same target, not with the plan's current
    achievement."""
    import shlex  # only when a prompt renders: not on the import path of a build

    next_cmd = f"promptgen next {shlex.quote('@' + state['feature'])}"
    cur = state.get("current")
    if state.get("explicit") and t and t["number"] != (cur["number"] if cur else None):
        next_cmd += f" --achievement {t['number']}"
    return next_cmd


def _plan_placeholders(state: StateValue, next_cmd: str) -> dict[str, str]:
    """What every prompt can say about the plan as a whole, whatever its state."""
    return {
        "feature": state["feature"],
        "plan_file": state["plan_file"],
        "plan_dir": state["folder"],
        "folder": state["folder_name"],
        "plan_state": state["plan_state"],
        "next_command": next_cmd,
        "status_command": "promptgen status",
        "problem": state.get("problem") or "",
        "parallel_path": state.get("parallel_path") or "parallel.json",
        "achievements_list": "\n".join(f"- {a['number']} {a['state']} — {a['title']}"
                                       for a in state["achievements"]) or "- (none)",
        "stats": _stats(state.get("stats")),
    }


def _parallel_notes(state: StateValue, t: Optional[Target], next_cmd: str) -> dict[str, str]:
    """``available_note``: the other achievements ready side by side
    (docs/USER_GUIDE.md §6, "The state of a plan"), each reachable with
    ``--achievement``; ``current_note``: the plan's current one."""
    avail = [n for n in state.get("available", []) if n != (t["number"] if t else None)]
    cur = state.get("current")
    return {
        "available_note": (
            "\n## Also ready in parallel (parallel.json)\n"
            + ", ".join(avail)
            + f" — get a prompt for one with `{next_cmd} --achievement {avail[0]}`.\n"
        ) if avail else "",
        "current_note": (f"; the current achievement is {cur['number']} ({cur['state']})" if cur else ""),
    }


def _waiting_notes(state: StateValue, parallel_path: str) -> dict[str, str]:
    """``blocked_report``: what waits for what; ``skipped_note``: dependencies on
    skipped achievements are not met, and the two ways out (docs/USER_GUIDE.md §6,
    "The state of a plan")."""
    sk = state.get("skipped_waits", [])
    return {
        "blocked_report": "\n".join(
            f"- {w['number']} waits for " + ", ".join(f"{u['number']} ({u['state']})" for u in w["waits_for"])
            for w in state.get("waits", [])
        ) or "- (nothing)",
        "skipped_note": ("\nSkipped dependencies are not met: "
                         + "; ".join(f"{s['number']} waits for skipped {', '.join(s['skipped'])}" for s in sk)
                         + f". Either approve the skipped achievement, or drop the dependency from "
                           f"`{parallel_path}`.\n") if sk else "",
    }


def _execution_placeholders(t: Target) -> dict[str, str]:
    """The targeted achievement's executions: the one to create, the one to
    continue, every file with its status, and the SUBPLAN's planned ones."""
    groups = t.get("executions", [])
    planned = t.get("planned")
    return {
        "execution_path": t.get("next_execution_path") or "",
        "execution_number": _mm(t.get("next_mm")),
        "continue_number": _mm(t.get("continue_mm")),
        "continue_files": _bullets([f"`{p}`" for p in t.get("continue_files", [])]),
        "execution_files": "\n".join(f"- `{f['path']}`" for g in groups for f in g["files"])
        or "- (no EXECUTION_TASK files)",
        "executions_status": "\n".join(
            f"- {_mm(g['mm'])}: " + ", ".join(f"`{f['path']}` ({'complete' if f['complete'] else 'not complete'})"
                                              for f in g["files"])
            for g in groups) or "- (none)",
        "done_count": str(sum(1 for g in groups if g["complete"])),
        "planned_count": str(len(planned)) if planned else "",
        "planned_note": (f"\nThe SUBPLAN plans {len(planned)} executions "
                         f"({', '.join(_mm(m) for m in planned)}).\n") if planned else "",
    }


def _target_placeholders(t: Target) -> dict[str, str]:
    """The targeted achievement: its quoted PLAN section, the SUBPLAN's objective
    and approach (docs/USER_GUIDE.md §6, "What a prompt contains"), its
    executions, the feedback files it may write, the FIX issues and its
    dependencies."""
    deps = t.get("deps", [])
    return {
        "number": t["number"],
        "token": t["token"],
        "title": t["title"],
        "state": t["state"],
        "section": quote(t.get("section", ""),
                         f"(the PLAN has no section for Achievement {t['number']} outside its index; "
                         f"its title is \"{t['title']}\")"),
        "subplan_path": t["subplan_path"],
        **_execution_placeholders(t),
        "objective": quote(t.get("objective", ""), "(the SUBPLAN has no Objective section; read the SUBPLAN)"),
        "approach": quote(t.get("approach", ""), "(the SUBPLAN has no Approach section; read the SUBPLAN)"),
        "fix_path": t["fix_path"],
        "resolution_path": t["resolution_path"],
        "approved_path": t["approved_path"],
        "skipped_path": t["skipped_path"],
        "issues": format_issues(t.get("fix")),
        "deps_note": ("\nDepends on (parallel.json): "
                      + ", ".join(f"{d['number']} ({d['state']})" for d in deps) + "\n") if deps else "",
    }


def context(state: StateValue) -> dict[str, str]:
    """The placeholder values for a state (all strings): the plan's, the notes on
    parallel and waiting work, and, when there is one, the targeted achievement's."""
    t = state.get("target")
    next_cmd = _next_command(state, t)
    ctx = _plan_placeholders(state, next_cmd)
    ctx.update(_parallel_notes(state, t, next_cmd))
    ctx.update(_waiting_notes(state, ctx["parallel_path"]))
    if t:
        ctx.update(_target_placeholders(t))
    return ctx


def render(state: StateValue, template: TemplateValue) -> str:
    """The prompt text: warnings first, then the template filled from the state."""
    from string import Template  # only when a prompt renders: not on the import path of a build

    warns = list(state.get("warnings", []))
    problem = template.get("warning")
    if problem:
        warns.append({"kind": "unreadable_file", "message": problem, "path": template.get("path")})
    body = Template(template["text"]).safe_substitute(context(state))
    body = body.strip("\n") + "\n"
    return warnings_block(warns) + _explicit_note(state) + body


def _explicit_note(state: StateValue) -> str:
    """Said first, whatever the template: an explicit target is not the plan's next step."""
    t = state.get("target")
    cur = state.get("current")
    if not state.get("explicit") or not t or (cur and cur["number"] == t["number"]):
        return ""
    where = (f"the plan's current achievement is {cur['number']} ({cur['state']})" if cur
             else f"the plan is {state['plan_state'].replace('_', ' ')}")
    return (f"Note: this prompt targets Achievement {t['number']} explicitly (--achievement); {where}.\n\n")
