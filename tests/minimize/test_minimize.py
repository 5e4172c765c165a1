"""tg.minimize: the seed's descent, gradient descent's contraction, stopping rules, structures, errors."""
import importlib
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.optimizers.names import OPTIMIZERS

loop_module = importlib.import_module("tapegrad.descent.loop")
progress_module = importlib.import_module("tapegrad.descent.progress")

O = tg.optimizers


# -- the seed ----------------------------------------------------------------------------------------

def test_seed_descent_is_w_k_equals_one_minus_two_lr_to_the_k_in_float64():
    lr, steps = 0.01, 10_000
    w = tg.Variable(np.float64(1.0))
    r = tg.minimize(lambda w: w**2, w, optimizer=O.SGD(lr), steps=steps)
    got = r.history["w"]
    # The same recurrence written out, and its closed form (k steps of two roundings each).
    ref = np.empty(steps + 1)
    ref[0] = 1.0
    for k in range(steps):
        ref[k + 1] = ref[k] - lr * (2 * ref[k])
    np.testing.assert_array_equal(got, ref)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(got, (1 - 2 * lr) ** k, rtol=2 * steps * np.finfo(np.float64).eps)
    assert r.status == "max_steps" and r.success and r.steps == steps and len(r.history) == steps + 1
    assert float(w.numpy()) == got[-1] == float(r.x)  # the Variable itself was descended
    assert r.fun == got[-1] ** 2 and float(r.grad) == 2 * got[-1]
    np.testing.assert_array_equal(r.history["loss"], ref**2)
    np.testing.assert_array_equal(r.history["grad_norm"], 2 * ref)
    assert np.all(r.history["lr"][:-1] == lr) and math.isnan(r.history["lr"][-1])


def test_seed_descent_in_float32_reproduces_the_blogs_weights():
    # The blog's loop: w0 = w0 - 0.01 * dy_dw0 in float32, 10,000 epochs; its list holds w_0 .. w_9999.
    r = tg.minimize(lambda w0: w0**2, tg.Variable(1.0), optimizer=O.SGD(0.01), steps=10_000)
    w, lr, two = np.float32(1.0), np.float32(0.01), np.float32(2.0)
    weights = []
    for _ in range(10_000):
        weights.append(w)
        w = w - lr * (two * w)
    np.testing.assert_array_equal(r.history["w0"][:10_000], np.array(weights, dtype=np.float32))
    assert r.history["w0"][-1] == w and r.x == w and r.x.dtype == np.float32


def test_gradient_descent_contracts_at_kappa_minus_one_over_kappa_plus_one():
    for m, big in ((1.0, 10.0), (0.5, 50.0)):
        kappa, lr = big / m, 2 / (big + m)
        f = lambda p, m=m, big=big: 0.5 * (m * p[0] ** 2 + big * p[1] ** 2)
        h = tg.minimize(f, [np.float64(1.0), np.float64(-2.0)], optimizer=O.SGD(lr), steps=40).history
        norms = np.hypot(h["x0"], h["x1"])
        np.testing.assert_allclose(norms[1:] / norms[:-1], (kappa - 1) / (kappa + 1), rtol=1e-12)


# -- stopping ----------------------------------------------------------------------------------------

def test_diverging_run_stops_names_the_step_and_keeps_its_history():
    w = tg.Variable(1.0)
    r = tg.minimize(lambda w: w**2, w, learning_rate=1.5, steps=1000)
    # w_k = (1 - 2 * 1.5)^k = (-2)^k; in float32 w^2 = 4^k overflows first at k = 64.
    assert r.status == "diverged" and not r.success
    assert r.steps == 64 and len(r.history) == 65
    assert "step 64" in r.message and "learning_rate=0.15" in r.message and "smaller" in r.message
    assert math.isinf(r.history["loss"][-1])
    np.testing.assert_array_equal(r.history["w"][:64], np.float32(-2.0) ** np.arange(64, dtype=np.float32))
    assert r.x == np.float32(-2.0) ** 63 and r.fun == float(np.float32(4.0) ** 63)
    assert w.numpy() == r.x  # the Variable is back at the last finite point


def test_nan_at_the_start_is_reported_as_such():
    r = tg.minimize(lambda w: tg.math.log(w), -1.0, steps=10)
    assert r.status == "diverged" and r.steps == 0 and "starting point" in r.message


