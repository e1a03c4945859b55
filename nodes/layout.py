"""Where workspace files live and how they are named.

The rules: docs/USER_GUIDE.md §3, "Discovery: which PLAN files are plans", and §5,
"Files that belong to an achievement".

Why in one place: discovery, the inventory of a plan folder and the prompts all
need the same names and the same skip rules; if they drifted apart the prompt
would tell the agent to create a file that the state machine then ignores.

All paths are workspace-relative with ``/``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import lazyre

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: Folder names that plan discovery never enters.
DISCOVERY_SKIP = frozenset({"documentation", "archive", "subplans", "execution", "feedbacks"})
ARCHIVE = "archive"
SUBPLANS = "subplans"
EXECUTION = "execution"
FEEDBACKS = "feedbacks"
#: Dependency file names, read in this order: the first that exists in a plan
#: folder is its ``parallel:`` file (the inventory picks it; :mod:`.parallel` reads it).
PARALLEL_FILE_NAMES = ("parallel.json", "PARALLEL-EXECUTION-ANALYSIS.json", "parallel-execution.json",
                       "parallel_analysis.json")

_RE_FEEDBACK = lazyre.compile(r"^(APPROVED|FIX|SKIPPED)_(\d+)(_RESOLUTION)?\.md$")


def join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p not in ("", "."))


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def is_hidden_or_stale(name: str) -> bool:
    """Hidden folders and stale copies (a name ending in lower-case ``old``)."""
    return name.startswith(".") or name.endswith("old")


def skip_for_discovery(name: str) -> bool:
    return name in DISCOVERY_SKIP or is_hidden_or_stale(name)


def skip_inside_archive(name: str) -> bool:
    return name == "documentation" or is_hidden_or_stale(name)


def is_plan_file(name: str) -> bool:
    return name.startswith("PLAN_") and name.endswith(".md") and len(name) > len("PLAN_.md")


def feature_of(plan_name: str) -> str:
    """``PLAN_X.md → X`` (only the ``PLAN_`` prefix is removed)."""
    return plan_name[len("PLAN_"):-len(".md")]


@lru_cache(maxsize=512)
def _subplan_re(feature: str) -> re.Pattern[str]:
    return re.compile(r"^SUBPLAN_" + re.escape(feature) + r"_(\d+)(_ARCHIVED)?\.md$")


@lru_cache(maxsize=512)
def _execution_re(feature: str) -> re.Pattern[str]:
    return re.compile(r"^EXECUTION_TASK_" + re.escape(feature) + r"_(\d+)_(\d+)(?:_([^/]+?))?\.md$")


def match_subplan(feature: str, name: str) -> Optional[tuple[str, bool]]:
    """``(token, archived_name)`` for ``SUBPLAN_F_T.md`` / ``SUBPLAN_F_T_ARCHIVED.md``."""
    m = _subplan_re(feature).match(name)
    return (m.group(1), bool(m.group(2))) if m else None


def match_execution(feature: str, name: str) -> Optional[tuple[str, int, str]]:
    """``(token, execution number, suffix)`` for ``EXECUTION_TASK_F_T_MM[_suffix].md``."""
    m = _execution_re(feature).match(name)
    return (m.group(1), int(m.group(2)), m.group(3) or "") if m else None


def match_feedback(name: str) -> Optional[tuple[str, str]]:
    """``(kind, token)`` with kind approved | fix | resolution | skipped."""
    m = _RE_FEEDBACK.match(name)
    if not m:
        return None
    kind, tok, res = m.group(1), m.group(2), m.group(3)
    if res:
        return ("resolution", tok) if kind == "FIX" else None
    return kind.lower(), tok


# -- the paths a prompt names --------------------------------------------------
def subplans_dir(folder: str) -> str:
    return join(folder, SUBPLANS)


def execution_dir(folder: str) -> str:
    return join(folder, EXECUTION)


def feedbacks_dir(folder: str) -> str:
    return join(folder, EXECUTION, FEEDBACKS)


def subplan_path(folder: str, feature: str, tok: str) -> str:
    return join(folder, SUBPLANS, f"SUBPLAN_{feature}_{tok}.md")


def execution_name(feature: str, tok: str, mm: int) -> str:
    return f"EXECUTION_TASK_{feature}_{tok}_{mm:02d}.md"


def execution_path(folder: str, feature: str, tok: str, mm: int) -> str:
    return join(folder, EXECUTION, execution_name(feature, tok, mm))


def approved_path(folder: str, tok: str) -> str:
    return join(folder, EXECUTION, FEEDBACKS, f"APPROVED_{tok}.md")


def fix_path(folder: str, tok: str) -> str:
    return join(folder, EXECUTION, FEEDBACKS, f"FIX_{tok}.md")


def resolution_path(folder: str, tok: str) -> str:
    return join(folder, EXECUTION, FEEDBACKS, f"FIX_{tok}_RESOLUTION.md")


def skipped_path(folder: str, tok: str) -> str:
    return join(folder, EXECUTION, f"SKIPPED_{tok}.md")
