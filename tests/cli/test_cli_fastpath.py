"""The no-op fast path: an unchanged workspace is answered without the heavy imports."""

from __future__ import annotations

import pytest

from cli_testlib import DEMO_DIR, imported_modules, set_status

SUBPLAN_22 = f"{DEMO_DIR}/subplans/SUBPLAN_DEMO-FEATURE_22.md"

HEAVY = {"networkx", "rich", "prometheus_client", "sqlite3", "_sqlite3", "argparse",
         # not heavy, but each costs more than the work of the no-op itself
         "re", "json", "typing", "__future__"}


@pytest.mark.parametrize("args, check", [
    (["build"], lambda out: "(noop," in out and "0 recomputed" in out),
    (["build", "--json"], lambda out: '"mode": "noop"' in out),
    (["next", "@DEMO-FEATURE"], lambda out: out.startswith("# DEMO-FEATURE — Achievement 0.3")),
    (["next", "@demo"], lambda out: out.startswith("# DEMO-FEATURE — Achievement 0.3")),
    (["next", "@DRAFT-IDEA"], lambda out: "no achievements" in out),
])
def test_noop_imports_nothing_heavy(ro_warm, pg, args, check):
    # The snapshot is keyed by promptgen's own files too: an edit of the installed
    # (editable) code between the warm-up and the measured run invalidates it.
    # Such a transient miss is retried; a real regression fails every attempt.
    for _attempt in range(3):
        assert pg("build", cwd=ro_warm).code == 0  # warm (again): the snapshot is surely written
        r = pg(*args, cwd=ro_warm, env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert r.code in (0, 1), str(r)
        assert check(r.out), str(r)
        mods = imported_modules(r.err)
        assert "promptgen.cli.main" in mods or "promptgen" in mods, "no import profile on stderr"
        heavy = sorted({m for m in mods if m.split(".")[0] in HEAVY})
        if not heavy:
            return
    pytest.fail(f"`promptgen {' '.join(args)}` on a no-op imported {heavy}")


def test_the_profile_does_see_heavy_imports_off_the_fast_path(ro_warm, pg):
    """The same parsing finds them on the full path: the test above can fail."""
    r = pg("status", cwd=ro_warm, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert r.code == 0
    mods = {m.split(".")[0] for m in imported_modules(r.err)}
    assert {"rich", "argparse", "sqlite3"} <= mods, mods


#: Off every build path, not only the no-op's: each costs more than an edit's whole budget.
NOT_ON_THE_BUILD_PATH = {"networkx", "rich", "prometheus_client", "argparse", "typing", "dataclasses", "inspect"}


def test_an_edit_build_imports_only_what_it_needs(warm, pg):
    """A build after a one-file edit (the status flip the benchmark times) imports
    sqlite3 and the parsers, and none of the heavy or merely convenient modules.
    (pathlib is not checked here: an editable install imports it at start-up; the
    nodes tests and the CI's regular install cover it.)"""
    set_status(warm / SUBPLAN_22, "✅ Complete")
    r = pg("build", "--json", cwd=warm, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert r.code == 0 and '"mode": "incremental"' in r.out, str(r)
    mods = imported_modules(r.err)
    assert "sqlite3" in mods and "promptgen.nodes.subplan_parser" in mods, "not an edit build"
    assert not sorted({m for m in mods if m.split(".")[0] in NOT_ON_THE_BUILD_PATH}), mods
