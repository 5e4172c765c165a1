"""Test functions for optimizers: the classic landscapes, written in tapegrad ops, with what is known of them.

Each factory returns a ``TestFunction``: call it with a point ``x`` (a vector of ``dim`` numbers,
a Tensor or a Variable) and it returns the loss as a Tensor, so ``tg.minimize`` and tapes take
it as they take any function. It also knows its ``domain`` (a (low, high) pair per coordinate),
its starting points ``starts`` (the usual first one is ``start``), its known ``minima`` and their
value ``f_min``, a ``window`` to draw (the first two coordinates), and ``learning_rates``: rates per
optimizer name that do not diverge from ``start`` (``tg.race`` starts from them).

The coordinates are ``x[0], x[1], ...`` along the first axis, and the work is elementwise along the
others, so ``f(np.stack([X, Y]))`` evaluates a whole grid at once.

>>> import numpy as np
>>> import tapegrad as tg
>>> f = tg.testfunctions.rosenbrock()
>>> f.name, f.start.tolist(), f.minima[0].tolist(), f.f_min
('rosenbrock', [-1.2, 1.0], [1.0, 1.0], 0.0)
>>> float(f(f.minima[0])), f(np.zeros((2, 3, 4))).shape
(0.0, TensorShape([3, 4]))
>>> sorted(tg.testfunctions.NAMES)[:4]
['ackley', 'beale', 'booth', 'goldstein_price']
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tapegrad import ops
from tapegrad._core.tensor import Operand, Tensor, constant

__all__ = ["NAMES", "TestFunction", "ackley", "beale", "booth", "get", "goldstein_price", "himmelblau",
           "ill_conditioned", "rastrigin", "rosenbrock", "saddle", "styblinski_tang"]

Pair = tuple[float, float]


class TestFunction:
    """A test function and what is known of it (see the module's doc); call it with a point.

    ``kink``: True when the function has no gradient at its minimum (Ackley's cone), so a tape
    gives NaN there. ``f_min`` is ``-inf`` for a function unbounded below (the saddle), with no
    ``minima``.

    >>> import tapegrad as tg
    >>> f = tg.testfunctions.booth()
    >>> float(f([1.0, 3.0])), f.window
    (0.0, ((-10.0, 10.0), (-10.0, 10.0)))
    """

    __test__ = False  # pytest: not a test class

    def __init__(self, name: str, fn: Callable[[Any], Any], dim: int, domain: Sequence[Pair],
                 starts: Sequence[Sequence[float]], minima: Sequence[Sequence[float]], f_min: float,
                 window: tuple[Pair, Pair] | None = None, learning_rates: dict[str, float] | None = None,
                 kink: bool = False, about: str = "") -> None:
        self.name, self._fn, self.dim, self.kink, self.about = name, fn, dim, kink, about
        self.domain: tuple[Pair, ...] = tuple((float(lo), float(hi)) for lo, hi in domain)
        self.starts = [np.array(s, dtype=np.float64) for s in starts]
        self.minima = [np.array(m, dtype=np.float64) for m in minima]
        self.f_min = float(f_min)
        self.window: tuple[Pair, Pair] = window or (self.domain[0], self.domain[1 % dim])
        self.learning_rates = dict(learning_rates or {})

    @property
    def start(self) -> Any:
        """The usual starting point (a float64 NumPy vector; a fresh copy each time).

        >>> import tapegrad as tg
        >>> tg.testfunctions.beale().start
        array([1. , 1.5])
        """
        return self.starts[0].copy()

    def __call__(self, x: Any) -> Tensor:
        if not isinstance(x, Operand):
            x = constant(np.asarray(x, dtype=np.float64))  # a list of numbers: float64, the known values' precision
        if x.shape.rank == 0 or x.shape[0] != self.dim:
            raise ValueError(f"{self.name} takes a point of {self.dim} coordinates (a vector of shape ({self.dim},), "
                             f"or ({self.dim}, ...) for many points at once); got shape {tuple(x.shape)}")
        return self._fn(x)

    def __repr__(self) -> str:
        return f"<TestFunction {self.name} ({self.dim}-d), minimum {self.f_min:g}>"


def rosenbrock(n: int = 2) -> TestFunction:
    """Rosenbrock's banana valley in ``n`` dimensions: sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2.

    >>> import tapegrad as tg
    >>> f = tg.testfunctions.rosenbrock(4)
    >>> f.start.tolist(), float(f(f.minima[0]))
    ([-1.2, 1.0, -1.2, 1.0], 0.0)
    """
    n = _dimension(n, 2)

    def f(x: Any) -> Tensor:
        return ops.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2, axis=0)

    return TestFunction("rosenbrock", f, n, [(-2.048, 2.048)] * n, [[(-1.2, 1.0)[i % 2] for i in range(n)]],
                        [[1.0] * n], 0.0, window=((-2.0, 2.0), (-1.0, 3.0)),
                        learning_rates={"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adam": 0.1, "adagrad": 0.5},
                        about="a long curved valley, easy to find and slow to follow")


def beale() -> TestFunction:
    """Beale's function: sharp ridges around a flat valley; minimum 0 at (3, 0.5).

    >>> import tapegrad as tg
    >>> float(tg.testfunctions.beale()([3.0, 0.5]))
    0.0
    """
    def f(x: Any) -> Tensor:
        a, b = x[0], x[1]
        return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2 + (2.625 - a + a * b ** 3) ** 2

    return TestFunction("beale", f, 2, [(-4.5, 4.5)] * 2, [[1.0, 1.5], [-1.0, -1.0]], [[3.0, 0.5]], 0.0,
                        window=((-1.5, 4.0), (-1.5, 2.0)),
                        learning_rates={"sgd": 0.01, "momentum": 1e-3, "nesterov": 1e-3, "adam": 0.1, "adagrad": 0.5},
                        about="flat valleys between steep walls")


_HIMMELBLAU = [[3.0, 2.0], [-2.805118086952745, 3.131312518250573], [-3.779310253377747, -3.2831859912861696],
               [3.5844283403304917, -1.8481265269644034]]


def himmelblau() -> TestFunction:
    """Himmelblau's function: four minima of value 0, so where a run ends depends on where it starts.

    >>> import tapegrad as tg
    >>> len(tg.testfunctions.himmelblau().minima)
    4
    """
    def f(x: Any) -> Tensor:
        a, b = x[0], x[1]
        return (a ** 2 + b - 11.0) ** 2 + (a + b ** 2 - 7.0) ** 2

    return TestFunction("himmelblau", f, 2, [(-5.0, 5.0)] * 2, [[0.0, 0.0], [-1.0, -1.0]], _HIMMELBLAU, 0.0,
                        learning_rates={"sgd": 0.01, "momentum": 3e-3, "nesterov": 3e-3, "adam": 0.1},
                        about="four minima of the same value")


def booth() -> TestFunction:
    """Booth's function: a plain quadratic bowl, (x + 2y - 7)^2 + (2x + y - 5)^2; minimum 0 at (1, 3).

    >>> import tapegrad as tg
    >>> tg.testfunctions.booth().minima[0].tolist()
    [1.0, 3.0]
    """
    def f(x: Any) -> Tensor:
        return (x[0] + 2.0 * x[1] - 7.0) ** 2 + (2.0 * x[0] + x[1] - 5.0) ** 2

    return TestFunction("booth", f, 2, [(-10.0, 10.0)] * 2, [[-6.0, -4.0], [8.0, 8.0]], [[1.0, 3.0]], 0.0,
                        learning_rates={"sgd": 0.03, "momentum": 0.01, "nesterov": 0.01, "adam": 0.1},
                        about="a quadratic bowl, condition number 9")


def rastrigin(n: int = 2) -> TestFunction:
    """Rastrigin's function: 10 n + sum of x^2 - 10 cos(2 pi x): a bowl covered in local minima; 0 at the origin.

    >>> import tapegrad as tg
    >>> float(tg.testfunctions.rastrigin(3)([0.0, 0.0, 0.0]))
    0.0
    """
    n = _dimension(n, 1)

    def f(x: Any) -> Tensor:
        return ops.reduce_sum(x ** 2 - 10.0 * ops.cos(2.0 * math.pi * x) + 10.0, axis=0)

    return TestFunction("rastrigin", f, n, [(-5.12, 5.12)] * n, [[(2.2, -3.3)[i % 2] for i in range(n)]],
                        [[0.0] * n], 0.0,
                        learning_rates={"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "adam": 0.05},
                        about="a bowl covered in local minima")


def ackley(n: int = 2) -> TestFunction:
    """Ackley's function: a nearly flat plain of ripples around a deep funnel; 0 at the origin, where it has a
    kink (no gradient: a tape gives NaN exactly there).

    >>> import tapegrad as tg
    >>> abs(float(tg.testfunctions.ackley()([0.0, 0.0]))) < 1e-12
    True
    """
    n = _dimension(n, 1)

    def f(x: Any) -> Tensor:
        radius = ops.sqrt(ops.reduce_mean(x ** 2, axis=0))
        ripples = ops.reduce_mean(ops.cos(2.0 * math.pi * x), axis=0)
        return -20.0 * ops.exp(-0.2 * radius) - ops.exp(ripples) + (20.0 + math.e)

    return TestFunction("ackley", f, n, [(-5.0, 5.0)] * n, [[(1.5, -1.2)[i % 2] for i in range(n)]], [[0.0] * n],
                        0.0, learning_rates={"sgd": 0.01, "momentum": 3e-3, "nesterov": 3e-3, "adam": 0.05},
                        kink=True, about="ripples on a plain around a funnel")


_TANG = -2.903534027771177  # the smallest root of 4x^3 - 32x + 5, the derivative of x^4 - 16x^2 + 5x


def styblinski_tang(n: int = 2) -> TestFunction:
    """The Styblinski-Tang function: half the sum of x^4 - 16 x^2 + 5x; minimum -39.166... n at x = -2.9035... .

    >>> import tapegrad as tg
    >>> f = tg.testfunctions.styblinski_tang()
    >>> round(f.f_min, 4), round(float(f(f.minima[0])), 4)
    (-78.3323, -78.3323)
    """
    n = _dimension(n, 1)

    def f(x: Any) -> Tensor:
        return 0.5 * ops.reduce_sum(x ** 4 - 16.0 * x ** 2 + 5.0 * x, axis=0)

    return TestFunction("styblinski_tang", f, n, [(-5.0, 5.0)] * n, [[(0.3, -0.3)[i % 2] for i in range(n)], [0.0] * n],
                        [[_TANG] * n], 0.5 * n * (_TANG ** 4 - 16 * _TANG ** 2 + 5 * _TANG),
                        learning_rates={"sgd": 0.01, "momentum": 3e-3, "nesterov": 3e-3, "adam": 0.1},
                        about="a global minimum in one corner, local minima in the others")


def goldstein_price() -> TestFunction:
    """The Goldstein-Price function: values from 3 to a million, minimum 3 at (0, -1), local minima around it.

    >>> import tapegrad as tg
    >>> float(tg.testfunctions.goldstein_price()([0.0, -1.0]))
    3.0
    """
    def f(x: Any) -> Tensor:
        a, b = x[0], x[1]
        first = 1.0 + (a + b + 1.0) ** 2 * (19.0 - 14.0 * a + 3.0 * a ** 2 - 14.0 * b + 6.0 * a * b + 3.0 * b ** 2)
        second = 30.0 + (2.0 * a - 3.0 * b) ** 2 * (18.0 - 32.0 * a + 12.0 * a ** 2 + 48.0 * b - 36.0 * a * b
                                                    + 27.0 * b ** 2)
        return first * second

    return TestFunction("goldstein_price", f, 2, [(-2.0, 2.0)] * 2, [[-0.5, 0.5], [1.0, 1.0]], [[0.0, -1.0]], 3.0,
                        learning_rates={"sgd": 1e-5, "momentum": 1e-6, "nesterov": 1e-6, "adam": 0.1},
                        about="values spanning six orders of magnitude")


def saddle() -> TestFunction:
    """The saddle x^2 - y^2: a stationary point at the origin that is no minimum; unbounded below (``f_min`` -inf).

    >>> import tapegrad as tg
    >>> f = tg.testfunctions.saddle()
    >>> f.f_min, f.minima
    (-inf, [])
    """
    def f(x: Any) -> Tensor:
        return x[0] ** 2 - x[1] ** 2

    return TestFunction("saddle", f, 2, [(-2.0, 2.0)] * 2, [[1.5, 1e-3]], [], -math.inf,
                        learning_rates={"sgd": 0.01, "momentum": 1e-3, "nesterov": 1e-3, "adam": 0.01},
                        about="a saddle point at the origin: the gradient vanishes there, but it is no minimum")


def ill_conditioned(cond: float = 100.0, n: int = 2, angle: float = math.pi / 6) -> TestFunction:
    """A quadratic bowl 0.5 * sum of lam[i] z[i]^2 with curvatures ``lam`` from 1 to ``cond`` (the condition number,
    log-spaced), its axes ``z`` turned by ``angle`` in the plane of the first two coordinates (so that no
    per-coordinate scaling undoes it); minimum 0 at the origin.

    >>> import tapegrad as tg
    >>> f = tg.testfunctions.ill_conditioned(cond=1000.0)
    >>> f.name, f.learning_rates["sgd"]
    ('ill_conditioned', 0.001)
    """
    n = _dimension(n, 2)
    if isinstance(cond, bool) or not isinstance(cond, (int, float, np.number)) or not 1 <= cond < math.inf:
        raise ValueError(f"cond, the condition number, must be a number >= 1; got {cond!r}")
    if not isinstance(angle, (int, float, np.number)) or not math.isfinite(angle):
        raise ValueError(f"angle must be a finite number (radians); got {angle!r}")
    lam = [float(v) for v in np.geomspace(float(cond), 1.0, n)]
    c, s = math.cos(angle), math.sin(angle)

    def f(x: Any) -> Tensor:
        total = lam[0] * (c * x[0] + s * x[1]) ** 2 + lam[1] * (c * x[1] - s * x[0]) ** 2
        for i in range(2, n):
            total = total + lam[i] * x[i] ** 2
        return 0.5 * total

    # Gradient descent is stable for rates below 2 / cond (the largest curvature); momentum 0.9 below 3.8 / cond.
    rates = {"sgd": 1.0 / cond, "momentum": 1.0 / cond, "nesterov": 1.0 / cond, "adam": 0.1}
    return TestFunction("ill_conditioned", f, n, [(-2.0, 2.0)] * n, [[(-1.5, 1.0)[i % 2] for i in range(n)]],
                        [[0.0] * n], 0.0, learning_rates=rates, about=f"a quadratic bowl of condition number {cond:g}")


NAMES: dict[str, Callable[..., TestFunction]] = {
    f.__name__: f for f in (rosenbrock, beale, himmelblau, booth, rastrigin, ackley, styblinski_tang,
                            goldstein_price, saddle, ill_conditioned)}


def get(name: str, **settings: Any) -> TestFunction:
    """The test function of that name (``-`` or ``_``, any case), made with ``settings`` (``n=5``, ``cond=1e3``).

    >>> import tapegrad as tg
    >>> tg.testfunctions.get("Styblinski-Tang", n=3).dim
    3
    """
    if isinstance(name, TestFunction):
        return name
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in NAMES:
        raise ValueError(f"no test function {name!r}; the test functions are {', '.join(NAMES)}")
    try:
        return NAMES[key](**settings)
    except TypeError:
        import inspect

        takes = ", ".join(inspect.signature(NAMES[key]).parameters) or "no settings"
        raise TypeError(f"{key} takes {takes}; got {', '.join(settings)}") from None


def _dimension(n: Any, least: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least:
        raise ValueError(f"n, the number of coordinates, must be a whole number >= {least}; got {n!r}")
    return int(n)
