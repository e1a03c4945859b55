"""The server's warm workspace, in process: its answers after any sequence of
edits equal those of a clean build, whether it follows file-change events or
stat checks, and it falls back to checking every file whenever events cannot
vouch for a change (a lost watcher, links, a new configuration)."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from cli_testlib import tree_snapshot

from promptgen import Workspace
from promptgen.warm import WarmWorkspace
from promptgen.watcher import _IN_Q_OVERFLOW, SENTINEL_PREFIX, InotifyWatcher, WatchLost, events_unavailable
from promptgen.nodes.reports import status_document

linux_only = pytest.mark.skipif(events_unavailable(tempfile.gettempdir()) is not None,
                                reason="file-change events are read with inotify (Linux, a local file system)")


class Reference:
    """A clean build of the same files, in a store of its own (outside the workspace)."""

    def __init__(self, root: Path, stores: Path) -> None:
        self.root, self.stores, self.n = root, stores, 0

    def answers(self) -> tuple[dict, dict, list]:
        self.n += 1
        ws = Workspace.locate(str(self.root), store=str(self.stores / str(self.n)))
        built = ws.build()
        try:
            return status_document(ws.root, built.reports), dict(built.prompts), ws.warnings()
        finally:
            built.outcome.close()


def assert_same(warm: WarmWorkspace, ref: Reference, after: str) -> str:
    """The warm answers equal the clean build's; how the first of them was answered."""
    doc, prompts, warnings = ref.answers()
    assert warm.status() == doc, after
    answered = warm.served["answered"]
    assert warm.warnings() == warnings, after
    for plan in doc["plans"]:
        got = warm.next_prompt(plan["plan_file"])
        assert got["prompt"] == prompts[plan["plan_file"]], (after, plan["plan_file"])
    return answered


def random_change(rnd: random.Random, root: Path, i: int) -> str:
    """One edit an agent or a person might make (files and folders, made, changed, moved, removed)."""
    plans = root / "work-space" / "plans"
    entries = sorted(plans.rglob("*"))
    target = rnd.choice(entries) if entries else plans
    folder = target if target.is_dir() else target.parent
    op = rnd.choice(["append", "append", "append", "create", "delete", "mkdir", "touch", "rename", "rmtree",
                     "mvdir", "template", "template", "move-root", "move-templates"])
    try:
        if op == "append" and target.is_file():
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(rnd.choice(["\n**Status**: ✅ Complete\n", "\nmore text\n", ""]))
        elif op == "create":
            name = rnd.choice(["APPROVED_11.md", "FIX_22.md", "APPROVED_03.md", "notes.md", "PLAN_NEWONE.md"])
            (folder / name).write_text("# new\n\n- Achievement 1.1: a step\n", encoding="utf-8")
        elif op == "delete" and target.is_file():
            target.unlink()
        elif op == "mkdir":
            new = folder / rnd.choice(["execution", "subplans", "feedbacks", f"x{i}"])
            new.mkdir(exist_ok=True)
            (new / rnd.choice(["EXECUTION_TASK_DEMO-FEATURE_31_01.md", "SUBPLAN_DEMO-FEATURE_31.md",
                               "APPROVED_31.md"])).write_text("# t\n", encoding="utf-8")
        elif op == "touch":
            os.utime(target)
        elif op == "rename":
            target.rename(target.with_name(target.name + rnd.choice([".bak", "x"])))
        elif op == "rmtree" and target.is_dir() and len(target.relative_to(plans).parts) > 1:
            shutil.rmtree(target)
        elif op == "mvdir" and len(folder.relative_to(plans).parts) > 1:
            folder.rename(folder.with_name(folder.name + "_moved"))
        elif op == "template":
            templates = root / ".promptgen" / "templates"
            templates.mkdir(parents=True, exist_ok=True)
            name = rnd.choice(["fix_issues.md", "request_review.md", "create_subplan.md"])
            (templates / name).write_text(f"custom {i} {{feature}}\n", encoding="utf-8")
        elif op == "move-root":  # the plan root renamed away and put back: a watch on each
            shutil.rmtree(plans.with_name("plans.old"), ignore_errors=True)
            plans.rename(plans.with_name("plans.old"))
            shutil.copytree(plans.with_name("plans.old"), plans)
            (plans.with_name("plans.old") / "late.md").write_text("written in the old folder\n", encoding="utf-8")
        elif op == "move-templates" and (root / ".promptgen" / "templates").is_dir():
            templates = root / ".promptgen" / "templates"
            shutil.rmtree(templates.with_name("templates.old"), ignore_errors=True)
            templates.rename(templates.with_name("templates.old"))
            templates.mkdir()
            (templates / "fix_issues.md").write_text(f"moved {i} {{feature}}\n", encoding="utf-8")
    except OSError:
        pass
    return f"{op} {target.relative_to(root)}"


@pytest.mark.parametrize("watch, seed, follow", [(True, 1, False), (True, 2, False), (True, 3, False),
                                                 (False, 1, False), (True, 4, True)])
