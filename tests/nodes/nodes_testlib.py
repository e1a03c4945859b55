"""Test helpers for promptgen.nodes: a tiny evaluator and workspace writers.

Why an evaluator here: the domain graph must be testable on its own, without the
incremental engine (which lives in ``engine/`` and is tested there). This one
evaluates a graph from scratch, the way a clean build would: sources are read
like the engine reads them (UTF-8, BOM removed, newlines normalised, error codes
from ``engine.spec``), derived nodes in dependency order, expanders expanded.
It is deliberately simple and not incremental.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Mapping, Optional

from promptgen.engine.spec import NodeSpec, Rule, is_source, source_path

MAX_FILE_BYTES = 8 * 1024 * 1024


def _inside(root: Path, path: Path) -> bool:
    real = os.path.realpath(path)
    rr = os.path.realpath(root)
    return real == rr or real.startswith(rr + os.sep)


def read_file(root: Path, rel: str) -> dict:
    path = root / rel
    if not os.path.lexists(path):
        return {"error": "missing"}
    if not _inside(root, path):
        return {"error": "outside_root"}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"error": "missing"}
    except OSError:
        return {"error": "unreadable"}
    if not stat.S_ISREG(st.st_mode):
        return {"error": "not_a_file"}
    if st.st_size > MAX_FILE_BYTES:
        return {"error": "too_large"}
    try:
        raw = path.read_bytes()
    except OSError:
        return {"error": "unreadable"}
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": "not_utf8"}
    return {"text": text.replace("\r\n", "\n").replace("\r", "\n")}


def list_dir(root: Path, rel: str) -> Optional[list]:
    path = root / rel if rel not in ("", ".") else root
    if not path.is_dir() or not _inside(root, path):
        return None
    out = []
    with os.scandir(path) as it:
        for e in it:
            try:
                if e.is_symlink():
                    if not _inside(root, Path(e.path)) or not os.path.exists(e.path):
                        out.append([e.name, "x"])
                        continue
                    st = os.stat(e.path)
                    out.append([e.name, "d" if stat.S_ISDIR(st.st_mode) else "f" if stat.S_ISREG(st.st_mode) else "o"])
                elif e.is_dir(follow_symlinks=False):
                    out.append([e.name, "d"])
                elif e.is_file(follow_symlinks=False):
                    out.append([e.name, "f"])
                else:
                    out.append([e.name, "o"])
            except OSError:
                out.append([e.name, "x"])
    return sorted(out)


def evaluate(root: Path, roots: list[NodeSpec], rules: Mapping[str, Rule]) -> dict[str, Any]:
    """Values of every derived node of a clean build (expander values as spec JSON)."""
    root = Path(root)
    specs: dict[str, NodeSpec] = {}
    values: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    pending: list[str] = []

    def add(spec: NodeSpec) -> None:
        old = specs.get(spec.key)
        if old is not None:
            assert old == spec, f"{spec.key} produced twice with different specs"
            return
        specs[spec.key] = spec
        pending.append(spec.key)

    def value(key: str) -> Any:
        if is_source(key):
            if key not in sources:
                rel = source_path(key)
                sources[key] = list_dir(root, rel) if key.startswith("dir:") else read_file(root, rel)
            return sources[key]
        if key not in values:
            compute(key)
        return values[key]

    computing: set[str] = set()

    def compute(key: str) -> None:
        if key not in specs:
            raise KeyError(f"no node produces {key}")
        if key in computing:
            raise RuntimeError(f"cycle through {key}")
        computing.add(key)
        spec = specs[key]
        rule = rules[spec.kind]
        ins = [value(i) for i in spec.inputs]
        out = rule.compute(spec.param, ins)
        if rule.expands:
            values[key] = [c.to_json() for c in out]
            for c in out:
                add(c)
        else:
            values[key] = out
        computing.discard(key)

    for s in roots:
        add(s)
    while pending:
        k = pending.pop(0)
        if k not in values:
            try:
                compute(k)
            except KeyError:
                # an input is produced by an expander not evaluated yet: retry later
                if not pending:
                    raise
                pending.append(k)
    return values


def build_values(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> dict[str, Any]:
    from promptgen.nodes import api

    cfg = api.load_config(root, extra_plan_roots)
    return evaluate(root, api.graph_roots(cfg), api.RULES)


def reports(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> list[dict]:
    from promptgen.nodes import api

    return api.plan_reports(build_values(root, extra_plan_roots))


def write(root: Path, rel: str, text: str = "", *, raw: Optional[bytes] = None) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        p.write_bytes(raw)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def plan_text(numbers: list[str], *, index: bool = True, extra: str = "") -> str:
    """A small PLAN declaring ``numbers`` (Achievement Index + definitions)."""
    lines = ["# PLAN: Demo", ""]
    if index:
        lines += ["## 📋 Achievement Index", ""]
        lines += [f"- Achievement {n}: Title {n}" for n in numbers]
        lines += [""]
    lines += ["## 🎯 Achievements", ""]
    for n in numbers:
        lines += [f"**Achievement {n}**: Title {n}", "", f"Body of {n}.", ""]
    lines.append(extra)
    return "\n".join(lines)


def status_header(status: str, title: str = "Doc") -> str:
    return f"# {title}\n\n**Status**: {status}\n\n## 🎯 Objective\n\nDo the thing.\n\n## 🧭 Approach\n\nStep by step.\n"


class WS:
    """A plan folder being written by a test: small helpers for each artifact."""

    def __init__(self, root: Path, feature: str = "DEMO", folder: Optional[str] = None) -> None:
        self.root = Path(root)
        self.feature = feature
        self.folder = folder or f"work-space/plans/{feature}"
        (self.root / "work-space" / "plans").mkdir(parents=True, exist_ok=True)

    @property
    def plan_file(self) -> str:
        return f"{self.folder}/PLAN_{self.feature}.md"

    def plan(self, numbers: list[str], **kw: Any) -> "WS":
        write(self.root, self.plan_file, plan_text(numbers, **kw))
        return self

    def plan_raw(self, text: str) -> "WS":
        write(self.root, self.plan_file, text)
        return self

    def subplan(self, tok: str, status: str = "📋 Design Phase", planned: Optional[list[str]] = None,
                where: str = "subplans", name: Optional[str] = None, body: str = "") -> str:
        table = ""
        if planned is not None:
            rows = "\n".join(f"| {p} | Planning | EXECUTION_TASK_{self.feature}_{p}.md |" for p in planned)
            table = f"\n## 🔄 Active EXECUTION_TASKs\n\n| Execution | Status | File |\n| --- | --- | --- |\n{rows}\n"
        rel = f"{self.folder}/{where}/{name or f'SUBPLAN_{self.feature}_{tok}.md'}".replace("//", "/")
        write(self.root, rel, status_header(status, "SUBPLAN") + table + body)
        return rel

    def task(self, tok: str, mm: int, status: str = "🔄 In Progress", suffix: str = "",
             where: str = "execution") -> str:
        name = f"EXECUTION_TASK_{self.feature}_{tok}_{mm:02d}{suffix}.md"
        rel = f"{self.folder}/{where}/{name}".replace("//", "/")
        write(self.root, rel, status_header(status, "EXECUTION_TASK"))
        return rel

    def feedback(self, name: str, text: str = "") -> str:
        rel = f"{self.folder}/execution/feedbacks/{name}"
        write(self.root, rel, text)
        return rel

    def approved(self, tok: str) -> str:
        return self.feedback(f"APPROVED_{tok}.md", "Approved.\n")

    def fix(self, tok: str, text: str = "## Issues\n\n### Critical Issues\n\n1. **Broken**: fix it\n") -> str:
        return self.feedback(f"FIX_{tok}.md", text)

    def resolution(self, tok: str) -> str:
        return self.feedback(f"FIX_{tok}_RESOLUTION.md", "Resolved.\n")

    def skipped(self, tok: str) -> str:
        rel = f"{self.folder}/execution/SKIPPED_{tok}.md"
        write(self.root, rel, "")
        return rel

    def parallel(self, deps: dict[str, list[str]], name: str = "parallel.json") -> str:
        import json

        data = {"plan_name": self.feature,
                "achievements": [{"achievement_id": k, "dependencies": v} for k, v in deps.items()]}
        rel = f"{self.folder}/{name}"
        write(self.root, rel, json.dumps(data))
        return rel

    def reports(self, extra_plan_roots: tuple[str, ...] = ()) -> list[dict]:
        return reports(self.root, extra_plan_roots)

    def report(self) -> dict:
        for r in self.reports():
            if r["plan_file"] == self.plan_file:
                return r
        raise AssertionError(f"{self.plan_file} not discovered")

    def states(self) -> dict[str, str]:
        return {a["number"]: a["state"] for a in self.report()["achievements"]}


def kinds(report: dict) -> list[str]:
    return [w["kind"] for w in report["warnings"]]
