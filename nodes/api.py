"""The facade the CLI calls: configuration, graph roots, reports, selection.

Why a facade: the CLI (written separately) should not know node keys, value
shapes or parser modules. It finds the workspace, loads the configuration, asks
for the graph roots and rules, hands them to the engine, and turns the built
values into reports, documents and prompts through the functions below.
Nothing here prints, exits or touches the terminal.
"""

from __future__ import annotations

import os

from . import graph, layout, prompts
from . import root as root_mod

# typing, dataclasses and pathlib are not imported at run time, nor the state
# machine and the parsers until a function needs them: every build imports this
# module, and those cost more than the rest of it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Sequence, Union

    from promptgen.engine.spec import JSON, NodeSpec, Rule

    PathArg = Union[str, "os.PathLike[str]"]

WORKSPACE_DIR = root_mod.WORKSPACE_DIR
CONFIG_FILE = "promptgen.toml"
DEFAULT_PLAN_ROOTS = ("work-space/plans",)
DEFAULT_TEMPLATES_DIR = ".promptgen/templates"

#: The per-plan fields of spec §8, in order.
STATUS_FIELDS = ("feature", "plan_file", "plan_state", "current", "available", "achievements", "warnings")


class ConfigError(Exception):
    """``promptgen.toml`` (or a plan-root option) is wrong; the message says how to fix it."""


from .selection import SelectionError, select  # noqa: E402  (SelectionError is part of the API)


class WorkspaceConfig:
    """Where a workspace is and what it configures; immutable.

    ``root`` is the absolute path of the workspace folder (a str; a path-like
    given to the constructor is converted).
    """

    __slots__ = ("root", "plan_roots", "templates_dir")

    root: str
    plan_roots: tuple[str, ...]
    templates_dir: str

    def __init__(self, root: PathArg, plan_roots: tuple[str, ...] = DEFAULT_PLAN_ROOTS,
                 templates_dir: str = DEFAULT_TEMPLATES_DIR) -> None:
        object.__setattr__(self, "root", os.path.abspath(os.fspath(root)))
        object.__setattr__(self, "plan_roots", plan_roots)
        object.__setattr__(self, "templates_dir", templates_dir)

    def _fields(self) -> tuple:
        return (self.root, self.plan_roots, self.templates_dir)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(root={self.root!r}, plan_roots={self.plan_roots!r}, "
                f"templates_dir={self.templates_dir!r})")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a WorkspaceConfig is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a WorkspaceConfig is immutable")


# -- workspace and configuration ------------------------------------------------------
def find_workspace_root(start: PathArg) -> Optional[str]:
    """The nearest ancestor of ``start`` (itself included) that contains ``work-space/``."""
    return root_mod.find_workspace_root(os.fspath(start))


def _relative(root: PathArg, value: object, what: str) -> str:
    """A workspace-relative ``/`` path, or ConfigError saying how to fix it."""
    example = 'e.g. "work-space/backlog-plans"'
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what}: expected a non-empty string path relative to the workspace root ({example})")
    raw = value.strip().replace("\\", "/")
    if os.path.isabs(raw):
        real, base = os.path.realpath(raw), os.path.realpath(root)
        if real == base:
            raw = "."
        elif real.startswith(base if base.endswith("/") else base + "/"):
            raw = real[len(base):].lstrip("/")
        else:
            raise ConfigError(f"{what}: {value!r} is outside the workspace {os.fspath(root)}; "
                              f"use a path inside it, relative to the root ({example})")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ConfigError(f"{what}: {value!r} must name a folder inside the workspace, "
                          f"relative to its root, without '..' ({example})")
    return "/".join(parts)


def load_config(root: PathArg, extra_plan_roots: Sequence[str] = ()) -> WorkspaceConfig:
    """The configuration of the workspace at ``root``.

    Reads the optional ``promptgen.toml`` at the root (``plan_roots = [...]``,
    ``templates_dir = "..."``), then adds ``extra_plan_roots`` (e.g. from the
    command line). Raises :class:`ConfigError` with a message that says how to
    fix the file. ``root`` is a str or a path-like; the configuration holds it
    as an absolute str.
    """
    root = os.path.abspath(os.fspath(root))
    plan_roots: list[str] = list(DEFAULT_PLAN_ROOTS)
    templates_dir = DEFAULT_TEMPLATES_DIR
    cfg_path = os.path.join(root, CONFIG_FILE)
    if os.path.isfile(cfg_path):
        import tomllib  # only when there is a config file: ~3 ms to import

        try:
            with open(cfg_path, encoding="utf-8") as f:
                data = tomllib.loads(f.read())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{CONFIG_FILE}: not valid TOML ({exc}); fix the syntax, e.g. "
                              f'plan_roots = ["work-space/plans", "work-space/backlog-plans"]') from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{CONFIG_FILE}: cannot be read ({exc}); make it a readable UTF-8 file") from None
        unknown = sorted(set(data) - {"plan_roots", "templates_dir"})
        if unknown:
            raise ConfigError(f"{CONFIG_FILE}: unknown setting(s) {', '.join(unknown)}; "
                              f"the known settings are plan_roots and templates_dir")
        if "plan_roots" in data:
            value = data["plan_roots"]
            if not isinstance(value, list) or not value:
                raise ConfigError(f'{CONFIG_FILE}: plan_roots must be a non-empty list of folders, e.g. '
                                  f'plan_roots = ["work-space/plans", "work-space/backlog-plans"]')
            plan_roots = [_relative(root, v, f"{CONFIG_FILE}: plan_roots") for v in value]
        if "templates_dir" in data:
            templates_dir = _relative(root, data["templates_dir"], f"{CONFIG_FILE}: templates_dir")
    for extra in extra_plan_roots:
        plan_roots.append(_relative(root, extra, "plan root"))
    return WorkspaceConfig(root=root, plan_roots=tuple(dict.fromkeys(plan_roots)), templates_dir=templates_dir)