def test_answers_equal_a_clean_build_after_every_change(demo, tmp_path, watch, seed, follow):
    """``follow``: with the background catch-up running too, its builds racing the questions'."""
    warm = WarmWorkspace(str(demo), watch=watch)
    follower = threading.Thread(target=warm.follow, args=(0.005,), daemon=True) if follow else None
    try:
        warm.warm_up()
        if follower is not None:
            follower.start()
        assert warm.changes == ("events" if watch and events_unavailable(str(demo)) is None else "stat")
        ref = Reference(demo, tmp_path / "ref")
        assert_same(warm, ref, "start")
        rnd = random.Random(seed)
        answered = set()
        for i in range(30):
            what = random_change(rnd, demo, i)  # then ask at once: no pause for the racy window
            answered.add(assert_same(warm, ref, what))
            if follower is not None:
                time.sleep(rnd.choice([0, 0.004, 0.02]))
        assert answered == {"memory", "build"} or follower is not None
    finally:
        warm.close()
        if follower is not None:
            follower.join(5)


@linux_only
def test_no_change_is_answered_from_memory_without_writing_in_the_workspace(demo):
    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        before = tree_snapshot(demo / "work-space")
        for _ in range(5):
            warm.next_prompt("@DEMO-FEATURE")
            assert warm.served["answered"] == "memory" and warm.served["build"] is None
        assert tree_snapshot(demo / "work-space") == before
        sentinels = [p.name for p in (demo / ".promptgen").iterdir() if p.name.startswith(SENTINEL_PREFIX)]
        assert sentinels == [f"{SENTINEL_PREFIX}{os.getpid()}"]
    finally:
        warm.close()
    assert not [p for p in (demo / ".promptgen").iterdir() if p.name.startswith(SENTINEL_PREFIX)]


@linux_only
def test_an_edit_is_a_build_targeted_at_the_file(demo):
    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        sub = demo / "work-space/plans/DEMO-FEATURE/subplans/SUBPLAN_DEMO-FEATURE_22.md"
        sub.write_text(sub.read_text(encoding="utf-8").replace("**Status**:", "**Status**: ✅ Complete <!--", 1),
                       encoding="utf-8")
        warm.status()
        build = warm.served["build"]
        assert warm.served["answered"] == "build" and build["targeted"], warm.served
        assert 0 < build["nodes_visited"] < 10
    finally:
        warm.close()


@linux_only
def test_a_lost_watcher_is_replaced_and_every_file_checked(demo, tmp_path, monkeypatch):
    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        first = warm._watcher

        def lost(self, sentinel=True):
            raise WatchLost("the kernel's event queue overflowed")

        monkeypatch.setattr(InotifyWatcher, "sync", lost)
        (demo / "work-space/plans/DEMO-FEATURE/execution/feedbacks/APPROVED_03.md").write_text("# ok\n")
        assert warm.next_prompt("@DEMO-FEATURE")["current"]["state"] == "needs_fix"
        monkeypatch.undo()
        assert warm._watcher is not first and warm.changes == "events"
        assert warm.served["answered"] == "build"
        assert_same(warm, Reference(demo, tmp_path / "ref"), "after the watcher was replaced")
    finally:
        warm.close()


@linux_only
def test_an_overflow_or_an_unknown_watch_means_events_may_be_missing(demo):
    watcher = InotifyWatcher(str(demo), ["work-space/plans"], str(demo / ".promptgen"))
    try:
        with pytest.raises(WatchLost, match="overflowed"):
            watcher._event(-1, _IN_Q_OVERFLOW, "", {})
        with pytest.raises(WatchLost, match="unknown watch"):
            watcher._event(10_000, 0x2, "x.md", {})
        assert watcher.sync() == ({}, False)
        (demo / "work-space/plans/DEMO-FEATURE/notes.md").write_text("x")
        paths, structural = watcher.sync()
        assert "work-space/plans/DEMO-FEATURE/notes.md" in paths and not structural
        (demo / "work-space/plans/NEW").mkdir()
        (demo / "work-space/plans/NEW/PLAN_NEW.md").write_text("x")
        paths, structural = watcher.sync()
        assert structural
        (demo / "work-space/plans/NEW/more.md").write_text("x")  # watched since the folder appeared
        assert "work-space/plans/NEW/more.md" in watcher.sync()[0]
    finally:
        watcher.close()


@linux_only
def test_links_switch_to_stat_checks(demo, tmp_path):
    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        assert warm.changes == "events"
        notes = demo / "notes"  # in the workspace, but in no watched folder: edited without an event
        notes.mkdir()
        (notes / "approved.md").write_text("# Approved\n", encoding="utf-8")
        os.symlink(notes / "approved.md", demo / "work-space/plans/DEMO-FEATURE/execution/feedbacks/APPROVED_03.md")
        assert warm.next_prompt("@DEMO-FEATURE")["current"]["state"] == "needs_fix"
        assert warm.changes == "stat" and "symbolic or hard link" in warm.changes_why
        assert_same(warm, Reference(demo, tmp_path / "ref"), "a link")
        (notes / "approved.md").unlink()  # no event in work-space/: the stat check sees it
        assert warm.next_prompt("@DEMO-FEATURE")["current"]["state"] == "fix_resolved"
    finally:
        warm.close()


