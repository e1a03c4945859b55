"""Bad input: broken, hostile or huge files give a clear warning on the right plan.

For every case: ``status --json`` exits 0, the bad plan carries the warning (kind
and path) and is never ``plan_complete``; ``next`` on it gives the right exit
code and says why on stderr; the good plan next to it is untouched; nothing
prints a traceback; and the incremental answer equals a clean build's.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import threading
import time
from pathlib import Path

import pytest

from rellib import (add_plan, assert_no_traceback, clean, clean_status, cli, inproc, plan_entry, plan_text,
                    write)

GOOD_NUMBERS = ("0.1", "0.2")


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    add_plan(root, "GOOD", GOOD_NUMBERS)
    return root


def bad_plan(root: Path, data: bytes, feature: str = "BAD") -> str:
    rel = f"work-space/plans/{feature}/PLAN_{feature}.md"
    write(root / rel, data)
    return rel


def good_reference(tmp_path: Path) -> dict:
    ref = workspace(tmp_path / "ref")
    return plan_entry(clean_status(ref), "GOOD")


def check(root: Path, tmp_path: Path, feature: str, *, state: str, kind: str | None, next_code: int,
          path: str | None = None, runner=cli) -> dict:
    st = runner("status", "--json", "--workspace", root)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    entry = plan_entry(st, feature)
    assert entry["plan_state"] != "plan_complete", entry
    assert entry["plan_state"] == state, entry
    if kind:
        hits = [w for w in entry["warnings"] if w["kind"] == kind and (path is None or w["path"] == path)]
        assert hits, f"no {kind} warning on {path or feature}: {entry['warnings']}"
    good = plan_entry(st, "GOOD")
    assert good == good_reference(tmp_path), "the good plan next to the bad one changed"
    assert st.out == clean_status(root).out, "incremental != clean"
    nx = runner("next", f"@{feature}", "--workspace", root)
    assert_no_traceback(nx)
    assert nx.code == next_code, str(nx)
    if kind:
        assert f"warning ({kind})" in nx.err, str(nx)
    assert nx.out.strip(), "no prompt at all"
    assert nx.out == clean(["next", f"@{feature}"], root).out
    return entry


# -- PLAN contents ---------------------------------------------------------------------
LOOKALIKES = """# PLAN: look-alikes only

**Achievement 2.2/2.3**: two at once is not a declaration
**Achievement 3.3 will document**: prose, not a declaration
1. **Achievement 0.1: numbered progress note**
- [x] **Achievement 0.2**: a check-box progress note
- [ ] **Achievement 0.4: open check box**
✅ **Achievement 0.3**: emoji progress note
🎯 Achievement 0.5: emoji heading-ish
Achievement 0.6: plain text
    code: **Achievement 0.7**: indented code block? (still not bold-first after a bullet)
```
### Achievement 1.1: inside a fence
**Achievement 1.2**: inside a fence
```

## Current Status & Handoff

