"""Racy edits: same-size rewrites with the mtime put back are still seen.

The stat fast path trusts an unchanged ``(mtime, ctime, size, inode)`` stamp.
An editor (or an agent) can rewrite a file with the same size in the same
timestamp tick and put the old mtime back with ``os.utime``; the next build
must still see the new content — through the racy-clean rule when the stamp
was recorded in the same tick, through ``ctime`` otherwise. Checked for a
PLAN, a SUBPLAN's status, a directory listing and a template override, in
process (builds a millisecond apart) and through the console script, and for
the no-op fast path of ``next``.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from rellib import add_plan, assert_no_traceback, clean, clean_status, cli, inproc, plan_entry, write


def rewrite_same_size(path: Path, new: str) -> None:
    """Rewrite ``path`` in place with ``new`` (same byte size) and restore its mtime_ns."""
    st = os.stat(path)
    data = new.encode()
    assert len(data) == st.st_size, "the test must keep the size"
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns and os.stat(path).st_size == st.st_size


def _ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    add_plan(root, "RACY", ("0.1", "0.2"))
    return root


def _title(status, number="0.1") -> str:
    return [a for a in plan_entry(status, "RACY")["achievements"] if a["number"] == number][0]["title"]


@pytest.mark.parametrize("runner", [inproc, cli], ids=["in-process", "console-script"])
def test_same_size_plan_edit_with_mtime_restored_immediately(tmp_path, runner):
    root = _ws(tmp_path)
    plan = root / "work-space/plans/RACY/PLAN_RACY.md"
    text = plan.read_text()
    for k, (old, new) in enumerate((("Title 0.1", "Title X.1"), ("Title X.1", "Title Y.1"),
                                    ("Title Y.1", "Title 0.1"))):
        assert old in plan.read_text()
        first = runner("status", "--json", "--workspace", root)
        assert _title(first) == old
        rewrite_same_size(plan, plan.read_text().replace(old, new))
        again = runner("status", "--json", "--workspace", root)
        assert_no_traceback(again)
        assert _title(again) == new, f"edit {k}: same-size edit with the mtime put back was not seen"
        assert again.out == clean_status(root).out
    assert plan.read_text() == text


def test_same_size_edit_after_the_stamp_was_trusted(tmp_path):
    """The file is old (not racy) when built; then a same-size edit with mtime restored: ctime tells."""
    root = _ws(tmp_path)
    plan = root / "work-space/plans/RACY/PLAN_RACY.md"
    old = time.time_ns() - 10 * 10**9
    os.utime(plan, ns=(old, old))
    time.sleep(0.12)  # past the racy window of the ctime as well
    assert _title(inproc("status", "--json", "--workspace", root)) == "Title 0.1"
    assert _title(inproc("status", "--json", "--workspace", root)) == "Title 0.1"  # now trusted
    rewrite_same_size(plan, plan.read_text().replace("Title 0.1", "Title Z.1"))
    assert _title(inproc("status", "--json", "--workspace", root)) == "Title Z.1"


def test_same_size_status_edit_in_a_subplan(tmp_path):
    root = _ws(tmp_path)
    sub = write(root / "work-space/plans/RACY/subplans/SUBPLAN_RACY_01.md",
                "# S\n\n**Status**: Incomplete\n\n## Objective\n\nx\n")
    for runner in (inproc, cli):
        st = runner("status", "--json", "--workspace", root)
        assert plan_entry(st, "RACY")["current"]["state"] == "no_execution"
        rewrite_same_size(sub, sub.read_text().replace("Incomplete", "Complete  "))
        st = runner("status", "--json", "--workspace", root)
        assert plan_entry(st, "RACY")["current"]["state"] == "awaiting_review", "SUBPLAN completion not seen"
        rewrite_same_size(sub, sub.read_text().replace("Complete  ", "Incomplete"))


def test_same_length_rename_with_directory_mtime_restored(tmp_path):
    """APPROVED_01.md -> APPROVED_02.md in one folder, folder mtime put back: the listing changes."""
    root = _ws(tmp_path)
    fb = root / "work-space/plans/RACY/execution/feedbacks"
    write(fb / "APPROVED_01.md", "")
    for runner in (inproc, cli):
        st = runner("status", "--json", "--workspace", root)
        assert plan_entry(st, "RACY")["current"]["number"] == "0.2"
        d = os.stat(fb)
        os.rename(fb / "APPROVED_01.md", fb / "APPROVED_02.md")
        os.utime(fb, ns=(d.st_atime_ns, d.st_mtime_ns))
        st = runner("status", "--json", "--workspace", root)
        assert plan_entry(st, "RACY")["current"]["number"] == "0.1", "a same-length rename was not seen"
        assert st.out == clean_status(root).out
        d = os.stat(fb)
        os.rename(fb / "APPROVED_02.md", fb / "APPROVED_01.md")
        os.utime(fb, ns=(d.st_atime_ns, d.st_mtime_ns))


def test_noop_fast_path_sees_a_same_size_edit(tmp_path):
    """`next` answered from the snapshot must not survive a same-size edit with mtime restored."""
    root = _ws(tmp_path)
    plan = root / "work-space/plans/RACY/PLAN_RACY.md"
    old = time.time_ns() - 10 * 10**9
    os.utime(plan, ns=(old, old))
    time.sleep(0.12)
    for _ in range(2):  # the second build finds nothing racy and writes the snapshot
        cli("build", "--workspace", root)
    assert (root / ".promptgen" / "snapshot").exists(), "no snapshot: the fast path is not exercised"
    assert "Title 0.1" in cli("next", "@RACY", "--workspace", root).out
    rewrite_same_size(plan, plan.read_text().replace("Title 0.1", "Title Q.1"))
    r = cli("next", "@RACY", "--workspace", root)
    assert "Title Q.1" in r.out and "Title 0.1" not in r.out, str(r)
    assert r.out == clean(["next", "@RACY"], root).out


def test_same_size_template_override_edit(tmp_path):
    root = _ws(tmp_path)
    tpl = write(root / ".promptgen/templates/create_subplan.md", "AAAA $feature $number\n")
    assert inproc("next", "@RACY", "--workspace", root).out.startswith("AAAA RACY 0.1")
    rewrite_same_size(tpl, "BBBB $feature $number\n")
    r = inproc("next", "@RACY", "--workspace", root)
    assert r.out.startswith("BBBB RACY 0.1"), str(r)


def test_whole_second_mtimes_coarse_file_system(tmp_path):
    """mtimes on whole seconds (FAT, old ext3, some network file systems): the 2 s racy window."""
    root = _ws(tmp_path)
    plan = root / "work-space/plans/RACY/PLAN_RACY.md"
    sec = (time.time_ns() // 10**9) * 10**9
    os.utime(plan, ns=(sec, sec))
    assert _title(inproc("status", "--json", "--workspace", root)) == "Title 0.1"
    rewrite_same_size(plan, plan.read_text().replace("Title 0.1", "Title W.1"))
    os.utime(plan, ns=(sec, sec))
    assert _title(inproc("status", "--json", "--workspace", root)) == "Title W.1"


def test_rapid_same_size_rewrites(tmp_path, record_property):
    """Thirty rewrites, each with the same size and the same mtime, each followed at once by a build."""
    root = _ws(tmp_path)
    sub = write(root / "work-space/plans/RACY/subplans/SUBPLAN_RACY_01.md",
                "# S\n\n**Status**: Incomplete\n\n## Objective\n\nAAAA\n")
    fixed = os.stat(sub).st_mtime_ns
    rng = random.Random(3)
    for k in range(30):
        status = rng.choice(("Incomplete", "Complete  "))
        word = "".join(rng.choice("ABCD") for _ in range(4))
        text = f"# S\n\n**Status**: {status}\n\n## Objective\n\n{word}\n"
        with open(sub, "r+b") as fh:
            fh.write(text.encode())
        os.utime(sub, ns=(fixed, fixed))
        verb = rng.choice((["status", "--json"], ["next", "@RACY"], ["build"]))
        got = inproc(*verb, "--workspace", root)
        assert_no_traceback(got)
        if verb[0] == "build":
            got = inproc("status", "--json", "--workspace", root)
            verb = ["status", "--json"]
        want = clean(verb, root)
        assert got.out == want.out, f"rewrite {k} ({status}, {word}) not seen by `{' '.join(verb)}`"
    record_property("rel_racy_rewrites", 30)


@pytest.mark.parametrize("when", ["future", "epoch"])
def test_mtimes_in_the_future_or_at_the_epoch(tmp_path, when):
    """Clocks lie (an unpacked archive, a skewed NFS server): answers stay right, edits are seen."""
    root = _ws(tmp_path)
    plan = root / "work-space/plans/RACY/PLAN_RACY.md"
    t = time.time_ns() + 86400 * 10**9 if when == "future" else 1
    os.utime(plan, ns=(t, t))
    time.sleep(0.06)
    for k, new in enumerate(("Title F.1", "Title G.1")):
        inproc("build", "--workspace", root)
        assert cli("status", "--json", "--workspace", root).out == clean_status(root).out
        rewrite_same_size(plan, plan.read_text().replace("Title 0.1" if k == 0 else "Title F.1", new))
        assert _title(inproc("status", "--json", "--workspace", root)) == new
        r = cli("next", "@RACY", "--workspace", root)
        assert new in r.out, str(r)
