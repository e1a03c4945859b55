"""``promptgen next PLAN``: plan selection, ``--achievement``, and prompts a user can paste."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cli_testlib import (BLOCKED_PLAN, DEMO_DIR, DEMO_PLAN, DEMO_STATES, DRAFT_PLAN, SHIPPED_PLAN, copy_demo,
                         make_workspace, run)

# ---------------------------------------------------------------------------
# a demo copy shared by the read-only tests of this module (each xdist worker has its own)


@pytest.fixture
def shared(ro_warm: Path) -> Path:
    """conftest's read-only built demo, under this module's name for it."""
    return ro_warm


@pytest.fixture(scope="module")
def sel(tmp_path_factory, promptgen_exe) -> Path:
    """Plans whose names exercise the selection rules (exact > prefix > substring, folders, nesting)."""
    ws = make_workspace(tmp_path_factory.mktemp("sel") / "ws", {
        "API/PLAN_API.md": ["0.1"],
        "API-V2/PLAN_API-V2.md": ["0.1"],
        "CORE-X/PLAN_CORE-X.md": ["0.1"],
        "MY-CORE/PLAN_MY-CORE.md": ["0.1"],
        "auth-folder/PLAN_LOGIN.md": ["0.1"],
        "group/NESTED/PLAN_NESTED.md": ["0.1", "0.2"],
        "Mixed/PLAN_Mixed.md": ["0.1"],
        "MIXED-TWO/PLAN_MIXED-TWO.md": ["0.1"],
    })
    r = run(promptgen_exe, ["build"], ws)
    assert r.code == 0, str(r)
    return ws


def header_feature(prompt: str) -> str:
    """The feature named by the prompt's title line (``# FEATURE — …``), after any warning block."""
    m = re.search(r"^# (\S+) — ", prompt, re.M)
    assert m, f"no title line in prompt:\n{prompt[:500]}"
    return m.group(1)


# ---------------------------------------------------------------------------
# stdout is the prompt, stderr the messages


@pytest.mark.parametrize("env", [{}, {"PROMPTGEN_NO_FASTPATH": "1"}], ids=["fast-path", "full-path"])
def test_next_prints_the_prompt_alone_on_stdout(shared, pg, env):
    r = pg("next", "@DEMO-FEATURE", cwd=shared, env=env)
    assert r.code == 0, str(r)
    assert r.err == "", str(r)
    assert r.out.startswith("# DEMO-FEATURE — Achievement 0.3: Configuration loader\n"), str(r)
    assert r.out.endswith("\n") and not r.out.endswith("\n\n\n")
    assert "promptgen:" not in r.out and "warning" not in r.out.lower()


def test_fast_path_and_full_path_answer_alike(shared, pg):
    for sel_ in ("@DEMO-FEATURE", "@SHIPPED-FEATURE", "@BLOCKED-FEATURE", "@DRAFT-IDEA", DEMO_PLAN):
        fast = pg("next", sel_, cwd=shared)
        full = pg("next", sel_, cwd=shared, env={"PROMPTGEN_NO_FASTPATH": "1"})
        assert (fast.code, fast.out, fast.err) == (full.code, full.out, full.err), sel_


def test_warnings_go_to_stderr_and_the_prompt_to_stdout(tmp_path, pg):
    ws = copy_demo(tmp_path / "ws")
    (ws / DEMO_DIR / "execution" / "feedbacks" / "APPROVED_99.md").write_text("stray\n", encoding="utf-8")
    for _ in range(2):  # full path, then the fast path
        r = pg("next", "@DEMO-FEATURE", cwd=ws)
        assert r.code == 0, str(r)
        err_lines = [line for line in r.err.splitlines() if line]
        assert err_lines and all(line.startswith("warning") for line in err_lines), str(r)
        assert "orphan_feedback" in r.err and "APPROVED_99.md" in r.err
        # the prompt quotes its warnings (docs/USER_GUIDE.md §7, "Warnings") but never the stderr lines themselves
        assert "warning (orphan_feedback)" not in r.out
        assert header_feature(r.out) == "DEMO-FEATURE"


# ---------------------------------------------------------------------------
# selecting a plan


