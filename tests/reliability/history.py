"""A seeded generator of realistic workspace histories.

It evolves a workspace the way people and agents do: add a PLAN, design a
SUBPLAN, add EXECUTION_TASKs, mark them complete by editing the ``**Status**``
line, get a FIX, answer it, get APPROVED, skip an achievement, park a plan in
``a_paused/`` and bring it back, rename and archive files, add or break a
``parallel.json``, edit PLAN text that no prompt uses, touch files, override a
template, add a second plan root in ``promptgen.toml``... Most steps follow the workflow; some are the mess real workspaces
have (stale copies, orphan feedback, reverted approvals, revisions ``_V2``).

Usage::

    h = History(root, seed=7)
    h.start(plans=2)
    for _ in range(40):
        what = h.step()      # one edit on disk, described in what (and h.log)

Every step writes real files under ``root/work-space`` (and, for template
overrides, ``root/.promptgen/templates``); the generator keeps a small model of
the plans only to pick plausible edits. The answer promptgen gives is checked by
the caller against a clean build — the generator never predicts it.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

TEMPLATE_NAMES = ("create_subplan", "request_review", "create_execution", "continue_execution",
                  "fix_issues", "plan_complete")

_COMPLETE = ("✅ Complete", "✅ COMPLETE - all deliverables created", "**COMPLETE**", "Completed")
_NOT_COMPLETE = ("📋 In Progress", "🚧 In Progress", "Design Complete, Ready for Execution",
                 "📋 Design Phase Complete", "Incomplete")
_STATUS_RE = re.compile(r"^\*\*Status\*\*:.*$", re.M)


def token(number: str) -> str:
    return number.replace(".", "")


@dataclass
class Ach:
    number: str
    title: str


@dataclass
class Plan:
    feature: str
    folder: str  # relative to work-space/plans
    achievements: list[Ach] = field(default_factory=list)
    style: str = "index"  # index | bold | heading | bolditalic
    notes: int = 0

    @property
    def dir_rel(self) -> str:
        return f"work-space/plans/{self.folder}"


_NUMBER_SCHEMES = (
    ["0.1", "0.2", "1.1"],
    ["1.1", "1.2", "1.3", "2.1"],
    ["0.1", "1.1", "1.2", "1.10", "2.1"],
    ["1.1", "2.1", "3.5", "3.5.1", "3.6"],
    ["0.1"],
    ["1.1", "1.2"],
)
_WORDS = ("parser", "index", "cache", "loader", "exporter", "importer", "scheduler", "report", "schema",
          "router", "watcher", "cli", "docs", "metrics", "lock")


class History:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = Path(root)
        self.rng = random.Random(seed)
        self.seed = seed
        self.plans: list[Plan] = []
        self.log: list[str] = []
        self._next_feature = 1

    # -- paths ------------------------------------------------------------------
    def p(self, rel: str) -> Path:
        return self.root / rel

    def _write(self, rel: str, text: str) -> None:
        path = self.p(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        # as editors do: write a temp file and rename over (sometimes in place)
        if self.rng.random() < 0.5:
            tmp = path.with_name(path.name + ".~tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        else:
            path.write_text(text, encoding="utf-8")

    def _exists(self, rel: str) -> bool:
        return self.p(rel).exists()

    def _files(self, rel_dir: str, pattern: str = "*") -> list[str]:
        d = self.p(rel_dir)
        if not d.is_dir():
            return []
        return sorted(str(f.relative_to(self.root)) for f in d.glob(pattern) if f.is_file())

    # -- the files of one plan -------------------------------------------------------
    def subplan_candidates(self, plan: Plan, tok: str) -> list[str]:
        d = plan.dir_rel
        names = [f"{d}/subplans/SUBPLAN_{plan.feature}_{tok}.md", f"{d}/SUBPLAN_{plan.feature}_{tok}.md",
                 f"{d}/subplans/SUBPLAN_{plan.feature}_{tok}_ARCHIVED.md",
                 f"{d}/archive/SUBPLAN_{plan.feature}_{tok}.md"]
        return [n for n in names if self._exists(n)]

    def tasks(self, plan: Plan, tok: str) -> list[str]:
        d = plan.dir_rel
        out = self._files(f"{d}/execution", f"EXECUTION_TASK_{plan.feature}_{tok}_*.md")
        out += self._files(d, f"EXECUTION_TASK_{plan.feature}_{tok}_*.md")
        return out

    def fb(self, plan: Plan, name: str) -> str:
        return f"{plan.dir_rel}/execution/feedbacks/{name}"

    def approved(self, plan: Plan, tok: str) -> bool:
        return self._exists(self.fb(plan, f"APPROVED_{tok}.md"))

    def skipped(self, plan: Plan, tok: str) -> bool:
        return self._exists(f"{plan.dir_rel}/execution/SKIPPED_{tok}.md")

    def open_achievements(self, plan: Plan) -> list[Ach]:
        return [a for a in plan.achievements
                if not self.approved(plan, token(a.number)) and not self.skipped(plan, token(a.number))]

    # -- writing a PLAN ------------------------------------------------------------------
    def _plan_text(self, plan: Plan, hint: Optional[str] = None) -> str:
        r = self.rng
        lines = [f"# PLAN: {plan.feature.replace('-', ' ').title()}", "", "**Status**: In Progress",
                 f"**Created**: 2026-11-{r.randint(1, 28):02d}", "",
                 "An intro paragraph no prompt quotes. " * r.randint(1, 3), ""]
        if plan.style == "index":
            lines += ["## 📋 Achievement Index", ""]
            lines += [f"- Achievement {a.number}: {a.title}" for a in plan.achievements] + [""]
        lines += ["## Achievements", ""]
        for a in plan.achievements:
            if plan.style in ("index", "heading"):
                lines.append(f"### Achievement {a.number}: {a.title}")
            elif plan.style == "bold":
                lines.append(f"**Achievement {a.number}**: {a.title}")
            else:
                lines.append(f"**Achievement {a.number}: {a.title}**")
            lines += ["", f"**Goal**: {a.title.lower()} for {plan.feature}.", "",
                      "**Deliverables**:", f"- `src/{a.title.lower().replace(' ', '_')}.py`", "",
                      f"**Estimated effort**: {r.randint(1, 6)}h", ""]
        lines += ["## Current Status & Handoff", ""]
        if hint:
            lines += [hint, ""]
        lines += ["## Notes", ""] + [f"- note {k}" for k in range(plan.notes)] + [""]
        return "\n".join(lines)

    def plan_file(self, plan: Plan) -> str:
        return f"{plan.dir_rel}/PLAN_{plan.feature}.md"

    def _write_plan(self, plan: Plan, hint: Optional[str] = None) -> None:
        if hint is None and plan.achievements:
            hint = f"Next: Achievement {self.rng.choice(plan.achievements).number}"
        self._write(self.plan_file(plan), self._plan_text(plan, hint))

    # -- steps ---------------------------------------------------------------------------
    def start(self, plans: int = 2) -> None:
        (self.root / "work-space" / "plans").mkdir(parents=True, exist_ok=True)
        for _ in range(plans):
            self.op_add_plan()
        self.log.append(f"start: {plans} plans")

    def step(self) -> str:
        """Apply one random edit; returns (and logs) what it did."""
        for _ in range(50):
            op = self._choose()
            what = op()
            if what:
                self.log.append(what)
                return what
        what = self.op_touch() or "nothing"
        self.log.append(what)
        return what

    def _choose(self) -> Callable[[], Optional[str]]:
        ops: list[tuple[float, Callable[[], Optional[str]]]] = [
            (1.0 if len(self.plans) < 5 else 0.1, self.op_add_plan),
            (6.0, self.op_progress),
            (1.0, self.op_fix_cycle),
            (0.6, self.op_skip),
            (0.5, self.op_park),
            (0.8, self.op_rename),
            (0.6, self.op_parallel),
            (1.0, self.op_edit_unused),
            (0.5, self.op_add_achievement),
            (0.5, self.op_handoff),
            (0.6, self.op_noise),
            (0.6, self.op_revert),
            (0.5, self.op_touch),
            (0.3, self.op_template),
            (0.2, self.op_rename_feature),
            (0.3, self.op_config),
        ]
        total = sum(w for w, _ in ops)
        x = self.rng.uniform(0, total)
        for w, op in ops:
            x -= w
            if x <= 0:
                return op
        return ops[-1][1]

    def _pick_plan(self) -> Optional[Plan]:
        return self.rng.choice(self.plans) if self.plans else None

    # add a plan (sometimes a second plan in an existing folder)
    def op_add_plan(self) -> Optional[str]:
        r = self.rng
        n = self._next_feature
        self._next_feature += 1
        feature = f"FEAT-{n}" if r.random() < 0.8 else f"feature_{n}_{r.choice(_WORDS)}"
        folder = feature
        if self.plans and r.random() < 0.2:
            folder = r.choice(self.plans).folder  # shared folder: shared feedbacks
        numbers = list(r.choice(_NUMBER_SCHEMES))
        titles = r.sample(_WORDS, len(numbers))
        plan = Plan(feature, folder, [Ach(num, f"Build the {t}") for num, t in zip(numbers, titles)],
                    style=r.choice(("index", "index", "bold", "heading", "bolditalic")))
        self.plans.append(plan)
        self._write_plan(plan)
        return f"add plan {feature} in {folder} ({', '.join(numbers)}, {plan.style})"

    # the workflow: do the natural next thing for the first open achievement
    def op_progress(self) -> Optional[str]:
        r = self.rng
        plan = self._pick_plan()
        if plan is None:
            return None
        open_ = self.open_achievements(plan)
        if not open_:
            return None
        a = open_[0] if r.random() < 0.75 else r.choice(open_)
        tok = token(a.number)
        subs = self.subplan_candidates(plan, tok)
        if not subs:
            return self._add_subplan(plan, a)
        sub = subs[0]
        tasks = self.tasks(plan, tok)
        sub_text = self.p(sub).read_text(encoding="utf-8")
        sub_done = _is_complete(sub_text)
        if sub_done:
            return self._approve(plan, a) if r.random() < 0.7 else self._fix(plan, a)
        if not tasks:
            return self._add_task(plan, a, 1)
        open_tasks = [t for t in tasks if not _is_complete(self.p(t).read_text(encoding="utf-8"))]
        if open_tasks:
            return self._set_status(r.choice(open_tasks), complete=True)
        planned = len(re.findall(rf"EXECUTION_TASK_{re.escape(plan.feature)}_{tok}_\d\d", sub_text))
        mms = [int(m) for m in (re.search(r"_(\d\d)(?:_[^/]*)?\.md$", t).group(1) for t in tasks)]
        if planned > len(set(mms)) or r.random() < 0.3:
            return self._add_task(plan, a, max(mms) + 1)
        return self._set_status(sub, complete=True)

    def _add_subplan(self, plan: Plan, a: Ach) -> str:
        r = self.rng
        tok = token(a.number)
        flat = r.random() < 0.15
        rel = (f"{plan.dir_rel}/SUBPLAN_{plan.feature}_{tok}.md" if flat
               else f"{plan.dir_rel}/subplans/SUBPLAN_{plan.feature}_{tok}.md")
        lines = [f"# SUBPLAN: Achievement {a.number} — {a.title}", "", f"**Mother Plan**: PLAN_{plan.feature}.md",
                 f"**Status**: {r.choice(_NOT_COMPLETE)}", "", "## 🎯 Objective", "",
                 f"Deliver {a.title.lower()} (objective {r.randint(0, 999)}).", "", "## 📝 Approach", "",
                 "1. Tests first.", "2. Smallest code.", ""]
        k = r.choice((0, 0, 1, 2, 3))
        if k:
            lines += ["## 🔄 Active EXECUTION_TASKs", "", "| Execution | Status |", "|---|---|"]
            lines += [f"| EXECUTION_TASK_{plan.feature}_{tok}_{m:02d} | Planned |" for m in range(1, k + 1)]
            lines.append("")
        self._write(rel, "\n".join(lines))
        return f"add SUBPLAN {rel}"

    def _add_task(self, plan: Plan, a: Ach, mm: int) -> str:
        tok = token(a.number)
        flat = self.rng.random() < 0.1
        d = plan.dir_rel if flat else f"{plan.dir_rel}/execution"
        rel = f"{d}/EXECUTION_TASK_{plan.feature}_{tok}_{mm:02d}.md"
        text = (f"# EXECUTION_TASK: {a.title} — execution {mm:02d}\n\n**Status**: {self.rng.choice(_NOT_COMPLETE)}\n"
                f"**Estimated**: {self.rng.randint(1, 4)}h\n\n## Iteration log\n\n- Complete the parser (not a status)\n")
        self._write(rel, text)
        return f"add task {rel}"

    def _set_status(self, rel: str, complete: bool) -> str:
        text = self.p(rel).read_text(encoding="utf-8")
        value = self.rng.choice(_COMPLETE if complete else _NOT_COMPLETE)
        new = _STATUS_RE.sub(lambda m: f"**Status**: {value}", text, count=1)
        self._write(rel, new)
        return f"status of {rel} -> {value}"

    def _approve(self, plan: Plan, a: Ach) -> str:
        rel = self.fb(plan, f"APPROVED_{token(a.number)}.md")
        self._write(rel, "" if self.rng.random() < 0.3 else f"# APPROVED: Achievement {a.number}\n\nLooks good.\n")
        return f"approve {rel}"

    def _fix(self, plan: Plan, a: Ach) -> str:
        tok = token(a.number)
        rel = self.fb(plan, f"FIX_{tok}.md")
        n = self.rng.randint(0, 3)
        style = self.rng.choice(("numbered", "headings", "bullets"))
        body = [f"# FIX: Achievement {a.number}", ""]
        for k in range(1, n + 1):
            sev = self.rng.choice(("Critical", "Minor"))
            if style == "numbered":
                body.append(f"{k}. **{sev}**: issue {k} of {a.number}")
            elif style == "headings":
                body += [f"#### Issue {k}: {sev.lower()} issue {k}", "Detail text.", ""]
            else:
                body.append(f"- {sev}: issue {k}")
        self._write(rel, "\n".join(body) + "\n")
        return f"request fix {rel} ({n} issues, {style})"

    def op_fix_cycle(self) -> Optional[str]:
        plan = self._pick_plan()
        if plan is None:
            return None
        for a in self.open_achievements(plan):
            tok = token(a.number)
            fix = self.fb(plan, f"FIX_{tok}.md")
            res = self.fb(plan, f"FIX_{tok}_RESOLUTION.md")
            if self._exists(fix) and not self._exists(res):
                self._write(res, f"# FIX RESOLUTION {a.number}\n\nAll issues fixed.\n")
                return f"answer fix {res}"
            if self._exists(fix) and self._exists(res):
                if self.rng.random() < 0.6:
                    return self._approve(plan, a)
                os.unlink(self.p(res))  # reviewer: issues remain
                return self._fix(plan, a) + " (re-review: issues remain)"
            if self.subplan_candidates(plan, tok) and self.rng.random() < 0.5:
                return self._fix(plan, a)
        return None

    def op_skip(self) -> Optional[str]:
        plan = self._pick_plan()
        if plan is None:
            return None
        open_ = self.open_achievements(plan)
        if not open_:
            return None
        a = self.rng.choice(open_)
        rel = f"{plan.dir_rel}/execution/SKIPPED_{token(a.number)}.md"
        self._write(rel, "" if self.rng.random() < 0.5 else "Skipped: not needed any more.\n")
        return f"skip {rel}"

    # park a plan folder in a_paused/ (or bring it back)
    def op_park(self) -> Optional[str]:
        plan = self._pick_plan()
        if plan is None:
            return None
        sharing = [q for q in self.plans if q.folder == plan.folder]
        old = plan.folder
        if old.startswith("a_paused/"):
            new = old[len("a_paused/"):]
        else:
            new = f"a_paused/{old}"
        if self._exists(f"work-space/plans/{new}"):
            return None
        dst = self.p(f"work-space/plans/{new}")
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.p(f"work-space/plans/{old}"), dst)
        for q in sharing:
            q.folder = new
        return f"move plan folder {old} -> {new}"

    def op_rename(self) -> Optional[str]:
        r = self.rng
        plan = self._pick_plan()
        if plan is None:
            return None
        kind = r.choice(("subplan_flat", "subplan_archive", "task_revision", "folder", "task_flat"))
        a = r.choice(plan.achievements)
        tok = token(a.number)
        d = plan.dir_rel
        if kind == "folder":
            sharing = [q for q in self.plans if q.folder == plan.folder]
            parent, _, name = plan.folder.rpartition("/")
            new_name = name + "-v2" if not name.endswith("-v2") else name[:-3]
            new = f"{parent}/{new_name}" if parent else new_name
            if self._exists(f"work-space/plans/{new}"):
                return None
            os.rename(self.p(f"work-space/plans/{plan.folder}"), self.p(f"work-space/plans/{new}"))
            for q in sharing:
                q.folder = new
            return f"rename plan folder {parent + '/' if parent else ''}{name} -> {new}"
        subs = self.subplan_candidates(plan, tok)
        if kind == "subplan_flat" and subs:
            src = subs[0]
            dst = (f"{d}/SUBPLAN_{plan.feature}_{tok}.md" if "/subplans/" in src
                   else f"{d}/subplans/SUBPLAN_{plan.feature}_{tok}.md")
            if src == dst or self._exists(dst):
                return None
            self.p(dst).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.p(src), self.p(dst))
            return f"move {src} -> {dst}"
        if kind == "subplan_archive" and subs:
            src = subs[0]
            dst = (f"{d}/subplans/SUBPLAN_{plan.feature}_{tok}_ARCHIVED.md" if r.random() < 0.5
                   else f"{d}/archive/SUBPLAN_{plan.feature}_{tok}.md")
            if src == dst or self._exists(dst):
                return None
            self.p(dst).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.p(src), self.p(dst))
            return f"archive {src} -> {dst}"
        tasks = self.tasks(plan, tok)
        if kind == "task_revision" and tasks:
            src = r.choice(tasks)
            if "_V2" in src:
                return None
            dst = src[:-3] + "_V2.md"
            shutil.copyfile(self.p(src), self.p(dst))
            return f"revision {dst}" + " " + self._set_status(dst, complete=r.random() < 0.5)
        if kind == "task_flat" and tasks:
            src = r.choice(tasks)
            name = src.rsplit("/", 1)[1]
            dst = f"{d}/{name}" if "/execution/" in src else f"{d}/execution/{name}"
            if self._exists(dst):
                return None
            self.p(dst).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.p(src), self.p(dst))
            return f"move {src} -> {dst}"
        return None

    def op_rename_feature(self) -> Optional[str]:
        """Rename a plan's feature: PLAN file and every file carrying the feature name."""
        plan = self._pick_plan()
        if plan is None:
            return None
        old = plan.feature
        new = old + "-X" if not old.endswith("-X") else old[:-2]
        if any(q.feature == new for q in self.plans):
            return None
        base = self.p(plan.dir_rel)
        moved = 0
        for path in sorted(base.rglob("*"), key=lambda q: -len(q.parts)):
            if path.is_file() and f"_{old}_" in f"_{path.stem}_" and path.name.startswith(
                    ("PLAN_", "SUBPLAN_", "EXECUTION_TASK_")):
                name = path.name.replace(f"_{old}.md", f"_{new}.md").replace(f"_{old}_", f"_{new}_")
                if name != path.name and not (path.parent / name).exists():
                    os.rename(path, path.parent / name)
                    moved += 1
        plan.feature = new
        self._write_plan(plan)
        return f"rename feature {old} -> {new} ({moved} files)"

    def op_parallel(self) -> Optional[str]:
        r = self.rng
        plan = self._pick_plan()
        if plan is None:
            return None
        rel = f"{plan.dir_rel}/parallel.json"
        if self._exists(rel) and r.random() < 0.25:
            os.unlink(self.p(rel))
            return f"remove {rel}"
        nums = [a.number for a in plan.achievements]
        entries = []
        for i, n in enumerate(nums):
            deps = [d for d in nums[:i] if r.random() < 0.4]
            entries.append({"achievement_id": n, "dependencies": deps, "title": f"t{n}", "estimated_hours": 2,
                            "status": r.choice(("done", "pending"))})
        flavour = r.choices(("valid", "cycle", "unknown", "extra", "broken"), (6, 1, 1, 1, 1))[0]
        if flavour == "cycle" and len(entries) >= 2:
            entries[0]["dependencies"] = [nums[-1]]
            entries[-1]["dependencies"] = [nums[0]]
        elif flavour == "unknown":
            entries[-1]["dependencies"] = ["9.9"]
        elif flavour == "extra":
            entries.append({"achievement_id": "8.8", "dependencies": []})
        text = json.dumps({"plan_name": plan.feature, "achievements": entries}, indent=2)
        if flavour == "broken":
            text = text[: len(text) // 2]
        self._write(rel, text)
        return f"write {rel} ({flavour})"

    def op_edit_unused(self) -> Optional[str]:
        """Edit PLAN text that no prompt uses: the Notes section or the intro."""
        plan = self._pick_plan()
        if plan is None:
            return None
        rel = self.plan_file(plan)
        text = self.p(rel).read_text(encoding="utf-8")
        if self.rng.random() < 0.5:
            new = text.rstrip("\n") + f"\n- note {self.rng.randint(0, 10**6)}\n"
            what = "append a note to"
        else:
            new = text.replace("An intro paragraph", "An edited intro paragraph", 1)
            if new == text:
                new = text.replace("An edited intro paragraph", "An intro paragraph", 1)
            what = "edit the intro of"
        self._write(rel, new)
        return f"{what} {rel}"

    def op_add_achievement(self) -> Optional[str]:
        plan = self._pick_plan()
        if plan is None:
            return None
        last = plan.achievements[-1].number.split(".")
        new = f"{int(last[0]) + 1}.1"
        plan.achievements.append(Ach(new, f"Build the {self.rng.choice(_WORDS)} again"))
        self._write_plan(plan)
        return f"add achievement {new} to {self.plan_file(plan)}"

    def op_handoff(self) -> Optional[str]:
        plan = self._pick_plan()
        if plan is None:
            return None
        a = self.rng.choice(plan.achievements)
        form = self.rng.choice((f"Next: Achievement {a.number}", f"⏳ Next: {a.number}",
                                f"**Next Achievement**: {a.number}", f"**What's Next**:\n\nAchievement {a.number}"))
        self._write_plan(plan, hint=form)
        return f"handoff of {plan.feature} -> {form!r}"

    def op_noise(self) -> Optional[str]:
        r = self.rng
        plan = self._pick_plan()
        if plan is None:
            return None
        d = plan.dir_rel
        kind = r.choice(("notes", "documentation", "stale", "marker", "orphan", "global"))
        if kind == "notes":
            self._write(f"{d}/NOTES_{r.randint(0, 9)}.md", "**Status**: ✅ Complete\n")
            return f"add a notes file in {d}"
        if kind == "documentation":
            self._write(f"{d}/documentation/PLAN_{plan.feature}.md", self.p(self.plan_file(plan)).read_text())
            return f"copy the PLAN into {d}/documentation/"
        if kind == "stale":
            stale = f"work-space/plans/{plan.folder.split('/')[-1]}old"
            if self._exists(stale):
                return None
            shutil.copytree(self.p(d), self.p(stale))
            return f"stale copy {stale}"
        if kind == "marker":
            self._write(f"{d}/{r.choice(('completed.txt', 'waiting.txt'))}", "")
            return f"zero-byte marker in {d}"
        if kind == "orphan":
            self._write(self.fb(plan, "APPROVED_99.md"), "")
            return f"orphan feedback in {d}"
        self._write(f"work-space/subplans/SUBPLAN_{plan.feature}_{token(plan.achievements[0].number)}.md",
                    "**Status**: ✅ Complete\n")
        return "legacy global work-space/subplans twin"

    def op_revert(self) -> Optional[str]:
        r = self.rng
        plan = self._pick_plan()
        if plan is None:
            return None
        a = r.choice(plan.achievements)
        tok = token(a.number)
        cands = [self.fb(plan, f"APPROVED_{tok}.md"), f"{plan.dir_rel}/execution/SKIPPED_{tok}.md",
                 self.fb(plan, f"FIX_{tok}.md")] + self.tasks(plan, tok) + self.subplan_candidates(plan, tok)
        cands = [c for c in cands if self._exists(c)]
        if not cands:
            return None
        victim = r.choice(cands)
        if victim.endswith(".md") and "EXECUTION_TASK" in victim and r.random() < 0.5:
            return "reopen " + self._set_status(victim, complete=False)
        os.unlink(self.p(victim))
        return f"delete {victim}"

    def op_touch(self) -> Optional[str]:
        files = [f for f in (self.root / "work-space").rglob("*") if f.is_file()]
        if not files:
            return None
        f = self.rng.choice(sorted(files))
        os.utime(f)
        return f"touch {f.relative_to(self.root)}"

    def op_config(self) -> Optional[str]:
        """Add or drop a second plan root (work-space/backlog-plans) in promptgen.toml."""
        cfg = self.p("promptgen.toml")
        if cfg.exists() and self.rng.random() < 0.5:
            cfg.unlink()
            return "remove promptgen.toml (backlog plans no longer discovered)"
        k = self.rng.randint(1, 3)
        plan = Plan(f"BACKLOG-{k}", f"../backlog-plans/BACKLOG-{k}",
                    [Ach("0.1", "Sketch the idea"), Ach("0.2", "Write the plan")])
        rel = f"work-space/backlog-plans/BACKLOG-{k}/PLAN_BACKLOG-{k}.md"
        if not self._exists(rel):
            self._write(rel, self._plan_text(plan, "Next: Achievement 0.1"))
        roots = '["work-space/plans", "work-space/backlog-plans"]'
        self._write("promptgen.toml", f"# plan roots\nplan_roots = {roots}\n")
        return f"promptgen.toml: also discover work-space/backlog-plans ({rel})"

    def op_template(self) -> Optional[str]:
        name = self.rng.choice(TEMPLATE_NAMES)
        rel = f".promptgen/templates/{name}.md"
        if self._exists(rel) and self.rng.random() < 0.4:
            os.unlink(self.p(rel))
            return f"remove template override {rel}"
        self._write(rel, f"# Override {self.rng.randint(0, 999)} for $feature\n\nDo $title ($number) — $next_command\n")
        return f"override template {rel}"


def _is_complete(text: str) -> bool:
    """The generator's own rough reading (only to pick plausible edits)."""
    m = _STATUS_RE.search(text.split("\n## ", 1)[0])
    if not m:
        return False
    value = m.group(0).split(":", 1)[1]
    value = re.sub(r"^[\W_]+", "", value).lower()
    return value.startswith(("complete", "completed"))
