"""Checking derivatives: ``check_grads`` compares forward and reverse mode with finite differences.

Use it on your own ``custom_gradient`` functions; tapegrad's tests use it on every op, element by
element. ``numeric_gradient`` is the difference quotient it is built on, for a function of arrays.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import Operand, to_array, wrap

from ._check import _MODES, _Checker, _elements, _float64, _leaf_names, _quotient

__all__ = ["GradientCheckError", "check_grads", "numeric_gradient"]



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

    Each disagreement comes with a diagnosis: a table of every derivative entry of that
    argument that disagrees, element by element (the 10 worst, and a count of the rest),
    and for each the cause its own differences show, with the numbers. A *kink* (relu, abs,
    maximum at the point): one-sided differences disagree with each other, by a gap that
    does not shrink with the step. A *wrong rule*: one-sided differences agree with each
    other, central differences settle, and the rule disagrees with both. *Precision*:
    central differences move with the step (float32 rounding, or a step too large for the
    curvature) and, where they settle, agree with the rule. ``failures[k]`` holds the
    rows (``elements``), ``disagreeing``, ``entries`` and ``causes``.

    >>> import tapegrad as tg
    >>> tg.testing.check_grads(lambda x, y: tg.sin(x) * y ** 2, (0.5, 2.0))
    >>> @tg.custom_gradient
    ... def cube(x):
    ...     return x ** 3, lambda g: g * 2 * x ** 2      # wrong: should be 3 x^2
    >>> tg.testing.check_grads(cube, (1.5,), order=1)
    Traceback (most recent call last):
    ...
    tapegrad.testing.GradientCheckError: check_grads: 2 of 2 checks disagree with finite differences ...
    >>> try:
    ...     tg.testing.check_grads(cube, (1.5,), order=1, modes=("fwd",))
    ... except tg.testing.GradientCheckError as e:
    ...     row = e.failures[0]["elements"][0]
    ...     print(row["cause"], round(row["analytic"], 4), round(row["numeric"], 4))
    wrong rule 4.5 6.75
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
        for fail in checker.failures:
            lines += ["  " + fail["message"]] + ["    " + line for line in fail["details"]]
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


