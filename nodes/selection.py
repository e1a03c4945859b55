"""Choosing a plan from what the user typed: ``@NAME`` or a path to a PLAN file.

``@NAME``: the exact feature name first; else a case-insensitive match on the
feature or on the plan's folder name that is unique — an exact match beats a
prefix match, which beats a substring match (at each tier a unique feature
match wins over a folder match). A bare word that does not look like a path is
read as ``@word``. A path may be relative to the current directory or to the
workspace root; it must resolve (symbolic links included) inside the workspace.
Unknown or ambiguous: :class:`SelectionError` with the candidates.

Plain string and ``os.path`` operations only, and annotations as strings: this
module runs on the no-op fast path, which must not import ``re``, ``typing`` or
``__future__`` (see promptgen/__init__.py).
"""

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence, TypeVar

    from .values import Named

    Plan = TypeVar("Plan", bound=Named)  # a plan report or an index entry: what is given is returned


class SelectionError(Exception):
    """A plan or achievement selector matched nothing or more than one thing."""

    def __init__(self, message: str, candidates: "Sequence[str]" = ()) -> None:
        super().__init__(message)
        self.message = message
        self.candidates = list(candidates)


def select(plans: "Sequence[Plan]", selector: str, root: "Optional[str]" = None,
           cwd: "Optional[str]" = None) -> "Plan":
    """The plan (a dict with ``feature``, ``folder_name``, ``plan_file``) the selector names."""
    sel = selector.strip()
    if not plans:
        raise SelectionError("this workspace has no plans: no PLAN_*.md file under its plan roots "
                             "(see promptgen.toml plan_roots, or --plan-root)")
    if sel.startswith("@"):
        return _by_name(plans, sel[1:])
    if "/" in sel or "\\" in sel or sel.endswith(".md"):
        return _by_path(plans, sel, root, cwd)
    return _by_name(plans, sel)


def _by_name(plans: "Sequence[Plan]", name: str) -> "Plan":
    exact = [p for p in plans if p["feature"] == name]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise SelectionError(f"@{name} names {len(exact)} plans; give the PLAN file path instead",
                             [p["plan_file"] for p in exact])
    low = name.casefold()
    if not low:
        raise SelectionError("empty plan name: give @NAME or a PLAN file path", [_describe(p) for p in plans])
    for test in (lambda s: s == low, lambda s: s.startswith(low), lambda s: low in s):
        by_feature = [p for p in plans if test(p["feature"].casefold())]
        by_either = [p for p in plans if test(p["feature"].casefold()) or test(p["folder_name"].casefold())]
        if len(by_either) == 1:
            return by_either[0]
        if len(by_feature) == 1:
            return by_feature[0]
        if by_either:
            raise SelectionError(f"@{name} is ambiguous; it matches:", [_describe(p) for p in by_either])
    raise SelectionError(f"no plan matches @{name}; plans in this workspace:", [_describe(p) for p in plans])


def _by_path(plans: "Sequence[Plan]", given: str, root: "Optional[str]", cwd: "Optional[str]") -> "Plan":
    by_file = {p["plan_file"]: p for p in plans}
    rel = given.replace("\\", "/")
    parts = [x for x in rel.split("/") if x not in ("", ".")]
    if not os.path.isabs(given) and "/".join(parts) in by_file and ".." not in parts:
        return by_file["/".join(parts)]  # relative to the workspace root
    base = cwd if cwd is not None else os.getcwd()
    path = os.path.realpath(given if os.path.isabs(given) else os.path.join(base, given))
    if root is not None:
        root_real = os.path.realpath(root)
        if path != root_real and not path.startswith(root_real + os.sep):
            raise SelectionError(f"{given} is outside the workspace {root}")
        inside = os.path.relpath(path, root_real).replace(os.sep, "/")
        if inside in by_file:
            return by_file[inside]
    else:
        hits = [p for p in plans if path.replace(os.sep, "/").endswith("/" + p["plan_file"])]
        if len(hits) == 1:
            return hits[0]
    raise SelectionError(f"{given} is not a PLAN file of this workspace; plans:", [_describe(p) for p in plans])


def _describe(plan: "Plan") -> str:
    return f"@{plan['feature']}  ({plan['plan_file']})"
