"""``promptgen stats``, ``promptgen metrics`` and ``promptgen.get_performance_stats()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from cli_testlib import base_env

STATS_KEYS = {"cache_hit_rate", "avg_parse_time", "avg_generation_time", "total_calls"}


def stats(pg, ws) -> dict:
    r = pg("stats", "--json", cwd=ws)
    assert r.code == 0, str(r)
    return r.json()


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_stats_json_keys_and_calls_counting_every_build(demo, pg):
    empty = stats(pg, demo)  # no store yet: figures are empty, not an error
    assert STATS_KEYS <= set(empty) and empty["total_calls"] == 0
    assert empty["cache_hit_rate"] is None

    calls = []
    for args in (["build"], ["build"], ["build", "--json"], ["build", "--no-wait"], ["next", "@DEMO"]):
        assert pg(*args, cwd=demo).code == 0
        s = stats(pg, demo)
        assert STATS_KEYS <= set(s)
        calls.append(s["total_calls"])
    assert calls == sorted(set(calls)) and calls[0] == 1, f"total_calls must grow with every build: {calls}"
    assert calls[-1] == 5

    s = stats(pg, demo)
    assert isinstance(s["total_calls"], int)
    for key in ("cache_hit_rate", "avg_parse_time", "avg_generation_time"):
        assert isinstance(s[key], float) and s[key] >= 0, (key, s[key])
    assert 0 <= s["cache_hit_rate"] <= 1
    assert s["total_builds"]["full"] == 1 and s["total_builds"]["noop"] == 4


def test_cache_hit_rate_after_ten_builds(warm, pg):
    for _ in range(9):
        assert pg("build", cwd=warm).code == 0
    s = stats(pg, warm)
    assert s["total_calls"] == 10
    assert s["cache_hit_rate"] > 0.8, s

    table = pg("stats", cwd=warm)
    assert table.code == 0 and "cache hit rate" in table.out and "%" in table.out, str(table)


def test_get_performance_stats_matches_the_cli(warm, pg):
    pg("build", cwd=warm)
    code = ("import json, sys, promptgen; "
            "print(json.dumps(promptgen.get_performance_stats(sys.argv[1])))")
    p = subprocess.run([sys.executable, "-c", code, str(warm)], capture_output=True, text=True,
                       env=base_env(), cwd=str(warm), timeout=60)
    assert p.returncode == 0, p.stderr
    api = json.loads(p.stdout)
    cli = stats(pg, warm)
    assert STATS_KEYS <= set(api)
    assert set(api) == set(cli)
    assert api == cli
    # and without an argument, from inside the workspace (like the CLI)
    code2 = "import json, promptgen; print(json.dumps(promptgen.get_performance_stats()))"
    p2 = subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True, env=base_env(),
                        cwd=str(warm / "work-space"), timeout=60)
    assert p2.returncode == 0, p2.stderr
    assert json.loads(p2.stdout) == cli


def test_metrics_is_valid_prometheus_text(warm, pg):
    assert pg("build", cwd=warm).code == 0   # noop
    assert pg("next", "@DEMO", cwd=warm).code == 0
    r = pg("metrics", cwd=warm)
    assert r.code == 0, str(r)
    assert r.err == ""
    fam = families(r.out)

    builds = fam["promptgen_builds"]
    assert builds.type == "counter"
    by_mode = {s.labels["mode"]: s.value for s in builds.samples if s.name == "promptgen_builds_total"}
    assert by_mode.get("full") == 1 and by_mode.get("noop") == 2, by_mode
    assert set(by_mode) <= {"full", "incremental", "noop"}

    hist = fam["promptgen_build_duration_seconds"]
    assert hist.type == "histogram"
    names = {s.name for s in hist.samples}
    assert {"promptgen_build_duration_seconds_bucket", "promptgen_build_duration_seconds_sum",
            "promptgen_build_duration_seconds_count"} <= names
    count = sum(s.value for s in hist.samples if s.name.endswith("_count"))
    inf = sum(s.value for s in hist.samples if s.name.endswith("_bucket") and s.labels["le"] == "+Inf")
    assert count == inf == 3, (count, inf)
    assert stats(pg, warm)["total_calls"] == 3


def test_metrics_file_is_written_atomically(warm, pg, tmp_path):
    out_dir = tmp_path / "textfile"
    out_dir.mkdir()
    target = out_dir / "promptgen.prom"
    target.write_text("stale\n")
    r = pg("metrics", "--metrics-file", str(target), cwd=warm)
    assert r.code == 0, str(r)
    assert r.out == "", "with --metrics-file nothing goes to stdout"
    assert os.listdir(out_dir) == ["promptgen.prom"], "a temporary file was left behind"
    text = target.read_text()
    assert "stale" not in text
    assert set(families(text)) == set(families(pg("metrics", cwd=warm).out))

    rel = pg("metrics", "--metrics-file", "rel.prom", cwd=out_dir)
    assert rel.code == 2, "outside a workspace"
    rel = pg("metrics", "--metrics-file", str(out_dir / "second.prom"), cwd=warm / "work-space")
    assert rel.code == 0 and sorted(os.listdir(out_dir)) == ["promptgen.prom", "second.prom"]


def test_metrics_file_in_a_missing_folder_names_that_path(warm, pg, tmp_path):
    target = tmp_path / "missing" / "promptgen.prom"
    r = pg("metrics", "--metrics-file", str(target), cwd=warm)
    assert r.code == 2, str(r)
    assert str(target) in r.err, str(r)
    assert f"{target}." not in r.err, "the message names a temporary file the user never asked for"
    assert r.out == ""


def test_metrics_before_any_build_is_empty_but_valid(demo, pg):
    r = pg("metrics", cwd=demo)
    assert r.code == 0, str(r)
    fam = families(r.out)
    builds = [s.value for f in fam.values() for s in f.samples if s.name == "promptgen_builds_total"]
    assert sum(builds) == 0, r.out
    assert not (demo / ".promptgen").exists(), "a view must not create the store"
