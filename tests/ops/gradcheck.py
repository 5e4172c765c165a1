"""Central finite differences in float64 against tapegrad's gradients, first and second order."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tapegrad as tg


def numeric_gradient(f: Callable[[list], float], args: list, eps: float) -> list:
    """d f / d args by central differences, element by element.

    For a complex argument z = x + iy, TensorFlow's convention: df/dx + i df/dy.
    """
    grads = []
    for i, a in enumerate(args):
        g = np.zeros_like(a)
        for step in ((eps, 1j * eps) if np.iscomplexobj(a) else (eps,)):
            for j in np.ndindex(a.shape):
                up = [x.copy() for x in args]
                down = [x.copy() for x in args]
                up[i][j] += step
                down[i][j] -= step
                g[j] += (f(up) - f(down)) / (2 * eps) * (step / eps)
        grads.append(g)
    return grads


def first_order(call: Callable[..., Any], args: list, weight: np.ndarray) -> tuple:
    """(value of sum(call(args) * weight), its gradient w.r.t. each arg) from one tape."""
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as tape:
        tape.watch(xs)
        y = tg.reduce_sum(call(*xs) * weight)
    grads = tape.gradient(y, xs, unconnected_gradients="zero")  # of Re(y) when y is complex
    return float(np.real(y.numpy())), [g.numpy() for g in grads]


def directional_second(call: Callable[..., Any], args: list, weight: np.ndarray, dirs: list) -> tuple:
    """h(args) = <grad of sum(call * weight), dirs> and its gradient, taken by nesting two tapes.

    The inner product is real: Re(sum(g * conj(d))), the derivative along d for complex inputs.
    """
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as outer:
        outer.watch(xs)
        with tg.GradientTape() as inner:
            inner.watch(xs)
            y = tg.reduce_sum(call(*xs) * weight)
        grads = inner.gradient(y, xs, unconnected_gradients="zero")
        h = tg.add_n([tg.math.real(tg.reduce_sum(g * np.conj(d))) for g, d in zip(grads, dirs)])
    second = outer.gradient(h, xs, unconnected_gradients="zero")
    return float(h), [s.numpy() for s in second]


def assert_close(got: list, want: list, rtol: float, atol: float, what: str) -> None:
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what}: input {i}: gradient shape {g.shape} != {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{what}: input {i}")
