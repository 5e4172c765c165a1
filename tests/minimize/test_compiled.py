"""minimize's compiled path: the same results as eager, bit for bit, and a silent eager fallback."""
import types

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import HealthCheck, given, settings, st

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


# ---- compile="auto" is as safe as eager: Python state fn reads, changed between steps ---------------------
# Each test runs the same problem compiled ("auto") and eagerly, with a callback changing what fn reads,
# and asks for the same run bit for bit: rows, status, evaluations.

def same_bits(a, b):
    assert a.status == b.status and a.steps == b.steps and a.nfev == b.nfev, (a.message, b.message)
    for col in b.history.columns:
        if col != "elapsed":
            x, y = np.asarray(a.history[col]), np.asarray(b.history[col])
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), col


def at_steps(steps, change):
    def callback(info):
        if info.step in steps:
            change(info.step)
    return callback


_scale = 1.0


def _scaled(w):
    return _scale * (w - 3.0) ** 2


def _set_scale(value):
    global _scale
    _scale = value


@pytest.mark.parametrize("every, retraced", [(3, False), (40, True)])
def test_a_global_a_callback_rebinds_is_seen_by_the_next_step(every, retraced):
    runs_ = []
    for compile in ("auto", False):
        _set_scale(1.0)
        cb = at_steps(range(every - 1, 170, every), lambda k: _set_scale(_scale * 1.25))
        runs_.append(tg.minimize(_scaled, np.float64(0.0), learning_rate=0.01, steps=200, callbacks=cb,
                                 compile=compile))
    a, b = runs_
    same_bits(a, b)
    assert "the global '_scale'" in a.compile_reason
    # Rare changes trace again (and the run ends compiled); changes every few steps leave it eager.
    assert a.compiled == retraced and ("traced again" in a.compile_reason) == retraced


def test_an_array_changed_in_place_is_seen_even_where_the_trace_folded_it():
    arr = np.array([1.0, 2.0])

    def fn(w):  # 2 * arr is NumPy arithmetic: the trace holds its result, not arr
        return tg.reduce_sum((w - 2.0 * arr) ** 2)

    runs_ = []
    for compile in ("auto", False):
        arr[:] = [1.0, 2.0]
        cb = at_steps({5, 60}, lambda k: arr.__setitem__(0, arr[0] + k))
        runs_.append(tg.minimize(fn, np.zeros(2), learning_rate=0.05, steps=100, callbacks=cb, compile=compile))
    same_bits(*runs_)
    assert "the NumPy array 'arr'" in runs_[0].compile_reason


def test_arrays_are_compared_by_bits_so_a_zero_turning_negative_counts():
    arr = np.array([-0.0])

    def fn(w):  # exp(1 / -0.0) = 0, exp(1 / 0.0) = inf: the sign of zero decides
        return (w - 1.0) ** 2 + tg.reduce_sum(tg.exp(1.0 / tg.constant(arr)))

    runs_ = []
    for compile in ("auto", False):
        arr[0] = -0.0
        cb = at_steps({30}, lambda k: arr.__setitem__(0, 0.0))  # 0.0 == -0.0 for np.array_equal
        runs_.append(tg.minimize(fn, np.float64(0.0), learning_rate=0.1, steps=50, callbacks=cb, compile=compile))
    same_bits(*runs_)
    assert runs_[0].status == "diverged"


class Target:
    def __init__(self):
        self.scale = 1.0

    def loss(self, w):
        return self.scale * (w - 2.0) ** 2


def test_an_object_attribute_keeps_the_run_eager_and_right():
    runs_ = []
    for compile in ("auto", False):
        t = Target()
        cb = at_steps({10}, lambda k, t=t: setattr(t, "scale", 5.0))
        runs_.append(tg.minimize(t.loss, np.float64(0.0), learning_rate=0.01, steps=40, callbacks=cb,
                                 compile=compile))
    same_bits(*runs_)
    assert not runs_[0].compiled and "Target" in runs_[0].compile_reason
    cfg = types.SimpleNamespace(scale=1.0)
    r = tg.minimize(lambda w: cfg.scale * w ** 2, np.float64(1.0), steps=5)
    assert not r.compiled and "'cfg'" in r.compile_reason


def test_a_module_attribute_and_a_default_argument_are_watched():
    cfg = types.ModuleType("cfg")
    arr = np.array([1.0])

    def fn(w, arr=arr):
        return cfg.scale * tg.reduce_sum((w - arr) ** 2)

    runs_ = []
    for compile in ("auto", False):
        cfg.scale, arr[0] = 1.0, 1.0
        cb = at_steps({30, 60}, lambda k: setattr(cfg, "scale", 2.0) if k == 30 else arr.__setitem__(0, 3.0))
        runs_.append(tg.minimize(fn, np.zeros(1), learning_rate=0.05, steps=100, callbacks=cb, compile=compile))
    same_bits(*runs_)
    assert runs_[0].compiled and "cfg.scale" in runs_[0].compile_reason


