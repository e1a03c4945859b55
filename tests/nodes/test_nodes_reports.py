"""The domain's answers: configuration, plan reports, selection, explicit targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodes_testlib import WS, build_values, write
from promptgen.locate import find_workspace_root
from promptgen.nodes import config
from promptgen.nodes import reports as report_mod
from promptgen.nodes.selection import SelectionError, select


# -- workspace root and configuration ---------------------------------------------------------
def test_find_workspace_root(tmp_path: Path) -> None:
    ws_root = tmp_path / "repo"
    (ws_root / "work-space" / "plans" / "X").mkdir(parents=True)
    write(ws_root, "work-space/plans/X/PLAN_X.md", "")
    assert find_workspace_root(ws_root / "work-space" / "plans" / "X") == str(ws_root)
    assert find_workspace_root(ws_root / "work-space" / "plans" / "X" / "PLAN_X.md") == str(ws_root)
    assert find_workspace_root(str(ws_root)) == str(ws_root)  # a str or any path-like
    lonely = tmp_path / "elsewhere" / "deep"
    lonely.mkdir(parents=True)
    if not any((p / "work-space").is_dir() for p in tmp_path.parents):
        assert find_workspace_root(lonely) is None


def test_default_config(tmp_path: Path) -> None:
    cfg = config.load_config(tmp_path)
    assert cfg == config.WorkspaceConfig(root=tmp_path) == config.load_config(str(tmp_path))
    assert cfg.root == str(tmp_path) and isinstance(cfg.root, str)
    assert cfg.plan_roots == ("work-space/plans",) and cfg.templates_dir == ".promptgen/templates"


def test_config_is_a_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config.WorkspaceConfig(str(tmp_path), ("a",), "t")
    assert cfg == config.WorkspaceConfig(root=tmp_path, plan_roots=("a",), templates_dir="t")
    assert cfg != config.WorkspaceConfig(root=tmp_path) and cfg != (str(tmp_path), ("a",), "t")
    assert hash(cfg) == hash(config.WorkspaceConfig(tmp_path, ("a",), "t"))
    assert repr(cfg) == f"WorkspaceConfig(root={str(tmp_path)!r}, plan_roots=('a',), templates_dir='t')"
    with pytest.raises(AttributeError):
        cfg.root = "/elsewhere"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cfg.other = 1  # type: ignore[attr-defined]
    monkeypatch.chdir(tmp_path)
    assert config.load_config(".").root == str(tmp_path)  # held as an absolute path


def test_absolute_plan_roots_resolve_inside_the_workspace(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "work-space" / "deep").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    cfg = config.load_config(link, [str(real / "work-space" / "deep") + "/", str(link / "work-space/./x")])
    assert cfg.plan_roots == ("work-space/plans", "work-space/deep", "work-space/x")
    for outside, needle in ((str(tmp_path), "outside the workspace"), (str(real), "must name a folder"),
                            ("/", "outside the workspace")):
        with pytest.raises(config.ConfigError) as exc:
            config.load_config(link, [outside])
        assert needle in str(exc.value)
    with pytest.raises(config.ConfigError) as exc:
        config.load_config(real, [str(tmp_path / "realm")])  # a sibling sharing the prefix is outside
    assert str(exc.value) == (f"plan root: {str(tmp_path / 'realm')!r} is outside the workspace {real}; "
                              f'use a path inside it, relative to the root (e.g. "work-space/backlog-plans")')


def test_config_file_and_extra_roots(tmp_path: Path) -> None:
    write(tmp_path, "promptgen.toml", 'plan_roots = ["work-space/plans", "./work-space/backlog-plans/"]\n'
                                      'templates_dir = "tpl"\n')
    cfg = config.load_config(tmp_path, ["work-space/more", str(tmp_path / "work-space/abs")])
    assert cfg.plan_roots == ("work-space/plans", "work-space/backlog-plans", "work-space/more", "work-space/abs")
    assert cfg.templates_dir == "tpl"


@pytest.mark.parametrize("toml, needle", [
    ("plan_roots = [", "not valid TOML"),
    ('plan_roots = "work-space/plans"', "non-empty list"),
    ("plan_roots = []", "non-empty list"),
    ('plan_roots = ["../outside"]', "without '..'"),
    ("plan_roots = [3]", "non-empty string"),
    ('planroots = ["x"]', "unknown setting"),
    ('templates_dir = "/etc"', "outside the workspace"),
])
def test_bad_config_says_how_to_fix(tmp_path: Path, toml: str, needle: str) -> None:
    write(tmp_path, "promptgen.toml", toml + "\n")
    with pytest.raises(config.ConfigError) as exc:
        config.load_config(tmp_path)
    assert needle in str(exc.value)


# -- reports and the status document ---------------------------------------------------------
def _workspace(root: Path) -> dict:
    WS(root, "PROMPT-GENERATOR").plan(["0.1"])
    WS(root, "PROMPT-GENERATOR-UX", folder="work-space/plans/a_paused/UX-FOLDER").plan(["0.1"])
    WS(root, "DASHBOARD", folder="work-space/plans/LLM-DASHBOARD").plan(["1.1", "1.2"])
    WS(root, "EMPTY").plan_raw("# nothing\n")
    return build_values(root)


def test_plan_reports_fields(tmp_path: Path) -> None:
    reports = report_mod.plan_reports(_workspace(tmp_path))
    assert [r["plan_file"] for r in reports] == sorted(r["plan_file"] for r in reports)
    r = next(r for r in reports if r["feature"] == "DASHBOARD")
    assert set(r) == {"feature", "plan_file", "plan_state", "current", "available", "achievements", "warnings",
                      "folder_name", "prompt", "exit_code"}
    assert r["folder_name"] == "LLM-DASHBOARD" and r["exit_code"] == 0
    assert r["achievements"][0] == {"number": "1.1", "title": "Title 1.1", "state": "no_subplan"}
    assert "promptgen next @DASHBOARD" in r["prompt"]
    assert "[FEATURE]" not in r["prompt"]
    empty = next(r for r in reports if r["feature"] == "EMPTY")
    assert empty["exit_code"] == 1 and empty["plan_state"] == "no_achievements"


def test_status_document(tmp_path: Path) -> None:
    reports = report_mod.plan_reports(_workspace(tmp_path))
    doc = report_mod.status_document(tmp_path, reports)
    assert doc["workspace"] == str(tmp_path.absolute())
    assert list(doc["plans"][0]) == ["feature", "plan_file", "plan_state", "current", "available",
                                     "achievements", "warnings"]
    assert len(doc["plans"]) == 4


# -- selection ------------------------------------------------------------------------------------
@pytest.fixture
def reports(tmp_path: Path) -> list[dict]:
    return report_mod.plan_reports(_workspace(tmp_path))


@pytest.mark.parametrize("selector, feature", [
    ("@PROMPT-GENERATOR", "PROMPT-GENERATOR"),  # exact feature first
    ("@prompt-generator", "PROMPT-GENERATOR"),  # case-insensitive exact beats prefix
    ("@ux-folder", "PROMPT-GENERATOR-UX"),  # folder name
    ("@llm-dash", "DASHBOARD"),  # folder prefix
    ("@board", "DASHBOARD"),  # substring
    ("DASHBOARD", "DASHBOARD"),  # a bare word is a name
    ("work-space/plans/LLM-DASHBOARD/PLAN_DASHBOARD.md", "DASHBOARD"),
])
def test_select(reports: list[dict], selector: str, feature: str) -> None:
    assert select(reports, selector)["feature"] == feature


def test_select_by_path_relative_to_cwd_and_root(reports: list[dict], tmp_path: Path) -> None:
    sub = tmp_path / "work-space" / "plans"
    r = select(reports, "LLM-DASHBOARD/PLAN_DASHBOARD.md", root=tmp_path, cwd=sub)
    assert r["feature"] == "DASHBOARD"
    r = select(reports, str(tmp_path / "work-space/plans/EMPTY/PLAN_EMPTY.md"), root=tmp_path)
    assert r["feature"] == "EMPTY"
    with pytest.raises(SelectionError):
        select(reports, "/elsewhere/work-space/plans/EMPTY/PLAN_EMPTY.md", root=tmp_path)


@pytest.mark.parametrize("selector", ["@prompt", "@nothing-like-this", "@"])
def test_select_ambiguous_or_unknown(reports: list[dict], selector: str) -> None:
    with pytest.raises(SelectionError) as exc:
        select(reports, selector)
    assert exc.value.candidates
    if selector == "@prompt":
        # each candidate names the plan as the user would select it, and its file
        assert sorted(exc.value.candidates) == [
            "@PROMPT-GENERATOR  (work-space/plans/PROMPT-GENERATOR/PLAN_PROMPT-GENERATOR.md)",
            "@PROMPT-GENERATOR-UX  (work-space/plans/a_paused/UX-FOLDER/PLAN_PROMPT-GENERATOR-UX.md)",
        ]


# -- explicit achievement -------------------------------------------------------------------------
def test_prompt_for_achievement(tmp_path: Path) -> None:
    ws = WS(tmp_path, "DEMO")
    ws.plan(["0.1", "0.2"])
    ws.subplan("02", "✅ Complete")
    values = build_values(tmp_path)
    (report,) = report_mod.plan_reports(values)
    text = report_mod.prompt_for_achievement(values, report, "0.2")
    assert "Achievement 0.2" in text and "APPROVED_02.md" in text and "FIX_02.md" in text
    assert "current achievement is 0.1" in text
    assert report_mod.prompt_for_achievement(values, report, "0.1") == report["prompt"]
    with pytest.raises(SelectionError) as exc:
        report_mod.prompt_for_achievement(values, report, "9.9")
    # the message says what is wrong; the declared numbers come once, as candidates
    assert exc.value.candidates == ["0.1", "0.2"] and "9.9 is not declared" in str(exc.value)
