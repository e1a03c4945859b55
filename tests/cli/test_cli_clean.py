"""``promptgen clean`` removes only the store's files; no verb ever writes inside work-space/."""

from __future__ import annotations

import os

from cli_testlib import DEMO_DIR, set_status, tree_snapshot

STORE_FILES = {"state.db", "snapshot", "journal", "lock"}


def test_clean_removes_the_store_files_and_keeps_templates(warm, pg):
    store = warm / ".promptgen"
    assert pg("build", cwd=warm).code == 0  # a no-op: its metrics go to the journal
    assert STORE_FILES <= set(os.listdir(store)), os.listdir(store)
    templates = store / "templates"
    templates.mkdir()
    override = templates / "create_subplan.md"
    override.write_text("my own template\n", encoding="utf-8")
    (store / "NOTES.txt").write_text("mine\n", encoding="utf-8")

    r = pg("clean", cwd=warm)
    assert r.code == 0, str(r)
    assert r.out == "", "clean reports on stderr"
    assert set(os.listdir(store)) == {"templates", "NOTES.txt"}
    assert override.read_text(encoding="utf-8") == "my own template\n"
    for name in STORE_FILES:
        assert name in r.err, (name, r.err)

    again = pg("clean", cwd=warm)
    assert again.code == 0, str(again)
    assert not any(name in again.err for name in STORE_FILES), f"nothing was left to remove: {again.err}"
    assert set(os.listdir(store)) == {"templates", "NOTES.txt"}


def test_clean_removes_an_empty_store_folder_and_the_next_build_is_full(warm, pg):
    r = pg("clean", cwd=warm)
    assert r.code == 0, str(r)
    assert not (warm / ".promptgen").exists()
    b = pg("build", "--json", cwd=warm)
    assert b.code == 0 and b.json()["mode"] == "full" and b.json()["reused"] == 0, str(b)
    nothing = pg("clean", cwd=warm / "work-space")
    assert nothing.code == 0
    none = pg("clean", cwd=warm)
    assert none.code == 0 and "nothing" in none.err, str(none)


def test_no_verb_writes_inside_the_workspace(warm, pg, tmp_path):
    set_status(warm / DEMO_DIR / "subplans" / "SUBPLAN_DEMO-FEATURE_22.md", "✅ Complete")
    (warm / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_99.md").write_text("stray\n", encoding="utf-8")
    (warm / ".promptgen" / "templates").mkdir()
    (warm / ".promptgen" / "templates" / "plan_complete.md").write_text("override\n", encoding="utf-8")
    before = tree_snapshot(warm / "work-space")
    before_templates = tree_snapshot(warm / ".promptgen" / "templates")
    prom = tmp_path / "out.prom"
    verbs = [
        ["build"], ["build", "--json"], ["build", "--timings"], ["build", "--force"], ["build", "@DEMO"],
        ["next", "@DEMO-FEATURE"], ["next", "@DRAFT-IDEA"], ["next", "@SHIPPED"], ["next", "@BLOCKED"],
        ["next", "@DEMO", "--achievement", "2.3"], ["next", "@DEMO", "--copy"],
        ["status"], ["status", "--json"],
        ["graph"], ["graph", "--explain"], ["graph", "--explain", "--all"], ["graph", "--explain", "--dry-run"],
        ["graph", "--format", "dot"], ["graph", "--format", "json"],
        ["stats"], ["stats", "--json"], ["metrics"], ["metrics", "--metrics-file", str(prom)],
        ["clean"], ["build"], ["next", "@zzz"], ["graph", "--explain", "--build", "99"], ["clean"],
    ]
    for args in verbs:
        r = pg(*args, cwd=warm)
        assert r.code in (0, 1, 2), str(r)
    assert tree_snapshot(warm / "work-space") == before
    assert tree_snapshot(warm / ".promptgen" / "templates") == before_templates