# -- the graph ---------------------------------------------------------------------------
RULES: dict[str, Rule] = graph.RULES


def graph_roots(config: WorkspaceConfig) -> list[NodeSpec]:
    """The root nodes for the engine: plan-root walkers and the templates."""
    return graph.roots(config.plan_roots, config.templates_dir)


def rules_digest() -> str:
    """Stable hash of every rule's kind and version (changes when code changes)."""
    return graph.rules_digest()


# -- reports -----------------------------------------------------------------------------
def plan_reports(values: Mapping[str, JSON]) -> list[dict]:
    """One report per plan, sorted by ``plan_file``.

    ``values`` holds every derived node's value after a build. Each report has
    the spec §8 fields plus ``folder`` (the plan folder's name), ``prompt`` (the
    rendered text of the plan's prompt) and ``exit_code`` (1 when the plan has
    no achievements or its prompt is otherwise unusable, else 0).
    """
    reports = []
    preload = getattr(values, "preload", None)  # a store-backed mapping: one query, not one per plan
    if preload is not None:
        preload([k for k in values if k.startswith(("state:", "prompt:"))])
    for key in values:  # keys only: a store-backed mapping loads values on demand
        if not key.startswith("state:"):
            continue
        report = _report(values, key[len("state:"):])
        if report is not None:
            reports.append(report)
    reports.sort(key=lambda r: r["plan_file"])
    return reports


def plan_report(values: Mapping[str, JSON], plan_file: str) -> dict:
    """The report of one plan (as in :func:`plan_reports`), reading only its own values."""
    report = _report(values, plan_file)
    if report is None:
        raise KeyError(plan_file)
    return report


def _report(values: Mapping[str, JSON], pf: str) -> Optional[dict]:
    state = values[f"state:{pf}"]
    if not isinstance(state, dict):
        return None
    prompt = values.get(f"prompt:{pf}")
    text = prompt.get("text") if isinstance(prompt, dict) else None
    exit_code = 1 if (state.get("problem") or text is None) else 0
    return {
        "feature": state["feature"],
        "plan_file": state["plan_file"],
        "plan_state": state["plan_state"],
        "current": state["current"],
        "available": list(state["available"]),
        "achievements": [{"number": a["number"], "title": a["title"], "state": a["state"]}
                         for a in state["achievements"]],
        "warnings": [{"kind": w["kind"], "message": w["message"], "path": w["path"]} for w in state["warnings"]],
        "folder": state["folder_name"],
        "prompt": text if text is not None else "",
        "exit_code": exit_code,
    }


def status_document(root: PathArg, reports: Sequence[Mapping[str, Any]]) -> dict:
    """The ``promptgen status --json`` object (spec §8)."""
    return {
        "workspace": os.path.abspath(os.fspath(root)),
        "plans": [{k: r[k] for k in STATUS_FIELDS} for r in sorted(reports, key=lambda r: r["plan_file"])],
    }


# -- selection ---------------------------------------------------------------------------
def select_plan(reports: Sequence[dict], selector: str, *, root: Optional[PathArg] = None,
                cwd: Optional[PathArg] = None) -> dict:
    """The report a selector names: ``@X`` (spec §1) or a path to a PLAN file.

    See :mod:`.selection` (shared with the CLI's no-op fast path).
    """
    return select(reports, selector, None if root is None else os.fspath(root),
                  None if cwd is None else os.fspath(cwd))


def _sibling_plans(values: Mapping[str, JSON], folder: str, plan_file: str) -> list[dict]:
    """``plan:`` values of the other plans directly in ``folder``."""
    prefix = f"plan:{folder}/"
    return [values[k] for k in values
            if k.startswith(prefix) and k != f"plan:{plan_file}" and "/" not in k[len(prefix):]]


# -- explicit achievement -------------------------------------------------------------------
def prompt_for_achievement(values: Mapping[str, JSON], report: Mapping[str, Any], number: str) -> str:
    """The prompt for an explicitly targeted achievement (``--achievement N.M``).

    Computed from the stored node values with the same functions the ``state:``
    and ``prompt:`` nodes use. Raises :class:`SelectionError` listing the
    declared numbers when ``number`` is not declared.
    """
    from . import numbers as num
    from . import state_machine as sm

    pf = report["plan_file"]
    plan = values.get(f"plan:{pf}")
    if not isinstance(plan, dict):
        raise SelectionError(f"{pf} has not been built; run promptgen build", [])
    declared = [a["number"] for a in plan["achievements"]]
    wanted = num.normalize(number) if num.is_number(number) else number.strip()
    if wanted not in declared:
        raise SelectionError(f"Achievement {number} is not declared in {pf}; declared:", declared)
    folder = plan["folder"]
    analysis = sm.analyze(
        plan,
        values.get(f"subplans:{pf}") or {"files": [], "warnings": []},
        values.get(f"executions:{pf}") or {"files": [], "warnings": []},
        values.get(f"feedback:{folder}") or {"dir": layout.feedbacks_dir(folder), "approved": [], "fix": {},
                                             "resolution": [], "skipped": [], "warnings": []},
        values.get(f"parallel:{folder}"),
        siblings=_sibling_plans(values, folder, pf),
    )
    state = sm.state_value(analysis, target=wanted)
    template = values.get(f"template:{state['template']}")
    if not isinstance(template, dict):
        template = prompts.template_value(state["template"], "", {"error": "missing"})
    return prompts.render(state, template)
