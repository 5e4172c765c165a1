"""``tapegrad grad``: the value of an expression at a point, its gradient, Hessian and third derivatives."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import tapegrad as tg

from ._common import UsageError, assignments, expression, json_number, json_text, number, point, table
from .expr import syntax

HELP = "value, gradient and (with --order 2 or 3) higher derivatives of an expression at a point"
DESCRIPTION = """\
Differentiate EXPR at the point given with --at, in float64.

{SYNTAX}
Values given with --at may be constant expressions too (x=pi/4).""".replace("{SYNTAX}", syntax("--at"))
EPILOG = """\
examples:
  tapegrad grad "x**2 + b" --at x=100 b=10            # the seed's 1.1: df/dx = 200
  tapegrad grad "x**2 + b**2" --at x=20 b=10 --order 2
  tapegrad grad "sin(x) * exp(-y)" --at x=pi/4 y=0 --wrt x --order 3
  tapegrad grad "(1-x)**2 + 100*(y-x**2)**2" --at x=-1.2 y=1 --json

An expression that starts with '-' would look like an option: write it with a
leading space or in parentheses, e.g. " -x**2" or "(-x**2)".

The work is bounded so that a run takes seconds at most: about variables**(order-1)
passes over the expression (5 times that at order 3) times its size, at most
200,000; a larger run is refused before it starts, saying what would fit.

