"""Tests of the benchmark harness itself: generator, baselines, helpers, and one end-to-end run
against bench/fake_cli.py (a stand-in, so none of this needs the real promptgen CLI).

Run from the repo root: ``.venv/bin/python -m pytest bench -q``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import baselines
from bench.generate import generate, token
from bench.run import (
    BenchError,
    derived_nodes,
    detect_python,
    evaluate_gate,
    expected_recompute,
    heavy_imports,
    main as run_main,
    noop_problems,
    parse_importtime,
    parse_json_output,
    render_table,
    Row,
    status_is_complete,
    summarize,
    toggle_status,
)

REPO = Path(__file__).resolve().parent.parent
FAKE = [sys.executable, str(REPO / "bench" / "fake_cli.py")]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- generator --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 500])
def test_generate_writes_exactly_n_files(tmp_path, n):
    stats = generate(tmp_path, n, seed=3)
    assert stats["files"] == n
    assert len(baselines.list_files(tmp_path)) == n


def test_generate_is_deterministic_and_seed_dependent(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 800, seed=1)
    generate(b, 800, seed=1)
    generate(c, 800, seed=2)
    assert tree(a) == tree(b)
    assert tree(a) != tree(c)


def test_generate_sets_old_mtimes(tmp_path):
    generate(tmp_path, 300)
    limit = time.time() - 1800
    for p in [tmp_path / "work-space", *(tmp_path / "work-space").rglob("*")]:
        assert p.stat().st_mtime < limit, p


def test_generate_refuses_to_overwrite(tmp_path):
    generate(tmp_path, 10)
    with pytest.raises(FileExistsError):
        generate(tmp_path, 10)


def test_generated_names_follow_the_workspace_spec(tmp_path):
    stats = generate(tmp_path, 2000, seed=5)
    assert stats["plans"] == len(stats["plan_files"]) > 10
    assert {"approved", "no_subplan"} <= set(stats["achievement_states"])
    assert len(stats["achievement_states"]) >= 6  # many states of the state table (docs/USER_GUIDE.md §6) occur
    plans = {}
    for rel in stats["plan_files"]:
        p = tmp_path / rel
        f = p.name[len("PLAN_") : -3]
        text = p.read_text(encoding="utf-8")
        assert "## 📋 Achievement Index" in text
        numbers = re.findall(r"\*\*Achievement (\d+(?:\.\d+)+)\*\*", text.split("## 🎯 Achievements")[0])
        assert numbers, rel
        plans[p.parent] = (f, {token(n) for n in numbers}, numbers)
    status_re = re.compile(r"^\*\*Status\*\*: ", re.M)
    for path in baselines.list_files(tmp_path):
        d = next((q for q in [path.parent, *path.parents] if q in plans), None)
        assert d is not None, path
        f, tokens, numbers = plans[d]
        name = path.name
        if name.startswith("SUBPLAN_"):
            assert re.fullmatch(rf"SUBPLAN_{re.escape(f)}_(\d+)\.md", name).group(1) in tokens
            assert path.parent.name == "subplans"
        elif name.startswith("EXECUTION_TASK_"):
            m = re.fullmatch(rf"EXECUTION_TASK_{re.escape(f)}_(\d+)_(\d\d)(_V2)?\.md", name)
            assert m and m.group(1) in tokens, name
            header = path.read_text(encoding="utf-8").split("\n## ")[0]
            assert len(status_re.findall(header)) == 1
        elif name.startswith(("APPROVED_", "FIX_")):
            assert path.parent.name == "feedbacks"
            assert re.fullmatch(r"(APPROVED|FIX)_(\d+)(_RESOLUTION)?\.md", name).group(2) in tokens
        elif name == "parallel.json":
            data = json.loads(path.read_text(encoding="utf-8"))
            ids = [a["achievement_id"] for a in data["achievements"]]
            assert ids == numbers
            for a in data["achievements"]:
                assert all(dep in ids[: ids.index(a["achievement_id"])] for dep in a["dependencies"])


def test_generate_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "bench.generate", str(tmp_path / "w"), "--files", "40"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files"] == 40
    again = subprocess.run([sys.executable, "-m", "bench.generate", str(tmp_path / "w"), "--files", "40"], cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


# -- baselines --------------------------------------------------------------------------------


def test_group_by_plan_puts_every_generated_file_in_a_plan(tmp_path):
    stats = generate(tmp_path, 600)
    groups = baselines.group_by_plan(tmp_path, baselines.list_files(tmp_path))
    assert "" not in groups
    assert len(groups) == stats["plans"]
    assert sum(map(len, groups.values())) == 600


@pytest.mark.skipif(not baselines.ninja_path(), reason="ninja not installed (Debian: ninja-build)")
def test_ninja_manifest_is_a_real_noop_over_every_file(tmp_path):
    ws, scratch = tmp_path / "ws", tmp_path / "scratch"
    generate(ws, 300)
    files = baselines.list_files(ws)
    info = baselines.write_ninja_manifest(ws, scratch, files)
    assert info["inputs"] == 300
    ninja = baselines.ninja_path()
    baselines.prime_ninja(ninja, scratch)
    assert not any(scratch.joinpath(p).exists() for p in ("work-space",))  # nothing written into the workspace
    assert "no work to do" in subprocess.run(baselines.ninja_noop_cmd(ninja, scratch), capture_output=True, text=True).stdout
    # the inputs are real: touching one workspace file makes exactly one edge dirty
    future = time.time() + 10
    os.utime(files[123], (future, future))
    dry = subprocess.run([ninja, "-C", str(scratch), "-n"], capture_output=True, text=True).stdout
    assert "[1/1]" in dry


def test_stat_loop_stats_every_listed_file(tmp_path):
    generate(tmp_path / "ws", 50)
    files = baselines.list_files(tmp_path / "ws")
    listfile = baselines.write_stat_list(files, tmp_path / "scratch")
    assert subprocess.run(baselines.stat_loop_cmd(sys.executable, listfile)).returncode == 0
    files[-1].unlink()
    assert subprocess.run(baselines.stat_loop_cmd(sys.executable, listfile), capture_output=True).returncode != 0


# -- helpers of run.py ------------------------------------------------------------------------


def test_summarize_median_and_p90():
    s = summarize([float(x) for x in range(1, 11)])
    assert s["median"] == 5.5 and s["p90"] == 9 and s["n"] == 10 and s["min"] == 1


@pytest.mark.parametrize(
    "value,complete",
    [
        ("✅ Complete", True),
        ("✅ COMPLETE - all deliverables created", True),
        ("**COMPLETE**", True),
        (" Completed 2025-11-13", True),
        ("📋 Design Phase Complete", False),
        ("Design Complete, Ready for Execution", False),
        ("Incomplete", False),
        ("In Progress", False),
        ("Completeness pending", False),
    ],
)
def test_status_is_complete_follows_the_spec(value, complete):
    assert status_is_complete(value) is complete


def test_toggle_status_flips_only_the_header():
    text = "# SUBPLAN: x\n\n**Status**: ✅ Complete  \n\n## Log\n\n**Status**: In Progress\n"
    flipped, was = toggle_status(text)
    assert was is True
    assert flipped.startswith("# SUBPLAN: x\n\n**Status**: 🚧 In Progress\n")
    assert flipped.endswith("**Status**: In Progress\n")
    back, was2 = toggle_status(flipped)
    assert was2 is False and "**Status**: ✅ Complete" in back.split("## ")[0]
    added, was3 = toggle_status("# T\n\n## A\n")
    assert was3 is False and added.split("\n")[1] == "**Status**: ✅ Complete"


def test_parse_importtime_and_heavy_imports():
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   _io\n"
        "import time:       300 |       9000 | networkx\n"
        "import time:        50 |         50 |     rich.console\n"
        "some other stderr line\n"
    )
    mods = parse_importtime(stderr)
    assert [m["module"] for m in mods] == ["_io", "networkx", "rich.console"]
    assert mods[0]["depth"] == 1 and mods[1]["depth"] == 0
    assert heavy_imports(mods) == ["networkx", "rich"]
    assert heavy_imports(parse_importtime("import time: 1 | 1 | richtext\n")) == []


def test_parse_json_output_and_noop_problems():
    assert parse_json_output('warning: x\n{"nodes": 3}\n', "t") == {"nodes": 3}
    assert parse_json_output('note\n{\n  "nodes": 3,\n  "c": {"a": 1}\n}\n', "t") == {"nodes": 3, "c": {"a": 1}}
    with pytest.raises(BenchError):
        parse_json_output("no json here", "t")
    ok = {"recomputed": 0, "counters": {"files_stat": 9, "files_read": 0, "files_hashed": 0}}
    assert noop_problems(ok) == []
    bad = {"recomputed": 2, "recomputed_nodes": ["state:A", "prompt:A"], "counters": {"files_read": 1, "files_hashed": 1}}
    assert len(noop_problems(bad)) == 3
    assert "files_read missing" in " ".join(noop_problems({"recomputed": 0, "counters": {"files_hashed": 0}}))
    assert noop_problems({"recomputed": 0, "counters": dict(ok["counters"], dirs_listed=2)}) == ["dirs_listed=2"]
    assert derived_nodes(["file:a", "dir:b", "state:X"]) == ["state:X"]


def test_expected_recompute_follows_changes_and_stops_at_cut_offs():
    edges = [("file:s", "subplans:P"), ("file:t", "subplans:P"), ("subplans:P", "state:P"), ("state:P", "prompt:P"), ("plan:P", "state:P"), ("file:s", "other:Q"), ("other:Q", "state:Q")]
    dec = lambda **st: [{"node": k.replace("__", ":"), "status": v} for k, v in st.items()]
    ok = expected_recompute(edges, dec(file__s="ran", subplans__P="ran", state__P="ran", prompt__P="ran", other__Q="cut_off", state__Q="reused"), "file:s")
    assert ok["ok"] and ok["expected"] == ["other:Q", "prompt:P", "state:P", "subplans:P"] and ok["cut_off"] == ["other:Q"]
    shielded = expected_recompute(edges, dec(file__s="ran", subplans__P="cut_off", other__Q="cut_off"), "file:s")
    assert shielded["ok"] and shielded["expected"] == ["other:Q", "subplans:P"]
    missing = expected_recompute(edges, dec(file__s="ran", subplans__P="ran", state__P="reused", other__Q="cut_off"), "file:s")
    assert not missing["ok"] and missing["missing"] == ["state:P"]
    extra = expected_recompute(edges, dec(file__s="ran", subplans__P="cut_off", other__Q="cut_off", state__P="ran"), "file:s")
    assert not extra["ok"] and extra["unexpected"] == ["state:P"]
    assert not expected_recompute(edges, dec(file__s="cut_off"), "file:s")["ok"]  # nothing ran at all


def test_evaluate_gate():
    good = {
        "noop": {"ratio": 1.2},
        "noop_counters": {"problems": []},
        "imports": {"build": {"heavy": []}},
    }
    assert evaluate_gate(good, 3.0) == []
    slow = dict(good, noop={"ratio": 3.5})
    assert "3.50×" in evaluate_gate(slow, 3.0)[0]
    assert evaluate_gate(dict(good, imports={"build": {"heavy": ["rich"]}}), 3.0) == ["no-op build imports rich"]
    assert len(evaluate_gate({}, 3.0)) == 3


def test_detect_python_reads_the_shebang(tmp_path):
    script = tmp_path / "promptgen"
    script.write_text(f"#!{sys.executable}\nprint()\n")
    script.chmod(0o755)
    assert detect_python([str(script)]) == sys.executable
    assert detect_python([sys.executable, "x.py"]) == sys.executable


def test_render_table_aligns_columns():
    out = render_table([Row("a", "1 ms", verdict="PASS"), Row("longer name", "2 ms", "x", "1.0×", "≤ 1", "FAIL")])
    lines = out.splitlines()
    assert lines[0].startswith("scenario") and set(lines[1]) <= {"-", " "}
    assert lines[2].index("1 ms") == lines[3].index("2 ms")


# -- end to end against the fake CLI ----------------------------------------------------------


def _run(tmp_path, *extra, env=None, monkeypatch=None):
    ws = tmp_path / "corpus"
    if not (ws / "work-space").exists():
        generate(ws, 150, seed=4)
    out = tmp_path / "out.json"
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    argv = ["--quick", "--corpus", str(ws), "--json", str(out), "--promptgen", " ".join(FAKE), "--pairs", "2", "--warmup", "1", "--cold-samples", "1", "--edit-samples", "1", *extra]
    code = run_main(argv)
    return code, json.loads(out.read_text())


def test_end_to_end_quick_run_with_fake_cli(tmp_path, capsys):
    code, report = _run(tmp_path, "--scale", "300", "--scale-budget", "1")
    printed = capsys.readouterr().out
    assert code == 0, report["errors"]
    assert report["errors"] == []
    table = {r["scenario"]: r for r in report["table"]}
    assert table["no-op counters"]["verdict"] == "PASS"
    assert table["one-file edit: recomputed"]["verdict"] == "PASS"
    assert table["one-file edit: state change"]["verdict"] == "PASS"
    assert table["touch-only (PLAN mtime): recomputed"]["verdict"] == "PASS"
    assert any(k.startswith("scale 300") for k in table)
    sc = report["scenarios"]
    assert sc["noop"]["target"]["n"] == 2 and len(sc["noop"]["baseline"]["samples"]) == 2
    check = sc["edit"]["graph_check"]["edit"]
    assert check["ok"] and {k.split(":")[0] for k in check["ran"]} == {"subplans", "state", "prompt"}
    assert sc["seed"]["cache_hit_rate_source"].startswith("sum(reused)")  # the fake has no `stats`
    assert sc["scale"]["points"][0]["files"] == 300
    assert "scenario" in printed and "JSON:" in printed
    # the edit and touch scenarios restored the workspace they were given a copy of
    assert not (tmp_path / "corpus" / ".promptgen").exists()


def test_gate_fails_on_a_broken_noop(tmp_path, capsys, monkeypatch):
    code, report = _run(tmp_path, "--gate", "--max-noop-ratio", "1000", "--only", "counters,noop,imports", env={"FAKE_PROMPTGEN_REHASH": "1"}, monkeypatch=monkeypatch)
    assert code == 1
    assert any("files_hashed" in r for r in report["gate"]["reasons"])
    assert "GATE FAILED" in capsys.readouterr().out


def test_gate_passes_on_a_good_noop(tmp_path, capsys):
    code, report = _run(tmp_path, "--gate", "--max-noop-ratio", "1000", "--only", "counters,noop,imports")
    assert code == 0 and report["gate"]["passed"]
    assert "GATE PASSED" in capsys.readouterr().out


def test_a_failing_command_is_reported_clearly(tmp_path, capsys, monkeypatch):
    code, report = _run(tmp_path, "--only", "cold,next", env={"FAKE_PROMPTGEN_FAIL": "next"}, monkeypatch=monkeypatch)
    out = capsys.readouterr().out
    assert code == 2
    assert report["scenarios"]["cold_build"]["median"] > 0
    assert "exited with 3" in report["scenarios"]["next_warm"]["error"]
    assert "failed on purpose" in out and "could not run" in out


def test_an_unexpected_harness_error_is_reported_and_the_rest_still_runs(tmp_path, capsys, monkeypatch):
    import bench.run

    def boom(self):
        raise KeyError("plans")

    monkeypatch.setattr(bench.run.Bench, "cold", boom)
    code, report = _run(tmp_path, "--only", "cold,counters")
    assert code == 2
    assert "harness error KeyError" in report["scenarios"]["cold_build"]["error"]
    assert report["scenarios"]["noop_counters"]["problems"] == []


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_counts_of_the_edit(tmp_path):
    """The callgrind scenario counts real instructions (the fake CLI is a Python
    program too) and judges the edit against the no-op in python -c pass units."""
    code, report = _run(tmp_path, "--only", "noop,instr")
    assert code == 0, report["errors"]
    sc = report["scenarios"]["instructions"]
    assert sc["python_pass"] > 1_000_000 and sc["noop_build"] > sc["python_pass"]
    assert len(sc["edit_builds"]) == 2 and all(n > sc["python_pass"] for n in sc["edit_builds"])
    assert sc["bound_per_pass"] and sc["bound_per_pass"] > 0
    row = {r["scenario"]: r for r in report["table"]}["one-file edit: instructions"]
    assert row["verdict"] in ("PASS", "FAIL") and "× pass" in row["ratio"]


def test_the_mcp_scenario_is_skipped_without_an_mcp_server(tmp_path, capsys):
    code, report = _run(tmp_path, "--only", "mcp")
    assert code == 0, report["errors"]
    table = {r["scenario"]: r for r in report["table"]}
    row = table["mcp next_prompt"]
    assert row["verdict"] == "SKIP" and ("no `mcp` verb" in row["value"] or "SDK is not installed" in row["value"])