def test_a_new_configuration_is_read_again(demo, tmp_path):
    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        backlog = demo / "work-space" / "backlog" / "LATER"
        backlog.mkdir(parents=True)
        (backlog / "PLAN_LATER.md").write_text("# PLAN: LATER\n\n## 📋 Achievement Index\n\n- Achievement 0.1: Go\n",
                                              encoding="utf-8")
        assert "LATER" not in {p["feature"] for p in warm.status()["plans"]}
        (demo / "promptgen.toml").write_text('plan_roots = ["work-space/plans", "work-space/backlog"]\n',
                                             encoding="utf-8")
        assert "LATER" in {p["feature"] for p in warm.status()["plans"]}
        (backlog / "PLAN_LATER.md").write_text("# PLAN: LATER\n\n## 📋 Achievement Index\n\n- Achievement 0.7: Go\n",
                                              encoding="utf-8")
        assert "Achievement 0.7" in warm.next_prompt("@LATER")["prompt"]  # the new root is watched too
        assert_same(warm, Reference(demo, tmp_path / "ref"), "promptgen.toml")
    finally:
        warm.close()


@linux_only
def test_a_change_is_built_in_the_background_before_the_question(demo, tmp_path):
    warm = WarmWorkspace(str(demo))
    follower = threading.Thread(target=warm.follow, daemon=True)
    follower.start()
    try:
        deadline = time.monotonic() + 30
        while warm.served.get("answered") != "build" and time.monotonic() < deadline:
            time.sleep(0.01)  # the first build
        warm.served = {}
        (demo / "work-space/plans/DEMO-FEATURE/execution/feedbacks/APPROVED_03.md").write_text("# ok\n")
        while warm.served.get("answered") != "build" and time.monotonic() < deadline:
            time.sleep(0.01)  # built without a question
        assert warm.served["build"]["targeted"]
        assert warm.next_prompt("@DEMO-FEATURE")["current"]["state"] == "needs_fix"
        assert warm.served["answered"] == "memory"
        assert_same(warm, Reference(demo, tmp_path / "ref"), "a background build")
    finally:
        warm.close()
        follower.join(5)
    assert not follower.is_alive()


@linux_only
def test_the_snapshot_left_for_the_command_line_never_holds_a_racy_stamp(demo):
    """Events vouch for a file read inside the racy window, the command line's
    fast path cannot: a build from the view reads such files again, and the
    snapshot is written only once they have settled (here by the background
    catch-up) — then a command-line no-op answers from it."""
    from promptgen.engine import fastpath
    from promptgen.engine.stamp import is_racy

    warm = WarmWorkspace(str(demo))
    try:
        warm.warm_up()
        approved = demo / "work-space/plans/DEMO-FEATURE/execution/feedbacks/APPROVED_03.md"
        approved.write_text("# ok\n")
        assert warm.next_prompt("@DEMO-FEATURE")["current"]["state"] == "needs_fix"  # read at once: racy
        warm.next_prompt("@DEMO-FEATURE", achievement="2.2")  # a build that reads nothing new
        snapshot = demo / ".promptgen" / fastpath.SNAPSHOT
        if snapshot.exists():
            data = fastpath._read(str(snapshot))
            written = snapshot.stat().st_mtime_ns
            for name, stamp in zip(data["names"], data["stamps"]):
                assert not is_racy(stamp, written), name
        time.sleep(0.12)  # past the racy window
        warm._catch_up(settle=True)
        assert warm.served["answered"] == "build" and snapshot.exists()
        ws = Workspace.locate(str(demo))
        assert fastpath.load(ws.store_dir, ws.snapshot_key) is not None  # a no-op for the command line
        # that build recomputed nothing: explaining "the last build" means the one before
        explained = warm.explain()
        assert explained["builds_since"] >= 1 and explained["build"]["summary"]["recomputed"] > 0
        assert warm.explain(build=1)["build"]["summary"]["recomputed"] == 0
    finally:
        warm.close()


@pytest.mark.parametrize("watch", [True, False])
def test_two_servers_on_one_workspace(demo, tmp_path, watch):
    """Each keeps its own answers in memory; the store's lock and generation keep
    the shared store right whichever builds first."""
    first, second = WarmWorkspace(str(demo), watch=watch), WarmWorkspace(str(demo), watch=watch)
    try:
        first.warm_up()
        second.warm_up()
        ref = Reference(demo, tmp_path / "ref")
        rnd = random.Random(7)
        for i in range(12):
            what = random_change(rnd, demo, i)
            for warm in rnd.sample([first, second], 2):
                assert_same(warm, ref, what)
    finally:
        first.close()
        second.close()
