"""Each pure parser on its own: numbers, PLAN, status header, SUBPLAN, parallel.json."""

from __future__ import annotations

import pytest

from promptgen.nodes import numbers as num
from promptgen.nodes.parallel import parse_parallel, validate_parallel
from promptgen.nodes.plan_parser import parse_plan
from promptgen.nodes.header import header, is_complete, stated_hours
from promptgen.nodes.subplan_parser import objective_and_approach, planned_executions


# -- numbers and tokens --------------------------------------------------------------------
@pytest.mark.parametrize("number, token", [("3.2", "32"), ("0.1", "01"), ("12.1", "121"), ("3.5.1", "351")])
def test_token(number: str, token: str) -> None:
    assert num.token(number) == token


def test_plan_order_is_numeric() -> None:
    assert num.sort_numbers(["2.1", "1.10", "0.2", "3.6", "1.1", "3.5.1", "3.5", "0.1"]) == [
        "0.1", "0.2", "1.1", "1.10", "2.1", "3.5", "3.5.1", "3.6"]


def test_reverse_lookup_only_among_declared_and_ambiguous_reported() -> None:
    idx = num.TokenIndex(["1.10", "11.0", "3.2"])
    assert idx.lookup("32") == ("3.2", [])
    assert idx.lookup("110") == (None, ["1.10", "11.0"])  # never guessed
    assert idx.lookup("99") == (None, [])
    assert idx.ambiguous_tokens() == {"110": ["1.10", "11.0"]}


def test_normalize_and_first_number() -> None:
    assert num.normalize("01.10") == "1.10"
    assert num.first_number("⏳ Next: 2.1 (thing)") == "2.1"
    assert num.first_number("version 1.2.3.4 only") is None
    assert num.first_number("**Next Achievement**: 3.5.1") == "3.5.1"


# -- PLAN -------------------------------------------------------------------------------------
INDEX_PLAN = """# PLAN
## 📋 Achievement Index
- ✅ Achievement 0.1: **First** thing
- [x] Achievement 0.2: Second ✅
- Achievement 1.10: Tenth
- Achievement 1.2: Twelfth? no, second of one

```
- Achievement 9.9: inside code, ignored
```

## Details
**Achievement 1.2**: Overridden title not used
Body of 1.2
### Sub heading stays in the section
**Achievement 0.1**: First thing
Body of 0.1
## Other
text
"""


def test_index_declares_and_sections_come_from_definitions() -> None:
    r = parse_plan(INDEX_PLAN)
    assert r["source"] == "index"
    assert [a["number"] for a in r["achievements"]] == ["0.1", "0.2", "1.2", "1.10"]
    titles = {a["number"]: a["title"] for a in r["achievements"]}
    assert titles["0.1"] == "First thing"
    assert titles["0.2"] == "Second"
    assert r["sections"]["1.2"].startswith("**Achievement 1.2**")
    assert "### Sub heading stays in the section" in r["sections"]["1.2"]
    assert "Body of 0.1" not in r["sections"]["1.2"]
    assert r["sections"]["0.1"].endswith("Body of 0.1")
    assert r["sections"]["0.2"] == ""  # no definition outside the index


def test_index_declaring_nothing_counts_as_no_index() -> None:
    text = "## Achievement Index\n\nnothing here\n\n## Body\n\n**Achievement 0.1**: Real\n"
    r = parse_plan(text)
    assert r["source"] == "forms"
    assert [a["number"] for a in r["achievements"]] == ["0.1"]


FORMS_PLAN = """# PLAN
## Overview
- **Achievement 0.1**: Overview bullet (not the definition)
- **Achievement 0.3**: Only ever a bullet
1. **Achievement 0.9: numbered progress note**
- [x] **Achievement 0.8**: check box note
✅ **Achievement 0.7**: emoji note
**Achievement 2.2/2.3**: declares nothing
**Achievement 3.3 will document**: declares nothing

## Achievements
### Achievement 0.2: Heading form
text 0.2
**Achievement 0.1: Bold inside title** ⏱️ 4h
text 0.1
**Achievement 0.1**: Duplicate definition
**Achievement 1.0**: Zero minor
```
**Achievement 5.5**: fenced, ignored
```
"""


