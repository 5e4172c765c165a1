"""tg.debugging: the first op or gradient rule that makes an inf or a NaN is named, with the user's own line."""
from __future__ import annotations

import os
import runpy
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.state import STATE
from tapegrad.debugging import NumericsError

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (these tests make inf and NaN on purpose)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def _user_file(tmp_path, code: str) -> tuple[str, dict]:
    """Write ``code`` to a file; return its path and, for each line marked ``# <- name``, its number."""
    code = textwrap.dedent(code)
    path = str(tmp_path / "user_code.py")
    with open(path, "w") as f:
        f.write(code)
    marks = {line.split("# <- ")[1].strip(): n for n, line in enumerate(code.splitlines(), 1) if "# <- " in line}
    return path, marks


def _raises_from(tmp_path, code: str) -> tuple[NumericsError, str, dict]:
    path, marks = _user_file(tmp_path, code)
    with pytest.raises(NumericsError) as info:
        runpy.run_path(path, run_name="user_code")
    return info.value, path, marks


@pytest.fixture(autouse=True)
def _checking_off_after():
    yield
    tg.debugging.disable_check_numerics()
    assert STATE.numerics is None and not STATE.hooks


# ---- forward ------------------------------------------------------------------------------------------
def test_log_of_zero_names_the_op_the_users_line_the_element_and_the_fix(tmp_path):
    e, path, marks = _raises_from(tmp_path, """
        import tapegrad as tg
        tg.debugging.enable_check_numerics()
        x = tg.constant([1.0, 0.0, 2.0])
        y = tg.math.log(x)  # <- log
    """)
    assert (e.op, e.direction, e.cause) == ("log", "forward", "log_of_zero")
    assert (e.filename, e.lineno) == (path, marks["log"])
    text = str(e)
    assert "log produced -inf in 1 of 3 elements: [1] -inf" in text
    assert f"{path}, line {marks['log']}" in text and "y = tg.math.log(x)" in text
    assert "x (float32, shape (3,)) there: 0" in text
    assert "tg.math.log(x + eps)" in text and "tg.where(x > 0, tg.math.log(tg.where(x > 0, x, 1.0)), 0)" in text
    assert isinstance(e, tg.InvalidArgumentError)


@pytest.mark.parametrize("f, op, cause, words", [
    (lambda x: tg.sqrt(x - 3.0), "sqrt", "sqrt_of_negative", "negative"),
    (lambda x: (x - x) / (x - x), "divide", "zero_division", "0/0"),
    (lambda x: 1.0 / (x - 1.0), "divide", "zero_division", "divide_no_nan"),
    (lambda x: tg.exp(x * 100.0), "exp", "overflow", "logsumexp"),
    (lambda x: tg.math.log(x - 2.0), "log", "log_of_negative", "NaN"),
    (lambda x: tg.acos(x * 2.0), "acos", "out_of_domain", "clip_by_value"),
    (lambda x: (x - 2.0) ** 0.5, "pow", "pow_of_negative", "fractional"),
    (lambda x: (x * 3e38) * 10.0, "multiply", "overflow", "float64"),
], ids=["sqrt", "0/0", "1/0", "exp", "log", "acos", "pow", "overflow"])
def test_each_likely_cause(f, op, cause, words):
    x = tg.constant([1.0, 1.0])
    with tg.debugging.checking_numerics(), pytest.raises(NumericsError) as info:
        f(x)
    assert (info.value.op, info.value.cause) == (op, cause)
    assert words in str(info.value)


def test_a_nan_that_came_in_is_not_the_ops_fault(tmp_path):
    e, path, marks = _raises_from(tmp_path, """
        import numpy as np
        import tapegrad as tg
        data = tg.constant([1.0, np.nan])
        with tg.debugging.checking_numerics():
            y = data * 2.0  # <- mul
    """)
    assert (e.op, e.cause, e.lineno) == ("multiply", "came_in", marks["mul"])
    assert "data already held it, so multiply is not its cause" in str(e)


def test_a_variable_holding_nan_is_named_when_read():
    w = tg.Variable([1.0, np.nan], name="w")
    with tg.debugging.checking_numerics(), pytest.raises(NumericsError) as info:
        with tg.GradientTape():
            _ = w * 2.0
    assert info.value.cause == "came_in" and "w already held it" in str(info.value)


def test_checking_inside_tg_function_runs_it_eagerly_and_raises():
    @tg.function
    def f(x):
        return tg.math.log(x)

    f(tg.constant([1.0, 2.0]))  # traced and compiled
    with tg.debugging.checking_numerics(), pytest.raises(NumericsError, match="log produced -inf"):
        f(tg.constant([1.0, 0.0]))


