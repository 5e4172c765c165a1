"""The result as scipy's OptimizeResult answers, the stopping rules' numbers in their messages, and their checks."""
import importlib.util
import json
import pickle

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.descent import Reason, Status


def test_the_result_answers_as_scipys_optimize_result():
    r = tg.minimize(lambda p: (p[0] - 1) ** 2 + 2 * p[1] ** 2, np.array([3.0, 1.0]), learning_rate=0.1, steps=500,
                    gtol=1e-8)
    for key in ("x", "fun", "jac", "nit", "nfev", "njev", "status", "message", "success"):
        assert key in r.keys() and key in r
        assert r[key] is getattr(r, key) or r[key] == getattr(r, key)
    np.testing.assert_allclose(r.x, [1.0, 0.0], atol=1e-8)
    assert r.jac is r.grad and r.nit == r.steps and r.njev == r.nfev == r.steps + 1
    assert r.status == 0 and int(r.status) == 0 and r.status == "converged" and r.success
    with pytest.raises(KeyError, match="answers to"):
        r["hess_inv"]


@pytest.mark.parametrize("kwargs, word, code", [
    (dict(steps=3), "max_steps", 1), (dict(gtol=1e-3, learning_rate=0.25), "converged", 0),
    (dict(learning_rate=1.5), "diverged", 2), (dict(callbacks=lambda s: True), "interrupted", 3)])
def test_status_is_the_word_and_scipys_integer_code(kwargs, word, code):
    r = tg.minimize(lambda w: w ** 2, 1.0, **{"steps": 1000, **kwargs})
    assert r.status == word and r.status == code and int(r.status) == code and f"{r.status}" == word
    assert (r.status == 0) == (code == 0) and r.status != code + 1 and r.status != 1.0 * code + 0.5
    assert json.loads(json.dumps({"s": r.status})) == {"s": word}
    assert pickle.loads(pickle.dumps(r.status)).code == code
    assert r.success == (word in ("converged", "max_steps"))
    with pytest.raises(ValueError, match="a status is one of"):
        Status("done")


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy not installed")
def test_the_same_questions_as_a_scipy_result():
    from scipy.optimize import minimize as scipy_minimize

    f = lambda p: (p[0] - 1) ** 2 + 2 * p[1] ** 2  # noqa: E731
    ours = tg.minimize(f, np.array([3.0, 1.0]), optimizer="lbfgs", steps=100, gtol=1e-10)
    theirs = scipy_minimize(lambda p: f(p), np.array([3.0, 1.0]), jac=lambda p: np.array([2 * (p[0] - 1), 4 * p[1]]))
    for key in ("x", "fun", "jac", "nit", "nfev", "njev", "status", "message", "success"):
        assert type(ours[key] == theirs[key]) is not type(NotImplemented)
    np.testing.assert_allclose(ours["x"], theirs["x"], atol=1e-6)
    assert ours.status == theirs.status == 0 and ours.success == theirs.success


@pytest.mark.parametrize("kwargs, reason, numbers", [
    (dict(learning_rate=0.1, target=1e-3), "target", ["target=0.001"]),
    (dict(learning_rate=0.1, xtol=1e-4), "xtol", ["xtol=0.0001"]),
    (dict(learning_rate=1.0, patience=7), "patience", ["patience=7", "best, 1 at step 0"]),
    (dict(learning_rate=1.5, runaway=1e6), "runaway", ["runaway=1e+06", "from 1 at x0", "learning_rate=0.15"]),
    (dict(learning_rate=1e-12, stagnation=5), "stagnation", ["stagnation=5", "gradient norm is 2"]),
    (dict(learning_rate=0.25, ftol=1e-9), "ftol", ["ftol=1e-09"]),
])
def test_each_rule_says_which_it_was_with_its_numbers(kwargs, reason, numbers):
    r = tg.minimize(lambda w: w ** 2, 1.0, steps=100_000, **kwargs)
    assert r.reason is Reason(reason), r.message
    for n in numbers:
        assert n in r.message, (n, r.message)
    loss = r.history["loss"]
    if reason == "target":
        assert loss[-1] <= 1e-3 < loss[-2]
    if reason == "xtol":
        assert abs(r.history["w"][-1] - r.history["w"][-2]) <= 1e-4 < abs(r.history["w"][-2] - r.history["w"][-3])
    if reason == "patience":
        assert r.steps == 7 and (loss[1:] >= loss[0]).all()
    if reason == "runaway":
        assert np.isfinite(loss).all() and loss[-1] > 1e6 >= loss[-2] - loss[0] and r.status == "diverged"
    if reason == "stagnation":
        assert r.steps == 5 and (r.history["w"] == 1.0).all()


def test_max_time_stops_a_run_that_would_take_too_long():
    r = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=1e-6, steps=10 ** 9, max_time=0.1)
    assert r.reason == "max_time" and r.status == "max_steps" and r.success
    # The row's time is read as it is written, just before the rule reads the clock again.
    assert r.history["elapsed"][-1] <= r.stop.facts["elapsed"] and 0.1 <= r.stop.facts["elapsed"] < 5
    assert r.history["elapsed"][-2] < 0.1 and "max_time=0.1" in r.message


def test_the_rules_off_by_default_leave_the_seeds_run_as_it_was():
    r = tg.minimize(lambda w: w ** 2, tg.Variable(20.0), optimizer=tg.optimizers.SGD(0.01), steps=10_000)
    assert r.reason == "steps" and len(r.history) == 10_001


@pytest.mark.parametrize("kwargs, match", [
    (dict(patience=0), "patience must be a whole number of steps >= 1"),
    (dict(stagnation=2.5), "stagnation must be a whole number"),
    (dict(runaway=1.0), "runaway must be a number > 1"),
    (dict(max_time=0), "max_time must be a number > 0"),
    (dict(xtol=-1), "xtol must be a number >= 0"),
    (dict(target="low"), "target must be a number"),
    (dict(tol=1e-3, ftol=1e-3), "tol and ftol are the same rule"),
])
def test_bad_rule_settings_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tg.minimize(lambda w: w ** 2, 1.0, steps=3, **kwargs)


def test_the_command_line_takes_the_rules(capsys):
    from tapegrad.cli import main

    code = main(["minimize", "x**2 + y**2", "--init", "x=1", "y=2", "--lr", "0.1", "--target", "1e-4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and (out["reason"], out["status"]) == ("target", "converged")
    assert "target=0.0001" in out["message"]
    code = main(["minimize", "x**2", "--init", "x=1", "--lr", "1.5", "--runaway", "1e9", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1 and "runaway=1e+09" in out and "--lr 0.15" in out and "last finite point" not in out
    assert main(["minimize", "x**2", "--init", "x=1", "--patience", "0"]) == 2
    assert "--patience: 0 must be a whole number >= 1" in capsys.readouterr().err
