"""The rebuilder: what is recomputed, what is reused, what is cut off, and why.

Everything here uses word-count graphs over plain text files: the engine builds
any graph of files, it knows nothing about PLANs.
"""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

from engine_testlib import (
    ECHO_RULES, TREE_ROOTS, TREE_RULES, WC_ROOTS, all_values, config, echo_roots, make_wc_tree,
    past_racy_window, session_build, statuses, wc_rules, write,
)
from promptgen.engine import explain as ex
from promptgen.engine.build import BuildError, NodeFailed, build
from promptgen.engine.spec import NodeSpec, Rule
from promptgen.engine.store import Store


@pytest.fixture
def wc(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "one two three", "b.txt": "four five", "skip.md": "not counted"})
    past_racy_window()  # so that the first build's stamps are trusted by the next
    return root, config(root, str(tmp_path / "store"))


def test_engine_imports_nothing_of_the_domain():
    """engine/ depends on nothing above it (nodes/, cli/): it knows no PLANs."""
    engine_dir = pathlib.Path(__file__).resolve().parents[2] / "engine"
    for py in engine_dir.glob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else [f".{node.module or ''}"]
            for name in names:
                assert not name.startswith(("promptgen.nodes", "promptgen.cli", "nodes", "cli", "..")), (py, name)


def test_non_plan_graph_builds_and_reuses(wc):
    root, cfg = wc
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.result.mode == "full"
    assert values == {
        "scan:docs": values["scan:docs"],
        "count:a.txt": 3,
        "count:b.txt": 2,
        "report:all": 5,
    }
    assert all(r == ex.NEW for k, (s, r) in statuses(out.result).items())
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    r = out.result
    assert r.mode == "noop"
    assert values["report:all"] == 5
    c = r.counters
    assert (c.nodes, c.recomputed, c.reused, c.cut_off) == (4, 0, 4, 0)
    assert (c.files_stat, c.files_read, c.files_hashed, c.dirs_listed) == (3, 0, 0, 0)
    assert {s for s, _ in statuses(r).values()} == {ex.REUSED}


