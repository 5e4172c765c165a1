"""``tapegrad minimize``: run a descent on an expression, show progress, write the files asked for."""
from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from tapegrad.descent import Words, minimize
from tapegrad.optimizers.names import OPTIMIZERS

from ._common import (
    IMAGE_FORMATS,
    UsageError,
    assignments,
    expression,
    files_written,
    json_number,
    json_text,
    number,
    output_file,
    point,
    same_files,
    save_plot,
    write_outputs,
)
from .expr import syntax

HELP = "minimize an expression by gradient descent (or Adam, L-BFGS, Newton, ...)"
DESCRIPTION = """\
Minimize EXPR from the starting point given with --init, in float64, recording every
step. Each step moves the variables against the gradient: with sgd, x <- x - RATE * df/dx;
the other optimizers adapt the step. Shows a progress bar in a terminal, then the result
and why the run stopped (its status):
  max_steps    it took the --steps steps asked for
  converged    a stopping rule was met: --gtol, --ftol, --xtol, --target, --patience,
               --stagnation (or the optimizer could not go further down)
  max_steps    also when --max-time ran out
  diverged     the loss, the gradient or a variable became inf or nan, the loss fell
               without bound, or it grew past --runaway; the result is the last finite
               point (a smaller --lr usually helps)
  interrupted  Ctrl-C; the result is the last step recorded

{SYNTAX}""".replace("{SYNTAX}", syntax("--init"))
EPILOG = """\
examples:
  tapegrad minimize "w**2" --init w=1 --lr 0.01 --steps 10000 --plot w.png
  tapegrad minimize "(1-x)**2 + 100*(y-x**2)**2" --init x=-1.2 y=1 \\
      --optimizer adam --lr 0.01 --steps 5000 --landscape path.png
  tapegrad minimize "(1-x)**2 + 100*(y-x**2)**2" --init x=-1.2 y=1 --optimizer lbfgs --json
  tapegrad minimize "x**2 + 3*y**2" --init x=1 y=1 --lr 0.1 --tol 1e-12 --csv steps.csv

exit status: 0 the run converged or used all its steps, 1 it diverged (inf or nan) or a
file could not be written, 2 bad usage or a bad expression, 130 interrupted (Ctrl-C: the
run stops and its files are still written; a second Ctrl-C while they are written stops
that, and the message says which were written). Each file is written whole or not at all:
an interrupted or failed write leaves an older file of that name as it was. Output names
are checked before the run: an empty name, a folder, a FIFO or a device is refused."""

# Each output file: a name to suggest when the one given will not do, and the extensions allowed (None: any).
OUTPUTS = {"csv": ("steps.csv", None), "plot": ("plot.png", IMAGE_FORMATS), "landscape": ("path.png", IMAGE_FORMATS)}
# The library's messages name its arguments and Python's exceptions; here the user types options.
WORDS = Words(fn="EXPR", x0="--init", start="the starting point", start_long="the starting point", lr="--lr {:g}",
              kept="--csv writes every step", ctrl_c="Ctrl-C")
EXIT = {"converged": 0, "max_steps": 0, "diverged": 1, "interrupted": 130}


def _positive(text: str) -> float:
    """A learning rate or a tolerance: a number > 0 and finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} must be a positive, finite number")
    return value


def _count(text: str) -> int:
    """A number of steps: a whole number >= 0, as in the API (0 evaluates the start only)."""
    try:
        value = int(text)  # first: through a float, a count of 20 digits would be rounded
    except ValueError:
        try:
            number = float(text)  # 1e4 is a common way to write 10000
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a whole number >= 0") from None
        if not number.is_integer():  # 2.5, inf, nan
            raise argparse.ArgumentTypeError(f"{text} is not a whole number; give a whole number >= 0") from None
        value = int(number)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give a whole number >= 0")
    return value


def _finite(text: str) -> float:
    """A loss to reach: any finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not abs(value) < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number")
    return value


