"""tg.autodiff.ForwardAccumulator: TensorFlow's API, nesting with tapes and with itself."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import STATE
from tapegrad.autodiff import ForwardAccumulator


def test_jvp_of_a_function_of_two_primals_matches_finite_differences():
    x, y = tg.constant(np.array([0.5, 1.5])), tg.constant(np.float64(-0.7))
    vx, vy = np.array([1.0, -2.0]), np.float64(0.3)
    f = lambda a, b: tg.tanh(a * b) + tg.reduce_sum(a ** 2) / b
    with ForwardAccumulator([x, y], [tg.constant(vx), tg.constant(vy)]) as acc:
        out = f(x, y)
    eps = 1e-6
    fd = (f(x + eps * vx, y + eps * vy).numpy() - f(x - eps * vx, y - eps * vy).numpy()) / (2 * eps)
    np.testing.assert_allclose(acc.jvp(out).numpy(), fd, rtol=1e-7)


def test_variables_as_primals_and_watch_inside_the_block():
    v = tg.Variable(np.float64(2.0))
    w = tg.constant(np.float64(5.0))
    with ForwardAccumulator(v, np.float64(1.0)) as acc:
        acc.watch(w, np.float64(10.0))
        y = v * v * w
    assert acc.jvp(y).numpy() == 2 * 2.0 * 5.0 + 4.0 * 10.0
    assert acc.jvp(v).numpy() == 1.0


def test_unconnected_is_none_or_zero_and_the_structure_is_kept():
    x = tg.constant(1.0)
    with ForwardAccumulator(x, tg.constant(1.0)) as acc:
        y = x * 3.0
        z = tg.constant([1.0, 2.0])
    assert acc.jvp({"y": y, "z": z})["z"] is None
    got = acc.jvp([y, z], unconnected_gradients=tg.UnconnectedGradients.ZERO)
    assert got[0].numpy() == 3.0
    np.testing.assert_array_equal(got[1].numpy(), [0.0, 0.0])


def test_ops_outside_the_block_are_not_tracked():
    x = tg.constant(2.0)
    acc = ForwardAccumulator(x, tg.constant(1.0))
    with acc:
        y = x * x
    z = y * x
    assert acc.jvp(y).numpy() == 4.0 and acc.jvp(z) is None
    assert STATE.hooks == []


def test_stop_gradient_and_integer_results_carry_no_tangent():
    x = tg.constant(2.0)
    with ForwardAccumulator(x, tg.constant(1.0)) as acc:
        a = tg.stop_gradient(x) * x
        b = tg.cast(x, tg.int32)
    assert acc.jvp(a).numpy() == 2.0 and acc.jvp(b) is None


def test_forward_over_reverse_hessian_vector_product():
    a = np.array([0.3, -1.2, 0.8])
    v = np.array([1.0, 0.5, -2.0])
    x = tg.constant(a)
    with ForwardAccumulator(x, tg.constant(v)) as acc:
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.reduce_sum(tg.sin(x) * x[::-1])
        g = tape.gradient(y, x)
    # y = sum_i sin(a_i) a_(n-1-i): d2y/da_i^2 = -sin(a_i) a_(n-1-i), d2y/da_i da_(n-1-i) = cos(a_i) + cos(a_(n-1-i))
    h = -np.diag(np.sin(a) * a[::-1]) + np.fliplr(np.diag(np.cos(a))) + np.flipud(np.diag(np.cos(a)))
    np.testing.assert_allclose(acc.jvp(g).numpy(), h @ v, rtol=1e-12)


def test_reverse_over_forward_gradient_of_a_jvp():
    x = tg.Variable(np.float64(1.3))
    with tg.GradientTape() as tape:
        with ForwardAccumulator(x, np.float64(1.0)) as acc:
            y = tg.exp(x) * x
        dy = acc.jvp(y)  # (x + 1) e^x
    np.testing.assert_allclose(tape.gradient(dy, x).numpy(), (1.3 + 2) * np.exp(1.3), rtol=1e-12)


def test_nested_accumulators_give_second_and_third_derivatives():
    x = tg.constant(np.float64(0.4))
    one = tg.constant(np.float64(1.0))
    with ForwardAccumulator(x, one) as a3:
        with ForwardAccumulator(x, one) as a2:
            with ForwardAccumulator(x, one) as a1:
                y = tg.sin(x) * x
            d1 = a1.jvp(y)
        d2 = a2.jvp(d1)
    d3 = a3.jvp(d2)
    v = 0.4
    np.testing.assert_allclose(d1.numpy(), np.cos(v) * v + np.sin(v), rtol=1e-12)
    np.testing.assert_allclose(d2.numpy(), -np.sin(v) * v + 2 * np.cos(v), rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), -np.cos(v) * v - 3 * np.sin(v), rtol=1e-12)


def test_custom_gradient_is_pushed_forward_through_its_vjp():
    @tg.custom_gradient
    def cube(x):
        return x ** 3, lambda g: g * 3.0 * x * x

    x = tg.constant(np.array([1.0, -2.0]))
    with ForwardAccumulator(x, tg.constant(np.array([1.0, 0.5]))) as acc:
        y = cube(x)
    np.testing.assert_allclose(acc.jvp(y).numpy(), [3.0, 6.0])


def test_bad_primals_and_tangents_say_what_to_do():
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        ForwardAccumulator([tg.constant(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match="shape and dtype"):
        ForwardAccumulator(tg.constant([1.0, 2.0]), tg.constant([1.0]))
    with pytest.raises(TypeError, match="floating-point"):
        ForwardAccumulator(tg.constant(1), tg.constant(1))
    with pytest.raises(TypeError, match="Tensors or Variables"):
        ForwardAccumulator(1.0, 1.0)


def test_tangents_of_dead_tensors_are_released():
    x = tg.constant(np.ones(3))
    with ForwardAccumulator(x, tg.constant(np.ones(3))) as acc:
        for _ in range(100):
            y = tg.exp(x) * 2.0
        del y
    gc.collect()
    assert len(acc._tangents) <= 3  # x, and at most the last intermediates


def test_tf_autodiff_namespace():
    assert tg.autodiff.GradientTape is tg.GradientTape
