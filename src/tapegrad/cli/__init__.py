"""The ``tapegrad`` command: ``demo``, ``grad`` and ``minimize`` (also ``python -m tapegrad``).

Exit status: 0 success, 1 the run failed (a descent diverged, a result is not finite, a file
could not be written), 2 bad usage or a bad expression, 130 interrupted with Ctrl-C (each output
file is then whole or not written, and the message says which).

>>> from tapegrad.cli import main
>>> main(["grad", "x**2 + b**2", "--at", "x=20", "b=10"])
f(x, b) = x**2 + b**2
at x = 20, b = 10
<BLANKLINE>
value  500
<BLANKLINE>
gradient
  df/dx  40
  df/db  20
0
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import demo, grad, minimize
from ._common import UsageError
from .expr import ExpressionError

__all__ = ["main"]

DESCRIPTION = "tapegrad: automatic differentiation and gradient descent for NumPy users."
EPILOG = """\
examples:
  tapegrad demo
  tapegrad grad "x**2 + b**2" --at x=20 b=10 --order 2
  tapegrad minimize "(1-x)**2 + 100*(y-x**2)**2" --init x=-1.2 y=1 --optimizer adam --lr 0.01 --steps 5000

'tapegrad COMMAND --help' shows each command's options and more examples."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        if "EXPR" in message:
            message += ("\n(an expression that starts with '-' looks like an option: write it with a leading "
                        "space or in parentheses, e.g. \" -x**2\" or \"(-x**2)\")")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    from tapegrad import __version__

    parser = _Parser(prog="tapegrad", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tapegrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, title="commands")
    demo.add_parser(sub)
    grad.add_parser(sub)
    minimize.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tapegrad`` command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    >>> from tapegrad.cli import main
    >>> main(["grad", "x**3", "--at", "x=2", "--order", "2", "--json"])
    {
      "expression": "x**3",
      "at": {"x": 2.0},
      "wrt": ["x"],
      "value": 8.0,
      "gradient": {"x": 12.0},
      "hessian": [[12.0]]
    }
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version (0) or a usage error (2), already printed by argparse
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    prefix = f"tapegrad {args.command}: error:"
    try:
        return args.run(args)
    except (UsageError, ExpressionError) as e:
        print(f"{prefix} {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tapegrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tapegrad demo | head`: the reader left; nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (keeps Python's exit flush from raising again)
        return 1


def console() -> None:
    """The ``tapegrad`` program: ``main()``, then exit with its status.

    A Ctrl-C that lands after the command's own handling (while it exits) ends the program with
    status 130, never a traceback; once ``main()`` has returned, the work is done and another Ctrl-C
    is ignored.

    >>> from tapegrad.cli import console
    >>> callable(console)
    True
    """
    import signal

    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # not the main thread: nothing to guard
        pass
    sys.exit(code)