exit status: 0 success, 1 a result is inf or nan, 2 bad usage or a bad expression"""

# The work of one run, in passes over the expression times its size: --order k nests k - 1 loops over the
# variables (n ** (k - 1) passes), and a third-order pass (forward over forward over reverse) costs about 5
# second-order ones. Measured: about 15 microseconds a unit, so the limit is a few seconds; 10 variables at
# order 2 or 3 variables at order 3 stay below a tenth of it at the longest expression.
MAX_WORK = 200_000
PASS_COST = {1: 1, 2: 1, 3: 5}
ORDER_NAMES = {1: "gradient", 2: "Hessian", 3: "third derivatives"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("grad", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("expression", metavar="EXPR", help='the expression, in quotes: "x**2 + b**2"')
    p.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE",
                   help="the point: a value for every variable, e.g. --at x=20 b=10")
    p.add_argument("--wrt", metavar="NAMES",
                   help="differentiate with respect to these variables only (comma-separated; default: all)")
    p.add_argument("--order", type=int, choices=(1, 2, 3), default=1,
                   help="1: gradient (default); 2: also the Hessian; 3: also the third derivatives")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)


def derivatives(f: Callable[[dict], Any], at: dict[str, float], wrt: list[str], order: int) -> list[np.ndarray]:
    """[value, gradient, Hessian, third derivatives][:order + 1] of ``f`` at ``at``, as float64 arrays.

    The variables in ``wrt`` become one vector ``v``, the others stay constants; then the
    library's transforms do the rest: ``value_and_grad``, ``hessian`` and ``jacfwd(hessian)``.

    >>> from tapegrad.cli.grad import derivatives
    >>> from tapegrad.cli.expr import parse
    >>> [a.tolist() for a in derivatives(parse("x**3 * b"), {"x": 2.0, "b": 1.0}, ["x"], 3)]
    [8.0, [12.0], [[12.0]], [[[6.0]]]]
    """
    fixed = {n: tg.constant(np.float64(v)) for n, v in at.items() if n not in wrt}

    def g(v: Any) -> Any:
        return f({**fixed, **{n: v[i] for i, n in enumerate(wrt)}})

    v = tg.constant(np.array([at[n] for n in wrt], dtype=np.float64))
    out = list(tg.value_and_grad(g)(v))
    if order >= 2:
        out.append(tg.hessian(g)(v))
    if order >= 3:
        out.append(tg.jacfwd(tg.hessian(g))(v))
    return [np.asarray(t, dtype=np.float64) for t in out]


def work(variables: int, order: int, size: int) -> int:
    """The cost of a run, bounded by ``MAX_WORK``: passes over the expression times its size.

    >>> from tapegrad.cli.grad import MAX_WORK, work
    >>> work(10, 2, 1000) < work(3, 3, 1000) < MAX_WORK < work(50, 3, 800)
    True
    """
    return variables ** (order - 1) * PASS_COST[order] * size


def _check_work(variables: int, order: int, size: int) -> None:
    """Refuse, before it starts, a run that would take minutes; say what would fit."""
    needed = work(variables, order, size)
    if needed <= MAX_WORK:
        return
    fits = max((k for k in range(1, variables) if work(k, order, size) <= MAX_WORK), default=0)
    lower = [k for k in range(order - 1, 0, -1) if work(variables, k, size) <= MAX_WORK]
    what = ([f"at most {fits} variable{'s' if fits > 1 else ''} with --wrt"] if fits else []) + \
        ([f"--order {lower[0]}"] if lower else [])
    raise UsageError(f"--order {order} with {variables} variables and an expression of size {size} (numbers, names "
                     f"and operators) would take about {needed:,} units of work (variables**(order-1) passes "
                     f"times the size{', times 5 at order 3' if order == 3 else ''}); the limit is {MAX_WORK:,}, "
                     f"a few seconds. Use {' or '.join(what) or 'a shorter expression'}")


def run(args: argparse.Namespace) -> int:
    at = assignments(args.at, "--at")
    expr = expression(args.expression, list(at), "--at")
    wrt = list(at) if args.wrt is None else [w.strip() for w in args.wrt.split(",") if w.strip()]
    for w in wrt:
        if w not in at:
            raise UsageError(f"--wrt {w}: not one of the variables given with --at ({', '.join(at)})")
    if len(set(wrt)) != len(wrt) or not wrt:
        raise UsageError("--wrt takes distinct variable names separated by commas, e.g. --wrt x,b")
    _check_work(len(wrt), args.order, expr.size)
    with np.errstate(all="ignore"):  # inf and nan are reported below, not as NumPy warnings
        results = derivatives(expr, at, wrt, args.order)
    if args.json:
        print(json_text(_as_json(args.expression, at, wrt, results)))
    else:
        print("\n".join(_as_text(args.expression, at, wrt, results)))
    bad = [name for name, r in zip(("value",) + tuple(ORDER_NAMES.values()), results) if not np.all(np.isfinite(r))]
    if bad:
        print(f"tapegrad grad: the {' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} not finite (inf or nan) "
              f"at {point(at)}: the expression or its derivatives are undefined or infinite there",
              file=sys.stderr)
        return 1
    return 0


def _as_text(text: str, at: dict[str, float], wrt: list[str], results: list[np.ndarray]) -> list[str]:
    lines = [f"f({', '.join(at)}) = {text.strip()}", f"at {point(at)}", "", f"value  {number(results[0])}"]
    if len(results) > 1:
        lines += ["", "gradient"]
        head = max(len(f"df/d{w}") for w in wrt)
        lines += [f"  {f'df/d{w}':<{head}}  {number(g)}" for w, g in zip(wrt, results[1])]
    if len(results) > 2:
        lines += ["", "Hessian (d2f / d row d column)"] + table(wrt, wrt, results[2])
    if len(results) > 3:
        lines += ["", "third derivatives (d3f / d block d row d column)"]
        for w, block in zip(wrt, results[3]):
            lines += [f"  d{w}:"] + table(wrt, wrt, block, indent="    ")
    return lines


def _as_json(text: str, at: dict[str, float], wrt: list[str], results: list[np.ndarray]) -> dict[str, Any]:
    def nested(a: np.ndarray) -> Any:
        return [nested(x) for x in a] if a.ndim else json_number(a)

    out: dict[str, Any] = {"expression": text.strip(), "at": at, "wrt": wrt, "value": json_number(results[0])}
    if len(results) > 1:
        out["gradient"] = {w: json_number(g) for w, g in zip(wrt, results[1])}
    if len(results) > 2:
        out["hessian"] = nested(results[2])
    if len(results) > 3:
        out["third_derivatives"] = nested(results[3])
    return out
