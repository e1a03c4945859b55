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
    """A finished build and the per-plan answers derived from it."""

    __slots__ = ("outcome", "reports")

    def __init__(self, outcome: Outcome, reports: list[dict[str, Any]]) -> None:
        self.outcome = outcome
        self.reports = reports

    @property
    def result(self):
        return self.outcome.result


def build(ws: Workspace, *, force: bool = False, wait: bool = True,
          on_wait: Optional[Callable[[Optional[int]], None]] = None,
          known_stamps: Optional[dict[str, Any]] = None) -> Built:
    """Run an incremental build of every plan and collect the reports.

    ``known_stamps``: what the no-op check just stat'ed (not stat'ed again)."""
    from promptgen.nodes import api

    config = ws.config or api.load_config(ws.root, ws.extra_plan_roots)
    session = SessionConfig(
        root=ws.root,
        store_dir=ws.store_dir,
        snapshot_key=fast.snapshot_key(ws.root, ws.store_dir, ws.extra_plan_roots),
        extra_paths=code_paths() + [ws.config_path],
    )
    reports_box: dict[str, list[dict[str, Any]]] = {}

    def reports_of(result) -> list[dict[str, Any]]:
        if "r" not in reports_box:
            reports_box["r"] = api.plan_reports(result.values)
        return reports_box["r"]

    def payload(result) -> dict[str, Any]:
        return make_payload(ws, result, reports_of(result))

    def prompt_metrics(result) -> list[metrics.Increment]:
        return _prompt_metrics(result, reports_of(result))

    from .progress import SlowBuildProgress

    progress = SlowBuildProgress()
    try:
        outcome = run(session, api.graph_roots(config), api.RULES, force=force, wait=wait, on_wait=on_wait,
                      payload=payload, extra_metrics=prompt_metrics, progress=progress,
                      known_stamps=None if force else known_stamps)
    finally:
        progress.close()
    return Built(outcome, reports_of(outcome.result))


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
                  known_stamps=getattr(ns, "observed_stamps", None))
    for w in built.outcome.warnings:
        warn(w)
    return ws, built


def _prompt_metrics(result, reports: list[dict[str, Any]]) -> list[metrics.Increment]:
    """promptgen_prompt_generation_*: one per plan prompt, generated or served from cache."""
    state_of = {f"prompt:{r['plan_file']}": (r.get("current") or {}).get("state") or r["plan_state"] for r in reports}
    out = []
    for d in result.decisions:
        if d.kind != "prompt":
            continue
        state = state_of.get(d.key, "unknown")
        if d.status == "reused":
            out.append(metrics.counter("promptgen_prompt_generation_total", state=state, status="cached"))
        else:
            out.append(metrics.counter("promptgen_prompt_generation_total", state=state, status="generated"))
            out.append(metrics.observe("promptgen_prompt_generation_duration_seconds", d.wall_s))
    return out


def make_payload(ws: Workspace, result, reports: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """What the fast path prints on a no-op: the build summary and a plan index in the
    snapshot, every plan's prompt in its side file (only ``next`` loads those)."""
    payload = {
        "plans": [
            {
                "feature": r["feature"],
                "folder": r["folder"],
                "plan_file": r["plan_file"],
                "plan_state": r["plan_state"],
                "state": (r.get("current") or {}).get("state"),
                "exit_code": r["exit_code"],
                "warnings": [format_warning(w) for w in r["warnings"]],
            }
            for r in reports
        ],
        "nodes": result.counters.nodes,
        "sources": len(result.sources),
        "warning_count": sum(len(r["warnings"]) for r in reports),
    }
    return payload, {r["plan_file"]: r["prompt"] for r in reports}


def format_warning(w: dict[str, Any]) -> str:
    where = f" [{w['path']}]" if w.get("path") and w["path"] not in w["message"] else ""
    return f"warning ({w['kind']}): {w['message']}{where}"


def build_json(built: Built, extra: Optional[dict[str, Any]] = None) -> str:
    data = summary(built.result)
    data["plans"] = len(built.reports)
    data["warnings"] = built.outcome.warnings
    data.update(extra or {})
    return json.dumps(data)  # one line, as the fast path prints it


def summary_line(built: Built) -> str:
    r = built.result
    c = r.counters
    nwarn = sum(len(p["warnings"]) for p in built.reports)
    return fast.format_summary(len(built.reports), c.nodes, c.recomputed, c.reused, c.cut_off,
                               r.duration_s, nwarn, r.mode)
