"""Safety: promptgen never writes the workspace, never reads outside it, never runs a template.

* every verb (and its error paths) leaves ``work-space/`` byte-for-byte, mode-
  and mtime-identical — no file or folder created, changed or deleted, not even
  a temporary file (folder mtimes would show it);
* plan selectors (``@..``, ``../../etc/passwd``, absolute paths, links),
  ``--workspace``, ``--plan-root`` and ``promptgen.toml`` cannot make it read a
  file outside the workspace: a marker planted outside never shows up;
* template overrides are data: ``{__import__('os').system(...)}``, ``${x.__class__}``,
  ``{0.__globals__}``, Jinja and shell syntax render literally (or as the built-in
  template with a warning), nothing is executed, no Python object leaks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rellib import (assert_no_traceback, child_env, cli, diff_trees, inproc, plan_text, popen, tree_snapshot,
                    write)

SECRET = "OUTSIDE-MARKER-5b7e1"


def _outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    write(out / "PLAN_EVIL.md", plan_text("EVIL", ["0.1", "0.2"], marker=SECRET))
    write(out / "plans" / "EVIL" / "PLAN_EVIL.md", plan_text("EVIL", ["0.1"], marker=SECRET))
    write(out / "templates" / "create_subplan.md", f"{SECRET} $feature\n")
    write(out / "ws2" / "work-space" / "plans" / "EVIL" / "PLAN_EVIL.md", plan_text("EVIL", ["0.1"], marker=SECRET))
    return out


# -- nothing under work-space/ changes ------------------------------------------------------------
VERBS = [
    ["build"], ["build", "--timings"], ["build", "--force", "--json"], ["build", "@DEMO-FEATURE", "--no-wait"],
    ["next", "@DEMO-FEATURE"], ["next", "@DRAFT-IDEA"],
    ["next", "@DEMO-FEATURE", "--achievement", "2.2"], ["next", "@DEMO-FEATURE", "--copy"],
    ["status"], ["status", "--json", "--no-wait"],
    ["graph", "--explain", "--all"], ["graph", "--explain", "--dry-run"], ["graph", "--format", "dot"],
    ["stats"], ["metrics"],
    # error paths
    ["next", "@NO-SUCH-PLAN"], ["next", "@DEMO-FEATURE", "--achievement", "9.9"], ["next", "@FEATURE"],
    ["build", "--bogus"], ["graph", "--explain", "--build", "99"], [],
    ["clean"], ["graph"], ["next", "@SHIPPED-FEATURE"], ["build"],
]


def test_no_verb_creates_changes_or_deletes_anything_in_work_space(demo, tmp_path):
    before = tree_snapshot(demo / "work-space")
    root_before = sorted(os.listdir(demo))
    seen_codes = set()
    for argv in VERBS:
        r = cli(*argv, cwd=demo)
        assert_no_traceback(r)
        seen_codes.add(r.code)
        after = tree_snapshot(demo / "work-space")
        assert after == before, f"`promptgen {' '.join(argv)}` changed work-space/: {diff_trees(before, after)}"
    # with --workspace, from inside a plan folder, and via metrics --metrics-file outside the workspace
    inner = demo / "work-space" / "plans" / "DEMO-FEATURE"
    for argv, cwd in ((["next", "PLAN_DEMO-FEATURE.md"], inner),
                      (["metrics", "--metrics-file", str(tmp_path / "m.prom"), "--workspace", str(demo)], tmp_path)):
        r = cli(*argv, cwd=cwd)
        assert_no_traceback(r)
        assert r.code == 0, str(r)
    assert (tmp_path / "m.prom").exists()
    # watch: a few seconds of it, with an edit outside work-space (a template override) in between
    p = popen("watch", "--debounce", "50", cwd=demo)
    time.sleep(2.0)
    write(demo / ".promptgen" / "templates" / "plan_complete.md", "Done: $feature\n")
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    assert "Traceback" not in out + err
    after = tree_snapshot(demo / "work-space")
    assert after == before, diff_trees(before, after)
    assert sorted(os.listdir(demo)) == sorted(set(root_before) | {".promptgen"}), os.listdir(demo)
    assert {0, 1, 2} <= seen_codes


def test_no_verb_writes_work_space_even_with_the_store_elsewhere(demo, tmp_path):
    """--store / PROMPTGEN_STORE elsewhere: the workspace root gets nothing at all."""
    before = tree_snapshot(demo)
    store = tmp_path / "store"
    for argv in (["build"], ["status", "--json"], ["next", "@DEMO-FEATURE"], ["graph", "--explain"], ["clean"]):
        r = cli(*argv, "--store", store, cwd=demo)
        assert_no_traceback(r)
        assert r.code == 0, str(r)
    r = cli("next", "@DEMO-FEATURE", cwd=demo, env=child_env(PROMPTGEN_STORE=str(store)))
    assert r.code == 0, str(r)
    assert tree_snapshot(demo) == before, diff_trees(before, tree_snapshot(demo))


# -- nothing outside the workspace is read -----------------------------------------------------------
def _leaks(runs, extra: tuple[str, ...] = ()) -> list[str]:
    passwd = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").exists() else "root:x:0:0:"
    bad = []
    for r in runs:
        for needle in (SECRET, passwd, *extra):
            if needle in r.out or needle in r.err:
                bad.append(f"{needle!r} in the output of `promptgen {' '.join(r.argv)}`")
    return bad


SELECTORS = ["@..", "@../..", "..", "../..", "../../etc/passwd", "/etc/passwd", "@/etc/passwd",
             "work-space/../../outside/PLAN_EVIL.md", "work-space/plans/../../../outside/PLAN_EVIL.md",
             "{outside}/PLAN_EVIL.md", "{outside}/plans/EVIL/PLAN_EVIL.md", "work-space/plans/LINK/PLAN_EVIL.md",
             "work-space/plans/link-plan.md", "@EVIL", "EVIL", "~/../../etc/passwd", "file:///etc/passwd",
             "@" + "../" * 40 + "etc/passwd", "."]


@pytest.mark.parametrize("selector", SELECTORS)
def test_next_selectors_cannot_leave_the_workspace(demo, tmp_path, selector, monkeypatch):
    out = _outside(tmp_path)
    os.symlink(out / "plans" / "EVIL", demo / "work-space" / "plans" / "LINK")
    os.symlink(out / "PLAN_EVIL.md", demo / "work-space" / "plans" / "link-plan.md")
    sel = selector.replace("{outside}", str(out))
    assert cli("build", cwd=demo).code == 0  # a snapshot exists: the fast path gets its chance too
    monkeypatch.chdir(demo)
    runs = [cli("next", sel, "--workspace", demo, cwd=tmp_path), inproc("next", sel),
            inproc("next", sel, "--achievement", "0.1"), inproc("build", sel), inproc("next", sel, "--no-wait")]
    for r in runs:
        assert_no_traceback(r)
        assert r.code == 2, f"a selector outside the workspace must be a usage error\n{r}"
        assert r.err.strip(), str(r)
    assert not _leaks(runs), _leaks(runs)


@pytest.mark.parametrize("game", ["root /", "/etc", "work-space itself", "relative ../..", "dot-dot inside",
                                  "symlinked work-space", "empty string", "a file"])
def test_workspace_option_games(demo, tmp_path, game, monkeypatch):
    out = _outside(tmp_path)
    if game == "symlinked work-space":
        target = tmp_path / "linked"
        target.mkdir()
        os.symlink(out / "ws2" / "work-space", target / "work-space")
    where = {
        "root /": "/", "/etc": "/etc", "work-space itself": str(demo / "work-space"),
        "relative ../..": "../..", "dot-dot inside": str(demo / "work-space" / "plans" / ".." / ".."),
        "symlinked work-space": str(tmp_path / "linked"), "empty string": "",
        "a file": str(demo / "work-space" / "plans" / "DEMO-FEATURE" / "PLAN_DEMO-FEATURE.md"),
    }[game]
    monkeypatch.chdir(demo / "work-space")
    runs = [inproc("status", "--json", "--workspace", where), inproc("build", "--workspace", where),
            inproc("next", "@EVIL", "--workspace", where), cli("next", "@EVIL", "--workspace", where, cwd=Path.cwd())]
    for r in runs:
        assert_no_traceback(r)
    assert not _leaks(runs), _leaks(runs)
    if game == "dot-dot inside":
        assert runs[0].code == 0
    elif game == "symlinked work-space":
        # a work-space/ that is a link out of the root: nothing behind it is read
        assert runs[0].code in (0, 1, 2)
        if runs[0].code == 0:
            assert runs[0].json()["plans"] == []
    elif game not in ("relative ../..", "empty string"):
        assert all(r.code == 2 for r in runs), "\n".join(map(str, runs))


@pytest.mark.parametrize("how", ["--plan-root ../outside", "--plan-root /abs/outside", "--plan-root dot-dot",
                                 "--plan-root link", "toml plan_roots ../", "toml plan_roots /abs",
                                 "toml templates_dir /abs", "toml templates_dir ../", "toml templates_dir link"])
def test_plan_roots_and_templates_dir_cannot_leave_the_workspace(demo, tmp_path, how, monkeypatch):
    out = _outside(tmp_path)
    os.symlink(out / "plans", demo / "work-space" / "link-out")
    os.symlink(out / "templates", demo / "link-templates")
    args: list[str] = []
    toml = None
    if how == "--plan-root ../outside":
        args = ["--plan-root", "../outside/plans"]
    elif how == "--plan-root /abs/outside":
        args = ["--plan-root", str(out / "plans")]
    elif how == "--plan-root dot-dot":
        args = ["--plan-root", "work-space/../../outside/plans"]
    elif how == "--plan-root link":
        args = ["--plan-root", "work-space/link-out"]
    elif how == "toml plan_roots ../":
        toml = 'plan_roots = ["work-space/plans", "../outside/plans"]\n'
    elif how == "toml plan_roots /abs":
        toml = f'plan_roots = ["work-space/plans", "{out / "plans"}"]\n'
    elif how == "toml templates_dir /abs":
        toml = f'templates_dir = "{out / "templates"}"\n'
    elif how == "toml templates_dir ../":
        toml = 'templates_dir = "../outside/templates"\n'
    else:
        toml = 'templates_dir = "link-templates"\n'
    if toml:
        (demo / "promptgen.toml").write_text(toml)
    monkeypatch.chdir(demo)
    runs = [inproc("status", "--json", *args), inproc("next", "@EVIL", *args), inproc("next", "@DRAFT-IDEA", *args),
            cli("build", *args, cwd=demo)]
    for r in runs:
        assert_no_traceback(r)
    assert not _leaks(runs), _leaks(runs)
    if runs[0].code == 0:
        assert "EVIL" not in {p["feature"] for p in runs[0].json()["plans"]}
    else:
        assert runs[0].code == 2 and runs[0].err.strip(), str(runs[0])


# -- templates are data ---------------------------------------------------------------------------------
PAYLOADS = [
    "{__import__('os').system('touch {pwned}')}",
    "${__import__('os').system('touch {pwned}')}",
    "$__import__ ${__builtins__} $__class__ ${__globals__}",
    "${x.__class__} ${feature.__class__} $feature.__class__.__mro__",
    "{0.__globals__} {feature.__init__.__globals__} {0.__class__.__subclasses__()}",
    "%(feature)s %s %r {feature!r} {feature:>{width}}",
    "{{ cycler.__init__.__globals__.os.popen('touch {pwned}').read() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "#{9*9*9*9*9} ${9*9*9*9*9} <%= 9*9*9*9*9 %> {{9*9*9*9*9}}",
    "`touch {pwned}` $(touch {pwned}) ; touch {pwned}",
    "$$feature $ ${ } ${} $123 ${feature",
]
LEAK_SIGNS = ("<class ", "<function ", "<module ", "<built-in", "object at 0x", "59049", "{'__name__'",
              "__builtins__': ", "<bound method")


def test_template_overrides_cannot_run_code_or_leak_objects(demo, tmp_path):
    from promptgen.nodes.state_machine import TEMPLATE_NAMES

    pwned = tmp_path / "pwned"
    body = "\n".join(p.replace("{pwned}", str(pwned)) for p in PAYLOADS)
    for name in TEMPLATE_NAMES:
        write(demo / ".promptgen" / "templates" / f"{name}.md", f"{name}: $feature\n{body}\n")
    outputs = []
    for plan in ("@DEMO-FEATURE", "@SHIPPED-FEATURE", "@BLOCKED-FEATURE", "@DRAFT-IDEA"):
        r = cli("next", plan, cwd=demo)
        assert_no_traceback(r)
        assert r.code in (0, 1), str(r)
        outputs.append(r)
        for num in ("0.1", "0.3", "1.1", "2.1", "2.2", "2.3", "2.4"):
            if plan == "@DEMO-FEATURE":
                outputs.append(cli("next", plan, "--achievement", num, cwd=demo))
    assert not pwned.exists(), "a template override executed code"
    for r in outputs:
        assert_no_traceback(r)
        for sign in LEAK_SIGNS:
            assert sign not in r.out, f"{sign!r} leaked into the prompt of `{' '.join(r.argv)}`:\n{r.out}"
    demo_prompt = outputs[0].out
    assert "DEMO-FEATURE.__class__.__mro__" in demo_prompt  # $feature filled, the rest literal
    assert "{0.__globals__} {feature.__init__.__globals__}" in demo_prompt
    assert "${x.__class__} ${feature.__class__}" in demo_prompt
    assert "{{ cycler.__init__.__globals__.os.popen(" in demo_prompt
    assert "$feature $ ${ } ${}" in demo_prompt  # "$$feature" is an escaped dollar, the rest literal


def test_plan_text_is_not_re_interpreted_as_a_template(tmp_path):
    """Values (titles, quoted sections, FIX issues) are substituted once and never re-expanded."""
    root = tmp_path / "ws"
    pwned = tmp_path / "pwned"
    nasty = f"$next_command ${{feature}} {{0.__globals__}} {{__import__('os').system('touch {pwned}')}}"
    write(root / "work-space/plans/NASTY/PLAN_NASTY.md",
          f"# P\n\n### Achievement 0.1: {nasty}\n\n{nasty}\n\n### Achievement 0.2: two\n")
    first = cli("next", "@NASTY", cwd=root)  # create_subplan: quotes the section
    write(root / "work-space/plans/NASTY/subplans/SUBPLAN_NASTY_01.md",
          f"# S\n\n**Status**: In Progress\n\n## Objective\n\n{nasty}\n\n## Approach\n\n{nasty}\n")
    second = cli("next", "@NASTY", cwd=root)  # create_execution: quotes objective and approach
    write(root / "work-space/plans/NASTY/execution/feedbacks/FIX_01.md", f"# FIX\n\n1. **Critical**: {nasty}\n")
    third = cli("next", "@NASTY", cwd=root)  # fix_issues: lists the issues
    for r in (first, second, third):
        assert_no_traceback(r)
        assert r.code == 0, str(r)
        # every copy stays literal ("__x__" may lose its underscores: titles and issues drop markdown bold)
        assert r.out.count("$next_command ${feature} {0.") >= 2, r.out
        assert "promptgen next @NASTY ${feature}" not in r.out and "NASTY {0." not in r.out
        for sign in LEAK_SIGNS:
            assert sign not in r.out
    assert nasty in first.out and nasty in second.out, "a quoted section or objective is not verbatim"
    assert not pwned.exists()


@pytest.mark.parametrize("content", [b"\xff\xfe binary \x00 template", b"", b"$" * 100000])
def test_odd_template_overrides(demo, content):
    write(demo / ".promptgen" / "templates" / "request_rereview.md", content)
    r = cli("next", "@DEMO-FEATURE", cwd=demo)
    assert_no_traceback(r)
    assert r.code == 0, str(r)
    if content.startswith(b"\xff"):
        assert "unreadable_file" in r.out + r.err and "0.3" in r.out  # built-in used, with a warning
