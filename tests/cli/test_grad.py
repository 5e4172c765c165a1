"""`tapegrad grad`: values and derivatives against the math, output formats, exit codes."""
import contextlib
import io
import json
import math

import numpy as np
import pytest

from tapegrad.cli import main
from tests.optional import HealthCheck, given, settings, st


def grad_json(capsys, *argv):
    code = main(["grad", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_the_seeds_first_derivatives(capsys):
    code, r = grad_json(capsys, "x**2 + b", "--at", "x=100", "b=10")
    assert code == 0
    assert r["value"] == 100**2 + 10 and r["gradient"] == {"x": 2 * 100, "b": 1}
    code, r = grad_json(capsys, "x**2 + b**2", "--at", "x=20", "b=10", "--order", "2")
    assert r["gradient"] == {"x": 40, "b": 20} and r["hessian"] == [[2, 0], [0, 2]]


def hand_derivatives(x, y):
    """f = x**3 * y + sin(x) * y**2, differentiated by hand up to order 3."""
    s, c = math.sin(x), math.cos(x)
    value = x**3 * y + s * y**2
    grad = [3 * x**2 * y + c * y**2, x**3 + 2 * s * y]
    fxy = 3 * x**2 + 2 * c * y
    hess = [[6 * x * y - s * y**2, fxy], [fxy, 2 * s]]
    fxxx, fxxy, fxyy, fyyy = 6 * y - c * y**2, 6 * x - 2 * s * y, 2 * c, 0.0
    third = [[[fxxx, fxxy], [fxxy, fxyy]], [[fxxy, fxyy], [fxyy, fyyy]]]
    return value, grad, hess, third


@pytest.mark.parametrize("x, y", [(0.3, -1.7), (2.0, 0.5), (-1.1, 3.0)])
def test_order_3_matches_the_derivatives_by_hand(capsys, x, y):
    code, r = grad_json(capsys, "x**3 * y + sin(x) * y**2", "--at", f"x={x!r}", f"y={y!r}", "--order", "3")
    value, grad, hess, third = hand_derivatives(x, y)
    assert code == 0 and r["wrt"] == ["x", "y"]
    np.testing.assert_allclose(r["value"], value, rtol=1e-13)
    np.testing.assert_allclose([r["gradient"]["x"], r["gradient"]["y"]], grad, rtol=1e-13)
    np.testing.assert_allclose(r["hessian"], hess, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(r["third_derivatives"], third, rtol=1e-13, atol=1e-15)


EXPRESSIONS = ["(1-x)**2 + 100*(y-x**2)**2", "exp(-x*y) * cos(x + y)", "log1p(x**2) / sqrt(1 + y**2)",
               "sigmoid(x - y) * tanh(x * y) + softplus(y)", "x**y + atan(x / y)"]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_gradient_and_hessian_match_central_differences(capsys, text):
    at = {"x": 0.8, "y": 1.3}

    def value(p):
        return grad_json(capsys, text, "--at", *[f"{k}={v!r}" for k, v in p.items()])[1]

    r = grad_json(capsys, text, "--at", "x=0.8", "y=1.3", "--order", "2")[1]
    h = 1e-6
    for i, k in enumerate(at):
        up, down = dict(at), dict(at)
        up[k] += h
        down[k] -= h
        vu, vd = value(up), value(down)
        assert r["gradient"][k] == pytest.approx((vu["value"] - vd["value"]) / (2 * h), rel=1e-6, abs=1e-7)
        fd_row = [(vu["gradient"][j] - vd["gradient"][j]) / (2 * h) for j in at]
        np.testing.assert_allclose(r["hessian"][i], fd_row, rtol=1e-5, atol=1e-6)


def test_wrt_gives_the_sub_block_and_keeps_its_order(capsys):
    full = grad_json(capsys, "x**3 * y + sin(x) * y**2", "--at", "x=0.5", "y=2", "--order", "2")[1]
    part = grad_json(capsys, "x**3 * y + sin(x) * y**2", "--at", "x=0.5", "y=2", "--order", "2", "--wrt", "y")[1]
    assert part["wrt"] == ["y"] and part["gradient"] == {"y": full["gradient"]["y"]}
    assert part["hessian"] == [[full["hessian"][1][1]]]
    swapped = grad_json(capsys, "x**3 * y", "--at", "x=0.5", "y=2", "--order", "2", "--wrt", "y,x")[1]
    assert swapped["wrt"] == ["y", "x"] and swapped["hessian"][0][0] == 0.0  # d2/dy2 of x**3 y


def test_values_may_be_constant_expressions(capsys):
    r = grad_json(capsys, "sin(x)", "--at", "x=pi/6")[1]
    assert r["at"]["x"] == math.pi / 6 and r["gradient"]["x"] == pytest.approx(math.cos(math.pi / 6), rel=1e-15)


def test_readable_table(capsys):
    assert main(["grad", "x**2 + b**2", "--at", "x=20", "b=10", "--order", "3"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["f(x, b) = x**2 + b**2", "at x = 20, b = 10"]
    assert "value  500" in out and "df/dx  40" in out and "df/db  20" in out
    hessian = out[out.index("Hessian"):].splitlines()[1:4]
    assert [line.split() for line in hessian] == [["x", "b"], ["x", "2", "0"], ["b", "0", "2"]]
    assert "third derivatives" in out and "dx:" in out and "db:" in out


def test_not_finite_results_exit_1_and_say_so(capsys):
    assert main(["grad", "sqrt(x)", "--at", "x=0", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["gradient"] == {"x": None}  # inf has no JSON spelling
    assert "not finite" in captured.err and "gradient" in captured.err
    assert "RuntimeWarning" not in captured.err


@pytest.mark.parametrize("argv, words", [
    (["x**2"], "required: --at"),
    (["x**2", "--at", "x"], "NAME=VALUE"),
    (["x**2", "--at", "x=1", "x=2"], "gives x twice"),
    (["x**2", "--at", "x=foo"], "'foo' is not a number"),
    (["x**2", "--at", "x=1e999"], "too large"),
    (["x**2", "--at", "sin=1"], "name of a function"),
    (["x**2 + z", "--at", "x=1"], "unknown name 'z'"),
    (["x**2", "--at", "x=1", "y=2"], "y is given with --at but the expression does not use it"),
    (["x*y", "--at", "x=1", "y=2", "--wrt", "z"], "--wrt z: not one of the variables"),
    (["x*y", "--at", "x=1", "y=2", "--wrt", "x,x"], "distinct"),
    (["x**2", "--at", "x=1", "--order", "4"], "invalid choice"),
    (["+".join(f"x{i}**3" for i in range(60)), "--at", *[f"x{i}=1" for i in range(60)], "--order", "3"],
     "variables with --wrt or --order 2"),
    (["__import__('os').system('true')", "--at", "x=1"], "only the named functions can be called"),
    (["x.__class__", "--at", "x=1"], "attribute access"),
    (["-x**2", "--at", "x=1"], "leading space or in parentheses"),
])
def test_bad_usage_exits_2_with_a_clear_message(capsys, argv, words):
    assert main(["grad", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_an_expression_with_a_leading_space_may_start_with_minus(capsys):
    code, r = grad_json(capsys, " -x**2", "--at", "x=3")
    assert code == 0 and r["value"] == -9 and r["gradient"] == {"x": -6}


def test_refusal_shows_the_caret_under_the_offending_part(capsys):
    main(["grad", "x + y[0]", "--at", "x=1", "y=2"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[-2].strip() == "x + y[0]"
    assert lines[-1].strip() == "^^^^" and lines[-2].index("y") == lines[-1].index("^")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=40), value=st.text(max_size=12))
def test_any_text_gives_an_exit_status_never_an_exception(text, value):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["grad", text, "--at", f"x={value}"])
    assert code in (0, 1, 2)
    assert (code == 2) == ("error" in err.getvalue())


# -- the work is bounded before the run ----------------------------------------------------------------
def _long_expression(names, chars, term):
    """Terms over ``names`` joined by " + ", as many as fit in ``chars`` characters and the node limit."""
    from tapegrad.cli.expr import MAX_NODES, parse

    terms, k, nodes = [], 0, 0
    while True:
        t = term(k)
        nodes += parse(t).size + 1
        if len(" + ".join(terms + [t])) > chars or nodes > MAX_NODES:
            assert k >= len(names), "every variable is used"
            return " + ".join(terms)
        terms.append(t)
        k += 1


def test_fifty_variables_at_order_3_are_refused_at_once_with_what_would_fit(capsys, monkeypatch):
    import tapegrad.cli.grad as command
    from tapegrad.cli.expr import MAX_CHARS

    monkeypatch.setattr(command, "derivatives", lambda *a: pytest.fail("the run started; it takes minutes"))
    n = 50
    text = _long_expression(range(n), MAX_CHARS - 20, lambda k: f"sin(x{k % n}*x{(7 * k + 3) % n})")
    assert main(["grad", text, "--at", *[f"x{i}=0.5" for i in range(n)], "--order", "3"]) == 2
    err = capsys.readouterr().err
    assert "--order 3 with 50 variables" in err and f"the limit is {command.MAX_WORK:,}" in err
    fits = int(err.split("Use at most ")[1].split()[0])
    assert 1 <= fits < n and "with --wrt or --order 2" in err
    # and what it suggests does run
    monkeypatch.undo()
    wrt = ",".join(f"x{i}" for i in range(fits))
    assert main(["grad", text, "--at", *[f"x{i}=0.5" for i in range(n)], "--order", "3", "--wrt", wrt,
                 "--json"]) == 0


@pytest.mark.parametrize("n, order, chars", [(10, 2, 1990), (3, 3, 1990), (40, 2, 500), (1, 3, 1990)])
def test_classroom_cases_stay_well_inside_the_limit_and_are_right(capsys, n, order, chars):
    """Sums of c * xi * xj (* xk): each derivative is a sum of integer coefficients, exact in float64."""
    import itertools

    import tapegrad.cli.grad as command
    from tapegrad.cli.expr import parse

    rng = np.random.default_rng(n * 10 + order)
    combos = list(itertools.product(range(n), repeat=order))
    picks = []

    def term(k):
        idx = combos[k % len(combos)] if k < len(combos) else combos[rng.integers(len(combos))]
        c = int(rng.integers(1, 9))
        picks.append((c, idx))
        return f"{c}*" + "*".join(f"x{i}" for i in idx)

    text = _long_expression(range(n), chars, term)
    picks = picks[: text.count(" + ") + 1]
    size = parse(text).size
    assert command.work(n, order, size) <= command.MAX_WORK / 4
    code, r = grad_json(capsys, text, "--at", *[f"x{i}=1" for i in range(n)], "--order", str(order))
    assert code == 0
    top = np.zeros((n,) * order)
    for c, idx in picks:  # the order-th derivative of c * prod(x[idx]) is c times the count of each permutation
        for perm in itertools.permutations(idx):
            top[perm] += c
    key = "hessian" if order == 2 else "third_derivatives"
    np.testing.assert_allclose(r[key], top, rtol=1e-12)
