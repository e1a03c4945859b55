"""Achievement and plan state names, and the template each state's prompt uses.

Why a module of its own: the graph's roots name one ``template:`` node per
template, and building those roots must not import the state machine (nor the
parallel.json reader it uses): a build that recomputes no ``state:`` node does
not need them. :mod:`.state_machine` re-exports every name here.

No imports: every build imports this module.
"""

#: Achievement states, in the order of the state table
#: (docs/USER_GUIDE.md §6, "The state of one achievement").
APPROVED = "approved"
SKIPPED = "skipped"
FIX_RESOLVED = "fix_resolved"
NEEDS_FIX = "needs_fix"
NO_SUBPLAN = "no_subplan"
AWAITING_REVIEW = "awaiting_review"
NO_EXECUTION = "no_execution"
ACTIVE_EXECUTION = "active_execution"
NEXT_EXECUTION = "next_execution"
ALL_EXECUTED = "all_executed"
ACHIEVEMENT_STATES = (APPROVED, SKIPPED, FIX_RESOLVED, NEEDS_FIX, NO_SUBPLAN, AWAITING_REVIEW,
                      NO_EXECUTION, ACTIVE_EXECUTION, NEXT_EXECUTION, ALL_EXECUTED)
DONE = (APPROVED, SKIPPED)

IN_PROGRESS = "in_progress"
PLAN_COMPLETE = "plan_complete"
BLOCKED = "blocked"
NO_ACHIEVEMENTS = "no_achievements"
PLAN_STATES = (IN_PROGRESS, PLAN_COMPLETE, BLOCKED, NO_ACHIEVEMENTS)

#: The template that renders the prompt for each state.
TEMPLATE_FOR = {
    APPROVED: "achievement_approved",
    SKIPPED: "achievement_skipped",
    FIX_RESOLVED: "request_rereview",
    NEEDS_FIX: "fix_issues",
    NO_SUBPLAN: "create_subplan",
    AWAITING_REVIEW: "request_review",
    NO_EXECUTION: "create_execution",
    ACTIVE_EXECUTION: "continue_execution",
    NEXT_EXECUTION: "next_execution",
    ALL_EXECUTED: "synthesize_executions",
    PLAN_COMPLETE: "plan_complete",
    BLOCKED: "plan_blocked",
    NO_ACHIEVEMENTS: "no_achievements",
}
TEMPLATE_NAMES = tuple(dict.fromkeys(TEMPLATE_FOR.values()))

#: States whose prompt is an execution prompt (quotes the SUBPLAN's objective/approach).
EXECUTION_STATES = (NO_EXECUTION, ACTIVE_EXECUTION, NEXT_EXECUTION, ALL_EXECUTED)