def test_a_parameter_going_to_infinity_is_divergence_even_if_the_loss_stays_finite():
    # tanh(inf) = 1 with a zero gradient: only the parameter check catches it.
    r = tg.minimize(lambda w: tg.tanh(w), np.float64(0.5), optimizer=O.chain(O.scale(np.inf)), steps=5)
    assert r.status == "diverged" and "parameter 'w'" in r.message
    assert float(r.x) == 0.5


def test_ctrl_c_stops_cleanly_with_the_history():
    calls = []

    def f(w):
        calls.append(1)
        if len(calls) == 50:
            raise KeyboardInterrupt
        return (w - 3.0) ** 2

    w = tg.Variable(np.float64(0.0))
    r = tg.minimize(f, w, steps=1000)
    assert r.status == "interrupted" and not r.success and "KeyboardInterrupt" in r.message
    assert len(r.history) == 49 and r.steps == 48
    assert float(r.x) == r.history["w"][-1] == float(w.numpy()) and r.fun == r.history["loss"][-1]


def test_ctrl_c_in_a_callback_after_the_step_undoes_nothing_recorded():
    def stop_at_10(info):
        if info.step == 10:
            raise KeyboardInterrupt

    r = tg.minimize(lambda w: w**2, np.float64(1.0), steps=100, callbacks=[stop_at_10])
    assert r.status == "interrupted" and len(r.history) == 11 and r.steps == 10
    assert float(r.x) == r.history["w"][-1]


def test_callbacks_see_each_step_and_can_stop_the_run():
    seen = []

    def watch(info):
        seen.append((info.step, info.loss, info.x["a"]))
        return info.loss < 0.5

    r = tg.minimize(lambda p: p["a"] ** 2, {"a": np.float64(1.0)}, learning_rate=0.1, steps=100, callbacks=watch)
    # loss_k = 0.8^(2k): the first below 0.5 is k = 2 (0.4096).
    assert r.status == "interrupted" and "callback" in r.message and r.steps == 2
    assert [s[0] for s in seen] == [0, 1, 2]
    assert seen[1][2] == pytest.approx(0.8, rel=1e-15)

    def raise_stop(info):
        if info.step == 3:
            raise StopIteration

    assert tg.minimize(lambda w: w**2, 1.0, steps=100, callbacks=[raise_stop]).steps == 3


def test_gtol_and_tol_stop_with_status_converged():
    r = tg.minimize(lambda w: w**2, np.float64(1.0), learning_rate=0.1, steps=1000, gtol=1e-6)
    # |g_k| = 2 * 0.8^k <= 1e-6 first at k = ceil(log(5e-7) / log(0.8)) = 66.
    assert r.status == "converged" and r.steps == math.ceil(math.log(5e-7) / math.log(0.8))
    assert r.history["grad_norm"][-1] <= 1e-6
    assert r.history["grad_norm"][-2] > 1e-6
    r = tg.minimize(lambda w: w**2 + 1.0, np.float64(1.0), learning_rate=0.1, steps=1000, tol=1e-9)
    loss = r.history["loss"]
    assert r.status == "converged" and abs(loss[-1] - loss[-2]) <= 1e-9 * max(1, abs(loss[-1]))
    assert abs(loss[-2] - loss[-3]) > 1e-9 * max(1, abs(loss[-2]))


def test_record_false_keeps_no_rows_but_the_same_result():
    a = tg.minimize(lambda w: (w - 1) ** 2, np.float64(3.0), "adam", learning_rate=0.1, steps=200)
    b = tg.minimize(lambda w: (w - 1) ** 2, np.float64(3.0), "adam", learning_rate=0.1, steps=200, record=False)
    assert len(b.history) == 0 and float(a.x) == float(b.x) and a.steps == b.steps


def test_history_buffers_grow_past_their_first_allocation(monkeypatch):
    monkeypatch.setattr(loop_module, "HISTORY_CHUNK", 4)
    h = tg.minimize(lambda w: w**2, np.float64(1.0), learning_rate=0.25, steps=20).history
    np.testing.assert_array_equal(h["w"], 0.5 ** np.arange(21))
    assert np.all(h["lr"][:-1] == 0.25)


def _raise(exc):
    def callback(info):
        if info.step == 2:
            raise exc
    return callback