def _helper(w):
    return _scale * w


def test_state_read_by_a_function_fn_calls_is_watched():
    runs_ = []
    for compile in ("auto", False):
        _set_scale(1.0)
        cb = at_steps({25}, lambda k: _set_scale(3.0))
        runs_.append(tg.minimize(lambda w: _helper(w) ** 2, np.float64(1.0), learning_rate=0.01, steps=60,
                                 callbacks=cb, compile=compile))
    same_bits(*runs_)
    assert "'_scale'" in runs_[0].compile_reason


def test_a_variable_outside_x0_assigned_by_a_callback_is_read_afresh_by_the_compiled_code():
    b = tg.Variable(np.float64(3.0), trainable=False)
    runs_ = []
    for compile in ("auto", False):
        b.assign(3.0)
        cb = at_steps({10, 11, 12, 50}, lambda k: b.assign(float(k)))
        runs_.append(tg.minimize(lambda w: (w - b) ** 2 + tg.square(b) * w, np.float64(0.0), learning_rate=0.01,
                                 steps=80, callbacks=cb, compile=compile))
    same_bits(*runs_)
    assert runs_[0].compiled and runs_[0].compile_reason is None  # nothing to trace again


def test_a_counter_fn_keeps_in_a_variable_counts_as_in_eager_code():
    c = tg.Variable(np.float64(0.0), trainable=False)
    runs_ = []
    for compile in ("auto", False):
        c.assign(0.0)

        def fn(w):
            c.assign_add(1.0)
            return (w - 0.01 * c) ** 2

        runs_.append(tg.minimize(fn, np.float64(0.0), learning_rate=0.1, steps=30, compile=compile))
        runs_.append(float(c.numpy()))
    same_bits(runs_[0], runs_[2])
    assert runs_[1] == runs_[3] == 31.0  # the second evaluation's check must not count twice


def test_fn_changing_what_it_reads_stays_eager():
    arr = np.array([0.0])

    def fn(w):
        arr[0] += 1.0  # no name is assigned: only running it shows the change
        return (w - arr[0]) ** 2

    runs_ = []
    for compile in ("auto", False):
        arr[0] = 0.0
        runs_.append(tg.minimize(fn, np.float64(0.0), learning_rate=0.25, steps=10, compile=compile))
    same_bits(*runs_)
    assert not runs_[0].compiled

    def grows(p):  # fn changing its own argument
        p["k"] = p.get("k", 0.0) + 1.0
        return (p["w"] - p["k"]) ** 2

    a, b = (tg.minimize(grows, {"w": np.float64(0.0)}, steps=5, compile=c) for c in ("auto", False))
    assert not a.compiled


def test_what_cannot_be_watched_keeps_the_run_eager():
    import random

    big = np.ones(300_000)  # 2.4 MB: comparing it before each step would cost more than compiling saves
    cases = {"print": lambda w: print(end="") or w ** 2, "random.random": lambda w: (w - random.random()) ** 2,
             "MiB": lambda w: w ** 2 * tg.reduce_sum(tg.constant(big))}
    for why, fn in cases.items():
        random.seed(0)
        a = tg.minimize(fn, np.float64(1.0), steps=5)
        random.seed(0)
        same_bits(a, tg.minimize(fn, np.float64(1.0), steps=5, compile=False))
        assert not a.compiled and why in a.compile_reason


def test_watching_leaves_the_common_cases_nothing_to_check():
    from tapegrad.descent.guard import watch

    assert len(watch(lambda w: w ** 2)) <= 1  # fn's own code
    assert len(watch(rosenbrock)) <= 1


# ---- the property: random small programs, random changes at random steps ---------------------------------

_g = 1.0  # a global the terms read


class _Box:
    k = 1.0




def _terms(arr, box, var):
    """Loss terms, each reading one kind of Python state: a global, a closure array, an attribute, a Variable."""
    return [
        lambda w: _g * tg.reduce_sum((w - 1.0) ** 2),
        lambda w: tg.reduce_sum((w - arr) ** 2),
        lambda w: tg.reduce_sum(tg.sin(w * (2.0 * arr))),  # 2.0 * arr is folded into the trace
        lambda w: tg.reduce_sum(w * w) * box.k,
        lambda w: tg.reduce_sum((w - var) ** 2) * 0.5,
        lambda w: tg.reduce_sum(tg.exp(-w * w)) * _g,
        lambda w: tg.reduce_sum(w ** 4) * 0.1,
    ]


