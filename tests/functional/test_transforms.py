"""grad, value_and_grad, jacobian (rev and fwd), hessian, hvp, jvp, vjp, elementwise_grad.

Every derivative is checked against central finite differences in float64, and the
Jacobians and Hessians of the table's ops also against nested GradientTapes.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import numeric_gradient

from ..ops.specs import SPECS
from .inputs import spec_inputs

EPS = 1e-6


def _fd_jacobian(f, x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """d f(x)[i...] / d x[j...] by central differences (f maps an array to an array)."""
    cols = []
    for j in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[j] += eps
        down[j] -= eps
        cols.append((np.asarray(f(up)) - np.asarray(f(down))) / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


P = np.array([-1.2, 1.0])


# ---- grad -----------------------------------------------------------------------------------------
def test_grad_of_numbers_arrays_tensors_and_variables():
    f = lambda x: tg.reduce_sum(tg.sin(x) * x)
    want = lambda a: np.cos(a) * a + np.sin(a)
    a = np.array([0.3, -1.1, 2.0])
    for arg in (a, tg.constant(a), tg.Variable(a)):
        g = tg.grad(f)(arg)
        assert isinstance(g, tg.Tensor) and g.dtype == tg.float64
        np.testing.assert_allclose(g.numpy(), want(a), rtol=1e-12)
    g = tg.grad(lambda x: x ** 2)(3.0)  # a Python float becomes float32, as everywhere in tapegrad
    assert g.dtype == tg.float32 and g.numpy() == 6.0


def test_grad_matches_finite_differences():
    g = tg.grad(rosenbrock)(P)
    np.testing.assert_allclose(g.numpy(), numeric_gradient(lambda v: float(rosenbrock(v[0])), [P], EPS)[0],
                               rtol=1e-7)


def test_grad_of_lists_and_dicts_keeps_their_structure():
    def loss(params, x):
        return tg.reduce_sum((params["w"] * x + params["b"][0]) ** 2)

    params = {"w": np.array([1.0, 2.0]), "b": [np.float64(0.5)]}
    x = np.array([3.0, -1.0])
    g = tg.grad(loss)(params, x)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    r = params["w"] * x + 0.5
    np.testing.assert_allclose(g["w"].numpy(), 2 * r * x)
    np.testing.assert_allclose(g["b"][0].numpy(), np.sum(2 * r))


def test_argnums_tuple_and_negative():
    f = lambda x, y, z: x * y ** 2 + z
    gx, gz = tg.grad(f, argnums=(0, -1))(2.0, 3.0, 4.0)
    assert (gx.numpy(), gz.numpy()) == (9.0, 1.0)
    assert tg.grad(f, argnums=1)(2.0, 3.0, 4.0).numpy() == 12.0


def test_same_tensor_in_two_arguments_gets_two_partial_derivatives():
    x = tg.constant(3.0)
    gx, gy = tg.grad(lambda a, b: a * b ** 2, argnums=(0, 1))(x, x)
    assert (gx.numpy(), gy.numpy()) == (9.0, 18.0)


def test_grad_composes_to_third_order():
    f = lambda x: tg.sin(x) * x ** 3
    v = 0.7
    d1 = tg.grad(f)(np.float64(v))
    d3 = tg.grad(tg.grad(tg.grad(f)))(np.float64(v))
    np.testing.assert_allclose(d1.numpy(), np.cos(v) * v**3 + 3 * np.sin(v) * v**2, rtol=1e-12)
    want = -np.cos(v) * v**3 - 9 * np.sin(v) * v**2 + 18 * np.cos(v) * v + 6 * np.sin(v)
    np.testing.assert_allclose(d3.numpy(), want, rtol=1e-12)
    # and the same through Variables and the seed's function
    assert tg.grad(tg.grad(lambda x: x ** 2))(tg.Variable(20.0)).numpy() == 2.0


def test_grad_of_function_that_ignores_its_input_is_zero():
    g = tg.grad(lambda x, y: y * 2.0, argnums=(0, 1))(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(g[0].numpy(), [0.0, 0.0])
    assert g[1].numpy() == 2.0


def test_value_and_grad_and_has_aux():
    value, g = tg.value_and_grad(rosenbrock)(P)
    np.testing.assert_allclose(value.numpy(), 24.2)
    np.testing.assert_allclose(g.numpy(), tg.grad(rosenbrock)(P).numpy())
    (value, aux), g = tg.value_and_grad(lambda x: (x ** 2, x * 10.0), has_aux=True)(np.float64(3.0))
    assert (value.numpy(), aux.numpy(), g.numpy()) == (9.0, 30.0, 6.0)
    g, aux = tg.grad(lambda x: (x ** 2, "note"), has_aux=True)(np.float64(3.0))
    assert (g.numpy(), aux) == (6.0, "note")


def test_elementwise_grad():
    a = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(tg.elementwise_grad(tg.tanh)(a).numpy(), 1 - np.tanh(a) ** 2, rtol=1e-12)
    second = tg.elementwise_grad(tg.elementwise_grad(tg.tanh))(a).numpy()
    np.testing.assert_allclose(second, -2 * np.tanh(a) * (1 - np.tanh(a) ** 2), rtol=1e-10)


# ---- errors -------------------------------------------------------------------------------------
def test_grad_of_non_scalar_says_what_to_use():
    with pytest.raises(ValueError, match="shape \\(3,\\).*elementwise_grad.*jacobian"):
        tg.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match="one scalar, not a list"):
        tg.grad(lambda x: [x, x])(1.0)


def test_integer_arguments_are_refused_with_a_fix():
    with pytest.raises(TypeError, match="argument 0 has dtype int32.*3.0 rather than 3"):
        tg.grad(lambda x: x * x)(3)


def test_bad_argnums_and_has_aux():
    with pytest.raises(ValueError, match="argnums=2 does not fit a call with 1"):
        tg.grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="pair \\(output, aux\\)"):
        tg.grad(lambda x: x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match="f returned None"):
        tg.grad(lambda x: None)(1.0)


def test_jvp_and_hvp_need_tuples():
    with pytest.raises(TypeError, match="jvp\\(f, \\(x,\\), \\(v,\\)\\)"):
        tg.jvp(tg.sin, 1.0, 1.0)
    with pytest.raises(ValueError, match="one tangent per primal"):
        tg.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="shape"):
        tg.jvp(tg.sin, (np.ones(2),), (np.ones(3),))


# ---- jvp, vjp, hvp --------------------------------------------------------------------------------
def test_jvp_and_vjp_match_finite_differences():
    f = lambda x, y: tg.stack([x[0] * y, tg.exp(x[1]) - y ** 2])
    x, y = np.array([0.5, -0.3]), np.float64(1.5)
    v = (np.array([1.0, 2.0]), np.float64(-0.5))
    out, tangent = tg.jvp(f, (x, y), v)
    fd = (f(x + EPS * v[0], y + EPS * v[1]).numpy() - f(x - EPS * v[0], y - EPS * v[1]).numpy()) / (2 * EPS)
    np.testing.assert_allclose(tangent.numpy(), fd, rtol=1e-7)
    np.testing.assert_allclose(out.numpy(), f(x, y).numpy())
    out, vjp_fn = tg.vjp(f, x, y)
    u = np.array([0.7, -1.3])
    gx, gy = vjp_fn(u)
    # <u, J v> = <J^T u, v>
    np.testing.assert_allclose(np.dot(u, fd), np.dot(gx.numpy(), v[0]) + gy.numpy() * v[1], rtol=1e-7)
    gx2, _ = vjp_fn(2 * u)  # vjp_fn can be called again
    np.testing.assert_allclose(gx2.numpy(), 2 * gx.numpy())


def test_hvp_matches_hessian_times_vector():
    v = np.array([0.3, -0.8])
    h = _fd_jacobian(lambda p: tg.grad(rosenbrock)(p).numpy(), P)
    np.testing.assert_allclose(tg.hvp(rosenbrock, (P,), (v,)).numpy(), h @ v, rtol=1e-6)
    f = lambda x, y: x ** 2 * y ** 3
    hx, hy = tg.hvp(f, (np.float64(2.0), np.float64(1.5)), (np.float64(1.0), np.float64(0.0)))
    assert (hx.numpy(), hy.numpy()) == (2 * 1.5**3, 6 * 2.0 * 1.5**2)


# ---- Jacobians and Hessians on the table's ops ---------------------------------------------------
TABLE_OPS = sorted(n for n, spec in SPECS.items() if spec.differentiable)


@pytest.mark.parametrize("name", TABLE_OPS)
def test_jacobians_match_nested_tapes_and_finite_differences(name):
    spec = SPECS[name]
    args = spec_inputs(spec, 3)
    last = len(args) - 1  # differentiate with respect to the last input, the others held fixed

    def f_np(a):
        return spec.call(*[tg.constant(x) for x in args[:-1]], tg.constant(a)).numpy()

    want = _fd_jacobian(f_np, args[-1], spec.eps)
    rev = tg.jacrev(spec.call, argnums=last)(*args).numpy()
    fwd = tg.jacfwd(spec.call, argnums=last)(*args).numpy()
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as tape:
        tape.watch(xs[-1])
        y = spec.call(*xs)
    tape_jac = tape.jacobian(y, xs[-1], unconnected_gradients="zero").numpy()
    for got in (rev, fwd, tape_jac):
        np.testing.assert_allclose(got, want, rtol=spec.rtol, atol=spec.atol)
    np.testing.assert_allclose(fwd, tape_jac, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", TABLE_OPS)
def test_hessians_match_nested_tapes_and_finite_differences(name):
    spec = SPECS[name]
    args = spec_inputs(spec, 3)
    weight = np.random.default_rng(5).standard_normal(np.shape(spec.call(*[tg.constant(a) for a in args]).numpy()))
    last = len(args) - 1

    def scalar(*xs):
        return tg.reduce_sum(spec.call(*xs) * weight)

    def grad_np(a):
        return tg.grad(scalar, argnums=last)(*args[:-1], a).numpy()

    want = _fd_jacobian(grad_np, args[-1], spec.eps * 10)
    hess = tg.hessian(scalar, argnums=last)(*args).numpy()
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as outer:
        outer.watch(xs[-1])
        with tg.GradientTape() as inner:
            inner.watch(xs[-1])
            y = scalar(*xs)
        g = inner.gradient(y, xs[-1])
    nested = outer.jacobian(g, xs[-1], unconnected_gradients="zero").numpy()
    np.testing.assert_allclose(hess, want, rtol=spec.rtol * 100, atol=spec.atol * 100)
    np.testing.assert_allclose(hess, nested, rtol=1e-10, atol=1e-12)


def test_jacobian_structures_follow_jax():
    f = lambda x, y: {"sum": x + y, "prod": x * y}
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for jac in (tg.jacobian, tg.jacrev, tg.jacfwd):
        j = jac(f, argnums=(0, 1))(x, y)
        assert set(j) == {"sum", "prod"} and len(j["prod"]) == 2
        np.testing.assert_array_equal(j["prod"][0].numpy(), np.diag(y))
        np.testing.assert_array_equal(j["prod"][1].numpy(), np.diag(x))
        np.testing.assert_array_equal(j["sum"][1].numpy(), np.eye(2))


def test_hessian_of_rosenbrock_and_of_two_arguments():
    h = tg.hessian(rosenbrock)(P).numpy()
    x, y = P
    want = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200]])
    np.testing.assert_allclose(h, want, rtol=1e-12)
    (hxx, hxy), (hyx, hyy) = tg.hessian(lambda a, b: a ** 2 * b ** 3, argnums=(0, 1))(np.float64(2.0), np.float64(1.5))
    np.testing.assert_allclose([hxx.numpy(), hxy.numpy(), hyx.numpy(), hyy.numpy()],
                               [2 * 1.5**3, 6 * 2.0 * 1.5**2, 6 * 2.0 * 1.5**2, 6 * 4.0 * 1.5], rtol=1e-12)


def test_jacfwd_of_jacfwd_and_jacrev_of_jacfwd_agree_with_hessian():
    f = lambda p: tg.reduce_sum(tg.sin(p) * p[::-1])
    p = np.array([0.4, -0.9, 1.3])
    h = tg.hessian(f)(p).numpy()
    np.testing.assert_allclose(tg.jacfwd(tg.jacfwd(f))(p).numpy(), h, rtol=1e-12)
    np.testing.assert_allclose(tg.jacrev(tg.jacfwd(f))(p).numpy(), h, rtol=1e-12)
    np.testing.assert_allclose(tg.jacrev(tg.jacrev(f))(p).numpy(), h, rtol=1e-12)