STOPS = {  # each reason a run can stop for: how to get it
    "steps": dict(fn=lambda w: w**2, steps=3),
    "gtol": dict(fn=lambda w: w**2, learning_rate=0.25, gtol=1e-3),
    "ftol": dict(fn=lambda w: w**2, learning_rate=0.25, ftol=1e-6),
    "ftol, by its older name tol": dict(fn=lambda w: w**2, learning_rate=0.25, tol=1e-6),
    "xtol": dict(fn=lambda w: w**2, learning_rate=0.1, xtol=1e-4),
    "target": dict(fn=lambda w: w**2, learning_rate=0.1, target=1e-3),
    # w -> -w: the loss stays 1, never below its best, though the gradient is 2.
    "patience": dict(fn=lambda w: w**2, learning_rate=1.0, patience=7),
    "max_time": dict(fn=lambda w: w**2, learning_rate=1e-3, max_time=0.05, steps=10**9),
    "runaway": dict(fn=lambda w: w**2, learning_rate=1.5, runaway=1e6),
    # float32: a step of 1e-12 * 2 is far below w's rounding (6e-8), so w never changes.
    "stagnation": dict(fn=lambda w: w**2, learning_rate=1e-12, stagnation=5),
    "no_descent": dict(fn=lambda w: w**2, callbacks=_raise(tg.optimizers.NoDescent("nowhere lower"))),
    "nonfinite": dict(fn=lambda w: w**2, learning_rate=1.5),
    "nonfinite at x0": dict(fn=lambda w: tg.math.log(w), x0=-1.0),
    "unbounded": dict(fn=lambda w: -tg.exp(w), learning_rate=1.0),
    "stationary x0": dict(fn=lambda w: w**2, x0=0.0, steps=3),
    "callback": dict(fn=lambda w: w**2, callbacks=lambda s: s.step == 2),
    "ctrl_c": dict(fn=lambda w: w**2, callbacks=_raise(KeyboardInterrupt())),
    "error": dict(fn=lambda w: w**2, callbacks=_raise(ZeroDivisionError("in a callback"))),
}
# The rules whose messages quote only numbers and the rule's name, the same in the API's and the CLI's words.
SAME_WORDS = ("steps", "gtol", "ftol", "xtol", "target", "patience", "max_time", "stagnation", "no_descent",
              "callback", "error")


@pytest.mark.parametrize("case", list(STOPS))
def test_why_a_run_stopped_is_data_and_each_reader_renders_it_in_its_own_words(case):
    from tapegrad.cli.minimize import WORDS

    kwargs = dict(STOPS[case])
    fn, x0 = kwargs.pop("fn"), kwargs.pop("x0", 1.0)
    kwargs.setdefault("steps", 1000)
    if case == "error":
        with pytest.raises(ZeroDivisionError) as caught:
            tg.minimize(fn, x0, **kwargs)
        r = caught.value.result
    else:
        r = tg.minimize(fn, x0, **kwargs)
    stop = r.stop
    reason = "steps" if case == "stationary x0" else case.split(" ")[0].rstrip(",")
    assert stop.reason == reason and r.reason is stop.reason is tg.descent.Reason(reason)
    assert (stop.status, stop.step) == (r.status, r.steps) and stop.status in tg.descent.STATUSES
    assert r.history.meta["reason"] == reason
    assert stop.message() == r.message == r.history.meta["message"]
    api, cli = stop.message(), stop.message(WORDS)
    for api_word in ("learning_rate=", "x0", "the history", "KeyboardInterrupt", "check the function"):
        assert api_word not in cli, (api_word, cli)
    for cli_word in ("--lr", "--init", "--csv", "Ctrl-C", "EXPR"):
        assert cli_word not in api, (cli_word, api)
    assert (api == cli) == (reason in SAME_WORDS and case != "stationary x0")


def test_a_callback_reads_the_rows_recorded_so_far():
    seen = []
    tg.minimize(lambda w: w**2, np.float64(1.0), learning_rate=0.25, steps=3,
                callbacks=lambda s: seen.append((len(s.history), s.history["w"][-1], s.history is s.history)))
    assert seen == [(k + 1, 0.5**k, True) for k in range(4)]
    seen.clear()
    tg.minimize(lambda w: w**2, 1.0, steps=2, record=False, callbacks=lambda s: seen.append(len(s.history)))
    assert seen == [0, 0, 0]


