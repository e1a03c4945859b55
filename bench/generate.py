"""Deterministic generator of a realistic methodology workspace of N files.

The tree follows the workspace format of docs/USER_GUIDE.md (§2 to §5):
``work-space/plans/[parking/]<F>/PLAN_<F>.md``
with an Achievement Index, ``subplans/SUBPLAN_<F>_<T>.md``, ``execution/EXECUTION_TASK_<F>_<T>_<MM>.md``
(with ``**Status**:`` headers, some revisions ``_V2``), ``execution/feedbacks/APPROVED_<T>.md`` /
``FIX_<T>.md`` / ``FIX_<T>_RESOLUTION.md``, ``execution/SKIPPED_<T>.md``, some ``parallel.json``,
``documentation/`` notes, ``archive/`` copies and zero-byte marker files. Every achievement is
put in one of the states of the state machine (docs/USER_GUIDE.md §6, "States"), so a build has
real work to do.

Same ``(n_files, seed)`` → byte-identical files. Every file and directory gets an old mtime
(an hour ago by default) so that a no-op build right after generation is not skewed by the
"racy clean" re-hashing of files modified in the last moments.

Library: ``generate(root, n_files, seed=0) -> dict`` (stats). Command line:
``python -m bench.generate DIR --files N [--seed S] [--force]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

#: Bump when the output for a given (n_files, seed) changes; cached trees are keyed on it.
GENERATOR_VERSION = 1

_WORDS = (
    "graph node cache store stamp hash prompt plan subplan achievement execution review "
    "feedback approval fix resolution state machine parser index handoff template render "
    "incremental build engine fingerprint trace cutoff dependency parallel workflow agent "
    "methodology workspace folder archive document validation test coverage metric timing "
    "latency throughput pipeline stage extraction entity resolution community detection "
    "observability dashboard query script refactor module interface contract schema "
    "migration deliverable checklist objective approach strategy risk mitigation scope "
    "context boundary focus rule design executor designer reviewer synthesis learning "
    "pattern guide protocol automation discovery batch menu shortcut library integration "
    "logging profiling benchmark baseline regression invariant property fault recovery"
).split()

_FEATURE_WORDS = (
    "GRAPH PROMPT PLAN CACHE ENTITY COMMUNITY EXTRACTION OBSERVABILITY DASHBOARD METRICS "
    "WORKFLOW PARALLEL EXECUTION TAXONOMY VALIDATION STAGE DOMAIN QUERY LOGGING PIPELINE "
    "RESOLUTION STORAGE INDEX SEARCH REVIEW FEEDBACK TEMPLATE ARCHIVE MIGRATION SCHEMA"
).split()

_FEATURE_SUFFIXES = ("REFACTOR", "ENHANCEMENT", "AUTOMATION", "FOUNDATION", "VALIDATION", "CLI", "SYSTEM")

_TITLE_WORDS = (
    "Core Parser Implemented|Test Coverage Established|Schema Defined|Validation Script Created|"
    "Interactive Menu Polished|Documentation Written|Metrics Integrated|Caching Layer Added|"
    "Feedback Detection Implemented|Batch Creation Implemented|Error Handling Hardened|"
    "Performance Optimized|Dashboard Framework Setup|State Detection Added|Library Integrated|"
    "Migration Completed|Query Scripts Validated|Observability Stack Deployed|Examples Added"
).split("|")

# States of the state table (docs/USER_GUIDE.md §6, "The state of one achievement") that the
# generator produces for the current achievement.
_CURRENT_STATES = (
    "no_subplan",
    "no_execution",
    "active_execution",
    "next_execution",
    "all_executed",
    "awaiting_review",
    "needs_fix",
    "fix_resolved",
)
_COMPLETE_STATUSES = ("✅ Complete", "✅ COMPLETE - all deliverables created", "**COMPLETE**", "Completed")
_OPEN_STATUSES = ("🚧 In Progress", "In Progress", "📋 Design Phase Complete", "Design Complete, Ready for Execution", "⏳ Planning")


def token(number: str) -> str:
    """The file token of an achievement number: ``3.2 -> 32``, ``3.5.1 -> 351``."""
    return number.replace(".", "")


class _Text:
    """A fixed pool of paragraphs drawn from the seeded RNG (fast to assemble into bodies)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.paragraphs = []
        for _ in range(96):
            sentences = []
            for _ in range(rng.randint(3, 6)):
                words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 20))]
                sentences.append(" ".join(words).capitalize() + ".")
            self.paragraphs.append(" ".join(sentences))

    def body(self, k_min: int, k_max: int) -> str:
        return "\n\n".join(self.rng.choice(self.paragraphs) for _ in range(self.rng.randint(k_min, k_max)))

    def bullets(self, k_min: int, k_max: int) -> str:
        return "\n".join(
            "- " + " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(4, 10)))
            for _ in range(self.rng.randint(k_min, k_max))
        )


