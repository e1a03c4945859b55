"""A workspace as a program sees it: find it, build it, ask it what comes next.

The one place that puts the domain (``promptgen.nodes``: what a workspace means)
and the engine (``promptgen.engine.session``: how a build runs, is stored and
is answered next time without running) together. The command line, the MCP
server and library users all come here::

    ws = Workspace.locate("path/to/project")
    ws.status()              # the status document (the ``status --json`` contract)
    ws.next_prompt("@X")     # the next prompt of one plan
    ws.warnings()            # every plan's warnings

Every question runs an incremental build first, under the store's lock, so the
answer is the one the files on disk give now. A long-lived caller (``watch``,
the MCP server) keeps one ``Workspace``: its builds after an edit are targeted
at what changed, with the engine, the store's module and the parsers already
loaded. Nothing here prints.
"""

from __future__ import annotations

import os

from promptgen.engine import metrics
from promptgen.engine.session import Outcome, SessionConfig, run, summary

from . import locate as loc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence

    from promptgen.engine.build import BuildResult
    from promptgen.engine.fastpath import Observation
    from promptgen.engine.store import Store
    from promptgen.nodes.config import WorkspaceConfig
    from promptgen.nodes.values import PlanEntry, PlanReport, PlanWarning, Warning


class WorkspaceError(Exception):
    """The workspace cannot be used as asked (none found, a bad ``promptgen.toml``,
    nothing built yet); the message says how to fix it."""


class NextPrompt:
    """The next prompt of one plan: its text, the plan's index entry (feature,
    plan file, states, warnings as printed), and the exit code the command line
    gives it (1 when the plan has no usable prompt, e.g. no achievements)."""

    __slots__ = ("text", "plan", "exit_code")

    def __init__(self, text: str, plan: PlanEntry, exit_code: int) -> None:
        self.text = text
        self.plan = plan
        self.exit_code = exit_code

    def __repr__(self) -> str:
        return f"NextPrompt(plan={self.plan['plan_file']!r}, exit_code={self.exit_code!r})"