# -- what x0 can be, and the history's column names ------------------------------------------------------

def test_x0_structures_reach_fn_as_variables_of_the_same_structure():
    got = {}

    def f(p):
        got["arg"] = p
        return (p["x"] - 1) ** 2 + tg.reduce_sum((p["v"] - 2.0) ** 2)

    r = tg.minimize(f, {"x": np.float64(0.0), "v": np.zeros(2)}, learning_rate=0.25, steps=60)
    assert set(got["arg"]) == {"x", "v"} and all(isinstance(v, tg.Variable) for v in got["arg"].values())
    assert set(r.x) == {"x", "v"} and r.x["v"].shape == (2,)
    np.testing.assert_allclose(r.x["v"], [2.0, 2.0], rtol=1e-12)
    assert r.history.param_columns == ["v[0]", "v[1]", "x"]  # dict leaves in sorted order, like tg.nest

    r = tg.minimize(lambda p: (p[0] - 1) ** 2 + (p[1] + 1) ** 2, (0.0, 0.0), learning_rate=0.25, steps=60)
    assert isinstance(r.x, tuple) and r.history.param_columns == ["x0", "x1"]
    np.testing.assert_allclose(r.x, [1.0, -1.0], atol=1e-6)


def test_column_names_come_from_the_variable_the_key_or_fns_parameter():
    named = tg.Variable(1.0, name="bias")
    assert tg.minimize(lambda b: b**2, named, steps=1).history.param_columns == ["bias"]
    assert tg.minimize(lambda theta: theta**2, 1.0, steps=1).history.param_columns == ["theta"]
    assert tg.minimize(lambda *a: a[0] ** 2, 1.0, steps=1).history.param_columns == ["x"]
    dup = [tg.Variable(1.0, name="w"), tg.Variable(2.0, name="w")]
    assert tg.minimize(lambda p: p[0] ** 2 + p[1] ** 2, dup, steps=1).history.param_columns == ["w", "w_1"]


def test_large_arrays_are_recorded_up_to_a_cap_and_summarized(monkeypatch):
    monkeypatch.setattr(tg.History, "max_elements", 3)
    r = tg.minimize(lambda v: tg.reduce_sum(v**2), np.arange(1.0, 6.0), learning_rate=0.1, steps=5)
    h = r.history
    assert h.param_columns == ["v[0]", "v[1]", "v[2]", "norm(v)"]
    values = np.arange(1.0, 6.0) * 0.8 ** np.arange(6)[:, None]  # v_k = 0.8^k v_0
    np.testing.assert_allclose(h["v[2]"], values[:, 2], rtol=1e-14)
    np.testing.assert_allclose(h["norm(v)"], np.linalg.norm(values, axis=1), rtol=1e-14)


def test_python_numbers_become_float32_and_numpy_keeps_float64():
    assert tg.minimize(lambda w: w**2, 1.0, steps=1).x.dtype == np.float32
    assert tg.minimize(lambda w: w**2, 1, steps=1).x.dtype == np.float32
    assert tg.minimize(lambda w: w**2, np.float64(1.0), steps=1).x.dtype == np.float64
    assert tg.minimize(lambda w: tg.reduce_sum(w**2), np.array([1, 2]), steps=1).x.dtype == np.float64
    assert tg.minimize(lambda w: w**2, tg.constant(np.float64(1.0)), steps=1).x.dtype == np.float64


# -- optimizers ------------------------------------------------------------------------------------------

def test_optimizer_names_are_case_insensitive_and_defaults_documented():
    r = tg.minimize(lambda w: w**2, 1.0, optimizer=" Adam ", steps=3)
    assert isinstance(r.optimizer, O.Adam) and r.optimizer.learning_rate == OPTIMIZERS["adam"][1]
    assert int(r.optimizer.iterations) == 3
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; valid names: sgd, momentum, nesterov, adam"):
        tg.minimize(lambda w: w**2, 1.0, optimizer="adamm")


def test_learning_rate_schedule_by_name_is_recorded_per_step():
    sched = O.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    h = tg.minimize(lambda w: w**2, np.float64(1.0), "sgd", learning_rate=sched, steps=5).history
    np.testing.assert_array_equal(h["lr"][:-1], [0.1 * 0.5**k for k in range(5)])


