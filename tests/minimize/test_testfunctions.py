"""tg.testfunctions: each known minimum has value f* and zero gradient (through the tape), grids equal points,
and the learning rates each function recommends do not diverge from its starts."""
import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.optimizers.names import OPTIMIZERS

T = tg.testfunctions
FUNCTIONS = [T.get(n) for n in T.NAMES] + [T.rosenbrock(5), T.rastrigin(3), T.ackley(4), T.styblinski_tang(3),
                                           T.ill_conditioned(cond=1e4, n=5)]
IDS = [f"{f.name}-{f.dim}d" for f in FUNCTIONS]


def value_and_grad(f, point):
    x = tg.Variable(np.asarray(point, dtype=np.float64))
    with tg.GradientTape() as tape, np.errstate(divide="ignore", invalid="ignore"):
        y = f(x)
        g = tape.gradient(y, x)
    return float(y), g.numpy()


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_known_minima_have_value_f_min_and_no_gradient(f):
    for m in f.minima:
        value, grad = value_and_grad(f, m)
        assert value == pytest.approx(f.f_min, rel=1e-12, abs=1e-12)
        if f.kink:  # Ackley's cone: no gradient at the tip (the tape gives NaN), but every direction goes up
            assert np.isnan(grad).all()
            for d in np.random.default_rng(0).normal(size=(8, f.dim)):
                assert float(f(m + 1e-6 * d / np.linalg.norm(d))) > f.f_min
        else:
            # The minima are stored to float64's last digits: what is left of the gradient is rounding.
            assert np.abs(grad).max() <= 1e-9, (f.name, grad)


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_starts_and_minima_lie_in_the_domain_and_the_window_shows_them(f):
    low, high = np.array(f.domain).T
    assert len(f.domain) == f.dim
    for p in [*f.starts, *f.minima]:
        assert p.shape == (f.dim,) and (low <= p).all() and (p <= high).all()
    (x0, x1), (y0, y1) = f.window
    s = f.start
    assert x0 < s[0] < x1 and y0 < s[1 % f.dim] < y1
    for m in f.minima[:1]:
        assert x0 <= m[0] <= x1 and y0 <= m[1 % f.dim] <= y1
    assert f.start is not f.start  # a fresh copy: a caller cannot move the function's start


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_a_grid_of_points_at_once_equals_each_point(f):
    rng = np.random.default_rng(1)
    low, high = np.array(f.domain).T
    points = rng.uniform(low, high, size=(3, 4, f.dim))
    together = f(np.moveaxis(points, -1, 0)).numpy()
    one_by_one = np.array([[float(f(p)) for p in row] for row in points])
    np.testing.assert_allclose(together, one_by_one, rtol=1e-12, atol=1e-12)


def test_the_saddle_is_stationary_but_no_minimum():
    f = T.saddle()
    value, grad = value_and_grad(f, [0.0, 0.0])
    h = tg.hessian(lambda x: f(x))(np.zeros(2)).numpy()
    eig = np.linalg.eigvalsh(h)
    assert value == 0 and not grad.any() and eig.min() < 0 < eig.max()
    assert f.minima == [] and f.f_min == -math.inf


@pytest.mark.parametrize("cond, n", [(1.0, 2), (100.0, 2), (1e4, 5)])
def test_the_ill_conditioned_bowl_has_the_condition_number_asked_for(cond, n):
    f = T.ill_conditioned(cond=cond, n=n)
    eig = np.linalg.eigvalsh(tg.hessian(lambda x: f(x))(np.ones(n)).numpy())
    assert eig.max() / eig.min() == pytest.approx(cond, rel=1e-9)
    assert eig.max() == pytest.approx(cond, rel=1e-9)  # so that the sgd rate 1 / cond stays below 2 / cond


@pytest.mark.parametrize("name", [n for n in T.NAMES if n != "saddle"])
def test_the_recommended_rates_do_not_diverge(name):
    # The saddle is unbounded below: running off to -inf is the right answer there.
    f = T.get(name)
    for optimizer in ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad", "lbfgs"):
        lr = f.learning_rates.get(optimizer, OPTIMIZERS[optimizer][1])
        for start in f.starts:
            r = tg.minimize(f, start, optimizer, learning_rate=lr, steps=300, progress=False)
            assert r.status != "diverged", (optimizer, start, r.message)


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match=r"rosenbrock takes a point of 2 coordinates.*got shape \(3,\)"):
        T.rosenbrock()([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="no test function 'rosenbrok'; the test functions are rosenbrock"):
        T.get("rosenbrok")
    with pytest.raises(TypeError, match="beale takes no settings; got n"):
        T.get("beale", n=3)
    with pytest.raises(ValueError, match="whole number >= 2"):
        T.rosenbrock(1)
    with pytest.raises(ValueError, match="condition number, must be a number >= 1"):
        T.ill_conditioned(cond=0.5)
    assert T.get("Goldstein-Price").name == "goldstein_price"
