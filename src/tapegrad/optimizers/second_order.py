"""Optimizers that search along a direction, for small problems: gradient descent with a
backtracking (Armijo) line search, L-BFGS, and Newton's method with the Hessian from the tape.

They need the loss itself, not only its gradient, so they run through ``minimize``
(``tg.minimize(fn, x0, optimizer="lbfgs")`` or ``opt.minimize(loss_fn, var_list)``),
not ``apply_gradients``. The step each one returns is the accepted step length ``t``
along its direction (``x + t d``).

>>> import numpy as np
>>> import tapegrad as tg
>>> x = tg.Variable(np.array([3.0, -1.0]))
>>> opt = tg.optimizers.Newton()
>>> _ = opt.minimize(lambda: tg.reduce_sum((x - 1.0) ** 2), [x])    # one Newton step on a quadratic
>>> x.numpy()
array([1., 1.])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tapegrad.tape import GradientTape

from . import _checks as C
from .base import NoDescent, Problem, assign_value, variable_list
from .keras import Optimizer
from .variables import any_nonzero, max_abs, same_values


class _SearchOptimizer(Optimizer):
    """Shared by the line-search optimizers: Armijo backtracking from step ``learning_rate``."""

    def __init__(self, learning_rate: Any, c1: float, shrink: float, max_backtracks: int, name: str | None) -> None:
        super().__init__(learning_rate, name)
        self.c1 = C.number("c1 (the sufficient-decrease constant)", c1, 0, 1, open_low=True, open_high=True)
        self.shrink = C.number("shrink (the step's backtracking factor)", shrink, 0, 1, open_low=True,
                               open_high=True)
        self.max_backtracks = C.integer("max_backtracks", max_backtracks, 1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(c1=self.c1, shrink=self.shrink, max_backtracks=self.max_backtracks)
        return config

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> float:
        if not callable(loss):
            raise TypeError(f"{type(self).__name__}.minimize needs the loss as a function of no argument "
                            "(lambda: ...), because its line search evaluates the loss at trial points")
        problem = Problem(loss, variable_list(var_list))
        value, grads = problem.value_and_grad()
        try:
            self._step(problem, value, grads)
        except NoDescent:
            pass  # at a minimum to machine precision: the Variables stay where they are
        return value

    def apply_gradients(self, grads_and_vars: Any) -> None:
        """Not available: a line search needs the loss function; use ``minimize``."""
        raise TypeError(f"{type(self).__name__} searches along a direction, so it needs the loss function, not "
                        f"only gradients: call opt.minimize(loss_fn, var_list) or tg.minimize(fn, x0, "
                        f"optimizer={self.name!r})")

    def _search(self, problem: Problem, x: Any, loss: float, d: Any, gd: float, t: float) -> float:
        """Backtrack from ``t`` until ``f(x + t d) <= f(x) + c1 t g.d``; leave the Variables at the accepted point."""
        old = problem.values()
        for _ in range(self.max_backtracks):
            problem.set_flat(x + t * d)
            if problem.value() <= loss + self.c1 * t * gd:  # False for NaN, so NaN trial points backtrack too
                if all(same_values(a, b) for a, b in zip(old, problem.values())):
                    problem.set_values(old)
                    raise NoDescent("the step no longer changes the parameters (machine precision)")
                self._count()
                return t
            t *= self.shrink
        problem.set_values(old)
        raise NoDescent(f"the line search found no lower loss along the search direction after "
                        f"{self.max_backtracks} backtracking steps (the minimum is reached to machine precision)")

    def _count(self) -> None:
        assign_value(self._iterations, np.int64(int(self._iterations._value) + 1))


class LineSearchGD(_SearchOptimizer):
    """Gradient descent with a backtracking step: from ``learning_rate``, shrink until Armijo's condition holds.

    Armijo's (sufficient decrease) condition: ``f(x - t g) <= f(x) - c1 t |g|^2``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(3.0)
    >>> opt = tg.optimizers.LineSearchGD()       # tries t = 1 (overshoots to -3), then t = 0.5: exact
    >>> _ = opt.minimize(lambda: w ** 2, [w]); float(w.numpy())
    0.0
    """

    def __init__(self, learning_rate: Any = 1.0, c1: float = 1e-4, shrink: float = 0.5, max_backtracks: int = 50,
                 name: str = "linesearch") -> None:
        super().__init__(learning_rate, c1, shrink, max_backtracks, name)

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        g = problem.flatten(grads)
        gg = float(g @ g)
        if gg == 0:
            raise NoDescent("the gradient is exactly zero")
        t = self._lr.at(int(self._iterations._value))
        return self._search(problem, problem.get_flat(), loss, -g, -gg, t)


class LBFGS(_SearchOptimizer):
    """Limited-memory BFGS: a quasi-Newton direction from the last ``memory`` steps, with an Armijo line search.

    The first step (and any step after the memory is reset) is a gradient step of length
    ``learning_rate * min(1, 1/|g|)``; later ones start from ``learning_rate`` (1.0, the
    quasi-Newton step).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> x = tg.Variable(np.array([-1.2, 1.0]))
    >>> opt = tg.optimizers.LBFGS()
    >>> for _ in range(60):
    ...     _ = opt.minimize(lambda: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [x])
    >>> np.round(x.numpy(), 6)              # the Rosenbrock function's minimum
    array([1., 1.])
    """

    def __init__(self, learning_rate: Any = 1.0, memory: int = 10, c1: float = 1e-4, shrink: float = 0.5,
                 max_backtracks: int = 50, name: str = "lbfgs") -> None:
        super().__init__(learning_rate, c1, shrink, max_backtracks, name)
        self.memory = C.integer("memory", memory, 1)
        self._pairs: list[tuple[Any, Any, float]] = []  # (s, y, 1 / s.y), oldest first
        self._prev: tuple[Any, Any] | None = None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["memory"] = self.memory
        return config

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        g = problem.flatten(grads)  # on the parameters' device, as x, the pairs and the direction
        if not any_nonzero(g):
            raise NoDescent("the gradient is exactly zero")
        x = problem.get_flat()
        if self._prev is not None and x.shape == self._prev[0].shape:
            s, y = x - self._prev[0], g - self._prev[1]
            sy = float(s @ y)
            if sy > 1e-10 * float(y @ y):  # keep only pairs with positive curvature: H stays positive definite
                self._pairs.append((s, y, 1.0 / sy))
                del self._pairs[:-self.memory]
        self._prev = (x, g)
        lr = self._lr.at(int(self._iterations._value))
        if self._pairs:
            d = -self._two_loop(g)
            gd = float(g @ d)
            if gd < 0:
                try:
                    return self._search(problem, x, loss, d, gd, lr)
                except NoDescent:
                    pass
            self._pairs.clear()  # a bad quasi-Newton direction: start again from the gradient
        gg = float(g @ g)
        if gg == 0.0:  # g is not zero, but its square underflows: no step can be told from rounding
            biggest = max_abs(g)
            raise NoDescent(f"the gradient is too small to step along (its largest element is {biggest:.3g})")
        return self._search(problem, x, loss, -g, -gg, lr * min(1.0, 1.0 / math.sqrt(gg)))

    def _two_loop(self, g: Any) -> Any:
        q = g
        alphas = []
        for s, y, rho in reversed(self._pairs):
            a = rho * float(s @ q)
            q = q - a * y  # a new array (the same arithmetic as in place): g is not written into
            alphas.append(a)
        s, y, _ = self._pairs[-1]
        r = (float(s @ y) / float(y @ y)) * q
        for (s, y, rho), a in zip(self._pairs, reversed(alphas)):
            r = r + s * (a - rho * float(y @ r))
        return r


class Newton(_SearchOptimizer):
    """Newton's method: solve ``H d = -g`` (the Hessian from nested tapes), then a line search from ``t = 1``.

    Where ``H`` is not positive definite, a multiple of the identity is added until it is
    (Nocedal and Wright, Algorithm 3.3), so ``d`` always goes downhill. For small problems:
    the Hessian costs one backward pass per parameter.

    >>> import tapegrad as tg
    >>> w = tg.Variable(3.0)
    >>> _ = tg.optimizers.Newton().minimize(lambda: (w - 2.0) ** 2, [w]); float(w.numpy())
    2.0
    """

    def __init__(self, learning_rate: Any = 1.0, c1: float = 1e-4, shrink: float = 0.5, max_backtracks: int = 50,
                 name: str = "newton") -> None:
        super().__init__(learning_rate, c1, shrink, max_backtracks, name)
        self._last_polish = math.inf  # the size of the last step taken whole, near the minimum
        self._at_noise = False  # whether that step was within x's rounding noise, so the last one worth taking

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        g = problem.flatten(grads)
        h = problem.hessian()
        d, definite = _newton_direction(h, g)
        gd = float(g @ d)
        # -g.d / 2 is the decrease the quadratic model predicts (half the squared Newton decrement). Below the
        # loss's rounding error the loss can no longer judge a step, so a line search would wander on noise.
        eps = max(float(np.finfo(v._value.dtype).eps) for v in problem.variables)
        if g.any() and -gd / 2 > eps * abs(loss):
            self._last_polish, self._at_noise = math.inf, False
            return self._search(problem, problem.get_flat(), loss, d, gd, self._lr.at(int(self._iterations._value)))
        if not definite:
            return self._leave_stationary_point(problem, loss, h)
        if not g.any():
            raise NoDescent("the gradient is exactly zero and the Hessian is positive definite: a minimum")
        return self._polish(problem, d, h, eps)

    def _polish(self, problem: Problem, d: Any, h: Any, eps: float) -> float:
        """Take the Newton step whole while it is above rounding noise: the loss cannot tell, but x still gains
        digits.

        Near a minimum Newton's steps shrink quadratically until they reach rounding noise (Nocedal and
        Wright, section 3.3). A step within the noise is taken, since it may still be the last real
        correction, and ends the run; so does a step that no longer shrinks, where the noise is larger
        than estimated. So the step count does not hang on whether noise happens to shrink by half.
        """
        if self._at_noise:
            raise NoDescent("the last Newton step was within the rounding noise of x: the minimum is reached to "
                            "machine precision")
        size = float(np.max(np.abs(d)))
        if not size < 0.5 * self._last_polish:
            raise NoDescent("the Newton step no longer shrinks: the minimum is reached to machine precision")
        x = problem.get_flat()
        problem.set_flat(x + d)
        if np.array_equal(problem.get_flat(), x):
            raise NoDescent("the Newton step no longer changes the parameters (machine precision)")
        self._last_polish = size
        self._at_noise = bool(np.all(np.abs(d) <= _step_noise(h, x, eps)))
        self._count()
        return 1.0

    def _leave_stationary_point(self, problem: Problem, loss: float, h: Any) -> float:
        """Where the gradient is (next to) zero and the Hessian is not positive definite: go down along the
        direction of most negative curvature, if there is one.

        A maximum or a saddle point is stationary too; with the Hessian at hand Newton can tell it
        from a minimum, and leave it (Nocedal and Wright, section 3.4: directions of negative curvature).
        """
        if not np.all(np.isfinite(h)):
            raise NoDescent("the loss cannot be lowered along the gradient, and the Hessian is not finite there")
        w, vectors = np.linalg.eigh((h + h.T) / 2)
        if not w[0] < 0:
            raise NoDescent("the gradient is zero to machine precision and the Hessian is positive semi-definite "
                            "(an eigenvalue is zero): a minimum, or a flat point that second derivatives cannot "
                            "classify")
        x, d = problem.get_flat(), vectors[:, 0]
        t = self._lr.at(int(self._iterations._value))
        for _ in range(self.max_backtracks):
            problem.set_flat(x + t * d)
            if problem.value() < loss:  # strictly lower: with a zero gradient Armijo's test adds nothing
                self._last_polish, self._at_noise = math.inf, False
                self._count()
                return t
            t *= self.shrink
        problem.set_flat(x)
        raise NoDescent(f"the gradient is zero to machine precision; the Hessian's eigenvalue {w[0]:.3g} says this "
                        "is a saddle point or a maximum, but no lower loss was found along its direction")


def _step_noise(h: Any, x: Any, eps: float) -> Any:
    """How far rounding alone can move each coordinate of the Newton step near a minimum, to first order.

    There the gradient is a sum of ``n + 1`` terms (exactly so for a quadratic, ``H x - b``, where
    ``|b| = |H x| <= |H| |x|``), so rounding moves it by up to ``(n + 1) eps |H| |x|`` (the textbook
    bound for a sum of products, ``(n + 1) (eps / 2) (|H| |x| + |b|)``); ``H^-1`` carries that into
    the step: ``(n + 1) eps |H^-1| |H| |x|`` (Skeel's componentwise bound, which follows the scaling
    of x). On 650 random quadratics (n <= 20, condition numbers to 1e8, float32 and float64, under
    OpenBLAS's generic, Haswell and SkylakeX kernels) the steps at the noise floor stayed below a
    quarter of it. A real step this small leaves x a rounding error from the minimum, so counting
    it as noise costs nothing.
    """
    return (len(x) + 1) * eps * (np.abs(np.linalg.inv(h)) @ (np.abs(h) @ np.abs(x)))


def _newton_direction(h: Any, g: Any) -> tuple[Any, bool]:
    """``-(H + tau I)^-1 g`` with the smallest tried ``tau >= 0`` that makes the matrix positive definite, and
    whether ``H`` itself was (``tau == 0``)."""
    if not np.all(np.isfinite(h)):
        return -g, False
    h = (h + h.T) / 2
    eye = np.eye(len(g))
    beta = 1e-3
    low = float(np.min(np.diag(h)))
    tau = 0.0 if low > 0 else beta - low
    for _ in range(100):
        try:
            chol = np.linalg.cholesky(h + tau * eye)
        except np.linalg.LinAlgError:
            tau = max(2 * tau, beta)
            continue
        return -np.linalg.solve(chol.T, np.linalg.solve(chol, g)), tau == 0
    return -g, False


__all__ = ["LBFGS", "LineSearchGD", "Newton"]