Next: Achievement 0.1
"""


@pytest.mark.parametrize("case", ["empty", "whitespace", "binary", "latin-1", "nul-bytes", "lookalikes"])
def test_plan_without_usable_achievements(tmp_path, case):
    root = workspace(tmp_path)
    rng = random.Random(1)
    data = {
        "empty": b"",
        "whitespace": b"\n\n   \t\n",
        "binary": bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + rng.randbytes(4000),
        "latin-1": plan_text("BAD", ["0.1", "0.2"], marker="café résumé").encode("latin-1"),
        "nul-bytes": b"### Achievement\x00 0.1: x\x00\n" + b"\x00" * 100,
        "lookalikes": LOOKALIKES.encode(),
    }[case]
    rel = bad_plan(root, data)
    kind = "unreadable_file" if case in ("binary", "latin-1") else None
    entry = check(root, tmp_path, "BAD", state="no_achievements", kind=kind, next_code=1, path=rel)
    assert entry["achievements"] == []
    assert entry["current"] is None


def test_lookalikes_next_to_real_declarations(tmp_path):
    root = workspace(tmp_path)
    text = LOOKALIKES.replace("## Current Status", "### Achievement 4.1: The only real one\n\nWork.\n\n"
                              "## Current Status")
    bad_plan(root, text.encode())
    entry = check(root, tmp_path, "BAD", state="in_progress", kind=None, next_code=0)
    assert [a["number"] for a in entry["achievements"]] == ["4.1"]


def test_fifty_megabyte_plan(tmp_path):
    root = workspace(tmp_path)
    chunk = plan_text("BAD", ["0.1", "0.2"]).encode()
    data = chunk * (50 * 1024 * 1024 // len(chunk) + 1)
    rel = bad_plan(root, data)
    assert (root / rel).stat().st_size >= 50 * 1024 * 1024
    (root / "work-space/plans/BAD/execution/feedbacks").mkdir(parents=True)
    for tok in ("01", "02"):  # even if it were read, every achievement is approved: must not say complete
        (root / f"work-space/plans/BAD/execution/feedbacks/APPROVED_{tok}.md").write_text("")
    t0 = time.perf_counter()
    check(root, tmp_path, "BAD", state="no_achievements", kind="unreadable_file", next_code=1, path=rel)
    assert time.perf_counter() - t0 < 60


@pytest.mark.parametrize("variant", ["crlf", "bom", "bom+crlf", "cr-only", "trailing-spaces-no-final-newline"])
def test_encodings_of_the_same_plan_give_the_same_answer(tmp_path, variant):
    """CRLF, a BOM or CR-only line ends: the same achievements, state and prompt as plain LF."""
    text = plan_text("SAME", ["0.1", "0.2", "1.1"], marker="Some text.")
    sub = "# SUBPLAN\n\n**Status**: ✅ Complete\n\n## Objective\n\nDo it.\n\n## Approach\n\nCarefully.\n"
    raw = {
        "crlf": text.replace("\n", "\r\n").encode(),
        "bom": b"\xef\xbb\xbf" + text.encode(),
        "bom+crlf": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        "cr-only": text.replace("\n", "\r").encode(),
        "trailing-spaces-no-final-newline": text.rstrip("\n").encode(),
    }[variant]
    answers = []
    for name, plan_bytes, sub_bytes in (("lf", text.encode(), sub.encode()),
                                        (variant, raw, sub.replace("\n", "\r\n").encode()
                                         if "crlf" in variant else sub.encode())):
        root = tmp_path / name
        write(root / "work-space/plans/SAME/PLAN_SAME.md", plan_bytes)
        write(root / "work-space/plans/SAME/subplans/SUBPLAN_SAME_01.md", sub_bytes)
        st = cli("status", "--json", "--workspace", root)
        nx = cli("next", "@SAME", "--workspace", root)
        assert_no_traceback(st, nx)
        doc = st.json()
        del doc["workspace"]
        answers.append((doc, nx.code, nx.out))
    assert answers[0][0]["plans"][0]["plan_state"] == "in_progress"
    assert answers[0][0]["plans"][0]["current"] == {"number": "0.1", "state": "awaiting_review"}
    assert answers[1] == answers[0]


# -- other files of a plan ------------------------------------------------------------
def _three_achievements(root: Path, feature: str = "BAD") -> str:
    add_plan(root, feature, ("0.1", "0.2", "0.3"))
    return f"work-space/plans/{feature}"


@pytest.mark.parametrize("which", ["subplan", "execution", "fix"])
def test_unusable_subplan_task_or_fix_is_reported_on_its_plan(tmp_path, which):
    root = workspace(tmp_path)
    d = _three_achievements(root)
    garbage = "✅ **Status**: ✅ Complete\n".encode("utf-16")  # "Complete", but not UTF-8
    ok_sub = "# S\n\n**Status**: In Progress\n\n## Objective\n\nx\n"
    if which == "subplan":
        rel = f"{d}/subplans/SUBPLAN_BAD_01.md"
        write(root / rel, garbage)
    elif which == "execution":
        write(root / f"{d}/subplans/SUBPLAN_BAD_01.md", ok_sub)
        rel = f"{d}/execution/EXECUTION_TASK_BAD_01_01.md"
        write(root / rel, garbage)
    else:
        write(root / f"{d}/subplans/SUBPLAN_BAD_01.md", ok_sub)
        rel = f"{d}/execution/feedbacks/FIX_01.md"
        write(root / rel, garbage)
    entry = check(root, tmp_path, "BAD", state="in_progress", kind="unreadable_file", next_code=0, path=rel)
    cur = entry["current"]
    assert cur["number"] == "0.1"
    # an unreadable file never counts as complete
    assert cur["state"] == {"subplan": "no_execution", "execution": "active_execution",
                            "fix": "needs_fix"}[which] or (which == "subplan" and cur["state"] != "awaiting_review")


# -- unreadable and special files -----------------------------------------------------------
def _chmod(path: Path, mode: int) -> None:
    os.chmod(path, mode)


@pytest.mark.parametrize("which", ["plan", "subplan", "execution"])
def test_unreadable_file_chmod_000(tmp_path, as_user, which):
    root = workspace(tmp_path)
    d = _three_achievements(root)
    write(root / f"{d}/subplans/SUBPLAN_BAD_01.md", "# S\n\n**Status**: In Progress\n")
    target = {"plan": f"{d}/PLAN_BAD.md", "subplan": f"{d}/subplans/SUBPLAN_BAD_01.md",
              "execution": f"{d}/execution/EXECUTION_TASK_BAD_01_01.md"}[which]
    write(root / target, "# T\n\n**Status**: ✅ Complete\n") if which == "execution" else None
    for tok in ("02", "03"):
        write(root / f"{d}/execution/feedbacks/APPROVED_{tok}.md", "")
    _chmod(root / target, 0)
    try:
        st = cli("status", "--json", "--workspace", root, preexec_fn=as_user)
        assert_no_traceback(st)
        assert st.code == 0, str(st)
        entry = plan_entry(st, "BAD")
        assert entry["plan_state"] != "plan_complete", entry
        assert any(w["kind"] == "unreadable_file" and w["path"] == target for w in entry["warnings"]), entry
        nx = cli("next", "@BAD", "--workspace", root, preexec_fn=as_user)
        assert_no_traceback(nx)
        assert "unreadable_file" in nx.err, str(nx)
        assert nx.code == (1 if which == "plan" else 0), str(nx)
        assert plan_entry(st, "GOOD")["warnings"] == []
    finally:
        _chmod(root / target, 0o644)
    # readable again: the store must not keep the error
    st = cli("status", "--json", "--workspace", root)
    assert st.out == clean_status(root).out


# regressions: an approval (execution/, execution/feedbacks, fixed in ad2ac6d) or every SUBPLAN
# (subplans/) silently vanished when its folder could not be listed
@pytest.mark.parametrize("folder", ["execution/feedbacks", "execution", "subplans"])
def test_unreadable_folder_is_reported_not_taken_as_empty(tmp_path, as_user, folder):
    root = workspace(tmp_path)
    d = root / _three_achievements(root)
    write(d / "subplans/SUBPLAN_BAD_01.md", "# S\n\n**Status**: Complete\n")
    write(d / "subplans/SUBPLAN_BAD_02.md", "# S\n\n**Status**: In Progress\n")
    write(d / "execution/EXECUTION_TASK_BAD_02_01.md", "# T\n\n**Status**: In Progress\n")
    write(d / "execution/feedbacks/APPROVED_01.md", "")
    before = plan_entry(cli("status", "--json", "--workspace", root), "BAD")
    assert before["current"] == {"number": "0.2", "state": "active_execution"}
    os.chmod(d / folder, 0)
    try:
        st = cli("status", "--json", "--workspace", root, preexec_fn=as_user)
    finally:
        os.chmod(d / folder, 0o755)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    entry = plan_entry(st, "BAD")
    assert entry["plan_state"] != "plan_complete"
    path = f"work-space/plans/BAD/{folder}"
    assert any(w["kind"] == "unreadable_file" and w["path"] == path for w in entry["warnings"]), \
        f"{path} could not be listed and nobody was told: {entry}"


def test_plan_file_that_is_a_fifo_does_not_hang(tmp_path):
    root = workspace(tmp_path)
    (root / "work-space/plans/BAD").mkdir(parents=True)
    os.mkfifo(root / "work-space/plans/BAD/PLAN_BAD.md")
    st = cli("status", "--json", "--workspace", root, timeout=60)
    assert_no_traceback(st)
    assert st.code == 0
    bad = [p for p in st.json()["plans"] if p["feature"] == "BAD"]
    assert all(p["plan_state"] == "no_achievements" for p in bad), bad
    assert st.out == clean_status(root).out


def test_plan_names_that_are_folders_or_dangling_links(tmp_path):
    root = workspace(tmp_path)
    (root / "work-space/plans/ODD/PLAN_DIR.md").mkdir(parents=True)
    os.symlink("does-not-exist.md", root / "work-space/plans/ODD/PLAN_DANGLING.md")
    st = cli("status", "--json", "--workspace", root)
    assert_no_traceback(st)
    assert st.code == 0
    assert st.out == clean_status(root).out
    for p in st.json()["plans"]:
        assert p["plan_state"] != "plan_complete"


# Regression (fixed in ad2ac6d): a name that is not UTF-8 anywhere under a plan root made every command
# exit 3 — the listing's surrogate-escaped names failed strict UTF-8 encoding when fingerprinted.
@pytest.mark.parametrize("where", ["PLAN name", "unrelated file name", "folder name"])
def test_file_names_that_are_not_utf8(tmp_path, where):
    """A name that is not UTF-8 (a Latin-1 é): no crash; the good plan is unharmed."""
    root = workspace(tmp_path)
    d = os.fsencode(root / "work-space/plans/WEIRD")
    os.makedirs(d)
    with open(os.path.join(d, b"PLAN_WEIRD.md"), "wb") as fh:
        fh.write(plan_text("WEIRD", ["0.1"]).encode())
    if where == "PLAN name":
        with open(os.path.join(d, b"PLAN_caf\xe9.md"), "wb") as fh:
            fh.write(plan_text("x", ["0.1"]).encode())
    elif where == "unrelated file name":
        with open(os.path.join(d, b"notes-caf\xe9.txt"), "wb") as fh:
            fh.write(b"notes")
    else:
        os.makedirs(os.path.join(d, b"r\xe9sum\xe9"))
    st = cli("status", "--json", "--workspace", root)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    assert plan_entry(st, "GOOD") == good_reference(tmp_path)
    assert plan_entry(st, "WEIRD")["plan_state"] == "in_progress"
    assert st.out == clean_status(root).out
    b = cli("build", "--workspace", root)
    assert_no_traceback(b)
    assert b.code == 0, str(b)


# -- parallel.json ------------------------------------------------------------------------------
PARALLEL_CASES = {
    "invalid-json": b'{"achievements": [ {"achievement_id": "0.2", ',
    "not-an-object": b"[1, 2, 3]",
    "binary": bytes(range(256)) * 4,
    "cycle": json.dumps({"achievements": [
        {"achievement_id": "0.1", "dependencies": ["0.3"]},
        {"achievement_id": "0.2", "dependencies": ["0.1"]},
        {"achievement_id": "0.3", "dependencies": ["0.2"]}]}).encode(),
    "self-cycle": json.dumps({"achievements": [{"achievement_id": "0.1", "dependencies": ["0.1"]}]}).encode(),
    "unknown-dependency": json.dumps({"achievements": [
        {"achievement_id": "0.2", "dependencies": ["7.7"]}]}).encode(),
    "bad-number": json.dumps({"achievements": [{"achievement_id": "zero point one", "dependencies": []}]}).encode(),
    "deps-not-a-list": json.dumps({"achievements": [{"achievement_id": "0.2", "dependencies": "0.1"}]}).encode(),
    "deep-nesting": b"[" * 100000 + b"]" * 100000,
}
# "deep-nesting" is a regression test (fixed in ad2ac6d): json.loads raised RecursionError, which
# nodes/parallel.py did not catch, and every command exited 3.
@pytest.mark.parametrize("case", sorted(PARALLEL_CASES))
def test_invalid_parallel_json_falls_back_to_plan_order(tmp_path, case):
    root = workspace(tmp_path)
    d = _three_achievements(root)
    add_plan(root, "SIBLING", ("0.1", "0.2"), folder="BAD")  # shares the folder, and so the file
    rel = f"{d}/parallel.json"
    write(root / rel, PARALLEL_CASES[case])
    write(root / f"{d}/execution/feedbacks/APPROVED_01.md", "")
    kind = "unreadable_file" if case == "binary" else "parallel_invalid"  # not UTF-8: docs/USER_GUIDE.md §7, "Warnings"
    entry = check(root, tmp_path, "BAD", state="in_progress", kind=kind, next_code=0, path=rel)
    assert entry["current"]["number"] == "0.2", "no fallback to plain plan order"
    assert entry["available"] == []
    sib = plan_entry(cli("status", "--json", "--workspace", root), "SIBLING")
    assert any(w["kind"] == kind for w in sib["warnings"]), "the folder's other plan reads it too"


def test_parallel_entry_for_an_undeclared_achievement_is_ignored_the_rest_holds(tmp_path):
    root = workspace(tmp_path)
    d = _three_achievements(root)
    rel = f"{d}/parallel.json"
    write(root / rel, json.dumps({"achievements": [
        {"achievement_id": "0.1", "dependencies": []},
        {"achievement_id": "0.2", "dependencies": ["0.1"]},
        {"achievement_id": "0.3", "dependencies": []},
        {"achievement_id": "9.9", "dependencies": ["0.1"]}]}))
    entry = check(root, tmp_path, "BAD", state="in_progress", kind="parallel_invalid", next_code=0, path=rel)
    assert entry["current"]["number"] == "0.1"
    assert entry["available"] == ["0.3"], "the valid part of parallel.json was dropped"


def test_parallel_json_that_is_a_folder(tmp_path):
    root = workspace(tmp_path)
    d = _three_achievements(root)
    (root / d / "parallel.json").mkdir()
    st = cli("status", "--json", "--workspace", root)
    assert_no_traceback(st)
    assert st.code == 0
    assert plan_entry(st, "BAD")["current"]["number"] == "0.1"
    assert st.out == clean_status(root).out


# -- files deleted or renamed during builds ------------------------------------------------------
class Churn(threading.Thread):
    """Deletes, renames and re-creates a plan's files in a loop (atomic steps, as tools do)."""

    def __init__(self, root: Path, seed: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.ops = 0
        self.d = root / "work-space/plans/CHURN"

    def setup(self) -> None:
        add_plan(self.root, "CHURN", ("0.1", "0.2", "0.3", "1.1"))
        for tok in ("01", "02", "03"):
            write(self.d / f"subplans/SUBPLAN_CHURN_{tok}.md", "# S\n\n**Status**: In Progress\n\n## Objective\n\nx\n")
            write(self.d / f"execution/EXECUTION_TASK_CHURN_{tok}_01.md", "# T\n\n**Status**: ✅ Complete\n")
        write(self.d / "execution/feedbacks/FIX_02.md", "# FIX\n\n1. **Critical**: broken\n")

    def run(self) -> None:
        r = self.rng
        d = self.d
        while not self.stop.is_set():
            op = r.randrange(6)
            try:
                if op == 0:  # the PLAN disappears for a moment (renamed away and back)
                    os.replace(d / "PLAN_CHURN.md", d / "PLAN_CHURN.md.bak")
                    time.sleep(r.uniform(0, 0.01))
                    os.replace(d / "PLAN_CHURN.md.bak", d / "PLAN_CHURN.md")
                elif op == 1:  # a SUBPLAN moves between subplans/ and the flat folder
                    tok = r.choice(("01", "02", "03"))
                    a, b = d / f"subplans/SUBPLAN_CHURN_{tok}.md", d / f"SUBPLAN_CHURN_{tok}.md"
                    if a.exists():
                        os.replace(a, b)
                    elif b.exists():
                        os.replace(b, a)
                elif op == 2:  # a task deleted and re-created
                    tok = r.choice(("01", "02", "03"))
                    t = d / f"execution/EXECUTION_TASK_CHURN_{tok}_01.md"
                    t.unlink(missing_ok=True)
                    time.sleep(r.uniform(0, 0.005))
                    tmp = t.with_suffix(".tmp")
                    tmp.write_text("# T\n\n**Status**: ✅ Complete\n")
                    os.replace(tmp, t)
                elif op == 3:  # FIX deleted / restored
                    f = d / "execution/feedbacks/FIX_02.md"
                    if f.exists():
                        f.unlink()
                    else:
                        f.write_text("# FIX\n\n1. **Critical**: broken\n")
                elif op == 4:  # the whole execution folder renamed away and back
                    os.replace(d / "execution", d / "execution.moving")
                    time.sleep(r.uniform(0, 0.01))
                    os.replace(d / "execution.moving", d / "execution")
                else:  # PLAN rewritten atomically with another handoff hint
                    tmp = d / "PLAN_CHURN.md.tmp"
                    tmp.write_text(plan_text("CHURN", ["0.1", "0.2", "0.3", "1.1"], marker=str(r.random())))
                    os.replace(tmp, d / "PLAN_CHURN.md")
            except FileNotFoundError:
                pass
            self.ops += 1
            time.sleep(r.uniform(0, 0.003))

    def settle(self) -> None:
        self.stop.set()
        self.join(10)
        for name in ("PLAN_CHURN.md.bak",):
            if (self.d / name).exists():
                os.replace(self.d / name, self.d / "PLAN_CHURN.md")
        if (self.d / "execution.moving").exists():
            os.replace(self.d / "execution.moving", self.d / "execution")


def _check_during_churn(r, what: str) -> None:
    assert_no_traceback(r)
    if r.argv[0] == "status":
        assert r.code == 0, f"{what}\n{r}"
        for p in r.json()["plans"]:
            # nothing is ever approved in this workspace: complete would be a lie
            assert p["plan_state"] != "plan_complete", f"{what}\n{p}"
    else:
        assert r.code in (0, 1, 2), f"{what}\n{r}"  # 2: the PLAN was renamed away at that moment


def test_files_deleted_and_renamed_during_builds(tmp_path, record_property):
    root = workspace(tmp_path)
    churn = Churn(root, seed=8)
    churn.setup()
    assert cli("build", "--workspace", root).code == 0
    churn.start()
    runs = 0
    try:
        deadline = time.monotonic() + 5
        k = 0
        while time.monotonic() < deadline or k < 6:
            argv = (["status", "--json"], ["build"], ["next", "@CHURN"])[k % 3]
            r = cli(*argv, "--workspace", root)
            _check_during_churn(r, f"run {k} during churn")
            k += 1
        # in process too: many more, shorter builds interleaved with the churn
        for k in range(60):
            argv = (["status", "--json"], ["build"], ["next", "@CHURN"])[k % 3]
            _check_during_churn(inproc(*argv, "--workspace", root), f"in-process run {k} during churn")
        runs = k + 1
    finally:
        churn.settle()
    record_property("rel_churn_ops", churn.ops)
    record_property("rel_churn_runs", runs)
    assert churn.ops > 50
    # once the files are still, the incremental store converges on the clean answer
    got = cli("status", "--json", "--workspace", root)
    assert got.code == 0 and got.out == clean_status(root).out, str(got)
    nxt = cli("next", "@CHURN", "--workspace", root)
    assert nxt.out == clean(["next", "@CHURN"], root).out


# -- symlinks ----------------------------------------------------------------------------------
# Regressions (fixed in ad2ac6d): discovery walked through links to folders with no cycle check —
# `self -> .` listed a plan 41 times (until ELOOP), two such links never finished (2^40 walks), an
# alias listed a plan twice and made `next @X` ambiguous.
def test_symlink_loop_lists_each_plan_once(tmp_path):
    root = workspace(tmp_path)
    add_plan(root, "LOOPY", ("0.1",))
    os.symlink(".", root / "work-space/plans/LOOPY/self")  # a folder linking to itself
    st = cli("status", "--json", "--workspace", root, timeout=60)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    features = [p["feature"] for p in st.json()["plans"]]
    assert sorted(features) == ["GOOD", "LOOPY"], f"plans listed: {features}"


def test_symlink_loops_terminate_and_list_each_plan_once(tmp_path):
    """Several loops at once (self, parent, A<->B, a link to itself, a PLAN link to itself).

    Before the fix this never ended; the short timeout makes a regression fail fast."""
    root = workspace(tmp_path)
    plans = root / "work-space/plans"
    add_plan(root, "LOOPY", ("0.1",))
    os.symlink(".", plans / "LOOPY" / "self")             # a folder linking to itself
    os.symlink("..", plans / "LOOPY" / "up")              # ... to its parent
    add_plan(root, "A", ("0.1",))
    add_plan(root, "B", ("0.1",))
    os.symlink("../B", plans / "A" / "to-b")              # A -> B -> A
    os.symlink("../A", plans / "B" / "to-a")
    os.symlink("knot", plans / "knot")                    # a link to itself (ELOOP)
    os.symlink("PLAN_KNOT.md", plans / "LOOPY" / "PLAN_KNOT.md")
    st = cli("status", "--json", "--workspace", root, timeout=8)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    features = [p["feature"] for p in st.json()["plans"]]
    assert sorted(features) == ["A", "B", "GOOD", "LOOPY"], f"plans listed: {features}"
    assert st.out == clean_status(root).out


def test_links_that_loop_on_themselves_are_harmless(tmp_path):
    """The loops that are not folders: a link to itself, a PLAN link to itself (ELOOP on stat)."""
    root = workspace(tmp_path)
    plans = root / "work-space/plans"
    add_plan(root, "LOOPY", ("0.1",))
    os.symlink("knot", plans / "knot")
    os.symlink("PLAN_KNOT.md", plans / "LOOPY" / "PLAN_KNOT.md")
    os.symlink("b-link", plans / "LOOPY" / "a-link")
    os.symlink("a-link", plans / "LOOPY" / "b-link")
    st = cli("status", "--json", "--workspace", root, timeout=60)
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    assert sorted(p["feature"] for p in st.json()["plans"]) == ["GOOD", "LOOPY"]
    assert st.out == clean_status(root).out


def test_symlink_to_another_plan_folder_inside_the_workspace(tmp_path):
    """A link inside the workspace to another plan folder: the plan is listed once, @GOOD still works."""
    root = workspace(tmp_path)
    os.symlink("GOOD", root / "work-space/plans/GOOD-ALIAS")
    st = cli("status", "--json", "--workspace", root)
    assert_no_traceback(st)
    assert st.code == 0
    assert [p["feature"] for p in st.json()["plans"]].count("GOOD") == 1, st.out
    nx = cli("next", "@GOOD", "--workspace", root)
    assert nx.code == 0, str(nx)


SECRET = "TOP-SECRET-8d1f0c"


def _outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    write(out / "PLAN_EVIL.md", plan_text("EVIL", ["0.1", "0.2"], marker=SECRET))
    write(out / "SUBPLAN_BAD_01.md", f"# S\n\n**Status**: ✅ Complete\n\n## Objective\n\n{SECRET}\n")
    write(out / "FIX_01.md", f"# FIX\n\n1. **Critical**: {SECRET}\n")
    write(out / "parallel.json", json.dumps({"achievements": [{"achievement_id": "0.1", "dependencies": [],
                                                               "title": SECRET}]}))
    write(out / "template.md", f"{SECRET} $feature\n")
    write(out / "dir" / "PLAN_EVIL.md", plan_text("EVIL", ["0.1"], marker=SECRET))
    return out


def test_symlinks_out_of_the_workspace_are_never_read(tmp_path):
    root = workspace(tmp_path)
    out = _outside(tmp_path)
    d = Path(_three_achievements(root))
    plans = root / "work-space/plans"
    os.symlink("/etc/passwd", plans / "BAD" / "PLAN_PASSWD.md")
    os.symlink(out / "PLAN_EVIL.md", plans / "BAD" / "PLAN_EVIL.md")
    os.symlink(out / "dir", plans / "EXTERNAL")
    (root / d / "subplans").mkdir(parents=True)
    os.symlink(out / "SUBPLAN_BAD_01.md", root / d / "subplans" / "SUBPLAN_BAD_01.md")
    (root / d / "execution" / "feedbacks").mkdir(parents=True)
    os.symlink(out / "FIX_01.md", root / d / "execution" / "feedbacks" / "FIX_01.md")
    os.symlink(out / "parallel.json", root / d / "parallel.json")
    (root / ".promptgen" / "templates").mkdir(parents=True)
    for name in ("create_subplan", "fix_issues", "request_review", "no_achievements", "plan_complete"):
        os.symlink(out / "template.md", root / ".promptgen" / "templates" / f"{name}.md")
    # through a relative link that climbs out as well
    os.symlink("../../../outside/PLAN_EVIL.md", plans / "GOOD" / "PLAN_CLIMB.md")
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").exists() else "root:x:0:0"
    outputs = []
    for argv in (["build"], ["status", "--json"], ["status"], ["next", "@BAD"], ["next", "@GOOD"],
                 ["next", "@BAD", "--achievement", "0.1"], ["graph", "--explain", "--all"], ["graph", "--format", "json"],
                 ["next", "@EVIL"], ["next", "@PASSWD"]):
        r = cli(*argv, "--workspace", root)
        assert_no_traceback(r)
        outputs.append(r)
    text = "".join(r.out + r.err for r in outputs)
    assert SECRET not in text
    assert passwd_line not in text
    db = (root / ".promptgen" / "state.db").read_bytes()
    assert SECRET.encode() not in db and passwd_line.encode() not in db
    st = outputs[1].json()
    assert {p["feature"] for p in st["plans"]} == {"BAD", "GOOD"}, "a plan outside the workspace was listed"
    bad = plan_entry(outputs[1], "BAD")
    assert bad["plan_state"] != "plan_complete"


# -- thousands of plans ----------------------------------------------------------------------------
def _many_plans(root: Path, n: int) -> None:
    rng = random.Random(n)
    for k in range(n):
        feature = f"P{k:05d}"
        d = root / "work-space" / "plans" / (f"group-{k % 20:02d}") / feature
        d.mkdir(parents=True)
        (d / f"PLAN_{feature}.md").write_text(f"# {feature}\n\n**Achievement 0.1**: One\n**Achievement 0.2**: Two\n")
        roll = rng.random()
        if roll < 0.3:
            (d / "execution" / "feedbacks").mkdir(parents=True)
            (d / "execution" / "feedbacks" / "APPROVED_01.md").write_text("")
            if roll < 0.1:
                (d / "execution" / "feedbacks" / "APPROVED_02.md").write_text("")


@pytest.mark.parametrize("n", [2000, pytest.param(10000, marks=pytest.mark.slow)])
def test_thousands_of_plans(tmp_path, n, record_property):
    root = tmp_path / "ws"
    _many_plans(root, n)
    st = cli("status", "--json", "--workspace", root, timeout=600)  # the cold build
    assert_no_traceback(st)
    assert st.code == 0, str(st)
    plans = st.json()["plans"]
    assert len(plans) == n
    assert [p["plan_file"] for p in plans] == sorted(p["plan_file"] for p in plans)  # docs/USER_GUIDE.md §11, "JSON output": sorted by plan_file
    assert len({p["feature"] for p in plans}) == n
    complete = {p["feature"] for p in plans if p["plan_state"] == "plan_complete"}
    want_complete = {f"P{k:05d}" for k in range(n)
                     if (root / "work-space/plans" / f"group-{k % 20:02d}" / f"P{k:05d}" /
                         "execution/feedbacks/APPROVED_02.md").exists()}
    assert complete == want_complete
    # one more plan among thousands: seen, and the incremental answer is the clean one
    extra = root / "work-space/plans/group-00/ZZZ/PLAN_ZZZ.md"
    write(extra, "**Achievement 0.1**: z\n")
    st2 = cli("status", "--json", "--workspace", root, timeout=600)
    assert len(st2.json()["plans"]) == n + 1
    assert st2.out == clean_status(root).out
    nx = cli("next", "@P00042", "--workspace", root)
    assert nx.code == 0 and "P00042" in nx.out, str(nx)
    record_property("rel_many_plans", n)
    record_property("rel_many_plans_cold_status_s", round(st.seconds, 2))


@pytest.mark.parametrize("name", ["with spaces", "Ünïcødé €", "tab\there", "new\nline", "quote\"and\\back"])
def test_workspace_paths_with_odd_characters(tmp_path, name):
    """The workspace root's own path: spaces, non-ASCII, a tab, a newline, quotes and backslashes."""
    root = tmp_path / name
    add_plan(root, "ODD", ("0.1", "0.2"))
    runs = [cli("build", "--workspace", root), cli("status", "--json", "--workspace", root),
            cli("next", "@ODD", "--workspace", root), cli("next", "@ODD", cwd=root), cli("stats", "--json", cwd=root),
            cli("metrics", cwd=root), cli("graph", "--explain", cwd=root)]
    for r in runs:
        assert_no_traceback(r)
        assert r.code == 0, str(r)
    assert runs[1].json()["workspace"] == str(root)
    assert runs[1].out == clean_status(root).out
    assert runs[2].out == runs[3].out == clean(["next", "@ODD"], root).out
    metrics = runs[5].out
    assert "promptgen_builds_total" in metrics
    for line in metrics.splitlines():  # Prometheus text format: one sample per line, label values escaped
        assert line.startswith("#") or line.startswith("promptgen_"), repr(line)


def test_workspace_path_that_is_not_utf8(tmp_path):
    """A root whose path is not UTF-8: works. (The "workspace" field of status --json then carries
    the raw byte, as Python prints such paths — not valid UTF-8; noted in docs/RELIABILITY.md.)"""
    root = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9")))
    add_plan(root, "ODD", ("0.1",))
    try:
        runs = [cli("build", "--workspace", root), cli("status", "--json", cwd=root), cli("next", "@ODD", cwd=root)]
        for r in runs:
            assert_no_traceback(r)
            assert r.code == 0, str(r)
        assert runs[1].out == clean_status(root).out
    except AssertionError as exc:
        # a report carrying a lone surrogate would crash pytest-xdist's channel: escape it
        raise AssertionError(ascii(str(exc))) from None


@pytest.mark.parametrize("toml", ['plan_roots = ["work-space/plans"', "colour = 'blue'\n", 'plan_roots = []\n',
                                  'plan_roots = "work-space/plans"\n', b"\xff\xfe\x00\x01"])
def test_broken_promptgen_toml(tmp_path, toml):
    root = workspace(tmp_path)
    write(root / "promptgen.toml", toml)
    for argv in (["build"], ["status", "--json"], ["next", "@GOOD"]):
        r = cli(*argv, "--workspace", root)
        assert_no_traceback(r)
        assert r.code == 2, str(r)
        assert "promptgen.toml" in r.err and len(r.err.strip().splitlines()) == 1, str(r)
    (root / "promptgen.toml").unlink()
    st = cli("status", "--json", "--workspace", root)
    assert st.code == 0 and st.out == clean_status(root).out
