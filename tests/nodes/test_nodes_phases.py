"""The named phases of analyze, parse_plan and context, each on its own rule.

The end-to-end tests (test_nodes_states, test_nodes_parsers, test_nodes_prompts)
pin the behaviour through whole workspaces; these pin each phase directly, so
that a failure names the rule that broke.
"""

from __future__ import annotations

from promptgen.nodes import numbers as num
from promptgen.nodes import plan_parser as pp
from promptgen.nodes import prompts
from promptgen.nodes import state_machine as sm
from promptgen.nodes.textutil import scan


# -- analyze: current, available, plan state (docs/USER_GUIDE.md §6, "The state of a plan") --
def test_plan_state_current_is_first_ready_and_available_needs_a_valid_parallel_json() -> None:
    declared = ["0.1", "0.2", "0.3", "0.4"]
    states = {"0.1": sm.APPROVED, "0.2": sm.NO_SUBPLAN, "0.3": sm.NO_SUBPLAN, "0.4": sm.NO_SUBPLAN}
    deps = {"0.4": ["0.2"]}
    assert sm._plan_state(declared, states, deps, True) == (sm.IN_PROGRESS, "0.2", ["0.3"])
    assert sm._plan_state(declared, states, deps, False) == (sm.IN_PROGRESS, "0.2", [])


def test_plan_state_skipped_dependency_blocks_and_done_or_empty_plans() -> None:
    declared = ["0.1", "0.2"]
    states = {"0.1": sm.SKIPPED, "0.2": sm.NO_SUBPLAN}
    assert sm._plan_state(declared, states, {"0.2": ["0.1"]}, True) == (sm.BLOCKED, None, [])
    assert sm._plan_state(declared, {"0.1": sm.SKIPPED, "0.2": sm.APPROVED}, {}, True) == (sm.PLAN_COMPLETE, None, [])
    assert sm._plan_state([], {}, {}, True) == (sm.NO_ACHIEVEMENTS, None, [])


def test_waits_name_unmet_dependencies_and_single_out_skipped_ones() -> None:
    declared = ["0.1", "0.2", "0.3", "0.4"]
    states = {"0.1": sm.SKIPPED, "0.2": sm.NO_SUBPLAN, "0.3": sm.NO_SUBPLAN, "0.4": sm.APPROVED}
    deps = {"0.3": ["0.1", "0.2", "0.4"], "0.4": ["0.2"]}
    waits, skipped = sm._waits(declared, states, deps)
    assert waits == [{"number": "0.3", "waits_for": [{"number": "0.1", "state": sm.SKIPPED},
                                                     {"number": "0.2", "state": sm.NO_SUBPLAN}]}]
    assert skipped == [{"number": "0.3", "skipped": ["0.1"]}]


# -- analyze: files and feedback to achievements (docs/USER_GUIDE.md §5, "Files that belong to an achievement")
def test_feedback_of_a_sibling_plan_is_not_an_orphan_but_an_unknown_token_is() -> None:
    index = num.TokenIndex(["0.1"])
    warns: list[dict] = []
    assert sm._resolve_feedback(index, "01", "f/APPROVED_01.md", {"21"}, warns) == "0.1"
    assert sm._resolve_feedback(index, "21", "f/APPROVED_21.md", {"21"}, warns) is None
    assert warns == []
    assert sm._resolve_feedback(index, "33", "f/APPROVED_33.md", {"21"}, warns) is None
    assert [w["kind"] for w in warns] == ["orphan_feedback"]


def test_files_by_achievement_reports_ambiguous_and_orphan_tokens() -> None:
    index = num.TokenIndex(["1.10", "11.0", "0.1"])
    files = [{"token": "01", "path": "a"}, {"token": "110", "path": "b"}, {"token": "99", "path": "c"},
             {"token": "01", "path": "d"}]
    warns: list[dict] = []
    by = sm._files_by_achievement(index, files, "orphan_subplan", "SUBPLAN", warns)
    assert by == {"0.1": [files[0], files[3]]}
    assert [(w["kind"], w["path"]) for w in warns] == [("ambiguous_token", "b"), ("orphan_subplan", "c")]


def test_dependencies_unreadable_parallel_json_counts_as_absent() -> None:
    warns: list[dict] = []
    par = sm._dependencies({"path": "D/parallel.json", "parsed": None, "error": "not UTF-8"}, ["0.1"], warns)
    assert par == (False, {}, "D/parallel.json")  # (valid, deps, path)
    assert [w["kind"] for w in warns] == ["unreadable_file"]
    assert sm._dependencies(None, ["0.1"], []) == (False, {}, None)


