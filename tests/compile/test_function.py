"""tg.function: the replay computes what eager execution computes, traces once per signature,
and falls back to eager (with the same results) when a trace cannot be replayed."""
from __future__ import annotations

import gc
import tracemalloc
import warnings
from collections import namedtuple

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.compiler import CACHE_SIZE


def _descend_eagerly(w0: float, lr: float, steps: int) -> np.float32:
    w = np.float32(w0)
    for _ in range(steps):
        w = w - np.float32(lr) * (np.float32(2.0) * w)
    return w


def test_a_compiled_descent_step_matches_float32_arithmetic_bit_for_bit():
    w = tg.Variable(1.0)

    @tg.function
    def step():
        with tg.GradientTape() as tape:
            y = w ** 2
        w.assign_sub(0.01 * tape.gradient(y, w))

    for _ in range(1000):
        step()
    assert w.numpy() == _descend_eagerly(1.0, 0.01, 1000)
    assert step.experimental_get_tracing_count() == 1
    concrete = step.get_concrete_function()
    assert concrete.compiled and concrete.reason is None


def test_values_nothing_uses_are_not_computed_and_constants_are_folded():
    @tg.function
    def f(x):
        unused = tg.exp(x)  # noqa: F841
        scale = tg.sqrt(tg.constant(4.0)) * 3.0  # constants only: folded to 6.0 at trace time
        return tg.sin(x) * scale

    np.testing.assert_allclose(f(tg.constant(0.5)).numpy(), np.sin(np.float32(0.5)) * 6, rtol=1e-6)
    source = f.get_concrete_function(tg.constant(0.5)).source
    assert "sin_" in source and "exp_" not in source and "sqrt_" not in source


def test_gradients_inside_a_compiled_function_follow_their_inputs():
    @tg.function
    def value_and_grad(x, b):
        with tg.GradientTape() as tape:
            tape.watch([x, b])
            y = tg.sin(x) * b + x ** 3
        return y, tape.gradient(y, [x, b])

    for xv, bv in [(0.3, 2.0), (-1.2, 0.5), (2.0, -3.0)]:
        y, (gx, gb) = value_and_grad(tg.constant(xv, tg.float64), tg.constant(bv, tg.float64))
        np.testing.assert_allclose(y.numpy(), np.sin(xv) * bv + xv**3, rtol=1e-15)
        np.testing.assert_allclose(gx.numpy(), np.cos(xv) * bv + 3 * xv**2, rtol=1e-15)
        np.testing.assert_allclose(gb.numpy(), np.sin(xv), rtol=1e-15)
    assert value_and_grad.experimental_get_tracing_count() == 1


def test_python_control_flow_on_values_runs_eagerly_with_the_same_results():
    @tg.function
    def f(x):
        if x > 0:  # decided by the value: no single trace can stand for every call
            return x * 2.0
        return -x

    assert f(tg.constant(3.0)).numpy() == 6.0
    assert f(tg.constant(-4.0)).numpy() == 4.0
    concrete = f.get_concrete_function(tg.constant(1.0))
    assert not concrete.compiled
    assert "used in Python" in concrete.reason and "test_function.py" in concrete.reason


@pytest.mark.parametrize("leak", [lambda x: float(x) * x, lambda x: x * x.numpy(), lambda x: tg.constant(x) * x,
                                  lambda x: x * np.float32(np.asarray(x))])
def test_every_way_a_value_reaches_python_is_noticed(leak):
    f = tg.function(leak)
    for v in (2.0, 3.0):
        np.testing.assert_allclose(f(tg.constant(v)).numpy(), v * v)
    assert not f.get_concrete_function(tg.constant(1.0)).compiled


def test_what_a_replay_cannot_repeat_runs_eagerly():
    @tg.function
    def noisy(x):
        return x + tg.random.normal(())

    @tg.function
    def fresh_variable(x):
        return tg.Variable(x * 2.0) * 1.0

    assert noisy(tg.constant(0.0)).numpy() != noisy(tg.constant(0.0)).numpy()
    assert "random" in noisy.get_concrete_function(tg.constant(0.0)).reason
    assert fresh_variable(tg.constant(1.0)).numpy() == 2.0
    assert fresh_variable(tg.constant(5.0)).numpy() == 10.0
    assert not fresh_variable.get_concrete_function(tg.constant(1.0)).compiled


