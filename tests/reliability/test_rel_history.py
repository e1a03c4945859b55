"""Real histories: after every step of a generated history, incremental == clean.

``history.History`` evolves a workspace the way people do (see its docstring).
After each step the incremental answers — ``status --json`` and ``next <PLAN>``
for every plan, plus ``next --achievement`` for a random achievement, asked in a
random order (build first, next first, status first) — must equal, byte for
byte, those of a clean build of the same files (a fresh ``--store``).

The default run replays 3 seeds x 30 steps in process and one seed x 6 steps
through the console script (status and one random plan's ``next`` per step);
``-m slow`` replays 10 seeds x 150 steps and 60 steps through the console script.
"""

from __future__ import annotations

import difflib
import json
import random
from pathlib import Path

import pytest

from history import History
from rellib import assert_no_traceback, clean, clean_answers, cli, inproc


def _diff(a: str, b: str) -> str:
    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "clean", "incremental", lineterm="", n=2))


def _fail(h: History, what: str, clean_run, inc_run) -> str:
    steps = "\n".join(f"  {k:3d}. {s}" for k, s in enumerate(h.log))
    return (f"seed {h.seed}: {what} differs from a clean build after:\n{steps}\n"
            f"exit codes clean={clean_run.code} incremental={inc_run.code}\n"
            f"{_diff(clean_run.out, inc_run.out)}\n--- stderr diff ---\n{_diff(clean_run.err, inc_run.err)}")


def compare(root: Path, h: History, rng: random.Random, runner=inproc, every_plan: bool = True) -> int:
    """Check the incremental answers against a clean build; returns #answers compared.

    ``every_plan=False`` asks ``next`` for one random plan only (the console-script
    variant, where each answer costs a process start)."""
    ws = ["--workspace", str(root)]
    want_status, want_next = clean_answers(root)
    assert want_status.code == 0, str(want_status)
    assert_no_traceback(want_status, *want_next.values())
    order = rng.choice(("build", "next", "status"))
    got_next = {}
    got_status = None
    if order == "build":
        b = runner("build", *ws)
        assert b.code == 0, str(b)
        assert_no_traceback(b)
    if order != "next":
        got_status = runner("status", "--json", *ws)
    asked = sorted(want_next, key=lambda _: rng.random())
    if not every_plan:
        asked = asked[:1]
    for pf in asked:
        got_next[pf] = runner("next", str(root / pf), *ws)
    if got_status is None:
        got_status = runner("status", "--json", *ws)
    assert_no_traceback(got_status, *got_next.values())
    assert got_status.out == want_status.out and got_status.code == want_status.code, \
        _fail(h, "status --json", want_status, got_status)
    for pf, got in got_next.items():
        want = want_next[pf]
        assert (got.code, got.out, got.err) == (want.code, want.out, want.err), _fail(h, f"next {pf}", want, got)
    n = 1 + len(got_next)
    plans = json.loads(want_status.out)["plans"]
    if plans and rng.random() < 0.5:
        p = rng.choice(plans)
        if p["achievements"]:
            num = rng.choice(p["achievements"])["number"]
            argv = ["next", str(root / p["plan_file"]), "--achievement", num]
            want = clean(argv, root)
            got = runner(*argv, *ws)
            assert_no_traceback(got)
            assert (got.code, got.out, got.err) == (want.code, want.out, want.err), \
                _fail(h, " ".join(argv), want, got)
            n += 1
    return n


def replay(root: Path, seed: int, steps: int, runner=inproc) -> int:
    h = History(root, seed)
    h.start(plans=2)
    rng = random.Random(seed * 7919 + 1)
    every = runner is inproc
    compared = compare(root, h, rng, runner, every)
    for _ in range(steps):
        h.step()
        compared += compare(root, h, rng, runner, every)
    return compared


STEPS = 30


def test_history_replay_with_targeted_builds(tmp_path):
    """Each step waits out the racy window, as edits by people and agents do, so
    the snapshot is valid before it and the build after it is targeted at the
    changed files: every other step builds first (and the build must have
    looked at only part of the graph), the others ask in a random order."""
    import time

    root = tmp_path / "ws"
    h = History(root, 55)
    h.start(plans=3)
    rng = random.Random(55)
    ws = ["--workspace", str(root)]
    time.sleep(0.12)
    assert inproc("build", *ws).code == 0
    targeted = builds = 0
    for step in range(40):
        h.step()
        time.sleep(0.12)
        if step % 2 == 0:
            b = inproc("build", "--json", *ws)
            assert b.code == 0, str(b)
            summary = b.json()
            if summary["mode"] == "incremental":
                builds += 1
                targeted += summary["counters"]["nodes_visited"] < summary["nodes"]
        compare(root, h, rng)
    assert targeted >= builds // 3 and targeted > 0, f"{targeted} of {builds} edit builds were targeted"


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_history_replay(tmp_path, seed):
    n = replay(tmp_path / "ws", seed, steps=STEPS)
    assert n >= (STEPS + 1) * 3


def test_history_replay_through_console_script(tmp_path):
    """The same check with the incremental side run by the installed `promptgen`."""
    replay(tmp_path / "ws", seed=5, steps=6, runner=cli)


def test_history_generator_is_deterministic(tmp_path):
    logs = []
    for k in range(2):
        h = History(tmp_path / f"ws{k}", seed=99)
        h.start(plans=3)
        for _ in range(60):
            h.step()
        logs.append(h.log)
    assert logs[0] == logs[1]
    kinds = " ".join(logs[0])
    # the generator really exercises the workflow (not only touches)
    for word in ("add SUBPLAN", "add task", "status of", "approve"):
        assert word in kinds, f"{word!r} never happened in 60 steps:\n" + "\n".join(logs[0])


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 110))
def test_history_replay_long(tmp_path, seed):
    replay(tmp_path / "ws", seed, steps=150)


@pytest.mark.slow
def test_history_replay_through_console_script_long(tmp_path):
    replay(tmp_path / "ws", seed=6, steps=60, runner=cli)


def test_one_store_shared_by_two_workspaces(tmp_path):
    """PROMPTGEN_STORE / --store shared by two workspaces with the same relative paths: never mixed up."""
    store = str(tmp_path / "shared-store")
    a, b = History(tmp_path / "a", 41), History(tmp_path / "b", 41)  # same seed: same paths, then they diverge
    a.start(plans=2)
    b.start(plans=2)
    rng = random.Random(41)
    for step in range(16):
        h = rng.choice((a, b))
        h.step()
        for ws in rng.sample((a, b), 2):
            got = inproc("status", "--json", "--workspace", ws.root, "--store", store)
            want = clean(["status", "--json"], ws.root)
            assert got.out == want.out, f"step {step}: {ws.root.name} answered from the other workspace's cache"


def test_alternating_plan_roots_on_one_store(tmp_path):
    """Runs with and without --plan-root on one store (different graphs, one cache) stay exact."""
    root = tmp_path / "ws"
    h = History(root, 43)
    h.start(plans=2)
    from rellib import add_plan

    add_plan(root, "LATER", ("0.1", "0.2"), folder="../backlog/LATER")
    rng = random.Random(43)
    for step in range(12):
        h.step()
        extra = ["--plan-root", "work-space/backlog"] if rng.random() < 0.5 else []
        for argv in (["status", "--json", *extra], ["next", "@LATER", *extra]):
            got = inproc(*argv, "--workspace", root)
            want = clean(argv, root)
            assert (got.code, got.out) == (want.code, want.out), f"step {step}: {' '.join(argv)}\n{got}\n{want}"
