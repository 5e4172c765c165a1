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


# The diagnosis: every disagreeing entry in a table, and the cause its own differences show.

def _failures(f, args, **kw):
    with pytest.raises(GradientCheckError) as info:
        check_grads(f, args, order=1, **kw)
    return info.value.failures, str(info.value)


@pytest.mark.parametrize("per_element", [False, True])
def test_a_wrong_rule_is_diagnosed_as_one_with_the_numbers(per_element):
    @tg.custom_gradient
    def cube(x):
        return x ** 3, lambda g: g * 2 * x ** 2  # should be 3 x^2

    x = np.array([1.5, -0.7])
    failures, text = _failures(cube, (x,), per_element=per_element)
    assert {f["mode"] for f in failures} == {"fwd", "rev"}
    for f in failures:
        assert f["causes"] == ["wrong rule"] and f["disagreeing"] == len(f["elements"])
    rows = [r for f in failures for r in f["elements"]]
    assert sorted(r["element"] for r in rows) == ["(0,)", "(0,)", "(1,)", "(1,)"]  # the Jacobian's diagonal
    for r in rows:
        assert r["output"] == r["element"]
        k = int(r["element"][1])
        assert r["analytic"] == pytest.approx(2 * x[k] ** 2, rel=1e-9)
        assert r["numeric"] == pytest.approx(3 * x[k] ** 2, rel=1e-6)
        assert r["abs_error"] == pytest.approx(abs(r["analytic"] - r["numeric"]))
        assert r["rel_error"] == pytest.approx(r["abs_error"] / abs(r["numeric"]))
        assert "one-sided differences agree" in r["evidence"] and "0.667 times" in r["evidence"]
    # only the cause the evidence supports is listed
    assert "wrong rule" in text and "kink" not in text and "precision" not in text and "Likely causes" not in text


def test_relu_at_zero_is_a_kink():
    x = np.array([0.0, 1.0, -2.0])
    failures, text = _failures(tg.nn.relu, (x,), per_element=True)
    for f in failures:
        assert f["causes"] == ["kink"] and [r["element"] for r in f["elements"]] == ["(0,)"]
    fwd = next(f for f in failures if f["mode"] == "fwd")
    (row,) = fwd["elements"]
    assert row["output"] == "(0,)" and row["numeric"] == pytest.approx(0.5) and row["analytic"] == 0
    assert "the rule gives the left-hand one" in row["evidence"]
    assert "wrong rule" not in text and "precision" not in text


@pytest.mark.parametrize("f, args", [(lambda x, y: tg.maximum(x, y), (1.0, 1.0)),
                                     (tg.nn.relu, (3e-7,))])  # a kink within eps of the point
def test_other_kinks(f, args):
    failures, _ = _failures(f, args, modes=("rev",), per_element=True)
    assert {c for f in failures for c in f["causes"]} == {"kink"}


def test_a_float32_function_is_a_matter_of_precision():
    failures, text = _failures(lambda x: tg.cast(x, tg.float32) ** 3, (np.array([1.5, 0.8]),), per_element=True)
    assert {f["mode"] for f in failures} == {"fwd", "rev"}
    for f in failures:
        assert f["causes"] == ["precision"]
        for r in f["elements"]:
            assert "float32" in r["evidence"] and "too small for f's rounding" in r["evidence"]
    assert "wrong rule" not in text and "kink" not in text


def test_a_step_too_large_for_the_curvature_is_a_matter_of_precision():
    failures, _ = _failures(lambda x: tg.exp(20.0 * x), (0.5,), eps=1e-3, per_element=True)
    for f in failures:
        assert f["causes"] == ["precision"] and "too large for f's curvature" in f["elements"][0]["evidence"]


def test_a_wrong_rule_in_float32_is_still_a_wrong_rule():
    @tg.custom_gradient
    def cube(x):
        return x ** 3, lambda g: g * 2 * x ** 2

    failures, _ = _failures(lambda x: cube(tg.cast(x, tg.float32)), (1.5,), modes=("rev",))
    assert failures[0]["causes"] == ["wrong rule"]


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_the_table_lists_every_disagreeing_element(mode):
    wrong = np.array([1.0, 1.0, 1.3, 1.0, 0.5, 1.0, 2.0])  # elements 2, 4, 6 have a wrong rule

    @tg.custom_gradient
    def scale(x):
        return 3.0 * x, lambda g: 3.0 * g * wrong

    x = np.linspace(-1.0, 1.0, wrong.size)
    failures, text = _failures(scale, (x,), modes=(mode,))  # found along a random direction
    (f,) = failures
    assert sorted(r["element"] for r in f["elements"]) == ["(2,)", "(4,)", "(6,)"]
    assert f["disagreeing"] == 3 and f["causes"] == ["wrong rule"]
    assert f["entries"] == wrong.size ** 2  # the whole Jacobian, in either mode
    assert all(r["output"] == r["element"] for r in f["elements"])  # on its diagonal
    for r in f["elements"]:
        assert r["abs_error"] > r["allowed"]
        assert r["element"] + "  " in text  # a row of the table


def test_the_table_shows_the_ten_worst_and_counts_the_rest():
    @tg.custom_gradient
    def square(x):
        return x * x, lambda g: g * 2.1 * x

    x = np.linspace(1.0, 2.0, 30)
    failures, text = _failures(lambda x: tg.reduce_sum(square(x)), (x,), modes=("rev",))
    (f,) = failures
    assert f["disagreeing"] == 30 and len(f["elements"]) == 10
    errors = [r["abs_error"] for r in f["elements"]]
    assert errors == sorted(errors, reverse=True)
    # the error at element k is 0.1 x[k] times the cotangent: the largest x come first
    assert sorted(r["element"] for r in f["elements"]) == sorted(f"({k},)" for k in range(20, 30))
    assert "and 20 more of the 30 entries disagree" in text


def test_a_right_function_passes_and_a_passing_check_returns_none():
    assert check_grads(lambda x: tg.reduce_sum(tg.nn.relu(x) * tg.sin(x)), (np.array([0.3, -0.8, 1.2]),)) is None
    assert check_grads(lambda x: tg.exp(20.0 * x), (0.5,), per_element=True) is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_derivative_that_is_not_finite_fails_and_says_why():
    # sqrt at 0: the rule gives inf, a step to the left leaves the domain; reverse mode used to pass on the NaN
    failures, text = _failures(tg.sqrt, (0.0,), modes=("rev",))
    assert failures[0]["causes"] == ["unclear"] and "edge of f's domain" in text


def test_past_a_hundred_outputs_reverse_mode_tables_the_failing_cotangent():
    wrong = np.ones(120)
    wrong[[5, 77]] = 1.5

    @tg.custom_gradient
    def scale(x):
        return 3.0 * x, lambda g: 3.0 * g * wrong

    failures, _ = _failures(scale, (np.linspace(0.5, 1.5, 120),), modes=("rev",))
    (f,) = failures
    assert f["entries"] == 120 and {r["output"] for r in f["elements"]} == {"<u, .>"}
    assert sorted(r["element"] for r in f["elements"]) == ["(5,)", "(77,)"]
