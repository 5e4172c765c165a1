"""Line-search gradient descent, L-BFGS and Newton: the properties that define them."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.optimizers import second_order

O = tg.optimizers


def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q @ np.diag(np.geomspace(1.0, 50.0, n)) @ q.T, rng.normal(size=n)


def _quadratic(a, b):
    at, bt = tg.constant(a), tg.constant(b)
    return lambda x: 0.5 * tg.reduce_sum(x * tg.linalg.matvec(at, x)) - tg.reduce_sum(bt * x)


def test_hessian_from_nested_tapes_matches_rosenbrocks():
    x = tg.Variable(np.array([-1.2, 1.0]))
    p = O.Problem(lambda: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [x])
    u, v = -1.2, 1.0
    exact = np.array([[2 - 400 * (v - u * u) + 800 * u * u, -400 * u], [-400 * u, 200.0]])
    np.testing.assert_allclose(p.hessian(), exact, rtol=1e-14)


def test_hessian_spans_several_variables_in_order():
    a, b = tg.Variable(np.float64(1.0)), tg.Variable(np.array([2.0, 3.0]))
    p = O.Problem(lambda: a**2 * b[0] + a * b[1] ** 2, [a, b])
    # f = a^2 b0 + a b1^2 at (1, 2, 3)
    exact = np.array([[2 * 2.0, 2 * 1.0, 2 * 3.0], [2 * 1.0, 0.0, 0.0], [2 * 3.0, 0.0, 2 * 1.0]])
    np.testing.assert_allclose(p.hessian(), exact, rtol=1e-14)


# How many steps Newton may take on a quadratic, whatever the rounding: the first solves it up to
# rounding; the next is at rounding noise (within the noise estimate, see the next test) and is the
# last; one more is allowed for noise beyond the estimate, which the no-longer-shrinks rule then ends.
# Which of these a run stops at is for rounding to decide (OpenBLAS's kernels differ), not the test.
QUADRATIC_STEPS = 3


def test_newton_solves_a_quadratic_in_one_step():
    a, b = _spd(5)
    r = tg.minimize(_quadratic(a, b), np.zeros(5), optimizer="newton", steps=10)
    np.testing.assert_allclose(r.history.param("x")[1], np.linalg.solve(a, b), rtol=1e-10)
    assert r.history["lr"][0] == 1.0  # the full Newton step was accepted
    assert r.status == "converged" and r.steps <= QUADRATIC_STEPS, r.message


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(4))
def test_newtons_noise_estimate_bounds_the_step_at_the_minimum(seed, dtype):
    # One step from 0 lands on the minimum up to rounding; the next Newton step is then rounding noise
    # alone, which the estimate bounds to first order in the worst case (measured: below 0.25 of it).
    a, b = _spd(5 + 3 * seed, seed)
    at, bt = tg.constant(a.astype(dtype)), tg.constant(b.astype(dtype))
    x = tg.Variable(np.zeros(len(b), dtype))
    problem = O.Problem(lambda: 0.5 * tg.reduce_sum(x * tg.linalg.matvec(at, x)) - tg.reduce_sum(bt * x), [x])

    def newton_step():
        h = problem.hessian()
        return h, -np.linalg.solve(h, problem.flatten(problem.value_and_grad()[1]))

    problem.set_flat(problem.get_flat() + newton_step()[1])
    h, d = newton_step()
    noise = second_order._step_noise(h, problem.get_flat(), float(np.finfo(dtype).eps))
    assert np.all(np.abs(d) <= noise), np.max(np.abs(d) / noise)


def test_a_polishing_step_within_rounding_noise_is_taken_and_is_the_last():
    w = tg.Variable(np.float64(3.0))
    problem, h, eps = O.Problem(lambda: (w - 1.0) ** 2, [w]), np.array([[2.0]]), float(np.finfo(np.float64).eps)
    noise = second_order._step_noise(h, problem.get_flat(), eps)
    opt = O.Newton()
    opt._polish(problem, np.array([1e-6]), h, eps)  # above the noise: taken, and more may follow
    opt._polish(problem, np.array([1e-9]), h, eps)
    before = problem.get_flat()
    opt._polish(problem, -noise / 2, h, eps)  # within it: taken (it may be the last real correction) ...
    assert problem.get_flat() < before and int(opt.iterations) == 3
    with pytest.raises(O.NoDescent, match="rounding noise"):  # ... and nothing after it
        opt._polish(problem, -noise / 4, h, eps)


def test_newton_stops_at_rounding_noise_in_either_precision():
    # After the exact step the gradient is rounding noise; Newton must stop, in either precision, not go
    # on stepping on noise (which rounding can make look like descent).
    a, b = _spd(5)
    x_min = np.linalg.solve(a, b)
    for dtype in (np.float64, np.float32):
        at, bt = tg.constant(a.astype(dtype)), tg.constant(b.astype(dtype))
        f = lambda x, at=at, bt=bt: 0.5 * tg.reduce_sum(x * tg.linalg.matvec(at, x)) - tg.reduce_sum(bt * x)
        r = tg.minimize(f, np.zeros(5, dtype), optimizer="newton", steps=10)
        assert r.status == "converged" and r.steps <= QUADRATIC_STEPS, r.message
        assert "machine precision" in r.message, r.message
        # a and b rounded to dtype move the minimum by up to cond(a) eps |x| (cond(a) = 50); rounding the
        # solve and x adds as much again: 10 cond(a) eps |x| leaves a margin for any correct arithmetic.
        assert np.max(np.abs(r.x - x_min)) <= 10 * 50 * np.finfo(dtype).eps * np.max(np.abs(x_min))


def test_newton_gains_every_digit_of_x_after_the_loss_stops_telling():
    # f = cosh(x - c) is 1 + (x - c)**2 / 2 + ... near c: the loss is 1 to the last bit once x is within
    # 1e-8 of c, but Newton's steps still shrink quadratically there, and it takes them.
    c = np.pi
    r = tg.minimize(lambda x: tg.cosh(x - c), np.float64(c + 0.5), optimizer="newton", steps=20)
    assert r.status == "converged"
    assert abs(float(r.x) - c) <= np.spacing(c)


def test_newton_goes_downhill_where_the_hessian_is_indefinite():
    # f = x^2 - y^2 + y^4 / 4 has a saddle at 0 and minima at y = +-sqrt(2); at y = 0.1 the Hessian is indefinite.
    f = lambda p: p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4
    r = tg.minimize(f, np.array([1.0, 0.1]), optimizer="newton", steps=100, gtol=1e-10)
    loss = r.history["loss"]
    assert np.all(np.diff(loss) < 0)
    assert r.status == "converged"
    np.testing.assert_allclose(np.abs(r.x), [0.0, np.sqrt(2.0)], atol=1e-9)


def test_every_accepted_line_search_step_satisfies_armijo():
    c1 = 1e-4
    rosen = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    h = tg.minimize(rosen, np.array([-1.2, 1.0]), optimizer=O.LineSearchGD(c1=c1), steps=200).history
    loss, t, g = h["loss"], h["lr"], h["grad_norm"]
    assert np.all(loss[1:] <= loss[:-1] - c1 * t[:-1] * g[:-1] ** 2)
    assert np.all(np.log2(t[:-1]) == np.round(np.log2(t[:-1])))  # steps are 1 halved k times


def test_lbfgs_direction_is_the_bfgs_inverse_hessian_times_the_gradient():
    # The two-loop recursion must equal H g, H built by BFGS updates of gamma * I over the stored pairs.
    opt = O.LBFGS(memory=4)
    rng = np.random.default_rng(2)
    for _ in range(4):
        s = rng.normal(size=5)
        y = s + 0.3 * rng.normal(size=5)
        opt._pairs.append((s, y, 1.0 / (s @ y)))
    s_last, y_last, _ = opt._pairs[-1]
    h = (s_last @ y_last) / (y_last @ y_last) * np.eye(5)
    for s, y, rho in opt._pairs:
        v = np.eye(5) - rho * np.outer(y, s)
        h = v.T @ h @ v + rho * np.outer(s, s)
    g = rng.normal(size=5)
    np.testing.assert_allclose(opt._two_loop(g), h @ g, rtol=1e-12)


def test_lbfgs_solves_a_quadratic():
    a, b = _spd(6, seed=1)
    x_min = np.linalg.solve(a, b)
    at, xt = tg.constant(a), tg.constant(x_min)
    f = lambda x: 0.5 * tg.reduce_sum((x - xt) * tg.linalg.matvec(at, x - xt))  # minimum value 0: no cancellation
    r = tg.minimize(f, np.zeros(6), optimizer=O.LBFGS(memory=6), steps=200, gtol=1e-10)
    # scipy's L-BFGS-B (maxcor=6, ftol=0) needs 38 iterations on this problem.
    assert r.status == "converged" and r.steps <= 60
    np.testing.assert_allclose(r.x, x_min, rtol=1e-9)


def test_lbfgs_keeps_at_most_memory_pairs():
    opt = O.LBFGS(memory=3)
    tg.minimize(lambda p: tg.reduce_sum(tg.constant(np.arange(1.0, 9.0)) * p**2) + tg.reduce_sum(p**4),
                np.ones(8), optimizer=opt, steps=20)
    assert 0 < len(opt._pairs) <= 3


def test_at_the_minimum_the_search_reports_convergence():
    # One Newton step lands on 2 up to the solve's rounding (exactly 2 with some, an ulp off with others);
    # the run must then say it converged, within a step at rounding noise, rather than use its 50 steps.
    r = tg.minimize(lambda w: (w - 2.0) ** 2, np.float64(3.0), optimizer="newton", steps=50)
    assert r.status == "converged" and r.steps <= 2, r.message
    assert abs(float(r.x) - 2.0) <= np.spacing(2.0)
    assert "exactly zero" in r.message or "machine precision" in r.message, r.message


def test_line_search_optimizers_need_the_loss_function():
    w = tg.Variable(1.0)
    with pytest.raises(TypeError, match=r"needs the loss function.*optimizer='lbfgs'"):
        O.LBFGS().apply_gradients([(1.0, w)])
    with pytest.raises(TypeError, match="function of no argument"):
        O.Newton().minimize(w**2, [w])


def test_search_settings_are_checked():
    with pytest.raises(ValueError, match="c1"):
        O.LineSearchGD(c1=1.5)
    with pytest.raises(ValueError, match="shrink"):
        O.Newton(shrink=1.0)
    with pytest.raises(ValueError, match="memory"):
        O.LBFGS(memory=0)


def test_lbfgs_stops_cleanly_when_the_gradients_square_underflows():
    # Found by the compiled-vs-eager property: a non-zero gradient whose g @ g is 0 in float64.
    r = tg.minimize(lambda w: 1e-170 * tg.reduce_sum(w), np.array([0.3, -0.2]), optimizer="lbfgs", steps=5)
    assert r.status == "converged" and r.steps == 0  # no ZeroDivisionError
    assert "exactly zero" not in r.message  # the gradient is 1e-170, not 0
