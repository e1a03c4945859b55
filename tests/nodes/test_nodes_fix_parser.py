"""The FIX parser on the shapes real reviewers use (modelled on the corpus files)."""

from __future__ import annotations

from promptgen.nodes.fix_parser import parse_fix

NUMBERED_LIST = """# FIX REQUIRED: Achievement 1.1

**Status**: ⚠️ NEEDS FIXES

## Summary

Something about 1. things.

## Issues Found

### Critical Issues (must fix)

1. **Massive Scope Creep**
   - **Impact**: big
   - **Fix**:
     1. Create a branch
     2. Revert
   ```python
   # 3. not an issue
   ```

2. **Untested Functionality**
   - **Impact**: risky

### Minor Issues (should fix)

1. **Inconsistent Error Handling**
   - details

## What Worked Well

1. **Core deliverables are sound**
"""

HEADINGS = """# FIX REQUIRED: Achievement 2.2

## Issues Found

### Critical Issues (must fix)

#### 1. Missing Required Deliverables (3 of 4)

**Fix Required**:

1. **Complete Phase 3**: not an issue of its own
2. **Complete Phase 4**

---

#### 2. **EXECUTION_TASK Status Not Updated** ⚠️ BLOCKER

Update it.

### Minor Issues (should fix)

#### 3. MongoDB Verification Not Documented

Run the command.

## Next Steps

#### 9. Not an issue
"""

BOLD_NUMBERED = """# FIX REQUIRED: Achievement 3.1

## Issues Found

### Critical Issues (must fix)

**1. Missing Required Deliverables (4 of 4)**

- **Impact**: cannot complete
- **Fix**: create them:
  1. `Report.md`

**2. EXECUTION_TASK Status Inaccurate**

- **Impact**: misleading

### Minor Issues (should fix)

**3. Test Script Location Not Verified**

- **Issue**: not verified
"""


def _summary(issues: list[dict]) -> list[tuple]:
    return [(i["severity"], i["title"]) for i in issues]


def test_numbered_list_format() -> None:
    issues = parse_fix(NUMBERED_LIST)
    assert _summary(issues) == [
        ("critical", "Massive Scope Creep"),
        ("critical", "Untested Functionality"),
        ("minor", "Inconsistent Error Handling"),
    ]
    assert "Create a branch" in issues[0]["detail"]
    assert issues[0]["detail"].startswith("- **Impact**")


def test_heading_format() -> None:
    issues = parse_fix(HEADINGS)
    assert _summary(issues) == [
        ("critical", "Missing Required Deliverables (3 of 4)"),
        ("critical", "EXECUTION_TASK Status Not Updated BLOCKER"),
        ("minor", "MongoDB Verification Not Documented"),
    ]
    assert "Complete Phase 3" in issues[0]["detail"]


def test_bold_numbered_format() -> None:
    assert _summary(parse_fix(BOLD_NUMBERED)) == [
        ("critical", "Missing Required Deliverables (4 of 4)"),
        ("critical", "EXECUTION_TASK Status Inaccurate"),
        ("minor", "Test Script Location Not Verified"),
    ]


def test_bullets_without_severity() -> None:
    text = "# FIX\n\n## Issues\n\n- The tests fail\n- The docs are missing\n"
    assert _summary(parse_fix(text)) == [(None, "The tests fail"), (None, "The docs are missing")]


def test_unstructured_file_still_yields_an_issue() -> None:
    issues = parse_fix("# FIX 1.1\n\nPlease redo the whole thing, it does not build.\n")
    assert len(issues) == 1 and "redo the whole thing" in issues[0]["title"]


def test_fallback_without_issue_heading_skips_praise() -> None:
    text = "# FIX\n\n## What Worked Well\n\n1. Good tests\n\n## Problems\n\n1. Broken build\n2. Bad names\n"
    assert [i["title"] for i in parse_fix(text)] == ["Broken build", "Bad names"]


def test_empty_file_has_no_issue() -> None:
    assert parse_fix("") == []


def test_severity_stated_inline_on_each_item() -> None:
    text = (
        "# FIX: Achievement 0.3\n\n## Issues\n\n"
        "1. **Critical**: a missing config file crashes the loader.\n"
        "2. Minor - the message does not name the file.\n"
        "3. [BLOCKER] tests fail on CI\n"
        "4. the README is out of date\n"
    )
    issues = parse_fix(text)
    assert [(i["severity"], i["title"]) for i in issues] == [
        ("critical", "a missing config file crashes the loader."),
        ("minor", "the message does not name the file."),
        ("critical", "tests fail on CI"),
        (None, "the README is out of date"),
    ]


def test_a_group_heading_severity_wins_over_words_in_titles() -> None:
    text = "# FIX\n\n## Minor issues\n\n1. Optional: rename a variable\n2. critical path is slow\n"
    assert [i["severity"] for i in parse_fix(text)] == ["minor", "minor"]