def _achievement_numbers(rng: random.Random) -> list[str]:
    numbers = []
    first_phase = rng.choice((0, 1))
    for phase in range(first_phase, first_phase + rng.randint(1, 5)):
        for m in range(1, rng.randint(1, 6) + 1):
            numbers.append(f"{phase}.{m}")
            if rng.random() < 0.04:  # a third level, as real plans have (3.5 < 3.5.1 < 3.6)
                numbers.append(f"{phase}.{m}.1")
    return numbers


def _plan_states(rng: random.Random, n: int) -> list[str]:
    kind = rng.random()
    if kind < 0.10:
        current = n  # plan complete
    elif kind < 0.25:
        current = 0  # not started
    else:
        current = rng.randrange(n)
    states = []
    for i in range(n):
        if i < current:
            states.append("skipped" if rng.random() < 0.04 else "approved")
        elif i == current:
            states.append(rng.choice(_CURRENT_STATES))
        else:
            states.append("no_subplan")
    return states


class _PlanWriter:
    """Builds the (relative path, text) list of one plan."""

    def __init__(self, rng: random.Random, text: _Text, index: int) -> None:
        self.rng = rng
        self.text = text
        words = rng.sample(_FEATURE_WORDS, 2)
        self.feature = f"{words[0]}-{words[1]}-{rng.choice(_FEATURE_SUFFIXES)}-{index:04d}"
        parking = rng.random()
        prefix = "a_paused/" if parking < 0.15 else "a_real-use-cases/" if parking < 0.25 else ""
        self.folder = f"work-space/plans/{prefix}{self.feature}"
        self.numbers = _achievement_numbers(rng)
        self.titles = {n: rng.choice(_TITLE_WORDS) for n in self.numbers}
        self.states = _plan_states(rng, len(self.numbers))
        self.files: list[tuple[str, str]] = []

    # -- helpers -----------------------------------------------------------------------------
    def add(self, rel: str, content: str) -> None:
        self.files.append((f"{self.folder}/{rel}", content))

    def _subplan(self, number: str, status: str, planned: int) -> str:
        f, t = self.feature, token(number)
        rows = "\n".join(
            f"| EXECUTION_TASK_{f}_{t}_{mm:02d} | {'Complete' if mm < planned else 'Planning'} | - | - |"
            for mm in range(1, planned + 1)
        )
        return (
            f"# SUBPLAN: {self.titles[number]}\n\n"
            f"**Type**: SUBPLAN  \n**Mother Plan**: PLAN_{f}.md  \n**Achievement**: {number}  \n"
            f"**Status**: {status}  \n**Created**: 2025-11-{self.rng.randint(1, 28):02d}\n\n---\n\n"
            f"## 🎯 Objective\n\n{self.text.body(1, 2)}\n\n"
            f"## 📝 Approach\n\n{self.text.body(2, 4)}\n\n{self.text.bullets(3, 8)}\n\n"
            f"## 🔄 Active EXECUTION_TASKs\n\n| EXECUTION | Status | Progress | Notes |\n"
            f"| --- | --- | --- | --- |\n{rows}\n\n"
            f"## 📊 Execution Results Synthesis\n\n{self.text.body(1, 3)}\n\n"
            "**Iteration log**: iteration 1 Complete, iteration 2 pending.\n"
        )

    def _task(self, number: str, mm: int, status: str) -> str:
        f, t = self.feature, token(number)
        return (
            f"# EXECUTION_TASK: {self.titles[number]}\n\n"
            f"**SUBPLAN**: SUBPLAN_{f}_{t}.md  \n**Achievement**: {number}  \n"
            f"**Execution**: {mm:02d}  \n**Status**: {status}\n\n---\n\n"
            f"## 🎯 SUBPLAN Context\n\n{self.text.body(1, 2)}\n\n"
            f"## 📝 Iteration Log\n\n{self.text.body(2, 5)}\n\n{self.text.bullets(2, 6)}\n\n"
            "## ✅ Completion\n\nMarked Complete only when every deliverable exists.\n"
        )

    def _approved(self, number: str) -> str:
        return (
            f"# APPROVED: Achievement {number}\n\n**Reviewer**: AI Reviewer\n**Status**: ✅ APPROVED\n\n"
            f"## Summary\n\n{self.text.body(1, 2)}\n\n## Strengths\n\n{self.text.bullets(2, 5)}\n"
        )

    def _fix(self, number: str) -> str:
        issues = "\n\n".join(
            f"**{i}. {self.rng.choice(_TITLE_WORDS)} incomplete**\n\n- **Impact**: {self.text.rng.choice(self.text.paragraphs)[:120]}\n- **Fix**: update the deliverable"
            for i in range(1, self.rng.randint(2, 5))
        )
        return (
            f"# FIX REQUIRED: Achievement {number}\n\n**Status**: ⚠️ NEEDS FIXES\n\n## Summary\n\n"
            f"{self.text.body(1, 1)}\n\n## Issues Found\n\n### Critical Issues (must fix)\n\n{issues}\n\n"
            f"### Minor Issues\n\n{self.text.bullets(1, 3)}\n"
        )

    def _resolution(self, number: str) -> str:
        return f"# FIX RESOLUTION: Achievement {number}\n\n{self.text.body(1, 2)}\n"

    # -- the plan ----------------------------------------------------------------------------
    def plan_text(self) -> str:
        rng = self.rng
        index_lines = []
        bullet_style = rng.random() < 0.5
        phase = None
        for n in self.numbers:
            p = n.split(".")[0]
            if p != phase:
                phase = p
                index_lines.append(f"\n**Priority {p}: {rng.choice(_TITLE_WORDS)}**\n")
            h = f"({rng.randint(1, 4)}-{rng.randint(5, 8)}h)"
            if bullet_style:
                index_lines.append(f"- **Achievement {n}**: {self.titles[n]} {h}")
            else:
                index_lines.append(f"**Achievement {n}**: {self.titles[n]} {h}")
        sections = "\n\n".join(
            f"### Achievement {n}: {self.titles[n]}\n\n**Goal**: {self.text.rng.choice(self.text.paragraphs)[:160]}\n\n"
            f"{self.text.body(1, 2)}\n\n**Deliverables**:\n\n{self.text.bullets(2, 4)}"
            for n in self.numbers
        )
        current = next((n for n, s in zip(self.numbers, self.states) if s not in ("approved", "skipped")), None)
        handoff = f"**Next**: Achievement {current}" if current else "**Next**: plan complete"
        return (
            f"# PLAN: {self.feature.replace('-', ' ').title()}\n\n**Status**: 🚧 In Progress\n"
            f"**Created**: 2025-10-{rng.randint(1, 28):02d}\n\n---\n\n"
            f"## 🎯 Goal\n\n{self.text.body(2, 3)}\n\n"
            f"## 📋 Achievement Index\n\n**All Achievements in This Plan**:\n{chr(10).join(index_lines)}\n\n"
            f"**Progress**: see the feedback files\n\n"
            f"## 🎯 Achievements\n\n{sections}\n\n"
            f"## 📝 Current Status & Handoff\n\n**Last Updated**: 2025-11-14\n{handoff}\n"
        )

    def build(self) -> list[tuple[str, str]]:
        rng = self.rng
        self.add(f"PLAN_{self.feature}.md", self.plan_text())
        f = self.feature
        for number, state in zip(self.numbers, self.states):
            t = token(number)
            if state == "no_subplan":
                continue
            if state == "skipped":
                self.add(f"execution/SKIPPED_{t}.md", "" if rng.random() < 0.5 else f"Skipped: {number}\n")
                continue
            archived = state == "approved" and rng.random() < 0.05
            base = "archive/" if archived else ""
            if state == "no_execution":
                self.add(f"subplans/SUBPLAN_{f}_{t}.md", self._subplan(number, rng.choice(_OPEN_STATUSES), 1))
                continue
            n_tasks = rng.randint(1, 3)
            planned = n_tasks + 1 if state == "next_execution" else n_tasks
            sub_complete = state not in ("active_execution", "next_execution", "all_executed")
            sub_status = rng.choice(_COMPLETE_STATUSES if sub_complete else _OPEN_STATUSES)
            self.add(f"{base}subplans/SUBPLAN_{f}_{t}.md", self._subplan(number, sub_status, planned))
            for mm in range(1, n_tasks + 1):
                open_task = state == "active_execution" and mm == n_tasks
                status = rng.choice(_OPEN_STATUSES if open_task else _COMPLETE_STATUSES)
                self.add(f"{base}execution/EXECUTION_TASK_{f}_{t}_{mm:02d}.md", self._task(number, mm, status))
                if not open_task and rng.random() < 0.05:  # a completed revision of the same execution
                    self.add(f"{base}execution/EXECUTION_TASK_{f}_{t}_{mm:02d}_V2.md", self._task(number, mm, "✅ Complete"))
            had_fix = state in ("needs_fix", "fix_resolved") or (state == "approved" and rng.random() < 0.15)
            if had_fix:
                self.add(f"execution/feedbacks/FIX_{t}.md", self._fix(number))
                if state != "needs_fix":
                    self.add(f"execution/feedbacks/FIX_{t}_RESOLUTION.md", self._resolution(number))
            if state == "approved":
                self.add(f"execution/feedbacks/APPROVED_{t}.md", "" if rng.random() < 0.05 else self._approved(number))
        if rng.random() < 0.2:
            self.add("parallel.json", self._parallel_json())
        for i in range(rng.choice((0, 0, 1, 2, 3, 6))):
            name = f"PLAN_UPDATE_NOTES_{i}.md" if rng.random() < 0.1 else f"NOTES_{rng.choice(_WORDS).upper()}_{i}.md"
            self.add(f"documentation/{name}", f"# {name}\n\n{self.text.body(2, 6)}\n")
        if rng.random() < 0.1:
            self.add("completed.txt", "")
        return self.files

    def _parallel_json(self) -> str:
        achievements = []
        for i, n in enumerate(self.numbers):
            deps = [self.numbers[i - 1]] if i and self.rng.random() < 0.6 else []
            achievements.append(
                {"achievement_id": n, "title": self.titles[n], "dependencies": deps, "estimated_hours": "2-4"}
            )
        return json.dumps({"plan_name": self.feature, "achievements": achievements}, indent=2) + "\n"