def _steps(text: str) -> int:
    """A number of steps for a rule: a whole number >= 1."""
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be a whole number >= 1")
    return value


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("minimize", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("expression", metavar="EXPR", help='the function to minimize, in quotes: "(1-x)**2 + y**2"')
    p.add_argument("--init", nargs="+", required=True, metavar="NAME=VALUE",
                   help="the starting point: a value for every variable, e.g. --init x=-1.2 y=1")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd", metavar="NAME",
                   help=f"one of {', '.join(OPTIMIZERS)} (default: sgd)")
    p.add_argument("--lr", type=_positive, metavar="RATE",
                   help="the learning rate, which scales each step (for lbfgs, newton and linesearch: the first "
                        "trial step); default: the optimizer's own, printed when the run starts")
    p.add_argument("--steps", type=_count, default=1000, metavar="N",
                   help="the most steps to take: a whole number >= 0, such as 5000 or 5e3; 0 evaluates the "
                        "starting point only (default: 1000)")
    rules = p.add_argument_group("stopping rules (each off unless given; the message says which one fired)")
    rules.add_argument("--gtol", type=_positive, help="stop when the gradient's norm is at most GTOL")
    rules.add_argument("--ftol", "--tol", type=_positive, dest="ftol", metavar="FTOL",
                       help="stop when the loss changes by at most FTOL * max(1, |loss|) in one step")
    rules.add_argument("--xtol", type=_positive, help="stop when a step moves the variables by at most XTOL")
    rules.add_argument("--target", type=_finite, metavar="LOSS", help="stop when the loss is at most LOSS")
    rules.add_argument("--patience", type=_steps, metavar="N", help="stop after N steps with no new best loss")
    rules.add_argument("--max-time", type=_positive, metavar="SECONDS", help="stop after SECONDS seconds")
    rules.add_argument("--runaway", type=_positive, metavar="FACTOR",
                       help="stop (diverged) when the loss rises by more than FACTOR * max(1, |starting loss|), "
                            "e.g. 1e12, before it reaches inf")
    rules.add_argument("--stagnation", type=_steps, metavar="N",
                       help="stop when the variables have not changed for N steps though the gradient is not zero")
    p.add_argument("--plot", metavar="FILE",
                   help=f"write the variables over the steps as an image; its extension gives the format: "
                        f"{', '.join('.' + f for f in IMAGE_FORMATS)}")
    p.add_argument("--landscape", metavar="FILE",
                   help="write the path of the descent over the contours of EXPR (two variables, or any number "
                        "with --projection), as an image like --plot")
    p.add_argument("--projection", choices=("pca", "random"),
                   help="draw --landscape in a plane through the end point: pca, the path's two principal "
                        "directions; random, two random directions (seeded, so the same each time)")
    p.add_argument("--csv", metavar="FILE",
                   help="write every step as CSV, one row each, row 0 the starting point: step, loss, each "
                        "variable, gradient norm, learning rate, seconds")
    p.add_argument("--json", action="store_true", help="print the result as JSON (and no progress bar)")
    p.add_argument("--quiet", action="store_true", help="no progress bar; print the result only")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    init = assignments(args.init, "--init")
    expr = expression(args.expression, list(init), "--init")
    if args.projection and not args.landscape:
        raise UsageError("--projection says how to draw --landscape; give --landscape FILE too")
    if args.landscape and len(init) != 2 and not (args.projection and len(init) > 2):
        raise UsageError(f"--landscape draws the contours of a function of two variables; this one has {len(init)} "
                         f"({', '.join(init)}). Add --projection pca to draw it in the plane of the path, or use "
                         "--plot to see the parameters over the steps")
    files = {kind: output_file(getattr(args, kind), f"--{kind}", example, formats)
             for kind, (example, formats) in OUTPUTS.items()}
    same_files({f"--{kind}": path for kind, path in files.items()})

    x0 = {name: np.float64(v) for name, v in init.items()}
    lr = OPTIMIZERS[args.optimizer][1] if args.lr is None else args.lr
    if not (args.quiet or args.json):
        print(f"minimizing {args.expression.strip()} with {args.optimizer} (learning rate {number(lr)}), at most "
              f"{args.steps} steps, from {point(init)}")
    with np.errstate(all="ignore"):  # an overflow is the divergence the result reports, not a warning
        result = minimize(expr, x0, optimizer=args.optimizer, learning_rate=lr, steps=args.steps,
                          gtol=args.gtol, ftol=args.ftol, xtol=args.xtol, target=args.target, patience=args.patience,
                          max_time=args.max_time, runaway=args.runaway, stagnation=args.stagnation,
                          progress=False if args.quiet or args.json else None)
    written: dict[str, str] = {}
    try:
        failed = _write(files, expr, result, written, args.projection)
        if args.json:
            print(json_text(_as_json(args, init, lr, result, written)))
        else:
            print("\n".join(_as_text(init, result, written)))
    except KeyboardInterrupt:  # a second Ctrl-C, after the run: each file is whole or untouched; say which
        asked = {kind: f"--{kind} {path}" for kind, path in files.items() if path is not None}
        done = [name for kind, name in asked.items() if kind in written]
        left = [name for kind, name in asked.items() if kind not in written]
        print(f"tapegrad minimize: interrupted (Ctrl-C) after the run; {files_written(done, left)}", file=sys.stderr)
        return 130
    for problem in failed:
        print(f"tapegrad minimize: error: {problem}", file=sys.stderr)
    code = EXIT.get(result.status, 1)
    return 1 if failed and code == 0 else code


def _write(files: dict[str, str | None], fn: Any, result: Any, written: dict[str, str],
           projection: str | None = None) -> list[str]:
    """Write the files asked for, each whole or not at all, into ``written`` as they are done; return why any failed."""
    def write(kind: str, path: str) -> None:
        if kind == "csv":
            result.history.to_csv(path)
            return
        from tapegrad import plot

        figure = plot.trajectory(result.history) if kind == "plot" else \
            plot.landscape(fn, result.history, projection=projection, progress=False)
        save_plot(figure, path)

    return write_outputs(files, write, written)


WHAT = {"csv": "every step", "plot": "the parameters over the steps", "landscape": "the path over the contours"}


def _message(result: Any) -> str:
    """The run's message in the command's words."""
    return result.stop.message(WORDS)


def _as_text(init: dict[str, float], result: Any, written: dict[str, str]) -> list[str]:
    lines = [_message(result), f"  status = {result.status}, steps = {result.steps}"]
    if result.reason in ("nonfinite", "unbounded") and result.steps:
        # The values shown are not those of the step that blew up: minimize puts back the step before it.
        lines.append(f"  at step {result.steps - 1}, the last finite point:")
    lines.append(f"  f = {number(result.fun)}")
    lines += [f"  {name} = {number(result.x[name])}   (df/d{name} = {number(result.grad[name])})" for name in init]
    lines += [f"wrote {path} ({WHAT[kind]})" for kind, path in written.items()]
    return lines


def _as_json(args: argparse.Namespace, init: dict[str, float], lr: float, result: Any,
             written: dict[str, str]) -> dict:
    return {
        "expression": args.expression.strip(), "init": init, "optimizer": args.optimizer,
        "learning_rate": lr, "status": str(result.status), "reason": str(result.reason),
        "success": bool(result.success),
        "message": _message(result), "steps": int(result.steps), "fun": json_number(result.fun),
        "x": {name: json_number(result.x[name]) for name in init},
        "grad": {name: json_number(result.grad[name]) for name in init},
        "files": written,
    }

