"""The shapes of the values that cross module boundaries, named once.

Node values are JSON data: the engine fingerprints and stores them, and a rule
must see the same value whether it was just computed or read back from the
store. So they stay plain dicts and lists at run time, and their shapes are
declared here as ``TypedDict``s for type checkers (``mypy nodes/``) and for
readers: a value's keys are spelled in its declaration, not remembered across
files. Nothing imports this module at run time; it is read under
``TYPE_CHECKING`` only.

Paths are workspace-relative with ``/``; ``folder`` is always a path and
``folder_name`` the last part of it.
"""

from __future__ import annotations

from typing import Optional, TypedDict, Union


# -- shared pieces ------------------------------------------------------------------
class Warning(TypedDict):
    """A conflict reported, never raised; ``kind`` is one of ``diagnostics.KINDS``."""

    kind: str
    message: str
    path: Optional[str]


class Hours(TypedDict):
    """Hours a file states: actual time, and an estimate as ``[low, high]``."""

    actual: Optional[float]
    estimated: Optional[list[float]]


# -- plan: ----------------------------------------------------------------------------
class Declared(TypedDict):
    number: str
    title: str


class Hint(TypedDict):
    """The next achievement the PLAN's handoff section names, and the line saying so."""

    number: str
    line: str


class ParsedPlan(TypedDict):
    """What ``plan_parser.parse_plan`` reads from a PLAN's text."""

    achievements: list[Declared]  # in plan (numeric) order
    sections: dict[str, str]  # number → the text a prompt quotes
    source: str  # "index" | "forms" | "none"
    hint: Optional[Hint]
    warnings: list[Warning]


class PlanValue(ParsedPlan):
    """``plan:<plan_file>``."""

    plan_file: str
    feature: str
    folder: str
    error: Optional[str]  # an engine file error code when the PLAN could not be read


# -- subplan: / subplans: -------------------------------------------------------------
class SubplanFile(TypedDict):
    """A SUBPLAN file as the inventory found it (``subplans:`` parameter)."""

    path: str
    token: str
    where: str  # "canonical" | "flat" | "archive"
    archived: bool


class SubplanParse(TypedDict):
    """``subplan:<path>``: one SUBPLAN's parse."""

    error: Optional[str]
    complete: bool
    planned: Optional[dict[str, list[int]]]  # planned executions per achievement token
    objective: str
    approach: str
    hours: Hours


class SubplanEntry(SubplanFile):
    """One SUBPLAN of a plan, with what its parse says for the plan's token."""

    error: Optional[str]
    complete: bool
    planned: Optional[list[int]]
    objective: str
    approach: str
    hours: Hours


class SubplansValue(TypedDict):
    """``subplans:<plan_file>``."""

    files: list[SubplanEntry]
    warnings: list[Warning]


# -- execution: / executions: ---------------------------------------------------------
class ExecutionFile(TypedDict):
    """An EXECUTION_TASK file as the inventory found it (``executions:`` parameter)."""

    path: str
    token: str
    mm: int  # the execution number
    suffix: str  # "" or a revision's suffix ("V2", …)
    where: str


class ExecutionParse(TypedDict):
    """``execution:<path>``: one EXECUTION_TASK's parse."""

    error: Optional[str]
    complete: bool
    hours: Hours


class ExecutionEntry(ExecutionFile):
    error: Optional[str]
    complete: bool
    hours: Hours


class ExecutionsValue(TypedDict):
    """``executions:<plan_file>``."""

    files: list[ExecutionEntry]
    warnings: list[Warning]


# -- feedback: / parallel: ------------------------------------------------------------
class FixIssue(TypedDict):
    severity: Optional[str]  # "critical" | "minor" | None
    title: str
    detail: str


class FixInfo(TypedDict):
    path: str
    issues: list[FixIssue]
    error: Optional[str]


class FeedbackValue(TypedDict):
    """``feedback:<folder>``: file tokens of approvals, fixes, resolutions, skips."""

    dir: str
    approved: list[str]
    fix: dict[str, FixInfo]
    resolution: list[str]
    skipped: list[str]
    warnings: list[Warning]


class ParallelEntry(TypedDict):
    id: str
    deps: list[str]


class ParsedParallel(TypedDict):
    entries: list[ParallelEntry]
    error: Optional[str]


class ParallelValue(TypedDict):
    """``parallel:<folder>`` (None when the folder has no dependency file)."""

    path: str
    parsed: Optional[ParsedParallel]
    error: Optional[str]


class ParallelCheck(TypedDict):
    """``parallel.validate_parallel``: dependencies checked against a plan's declared numbers."""

    valid: bool
    deps: dict[str, list[str]]  # number → the numbers it depends on
    warnings: list[Warning]


# -- state: ----------------------------------------------------------------------------
class Current(TypedDict):
    number: str
    state: str


class AchievementRow(TypedDict):
    number: str
    title: str
    state: str


class ExecutionFileStatus(TypedDict):
    path: str
    complete: bool


