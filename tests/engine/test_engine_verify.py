"""The verifier on its own: each reason a node runs for, in order, and each
decision about a source — without a build, a store or a file."""

from __future__ import annotations

import pytest

from promptgen.engine import explain as ex
from promptgen.engine.sources import SourceRecord
from promptgen.engine.spec import NodeSpec, Rule
from promptgen.engine.store import Trace
from promptgen.engine.verify import Verifier

RULE = Rule("count", "2", lambda param, values: 0)
SPEC = NodeSpec("count:a", "count", ("file:a.txt", "words:a"), param=1)
FPS = ["fa", "fw"]
TRACE = Trace(SPEC, "2", FPS, "value-fp")


def check(trace=TRACE, spec=SPEC, fps=FPS, force=False, absent=None):
    return Verifier(force, absent).check(spec, RULE, trace, fps)


def test_an_unchanged_trace_holds():
    assert check() is None
    # an equal spec read back from the store is not the same object
    assert check(spec=NodeSpec("count:a", "count", ("file:a.txt", "words:a"), param=1)) is None


@pytest.mark.parametrize("absent, reason", [
    (None, ex.NEW), ("missing", ex.NEW), ("damaged", ex.STORE_MISSING_OR_DAMAGED),
])
def test_a_node_without_trace_is_new_or_has_no_usable_store(absent, reason):
    assert check(trace=None, absent=absent) == (reason, {})


def test_forced_comes_first():
    assert check(force=True) == (ex.FORCED, {})
    assert check(trace=None, force=True, absent="damaged") == (ex.FORCED, {})


def test_a_rule_version_change_comes_before_the_inputs():
    old = Trace(SPEC, "1", ["other", "fps"], "value-fp")
    assert check(trace=old) == (ex.RULE_CHANGED, {"old": "1", "new": "2"})


@pytest.mark.parametrize("inputs, param, what, added, removed", [
    (("file:a.txt", "words:a", "file:b.txt"), 1, "inputs changed (+1 -0)", ["file:b.txt"], []),
    (("file:a.txt",), 1, "inputs changed (+0 -1)", [], ["words:a"]),
    (("words:a", "file:a.txt"), 1, "inputs changed", [], []),  # the same inputs, reordered
    (("file:a.txt", "words:a"), 2, "parameters changed", [], []),
])
def test_a_spec_change_names_what_changed(inputs, param, what, added, removed):
    spec = NodeSpec("count:a", "count", inputs, param)
    reason, detail = check(spec=spec, fps=["x"] * len(inputs))
    assert reason == ex.DEPENDENCY_CHANGED
    assert detail == {"what": what, "added": added, "removed": removed}


def test_a_changed_source_names_its_path_and_fingerprints():
    assert check(fps=["fa2", "fw"]) == (
        ex.INPUT_CHANGED, {"path": "a.txt", "node": "file:a.txt", "old": "fa", "new": "fa2"})


def test_a_changed_dependency_names_the_node():
    assert check(fps=["fa", "fw2"]) == (ex.DEPENDENCY_CHANGED, {"node": "words:a", "old": "fw", "new": "fw2"})


def test_the_first_changed_input_is_the_reason():
    reason, detail = check(fps=["fa2", "fw2"])
    assert reason == ex.INPUT_CHANGED and detail["node"] == "file:a.txt"


def test_reused_and_recomputed_decisions():
    v = Verifier(False, None)
    assert v.reused("count:a", "count") == ex.Decision("count:a", "count", ex.REUSED)
    why = (ex.INPUT_CHANGED, {"path": "a.txt"})
    ran = v.recomputed("count:a", "count", TRACE, "new-fp", why, 0.5)
    assert ran == ex.Decision("count:a", "count", ex.RAN, ex.INPUT_CHANGED, {"path": "a.txt"}, 0.5)
    cut = v.recomputed("count:a", "count", TRACE, "value-fp", why, 0.5)
    assert cut.status == ex.CUT_OFF and cut.reason == ex.INPUT_CHANGED
    assert v.recomputed("count:a", "count", None, "value-fp", (ex.NEW, {}), 0.0).status == ex.RAN


# -- sources ---------------------------------------------------------------

STAMP = (1, 2, 3, 4)


def record(fp="f1", stamp=STAMP, refreshed=True):
    return SourceRecord(stamp, 10, fp, None, refreshed)


def test_a_source_not_read_again_is_reused():
    before = record(refreshed=False)
    assert Verifier(False, None).source("file:a.txt", before, before) == ex.Decision("file:a.txt", "file", ex.REUSED)


@pytest.mark.parametrize("force, absent, reason", [
    (False, None, ex.NEW), (False, "damaged", ex.STORE_MISSING_OR_DAMAGED), (True, None, ex.FORCED),
])
def test_a_source_without_record_runs_for_the_absent_reason(force, absent, reason):
    d = Verifier(force, absent).source("dir:docs", None, record())
    assert (d.kind, d.status, d.reason, d.detail) == ("dir", ex.RAN, reason, {"path": "docs"})


def test_a_forced_build_runs_every_source_it_reads():
    d = Verifier(True, None).source("file:a.txt", record(), record())
    assert (d.status, d.reason) == (ex.RAN, ex.FORCED)


def test_a_touched_source_with_the_same_content_is_cut_off():
    d = Verifier(False, None).source("file:a.txt", record(stamp=(0, 0, 3, 4)), record())
    assert (d.status, d.reason) == (ex.CUT_OFF, ex.INPUT_CHANGED)
    assert d.detail == {"path": "a.txt", "old": "f1", "new": "f1", "what": "stamp changed, content same"}


def test_a_racy_source_read_again_with_the_same_content_is_cut_off():
    d = Verifier(False, None).source("file:a.txt", record(), record())
    assert d.status == ex.CUT_OFF
    assert d.detail["what"] == "re-read (stamp too recent to trust), content same"


def test_a_changed_source_ran():
    d = Verifier(False, None).source("file:a.txt", record(), record(fp="f2"))
    assert (d.status, d.reason, d.detail) == (ex.RAN, ex.INPUT_CHANGED, {"path": "a.txt", "old": "f1", "new": "f2"})