@pytest.mark.parametrize("selector, feature", [
    ("@DEMO-FEATURE", "DEMO-FEATURE"),            # exact feature
    ("@demo-feature", "DEMO-FEATURE"),            # case-insensitive, unique
    ("@DEMO", "DEMO-FEATURE"),                    # unique prefix
    ("@shipped", "SHIPPED-FEATURE"),
    ("@IDEA", "DRAFT-IDEA"),                      # unique substring
    ("DEMO-FEATURE", "DEMO-FEATURE"),             # the @ is optional for a bare name
    (DEMO_PLAN, "DEMO-FEATURE"),                  # a path to the PLAN file
    ("./" + SHIPPED_PLAN, "SHIPPED-FEATURE"),
])
def test_selecting_a_demo_plan(shared, pg, selector, feature):
    r = pg("next", selector, cwd=shared)
    assert r.code in (0, 1), str(r)
    assert header_feature(r.out) == feature, str(r)


def test_selecting_by_absolute_path_and_from_a_subfolder(shared, pg):
    r = pg("next", str(shared / DEMO_PLAN), cwd=shared / "work-space")
    assert r.code == 0 and header_feature(r.out) == "DEMO-FEATURE", str(r)
    r = pg("next", "PLAN_SHIPPED-FEATURE.md", cwd=shared / "work-space" / "plans" / "SHIPPED-FEATURE")
    assert r.code == 0 and header_feature(r.out) == "SHIPPED-FEATURE", str(r)
    r = pg("next", "@BLOCKED", cwd=shared / DEMO_DIR / "subplans")
    assert r.code == 0 and header_feature(r.out) == "BLOCKED-FEATURE", str(r)


@pytest.mark.parametrize("selector, feature", [
    ("@API", "API"),              # exact beats the prefix match API-V2
    ("@api", "API"),              # case-insensitive exact beats prefix too
    ("@api-v", "API-V2"),         # unique prefix
    ("@core", "CORE-X"),          # a prefix match beats a substring match (MY-CORE)
    ("@auth", "LOGIN"),           # the plan's folder name counts
    ("@AUTH-FOLDER", "LOGIN"),
    ("@nested", "NESTED"),        # nested plans are reachable
    ("@Mixed", "Mixed"),          # exact feature first, although "mixed" prefixes MIXED-TWO
    ("@mixed-t", "MIXED-TWO"),
])
def test_selection_rules(sel, pg, selector, feature):
    r = pg("next", selector, cwd=sel)
    assert r.code == 0, str(r)
    assert header_feature(r.out) == feature, str(r)


def _pf(rel: str) -> str:
    return f"work-space/plans/{rel}"


SEL_PLANS = ["API/PLAN_API.md", "API-V2/PLAN_API-V2.md", "CORE-X/PLAN_CORE-X.md", "MY-CORE/PLAN_MY-CORE.md",
             "auth-folder/PLAN_LOGIN.md", "group/NESTED/PLAN_NESTED.md", "Mixed/PLAN_Mixed.md",
             "MIXED-TWO/PLAN_MIXED-TWO.md"]


@pytest.mark.parametrize("selector, listed", [
    ("@ore", ["CORE-X/PLAN_CORE-X.md", "MY-CORE/PLAN_MY-CORE.md"]),          # substring of two plans
    ("@a", ["API/PLAN_API.md", "API-V2/PLAN_API-V2.md", "auth-folder/PLAN_LOGIN.md"]),  # prefix of three
    ("@zzz", SEL_PLANS),
    ("@", SEL_PLANS),
])
def test_unknown_or_ambiguous_plan_exits_2_listing_candidates(sel, pg, selector, listed):
    r = pg("next", selector, cwd=sel)
    assert r.code == 2, str(r)
    assert r.out == "", "an error is never printed as the prompt"
    assert r.err.startswith("promptgen: "), str(r)
    for rel in SEL_PLANS:
        if rel in listed:
            assert _pf(rel) in r.err, (rel, r.err)
        else:
            assert _pf(rel) not in r.err, (rel, r.err)


def test_paths_that_are_not_plans_exit_2(shared, pg):
    for given in ("/etc/passwd", "../outside.md", f"{DEMO_DIR}/subplans/SUBPLAN_DEMO-FEATURE_21.md",
                  "work-space/plans/NOPE/PLAN_NOPE.md", "@..", "@../../etc"):
        r = pg("next", given, cwd=shared)
        assert r.code == 2, str(r)
        assert r.out == ""
        assert r.err.startswith("promptgen: "), str(r)