class ExecutionGroup(TypedDict):
    """One execution number with all its files (original, revisions, archives)."""

    mm: int
    files: list[ExecutionFileStatus]
    complete: bool


class Dependency(TypedDict):
    number: str
    state: str


class Wait(TypedDict):
    number: str
    waits_for: list[Dependency]


class SkippedWait(TypedDict):
    number: str
    skipped: list[str]


class SubplanRef(TypedDict):
    path: str
    complete: bool


class Target(TypedDict):
    """Everything the prompt for one achievement needs (``state_machine.detail``)."""

    number: str
    token: str
    title: str
    state: str
    section: str
    subplan: Optional[SubplanRef]
    subplan_path: str
    executions: list[ExecutionGroup]
    planned: Optional[list[int]]
    continue_mm: Optional[int]
    continue_files: list[str]
    next_mm: Optional[int]
    next_execution_path: Optional[str]
    approved_path: str
    fix_path: str
    resolution_path: str
    skipped_path: str
    deps: list[Dependency]
    objective: str
    approach: str
    fix: Optional[FixInfo]


class FeedbackSignals(TypedDict):
    """The feedback files of the state table (docs/USER_GUIDE.md §6, "The state of one
    achievement") resolved to this plan's achievement numbers."""

    approved: set[str]
    fix: dict[str, FixInfo]
    resolution: set[str]
    skipped: set[str]


class Facts(TypedDict):
    """What the files say about one achievement (``state_machine.analyze``)."""

    state: str
    subplan: Optional[SubplanEntry]  # the preferred copy
    subplans: list[SubplanEntry]
    executions: list[ExecutionGroup]
    fix: Optional[FixInfo]
    resolution: bool
    hours: Hours


class Analysis(TypedDict):
    """Everything the state machine concludes about one plan; ``state_value``
    selects from it what a prompt needs."""

    feature: str
    plan_file: str
    folder: str
    declared: list[str]  # in plan order
    titles: dict[str, str]
    sections: dict[str, str]
    facts: dict[str, Facts]
    deps: dict[str, list[str]]
    parallel_valid: bool
    parallel_path: Optional[str]
    plan_state: str
    current: Optional[str]
    available: list[str]
    waits: list[Wait]
    skipped_waits: list[SkippedWait]
    hint: Optional[Hint]
    plan_error: Optional[str]
    warnings: list[Warning]


class PlanStats(TypedDict):
    achievements: int
    approved: int
    skipped: int
    subplans: int
    execution_tasks: int
    execution_files: int
    actual_hours: Optional[float]
    actual_hours_known_for: int
    estimated_hours: Optional[list[float]]
    estimated_hours_known_for: int


class StateValue(TypedDict):
    """``state:<plan_file>``: the plan's state and what its prompt needs."""

    feature: str
    plan_file: str
    folder: str
    folder_name: str
    plan_state: str
    current: Optional[Current]
    available: list[str]
    achievements: list[AchievementRow]
    warnings: list[Warning]
    template: str  # the template name the prompt uses
    target: Optional[Target]
    explicit: bool  # an --achievement target rather than the current one
    hint: Optional[Hint]
    waits: list[Wait]
    skipped_waits: list[SkippedWait]
    parallel_path: Optional[str]
    stats: Optional[PlanStats]
    problem: Optional[str]  # why the plan has no usable prompt


# -- template: / prompt: ----------------------------------------------------------------
class TemplateValue(TypedDict):
    name: str
    text: str
    source: str  # "override" | "builtin"
    path: str
    warning: Optional[str]


class PromptValue(TypedDict):
    text: str
    template: str
    source: str


# -- what the library answers -------------------------------------------------------------
class PlanReport(TypedDict):
    """One plan after a build: the status document's fields plus ``folder_name``,
    the rendered ``prompt`` and the command line's ``exit_code``."""

    feature: str
    plan_file: str
    plan_state: str
    current: Optional[Current]
    available: list[str]
    achievements: list[AchievementRow]
    warnings: list[Warning]
    folder_name: str
    prompt: str
    exit_code: int


class Named(TypedDict):
    """What selecting a plan by ``@NAME`` or path needs (reports and index entries have it)."""

    feature: str
    folder_name: str
    plan_file: str


class PlanWarning(TypedDict):
    """A warning with the plan it belongs to and how to resolve it (``promptgen check``)."""

    plan_file: str
    feature: str
    kind: str
    message: str
    path: Optional[str]
    remedy: str


class PlanEntry(TypedDict):
    """A plan in the index the no-op fast path answers from (warnings as printed)."""

    feature: str
    folder_name: str
    plan_file: str
    plan_state: str
    state: Optional[str]
    exit_code: int
    warnings: list[str]


#: Any node value of the domain.
NodeValue = Union[PlanValue, SubplanParse, SubplansValue, ExecutionParse, ExecutionsValue, FeedbackValue,
                  ParallelValue, StateValue, TemplateValue, PromptValue, None]
