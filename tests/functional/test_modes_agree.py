"""Forward and reverse mode agree on every op in the table: <u, J v> both ways, and the second
derivative u^T D^2 f [v, w] all four ways (fwd/rev over fwd/rev).

Generated from the registry; inputs come from the op specs in ``tests/ops/specs.py``.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import REGISTRY
from tapegrad.autodiff import ForwardAccumulator

from ..ops.specs import SPECS, Spec
from .inputs import spec_inputs

DIFFERENTIABLE = sorted(n for n, p in REGISTRY.items() if p.differentiable)
NONDIFF = sorted(n for n, p in REGISTRY.items() if not p.differentiable)
# Specs that round-trip through float32 agree only to float32 precision.
TOLERANCE = {"cast": 1e-6}


def _spec(name: str) -> Spec:
    assert name in SPECS, f"op {name!r} has no spec in tests/ops/specs.py"
    return SPECS[name]


def _dot(a: list, b: list) -> float:
    return float(sum(np.sum(np.asarray(x) * np.asarray(y)) for x, y in zip(a, b)))


def _values(ts: list, like: list) -> list:
    return [np.zeros(np.shape(x)) if t is None else t.numpy() for t, x in zip(ts, like)]


def _close(values: dict, tol: float, what: str) -> None:
    ref = next(iter(values.values()))
    scale = 1.0 + max(abs(v) for v in values.values())
    for mode, v in values.items():
        assert abs(v - ref) <= tol * scale, f"{what}: {values}"
        assert np.isfinite(v), f"{what}: {mode} gave {v}"


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_and_reverse_agree_first_and_second_order(name):
    spec = _spec(name)
    args = spec_inputs(spec, seed=len(name))
    rng = np.random.default_rng(7)
    v = [rng.standard_normal(a.shape) for a in args]
    w = [rng.standard_normal(a.shape) for a in args]
    out = spec.call(*[tg.constant(a) for a in args])
    u = tg.constant(rng.standard_normal(out.shape))
    tol = TOLERANCE.get(name, 1e-10)

    def consts(arrays):
        return [tg.constant(a) for a in arrays]

    # first order: <u, J v> by a forward pass, <J^T u, v> by a backward pass
    xs = consts(args)
    with ForwardAccumulator(xs, consts(v)) as acc:
        y = spec.call(*xs)
    fwd = float(tg.reduce_sum(u * acc.jvp(y, unconnected_gradients="zero")))
    xs = consts(args)
    with tg.GradientTape() as tape:
        tape.watch(xs)
        y = spec.call(*xs)
    rev = _dot(_values(tape.gradient(y, xs, output_gradients=u), args), v)
    _close({"fwd": fwd, "rev": rev}, tol, f"{name}: first order")
    if not spec.second_order:
        return

    def h_fwd(xs):  # <u, J v> by forward mode
        with ForwardAccumulator(xs, consts(v)) as acc:
            y = spec.call(*xs)
        return tg.reduce_sum(u * acc.jvp(y, unconnected_gradients="zero"))

    def h_rev(xs):  # <J^T u, v> by reverse mode
        with tg.GradientTape() as tape:
            tape.watch(xs)
            y = spec.call(*xs)
        grads = tape.gradient(y, xs, output_gradients=u, unconnected_gradients="zero")
        return tg.add_n([tg.reduce_sum(g * tg.constant(d)) for g, d in zip(grads, v)])

    second = {}
    for inner, h in (("fwd", h_fwd), ("rev", h_rev)):
        xs = consts(args)
        with ForwardAccumulator(xs, consts(w)) as acc:
            s = h(xs)
        second[f"fwd over {inner}"] = float(acc.jvp(s, unconnected_gradients="zero"))
        xs = consts(args)
        with tg.GradientTape() as tape:
            tape.watch(xs)
            s = h(xs)
        second[f"rev over {inner}"] = _dot(_values(tape.gradient(s, xs), args), w)
    _close(second, tol * 100, f"{name}: second order")


@pytest.mark.parametrize("name", NONDIFF)
def test_non_differentiable_ops_carry_no_tangent(name):
    spec = _spec(name)
    args = spec_inputs(spec, seed=1)
    xs = [tg.constant(a) for a in args]
    with ForwardAccumulator(xs, [tg.ones_like(x) for x in xs]) as acc:
        y = spec.call(*xs)
    assert acc.jvp(y) is None
    assert REGISTRY[name].jvp is None


def test_every_differentiable_op_has_a_jvp_rule():
    missing = [n for n in DIFFERENTIABLE if REGISTRY[n].jvp is None]
    assert not missing, f"ops with a VJP but no JVP rule in ops/table/: {missing}"
