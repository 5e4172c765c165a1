"""jacobian pushes every row through one backward pass: it must equal the row-by-row loop
(``experimental_use_pfor=False``) and finite differences, for every op in the table, at first
and second order, and when an outer tape records it."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import rows as rows_module

from ..ops.specs import COMPOSITES, SPECS, Spec

ALL = {**SPECS, **COMPOSITES}
DIFFERENTIABLE = sorted(n for n, s in ALL.items() if s.differentiable)


def _shape_cases(spec: Spec) -> list:
    n = len(spec.domains)
    if spec.shapes == "unary":
        return [[(2, 3)], [()]]
    if spec.shapes == "broadcast":
        return [[(2, 3), (3,)][:n], [(2, 1), (1, 3)][:n], [(), (2,)][:n]]
    return [list(spec.shapes)]


CASES = [(name, i) for name in DIFFERENTIABLE for i in range(len(_shape_cases(ALL[name])))]


def _inputs(name: str, case: int, seed: int = 0) -> list:
    spec = ALL[name]
    rng = np.random.default_rng(seed)
    return [d.sample(rng, tuple(s)) for d, s in zip(spec.domains, _shape_cases(spec)[case])]


def _numeric_jacobian(f, args: list, k: int, eps: float) -> np.ndarray:
    """d f(args) / d args[k] by central differences: shape f.shape + args[k].shape."""
    out_shape = np.shape(f(args))
    a = args[k]
    jac = np.zeros(out_shape + a.shape)
    for j in np.ndindex(a.shape):
        up = [x.copy() for x in args]
        down = [x.copy() for x in args]
        up[k][j] += eps
        down[k][j] -= eps
        jac[(...,) + j] = (np.asarray(f(up)) - np.asarray(f(down))) / (2 * eps)
    return jac


def _jacobians(call, args: list, pfor: bool) -> list:
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape() as tape:
        tape.watch(xs)
        y = call(*xs)
    return [None if j is None else j.numpy() for j in
            tape.jacobian(y, xs, experimental_use_pfor=pfor, unconnected_gradients="zero")]


def _hessian_blocks(call, args: list, weight: np.ndarray, pfor: bool) -> list:
    """Jacobians of the gradient of sum(call * weight): the backward pass's own ops, batched."""
    xs = [tg.constant(a) for a in args]
    with tg.GradientTape(persistent=True) as outer:
        outer.watch(xs)
        with tg.GradientTape() as inner:
            inner.watch(xs)
            y = tg.reduce_sum(call(*xs) * weight)
        grads = inner.gradient(y, xs, unconnected_gradients="zero")
    return [[j.numpy() for j in outer.jacobian(g, xs, experimental_use_pfor=pfor, unconnected_gradients="zero")]
            for g in grads]


@pytest.mark.parametrize("name,case", CASES)
def test_first_order_equals_the_loop_and_finite_differences(name, case):
    spec = ALL[name]
    args = _inputs(name, case)
    vectorized = _jacobians(spec.call, args, pfor=True)
    looped = _jacobians(spec.call, args, pfor=False)

    def f(vals: list) -> np.ndarray:
        return spec.call(*[tg.constant(v) for v in vals]).numpy()

    for k, (v, lp) in enumerate(zip(vectorized, looped)):
        np.testing.assert_allclose(v, lp, rtol=1e-12, atol=1e-12, err_msg=f"{name}: input {k}, vectorized vs loop")
        np.testing.assert_allclose(v, _numeric_jacobian(f, args, k, spec.eps), rtol=spec.rtol * 10,
                                   atol=spec.atol * 10, err_msg=f"{name}: input {k}, vs finite differences")


