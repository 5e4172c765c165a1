"""Ops made with ``linear``: their JVP is the op itself applied to the tangent (zeros for inputs without one)."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autodiff import ForwardAccumulator

from .specs import SPECS

LINEAR = ["negative", "identity", "real", "imag", "conj", "reduce_sum", "cumsum", "broadcast_to", "sum_to",
          "reshape", "transpose", "tile", "concat", "getitem", "scatter_index", "cast"]


def _sample(name: str, rng: np.random.Generator) -> list:
    spec = SPECS[name]
    shapes = [(2, 3)] * len(spec.domains) if spec.shapes == "unary" else spec.shapes
    return [d.sample(rng, tuple(s)) for d, s in zip(spec.domains, shapes)]


@pytest.mark.parametrize("name", LINEAR)
def test_the_tangent_goes_through_the_op_itself(name):
    rng = np.random.default_rng(len(name))
    call = SPECS[name].call
    x, v = _sample(name, rng), _sample(name, rng)
    xs = [tg.constant(a) for a in x]
    with ForwardAccumulator(xs, [tg.constant(a) for a in v]) as acc:
        y = call(*xs)
    want = call(*[tg.constant(a) for a in v]).numpy()  # a linear f's J v is f(v)
    np.testing.assert_allclose(acc.jvp(y).numpy(), want, rtol=1e-12, atol=1e-12)


def test_an_input_without_a_tangent_contributes_zeros():
    x, c = tg.constant([1.0, 2.0]), tg.constant([5.0])
    with ForwardAccumulator(x, tg.constant([1.0, -1.0])) as acc:
        y = tg.concat([c, x, c], 0)
    np.testing.assert_array_equal(acc.jvp(y).numpy(), [0.0, 1.0, -1.0, 0.0])