def test_finite_results_pass_and_values_are_unchanged():
    x = tg.Variable([1.0, 4.0])
    with tg.debugging.checking_numerics():
        with tg.GradientTape() as tape:
            y = tg.reduce_sum(tg.sqrt(x) * tg.math.log(x + 1.0))
        g = tape.gradient(y, x)
    with tg.GradientTape() as tape:
        y2 = tg.reduce_sum(tg.sqrt(x) * tg.math.log(x + 1.0))
    assert y.numpy() == y2.numpy()
    np.testing.assert_array_equal(g.numpy(), tape.gradient(y2, x).numpy())


def test_enable_disable_and_the_with_block_nest():
    x = tg.constant(0.0)
    tg.debugging.enable_check_numerics()
    tg.debugging.enable_check_numerics()  # twice: still one checker
    assert len(STATE.hooks) == 1
    with tg.debugging.checking_numerics():
        pass
    with pytest.raises(NumericsError):  # the outer checking is back after the block
        tg.math.log(x)
    tg.debugging.disable_check_numerics()
    with np.errstate(divide="ignore"):
        assert tg.math.log(x).numpy() == -np.inf
    assert not STATE.hooks  # off: ops pay nothing


# ---- backward -----------------------------------------------------------------------------------------
def test_the_masked_branch_of_where_gets_its_own_hint(tmp_path):
    e, path, marks = _raises_from(tmp_path, """
        import tapegrad as tg
        w = tg.Variable([0.0, 4.0])
        with tg.debugging.checking_numerics():
            with tg.GradientTape() as tape:
                y = tg.reduce_sum(tg.where(w > 0.0, w ** 0.5, 0.0))  # <- where
            g = tape.gradient(y, w)  # <- gradient
    """)
    assert (e.op, e.direction, e.cause) == ("pow", "backward", "masked_branch")
    assert (e.filename, e.lineno) == (path, marks["where"])  # the line that recorded pow, not gradient()'s
    text = str(e)
    assert "the branch `where` did not select" in text and "0 * inf = NaN" in text
    assert "tg.where(x > 0, tg.where(x > 0, x, 1.0) ** p, 0.0) instead of tg.where(x > 0, x ** p, 0.0)" in text
    assert "cotangent arriving at pow's output there: 0" in text


def test_classic_where_log_checked_in_gradient_only():
    x = tg.Variable([0.0, 2.0])
    with tg.GradientTape() as tape:
        with np.errstate(divide="ignore"):
            y = tg.reduce_sum(tg.where(x > 0, tg.math.log(x), 0.0))
    with tg.debugging.checking_numerics(), pytest.raises(NumericsError) as info:
        with np.errstate(invalid="ignore"):
            tape.gradient(y, x)
    e = info.value
    assert (e.op, e.cause, e.lineno) == ("log", "masked_branch", None)  # recorded while checking was off
    assert "checking was off when it ran" in str(e)
    assert "tg.where(x > 0, tg.math.log(tg.where(x > 0, x, 1.0)), 0.0)" in str(e)


def test_the_safe_input_idiom_passes_the_check():
    x = tg.Variable([0.0, 2.0])
    with tg.debugging.checking_numerics():
        with tg.GradientTape() as tape:
            y = tg.reduce_sum(tg.where(x > 0, tg.math.log(tg.where(x > 0, x, 1.0)), 0.0))
        g = tape.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), [0.0, 0.5])


def test_an_infinite_derivative(tmp_path):
    e, path, marks = _raises_from(tmp_path, """
        import tapegrad as tg
        tg.debugging.enable_check_numerics()
        x = tg.Variable([0.0, 1.0])
        with tg.GradientTape() as tape:
            y = tg.reduce_sum(tg.sqrt(x))  # <- sqrt
        tape.gradient(y, x)
    """)
    assert (e.op, e.cause, e.lineno) == ("sqrt", "infinite_derivative", marks["sqrt"])
    assert "1/(2 sqrt(x)) is infinite at 0" in str(e)


def test_a_nan_cotangent_that_came_in_through_output_gradients():
    x = tg.Variable([1.0, 2.0])
    with tg.debugging.checking_numerics():
        with tg.GradientTape() as tape:
            y = x * 3.0
        with pytest.raises(NumericsError) as info:
            tape.gradient(y, x, output_gradients=tg.constant([np.nan, 1.0]))
    assert info.value.cause == "came_in" and "output_gradients" in str(info.value)