def test_fallback_forms_and_ranks() -> None:
    r = parse_plan(FORMS_PLAN, "p.md")
    assert [a["number"] for a in r["achievements"]] == ["0.1", "0.2", "0.3", "1.0"]
    titles = {a["number"]: a["title"] for a in r["achievements"]}
    assert titles["0.1"] == "Bold inside title"  # bold line beats the overview bullet
    assert titles["0.2"] == "Heading form"
    assert titles["0.3"] == "Only ever a bullet"
    assert r["sections"]["0.1"].startswith("**Achievement 0.1: Bold inside title**")
    assert "text 0.1" in r["sections"]["0.1"]
    assert "Duplicate definition" not in r["sections"]["0.1"]
    dups = [w for w in r["warnings"] if w["kind"] == "duplicate_achievement"]
    assert len(dups) == 1 and "0.1" in dups[0]["message"] and dups[0]["path"] == "p.md"


def test_no_achievements() -> None:
    r = parse_plan("# PLAN\n\nJust prose about Achievement 1.1 in a sentence.\n")
    assert r["achievements"] == [] and r["source"] == "none"


def test_three_level_numbers_in_plan_order() -> None:
    text = "\n".join(f"**Achievement {n}**: T{n}" for n in ["3.6", "3.5.1", "3.5", "3.5.2", "0.1"])
    r = parse_plan(text)
    assert [a["number"] for a in r["achievements"]] == ["0.1", "3.5", "3.5.1", "3.5.2", "3.6"]


def test_crlf_and_bom() -> None:
    text = "\ufeff# PLAN\r\n## Achievement Index\r\n- Achievement 0.1: A\r\n- Achievement 0.2: B\r\n"
    r = parse_plan(text)
    assert [(a["number"], a["title"]) for a in r["achievements"]] == [("0.1", "A"), ("0.2", "B")]


@pytest.mark.parametrize("section, want", [
    ("- ⏳ Next: Achievement 2.1 (x)", "2.1"),
    ("**Next Achievement**: 0.1 (y)", "0.1"),
    ("⏳ Next: 2.1", "2.1"),
    ("**What's Next**:\n\n- ⏳ Achievement 0.3: Document", "0.3"),
    ("**What's Next**:\n\n**Priority 0**:\nnothing", None),
    ("Last Updated: 2025-11-09\nno hint here 1.2", None),
])
def test_handoff_hint(section: str, want: str | None) -> None:
    text = f"**Achievement 0.1**: A\n\n## 📝 Current Status & Handoff\n\n{section}\n\n## Next section\nNext: 9.9\n"
    hint = parse_plan(text)["hint"]
    assert (hint["number"] if hint else None) == want


# -- status header ------------------------------------------------------------------------------
@pytest.mark.parametrize("value, complete", [
    ("✅ Complete", True),
    ("✅ COMPLETE - all deliverables created", True),
    ("**COMPLETE**", True),
    ("✅ **COMPLETE**", True),
    ("Completed 2025-11-12", True),
    ("complete.", True),
    ("📋 Design Phase Complete", False),
    ("Design Complete, Ready for Execution", False),
    ("Incomplete", False),
    ("In Progress", False),
    ("Completely unrelated", False),
])
def test_status_value_rule(value: str, complete: bool) -> None:
    assert is_complete(f"# Doc\n\n**Status**: {value}\n\n## Body\n") is complete


def test_status_only_in_header() -> None:
    text = "# Doc\n**Status**: 🔄 In Progress\n\n## Iteration log\n**Status**: ✅ Complete\nPhase 1 Complete\n"
    assert header(text).count("Status") == 1
    assert not is_complete(text)
    assert not is_complete("# Doc\nno status\n## Later\n**Status**: Complete\n")


