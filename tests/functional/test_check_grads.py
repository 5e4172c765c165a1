"""tg.testing.check_grads: passes on right derivatives, names argument, order and mode of wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import GradientCheckError, check_grads

from ..ops.specs import SPECS
from .inputs import spec_inputs


@pytest.mark.parametrize("name", ["sin", "pow", "divide", "matmul", "reduce_max", "getitem", "concat", "where"])
def test_table_ops_pass_to_second_order(name):
    spec = SPECS[name]
    check_grads(spec.call, spec_inputs(spec, 11), order=2)


def test_structures_and_third_order():
    f = lambda p, x: tg.reduce_sum(p["w"] * tg.exp(p["b"] * x))
    check_grads(f, ({"w": np.array([1.0, -2.0]), "b": np.array([0.3, 0.1])}, np.array([0.5, 1.5])), order=3)


def _wrong_in_y():
    @tg.custom_gradient
    def mul(x, y):
        return x * y, lambda g: (g * y, g * y)  # d/dy should be g * x
    return mul


def test_a_wrong_custom_gradient_is_reported_by_argument_order_and_mode():
    with pytest.raises(GradientCheckError) as info:
        check_grads(_wrong_in_y(), (1.5, 2.0), order=1)
    failures = info.value.failures
    # the forward mode of a custom_gradient op is derived from its VJP, so both modes are wrong
    assert {(f["argument"], f["order"], f["mode"]) for f in failures} == {("argument 1", 1, "fwd"),
                                                                        ("argument 1", 1, "rev")}
    for f in failures:
        assert abs(f["got"] - f["expected"]) == pytest.approx(f["difference"])
        assert f["difference"] > 1e-3
    text = str(info.value)
    assert "2 of 4 checks" in text and "argument 1, order 1 (rev)" in text and "custom_gradient" in text


def test_only_reverse_mode_is_checked_when_asked():
    with pytest.raises(GradientCheckError) as info:
        check_grads(_wrong_in_y(), (1.5, 2.0), order=1, modes=("rev",))
    assert [f["mode"] for f in info.value.failures] == ["rev"]


def test_a_wrong_second_derivative_is_found_at_order_two_only():
    # grad_fn's own derivative is wrong: d/dx (g * cos(x)) should be -g sin(x), here its gradient is cut
    @tg.custom_gradient
    def sine(x):
        return tg.sin(x), lambda g: g * tg.stop_gradient(tg.cos(x))

    check_grads(sine, (0.7,), order=1)
    with pytest.raises(GradientCheckError) as info:
        check_grads(sine, (0.7,), order=2)
    assert {f["order"] for f in info.value.failures} == {2}
    assert "fwd of rev" in {f["mode"] for f in info.value.failures}


def test_nested_argument_is_named_by_its_path():
    @tg.custom_gradient
    def double(x):
        return 2.0 * x, lambda g: g  # should be 2 g

    with pytest.raises(GradientCheckError, match=r"argument 0\['b'\]"):
        check_grads(lambda p: p["a"] * double(p["b"]), ({"a": 1.0, "b": 2.0},), order=1, modes=("rev",))


def test_bad_arguments():
    with pytest.raises(TypeError, match="tuple of f's arguments"):
        check_grads(tg.sin, 1.0)
    with pytest.raises(ValueError, match="modes"):
        check_grads(tg.sin, (1.0,), modes=("both",))
    with pytest.raises(ValueError, match="order"):
        check_grads(tg.sin, (1.0,), order=0)
    with pytest.raises(TypeError, match="real or complex numbers"):
        check_grads(tg.sin, (True,))


def test_per_element_checks_every_element_and_names_it():
    @tg.custom_gradient
    def scale(x):  # right everywhere but at element 2
        return x * 3.0, lambda g: g * np.array([3.0, 3.0, 3.5])

    x = np.array([0.1, -0.4, 0.9])
    check_grads(lambda x: x * 3.0, (x,), per_element=True)
    with pytest.raises(GradientCheckError) as info:
        check_grads(scale, (x,), order=1, modes=("rev",), per_element=True)
    assert "at element (2,)" in str(info.value)


def test_complex_arguments_follow_tensorflows_convention():
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j])
    check_grads(lambda z: tg.exp(z) * z, (z,), per_element=True)
    check_grads(lambda z: tg.abs(z) * tg.math.real(z), (z,))

    @tg.custom_gradient
    def square(z):
        return z * z, lambda g: g * 2.0 * z  # TensorFlow's convention wants g * conj(2 z)

    with pytest.raises(GradientCheckError, match=r"element \(0,\) \((real|imaginary) part\)"):
        check_grads(square, (z,), order=1, modes=("rev",), per_element=True)


def test_a_gradient_of_the_wrong_shape_is_reported():
    @tg.custom_gradient
    def double(x):
        return x * 2.0, lambda g: tg.reduce_sum(g)

    with pytest.raises(GradientCheckError, match=r"gradient of shape \(\) for an argument of shape \(3,\)"):
        check_grads(double, (np.ones(3),), order=1, modes=("rev",))


def test_numeric_gradient_element_by_element():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    (g,) = tg.testing.numeric_gradient(lambda a: float(np.sum(np.sin(a[0]))), [x])
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-8)
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j])
    (g,) = tg.testing.numeric_gradient(lambda a: float(np.sum(np.abs(a[0]) ** 2)), [z])
    np.testing.assert_allclose(g, 2 * z, rtol=1e-8)  # d/dx + i d/dy of x^2 + y^2
