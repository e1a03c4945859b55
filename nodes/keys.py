"""The names of the workspace graph's nodes, in one place.

A key is ``<kind>:<name>``; the name is a workspace-relative path with ``/``
(a plan file, a plan folder, a SUBPLAN or EXECUTION_TASK file) or a template
name. Rules, reports and the library build and read keys only through these
functions, so that no other module spells a prefix.

=================  ===========================  =========================================
kind               name                         the node
=================  ===========================  =========================================
``walk``           a folder of a plan root      discovery of the plans below it
``scan``           a plan folder (``#k``: the    inventory of the folder's files
                   k-th deeper archive level)
``plan``           a plan file                  the parsed PLAN
``subplan``        a SUBPLAN file               one parsed SUBPLAN
``subplans``       a plan file                  the plan's SUBPLANs
``execution``      an EXECUTION_TASK file       one parsed EXECUTION_TASK
``executions``     a plan file                  the plan's EXECUTION_TASKs
``feedback``       a plan folder                approvals, fixes, resolutions, skips
``parallel``       a plan folder                its parsed ``parallel.json``
``state``          a plan file                  the plan's state (the state machine)
``route``          a plan file                  picks the template of the plan's prompt
``prompt``         a plan file                  the rendered prompt
``template``       a template name              the template text (override or built-in)
=================  ===========================  =========================================
"""

WALK = "walk"
SCAN = "scan"
PLAN = "plan"
SUBPLAN = "subplan"
SUBPLANS = "subplans"
EXECUTION = "execution"
EXECUTIONS = "executions"
FEEDBACK = "feedback"
PARALLEL = "parallel"
STATE = "state"
ROUTE = "route"
PROMPT = "prompt"
TEMPLATE = "template"



def key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def name_of(node_key: str) -> str:
    """The name part of a key (everything after the first colon)."""
    return node_key.split(":", 1)[1]


def is_kind(node_key: str, kind: str) -> bool:
    return node_key.startswith(kind + ":")


def file_source(path: str) -> str:
    """The engine's source node for a file (see ``promptgen.engine.spec``)."""
    return f"file:{path}"


def dir_source(path: str) -> str:
    """The engine's source node for a directory listing."""
    return f"dir:{path}"


def walk(folder: str) -> str:
    return key(WALK, folder)


def scan(folder: str, level: int) -> str:
    return key(SCAN, folder if level == 0 else f"{folder}#{level}")


def plan(plan_file: str) -> str:
    return key(PLAN, plan_file)


def subplan(path: str) -> str:
    return key(SUBPLAN, path)


def subplans(plan_file: str) -> str:
    return key(SUBPLANS, plan_file)


def execution(path: str) -> str:
    return key(EXECUTION, path)


def executions(plan_file: str) -> str:
    return key(EXECUTIONS, plan_file)


def feedback(folder: str) -> str:
    return key(FEEDBACK, folder)


def parallel(folder: str) -> str:
    return key(PARALLEL, folder)


def state(plan_file: str) -> str:
    return key(STATE, plan_file)


def route(plan_file: str) -> str:
    return key(ROUTE, plan_file)


def prompt(plan_file: str) -> str:
    return key(PROMPT, plan_file)


def template(name: str) -> str:
    return key(TEMPLATE, name)
