"""Why a derivative disagrees with finite differences: a kink, a wrong rule, or precision.

Each disagreeing element is probed along its own direction at a ladder of steps around the
check's eps. Central differences that settle (agree from one step to the next) are the best
numbers finite differences can give; one-sided differences on either side tell a kink, where
they disagree by an amount that does not shrink with the step, from a smooth function, where
their gap shrinks in proportion to the step (it is the step times the curvature).
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np

LADDER = 10.0 ** np.arange(-2, 5)  # the steps, as multiples of eps
SHOWN = 10  # rows of the table, and elements diagnosed, per disagreement
CAUSES = ("wrong rule", "kink", "precision", "unclear")


def probe(outputs_at: Callable[[float], list], eps: float) -> dict[float, list]:
    """f's outputs at t = 0 and t = +-h along one direction, for every step h of the ladder."""
    ts = [0.0] + [s * h for h in eps * LADDER for s in (1.0, -1.0)]
    with np.errstate(all="ignore"):  # large steps may leave f's domain: those steps are dropped
        return {t: outputs_at(t) for t in ts}


def classify(phi: dict[float, complex], analytic: complex, eps: float, rtol: float, atol: float,
             rounding: float, dtype: str = "float64") -> tuple[str, str]:
    """(cause, evidence) for one element: ``phi`` maps t to the element's value of f(x + t v), ``rounding``
    is the rounding error expected in one value of it from the outputs' ``dtype``."""
    f0 = phi[0.0]
    if not np.isfinite(f0):
        return "unclear", f"f is {_g(f0)} at the point itself, so no difference quotient is defined there"
    steps = [h for h in eps * LADDER if np.isfinite(phi[h]) and np.isfinite(phi[-h])]
    if len(steps) < 2:
        return "unclear", (f"f is not finite a step away from the point at {len(LADDER) - len(steps)} of the "
                           f"{len(LADDER)} steps tried, from {eps * LADDER[0]:.0e} to {eps * LADDER[-1]:.0e} (is the "
                           "point at the edge of f's domain?)")
    c = {h: (phi[h] - phi[-h]) / (2 * h) for h in steps}
    right = {h: (phi[h] - f0) / h for h in steps}
    left = {h: (f0 - phi[-h]) / h for h in steps}
    pairs = [(h, steps[n + 1]) for n, h in enumerate(steps[:-1]) if np.isclose(steps[n + 1], 10 * h)]
    # The noise in f's values: its dtype's rounding, or what the two smallest steps' difference shows.
    sigma = max(rounding, steps[0] * abs(c[steps[0]] - c[steps[1]])) if pairs else rounding
    allowed = lambda want: atol + rtol * abs(want)

    for h, big in sorted((p for p in pairs if p[0] <= eps * 1.0001), reverse=True):
        gap, gap_big = abs(right[h] - left[h]), abs(right[big] - left[big])
        if (gap > max(allowed(c[h]), 10 * sigma / h) and gap_big > max(allowed(c[big]), 10 * sigma / big)
                and gap > gap_big / 3):
            side = ("; the rule gives the right-hand one" if abs(analytic - right[h]) <= allowed(right[h]) else
                    "; the rule gives the left-hand one" if abs(analytic - left[h]) <= allowed(left[h]) else "")
            return "kink", (f"the one-sided differences disagree with each other, and the gap does not shrink "
                            f"with the step as curvature would: right {_g(right[h])}, left {_g(left[h])} at step "
                            f"{h:.0e}; right {_g(right[big])}, left {_g(left[big])} at {big:.0e}{side}. f has no "
                            "derivative at (or within eps of) this point: check at a point away from the kink")
    if not pairs:
        return "unclear", "f is finite only at steps too far apart to compare"
    spread, h, big = min((abs(c[a] - c[b]), a, b) for a, b in pairs)
    at_eps = [(a, b) for a, b in pairs if np.isclose(a, eps)]
    if at_eps and abs(c[at_eps[0][0]] - c[at_eps[0][1]]) <= allowed(c[at_eps[0][0]]):
        (h, big), spread = at_eps[0], abs(c[at_eps[0][0]] - c[at_eps[0][1]])  # settled at eps: show eps's own numbers
    best = c[h]
    settled = (f"central differences settle at {_g(c[h])} (step {h:.0e}) and {_g(c[big])} (step {big:.0e})")
    if spread > max(allowed(best), 1e-2 * abs(best)):
        return "unclear", (f"central differences do not settle at any step from {eps * LADDER[0]:.0e} to "
                           f"{eps * LADDER[-1]:.0e} (the closest: {_g(c[h])} at step {h:.0e}, {_g(c[big])} at "
                           f"{big:.0e}): f is too steep or too noisy here to tell; try another point")
    if abs(best - analytic) <= allowed(best) + 2 * spread:
        if not np.isclose(h, eps) and abs(c.get(eps, best) - best) > allowed(best):
            at_eps = f"at the check's step {eps:.0e} they give {_g(c[eps])}" if eps in c else "at eps f is not finite"
        else:
            at_eps = f"they vary by {_g(spread)} from one step to the next"
        coarse = "" if dtype in ("float64", "complex128") else f"f's outputs are {dtype}, "
        why = (f"the step is too small for f's rounding ({coarse}about {_g(sigma, 2)} in each value, "
               f"{_g(sigma / eps, 2)} in a quotient at eps); try eps={h:.0e}" if h > eps else
               f"the step is too large for f's curvature; try eps={h:.0e}" if h < eps else
               "finite differences cannot be more accurate than that here; loosen rtol/atol")
        return "precision", f"{settled}, which agrees with the rule's {_g(analytic)}, but {at_eps}: {why}"
    if abs(right[h] - left[h]) <= abs(best - analytic) / 2:
        ratio = ""
        if np.isreal(best) and np.isreal(analytic) and abs(best) > 0 and abs(analytic) > 0:
            ratio = f" (the rule is {_g(np.real(analytic) / np.real(best), 3)} times the numbers)"
        return "wrong rule", (f"the one-sided differences agree with each other (right {_g(right[h])}, left "
                              f"{_g(left[h])} at step {h:.0e}) and {settled}, but the rule gives {_g(analytic)}"
                              f"{ratio}: the derivative rule (a custom_gradient's grad_fn) is wrong here")
    return "unclear", (f"{settled}, not the rule's {_g(analytic)}, but the one-sided differences disagree "
                       f"(right {_g(right[h])}, left {_g(left[h])}): f may be too steep or too noisy to tell")