def test_stated_hours() -> None:
    text = "# T\n**Estimated Effort**: 3-4 hours\n**Actual Time**: ~2.5 hours\n## Body\n**Actual**: 99 hours\n"
    assert stated_hours(text) == {"actual": 2.5, "estimated": [3.0, 4.0]}
    assert stated_hours("# T\n## x\n") == {"actual": None, "estimated": None}


# -- SUBPLAN ----------------------------------------------------------------------------------------
SUBPLAN = """# SUBPLAN
**Status**: In Progress
## 🎯 Objective
Deliver X.
### Detail
more
## 🧭 Approach
Step 1.
## 🔄 Active EXECUTION_TASKs
| Execution | Status | File | Dependencies |
| --- | --- | --- | --- |
| 12_01 | ✅ | EXECUTION_TASK_F_12_01.md | None |
| 12_02 | ⏳ | EXECUTION_TASK_F_12_02_V2.md | 12_01 |
| 12_03 | Planning | EXECUTION_TASK_F-1_12_03.md | 13_01 (other achievement) |
```
| 12_09 | fenced | x | x |
```
## Next
| 12_07 | after the section | x | x |
"""


def test_planned_executions_table() -> None:
    assert planned_executions(SUBPLAN, "12") == [1, 2, 3]


@pytest.mark.parametrize("body", [
    "## 🔄 Active EXECUTION_TASKs\n- [ ] **EXECUTION_TASK_12_01**: Status: In Progress\n",
    "## 🔄 Active EXECUTION_TASKs\n| EXECUTION | Status |\n| --- | --- |\n| (none yet) | - |\n",
    "## Something else\n| 12_01 | x |\n",
])
def test_no_table_means_no_plan(body: str) -> None:
    assert planned_executions("# S\n" + body, "12") is None


def test_objective_and_approach() -> None:
    obj, app = objective_and_approach(SUBPLAN)
    assert obj.startswith("## 🎯 Objective") and "Deliver X." in obj and "### Detail" in obj
    assert "Step 1." in app and "Active" not in app
    assert objective_and_approach("# nothing\n") == ("", "")


# -- parallel.json -------------------------------------------------------------------------------------
def test_parallel_parse_and_validate() -> None:
    text = ('{"achievements": [{"achievement_id": "1.1", "dependencies": []},'
            '{"achievement_id": "1.2", "dependencies": ["1.1"], "status": "complete"},'
            '{"achievement_id": "9.9", "dependencies": ["1.1"]}]}')
    parsed = parse_parallel(text)
    assert parsed["error"] is None
    v = validate_parallel(parsed, ["1.1", "1.2", "1.3"], "D/parallel.json")
    assert v["valid"] and v["deps"] == {"1.1": [], "1.2": ["1.1"]}
    assert [w["kind"] for w in v["warnings"]] == ["parallel_invalid"]
    assert "9.9" in v["warnings"][0]["message"]


@pytest.mark.parametrize("text, needle", [
    ('{"achievements": [{"achievement_id": "1.1", "dependencies": ["1.2"]},'
     '{"achievement_id": "1.2", "dependencies": ["1.1"]}]}', "cycle"),
    ('{"achievements": [{"achievement_id": "1.1", "dependencies": ["7.7"]}]}', "7.7"),
    ('{"achievements": [{"achievement_id": "1.1", "dependencies": ["1.1"]}]}', "cycle"),
    ("not json", "JSON"),
    ('{"achievements": {"1.1": []}}', "achievements"),
    ('{"achievements": [{"achievement_id": 1.1}]}', "achievement_id"),
])
def test_parallel_invalid(text: str, needle: str) -> None:
    v = validate_parallel(parse_parallel(text), ["1.1", "1.2"], "p.json")
    assert not v["valid"] and v["deps"] == {}
    assert v["warnings"][-1]["kind"] == "parallel_invalid" and needle in v["warnings"][-1]["message"]


def test_no_parallel_file() -> None:
    assert validate_parallel(None, ["1.1"], None) == {"valid": False, "deps": {}, "warnings": []}
