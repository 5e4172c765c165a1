"""``tapegrad race``: several optimizers from one start on a test function or an expression, ranked."""
from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

import numpy as np

from tapegrad import testfunctions
from tapegrad.descent import race
from tapegrad.optimizers.names import OPTIMIZERS

from ._common import (
    IMAGE_FORMATS,
    UsageError,
    assignments,
    expression,
    files_written,
    output_file,
    point,
    same_files,
    save_plot,
    write_outputs,
)
from .expr import syntax
from .minimize import _count, _positive

HELP = "race several optimizers from one start on a test function or an expression"
DESCRIPTION = f"""\
Run each optimizer from the same start for --steps steps and rank them: first those that
came within --tol of the minimum (by the fewest steps), then the rest by their final loss;
a run that diverged is marked and ranked last. FUNCTION is a test function:
  {", ".join(testfunctions.NAMES)}
(its own start and minimum; --dim N for those of any dimension), or an expression with its
start given by --init (its minimum is then the best loss any optimizer found).

{syntax("--init")}"""
EPILOG = """\
examples:
  tapegrad race rosenbrock --optimizers sgd,momentum,adam,lbfgs --plot race.png --gif race.gif
  tapegrad race himmelblau --optimizers sgd:0.001,adam:0.05,rmsprop --steps 500 --csv board.csv
  tapegrad race "x**2 + 10*y**2" --init x=1 y=1 --optimizers sgd,adam
  tapegrad race rastrigin --dim 5 --optimizers adam,lbfgs

exit status: 0 the race ran (a diverged optimizer is a result, not a failure), 1 a file could
not be written, 2 bad usage or a bad expression, 130 interrupted (Ctrl-C: the race stops, and
the files for the optimizers that ran are still written). Each file is written whole or not
at all; output names are checked before the race."""

