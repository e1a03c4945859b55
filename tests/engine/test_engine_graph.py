"""The graph: cycles reported with their nodes, DOT / JSON export, critical path."""

from __future__ import annotations

import json
import os

import pytest

from engine_testlib import WC_ROOTS, config, make_wc_tree, session_build, wc_rules, write
from promptgen.engine import graph, schedule
from promptgen.engine.build import build
from promptgen.engine.spec import NodeSpec, Rule

ID = {"n": Rule("n", "1", lambda p, v: len(v))}


def _cycle_of(roots, rules=ID, root="."):
    with pytest.raises(graph.CycleError) as info:
        build(root, roots, rules)
    return info.value


def test_two_node_cycle_lists_its_nodes(tmp_path):
    err = _cycle_of([NodeSpec("n:a", "n", ("n:b",)), NodeSpec("n:b", "n", ("n:a",))], root=str(tmp_path))
    assert sorted(err.cycle) == ["n:a", "n:b"]
    assert "n:a" in str(err) and "n:b" in str(err) and "cycle" in str(err)


def test_self_loop(tmp_path):
    err = _cycle_of([NodeSpec("n:a", "n", ("n:a",))], root=str(tmp_path))
    assert err.cycle == ["n:a"]


def test_cycle_behind_healthy_nodes_lists_only_its_members(tmp_path):
    write(str(tmp_path / "f"), "x")
    roots = [
        NodeSpec("n:ok", "n", ("file:f",)),
        NodeSpec("n:x", "n", ("n:ok", "n:z")),
        NodeSpec("n:y", "n", ("n:x",)),
        NodeSpec("n:z", "n", ("n:y",)),
        NodeSpec("n:waits", "n", ("n:z",)),  # reads the cycle, is not in it
    ]
    err = _cycle_of(roots, root=str(tmp_path))
    assert sorted(err.cycle) == ["n:x", "n:y", "n:z"]


def test_cycle_made_by_an_expander(tmp_path):
    """Dynamic structure: the cycle only exists once an expander has run."""
    rules = dict(ID, e=Rule("e", "1", lambda p, v: [NodeSpec("n:p", "n", ("n:q",)),
                                                     NodeSpec("n:q", "n", ("n:p",))], expands=True))
    err = _cycle_of([NodeSpec("e:root", "e", ())], rules, root=str(tmp_path))
    assert sorted(err.cycle) == ["n:p", "n:q"]


def test_cycle_in_a_session_leaves_the_store_alone(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "x"})
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, WC_ROOTS, wc_rules())
    bad = WC_ROOTS + [NodeSpec("n:a", "n", ("n:b",)), NodeSpec("n:b", "n", ("n:a",))]
    with pytest.raises(graph.CycleError):
        session_build(cfg, bad, dict(wc_rules(), **ID))
    out, values = session_build(cfg, WC_ROOTS, wc_rules())
    assert values["report:all"] == 1 and out.warnings == []


@pytest.fixture
def wc_result(tmp_path):
    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "x y", "b.txt": "z", 'q"uote.txt': "w"})
    return build(root, WC_ROOTS, wc_rules())


def test_digraph_has_every_node_and_edge(wc_result):
    g = graph.digraph(wc_result.specs)
    assert set(wc_result.specs) <= set(g.nodes)
    assert ("file:docs/a.txt", "count:a.txt") in g.edges
    assert ("count:a.txt", "report:all") in g.edges
    assert ("dir:docs", "scan:docs") in g.edges
    assert g.nodes["file:docs/a.txt"]["kind"] == "file"
    assert g.nodes["report:all"]["kind"] == "report"
    only_derived = graph.digraph(wc_result.specs, with_sources=False)
    assert not any(n.startswith(("file:", "dir:")) for n in only_derived.nodes)


def test_dot_export(wc_result):
    dot = graph.to_dot(graph.digraph(wc_result.specs))
    assert dot.startswith("digraph promptgen {") and dot.rstrip().endswith("}")
    assert '"file:docs/a.txt" -> "count:a.txt";' in dot
    assert '"count:q\\"uote.txt"' in dot  # quotes escaped
    assert '"dir:docs" [label="dir:docs", shape=note];' in dot
    labelled = graph.to_dot(graph.digraph(wc_result.specs), label={"report:all": "the report"})
    assert 'label="the report"' in labelled


def test_json_export(wc_result):
    data = json.loads(json.dumps(graph.to_json(graph.digraph(wc_result.specs))))
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["count:b.txt"]["kind"] == "count"
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    assert ("count:b.txt", "report:all") in edges and data["directed"] is True


def test_critical_path(wc_result):
    wall = {"scan:docs": 0.5, "count:a.txt": 0.25, "count:b.txt": 1.0, "report:all": 0.125}
    path, total = graph.critical_path(wc_result.specs, wall)
    assert path == ["count:b.txt", "report:all"]
    assert total == pytest.approx(1.125)
    path, total = graph.critical_path(wc_result.specs, {})
    assert total == 0.0


def test_critical_path_follows_a_chain():
    specs = {
        "n:a": NodeSpec("n:a", "n", ("file:x",)),
        "n:b": NodeSpec("n:b", "n", ("n:a",)),
        "n:c": NodeSpec("n:c", "n", ("n:b", "file:y")),
        "n:d": NodeSpec("n:d", "n", ("file:y",)),
    }
    path, total = graph.critical_path(specs, {"n:a": 0.1, "n:b": 0.0, "n:c": 0.2, "n:d": 0.25})
    assert path == ["n:a", "n:b", "n:c"] and total == pytest.approx(0.3)


def test_schedule_is_topological():
    specs = {
        "n:c": NodeSpec("n:c", "n", ("n:b",)),
        "n:b": NodeSpec("n:b", "n", ("n:a", "file:q")),
        "n:a": NodeSpec("n:a", "n", ()),
    }
    assert schedule.order(specs, specs) == ["n:a", "n:b", "n:c"]


def _rebuild_in_fresh_process(tmp_path, edit: str, text: str, report: int) -> tuple[str, str]:
    """Build, edit one file, rebuild in a new interpreter: (networkx imported?, structure changed?)."""
    import subprocess
    import sys

    root = str(tmp_path / "w")
    make_wc_tree(root, {"a.txt": "x"})
    cfg = config(root, str(tmp_path / "store"))
    session_build(cfg, WC_ROOTS, wc_rules())
    write(os.path.join(root, edit), text)
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from engine_testlib import *\n"
        "out, v = session_build(config(%r, %r), WC_ROOTS, wc_rules())\n"
        "assert v['report:all'] == %d, v\n"
        "print('networkx' in sys.modules, out.result.structure_changed)\n"
    ) % (os.path.dirname(os.path.abspath(__file__)), root, cfg.store_dir, report)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    networkx, changed = res.stdout.split()
    return networkx, changed


def test_unchanged_structure_never_imports_networkx(tmp_path):
    """The stored order is walked while expanders reproduce the same nodes."""
    # a content edit: same structure
    assert _rebuild_in_fresh_process(tmp_path, "docs/a.txt", "x y", 2) == ("False", "False")


def test_changed_structure_schedules_without_networkx(tmp_path):
    """A new file changes the graph's structure; scheduling it still needs no networkx."""
    assert _rebuild_in_fresh_process(tmp_path, "docs/b.txt", "y z", 3) == ("False", "True")
