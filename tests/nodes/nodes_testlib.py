"""Test helpers for promptgen.nodes: clean builds of small workspaces, and writers.

The domain is tested through the engine's clean in-memory build
(``build(..., store=None)``): the same reading of files and listings, the same
expansion and scheduling as in use, without a store. Incremental behaviour is
the engine's tests' business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from promptgen.engine.build import build
from promptgen.engine.spec import NodeSpec, Rule


def evaluate(root: Path, roots: list[NodeSpec], rules: Mapping[str, Rule]) -> dict[str, Any]:
    """Values of every derived node of a clean build (expander values as spec JSON)."""
    values = build(str(root), roots, rules, store=None).values
    return {k: values[k] for k in values}


def build_values(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> dict[str, Any]:
    from promptgen.nodes import config, rules

    cfg = config.load_config(root, extra_plan_roots)
    return evaluate(root, rules.roots(cfg), rules.RULES)


def reports(root: Path, extra_plan_roots: tuple[str, ...] = ()) -> list[dict]:
    from promptgen.nodes.reports import plan_reports

    return plan_reports(build_values(root, extra_plan_roots))


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