def test_fresh_files_are_rehashed_once_then_trusted(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    # a file whose mtime is within the racy window of the build that read it
    second = (os.stat(os.path.join(root, "docs/a.txt")).st_mtime_ns // 10**9) * 10**9
    os.utime(os.path.join(root, "docs/a.txt"), ns=(second, second))  # whole second: 2 s window
    session_build(cfg, WC_ROOTS, wc_rules())
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.result.counters.files_read >= 1  # racy: read again although its stamp is unchanged
    assert out.result.counters.recomputed == 0
    os.utime(os.path.join(root, "docs/a.txt"), ns=(second - 10 * 10**9,) * 2)
    past_racy_window()
    session_build(cfg, WC_ROOTS, wc_rules())  # stamps changed: read once more
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.result.mode == "noop"
    assert (out.result.counters.files_read, out.result.counters.files_hashed) == (0, 0)


def test_edit_recomputes_only_dependents(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/a.txt"), "one two three four")
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    r = out.result
    assert r.mode == "incremental"
    assert values["report:all"] == 6
    s = statuses(r)
    assert s["file:docs/a.txt"] == (ex.RAN, ex.INPUT_CHANGED)
    assert s["count:a.txt"] == (ex.RAN, ex.INPUT_CHANGED)
    assert s["report:all"] == (ex.RAN, ex.DEPENDENCY_CHANGED)
    assert s["count:b.txt"] == (ex.REUSED, None)
    assert s["scan:docs"] == (ex.REUSED, None)
    assert r.recomputed_nodes == ["count:a.txt", "report:all"]
    assert (r.counters.files_read, r.counters.files_hashed) == (1, 1)
    d = {x.key: x for x in r.decisions}
    fa = d["count:a.txt"].detail
    assert fa["path"] == "docs/a.txt" and fa["old"] != fa["new"]
    assert fa["new"] == r.fingerprints["file:docs/a.txt"]
    dep = d["report:all"].detail
    assert dep["node"] == "count:a.txt" and dep["new"] == r.fingerprints["count:a.txt"]
    assert "docs/a.txt changed" in d["count:a.txt"].describe()


def test_early_cutoff(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/a.txt"), "uno dos tres")  # same word count
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    r = out.result
    s = statuses(r)
    assert s["count:a.txt"] == (ex.CUT_OFF, ex.INPUT_CHANGED)
    assert s["report:all"] == (ex.REUSED, None)
    assert (r.counters.recomputed, r.counters.cut_off) == (1, 1)
    assert values["report:all"] == 5
    assert "dependents cut off" in {x.key: x for x in r.decisions}["count:a.txt"].describe()


def test_touch_without_change_is_cut_off_at_the_source(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    os.utime(os.path.join(root, "docs/a.txt"))
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    r = out.result
    s = statuses(r)
    assert s["file:docs/a.txt"] == (ex.CUT_OFF, ex.INPUT_CHANGED)
    assert r.counters.recomputed == 0 and r.counters.files_read == 1
    assert {x.key: x for x in r.decisions}["file:docs/a.txt"].detail["what"] == "stamp changed, content same"


def test_rule_version_bump_dirties_every_node_of_the_kind(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    out, values = session_build(cfg, WC_ROOTS, wc_rules(count="2"))
    s = statuses(out.result)
    for k in ("count:a.txt", "count:b.txt"):
        assert s[k] == (ex.CUT_OFF, ex.RULE_CHANGED)  # same values: cut off
    assert s["report:all"] == (ex.REUSED, None)
    assert s["scan:docs"] == (ex.REUSED, None)
    d = {x.key: x for x in out.result.decisions}["count:a.txt"]
    assert d.detail == {"old": "1", "new": "2"}
    out, _ = session_build(cfg, WC_ROOTS, wc_rules(count="2"))
    assert out.result.counters.recomputed == 0


def test_rule_version_bump_with_new_meaning(tmp_path):
    root = str(tmp_path)
    write(os.path.join(root, "x"), "hello")
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, echo_roots("x"), ECHO_RULES)
    upper = {"echo": Rule("echo", "2", lambda p, v: v[0]["text"].upper())}
    out, values = session_build(cfg, echo_roots("x"), upper)
    assert values == {"echo:x": "HELLO"}
    assert statuses(out.result)["echo:x"] == (ex.RAN, ex.RULE_CHANGED)


def test_new_deleted_and_renamed_files(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, "docs/c.txt"), "six")
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    s = statuses(out.result)
    assert s["dir:docs"] == (ex.RAN, ex.INPUT_CHANGED)
    assert s["scan:docs"] == (ex.RAN, ex.INPUT_CHANGED)
    assert s["count:c.txt"] == (ex.RAN, ex.NEW)
    assert s["report:all"] == (ex.RAN, ex.DEPENDENCY_CHANGED)
    detail = {x.key: x for x in out.result.decisions}["report:all"].detail
    assert detail["added"] == ["count:c.txt"] and detail["removed"] == []
    assert values["report:all"] == 6
    os.rename(os.path.join(root, "docs/a.txt"), os.path.join(root, "docs/z.txt"))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert "count:a.txt" not in values and values["count:z.txt"] == 3
    assert values["report:all"] == 6
    os.unlink(os.path.join(root, "docs/b.txt"))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 4 and "count:b.txt" not in values
    clean = build(root, WC_ROOTS, wc_rules())
    assert values == all_values(clean)


def test_deleted_and_recreated_directory(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    for n in os.listdir(os.path.join(root, "docs")):
        os.unlink(os.path.join(root, "docs", n))
    os.rmdir(os.path.join(root, "docs"))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 0 and out.result.fingerprints["dir:docs"] == "missing"
    make_wc_tree(root, {"q.txt": "a b"})
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 2


def test_param_change_recomputes(tmp_path):
    root = str(tmp_path)
    write(os.path.join(root, "x"), "hello")
    rules = {"pre": Rule("pre", "1", lambda p, v: p + v[0]["text"])}
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, [NodeSpec("pre:x", "pre", ("file:x",), ">")], rules)
    out, values = session_build(cfg, [NodeSpec("pre:x", "pre", ("file:x",), "#")], rules)
    assert values == {"pre:x": "#hello"}
    d = {x.key: x for x in out.result.decisions}["pre:x"]
    assert (d.status, d.reason, d.detail["what"]) == (ex.RAN, ex.DEPENDENCY_CHANGED, "parameters changed")


def test_forced_build(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    out, _ = session_build(cfg, WC_ROOTS, wc_rules(), force=True)
    r = out.result
    assert r.mode == "full"
    derived = [d for d in r.decisions if not d.key.startswith(("file:", "dir:"))]
    assert derived and all(d.reason == ex.FORCED for d in derived)
    assert r.counters.recomputed == 4


def test_forced_build_trusts_no_stored_stamp(wc):
    """Regression: --force recomputed every node but still took directory
    listings (and file fingerprints) from the store when their stamps matched,
    so a stale stored listing survived the very build meant to clear it."""
    import sqlite3

    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    conn = sqlite3.connect(os.path.join(cfg.store_dir, "state.db"))  # a stale listing, stamp intact
    conn.execute("""UPDATE sources SET value='[["a.txt","f"]]', fingerprint='stale' WHERE key='dir:docs'""")
    conn.commit()
    conn.close()
    out, values = session_build(cfg, WC_ROOTS, wc_rules(), force=True)
    assert values == all_values(build(root, WC_ROOTS, wc_rules()))
    c = out.result.counters
    assert (c.files_read, c.dirs_listed) == (2, 1)  # skip.md is not read by anyone
    sources = [d for d in out.result.decisions if d.key.startswith(("file:", "dir:"))]
    assert {(d.status, d.reason) for d in sources} == {(ex.RAN, ex.FORCED)}


def test_every_decision_reason_is_in_the_closed_set(wc):
    root, cfg = wc
    for step in range(4):
        out, _ = session_build(cfg, WC_ROOTS, wc_rules(count=str(step % 2)))
        write(os.path.join(root, "docs", f"n{step}.txt"), "w " * step)
        for d in out.result.decisions:
            assert d.status in ex.STATUSES
            assert (d.reason is None) == (d.status == ex.REUSED)
            assert d.reason is None or d.reason in ex.REASONS
            assert d.wall_s >= 0.0


def test_counters_add_up(wc):
    root, cfg = wc
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    c = out.result.counters
    assert c.nodes == c.recomputed + c.reused == 4
    assert (c.files_read, c.files_hashed, c.dirs_listed) == (2, 2, 1)
    assert c.files_stat == 3


# -- regressions ---------------------------------------------------------------


def test_reused_expander_scheduled_in_rounds_declares_its_children(tmp_path):
    """Bug: after a structure change the rounds scheduler reused an expander
    (its listing unchanged) without declaring its stored children, so the
    build failed with "nodes read inputs that no rule produces"."""
    root = str(tmp_path / "w")
    write(os.path.join(root, "d1/a"), "x y")
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, TREE_ROOTS, TREE_RULES)
    write(os.path.join(root, "a"), "z")  # the root listing changes, d1's does not
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES)
    assert statuses(out.result)["scan:d1"] == (ex.REUSED, None)
    assert values == all_values(build(root, TREE_ROOTS, TREE_RULES))


def test_changed_roots_keep_reused_subtrees(tmp_path):
    """Same bug, other path: new roots skip the stored order, everything goes
    through the rounds scheduler, and reused expanders must still expand."""
    root = str(tmp_path / "w")
    write(os.path.join(root, "d1/a"), "x y")
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, TREE_ROOTS[:2], TREE_RULES)
    out, values = session_build(cfg, TREE_ROOTS[:3], TREE_RULES)
    assert values == all_values(build(root, TREE_ROOTS[:3], TREE_RULES))
    assert out.result.counters.recomputed == 1  # only the new root


# -- a graph that is wrong -------------------------------------------------------


def test_rule_failure_names_the_node_and_keeps_the_store(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())

    def boom(p, v):
        raise ValueError("bad input")

    rules = dict(wc_rules(), count=Rule("count", "9", boom))
    with pytest.raises(NodeFailed, match=r"computing count:[ab].txt failed: ValueError: bad input"):
        session_build(cfg, WC_ROOTS, rules)
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert out.result.mode == "noop" and values["report:all"] == 5


def test_bad_rule_outputs(tmp_path):
    root = str(tmp_path)
    write(os.path.join(root, "x"), "hello")
    with pytest.raises(NodeFailed, match="not JSON"):
        build(root, [NodeSpec("s:x", "s", ("file:x",))], {"s": Rule("s", "1", lambda p, v: {1, 2})})
    with pytest.raises(NodeFailed, match="NodeSpec"):
        build(root, [NodeSpec("e:x", "e", ())], {"e": Rule("e", "1", lambda p, v: ["x"], expands=True)})


def test_graph_errors(tmp_path):
    root = str(tmp_path)
    rules = {"k": Rule("k", "1", lambda p, v: 1)}
    with pytest.raises(BuildError, match="no rule for node kind 'zz'"):
        build(root, [NodeSpec("zz:1", "zz", ())], rules)
    with pytest.raises(BuildError, match="no rule produces: k:missing"):
        build(root, [NodeSpec("k:1", "k", ("k:missing",))], rules)
    with pytest.raises(BuildError, match="produced twice"):
        build(root, [NodeSpec("k:1", "k", ()), NodeSpec("k:1", "k", ("file:x",))], rules)
    with pytest.raises(BuildError, match="source keys"):
        build(root, [NodeSpec("file:x", "k", ())], rules)


def test_clean_build_in_memory_has_no_store(wc):
    root, _ = wc
    r = build(root, WC_ROOTS, wc_rules())
    assert r.mode == "full" and r.values["report:all"] == 5
    assert {d.reason for d in r.decisions} == {ex.NEW}
    assert not os.path.exists(os.path.join(root, ".promptgen"))


def test_values_stay_loadable_through_an_open_store(wc):
    root, cfg = wc
    session_build(cfg, WC_ROOTS, wc_rules())
    store = Store.open(cfg.store_dir)
    try:
        r = build(root, WC_ROOTS, wc_rules(), store)
        assert r.counters.recomputed == 0 and r.values["report:all"] == 5
    finally:
        store.close()


def test_one_decision_per_node_and_readable_lines(wc):
    root, cfg = wc
    out, _ = session_build(cfg, WC_ROOTS, wc_rules())
    r = out.result
    keys = [d.key for d in r.decisions]
    assert sorted(keys) == sorted(set(r.order) | set(r.sources))
    write(os.path.join(root, "docs/a.txt"), "uno dos tres")
    out, _ = session_build(cfg, WC_ROOTS, wc_rules(report="2"))
    lines = {d.key: d.describe() for d in out.result.decisions}
    assert lines["count:b.txt"] == "reused (inputs unchanged)"
    assert lines["count:a.txt"].startswith("ran (input docs/a.txt changed ")
    assert lines["count:a.txt"].endswith("dependents cut off")
    assert lines["report:all"] == "ran (rule version 1→2); value unchanged, dependents cut off"
    for d in out.result.decisions:
        j = d.to_json()
        assert set(j) == {"node", "kind", "status", "reason", "detail", "wall_s"}


# -- an expander that changes its child's inputs (a prompt switching template) ---------


def _pick_tree(tmp_path, config_text: str):
    root = str(tmp_path / "w")
    for rel, text in {"a": "one", "b.txt": "two three", "d1/a": "four", "config.txt": config_text}.items():
        write(os.path.join(root, rel), text)
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, TREE_ROOTS, TREE_RULES)
    return root, cfg


def _rebuild_watching_respec(root, cfg, monkeypatch):
    from promptgen.engine.walk_full import FullWalk

    calls = []
    real = FullWalk.declare_again

    def spy(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(FullWalk, "declare_again", spy)
    out, values = session_build(cfg, TREE_ROOTS, TREE_RULES)
    assert values == all_values(build(root, TREE_ROOTS, TREE_RULES))
    return out, values, bool(calls)


def test_a_child_switching_inputs_is_patched_in_place(tmp_path, monkeypatch):
    """Same children, other inputs: the stored order is walked on, nothing is
    declared again (no expander values loaded) and the order is not rewritten."""
    root, cfg = _pick_tree(tmp_path, "a")
    write(os.path.join(root, "config.txt"), "ab")
    out, values, respec = _rebuild_watching_respec(root, cfg, monkeypatch)
    assert values["chosen:"] == ["two three", "four"]
    assert not respec and out.result.structure_changed
    assert out.result.commit.order is None
    s = statuses(out.result)
    assert s["chosen:"] == ("ran", ex.DEPENDENCY_CHANGED)
    # and back: the patched trace was stored
    write(os.path.join(root, "config.txt"), "a")
    out, values, respec = _rebuild_watching_respec(root, cfg, monkeypatch)
    assert values["chosen:"] == ["one"] and not respec


@pytest.mark.parametrize("new_text, why", [
    ("b", "the new input (dirsum:) comes later in the stored order"),
    ("a a a", "a node appears (extra:)"),
])
def test_other_structure_changes_declare_the_graph_again(tmp_path, monkeypatch, new_text, why):
    root, cfg = _pick_tree(tmp_path, "a")
    write(os.path.join(root, "config.txt"), new_text)
    _, _, respec = _rebuild_watching_respec(root, cfg, monkeypatch)
    assert respec, why


def test_a_graph_declaring_a_node_twice_is_never_patched(tmp_path, monkeypatch):
    """Two expanders declaring the same node: patching one's child could hide a
    conflict a clean build reports, so any change declares the graph again."""
    def pick_twice(param, values):
        text = values[0].get("text", "")
        return [NodeSpec("chosen:", "chosen", ("file:a",) if text.startswith("a") else ("file:b.txt",))]

    def pick_same(param, values):
        return [NodeSpec("chosen:", "chosen", ("file:a",))]

    rules = dict(TREE_RULES, pick=Rule("pick", "1", pick_twice, expands=True),
                 same=Rule("same", "1", pick_same, expands=True))
    roots = [NodeSpec("pick:", "pick", ("file:config.txt",)), NodeSpec("same:", "same", ())]
    root = str(tmp_path / "w")
    for rel, text in {"a": "one", "b.txt": "two", "config.txt": "a"}.items():
        write(os.path.join(root, rel), text)
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, roots, rules)
    write(os.path.join(root, "config.txt"), "b")
    with pytest.raises(BuildError, match="produced twice"):
        build(root, roots, rules)  # the clean answer
    with pytest.raises(BuildError, match="produced twice"):
        session_build(cfg, roots, rules)