OUTPUTS = {"csv": ("board.csv", None), "plot": ("race.png", IMAGE_FORMATS), "gif": ("race.gif", ("gif", "mp4"))}
WHAT = {"csv": "the leaderboard", "plot": "the paths over the landscape", "gif": "the race, animated"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("race", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("function", metavar="FUNCTION", help="a test function's name, or an expression in quotes")
    p.add_argument("--optimizers", default="sgd,momentum,adam,lbfgs", metavar="LIST",
                   help="comma-separated names, each with its learning rate if you like: sgd:0.001,adam,lbfgs "
                        f"(names: {', '.join(OPTIMIZERS)}; default: sgd,momentum,adam,lbfgs, at rates that do not "
                        "diverge on the test functions)")
    p.add_argument("--init", nargs="+", metavar="NAME=VALUE", help="the start, for an expression: --init x=1 y=-1")
    p.add_argument("--dim", type=_count, metavar="N", help="the dimension of a test function that has any "
                                                           "(rosenbrock, rastrigin, ackley, styblinski_tang, ...)")
    p.add_argument("--steps", type=_count, default=300, metavar="N", help="steps for each optimizer (default: 300)")
    p.add_argument("--tol", type=_positive, default=1e-4,
                   help="an optimizer has arrived when its loss is within TOL of the minimum (default: 1e-4)")
    p.add_argument("--plot", metavar="FILE", help="write the paths over the landscape as an image (for a function "
                                                  "of one variable, the loss curves)")
    p.add_argument("--gif", metavar="FILE", help="write the race as an animated .gif (or an .mp4 where ffmpeg is "
                                                 "installed)")
    p.add_argument("--csv", metavar="FILE", help="write the leaderboard as CSV")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    fn, x0, names = _function(args)
    entries = _optimizers(args.optimizers)
    files = {kind: output_file(getattr(args, kind), f"--{kind}", example, formats)
             for kind, (example, formats) in OUTPUTS.items()}
    same_files({f"--{kind}": path for kind, path in files.items()})
    if files["gif"] and len(names) < 2:
        raise UsageError(f"--gif shows the paths over two variables; this function has one ({names[0]}): use "
                         "--plot for its loss curves")
    if files["gif"] and files["gif"].lower().endswith(".mp4") and shutil.which("ffmpeg") is None:
        raise UsageError(f"--gif {files['gif']}: an .mp4 needs ffmpeg, which is not installed; write a .gif")
    label = getattr(fn, "name", None) or args.function.strip()
    print(f"racing {', '.join(e if isinstance(e, str) else e[0] for e in entries)} on {label} from "
          f"{point(dict(zip(names, _flat(x0))))}, {args.steps} steps each")
    with np.errstate(all="ignore"):  # an overflow is the divergence the leaderboard reports
        result = race(fn, entries, x0=x0, steps=args.steps, tol=args.tol, name=label)
    written: dict[str, str] = {}
    try:
        failed = _write(files, result, len(names), written)
        print(result.table())
        for kind, path in written.items():
            print(f"wrote {path} ({WHAT[kind]})")
    except KeyboardInterrupt:
        asked = {kind: f"--{kind} {path}" for kind, path in files.items() if path is not None}
        done = [name for kind, name in asked.items() if kind in written]
        left = [name for kind, name in asked.items() if kind not in written]
        print(f"tapegrad race: interrupted (Ctrl-C) after the race; {files_written(done, left)}", file=sys.stderr)
        return 130
    for problem in failed:
        print(f"tapegrad race: error: {problem}", file=sys.stderr)
    if result.interrupted:
        print(f"tapegrad race: interrupted (Ctrl-C): {len(result.runners)} of {len(entries)} optimizers ran",
              file=sys.stderr)
        return 130
    return 1 if failed else 0


def _function(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    """The function, its start and the variables' names: a test function by name, or the expression."""
    key = args.function.strip().lower().replace("-", "_")
    if key in testfunctions.NAMES:
        if args.init:
            raise UsageError(f"--init gives the start of an expression; {key} starts from its own start")
        settings = {}
        if args.dim is not None:
            import inspect

            if "n" not in inspect.signature(testfunctions.NAMES[key]).parameters:
                raise UsageError(f"{key} has 2 variables; --dim goes with rosenbrock, rastrigin, ackley, "
                                 "styblinski_tang and ill_conditioned")
            settings["n"] = args.dim
        try:
            fn = testfunctions.get(key, **settings)
        except ValueError as e:
            raise UsageError(f"--dim {args.dim}: {e}") from None
        return fn, fn.start, [f"x[{i}]" for i in range(fn.dim)]
    if args.dim is not None:
        raise UsageError("--dim goes with a test function; an expression has the variables given with --init")
    if not args.init:
        raise UsageError(f"{args.function.strip()!r} is not a test function ({', '.join(testfunctions.NAMES)}); "
                         "as an expression, it needs its start: --init x=1 y=-1")
    init = assignments(args.init, "--init")
    expr = expression(args.function, list(init), "--init")
    return expr, {name: np.float64(v) for name, v in init.items()}, list(init)


def _optimizers(text: str) -> list[Any]:
    """``sgd:0.001,adam`` -> ``[("sgd", 0.001), "adam"]``, each name checked before the race."""
    out: list[Any] = []
    for item in text.split(","):
        name, colon, rate = (part.strip() for part in item.partition(":"))
        if name.lower() not in OPTIMIZERS:
            raise UsageError(f"--optimizers: unknown optimizer {name!r}; the names are {', '.join(OPTIMIZERS)}")
        if not colon:
            out.append(name.lower())
            continue
        try:
            lr = _positive(rate)
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"--optimizers {item.strip()}: the learning rate {e}") from None
        out.append((name.lower(), lr))
    return out


def _flat(x0: Any) -> list[float]:
    return [float(v) for v in (x0.values() if isinstance(x0, dict) else np.ravel(x0))]


def _write(files: dict[str, str | None], result: Any, count: int, written: dict[str, str]) -> list[str]:
    """Write the files asked for, each whole or not at all; return why any failed (the others are still written)."""
    def write(kind: str, path: str) -> None:
        if kind == "csv":
            result.to_csv(path)
        elif kind == "plot":
            save_plot(result.plot("paths" if count >= 2 else "loss"), path)
        else:
            result.animate(path)

    return write_outputs(files, write, written)
