"""The workspace domain of promptgen: what a PLAN workspace means.

This package turns the markdown files of a methodology workspace (PLAN, SUBPLAN,
EXECUTION_TASK and feedback files) into the state of every plan and the next
prompt to paste into an agent. It is deliberately ignorant of storage, terminals
and argument parsing: it imports only the standard library and the engine's
node contract (:mod:`promptgen.engine.spec`).

Layout (one concept per module):

* :mod:`.textutil` — line scanning (fenced code, headings, sections, decorations)
* :mod:`.numbers` — achievement numbers and file tokens (``3.2 → 32``)
* :mod:`.plan_parser` — declared achievements, sections, handoff hint
* :mod:`.status` — the ``**Status**:`` header rule and stated hours
* :mod:`.subplan_parser` — planned executions, objective and approach
* :mod:`.fix_parser` — the reviewer's issues in a ``FIX_T.md``
* :mod:`.parallel` — ``parallel.json`` dependencies and their validation
* :mod:`.layout` — where files live and how they are named
* :mod:`.states` — the state names and the template each state's prompt uses
* :mod:`.state_machine` — achievement and plan states, warnings, statistics
* :mod:`.prompts` — built-in templates and rendering
* :mod:`.graph` — the engine nodes (rules and expanders)
* :mod:`.api` — the facade the CLI calls
"""
