"""Exit codes, documented in ``promptgen --help`` and docs/USER_GUIDE.md."""

OK = 0
#: A workspace problem for the target (e.g. a PLAN that declares no achievements).
WORKSPACE_PROBLEM = 1
#: A usage error: unknown option, unknown or ambiguous plan, no workspace found.
USAGE = 2
#: promptgen itself failed (a bug): the message says how to report it.
INTERNAL = 3
#: ``--no-wait`` and another process holds the build lock (sysexits' EX_TEMPFAIL).
LOCK_BUSY = 75

EPILOG = """exit codes:
  0   ok
  1   workspace problem for the target (e.g. its PLAN declares no achievements;
      for check: a warning of a failing kind)
  2   usage error (unknown option, unknown or ambiguous plan, no workspace found)
  3   internal error in promptgen (please report it; PROMPTGEN_DEBUG=1 shows a traceback)
  75  another promptgen holds the build lock (with --no-wait, and for clean)"""