class Workspace:
    """A located workspace: its root, its store and its configuration (read once)."""

    __slots__ = ("root", "store_dir", "extra_plan_roots", "config")

    def __init__(self, root: str, store_dir: str, extra_plan_roots: tuple[str, ...],
                 config: WorkspaceConfig) -> None:
        self.root = root
        self.store_dir = store_dir
        self.extra_plan_roots = extra_plan_roots
        self.config = config

    @classmethod
    def locate(cls, workspace: Optional[str] = None, plan_roots: Sequence[str] = (),
               store: Optional[str] = None) -> Workspace:
        """``workspace`` (a folder holding ``work-space/``), else the nearest such
        ancestor of the current directory; ``plan_roots`` add to the configured
        ones; ``store`` overrides ``<root>/.promptgen``."""
        from promptgen.nodes.config import ConfigError, load_config

        root = loc.find_root(workspace)
        if root is None:
            if workspace:
                raise WorkspaceError(f"{workspace} is not a workspace: it has no {loc.WORKSPACE_DIR}/ folder")
            raise WorkspaceError(
                f"no workspace found: looked for a {loc.WORKSPACE_DIR}/ folder in the current directory "
                "and its parents; run inside a workspace or pass --workspace PATH"
            )
        try:
            config = load_config(root, tuple(plan_roots))
        except ConfigError as exc:
            raise WorkspaceError(str(exc)) from None
        return cls(root, loc.store_dir(root, store), tuple(plan_roots), config)

    @property
    def plan_roots(self) -> tuple[str, ...]:
        return self.config.plan_roots

    @property
    def config_path(self) -> str:
        return os.path.join(self.root, loc.CONFIG_FILE)

    @property
    def snapshot_key(self) -> str:
        return loc.snapshot_key(self.root, self.store_dir, self.extra_plan_roots)

    # -- building ----------------------------------------------------------------
    def build(self, *, force: bool = False, wait: bool = True,
              on_wait: Optional[Callable[[Optional[int]], None]] = None,
              progress: Optional[Callable[[int, int], None]] = None,
              observation: Optional[Observation] = None,
              answers: Optional[tuple[list[PlanEntry], dict[str, str]]] = None) -> Built:
        """An incremental build of every plan, and the answers it gives.

        ``observation``: what a no-op check just saw (see
        ``fastpath.Observation``): its stamps are not stat'ed again, and the
        build is targeted at what changed. ``answers``: the plan index and
        prompts of the stored state that observation was taken against, held
        in memory by a long-lived caller (the MCP server); a targeted build
        patches them instead of reading them back from the snapshot's side
        file. ``wait``: False raises ``LockBusy`` when another process is building."""
        return _build(self, force=force, wait=wait, on_wait=on_wait, progress=progress,
                      observation=None if force else observation, last=answers)

    def build_observed(self, **kw: Any) -> Built:
        """:meth:`build` after the same no-op check a command line runs first, for
        a long-lived caller: its builds after an edit are targeted too."""
        from promptgen.engine import fastpath

        observation = fastpath.Observation()
        fastpath.load(self.store_dir, self.snapshot_key, observation)
        return self.build(observation=observation, **kw)

    # -- questions ---------------------------------------------------------------
    def status(self, **build_kw: Any) -> dict[str, Any]:
        """The status document: every plan's state, current and available
        achievements, every achievement's state, warnings."""
        from promptgen.nodes.reports import status_document

        built = self.build_observed(**build_kw)
        try:
            return status_document(self.root, built.reports)
        finally:
            built.outcome.close()

    def next_prompt(self, selector: str, achievement: Optional[str] = None, *, cwd: Optional[str] = None,
                    **build_kw: Any) -> NextPrompt:
        """The next prompt of the plan ``selector`` names (``@NAME`` or a PLAN
        file path), or of its achievement ``achievement``. Raises
        ``SelectionError`` (with the candidates) for an unknown or ambiguous
        plan or an undeclared achievement."""
        built = self.build_observed(**build_kw)
        try:
            return built.next_prompt(selector, achievement, cwd=cwd)
        finally:
            built.outcome.close()

    def warnings(self, **build_kw: Any) -> list[PlanWarning]:
        """Every plan's warnings, with the plan and the remedy (see :meth:`Built.warnings`)."""
        built = self.build_observed(**build_kw)
        try:
            return built.warnings()
        finally:
            built.outcome.close()

    def read_store(self) -> ReadOnlyStore:
        """The store for reading (``with ws.read_store() as store``): None when
        nothing was built yet or it is damaged (``.problem`` says so). Never writes."""
        return ReadOnlyStore(self.store_dir)


class ReadOnlyStore:
    """Context manager around ``Store.open_readonly``: views never write; a
    damaged store is the next build's to replace."""

    def __init__(self, store_dir: str) -> None:
        self.store_dir = store_dir
        self.store: Optional[Store] = None
        self.problem: Optional[str] = None

    def __enter__(self) -> Optional[Store]:
        from promptgen.engine.store import Store, StoreDamaged, StoreUnavailable

        try:
            self.store = Store.open_readonly(self.store_dir)
        except StoreUnavailable:
            return None
        except StoreDamaged as exc:
            self.problem = f"the store in {self.store_dir} is damaged ({exc}); `promptgen build` will rebuild it"
            return None
        return self.store

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def code_paths() -> list[str]:
    """promptgen's own files: a change to them (an upgrade) invalidates the snapshot."""
    import promptgen
    import promptgen.cli
    import promptgen.engine
    import promptgen.nodes

    folders = [p for pkg in (promptgen, promptgen.engine, promptgen.nodes, promptgen.cli) for p in pkg.__path__]
    paths: list[str] = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            paths.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith((".py", ".md")))
    return sorted(set(paths))