def table(rows: list[dict], total: int, of: int) -> list[str]:
    """The worst rows as aligned text, then how many more disagree."""
    fwd = any(r["output"] is not None for r in rows)
    head = ["element"] + (["output"] if fwd else []) + ["analytic", "numeric", "abs error", "rel error", "cause"]
    body = [[r["element"]] + ([r["output"]] if fwd else []) + [_g(r["analytic"]), _g(r["numeric"]),
             _g(r["abs_error"], 3), _g(r["rel_error"], 3), r["cause"] or "(within tolerance)"]
            for r in rows]
    widths = [max(len(line[n]) for line in [head] + body) for n in range(len(head))]
    lines = ["  ".join(s.ljust(w) for s, w in zip(line, widths)).rstrip() for line in [head] + body]
    if total > len(rows):
        lines.append(f"... and {total - len(rows)} more of the {of} entries disagree")
    elif total == 0:
        lines.append(f"(no single one of the {of} entries is outside the tolerance: these are the largest errors)")
    return lines


def summary(rows: list[dict]) -> list[str]:
    """One line per cause the rows show: how many, and the evidence at the worst of them."""
    lines = []
    for cause in CAUSES:
        mine = [r for r in rows if r["cause"] == cause]
        if mine:
            where = "" if mine[0]["element"] == "()" else f"at element {mine[0]['element']}"
            if mine[0]["output"]:
                where += f"{' on' if where else 'on'} output {mine[0]['output']}"
            n = "" if len(rows) == 1 else f" (all {len(rows)} entries shown)" if len(mine) == len(rows) else \
                f" ({len(mine)} of the {len(rows)} entries shown)"
            text = f"{cause}{n}: {where + ', ' if where else ''}{mine[0]['evidence']}"
            lines += textwrap.wrap(text, 100, subsequent_indent="  ", break_on_hyphens=False)
    return lines


def _g(v: complex, digits: int = 6) -> str:
    v = complex(v)
    if v.imag == 0:
        return f"{v.real:.{digits}g}"
    return f"{v.real:.{digits}g}{v.imag:+.{digits}g}j"
