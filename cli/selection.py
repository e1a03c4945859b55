"""Choosing a plan from what the user typed: ``@NAME`` or a path to a PLAN file.

Rules (docs/USER_GUIDE.md): the exact feature name first; else a case-insensitive
match on the feature or on the plan's folder name that is unique — an exact match
beats a prefix match, which beats a substring match. Unknown or ambiguous: an
error that lists the candidates.

Plain string operations only: this runs on the no-op fast path, which must not
import ``re``.
"""

from __future__ import annotations

import os
# typing imports re (~10 ms): this module is on the no-op path, so types are
# for checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Sequence


class SelectionError(Exception):
    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        self.candidates = list(candidates)
        super().__init__(message)


def select(plans: Sequence[dict[str, Any]], selector: str, root: str, cwd: str) -> dict[str, Any]:
    """The plan dict (with ``feature``, ``folder``, ``plan_file``) the selector names."""
    if selector.startswith("@"):
        return _by_name(plans, selector[1:])
    if selector.endswith(".md") or os.sep in selector or "/" in selector:
        return _by_path(plans, selector, root, cwd)
    return _by_name(plans, selector)


def _by_name(plans: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    if not name:
        raise SelectionError("empty plan name after '@'", _listing(plans))
    exact = [p for p in plans if p["feature"] == name]
    if len(exact) == 1:
        return exact[0]
    want = name.casefold()
    for test in (
        lambda s: s == want,
        lambda s: s.startswith(want),
        lambda s: want in s,
    ):
        hits = [p for p in plans if test(p["feature"].casefold()) or test(p["folder"].casefold())]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise SelectionError(f"'@{name}' is ambiguous; it matches:", _listing(hits))
    raise SelectionError(f"no plan matches '@{name}'; plans in this workspace:", _listing(plans))


def _by_path(plans: Sequence[dict[str, Any]], given: str, root: str, cwd: str) -> dict[str, Any]:
    path = os.path.realpath(given if os.path.isabs(given) else os.path.join(cwd, given))
    root_real = os.path.realpath(root)
    if not (path + os.sep).startswith(root_real + os.sep):
        raise SelectionError(f"{given} is outside the workspace {root}")
    rel = os.path.relpath(path, root_real).replace(os.sep, "/")
    for p in plans:
        if p["plan_file"] == rel:
            return p
    raise SelectionError(f"{given} is not a PLAN file of this workspace; plans:", _listing(plans))


def _listing(plans: Sequence[dict[str, Any]]) -> list[str]:
    return [f"@{p['feature']}  ({p['plan_file']})" for p in plans]
