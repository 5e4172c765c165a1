"""Checking derivatives: ``check_grads`` compares forward and reverse mode with finite differences.

Use it on your own ``custom_gradient`` functions; tapegrad's tests use it on every op, element by
element. ``numeric_gradient`` is the difference quotient it is built on, for a function of arrays.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import Operand, to_array, wrap
from tapegrad.autodiff import ForwardAccumulator
from tapegrad.tape import GradientTape

__all__ = ["GradientCheckError", "check_grads", "numeric_gradient"]

_MODES = ("fwd", "rev")
_WORDS = {"fwd": "forward mode (JVP)", "rev": "reverse mode (VJP)"}


class GradientCheckError(AssertionError):
    """Derivatives disagree with finite differences; ``failures`` holds one dict per disagreement."""

    def __init__(self, message: str, failures: list[dict]) -> None:
        super().__init__(message)
        self.failures = failures


def check_grads(f: Callable[..., Any], args: Sequence[Any], order: int = 2, modes: Sequence[str] = _MODES, *,
                eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0,
                per_element: bool = False) -> None:
    """Check ``f``'s derivatives up to ``order`` in forward and reverse mode against finite differences.

    Every argument (each leaf of lists/dicts) is checked on its own, along a random
    direction, in float64 (complex128 for a complex argument, whose gradient follows
    TensorFlow's convention dL/dx + i dL/dy): arguments are converted, so ``f`` should not
    mix in float32 tensors of its own. Order 2 checks each mode's derivative of each
    mode's derivative. With ``per_element=True`` each argument is moved one element at a
    time instead (its real and imaginary parts in turn), and each derivative is compared
    element by element, as ``numpy.testing.assert_allclose`` does: the whole Jacobian,
    stricter and slower. Raises ``GradientCheckError`` (an AssertionError) naming the
    argument, order and mode of every disagreement and by how much; returns None when
    all agree.

    >>> import tapegrad as tg
    >>> tg.testing.check_grads(lambda x, y: tg.sin(x) * y ** 2, (0.5, 2.0))
    >>> @tg.custom_gradient
    ... def cube(x):
    ...     return x ** 3, lambda g: g * 2 * x ** 2      # wrong: should be 3 x^2
    >>> tg.testing.check_grads(cube, (1.5,), order=1)
    Traceback (most recent call last):
    ...
    tapegrad.testing.GradientCheckError: check_grads: 2 of 2 checks disagree with finite differences ...
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"check_grads: args must be a tuple of f's arguments, e.g. check_grads(f, (x,)); "
                        f"got {type(args).__name__}")
    bad = [m for m in modes if m not in _MODES]
    if bad or not modes:
        raise ValueError(f"check_grads: modes must be a non-empty subset of {_MODES}, got {tuple(modes)!r}")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive integer, got {order!r}")
    args = tuple(args)
    names = _leaf_names(args)
    x = [_float64(leaf, name) for leaf, name in zip(nest.flatten(args), names)]

    def fn(leaves: list) -> list:
        out = f(*nest.pack_as(args, leaves))
        outs = [o if isinstance(o, Operand) else wrap(to_array(o)) for o in nest.flatten(out)]
        return [o for o in outs if o._value.dtype.kind in "fc"]

    checker = _Checker(modes, eps, rtol, atol, np.random.default_rng(seed), names, per_element)
    checker.run(fn, x, order, ())
    if checker.failures:
        lines = [f"check_grads: {len(checker.failures)} of {checker.count} checks disagree with finite differences "
                 f"(float64, eps={eps:g}, rtol={rtol:g}, atol={atol:g}, seed={seed}):"]
        lines += ["  " + fail["message"] for fail in checker.failures]
        lines.append("Likely causes: a wrong derivative rule (a custom_gradient grad_fn) for the argument named; a "
                     "kink (abs, relu, maximum, where) within eps of the point; a function too steep for eps "
                     "(try another point, or a smaller eps).")
        raise GradientCheckError("\n".join(lines), checker.failures)


def numeric_gradient(f: Callable[[list], float], args: Sequence[Any], eps: float = 1e-6) -> list:
    """The gradient of a real-valued ``f(list of arrays)`` by central differences, element by element.

    For a complex argument z = x + iy it is TensorFlow's convention, df/dx + i df/dy. Pass
    float64 (or complex128) arrays: the differences are taken in their dtype.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> g = tg.testing.numeric_gradient(lambda a: float(np.sum(a[0] ** 3)), [np.array([1.0, 2.0])])
    >>> np.round(g[0], 6)
    array([ 3., 12.])
    """
    x = [np.asarray(a) for a in args]
    scalar = lambda xs: [np.asarray(f(xs))]
    out = []
    for i, a in enumerate(x):
        g = np.zeros(a.shape, dtype=np.result_type(a, float))
        for j, unit, v in _elements(a):
            g[j] += _quotient(scalar, x, i, v, eps)[0] * unit
        out.append(g)
    return out


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
              text: str) -> None:
        how = " of ".join((mode,) + tuple(reversed(chain)))
        self.failures.append({
            "argument": self.names[i], "order": len(chain) + 1, "mode": how, "output": output, "got": got,
            "expected": want, "difference": diff,
            "message": f"{self.names[i]}, order {len(chain) + 1} ({how}): {_WORDS[mode]} {text}"})

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
                               f"allowed {float(allowed[k]):.3g})")
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
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, j, unit, got, want, allowed)
        if worst is not None:
            _, j, unit, got, want, allowed = worst
            what = "<u, J v> =" if unit is None else f"a gradient{_where(j, unit, np.iscomplexobj(x[i]))} of"
            self._fail(i, "rev", chain, None, got, want, abs(got - want),
                       f"gives {what} {got:.6g} but finite differences give {want:.6g} "
                       f"(difference {abs(got - want):.3g}, allowed {allowed:.3g})")


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
    return tape.gradient(outs, ts, output_gradients=cotangents, unconnected_gradients="zero")
