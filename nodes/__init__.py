"""The workspace domain of promptgen: what a PLAN workspace means.

This package turns the markdown files of a methodology workspace (PLAN, SUBPLAN,
EXECUTION_TASK and feedback files) into the state of every plan and the next
prompt to paste into an agent. It is deliberately ignorant of storage, terminals
and argument parsing: besides the standard library it uses only the engine's
node contract (:mod:`promptgen.engine.spec`), the names of build decisions
(:mod:`promptgen.engine.explain`, in :mod:`.reports`) and, for rule versions,
the engine's fingerprints and stamps. The rules it implements are stated for
users in docs/USER_GUIDE.md, sections 2 to 8, 10 and 11.

Layout (one concept per module):

* :mod:`.textutil` — line scanning (fenced code, headings, sections, decorations)
* :mod:`.lazyre` — regular expressions compiled on first use
* :mod:`.numbers` — achievement numbers and file tokens (``3.2 → 32``)
* :mod:`.plan_parser` — declared achievements, sections, handoff hint
* :mod:`.header` — the ``**Status**:`` header rule and stated hours
* :mod:`.subplan_parser` — planned executions, objective and approach
* :mod:`.fix_parser` — the reviewer's issues in a ``FIX_T.md``
* :mod:`.parallel` — ``parallel.json`` dependencies and their validation
* :mod:`.layout` — where files live and how they are named
* :mod:`.diagnostics` — warning kinds, records and remedies
* :mod:`.states` — the state names and the template each state's prompt uses
* :mod:`.state_machine` — achievement and plan states, warnings, statistics
* :mod:`.prompts` — built-in templates (``templates/``) and rendering
* :mod:`.keys` — the names of the graph's nodes (``<kind>:<name>``)
* :mod:`.rules` — the engine graph: one module per node kind (``discovery``,
  ``plan``, ``subplan``, ``execution``, ``feedback``, ``parallel``, ``state``,
  ``prompt``, ``template``), what each node reads (``specs``), how source
  values are read (``files``), and rule versions derived from the code
  (``versions``)
* :mod:`.config` — the workspace's configuration (``promptgen.toml``, plan roots)
* :mod:`.selection` — choosing a plan from ``@NAME`` or a path
* :mod:`.reports` — per-plan reports, the status document, explicit targets
* :mod:`.values` — the shapes of the values that cross modules (for type checkers)
"""