# ---- check_numerics -----------------------------------------------------------------------------------
def test_check_numerics_as_tensorflow_has_it():
    t = tg.constant([1.0, 2.0])
    assert tg.debugging.check_numerics(t, "ok").numpy().tolist() == [1.0, 2.0]
    for values, kinds in (([0.0, np.inf], "Inf"), ([np.nan, 1.0], "NaN"), ([np.nan, -np.inf], "Inf and NaN")):
        with pytest.raises(tg.InvalidArgumentError, match=f"my msg : Tensor had {kinds} values"):
            tg.debugging.check_numerics(tg.constant(values), "my msg")
    with pytest.raises(tg.InvalidArgumentError, match="floating-point"):
        tg.debugging.check_numerics(tg.constant([1, 2]), "int")


def test_check_numerics_checks_the_gradient_too():
    v = tg.Variable([2.0, 3.0])
    with tg.GradientTape() as tape:
        r = tg.debugging.check_numerics(v * 1.0, "fwd")
        s = tg.reduce_sum(tg.sqrt(r - 2.0))
    with pytest.raises(tg.InvalidArgumentError, match=r"Not a number \(NaN\) or infinity \(Inf\) values detected in "
                                                      r"gradient. fwd : Tensor had Inf values"):
        tape.gradient(s, v)


def test_check_numerics_names_the_users_line(tmp_path):
    e, path, marks = _raises_from(tmp_path, """
        import tapegrad as tg
        z = tg.debugging.check_numerics(tg.constant([0.0]) / 0.0, "after divide")  # <- check
    """)
    assert (e.filename, e.lineno) == (path, marks["check"])


# ---- NumPy's own warnings -----------------------------------------------------------------------------
def _run(tmp_path, code: str, *options: str) -> tuple[subprocess.CompletedProcess, str, dict]:
    path, marks = _user_file(tmp_path, code)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    done = subprocess.run([sys.executable, *options, path], capture_output=True, text=True, env=env, timeout=120)
    return done, path, marks


def test_numpy_runtime_warnings_point_at_the_users_line(tmp_path):
    done, path, marks = _run(tmp_path, """
        import tapegrad as tg
        x = tg.constant([0.0, 1.0])
        for _ in range(3):
            y = tg.math.log(x)  # <- log
        z = 1.0 / x  # <- div
        w = tg.sqrt(x - 2.0) + tg.math.log(x)  # <- two
    """)
    err = done.stderr
    assert done.returncode == 0, err
    assert err.count(f"{path}:{marks['log']}: RuntimeWarning: divide by zero encountered in log") == 1  # once
    assert f"{path}:{marks['div']}: RuntimeWarning: divide by zero encountered in divide" in err
    assert f"{path}:{marks['two']}: RuntimeWarning: invalid value encountered in sqrt" in err
    assert f"{path}:{marks['two']}: RuntimeWarning: divide by zero encountered in log" in err
    assert "tapegrad" not in err


def test_the_users_warning_filters_apply_at_their_line(tmp_path):
    code = """
        import numpy as np
        import tapegrad as tg
        x = tg.constant([0.0, 1.0])
        with np.errstate(divide="ignore"):
            tg.math.log(x)  # NumPy's own switch still silences it
        try:
            tg.math.log(x)  # <- log
        except RuntimeWarning as e:
            print("raised:", e, e.__traceback__.tb_lineno)
    """
    done, path, marks = _run(tmp_path, code, "-W", "error::RuntimeWarning")
    assert done.returncode == 0, done.stderr
    assert f"raised: divide by zero encountered in log {marks['log']}" in done.stdout
    done, path, marks = _run(tmp_path, code, "-W", "ignore::RuntimeWarning")
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""


def test_explain_none_gradients_warns_once_per_tape_at_the_gradient_call(tmp_path):
    done, path, marks = _run(tmp_path, """
        import tapegrad as tg
        x = tg.Variable(2.0)
        c = tg.constant(3.0)
        with tg.GradientTape(persistent=True) as tape:
            y = x * c
        tape.gradient(y, c)  # quiet: off by default
        tg.debugging.explain_none_gradients(True)
        tape.gradient(y, c)  # <- first
        tape.gradient(y, c)  # the same tape: said once
        with tg.GradientTape() as tape2:
            y = tg.round(x)
        tape2.gradient(y, x)  # <- second
    """)
    err = done.stderr
    assert done.returncode == 0, err
    assert err.count("UserWarning: gradient() returned None") == 2
    assert f"{path}:{marks['first']}: UserWarning: gradient() returned None:\n  c: None, because c is a constant" in err
    assert f"{path}:{marks['second']}: UserWarning" in err and "goes through round" in err