# -- parse_plan (docs/USER_GUIDE.md §4, "Duplicates" and "The section of an achievement") --
def test_first_definitions_rank_headings_over_bullets() -> None:
    forms = [(0, "1.1", pp.RANK_BULLET, "overview"), (3, "1.1", pp.RANK_DEFINE, "real"),
             (5, "1.1", pp.RANK_DEFINE, "again"), (7, "1.2", pp.RANK_BULLET, "b"), (8, "1.2", pp.RANK_BULLET, "b2")]
    defined, bullets, repeats = pp._first_definitions(forms)
    assert defined == {"1.1": (3, "real")}
    assert bullets == {"1.1": (0, "overview"), "1.2": (7, "b")}
    assert repeats == [("1.1", pp.RANK_DEFINE), ("1.2", pp.RANK_BULLET)]
    # a repeated bullet only matters for a number that bullets define
    warns = pp._duplicate_warnings(repeats + [("1.1", pp.RANK_BULLET)], defined, bullets, "P.md")
    assert [w["message"] for w in warns] == [
        'Achievement 1.1 is defined more than once; the first ("real") is kept',
        'Achievement 1.2 is listed as a bullet more than once; the first ("b") is kept',
    ]


def test_declarations_prefer_the_index_and_sort_numerically() -> None:
    defined = {"1.10": (4, "ten"), "1.2": (2, "two")}
    assert pp._declarations([{"number": "1.10", "title": ""}, {"number": "1.9", "title": "nine"}], defined) == (
        "index", [{"number": "1.9", "title": "nine"}, {"number": "1.10", "title": "ten"}])
    assert pp._declarations([], defined) == (
        "forms", [{"number": "1.2", "title": "two"}, {"number": "1.10", "title": "ten"}])
    assert pp._declarations([], {}) == ("none", [])


def test_sections_end_at_the_next_definition_a_top_heading_or_the_index() -> None:
    text = ("**Achievement 1.1**: one\nbody one\n**Achievement 1.2**: two\nbody two\n"
            "## Achievement Index\n- Achievement 1.1\n- Achievement 1.2\n- Achievement 1.3\n")
    doc = scan(text)
    idx = pp._index_range(doc)
    forms = pp._forms_outside_index(doc, idx)
    assert [f[1] for f in forms] == ["1.1", "1.2"]
    defined, _bullets, _repeats = pp._first_definitions(forms)
    decls = [{"number": n} for n in ("1.1", "1.2", "1.3")]
    assert pp._sections(doc, decls, forms, defined, idx) == {
        "1.1": "**Achievement 1.1**: one\nbody one",
        "1.2": "**Achievement 1.2**: two\nbody two",
        "1.3": "",
    }


# -- context (docs/USER_GUIDE.md §6, "What a prompt contains"; §8 for the next command) ------
def test_next_command_quotes_the_selector_and_keeps_an_explicit_target() -> None:
    state = {"feature": "MY FEATURE", "explicit": True, "current": {"number": "0.1"}}
    assert prompts._next_command(state, {"number": "0.2"}) == "promptgen next '@MY FEATURE' --achievement 0.2"
    assert prompts._next_command(state, {"number": "0.1"}) == "promptgen next '@MY FEATURE'"
    assert prompts._next_command({**state, "explicit": False}, {"number": "0.2"}) == "promptgen next '@MY FEATURE'"


def test_parallel_and_waiting_notes() -> None:
    state = {"available": ["0.2", "0.3"], "current": {"number": "0.1", "state": "no_subplan"},
             "waits": [{"number": "0.4", "waits_for": [{"number": "0.3", "state": "skipped"}]}],
             "skipped_waits": [{"number": "0.4", "skipped": ["0.3"]}]}
    notes = prompts._parallel_notes(state, {"number": "0.2"}, "promptgen next @F")
    assert notes["available_note"] == ("\n## Also ready in parallel (parallel.json)\n0.3 — get a prompt for one "
                                       "with `promptgen next @F --achievement 0.3`.\n")
    assert notes["current_note"] == "; the current achievement is 0.1 (no_subplan)"
    waiting = prompts._waiting_notes(state, "D/parallel.json")
    assert waiting["blocked_report"] == "- 0.4 waits for 0.3 (skipped)"
    assert "0.4 waits for skipped 0.3" in waiting["skipped_note"]
    assert "`D/parallel.json`" in waiting["skipped_note"]
    assert prompts._waiting_notes({}, "p") == {"blocked_report": "- (nothing)", "skipped_note": ""}