def test_a_new_shape_dtype_or_python_number_traces_again():
    f = tg.function(lambda x, k: x * k)
    f(tg.constant([1.0, 2.0]), 2.0)
    f(tg.constant([3.0, 4.0]), 2.0)
    assert f.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(f(tg.constant([1.0, 2.0, 3.0]), 2.0).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(f(tg.constant([1.0, 2.0], tg.float64), 2.0).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(f(tg.constant([1.0, 2.0]), 3.0).numpy(), [3.0, 6.0])
    assert f.experimental_get_tracing_count() == 4


def test_numpy_arrays_are_arguments_like_tensors():
    f = tg.function(lambda x: tg.reduce_sum(x * x))
    assert f(np.array([1.0, 2.0])).numpy() == 5.0
    assert f(np.array([3.0, 4.0])).numpy() == 25.0
    assert f.experimental_get_tracing_count() == 1


def test_the_seed_loop_with_a_new_variable_each_step_traces_once():
    @tg.function
    def gradientdescent(learning_rate, w0):
        with tg.GradientTape() as tape:
            y = tg.math.square(w0)
        dy_dw0 = tape.gradient(y, w0)
        return w0 - learning_rate * dy_dw0

    w0 = tg.Variable(1.0, dtype=tg.float32)
    for _ in range(500):
        w0 = tg.Variable(gradientdescent(0.01, w0).numpy(), dtype=tg.float32)
    assert w0.numpy() == _descend_eagerly(1.0, 0.01, 500)
    assert gradientdescent.experimental_get_tracing_count() == 1


def test_the_same_argument_twice_is_not_tied_to_one_value():
    f = tg.function(lambda x, y: x - y)
    x = tg.constant(5.0)
    assert f(x, x).numpy() == 0.0
    assert f(x, tg.constant(1.0)).numpy() == 4.0
    v, w = tg.Variable(2.0), tg.Variable(7.0)
    g = tg.function(lambda a, b: a * 10.0 + b)
    assert g(v, v).numpy() == 22.0
    assert g(v, w).numpy() == 27.0


def test_assignments_replay_with_tensorflows_rules():
    v = tg.Variable([1.0, 2.0, 3.0])
    s = tg.Variable(0.0, dtype=tg.float64)

    @tg.function
    def update(delta):
        v.assign_add(delta)             # a float32 vector
        v.assign_sub(1.0)               # a Python number, broadcast
        s.assign(tg.cast(tg.reduce_sum(v), tg.float64))  # float32 into float64: cast first, as TensorFlow wants
        v.assign(v * 2.0)               # reads the value assigned just before
        return s + 0.0

    for _ in range(2):
        out = update(tg.constant([0.5, 0.5, 0.5]))
    # by hand: v = 2 * (v + 0.5 - 1), twice; s = sum before the doubling
    v1 = 2 * (np.array([1.0, 2.0, 3.0]) - 0.5)
    v2 = 2 * (v1 - 0.5)
    np.testing.assert_array_equal(v.numpy(), v2.astype(np.float32))
    assert s.dtype == tg.float64 and out.numpy() == (v1 - 0.5).sum()
    assert update.get_concrete_function(tg.constant([0.0, 0.0, 0.0])).compiled


def test_get_concrete_function_leaves_variables_as_they_were():
    w = tg.Variable(1.0)

    @tg.function
    def step():
        w.assign_sub(0.5)

    concrete = step.get_concrete_function()
    assert concrete.compiled and w.numpy() == 1.0
    concrete()
    assert w.numpy() == 0.5
    with pytest.raises(ValueError, match="other argument shapes"):
        concrete(tg.constant(1.0))


def test_outputs_keep_their_structure():
    Pair = namedtuple("Pair", "a b")

    @tg.function
    def f(x):
        return {"sq": x * x, "more": [x + 1.0, (None, 3, "text")], "pair": Pair(x, tg.constant(2.0))}

    out = f(tg.constant(3.0))
    out = f(tg.constant(4.0))
    assert out["sq"].numpy() == 16.0 and out["more"][0].numpy() == 5.0
    assert out["more"][1] == (None, 3, "text")
    assert isinstance(out["pair"], Pair) and out["pair"].a.numpy() == 4.0 and out["pair"].b.numpy() == 2.0


def test_under_an_outer_tape_the_call_is_recorded_like_eager_code():
    f = tg.function(lambda x: tg.sin(x) * x)
    f(tg.constant(0.5))
    x = tg.Variable(0.5, dtype=tg.float64)
    with tg.GradientTape() as tape:
        y = f(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.cos(0.5) * 0.5 + np.sin(0.5), rtol=1e-15)


def test_nested_functions_and_custom_gradients_are_inlined():
    @tg.custom_gradient
    def clip_grad(x):
        return tg.identity(x), lambda g: tg.clip_by_value(g, -1.0, 1.0)

    inner = tg.function(lambda x: clip_grad(x) * 5.0)

    @tg.function
    def outer(x):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = inner(x) + x
        return tape.gradient(y, x)

    assert outer(tg.constant(2.0)).numpy() == 2.0  # clip(5) + 1
    assert outer(tg.constant(-3.0)).numpy() == 2.0
    assert outer.get_concrete_function(tg.constant(0.0)).compiled


def test_a_hessian_replays_equal_to_eager():
    def hess(x):
        with tg.GradientTape() as outer:
            with tg.GradientTape() as inner:
                y = tg.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
            g = inner.gradient(y, x)
        return outer.jacobian(g, x)

    compiled = tg.function(hess)
    for seed in range(3):
        x0 = np.random.default_rng(seed).standard_normal(6)
        want = hess(tg.Variable(x0)).numpy()
        np.testing.assert_array_equal(compiled(tg.Variable(x0)).numpy(), want)
    assert compiled.get_concrete_function(tg.Variable(x0)).compiled


def test_methods_are_compiled_per_instance():
    class Model:
        def __init__(self, scale):
            self.w = tg.Variable(scale)

        @tg.function
        def __call__(self, x):
            return self.w * x

    a, b = Model(2.0), Model(3.0)
    assert a(tg.constant(1.0)).numpy() == 2.0 and b(tg.constant(1.0)).numpy() == 3.0
    a.w.assign(5.0)
    assert a(tg.constant(2.0)).numpy() == 10.0


def test_many_signatures_warn_once_about_retracing():
    f = tg.function(lambda x, k: x * k)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(12):
            f(tg.constant(1.0), float(k))
    assert sum("different input signatures" in str(w.message) for w in caught) == 1


def test_bad_uses_are_refused_clearly():
    with pytest.raises(TypeError, match="input_signature must be a possibly nested sequence of TensorSpec"):
        tg.function(lambda x: x, input_signature=[None])
    with pytest.raises(TypeError, match="needs a function"):
        tg.function(3)
    assert tg.function(jit_compile=True)(lambda x: x + 1.0)(tg.constant(1.0)).numpy() == 2.0


def test_a_traced_exponent_is_not_taken_for_the_constant_it_was_when_traced():
    @tg.function
    def dpow(x, p):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = x ** p
        return tape.gradient(y, x)

    x = tg.constant(1.5, tg.float64)
    for p in (2.0, 3.0, 0.5):  # traced with p == 2, where the rule has a shortcut
        np.testing.assert_allclose(dpow(x, tg.constant(p, tg.float64)).numpy(), p * 1.5 ** (p - 1), rtol=1e-15)
    assert dpow.get_concrete_function(x, tg.constant(2.0, tg.float64)).compiled


def test_a_nan_argument_hits_the_cache_and_signed_zeros_trace_apart():
    f = tg.function(lambda x, s: x / s)
    one = tg.constant(1.0)
    for _ in range(100):
        assert np.isnan(f(one, float("nan")).numpy())
    assert f.experimental_get_tracing_count() == 1
    # 0.0 == -0.0 as Python values, but 1 / 0.0 and 1 / -0.0 differ: one trace must not answer for both.
    with np.errstate(divide="ignore"):
        assert f(one, 0.0).numpy() == np.inf and f(one, -0.0).numpy() == -np.inf
    assert f.experimental_get_tracing_count() == 3
    g = tg.function(lambda x, s: x)
    for s in [complex(0.0, 0.0), complex(0.0, -0.0)] + [complex("nan+nanj")] * 10:
        g(one, s)
    assert g.experimental_get_tracing_count() == 3


def test_the_trace_cache_keeps_the_most_recently_used_signatures():
    f = tg.function(lambda x: x * 2.0 + 1.0)
    size = CACHE_SIZE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(1, size + 1):
            f(tg.zeros((n,)))
        assert f.experimental_get_tracing_count() == size
        f(tg.zeros((1,)))  # used again: now the most recent
        f(tg.zeros((size + 1,)))  # one more: drops the least recently used, (2,)
        assert f.experimental_get_tracing_count() == size + 1
        f(tg.zeros((1,)))
        assert f.experimental_get_tracing_count() == size + 1
        f(tg.zeros((2,)))  # dropped: traced again, with the right answer
        assert f.experimental_get_tracing_count() == size + 2
        np.testing.assert_array_equal(f(tg.zeros((2,))).numpy(), [1.0, 1.0])
        # Memory stays flat however many shapes come by (a kept trace holds a few kB).
        tracemalloc.start()
        try:
            for n in range(size + 2, 2 * size + 2):
                f(tg.zeros((n,)))
            gc.collect()  # a replay and its namespace form a cycle
            before = tracemalloc.get_traced_memory()[0]
            for n in range(2 * size + 2, 4 * size + 2):
                f(tg.zeros((n,)))
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    assert after - before < 300 * size


def test_reduce_retracing_runs_new_shapes_eagerly_with_the_same_results():
    def body(x, k):
        return tg.reduce_sum(x * x) * k

    relaxed = tg.function(body, reduce_retracing=True)
    plain = tg.function(body)
    old_name = tg.function(body, experimental_relax_shapes=True)
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 7):
        x = tg.constant(rng.normal(size=n))
        for f in (relaxed, plain, old_name):
            assert f(x, 2.0).numpy() == body(x, 2.0).numpy()  # bit for bit, eager or replayed
    assert relaxed.experimental_get_tracing_count() == 1 == old_name.experimental_get_tracing_count()
    assert plain.experimental_get_tracing_count() == 4
    x = tg.constant(rng.normal(size=(2, 3)))  # a new rank, a new dtype, a new Python number: traced
    assert relaxed(x, 2.0).numpy() == body(x, 2.0).numpy()
    relaxed(tg.constant([1.0, 2.0], tg.float32), 2.0)
    relaxed(tg.constant([1.0, 2.0]), 3.0)
    assert relaxed.experimental_get_tracing_count() == 4
    assert relaxed.get_concrete_function(tg.constant(rng.normal(size=2)), 2.0).compiled