def test_a_gradient_transformation_can_be_the_optimizer():
    r = tg.minimize(lambda w: w**2, np.float64(1.0), optimizer=O.chain(O.clip(0.1), O.sgd(1.0)), steps=3)
    np.testing.assert_allclose(r.history["w"], [1.0, 0.9, 0.8, 0.7], rtol=1e-15)


def test_optimizer_errors_say_what_to_pass():
    with pytest.raises(ValueError, match="learning_rate= goes with an optimizer name"):
        tg.minimize(lambda w: w**2, 1.0, optimizer=O.SGD(0.1), learning_rate=0.01)
    with pytest.raises(TypeError, match="is the class; pass an optimizer object"):
        tg.minimize(lambda w: w**2, 1.0, optimizer=O.SGD)
    with pytest.raises(TypeError, match="optimizer must be a name"):
        tg.minimize(lambda w: w**2, 1.0, optimizer=42)


# -- bad input -------------------------------------------------------------------------------------------

def test_bad_functions_and_starting_points_get_clear_errors():
    with pytest.raises(ValueError, match=r"must be a scalar, but it has shape \(2,\)"):
        tg.minimize(lambda v: v**2, np.ones(2), steps=1)
    with pytest.raises(ValueError, match="does not depend on the parameters"):
        tg.minimize(lambda w: tg.constant(1.0) + 0 * float(w), 1.0, steps=1)
    with pytest.raises(TypeError, match="returned float"):
        tg.minimize(lambda w: float(w) ** 2, 1.0, steps=1)
    with pytest.raises(TypeError, match="starting values must be numbers"):
        tg.minimize(lambda w: w, "one", steps=1)
    with pytest.raises(TypeError, match="only real floating-point"):
        tg.minimize(lambda w: w, tg.Variable(1), steps=1)
    with pytest.raises(ValueError, match="trainable=False"):
        tg.minimize(lambda w: w, tg.Variable(1.0, trainable=False), steps=1)
    with pytest.raises(ValueError, match="x0 holds no parameters"):
        tg.minimize(lambda w: w, [], steps=1)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        tg.minimize(lambda w: w**2, 1.0, steps=-1)
    with pytest.raises(ValueError, match="gtol must be"):
        tg.minimize(lambda w: w**2, 1.0, gtol=-1.0)
    with pytest.raises(TypeError, match=r"called with one argument.*\(a, b\); for x0 = a list of 2, .* p\[0\], p\[1\]"):
        tg.minimize(lambda a, b: a**2 + b**2, [1.0, 2.0], steps=1)
    with pytest.raises(TypeError, match="callbacks must be functions of one StepInfo"):
        tg.minimize(lambda w: w**2, 1.0, steps=1, callbacks=[print, 1])
    calls = []
    with pytest.raises(TypeError, match=r"called with one argument, a StepInfo.*<lambda>\(\) does not take one"):
        tg.minimize(lambda w: calls.append(1) or w**2, 1.0, steps=1, callbacks=lambda: None)
    assert not calls  # refused before fn ran
    with pytest.raises(ValueError, match="tol must be a number >= 0"):
        tg.minimize(lambda w: w**2, 1.0, tol="1e-3")
    with pytest.raises(TypeError, match="record must be True, False"):
        tg.minimize(lambda w: w**2, 1.0, record="no")
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        tg.minimize(lambda w: w**2, 1.0, progress="yes")
    with pytest.raises(TypeError, match="dict keys must be of one sortable kind"):
        tg.minimize(lambda p: p[1] ** 2 + p["a"] ** 2, {1: 1.0, "a": 2.0})


