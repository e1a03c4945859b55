"""From command-line options to a built workspace: root, store, build, answers.

The CLI's only glue between ``promptgen.nodes`` (what a workspace means) and
``promptgen.engine.session`` (how a build runs). Everything a no-op must be able
to print later is put into the fast-path payload here.
"""

from __future__ import annotations

import json
import os

from promptgen.engine import metrics
from promptgen.engine.session import Outcome, SessionConfig, run, summary

from . import fast

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and dataclasses cost ~20 ms: more than an edit's build
    from typing import Any, Callable, Optional, Sequence

STORE_DIRNAME = ".promptgen"


class UsageError(Exception):
    """Reported as a one-line message with exit code 2."""


class Workspace:
    """A located workspace: its root, its store, its plan roots and configuration
    (``config`` is the nodes' WorkspaceConfig, read once)."""

    __slots__ = ("root", "store_dir", "plan_roots", "extra_plan_roots", "config")

    def __init__(self, root: str, store_dir: str, plan_roots: tuple[str, ...],
                 extra_plan_roots: tuple[str, ...], config: Any = None) -> None:
        self.root = root
        self.store_dir = store_dir
        self.plan_roots = plan_roots
        self.extra_plan_roots = extra_plan_roots
        self.config = config

    @property
    def config_path(self) -> str:
        return os.path.join(self.root, "promptgen.toml")


def locate(workspace: Optional[str], plan_roots: Sequence[str] = (), store: Optional[str] = None) -> Workspace:
    """Resolve ``--workspace`` (or search upward from the cwd) and the config."""
    from promptgen.nodes import api

    root = fast.find_root(workspace)
    if root is None:
        if workspace:
            raise UsageError(f"{workspace} is not a workspace: it has no work-space/ folder")
        raise UsageError(
            "no workspace found: looked for a work-space/ folder in the current directory "
            "and its parents; run inside a workspace or pass --workspace PATH"
        )
    try:
        config = api.load_config(root, tuple(plan_roots))
    except api.ConfigError as exc:
        raise UsageError(str(exc)) from None
    return Workspace(
        root=root,
        store_dir=fast.store_dir(root, store),
        plan_roots=tuple(config.plan_roots),
        extra_plan_roots=tuple(plan_roots),
        config=config,
    )


def code_paths() -> list[str]:
    """promptgen's own files: a change to them (an upgrade) invalidates the snapshot."""
    import promptgen
    import promptgen.cli
    import promptgen.engine
    import promptgen.nodes

    paths = []
    for pkg in (promptgen, promptgen.engine, promptgen.nodes, promptgen.cli):
        folder = os.path.dirname(os.path.abspath(pkg.__file__))
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            paths.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith((".py", ".md")))
    return sorted(set(paths))


class Built:
    """A finished build and the per-plan answers derived from it.

    ``plans`` is the plan index the fast path answers from (one entry per plan:
    feature, folder, plan_file, plan_state, state, exit_code, warnings as
    printed) and ``prompts`` every plan's prompt text by plan file — what plain
    ``build`` and ``next`` print. ``reports`` are the full plan reports
    (achievements, current, available…), computed on first use: after a
    targeted build the index is patched from the last one instead.
    """

    __slots__ = ("outcome", "plans", "prompts", "_reports")

    def __init__(self, outcome: Outcome, plans: list[dict[str, Any]], prompts: dict[str, str],
                 reports: Optional[list[dict[str, Any]]] = None) -> None:
        self.outcome = outcome
        self.plans = plans
        self.prompts = prompts
        self._reports = reports

    @property
    def result(self):
        return self.outcome.result

    @property
    def reports(self) -> list[dict[str, Any]]:
        if self._reports is None:
            from promptgen.nodes import api

            self._reports = api.plan_reports(self.result.values)
        return self._reports

    def report(self, plan_file: str) -> dict[str, Any]:
        """The full report of one plan (without computing every plan's)."""
        if self._reports is None:
            from promptgen.nodes import api

            return api.plan_report(self.result.values, plan_file)
        return next(r for r in self._reports if r["plan_file"] == plan_file)


class _Answers:
    """The answers of one build, made once: from the full reports, or — after
    a targeted build — by patching the last snapshot's index with the plans
    whose state or prompt changed."""

    def __init__(self, ws: Workspace, observation: Any) -> None:
        self.ws = ws
        self.observation = observation
        self.done: Optional[tuple[Any, Any, Any, Any]] = None  # plans, prompts, reports, result

    def of(self, outcome_or_result: Any) -> tuple[list[dict[str, Any]], dict[str, str], Optional[list]]:
        result = getattr(outcome_or_result, "result", outcome_or_result)
        if self.done is None or self.done[3] is not result:
            self.done = (*self._make(result), result)
        return self.done[0], self.done[1], self.done[2]

    def _make(self, result: Any) -> tuple[list[dict[str, Any]], dict[str, str], Optional[list]]:
        from promptgen.nodes import api

        patched = self._patched(result) if result.targeted else None
        if patched is not None:
            return patched[0], patched[1], None
        reports = api.plan_reports(result.values)
        return [plan_entry(r) for r in reports], {r["plan_file"]: r["prompt"] for r in reports}, reports

    def _patched(self, result: Any) -> Optional[tuple[list[dict[str, Any]], dict[str, str]]]:
        from promptgen.engine import fastpath
        from promptgen.nodes import api

        obs = self.observation
        last = obs.payload if obs is not None else None
        blobs = fastpath.load_blobs(self.ws.store_dir, last) if last is not None else None
        if blobs is None:
            return None
        changed = {d.key.split(":", 1)[1] for d in result.decisions
                   if d.status == "ran" and d.kind in ("state", "prompt")}
        plans = []
        prompts = dict(blobs["prompts"])
        for entry in blobs["plans"]:
            pf = entry["plan_file"]
            if pf in changed:
                report = api.plan_report(result.values, pf)
                entry = plan_entry(report)
                prompts[pf] = report["prompt"]
            plans.append(entry)
        return plans, prompts