class Built:
    """A finished build and the per-plan answers derived from it.

    ``plans`` is the plan index the fast path answers from (one entry per plan:
    feature, folder name, plan_file, plan_state, state, exit_code, warnings as
    printed) and ``prompts`` every plan's prompt text by plan file — what plain
    ``build`` and ``next`` print. ``reports`` are the full plan reports
    (achievements, current, available…), computed on first use: after a
    targeted build the index is patched from the last one instead.
    """

    __slots__ = ("root", "outcome", "plans", "prompts", "_reports")

    def __init__(self, root: str, outcome: Outcome, plans: list[PlanEntry], prompts: dict[str, str],
                 reports: Optional[list[PlanReport]] = None) -> None:
        self.root = root
        self.outcome = outcome
        self.plans = plans
        self.prompts = prompts
        self._reports = reports

    @property
    def result(self) -> BuildResult:
        return self.outcome.result

    @property
    def reports(self) -> list[PlanReport]:
        if self._reports is None:
            from promptgen.nodes.reports import plan_reports

            self._reports = plan_reports(self.result.values)
        return self._reports

    def report(self, plan_file: str) -> PlanReport:
        """The full report of one plan (without computing every plan's)."""
        if self._reports is None:
            from promptgen.nodes.reports import plan_report

            return plan_report(self.result.values, plan_file)
        return next(r for r in self._reports if r["plan_file"] == plan_file)

    def warnings(self) -> list[PlanWarning]:
        """Every plan's warnings in plan order: ``plan_file``, ``feature``, ``kind``,
        ``message``, ``path`` and ``remedy`` (how to make it go away)."""
        from promptgen.nodes.reports import plan_warnings

        return plan_warnings(self.reports)

    def select(self, selector: str, cwd: Optional[str] = None) -> PlanEntry:
        """The plan ``selector`` names (``@NAME`` or a PLAN file path); ``SelectionError`` if none or several."""
        from promptgen.nodes.selection import select

        return select(self.plans, selector, self.root, os.getcwd() if cwd is None else cwd)

    def next_prompt(self, selector: str, achievement: Optional[str] = None, *,
                    cwd: Optional[str] = None) -> NextPrompt:
        """See :meth:`Workspace.next_prompt`."""
        plan = self.select(selector, cwd)
        if achievement is None:
            return NextPrompt(self.prompts[plan["plan_file"]], plan, plan["exit_code"])
        from promptgen.nodes.reports import prompt_for_achievement
        from promptgen.nodes.selection import SelectionError

        report = self.report(plan["plan_file"])
        parts = achievement.split(".")
        if len(parts) < 2 or not all(x.isdigit() for x in parts):
            raise SelectionError(f"--achievement takes an achievement number such as 1.2, not {achievement!r}; "
                                 f"{plan['plan_file']} declares:", [a["number"] for a in report["achievements"]])
        return NextPrompt(prompt_for_achievement(self.result.values, report, achievement), plan, 0)


class _Answers:
    """The answers of one build, made once: from the full reports, or — after
    a targeted build — by patching the last snapshot's index with the plans
    whose state or prompt changed."""

    def __init__(self, ws: Workspace, observation: Optional[Observation],
                 last: Optional[tuple[list[PlanEntry], dict[str, str]]] = None) -> None:
        self.ws = ws
        self.observation = observation
        self.last = last
        self.done: Optional[tuple[Any, Any, Any, Any]] = None  # plans, prompts, reports, result

    def of(self, result: BuildResult) -> tuple[list[PlanEntry], dict[str, str], Optional[list[PlanReport]]]:
        if self.done is None or self.done[3] is not result:
            self.done = (*self._make(result), result)
        return self.done[0], self.done[1], self.done[2]

    def _make(self, result: BuildResult) -> tuple[list[PlanEntry], dict[str, str], Optional[list[PlanReport]]]:
        from promptgen.nodes.reports import plan_reports

        patched = self._patched(result) if result.targeted else None
        if patched is not None:
            return patched[0], patched[1], None
        reports = plan_reports(result.values)
        return [plan_entry(r) for r in reports], {r["plan_file"]: r["prompt"] for r in reports}, reports

    def _patched(self, result: BuildResult) -> Optional[tuple[list[PlanEntry], dict[str, str]]]:
        from promptgen.engine import fastpath
        from promptgen.nodes.reports import changed_plans, plan_report

        obs = self.observation
        last = obs.payload if obs is not None else None
        if self.last is not None:
            blobs: Optional[dict[str, Any]] = {"plans": self.last[0], "prompts": self.last[1]}
        else:
            blobs = fastpath.load_blobs(self.ws.store_dir, last) if last is not None else None
        if blobs is None:
            return None
        changed = changed_plans(result.decisions)
        plans = []
        prompts = dict(blobs["prompts"])
        for entry in blobs["plans"]:
            pf = entry["plan_file"]
            if pf in changed:
                report = plan_report(result.values, pf)
                entry = plan_entry(report)
                prompts[pf] = report["prompt"]
            plans.append(entry)
        return plans, prompts