@pytest.mark.parametrize("where", ["fn", "callback", "optimizer"])
def test_an_exception_during_the_run_is_raised_with_the_run_so_far(where):
    calls = []

    def f(w):
        calls.append(1)
        if where == "fn" and len(calls) == 6:
            raise RuntimeError("boom")
        return (w - 3.0) ** 2

    def cb(info):
        if where == "callback" and info.step == 5:
            raise RuntimeError("boom")

    def rate(step):
        if where == "optimizer" and step == 5:
            raise RuntimeError("boom")
        return 0.1

    w = tg.Variable(np.float64(0.0))
    with pytest.raises(RuntimeError, match="boom") as caught:
        tg.minimize(f, w, optimizer=O.SGD(rate), steps=100, callbacks=cb, compile=False)
    r = caught.value.result
    last = 5 if where != "fn" else 4  # fn fails evaluating step 5; the others after step 5 was recorded
    assert r.status == "interrupted" and not r.success and "RuntimeError('boom')" in r.message
    assert r.steps == last and len(r.history) == last + 1
    # w_k = 3 - 3 * 0.8^k: the rows are the real steps, and w is left at the last recorded one.
    np.testing.assert_allclose(r.history["w"], 3 - 3 * 0.8 ** np.arange(last + 1), rtol=1e-14)
    assert float(w.numpy()) == r.history["w"][-1] == float(r.x)
    if sys.version_info >= (3, 11):  # exception notes
        assert any("e.result" in note for note in caught.value.__notes__)


def test_an_error_at_the_starting_point_is_raised_without_a_result():
    with pytest.raises(ZeroDivisionError) as caught:
        tg.minimize(lambda w: 1 / 0, 1.0)
    assert not hasattr(caught.value, "result")


# -- progress --------------------------------------------------------------------------------------------

