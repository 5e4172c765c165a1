"""Checking derivatives: ``check_grads`` compares forward and reverse mode with finite differences.

Use it on your own ``custom_gradient`` functions; tapegrad's tests use it on its ops.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import Operand, to_array, wrap
from tapegrad.autodiff import ForwardAccumulator
from tapegrad.tape import GradientTape

__all__ = ["GradientCheckError", "check_grads"]

_MODES = ("fwd", "rev")
_WORDS = {"fwd": "forward mode (JVP)", "rev": "reverse mode (VJP)"}


class GradientCheckError(AssertionError):
    """Derivatives disagree with finite differences; ``failures`` holds one dict per disagreement."""

    def __init__(self, message: str, failures: list[dict]) -> None:
        super().__init__(message)
        self.failures = failures


def check_grads(f: Callable[..., Any], args: Sequence[Any], order: int = 2, modes: Sequence[str] = _MODES, *,
                eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0) -> None:
    """Check ``f``'s derivatives up to ``order`` in forward and reverse mode against finite differences.

    Every argument (each leaf of lists/dicts) is checked on its own, along a random
    direction, in float64: arguments are converted to float64, so ``f`` should not
    mix in float32 tensors of its own. Order 2 checks each mode's derivative of each
    mode's derivative. Raises ``GradientCheckError`` (an AssertionError) naming the
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

    checker = _Checker(modes, eps, rtol, atol, np.random.default_rng(seed), names)
    checker.run(fn, x, order, ())
    if checker.failures:
        lines = [f"check_grads: {len(checker.failures)} of {checker.count} checks disagree with finite differences "
                 f"(float64, eps={eps:g}, rtol={rtol:g}, atol={atol:g}, seed={seed}):"]
        lines += ["  " + fail["message"] for fail in checker.failures]
        lines.append("Likely causes: a wrong derivative rule (a custom_gradient grad_fn) for the argument named; a "
                     "kink (abs, relu, maximum, where) within eps of the point; a function too steep for eps "
                     "(try another point, or a smaller eps).")
        raise GradientCheckError("\n".join(lines), checker.failures)


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
    if a.dtype.kind not in "fiu":
        raise TypeError(f"check_grads: {name} has dtype {a.dtype}; every argument is differentiated, so it must be "
                        "real numbers (close over other arguments with a lambda)")
    return a.astype(np.float64)


def _consts(arrays: list) -> list:
    return [wrap(np.array(a, dtype=np.float64)) for a in arrays]


class _Checker:
    def __init__(self, modes: Sequence[str], eps: float, rtol: float, atol: float, rng: np.random.Generator,
                 names: list[str]) -> None:
        self.modes, self.eps, self.rtol, self.atol, self.rng, self.names = modes, eps, rtol, atol, rng, names
        self.failures: list[dict] = []
        self.count = 0

    def run(self, fn: Callable[[list], list], x: list, order: int, chain: tuple) -> None:
        """Check fn's first derivatives in every mode; then, for order > 1, the derivatives of those."""
        outs = [o._value for o in fn(_consts(x))]
        for mode in self.modes:
            for i in range(len(x)):
                if x[i].size:
                    self._check_one(fn, x, outs, i, mode, chain)
        if order > 1:
            for mode in self.modes:
                if mode == "fwd":
                    direction = [self.rng.standard_normal(a.shape) for a in x]
                    self.run(lambda ts, d=direction: _jvp(fn, ts, _consts(d)), x, order - 1, chain + (mode,))
                else:
                    cotangent = [self.rng.standard_normal(o.shape) for o in outs]
                    self.run(lambda ts, c=cotangent: _vjp(fn, ts, _consts(c)), x, order - 1, chain + (mode,))

    def _check_one(self, fn: Callable[[list], list], x: list, outs: list, i: int, mode: str, chain: tuple) -> None:
        self.count += 1
        eps = self.eps
        v = [np.zeros_like(a) for a in x]
        v[i] = self.rng.standard_normal(x[i].shape)
        up = fn(_consts([a + eps * d for a, d in zip(x, v)]))
        down = fn(_consts([a - eps * d for a, d in zip(x, v)]))
        numeric = [(a._value - b._value) / (2 * eps) for a, b in zip(up, down)]
        order = len(chain) + 1
        how = " of ".join((mode,) + tuple(reversed(chain)))
        where = f"{self.names[i]}, order {order} ({how})"
        if mode == "fwd":
            tangents = _jvp(fn, _consts(x), _consts(v))
            for m, (got, want) in enumerate(zip(tangents, numeric)):
                got = got._value
                diff = np.abs(got - want)
                allowed = self.atol + self.rtol * np.abs(want)
                if not np.all(diff <= allowed):
                    k = np.unravel_index(np.argmax(diff - allowed), diff.shape) if diff.ndim else ()
                    self.failures.append({
                        "argument": self.names[i], "order": order, "mode": how, "output": m,
                        "got": float(got[k]), "expected": float(want[k]), "difference": float(diff[k]),
                        "message": f"{where}: {_WORDS[mode]} differs from finite differences on output {m}"
                                   f"{'' if k == () else f' at element {tuple(int(j) for j in k)}'}: "
                                   f"{float(got[k]):.6g} vs {float(want[k]):.6g} (difference {float(diff[k]):.3g}, "
                                   f"allowed {float(allowed[k]):.3g})"})
                    return
        else:
            u = [self.rng.standard_normal(o.shape) for o in outs]
            grads = _vjp(fn, _consts(x), _consts(u))
            got = float(np.sum(grads[i]._value * v[i]))
            want = float(sum(np.sum(uk * nk) for uk, nk in zip(u, numeric)))
            scale = float(sum(np.sum(np.abs(uk * nk)) for uk, nk in zip(u, numeric)))
            allowed = self.atol + self.rtol * scale
            if not abs(got - want) <= allowed:
                self.failures.append({
                    "argument": self.names[i], "order": order, "mode": how, "output": None,
                    "got": got, "expected": want, "difference": abs(got - want),
                    "message": f"{where}: {_WORDS[mode]} gives <u, J v> = {got:.6g} but finite differences give "
                               f"{want:.6g} (difference {abs(got - want):.3g}, allowed {allowed:.3g})"})


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