# ---------------------------------------------------------------------------
# --achievement


def test_achievement_targets_another_achievement(shared, pg):
    r = pg("next", "@DEMO-FEATURE", "--achievement", "2.2", cwd=shared)
    assert r.code == 0, str(r)
    assert "# DEMO-FEATURE — Achievement 2.2: Export to PDF" in r.out
    assert "EXECUTION_TASK_DEMO-FEATURE_22_02.md" in r.out
    short = pg("next", "@DEMO", "-a", "2.2", cwd=shared)
    assert short.code == 0 and short.out == r.out


def test_achievement_after_a_cold_build_and_a_warm_one_agree(tmp_path, pg):
    """Values are computed on a cold build and loaded from the store on a warm one."""
    ws = copy_demo(tmp_path / "ws")
    cold = pg("next", "@DEMO", "--achievement", "2.3", cwd=ws)
    warm = pg("next", "@DEMO", "--achievement", "2.3", cwd=ws)
    assert cold.code == warm.code == 0, (str(cold), str(warm))
    assert cold.out == warm.out


@pytest.mark.parametrize("number", ["9.9", "0.10", "2.5", "10.1"])
def test_undeclared_achievement_exits_2_listing_the_declared_ones(shared, pg, number):
    r = pg("next", "@DEMO-FEATURE", "--achievement", number, cwd=shared)
    assert r.code == 2, str(r)
    assert r.out == ""
    assert number in r.err
    for n in DEMO_STATES:
        assert re.search(rf"(?<![\d.]){re.escape(n)}(?![\d.])", r.err), (n, r.err)


@pytest.mark.parametrize("number", ["abc", "2", "", "1.", "-1.1", "1..2"])
def test_malformed_achievement_number_exits_2(shared, pg, number):
    r = pg("next", "@DEMO-FEATURE", "--achievement", number, cwd=shared)
    assert r.code == 2, str(r)
    assert r.out == ""
    assert r.err.startswith("promptgen: "), str(r)
    assert repr(number) in r.err or f'"{number}"' in r.err, "the message names the value given"


def test_plan_without_achievements_exits_1_and_is_never_complete(shared, pg):
    r = pg("next", "@DRAFT-IDEA", cwd=shared)
    assert r.code == 1, str(r)
    assert header_feature(r.out) == "DRAFT-IDEA"
    assert "no achievements" in r.out.lower()
    low = r.out.lower()
    for claim in ("plan complete", "plan is complete", "plan_complete", "all achievements", "complete!",
                  "completed", "congratulations", "✅"):
        assert claim not in low, f"{claim!r} in the no-achievements prompt:\n{r.out}"
    assert not re.search(r"\bcomplete\b", low.replace("never complete", "")), r.out
    st = pg("status", "--json", cwd=shared).json()
    (draft,) = [p for p in st["plans"] if p["feature"] == "DRAFT-IDEA"]
    assert draft["plan_state"] == "no_achievements" and draft["current"] is None
    a = pg("next", "@DRAFT-IDEA", "--achievement", "0.1", cwd=shared)
    assert a.code == 2 and "0.1" in a.err, str(a)


# ---------------------------------------------------------------------------
# every state's prompt is usable as pasted

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_. -]*\]|<[A-Z][A-Z0-9_]*>|\{|\}|\$")
BACKTICKED = re.compile(r"`([^`\s]+)`")


def created_names(token: str) -> set[str]:
    """Files a prompt for achievement ``token`` may name before they exist (it asks to write them)."""
    return {f"SUBPLAN_DEMO-FEATURE_{token}.md", f"APPROVED_{token}.md", f"FIX_{token}.md",
            f"FIX_{token}_RESOLUTION.md"} | {f"EXECUTION_TASK_DEMO-FEATURE_{token}_{m:02d}.md" for m in range(1, 10)}


def check_paths(ws: Path, prompt: str, plan_dir: str, may_create: set[str]) -> None:
    for tok in BACKTICKED.findall(prompt):
        if not tok.startswith("work-space/"):
            continue
        assert tok.startswith(plan_dir + "/"), f"{tok} is outside the plan's folder {plan_dir}"
        if not (ws / tok).exists():
            assert Path(tok).name in may_create, f"the prompt names {tok}, which does not exist"


