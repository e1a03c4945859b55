"""``parallel.json``: achievement dependencies, and when they can be trusted.

Why two steps: the file belongs to a *folder* (every plan in ``D`` reads it) but
is validated against one *plan's* declared achievements. ``parse_parallel`` is
a function of the text alone; ``validate_parallel`` checks it against a plan.

Rules (docs/USER_GUIDE.md §5, "Files that belong to an achievement", on
parallel.json): status fields are ignored (the filesystem wins); a cycle or a
dependency on an unknown achievement makes the file invalid for the plan, which
then falls back to plain declaration order; an entry *for* an achievement the
plan does not declare is ignored with a warning and the rest still holds.
"""

from __future__ import annotations

from . import numbers as num
from .diagnostics import warning
from .layout import PARALLEL_FILE_NAMES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from .values import ParallelCheck, ParallelEntry, ParsedParallel, Warning

#: Names read in this order; the first that exists in the plan folder is used.
FILE_NAMES = PARALLEL_FILE_NAMES


def _as_number(value: object) -> Optional[str]:
    if isinstance(value, str) and num.is_number(value):
        return num.normalize(value)
    return None


def parse_parallel(text: str) -> ParsedParallel:
    """``{"entries": [{"id", "deps"}], "error": None}`` or ``{"entries": [], "error": msg}``."""
    import json  # only when a parallel.json is parsed: the state machine imports this module too

    try:
        data = json.loads(text)
    except ValueError as exc:
        return {"entries": [], "error": f"not valid JSON ({exc})"}
    except RecursionError:
        return {"entries": [], "error": "nested too deeply to be a dependency list"}
    if not isinstance(data, dict) or not isinstance(data.get("achievements"), list):
        return {"entries": [], "error": 'expected an object with an "achievements" list'}
    entries: list[ParallelEntry] = []
    for k, item in enumerate(data["achievements"]):
        if not isinstance(item, dict):
            return {"entries": [], "error": f"achievements[{k}] is not an object"}
        ident = _as_number(item.get("achievement_id"))
        if ident is None:
            return {"entries": [], "error": f'achievements[{k}] has no valid "achievement_id" (a string like "1.2")'}
        deps_raw = item.get("dependencies", [])
        if deps_raw is None:
            deps_raw = []
        if not isinstance(deps_raw, list):
            return {"entries": [], "error": f'achievement {ident}: "dependencies" is not a list'}
        deps = []
        for d in deps_raw:
            dn = _as_number(d)
            if dn is None:
                return {"entries": [], "error": f"achievement {ident}: dependency {d!r} is not an achievement number"}
            deps.append(dn)
        entries.append({"id": ident, "deps": deps})
    return {"entries": entries, "error": None}


def _find_cycle(deps: dict[str, list[str]]) -> Optional[list[str]]:
    """One dependency cycle as a list of numbers, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for root in sorted(deps, key=num.key):
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = deps.get(node, [])
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                s = state.get(child, 0)
                if s == 1:
                    return path[path.index(child):] + [child]
                if s == 0:
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return None


def validate_parallel(parsed: Optional[ParsedParallel], declared: list[str], path: Optional[str]) -> ParallelCheck:
    """Dependencies for one plan: ``{"valid": bool, "deps": {number: [numbers]}, "warnings"}``.

    ``parsed`` None means there is no file: not valid, no warning. Invalid files
    give ``deps == {}`` so that the plan falls back to declaration order.
    """
    if parsed is None:
        return {"valid": False, "deps": {}, "warnings": []}
    warns: list[Warning] = []
    if parsed.get("error"):
        warns.append(warning("parallel_invalid",
                             f"{path}: {parsed['error']}; dependencies ignored, plain plan order is used", path))
        return {"valid": False, "deps": {}, "warnings": warns}
    known = set(declared)
    deps: dict[str, list[str]] = {}
    for e in parsed["entries"]:
        ident = e["id"]
        if ident not in known:
            warns.append(warning("parallel_invalid",
                                 f"{path}: entry for Achievement {ident}, which the PLAN does not declare, is ignored",
                                 path))
            continue
        if ident in deps:
            warns.append(warning("parallel_invalid",
                                 f"{path}: Achievement {ident} is listed twice; the first entry is used", path))
            continue
        deps[ident] = list(dict.fromkeys(e["deps"]))
    errors = []
    for ident, ds in deps.items():
        unknown = [d for d in ds if d not in known]
        if unknown:
            errors.append(f"Achievement {ident} depends on {', '.join(unknown)}, which the PLAN does not declare")
    if not errors:
        cycle = _find_cycle(deps)
        if cycle:
            errors.append("dependency cycle " + " → ".join(cycle))
    if errors:
        warns.append(warning("parallel_invalid",
                             f"{path}: {'; '.join(errors)}; dependencies ignored, plain plan order is used", path))
        return {"valid": False, "deps": {}, "warnings": warns}
    return {"valid": True, "deps": deps, "warnings": warns}