def _build(ws: Workspace, *, force: bool, wait: bool, on_wait: Optional[Callable[[Optional[int]], None]],
           progress: Optional[Callable[[int, int], None]], observation: Optional[Observation],
           last: Optional[tuple[list[PlanEntry], dict[str, str]]] = None) -> Built:
    from promptgen.nodes import rules

    session = SessionConfig(
        root=ws.root,
        store_dir=ws.store_dir,
        snapshot_key=ws.snapshot_key,
        extra_paths=lambda: code_paths() + [ws.config_path],
    )
    answers = _Answers(ws, observation, last)

    def payload(result: BuildResult) -> tuple[dict[str, Any], dict[str, Any]]:
        plans, prompts, _ = answers.of(result)
        return make_payload(result, plans, prompts)

    def prompt_metrics(result: BuildResult) -> list[metrics.Increment]:
        return _prompt_metrics(result, answers.of(result)[0])

    outcome = run(session, rules.roots(ws.config), rules.RULES, force=force, wait=wait, on_wait=on_wait,
                  payload=payload, extra_metrics=prompt_metrics, progress=progress, observation=observation)
    plans, prompts, reports = answers.of(outcome.result)
    return Built(ws.root, outcome, plans, prompts, reports)


def _prompt_metrics(result: BuildResult, plans: list[PlanEntry]) -> list[metrics.Increment]:
    """promptgen_prompt_generation_*: one per plan prompt, generated or served from cache."""
    from promptgen.nodes.reports import prompt_timings

    ran = prompt_timings(result.decisions)
    cached: dict[str, int] = {}
    out = []
    for p in plans:
        state = served_state(p)
        wall_s = ran.get(p["plan_file"])
        if wall_s is None:
            cached[state] = cached.get(state, 0) + 1
        else:
            out.append(metrics.counter("promptgen_prompt_generation_total", state=state, status="generated"))
            out.append(metrics.observe("promptgen_prompt_generation_duration_seconds", wall_s))
    for state, n in sorted(cached.items()):  # one increment per state, not per plan
        out.append(metrics.counter("promptgen_prompt_generation_total", n, state=state, status="cached"))
    return out


def served_state(entry: PlanEntry) -> str:
    """The state a plan's prompt is served for (its metrics label): the current
    achievement's, else the plan's."""
    return entry["state"] or entry["plan_state"]


def plan_entry(report: PlanReport) -> PlanEntry:
    """A plan's entry in the index the fast path answers from."""
    return {
        "feature": report["feature"],
        "folder_name": report["folder_name"],
        "plan_file": report["plan_file"],
        "plan_state": report["plan_state"],
        "state": report["current"]["state"] if report["current"] else None,
        "exit_code": report["exit_code"],
        "warnings": [format_warning(w) for w in report["warnings"]],
    }


def make_payload(result: BuildResult, plans: list[PlanEntry],
                 prompts: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the fast path prints on a no-op: the build summary in the snapshot (all a
    no-op ``build`` loads), the plan index and every plan's prompt in its side file
    (what ``next`` needs)."""
    states: dict[str, int] = {}
    for p in plans:
        state = served_state(p)
        states[state] = states.get(state, 0) + 1
    payload = {
        "plan_count": len(plans),
        "states": states,
        "nodes": result.counters.nodes,
        "sources": result.source_count,
        "warning_count": sum(len(p["warnings"]) for p in plans),
    }
    return payload, {"plans": plans, "prompts": prompts}


def format_warning(w: Warning) -> str:
    """A warning as one printed line: ``warning (kind): message [path]``."""
    path = w.get("path")
    where = f" [{path}]" if path and path not in w["message"] else ""
    return f"warning ({w['kind']}): {w['message']}{where}"


def build_summary(built: Built) -> dict[str, Any]:
    """The ``build --json`` document (without extras such as timings)."""
    data = summary(built.result)
    data["plans"] = len(built.plans)
    data["warnings"] = built.outcome.warnings
    return data