def test_progress_bar_shows_loss_and_gradient_norm_when_asked(capsys):
    tg.minimize(lambda w: w**2, 1.0, steps=200, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "|g|=" in err and "200/200" in err


def test_progress_bar_is_drawn_on_a_terminal_that_reports_no_size(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "sizeless_terminal", lambda: True)  # tqdm alone would draw nothing
    tg.minimize(lambda w: w**2, 1.0, steps=200, progress=True)
    lines = capsys.readouterr().err.replace("\r", "\n").split("\n")
    assert any("200/200" in line and "loss=" in line for line in lines) and max(map(len, lines)) <= 100


def test_no_progress_output_when_not_interactive(capsys):
    tg.minimize(lambda w: w**2, 1.0, steps=200)  # pytest's stderr is not a terminal
    tg.minimize(lambda w: w**2, 1.0, steps=200, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_falls_back_to_a_plain_line_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    tg.minimize(lambda w: w**2, 1.0, steps=100, progress=True)
    err = capsys.readouterr().err
    assert "step 100/100" in err and "loss=" in err and err.endswith("\n")


def test_a_real_ctrl_c_signal_stops_the_run_cleanly():
    code = textwrap.dedent("""
        import os, signal
        import tapegrad as tg

        def press_ctrl_c(info):
            if info.step == 100:
                os.kill(os.getpid(), signal.SIGINT)

        r = tg.minimize(lambda w: w ** 2, 1.0, steps=100_000, callbacks=[press_ctrl_c])
        print(r.status, len(r.history), float(r.x) == r.history["w"][-1])
    """)
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "src"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status, rows, consistent = out.stdout.split()
    assert status == "interrupted" and 100 <= int(rows) < 1000 and consistent == "True"


def test_progress_is_on_by_default_in_a_terminal_or_notebook(monkeypatch):
    class Terminal:
        def isatty(self):
            return True

        def write(self, text):
            pass

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_module.progress_bar(None, 10)
    assert bar is not None and bar.delay == 0.5  # shown only once a run has taken half a second
    bar.close(0, math.nan, math.nan)
    monkeypatch.setattr(sys, "stderr", None)
    assert progress_module.progress_bar(None, 10) is None

    class ZMQInteractiveShell:
        pass

    class FakeIPython:
        @staticmethod
        def get_ipython():
            return ZMQInteractiveShell()

    monkeypatch.setitem(sys.modules, "IPython", FakeIPython)
    assert progress_module.interactive()


# -- what the messages tell a learner ------------------------------------------------------------------

def test_a_huge_but_finite_gradient_is_not_divergence():
    # |g| = 1e200 squares to inf; the norm must not, and the run must go on with finite numbers.
    r = tg.minimize(lambda x: 1e200 * x, np.float64(1.0), learning_rate=1e-210, steps=5)
    assert r.status == "max_steps" and r.grad == 1e200
    np.testing.assert_allclose(r.history["grad_norm"], 1e200, rtol=1e-15)
    np.testing.assert_allclose(r.x, 1.0 - 5 * 1e-10, rtol=1e-15)
    big = np.full(4, 1e200)  # the joint norm of several huge elements, scaled: 2e200
    r = tg.minimize(lambda v: tg.reduce_sum(tg.constant(big) * v), np.zeros(4), learning_rate=0.0, steps=1)
    np.testing.assert_allclose(r.history["grad_norm"], 2e200, rtol=1e-15)


def test_an_unbounded_loss_is_named_as_such_not_blamed_on_the_learning_rate():
    r = tg.minimize(lambda x: -(x**2), 1.0, learning_rate=0.1, steps=10**6)
    assert r.status == "diverged" and "unbounded below" in r.message and "learning_rate=" not in r.message
    assert r.history["loss"][-1] == -np.inf and np.all(np.diff(r.history["loss"][:-1]) < 0)
    # A learning rate that is too large still gets the learning-rate advice.
    r = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5)
    assert r.status == "diverged" and "unbounded" not in r.message and "learning_rate=0.15" in r.message


@pytest.mark.parametrize("name", ["sgd", "adam", "lbfgs", "linesearch"])
def test_starting_on_a_maximum_says_the_point_is_only_stationary(name):
    # x**4 - 3 x**2 has a maximum at 0 (minima at +-sqrt(1.5)); its gradient there is exactly zero.
    r = tg.minimize(lambda x: x**4 - 3 * x**2, np.float64(0.0), optimizer=name, steps=50)
    assert float(r.x) == 0.0 and "stationary point" in r.message and "maximum" in r.message
    # Started elsewhere, the same run does not carry the note.
    r = tg.minimize(lambda x: (x - 1.0) ** 2, np.float64(1.5), optimizer=name, steps=50)
    assert "stationary point" not in r.message


@pytest.mark.parametrize("f, x0, minimizer", [
    (lambda x: x**4 - 3 * x**2, np.float64(0.0), np.sqrt(1.5)),  # a maximum
    (lambda p: p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4, np.zeros(2), np.array([0.0, np.sqrt(2.0)])),  # a saddle
])
def test_newton_leaves_a_stationary_point_that_is_not_a_minimum(f, x0, minimizer):
    r = tg.minimize(f, x0, optimizer="newton", steps=50)
    assert r.status == "converged" and r.steps > 1 and "machine precision" in r.message
    np.testing.assert_allclose(np.abs(r.x), minimizer, rtol=1e-15, atol=1e-15)  # Newton: every digit
    loss = r.history["loss"]
    assert loss[1] < loss[0]  # the first step leaves the stationary point
    # and the loss never rises, but for its rounding at the last steps, which move x by ulps: its terms
    # are up to twice its size, so each evaluation is off by up to about 2 eps |loss|, and two by 4.
    assert np.all(np.diff(loss) <= 8 * np.finfo(np.float64).eps * np.abs(loss[:-1]))


def test_newton_at_a_minimum_says_the_hessian_confirms_it():
    r = tg.minimize(lambda p: p[0] ** 2 + p[1] ** 2, np.zeros(2), optimizer="newton")
    assert r.status == "converged" and r.steps == 0 and "positive definite: a minimum" in r.message


def test_an_empty_array_is_refused_clearly():
    with pytest.raises(ValueError, match=r"x0's 'w' is an empty array \(shape \(0,\)\)"):
        tg.minimize(lambda w: tg.reduce_sum(w), np.array([]))


def test_step_info_shows_its_step_loss_and_gradient_norm():
    seen = []
    tg.minimize(lambda w: w**2, np.float64(1.0), learning_rate=0.25, steps=1, callbacks=lambda s: seen.append(repr(s)))
    assert seen == ["StepInfo(step=0, loss=1, grad_norm=2)", "StepInfo(step=1, loss=0.25, grad_norm=1)"]


def test_an_error_message_says_whether_fn_failed_evaluating_the_point_or_later():
    def fn_fails_at_5(w, calls=[]):  # noqa: B006 - a counter that lives with the function
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("boom")
        return w**2

    with pytest.raises(RuntimeError) as caught:
        tg.minimize(fn_fails_at_5, np.float64(1.0), compile=False)
    assert "while evaluating fn at step 5" in caught.value.result.message
    assert "the parameters are those of step 4" in caught.value.result.message

    def cb(info):
        if info.step == 5:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError) as caught:
        tg.minimize(lambda w: w**2, np.float64(1.0), callbacks=cb)
    assert "at step 5, after its point was evaluated" in caught.value.result.message
    assert "the parameters are those of step 5" in caught.value.result.message
