"""``promptgen``: the entry point.

A no-op ``build`` or ``next`` is answered by ``fast.try_fast`` before anything
else is imported. Every other invocation goes through argparse and a command
module in this package. User errors end with a one-line message and exit code 2
(or 1 for a workspace problem); only a bug prints more, and only with
``PROMPTGEN_DEBUG=1``.
"""

import os
import sys

# on the no-op path: see "Import cost" in promptgen/__init__.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from promptgen.engine.fastpath import Observation


def main(argv: "Optional[list[str]]" = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from .fast import try_fast

    from promptgen.engine.fastpath import Observation

    # what the no-op check saw: when it finds a change, the build starts from it
    observed = Observation()
    try:
        code = try_fast(args, observed)
    except BrokenPipeError:
        return _reader_left()
    if code is not None:
        return code
    return _full(args, observed)


def _reader_left() -> int:
    """``promptgen next @X | head``: the reader left; not an error of ours.

    Point fd 1 at /dev/null so that the flush of whatever is still buffered (at
    exit, too) cannot fail again and print "Exception ignored … BrokenPipeError".
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 0


def _full(argv: "list[str]", observed: "Optional[Observation]" = None) -> int:
    from . import exitcodes
    from .output import error

    try:
        from .fast import plain_namespace

        ns = plain_namespace(argv, observed)
        if ns is not None:
            # the two plain forms, imported by name rather than through importlib
            if ns.command == "build":
                from .commands import build as build_command

                return build_command.run(ns)
            from .commands import next as next_command

            return next_command.run(ns)
        from .parser import make_parser

        parser = make_parser()
        ns = parser.parse_args(argv)
        if not getattr(ns, "command", None):
            parser.print_help(sys.stderr)
            return exitcodes.USAGE
        return ns.run(ns)
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return _reader_left()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        from .errors import report

        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