def build(ws: Workspace, *, force: bool = False, wait: bool = True,
          on_wait: Optional[Callable[[Optional[int]], None]] = None,
          observation: Any = None) -> Built:
    """Run an incremental build of every plan and collect the answers.

    ``observation``: what the no-op check saw (a fastpath.Observation): its
    stamps are not stat'ed again, and the build is targeted at what changed."""
    from promptgen.nodes import api

    config = ws.config or api.load_config(ws.root, ws.extra_plan_roots)
    session = SessionConfig(
        root=ws.root,
        store_dir=ws.store_dir,
        snapshot_key=fast.snapshot_key(ws.root, ws.store_dir, ws.extra_plan_roots),
        extra_paths=lambda: code_paths() + [ws.config_path],
    )
    answers = _Answers(ws, None if force else observation)

    def payload(result) -> tuple[dict[str, Any], dict[str, Any]]:
        plans, prompts, _ = answers.of(result)
        return make_payload(result, plans, prompts)

    def prompt_metrics(result) -> list[metrics.Increment]:
        return _prompt_metrics(result, answers.of(result)[0])

    from .progress import SlowBuildProgress

    progress = SlowBuildProgress()
    try:
        outcome = run(session, api.graph_roots(config), api.RULES, force=force, wait=wait, on_wait=on_wait,
                      payload=payload, extra_metrics=prompt_metrics, progress=progress,
                      observation=None if force else observation)
    finally:
        progress.close()
    plans, prompts, reports = answers.of(outcome.result)
    return Built(outcome, plans, prompts, reports)


def build_observed(ws: Workspace, **kw: Any) -> Built:
    """:func:`build` after the no-op check a command line runs first: for a
    long-lived caller (``promptgen watch``), so that its builds after an edit are
    targeted at what changed too."""
    from promptgen.engine import fastpath

    observation = fastpath.Observation()
    fastpath.load(ws.store_dir, fast.snapshot_key(ws.root, ws.store_dir, ws.extra_plan_roots), observation)
    return build(ws, observation=observation, **kw)


def on_wait(pid: Optional[int]) -> None:
    """Told that another process holds the build lock: say who, then wait."""
    from .output import info

    who = f"process {pid}" if pid else "another promptgen process"
    info(f"promptgen: waiting for {who} to finish its build…")


def build_for(ns: Any, *, force: bool = False) -> tuple[Workspace, Built]:
    """What build, next and status share: find the workspace, build it (waiting
    for another build unless --no-wait, saying whose), print the store's warnings."""
    from .output import warn

    ws = locate(ns.workspace, ns.plan_root, ns.store)
    built = build(ws, force=force, wait=not ns.no_wait, on_wait=on_wait,
                  observation=getattr(ns, "observation", None))
    for w in built.outcome.warnings:
        warn(w)
    return ws, built


def _prompt_metrics(result, plans: list[dict[str, Any]]) -> list[metrics.Increment]:
    """promptgen_prompt_generation_*: one per plan prompt, generated or served from cache."""
    ran = {d.key: d for d in result.decisions if d.kind == "prompt" and d.status != "reused"}
    cached: dict[str, int] = {}
    out = []
    for p in plans:
        state = served_state(p)
        d = ran.get(f"prompt:{p['plan_file']}")
        if d is None:
            cached[state] = cached.get(state, 0) + 1
        else:
            out.append(metrics.counter("promptgen_prompt_generation_total", state=state, status="generated"))
            out.append(metrics.observe("promptgen_prompt_generation_duration_seconds", d.wall_s))
    for state, n in sorted(cached.items()):  # one increment per state, not per plan
        out.append(metrics.counter("promptgen_prompt_generation_total", n, state=state, status="cached"))
    return out


def served_state(entry: dict[str, Any]) -> str:
    """The state a plan's prompt is served for (its metrics label): the current
    achievement's, else the plan's."""
    return entry["state"] or entry["plan_state"]


def plan_entry(report: dict[str, Any]) -> dict[str, Any]:
    """A plan's entry in the index the fast path answers from."""
    return {
        "feature": report["feature"],
        "folder": report["folder"],
        "plan_file": report["plan_file"],
        "plan_state": report["plan_state"],
        "state": (report.get("current") or {}).get("state"),
        "exit_code": report["exit_code"],
        "warnings": [format_warning(w) for w in report["warnings"]],
    }


def make_payload(result, plans: list[dict[str, Any]], prompts: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
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


def format_warning(w: dict[str, Any]) -> str:
    where = f" [{w['path']}]" if w.get("path") and w["path"] not in w["message"] else ""
    return f"warning ({w['kind']}): {w['message']}{where}"


def build_json(built: Built, extra: Optional[dict[str, Any]] = None) -> str:
    data = summary(built.result)
    data["plans"] = len(built.plans)
    data["warnings"] = built.outcome.warnings
    data.update(extra or {})
    return json.dumps(data)  # one line, as the fast path prints it


def summary_line(built: Built) -> str:
    r = built.result
    c = r.counters
    nwarn = sum(len(p["warnings"]) for p in built.plans)
    return fast.format_summary(len(built.plans), c.nodes, c.recomputed, c.reused, c.cut_off,
                               r.duration_s, nwarn, r.mode)
