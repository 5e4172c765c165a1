"""minimize's compiled path: the same results as eager, bit for bit, and a silent eager fallback."""
import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers


def rosenbrock(p):
    return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2


def quadratic(v):
    return tg.reduce_sum(tg.constant(np.arange(1.0, 11.0)) * (v - 1.0) ** 2)


def runs(fn, x0, **kwargs):
    """The same run compiled ("auto") and eager."""
    return tg.minimize(fn, x0, **kwargs), tg.minimize(fn, x0, compile=False, **kwargs)


def assert_same_run(a, b):
    assert a.status == b.status and a.steps == b.steps and a.nfev == b.nfev
    for col in b.history.columns:
        if col != "elapsed":  # wall-clock time
            np.testing.assert_array_equal(a.history[col], b.history[col])
    np.testing.assert_array_equal(np.asarray(a.fun), np.asarray(b.fun))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_seed_descent_compiles_and_matches_the_formula(dtype):
    lr, steps = 0.01, 2000
    a, b = runs(lambda w: w**2, dtype(1.0), optimizer=O.SGD(lr), steps=steps)
    assert a.compiled and a.compile_reason is None and not b.compiled
    assert_same_run(a, b)
    w, expected = dtype(1.0), [dtype(1.0)]
    for _ in range(steps):  # w <- w - lr * 2w, in the parameter's dtype
        w = w - dtype(lr) * (dtype(2.0) * w)
        expected.append(w)
    np.testing.assert_array_equal(a.history["w"].astype(dtype), np.array(expected, dtype=dtype))


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_quadratic_and_rosenbrock_give_the_same_run_compiled_or_eager(optimizer):
    lr = {"sgd": 0.001, "adam": 0.01, "lbfgs": 1.0}[optimizer]
    a, b = runs(rosenbrock, {"x": np.float64(-1.2), "y": np.float64(1.0)}, optimizer=optimizer,
                learning_rate=lr, steps=300)
    assert a.compiled
    assert_same_run(a, b)
    a, b = runs(quadratic, np.zeros(10), optimizer=optimizer, learning_rate=lr, steps=300)
    assert a.compiled
    assert_same_run(a, b)
    np.testing.assert_array_equal(a.x, b.x)


def test_compiled_code_replaces_the_python_function_after_the_first_call():
    calls = []

    def f(w):
        calls.append(1)
        return (w - 3.0) ** 2

    r = tg.minimize(f, np.float64(0.0), learning_rate=0.1, steps=50, compile=True)
    assert r.compiled and len(calls) == 1 and r.nfev == 51
    # w_k = 3 - 3 * (1 - 2 * 0.1)^k
    np.testing.assert_allclose(r.history["w"], 3 - 3 * 0.8 ** np.arange(51), rtol=0, atol=1e-14)


def branchy(w):
    if float(w) > 0:  # Python control flow on the value: cannot be traced into straight-line code
        return w**2
    return 4 * w**2


def test_python_control_flow_falls_back_to_eager_and_stays_correct():
    lr = 0.6
    a, b = runs(branchy, np.float64(1.0), optimizer=O.SGD(lr), steps=40)
    assert not a.compiled and "Python" in a.compile_reason
    assert_same_run(a, b)
    w, expected = 1.0, [1.0]
    for _ in range(40):  # the gradient is 2w for w > 0, 8w otherwise
        w = w - lr * (2 * w if w > 0 else 8 * w)
        expected.append(w)
    np.testing.assert_allclose(a.history["w"], expected, rtol=1e-15, atol=0)
    assert np.sign(a.history["w"][:3]).tolist() == [1, -1, 1]  # both branches were taken
    with pytest.raises(ValueError, match="compile=True.*cannot be compiled.*compile='auto'"):
        tg.minimize(branchy, np.float64(1.0), steps=5, compile=True)


def test_python_state_that_changes_between_calls_keeps_the_run_eager():
    step = [0]

    def moving_target(w):  # reads a list the function itself changes: a trace would freeze it
        step[0] += 1
        return (w - step[0]) ** 2

    r = tg.minimize(moving_target, np.float64(0.0), optimizer=O.SGD(0.25), steps=10)
    assert not r.compiled and "'step'" in r.compile_reason
    # w_{k+1} = w_k - 0.25 * 2 (w_k - (k + 1))
    w, expected = 0.0, [0.0]
    for k in range(10):
        w = w - 0.5 * (w - (k + 1))
        expected.append(w)
    np.testing.assert_allclose(r.history["w"], expected, rtol=1e-15)


def test_random_draws_are_caught_at_the_second_evaluation():
    def noisy(w):
        return (w - np.random.normal()) ** 2

    np.random.seed(0)
    a = tg.minimize(noisy, np.float64(0.0), steps=20)
    np.random.seed(0)
    b = tg.minimize(noisy, np.float64(0.0), steps=20, compile=False)
    assert not a.compiled and "numpy.random" in a.compile_reason
    assert_same_run(a, b)


def test_inside_a_tape_the_run_is_eager_and_unknown_compile_values_are_refused():
    with tg.GradientTape():
        r = tg.minimize(lambda w: w**2, np.float64(1.0), steps=5)
    assert not r.compiled and "GradientTape" in r.compile_reason
    w = 1.0
    for _ in range(5):
        w = w - 0.01 * (2 * w)
    assert float(r.x) == w
    assert not tg.minimize(lambda w: w**2, np.float64(1.0), steps=0).compiled  # ended before replay
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="compile must be True, False or 'auto'"):
            tg.minimize(lambda w: w**2, 1.0, compile=bad)
