"""Every op in the table against finite differences (float64), first and second order, through
``tapegrad.testing.check_grads`` (one checker for users and for these tests).

Generated from the registry: an op without a spec in ``specs.py`` fails ``test_every_op_has_a_spec``.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import REGISTRY
from tapegrad.ops.table import COMPLEX
from tapegrad.testing import check_grads
from tests.optional import given, hnp, settings, st

from .specs import COMPOSITES, SPECS, Spec

ALL = {**SPECS, **COMPOSITES}
DIFFERENTIABLE = sorted(n for n, s in ALL.items() if s.differentiable)
NONDIFF = sorted(n for n, s in ALL.items() if not s.differentiable)
COMPLEX_SPECS = sorted(n for n, s in ALL.items() if s.differentiable and s.complex)
REFUSE_COMPLEX = sorted(n for n, s in ALL.items() if s.differentiable and not s.complex)


def test_every_op_has_a_spec():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"ops in the table with no test spec in tests/ops/specs.py: {missing}"


def test_specs_name_real_ops():
    assert not set(SPECS) - set(REGISTRY)


def test_differentiability_matches_table():
    for name, spec in SPECS.items():
        assert REGISTRY[name].differentiable == spec.differentiable, name


def test_complex_declarations_match_table():
    for name, spec in SPECS.items():
        if spec.differentiable:
            assert spec.complex == (name in COMPLEX), f"{name}: tests/ops/specs.py and table.COMPLEX disagree"


def _shapes(spec: Spec):
    n = len(spec.domains)
    if spec.shapes == "unary":
        return hnp.array_shapes(min_dims=0, max_dims=3, max_side=3).map(lambda s: [s])
    if spec.shapes == "broadcast":
        return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, max_side=3).map(
            lambda b: list(b.input_shapes))
    return st.just(list(spec.shapes))


def _inputs(spec: Spec, shapes: list, seed: int, complex: bool = False) -> list:
    rng = np.random.default_rng(seed)
    if complex:
        domains = spec.complex_domains or spec.domains
        return [np.asarray(d.sample(rng, tuple(s)) + 1j * d.sample(rng, tuple(s))) for d, s in zip(domains, shapes)]
    return [d.sample(rng, tuple(s)) for d, s in zip(spec.domains, shapes)]


def _check(name: str, shapes: list, seed: int, order: int, complex: bool = False) -> None:
    """Against central differences element by element (``check_grads`` with ``per_element``): first order
    in forward and reverse mode, second order reverse over reverse (the other three second-order modes
    are compared with it in tests/functional/test_modes_agree.py). In complex mode every element moves
    along its real and its imaginary part (TensorFlow's convention: dL/dx + i dL/dy)."""
    spec = ALL[name]
    args = _inputs(spec, shapes, seed, complex)
    out = spec.call(*[tg.constant(a) for a in args])
    if not complex:
        assert out.dtype == tg.float64, f"{name}: float64 inputs gave {out.dtype.name}"
    else:
        assert out.dtype in (tg.float64, tg.complex128), f"{name}: complex128 inputs gave {out.dtype.name}"
    if spec.reference is not None:
        np.testing.assert_allclose(out.numpy(), spec.reference(*args), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: forward")
    check_grads(spec.call, args, order=1, eps=spec.eps, rtol=spec.rtol, atol=spec.atol, seed=seed,
                per_element=True)
    if order >= 2 and spec.second_order:
        # the derivative of a derivative: looser, as its difference quotient is of computed gradients
        check_grads(spec.call, args, order=2, modes=("rev",), eps=spec.eps * 10, rtol=spec.rtol * 100,
                    atol=spec.atol * 100, seed=seed, per_element=True)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_first_and_second_order_match_finite_differences(name, data):
    shapes = data.draw(_shapes(ALL[name]), label="shapes")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    _check(name, shapes, seed, order=2)


@pytest.mark.parametrize("name", COMPLEX_SPECS)
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_complex_gradients_follow_tensorflows_convention(name, data):
    shapes = data.draw(_shapes(ALL[name]), label="shapes")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    _check(name, shapes, seed, order=2, complex=True)


@pytest.mark.parametrize("name", REFUSE_COMPLEX)
def test_ops_without_complex_rules_refuse_complex_inputs(name):
    spec = ALL[name]
    shapes = [(2, 3)] * len(spec.domains) if spec.shapes in ("unary", "broadcast") else spec.shapes
    with pytest.raises(TypeError, match="complex"):
        spec.call(*[tg.constant(a) for a in _inputs(spec, shapes, 0, complex=True)])


@pytest.mark.parametrize("name", NONDIFF)
def test_nondifferentiable_ops_cut_the_gradient(name):
    spec = ALL[name]
    shapes = [(2, 3)] * len(spec.domains) if spec.shapes in ("unary", "broadcast") else spec.shapes
    args = _inputs(spec, shapes, 0)
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as tape:
        tape.watch(xs)
        out = spec.call(*xs)
    np.testing.assert_array_equal(out.numpy(), spec.reference(*args))
    if out.dtype.is_floating:
        assert tape.gradient(out, xs) == [None] * len(xs)


@pytest.mark.parametrize("name", ["square", "multiply", "matmul", "reduce_sum", "getitem"])
def test_float32_gradients_stay_float32(name):
    spec = ALL[name]
    shapes = [(2, 3)] * len(spec.domains) if spec.shapes in ("unary", "broadcast") else spec.shapes
    xs = [tg.constant(a.astype(np.float32)) for a in _inputs(spec, shapes, 3)]
    with tg.GradientTape() as tape:
        tape.watch(xs)
        y = tg.reduce_sum(spec.call(*xs))
    for g in tape.gradient(y, xs):
        assert g.dtype == tg.float32


def test_third_order_by_nesting_three_tapes():
    x = tg.Variable(0.7, dtype=tg.float64)
    with tg.GradientTape() as t3:
        with tg.GradientTape() as t2:
            with tg.GradientTape() as t1:
                y = tg.sin(x) * x ** 3
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    v = 0.7
    # (sin(x) x^3)''' written out by hand
    want = (-np.cos(v) * v**3 - 9 * np.sin(v) * v**2 + 18 * np.cos(v) * v + 6 * np.sin(v))
    np.testing.assert_allclose(d3.numpy(), want, rtol=1e-12)