@pytest.mark.parametrize("name,case", [c for c in CASES if ALL[c[0]].second_order])
def test_hessian_blocks_equal_the_loop_and_finite_differences(name, case):
    spec = ALL[name]
    args = _inputs(name, case)
    weight = np.random.default_rng(7).standard_normal(np.shape(spec.call(*[tg.constant(a) for a in args]).numpy()))
    vectorized = _hessian_blocks(spec.call, args, weight, pfor=True)
    looped = _hessian_blocks(spec.call, args, weight, pfor=False)

    for i in range(len(args)):
        def grad_i(vals: list, i: int = i) -> np.ndarray:
            xs = [tg.constant(v) for v in vals]
            with tg.GradientTape() as tape:
                tape.watch(xs)
                y = tg.reduce_sum(spec.call(*xs) * weight)
            return tape.gradient(y, xs, unconnected_gradients="zero")[i].numpy()

        for k in range(len(args)):
            np.testing.assert_allclose(vectorized[i][k], looped[i][k], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}: block {i},{k}, vectorized vs loop")
            np.testing.assert_allclose(vectorized[i][k], _numeric_jacobian(grad_i, args, k, spec.eps * 10),
                                       rtol=spec.rtol * 100, atol=spec.atol * 100,
                                       err_msg=f"{name}: block {i},{k}, vs finite differences")


def _rosenbrock(x):
    return tg.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


def test_rosenbrock_hessian_is_exact():
    x0 = np.linspace(-1.0, 1.5, 12)
    x = tg.Variable(x0)
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            y = _rosenbrock(x)
        g = inner.gradient(y, x)
    np.testing.assert_allclose(outer.jacobian(g, x).numpy(), _rosenbrock_hessian(x0), rtol=1e-12, atol=1e-9)