def _change(kind, value, arr, box, var):
    global _g
    if kind == 0:
        _g = value
    elif kind == 1:
        arr[int(abs(value)) % 2] = value
    elif kind == 2:
        box.k = value
    elif kind == 3:
        var.assign([value, -value])


finite = st.floats(-3.0, 3.0, allow_nan=False, width=64) | st.sampled_from([0.0, -0.0, 1.0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.integers(0, 6), min_size=1, max_size=4, unique=True),
       changes=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 3), finite), max_size=6),
       optimizer=st.sampled_from(["sgd", "adam", "lbfgs"]))
def test_compiled_auto_equals_eager_bit_for_bit_whatever_changes_between_steps(picks, changes, optimizer):
    global _g
    results = []
    for compile in ("auto", False):
        _g = 1.0
        arr, box, var = np.array([1.0, -2.0]), _Box(), tg.Variable(np.array([0.5, 0.5]), trainable=False)
        terms = tuple(_terms(arr, box, var)[i] for i in picks)

        def fn(w, terms=terms):
            total = terms[0](w)
            for t in terms[1:]:
                total = total + t(w)
            return total

        def callback(info, arr=arr, box=box, var=var):
            for step, kind, value in changes:
                if step == info.step:
                    _change(kind, value, arr, box, var)

        results.append(tg.minimize(fn, np.array([0.3, -0.2]), optimizer=optimizer, learning_rate=0.01, steps=40,
                                   callbacks=callback, compile=compile))
    a, b = results
    same_bits(a, b)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])


def test_a_parameter_the_loss_does_not_reach_compiles_and_gets_zeros_as_in_eager_code():
    # The replay gives None for b's gradient; the compiled problem turns it into zeros, as eager code does.
    a, b = runs(lambda p: (p["a"] - 2.0) ** 2, {"a": np.float64(0.0), "b": np.float64(3.0)}, learning_rate=0.1,
                steps=50)
    assert a.compiled and not b.compiled
    assert_same_run(a, b)
    assert a.grad["b"] == 0 and a.x["b"] == 3.0


@pytest.mark.parametrize("compile", ["auto", False])
def test_a_scalar_parameter_turning_infinite_while_loss_and_gradient_stay_finite_is_named(compile):
    # minimum(b, 1) is flat in b above 1: the loss and gradient stay finite while b itself overflows.
    def fn(p):
        return (p["a"] - 1.0) ** 2 + tg.minimum(p["b"], 1.0)

    class Push(O.SGD):  # a step that sends b to inf at step 3, and leaves everything else to SGD
        def _step(self, problem, loss, grads):
            lr = super()._step(problem, loss, grads)
            if int(self.iterations.numpy()) == 3:
                problem.variables[1].assign(np.float64(np.inf))
            return lr

    r = tg.minimize(fn, {"a": np.float64(0.0), "b": np.float64(3.0)}, optimizer=Push(0.1), steps=10, compile=compile)
    assert r.status == "diverged" and r.stop.facts["what"] == "parameter" and r.stop.facts["name"] == "b"
    assert r.steps == 3 and np.isfinite(r.x["b"])  # back at the last finite point


@settings(max_examples=60, deadline=None)
@given(start=st.lists(st.floats(-1e3, 1e3, allow_nan=False, width=32) | st.sampled_from([0.0, -0.0]), min_size=1,
                      max_size=3),
       lr=st.floats(0.0, 2.0) | st.sampled_from([0.01, 0.1, 1e-30]), dtype=st.sampled_from(["float32", "float64"]),
       compile=st.sampled_from(["auto", False]), scalar=st.booleans())
def test_plain_sgds_fast_step_equals_the_general_rule_bit_for_bit(start, lr, dtype, compile, scalar):
    """SGD at a fixed rate steps by w - g * lr, past the rule's w + -(g * lr): the same bits, signed zeros too."""
    def fn(w):
        return tg.reduce_sum(w ** 2 + tg.sin(w)) if not scalar else w ** 2 + tg.sin(w)

    runs = []
    for fast in (True, False):
        opt = tg.optimizers.SGD(lr)
        opt._rule.plain = fast  # False: the general path (rule.prepare, rule.leaf, the slots)
        x0 = np.asarray(start[0] if scalar else start, dtype=dtype)
        runs.append(tg.minimize(fn, x0, opt, steps=30, compile=compile))
    same_bits(*runs)
    np.testing.assert_array_equal(runs[0].history["loss"], runs[1].history["loss"])
    assert int(runs[0].optimizer.iterations) == int(runs[1].optimizer.iterations)
    assert not runs[0].optimizer._slots and runs[1].optimizer._slots  # each took the path it was meant to