def iter_plans(n_files: int, seed: int = 0):
    """Yield ``(feature, plan_file, states, files)`` per plan until exactly ``n_files`` files.

    The last plan is cut short when it would overshoot (its PLAN file always comes first).
    """
    rng = random.Random(f"promptgen-bench:{GENERATOR_VERSION}:{seed}")
    text = _Text(rng)
    left = n_files
    index = 0
    while left > 0:
        plan = _PlanWriter(rng, text, index)
        files = plan.build()[:left]
        left -= len(files)
        index += 1
        yield plan, files


def generate(root: Path, n_files: int, seed: int = 0, *, mtime: float | None = None) -> dict:
    """Write a workspace of exactly ``n_files`` files under ``root/work-space`` and return stats.

    ``root`` becomes the workspace root (the folder holding ``work-space/``). ``mtime`` is the
    timestamp given to every file and folder (default: one hour ago; files get it minus a few
    deterministic seconds so that they do not all share one stamp).
    """
    if n_files < 0:
        raise ValueError("n_files must be >= 0")
    root = Path(root)
    if (root / "work-space").exists():
        raise FileExistsError(f"{root / 'work-space'} already exists")
    base = time.time() - 3600 if mtime is None else mtime
    started = time.perf_counter()
    made_dirs: set[Path] = set()
    written: list[Path] = []
    total_bytes = 0
    plans = []
    state_counts: Counter[str] = Counter()
    achievements = 0
    (root / "work-space" / "plans").mkdir(parents=True, exist_ok=True)
    for plan, files in iter_plans(n_files, seed):
        plans.append(f"{plan.folder}/PLAN_{plan.feature}.md")
        achievements += len(plan.numbers)
        state_counts.update(plan.states)
        for rel, content in files:
            path = root / rel
            if path.parent not in made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(path.parent)
            data = content.encode("utf-8")
            path.write_bytes(data)
            total_bytes += len(data)
            written.append(path)
    for i, path in enumerate(written):
        t = base - (i % 997)
        os.utime(path, (t, t))
    dirs = [p for p, _, _ in os.walk(root / "work-space")]
    for d in sorted(dirs, key=len, reverse=True):  # children first; utime on a dir does not touch its parent
        os.utime(d, (base, base))
    return {
        "root": str(root),
        "files": len(written),
        "dirs": len(dirs),
        "bytes": total_bytes,
        "plans": len(plans),
        "plan_files": plans,
        "achievements": achievements,
        "achievement_states": dict(sorted(state_counts.items())),
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "mtime": base,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path, help="workspace root to create (work-space/ goes inside)")
    ap.add_argument("--files", type=int, required=True, help="exact number of files to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="replace an existing DIR/work-space")
    args = ap.parse_args(argv)
    if (args.dir / "work-space").exists():
        if not args.force:
            print(f"error: {args.dir / 'work-space'} exists (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(args.dir / "work-space")
    stats = generate(args.dir, args.files, args.seed)
    stats.pop("plan_files")
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
