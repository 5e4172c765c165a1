"""Every optimizer reaches the minimum of a convex quadratic and of the Rosenbrock function from (-1.2, 1).

The first-order rules run as transformations on the exact gradient (written out in NumPy, so
thousands of steps take milliseconds); the tolerance on the distance to the minimizer is in
each row. The line-search methods run through tg.minimize on the tapegrad functions. optax's
alias_test is the model: one table, both problems.
"""
import importlib

import numpy as np
import pytest

import tapegrad as tg

O, S = tg.optimizers, tg.optimizers.schedules

A = np.diag([1.0, 10.0])
B = np.array([1.0, -2.0])
QUAD_MIN = np.linalg.solve(A, B)
ROSEN_MIN = np.array([1.0, 1.0])


def quad_grad(p):
    return A @ p - B


def rosen_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def quad(p):
    return 0.5 * tg.reduce_sum(p * tg.linalg.matvec(tg.constant(A), p)) - tg.reduce_sum(tg.constant(B) * p)


def rosen(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


# name, transformation, steps, tolerance on |x - x*| for Rosenbrock, for the quadratic.
# Decaying schedules let the adaptive methods settle instead of hovering at a distance ~ lr.
FIRST_ORDER = [
    ("sgd", lambda: O.sgd(0.0015), 50_000, 1e-8, 1e-8),
    ("momentum", lambda: O.sgd(0.001, momentum=0.9), 20_000, 1e-8, 1e-8),
    ("nesterov", lambda: O.sgd(0.001, momentum=0.9, nesterov=True), 20_000, 1e-8, 1e-8),
    ("adam", lambda: O.adam(S.ExponentialDecay(0.02, 2000, 0.5)), 10_000, 1e-8, 1e-8),
    # Decoupled decay pulls towards 0, so AdamW stops near, not at, the minimizer of f.
    ("adamw", lambda: O.adamw(S.ExponentialDecay(0.02, 2000, 0.5), weight_decay=1e-4), 10_000, 1e-4, 1e-5),
    ("rmsprop", lambda: O.rmsprop(S.ExponentialDecay(0.01, 2000, 0.3)), 10_000, 1e-4, 1e-8),
    ("adagrad", lambda: O.adagrad(0.5), 20_000, 1e-6, 1e-8),
    ("adadelta", lambda: O.adadelta(S.CosineDecay(1.0, 20_000)), 20_000, 1e-5, 1e-8),
    ("adamax", lambda: O.adamax(S.ExponentialDecay(0.02, 2000, 0.5)), 10_000, 1e-8, 1e-8),
    ("nadam", lambda: O.nadam(S.ExponentialDecay(0.02, 2000, 0.5)), 10_000, 1e-8, 1e-8),
    ("lion", lambda: O.lion(S.CosineDecay(0.01, 20_000)), 20_000, 1e-5, 1e-8),
]


def _descend(tx, grad, start, steps):
    p = np.array(start, dtype=np.float64)
    state = tx.init(p)
    for _ in range(steps):
        updates, state = tx.update(grad(p), state, p)
        p = O.apply_updates(p, updates)
    return p


@pytest.mark.parametrize("name, make, steps, rosen_tol, quad_tol", FIRST_ORDER, ids=[r[0] for r in FIRST_ORDER])
def test_first_order_reaches_both_minima(name, make, steps, rosen_tol, quad_tol):
    p = _descend(make(), rosen_grad, [-1.2, 1.0], steps)
    assert np.linalg.norm(p - ROSEN_MIN) <= rosen_tol, f"{name} ended at {p} on Rosenbrock"
    p = _descend(make(), quad_grad, [3.0, 3.0], steps)
    assert np.linalg.norm(p - QUAD_MIN) <= quad_tol, f"{name} ended at {p} on the quadratic"


# The line-search methods, through tg.minimize on the tapegrad functions: optimizer, steps, tolerances.
# Plain gradient descent zig-zags along Rosenbrock's curved valley even with the best step: 2e-2 after 3000.
SEARCH = [("newton", 50, 1e-10, 1e-12), ("lbfgs", 200, 1e-8, 1e-10), ("linesearch", 3000, 2e-2, 1e-8)]


@pytest.mark.parametrize("name, steps, rosen_tol, quad_tol", SEARCH, ids=[r[0] for r in SEARCH])
def test_line_search_methods_reach_both_minima(name, steps, rosen_tol, quad_tol):
    r = tg.minimize(rosen, np.array([-1.2, 1.0]), optimizer=name, steps=steps, gtol=1e-10)
    assert np.linalg.norm(r.x - ROSEN_MIN) <= rosen_tol, r.message
    r = tg.minimize(quad, np.array([3.0, 3.0]), optimizer=name, steps=steps, gtol=1e-12)
    assert np.linalg.norm(r.x - QUAD_MIN) <= quad_tol, r.message


def test_newton_and_lbfgs_take_few_steps_on_rosenbrock():
    newton = tg.minimize(rosen, np.array([-1.2, 1.0]), optimizer="newton", steps=100, gtol=1e-8)
    lbfgs = tg.minimize(rosen, np.array([-1.2, 1.0]), optimizer="lbfgs", steps=100, gtol=1e-8)
    assert newton.status == lbfgs.status == "converged"
    assert newton.steps <= 30 and lbfgs.steps <= 60


@pytest.mark.parametrize("name", list(importlib.import_module("tapegrad.optimizers.names").OPTIMIZERS))
def test_every_optimizer_name_with_its_default_learning_rate_solves_a_quadratic(name):
    # A well-conditioned bowl from (1, -1): each name's documented default must get there in 3000 steps.
    r = tg.minimize(lambda p: (p[0] - 0.5) ** 2 + 2 * (p[1] + 0.25) ** 2, np.array([1.0, -1.0]),
                    optimizer=name, steps=3000, gtol=1e-9)
    tol = 5e-3 if name == "lion" else 1e-4  # Lion moves by exactly lr per step: it ends within ~lr
    assert np.linalg.norm(r.x - [0.5, -0.25]) <= tol, f"{name}: {r.message}, x={r.x}"