def test_inside_an_outer_tape_the_vectorized_pass_is_differentiated_again():
    # d/dx sum(H(x) * W) for Rosenbrock, where H is itself a vectorized jacobian: third order.
    x0 = np.linspace(-0.5, 1.0, 6)
    w = np.random.default_rng(3).standard_normal((6, 6))

    def third(pfor: bool) -> np.ndarray:
        x = tg.Variable(x0)
        with tg.GradientTape() as t3:
            with tg.GradientTape() as t2:
                with tg.GradientTape() as t1:
                    y = _rosenbrock(x)
                g = t1.gradient(y, x)
            h = t2.jacobian(g, x, experimental_use_pfor=pfor)
            s = tg.reduce_sum(h * w)
        return t3.gradient(s, x).numpy()

    # H depends on x through 1200 x_i^2 - 400 x_{i+1} (diagonal) and -400 x_i (off-diagonal).
    want = np.zeros(6)
    for i in range(5):
        want[i] += 2400 * x0[i] * w[i, i] - 400 * (w[i, i + 1] + w[i + 1, i])
        want[i + 1] += -400 * w[i, i]
    np.testing.assert_allclose(third(True), want, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(third(False), want, rtol=1e-12, atol=1e-9)


def test_jacobian_of_a_jacobian_nests_batch_axes():
    x0 = np.array([0.3, -0.7, 1.1])

    def second(pfor: bool) -> np.ndarray:
        x = tg.Variable(x0)
        with tg.GradientTape() as outer:
            with tg.GradientTape() as inner:
                y = tg.sin(x) * tg.reduce_sum(x * x)
            j = inner.jacobian(y, x, experimental_use_pfor=pfor)
        return outer.jacobian(j, x, experimental_use_pfor=pfor).numpy()

    s = np.sum(x0 * x0)
    want = np.zeros((3, 3, 3))
    for i in range(3):
        for j in range(3):
            for k in range(3):
                d = (i == j) * (i == k) * -np.sin(x0[i]) * s
                d += (i == j) * np.cos(x0[i]) * 2 * x0[k] + (i == k) * np.cos(x0[i]) * 2 * x0[j]
                d += np.sin(x0[i]) * 2 * (j == k)
                want[i, j, k] = d
    np.testing.assert_allclose(second(True), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second(False), want, rtol=1e-12, atol=1e-12)


def test_batch_jacobian_equals_the_loop_and_the_formula():
    x0 = np.random.default_rng(0).standard_normal((4, 3))
    a = np.random.default_rng(1).standard_normal((3, 2))

    def bj(pfor: bool) -> np.ndarray:
        x = tg.Variable(x0)
        with tg.GradientTape() as tape:
            y = tg.tanh(x @ a)
        return tape.batch_jacobian(y, x, experimental_use_pfor=pfor).numpy()

    t = np.tanh(x0 @ a)
    want = (1 - t * t)[:, :, None] * a.T[None, :, :]
    np.testing.assert_allclose(bj(True), want, rtol=1e-12)
    np.testing.assert_allclose(bj(False), want, rtol=1e-12)


def test_a_custom_gradient_rule_runs_once_per_row():
    @tg.custom_gradient
    def cube(x):
        def grad(upstream):
            return upstream * 3.0 * x * x
        return x * x * x, grad

    x0 = np.array([0.5, -1.0, 2.0])
    x = tg.Variable(x0)
    with tg.GradientTape() as tape:
        y = cube(x) * tg.reduce_sum(x)
    got = tape.jacobian(y, x).numpy()
    want = np.diag(3 * x0**2 * x0.sum()) + (x0**3)[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("key", [(np.array([0, 2]), slice(None), np.array([1, 0])),
                                 (1, slice(None), np.array([[0, 2], [1, 1]])),
                                 (np.array([1, 0, 1]), slice(1, None)),
                                 (Ellipsis, np.array([2, 0]))])
def test_advanced_indexing_keeps_the_batch_axes_in_front(key):
    x0 = np.random.default_rng(2).standard_normal((3, 3, 3))
    x = tg.Variable(x0)
    with tg.GradientTape(persistent=True) as tape:
        y = x[key] * 2.0
        z = tg.reduce_sum(y * y)
        g = tape.gradient(z, x)  # scatter_index, batched below
    looped = tape.jacobian(y, x, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(tape.jacobian(y, x).numpy(), looped, rtol=1e-12)
    np.testing.assert_allclose(tape.jacobian(g, x).numpy(), tape.jacobian(g, x, experimental_use_pfor=False).numpy(),
                               rtol=1e-12)


def test_large_jacobians_take_several_passes(monkeypatch):
    x0 = np.linspace(-1.0, 1.5, 9)
    monkeypatch.setattr(rows_module, "_ROWS_BUDGET", 20)  # a couple of rows per pass
    x = tg.Variable(x0)
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            y = _rosenbrock(x)
        g = inner.gradient(y, x)
    np.testing.assert_allclose(outer.jacobian(g, x).numpy(), _rosenbrock_hessian(x0), rtol=1e-12, atol=1e-9)


def test_unconnected_rows_follow_unconnected_gradients():
    x, z = tg.Variable([1.0, 2.0]), tg.Variable([3.0])
    with tg.GradientTape(persistent=True) as tape:
        y = x * 2.0
    assert tape.jacobian(y, z) is None
    np.testing.assert_array_equal(tape.jacobian(y, z, unconnected_gradients="zero").numpy(), np.zeros((2, 1)))


@pytest.mark.parametrize("xshape", [(2, 3), (3,), ()])
def test_squares_take_the_short_rule_and_stay_exact(xshape):
    # x ** 2 has a rule of its own, g * (x + x), for a 0-d exponent of 2; an exponent of shape (1,)
    # takes the general power rule. Both must give d sum(3 x^2) = 6x and the Hessian 6 I.
    x0 = np.random.default_rng(5).standard_normal(xshape)

    def blocks(exponent):
        x = tg.Variable(x0)
        with tg.GradientTape() as outer:
            with tg.GradientTape() as inner:
                y = tg.reduce_sum(x ** exponent * 3.0)
            g = inner.gradient(y, x)
        return g.numpy(), outer.jacobian(g, x).numpy()

    g_short, h_short = blocks(tg.constant(2.0, tg.float64))
    g_general, h_general = blocks(tg.constant([2.0], tg.float64))
    np.testing.assert_allclose(g_short, 6 * x0, rtol=1e-15)
    np.testing.assert_allclose(g_general, 6 * x0, rtol=1e-15)
    eye = np.eye(x0.size).reshape(xshape + xshape) * 6
    np.testing.assert_allclose(h_short, eye, rtol=1e-15)
    np.testing.assert_allclose(h_general, eye, rtol=1e-15)