def next_commands(prompt: str) -> list[str]:
    return [line.strip() for line in prompt.splitlines() if re.match(r"^\s*promptgen \S", line)]


@pytest.mark.parametrize("number, state", sorted(DEMO_STATES.items()))
def test_each_state_prompt_is_usable_as_pasted(shared, pg, number, state):
    args = ["next", "@DEMO-FEATURE"] + ([] if number == "0.3" else ["--achievement", number])
    r = pg(*args, cwd=shared)
    assert r.code == 0, str(r)
    p = r.out
    assert f"# DEMO-FEATURE — Achievement {number}:" in p, p[:300]
    assert not PLACEHOLDER.search(p), f"template leftover {PLACEHOLDER.search(p).group(0)!r} in:\n{p}"
    assert "None" not in p and "null" not in p
    token = number.replace(".", "")
    check_paths(shared, p, DEMO_DIR, created_names(token))
    if state not in ("approved", "skipped"):
        # the prompt names the achievement's own files, with their real names
        assert DEMO_PLAN in p
    cmds = next_commands(p)
    assert "promptgen next @DEMO-FEATURE" in [c.split(" --")[0] for c in cmds], f"no next command in:\n{p}"
    for cmd in cmds:
        argv = shlex.split(cmd)
        assert argv[0] == "promptgen"
        again = pg(*argv[1:], cwd=shared)
        assert again.code in (0, 1), f"the prompt's own command fails: {cmd}\n{again}"


@pytest.mark.parametrize("feature, plan, code, words", [
    ("SHIPPED-FEATURE", SHIPPED_PLAN, 0, ["plan complete", "Achievements: 2", "Hours"]),
    ("BLOCKED-FEATURE", BLOCKED_PLAN, 0, ["blocked", "1.2 waits for 1.1", "parallel.json"]),
    ("DRAFT-IDEA", DRAFT_PLAN, 1, ["no achievements", "Achievement Index"]),
])
def test_plan_level_prompts_are_usable_as_pasted(shared, pg, feature, plan, code, words):
    r = pg("next", f"@{feature}", cwd=shared)
    assert r.code == code, str(r)
    p = r.out
    assert header_feature(p) == feature
    for w in words:
        assert w in p, (w, p)
    assert plan in p
    assert not PLACEHOLDER.search(p), f"template leftover {PLACEHOLDER.search(p).group(0)!r} in:\n{p}"
    check_paths(shared, p, plan.rsplit("/", 1)[0], set())
    cmds = next_commands(p)
    assert cmds, f"no promptgen command to run next in:\n{p}"
    for cmd in cmds:
        again = pg(*shlex.split(cmd)[1:], cwd=shared)
        assert again.code in (0, 1), f"the prompt's own command fails: {cmd}\n{again}"


def test_fix_issues_keep_the_severity_the_reviewer_wrote(shared, pg):
    # FIX_03.md: "1. **Critical**: a missing config file …" and "2. Minor: the error message …"
    r = pg("next", "@DEMO-FEATURE", cwd=shared)
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    first = next(line for line in lines if "missing config file" in line)
    second = next(line for line in lines if "does not name the file" in line)
    assert "[Critical]" in first and "[Issue]" not in first, first
    assert "[Minor]" in second and "[Issue]" not in second, second


@pytest.mark.parametrize("number", ["1.2", "2.1"])
def test_targeted_prompt_says_how_to_continue_that_achievement(shared, pg, number):
    r = pg("next", "@DEMO-FEATURE", "--achievement", number, cwd=shared)
    assert r.code == 0, str(r)
    assert f"promptgen next @DEMO-FEATURE --achievement {number}" in next_commands(r.out), next_commands(r.out)


def test_next_command_survives_a_feature_name_that_needs_quoting(tmp_path, pg):
    ws = make_workspace(tmp_path / "ws", {"odd/PLAN_MY FEAT (v2).md": ["0.1"]})
    r = pg("next", "@MY FEAT (v2)", cwd=ws)
    assert r.code == 0 and "# MY FEAT (v2) — Achievement 0.1" in r.out, str(r)
    (cmd,) = next_commands(r.out)
    assert shlex.split(cmd) == ["promptgen", "next", "@MY FEAT (v2)"], cmd
