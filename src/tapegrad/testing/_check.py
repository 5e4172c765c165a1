"""The checker behind ``check_grads``: derivatives in each mode against central differences."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tapegrad._core.tensor import Operand, to_array, wrap
from tapegrad.autodiff import ForwardAccumulator
from tapegrad.tape import GradientTape

from . import _diagnose

_MODES = ("fwd", "rev")
_ENTRIES = 100  # output entries past which a reverse-mode table keeps the one cotangent that found the failure
_WORDS = {"fwd": "forward mode (JVP)", "rev": "reverse mode (VJP)"}


def _elements(a: np.ndarray) -> Iterator[tuple]:
    """(index, unit, direction) moving one element of ``a``: by 1, and by 1j too for a complex ``a``."""
    for unit in (1, 1j) if np.iscomplexobj(a) else (1,):
        for j in np.ndindex(a.shape):
            v = np.zeros_like(a)
            v[j] = unit
            yield j, unit, v


def _quotient(f: Callable[[list], list], x: list, i: int, v: np.ndarray, eps: float) -> list:
    """The central difference quotient of ``f`` (a list of arrays from a list of arrays) along ``v`` in ``x[i]``."""
    up, down = list(x), list(x)
    up[i] = x[i] + eps * v
    down[i] = x[i] - eps * v
    return [(a - b) / (2 * eps) for a, b in zip(f(up), f(down))]


def _leaf_names(args: tuple) -> list[str]:
    def walk(s: Any, where: str) -> list[str]:
        if isinstance(s, (list, tuple)):
            return [n for i, v in enumerate(s) for n in walk(v, f"{where}[{i}]")]
        if isinstance(s, dict):
            return [n for k in sorted(s) for n in walk(s[k], f"{where}[{k!r}]")]
        return [where]
    return [n for i, a in enumerate(args) for n in walk(a, f"argument {i}")]


def _float64(leaf: Any, name: str) -> np.ndarray:
    a = np.asarray(leaf._value if isinstance(leaf, Operand) else to_array(leaf))
    if a.dtype.kind not in "fiuc":
        raise TypeError(f"check_grads: {name} has dtype {a.dtype}; every argument is differentiated, so it must be "
                        "real or complex numbers (close over other arguments with a lambda)")
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _on_arrays(fn: Callable[[list], list]) -> Callable[[list], list]:
    """``fn`` (tensors to tensors) as a function of arrays, for difference quotients."""
    return lambda xs: [o._value for o in fn(_consts(xs))]


def _consts(arrays: list) -> list:
    return [wrap(np.array(a, dtype=np.complex128 if np.iscomplexobj(a) else np.float64)) for a in arrays]


def _where(k: tuple, unit: complex = 1, of_complex: bool = False) -> str:
    """Where in an array: the element, and for a complex array which part of it."""
    at = "" if k == () else f" at element {tuple(int(j) for j in k)}"
    if of_complex:
        at += " (real part)" if unit == 1 else " (imaginary part)"
    return at


class _Checker:
    def __init__(self, modes: Sequence[str], eps: float, rtol: float, atol: float, rng: np.random.Generator,
                 names: list[str], per_element: bool) -> None:
        self.modes, self.eps, self.rtol, self.atol, self.rng, self.names = modes, eps, rtol, atol, rng, names
        self.per_element = per_element
        self.failures: list[dict] = []
        self.count = 0

    def normal(self, like: np.ndarray) -> np.ndarray:
        """A random array of ``like``'s shape: complex where ``like`` is."""
        r = self.rng.standard_normal(like.shape)
        return r + 1j * self.rng.standard_normal(like.shape) if np.iscomplexobj(like) else r

    def run(self, fn: Callable[[list], list], x: list, order: int, chain: tuple) -> None:
        """Check fn's first derivatives in every mode; then, for order > 1, the derivatives of those."""
        outs = [o._value for o in fn(_consts(x))]
        for mode in self.modes:
            for i in range(len(x)):
                if x[i].size:
                    self.count += 1
                    check = self._forward if mode == "fwd" else self._reverse
                    check(fn, x, outs, i, chain)
        if order > 1:
            for mode in self.modes:
                if mode == "fwd":
                    direction = [self.normal(a) for a in x]
                    self.run(lambda ts, d=direction: _jvp(fn, ts, _consts(d)), x, order - 1, chain + (mode,))
                else:
                    cotangent = [self.normal(o) for o in outs]
                    self.run(lambda ts, c=cotangent: _vjp(fn, ts, _consts(c)), x, order - 1, chain + (mode,))

    def _directions(self, x: list, i: int) -> Iterator[tuple]:
        """(index, unit, direction) to move ``x[i]`` along: each element, or one random direction."""
        if self.per_element:
            yield from _elements(x[i])
        else:
            yield (), None, self.normal(x[i])

    def _fail(self, i: int, mode: str, chain: tuple, output: int | None, got: Any, want: Any, diff: Any,
              text: str, diagnosis: dict | None = None) -> None:
        how = " of ".join((mode,) + tuple(reversed(chain)))
        self.failures.append({
            "argument": self.names[i], "order": len(chain) + 1, "mode": how, "output": output, "got": got,
            "expected": want, "difference": diff,
            "message": f"{self.names[i]}, order {len(chain) + 1} ({how}): {_WORDS[mode]} {text}",
            **(diagnosis or {"elements": [], "disagreeing": None, "entries": None, "causes": [], "details": []})})

    def _explain(self, fn: Callable[[list], list], x: list, outs: list, i: int, u: list | None = None,
                 g: np.ndarray | None = None) -> dict:
        """Every derivative entry of argument ``i``, element by element: each Jacobian entry (in reverse mode
        from one VJP per output entry, or, past ``_ENTRIES`` of them, for the cotangent ``u`` that found the
        disagreement); the worst disagreeing entries (or the largest errors, when none disagrees alone)
        diagnosed from their own differences."""
        arrays, of_complex, rows = _on_arrays(fn), np.iscomplexobj(x[i]), []
        label = lambda m, k: None if len(outs) == 1 and k == () else f"{m} {k}" if len(outs) > 1 else f"{k}"
        cotangents = []  # (output label, cotangent, its gradient for x[i])
        if u is not None and sum(o.size for o in outs) <= _ENTRIES:
            for m, o in enumerate(outs):
                for k, unit, c in _elements(o):
                    c = [c if n == m else np.zeros_like(other) for n, other in enumerate(outs)]
                    part = (" re" if unit == 1 else " im") if np.iscomplexobj(o) else ""
                    out = (label(m, k) or "") + part or None
                    cotangents.append((out, c, _vjp(fn, _consts(x), _consts(c))[i]._value))
        elif u is not None:
            cotangents.append(("<u, .>", u, g))
        for j, unit, v in _elements(x[i]):
            numeric = _quotient(arrays, x, i, v, self.eps)
            element = str(tuple(int(n) for n in j)) + ((" real" if unit == 1 else " imag") if of_complex else "")
            if u is None:
                tangent = [np.zeros_like(a) for a in x]
                tangent[i] = v
                analytic = [t._value for t in _jvp(fn, _consts(x), _consts(tangent))]
                for m, (a, n) in enumerate(zip(analytic, numeric)):
                    for k in np.ndindex(n.shape) if a.shape == n.shape else ():
                        rows.append(self._row(element, label(m, k), a[k], n[k], v, lambda o, m=m, k=k: o[m][k]))
            for out, c, grad in cotangents:
                project = lambda o, c=c: sum(np.real(np.vdot(ck, ok)) for ck, ok in zip(c, o))
                rows.append(self._row(element, out, np.real(np.vdot(grad, v)), project(numeric), v, project))
        # a NaN error (a derivative or a difference that is not finite) is a disagreement, the worst kind
        rows.sort(key=lambda r: np.nan_to_num(r["abs_error"] - r["allowed"], nan=np.inf), reverse=True)
        bad = sum(not r["abs_error"] <= r["allowed"] for r in rows)
        shown = rows[:min(bad, _diagnose.SHOWN)] if bad else rows[:3]
        coarsest = max((o.dtype for o in outs if o.dtype.kind in "fc"), key=lambda t: np.finfo(t).eps,
                       default=np.dtype(np.float64))
        rounding = float(np.finfo(coarsest).eps)
        probes: dict = {}
        for r in shown:
            direction, project = r.pop("_direction"), r.pop("_project")
            key = id(direction)
            if key not in probes:
                probes[key] = _diagnose.probe(lambda t, d=direction: arrays(_moved(x, i, t * d)), self.eps)
            phi = {t: complex(project(o)) for t, o in probes[key].items()}
            if not r["abs_error"] <= r["allowed"]:
                r["cause"], r["evidence"] = _diagnose.classify(phi, r["analytic"], self.eps, self.rtol, self.atol,
                                                               rounding * abs(phi[0.0]), coarsest.name)
        for r in rows[len(shown):]:
            del r["_direction"], r["_project"]
        details = _diagnose.table(shown, bad, len(rows)) + _diagnose.summary(shown)
        return {"elements": shown, "disagreeing": bad, "entries": len(rows),
                "causes": [c for c in _diagnose.CAUSES if any(r["cause"] == c for r in shown)], "details": details}

    def _row(self, element: str, output: str | None, analytic: Any, numeric: Any, direction: np.ndarray,
             project: Callable[[list], Any]) -> dict:
        analytic, numeric = _number(analytic), _number(numeric)
        error = abs(analytic - numeric)
        return {"element": element, "output": output, "analytic": analytic, "numeric": numeric,
                "abs_error": error, "rel_error": error / abs(numeric) if numeric else float("inf") if error else 0.0,
                "allowed": self.atol + self.rtol * abs(numeric), "cause": None, "evidence": None,
                "_direction": direction, "_project": project}

    def _forward(self, fn: Callable[[list], list], x: list, outs: list, i: int, chain: tuple) -> None:
        for j, unit, v in self._directions(x, i):
            tangent = [np.zeros_like(a) for a in x]
            tangent[i] = v
            tangents = _jvp(fn, _consts(x), _consts(tangent))
            numeric = _quotient(_on_arrays(fn), x, i, v, self.eps)
            moved = "" if unit is None else f" (moving {self.names[i]}{_where(j, unit, np.iscomplexobj(x[i]))})"
            for m, (got, want) in enumerate(zip(tangents, numeric)):
                got = got._value
                if got.shape != want.shape:
                    self._fail(i, "fwd", chain, m, None, None, None,
                               f"has shape {got.shape} on output {m}, not the output's {want.shape}")
                    return
                diff = np.abs(got - want)
                allowed = self.atol + self.rtol * np.abs(want)
                if not np.all(diff <= allowed):
                    k = np.unravel_index(np.argmax(diff - allowed), diff.shape) if diff.ndim else ()
                    self._fail(i, "fwd", chain, m, _number(got[k]), _number(want[k]), float(diff[k]),
                               f"differs from finite differences on output {m}{_where(k)}{moved}: "
                               f"{_number(got[k]):.6g} vs {_number(want[k]):.6g} (difference {float(diff[k]):.3g}, "
                               f"allowed {float(allowed[k]):.3g})", self._explain(fn, x, outs, i))
                    return

    def _reverse(self, fn: Callable[[list], list], x: list, outs: list, i: int, chain: tuple) -> None:
        u = [self.normal(o) for o in outs]
        g = _vjp(fn, _consts(x), _consts(u))[i]._value
        if g.shape != x[i].shape:
            self._fail(i, "rev", chain, None, None, None, None,
                       f"gives a gradient of shape {g.shape} for an argument of shape {x[i].shape}")
            return
        worst = None
        for j, unit, v in self._directions(x, i):
            numeric = _quotient(_on_arrays(fn), x, i, v, self.eps)
            got = float(np.real(np.vdot(g, v)))  # Re <g, v>: the derivative along v in TensorFlow's convention
            want = float(sum(np.real(np.vdot(uk, nk)) for uk, nk in zip(u, numeric)))
            # Along a random direction the products' sizes set the scale (their sum may cancel); element by
            # element each is compared as assert_allclose does.
            scale = abs(want) if self.per_element else sum(float(np.sum(np.abs(uk * nk))) for uk, nk in zip(u, numeric))
            allowed = self.atol + self.rtol * scale
            excess = abs(got - want) - allowed
            excess = np.nan_to_num(excess, nan=np.inf)  # a derivative or a difference that is not finite
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, j, unit, got, want, allowed)
        if worst is not None:
            _, j, unit, got, want, allowed = worst
            what = "<u, J v> =" if unit is None else f"a gradient{_where(j, unit, np.iscomplexobj(x[i]))} of"
            self._fail(i, "rev", chain, None, got, want, abs(got - want),
                       f"gives {what} {got:.6g} but finite differences give {want:.6g} "
                       f"(difference {abs(got - want):.3g}, allowed {allowed:.3g})",
                       self._explain(fn, x, outs, i, u, g))


def _moved(x: list, i: int, step: np.ndarray) -> list:
    moved = list(x)
    moved[i] = x[i] + step
    return moved


def _number(v: Any) -> Any:
    return complex(v) if np.iscomplexobj(v) else float(v)


def _jvp(fn: Callable[[list], list], ts: list, tangents: list) -> list:
    with ForwardAccumulator(ts, tangents) as acc:
        outs = fn(ts)
    return acc.jvp(outs, unconnected_gradients="zero")


def _vjp(fn: Callable[[list], list], ts: list, cotangents: list) -> list:
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(ts)
        outs = fn(ts)
    if not outs:
        return [wrap(np.zeros_like(t._value)) for t in ts]
    # f may compute in a dtype of its own (float32): each cotangent takes its output's
    cotangents = [wrap(c._value.astype(o._value.dtype)) for c, o in zip(cotangents, outs)]
    return tape.gradient(outs, ts, output_gradients=cotangents, unconnected_gradients="zero")
