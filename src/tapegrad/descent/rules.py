"""The stopping rules of a run, checked in one place: their settings (``Rules``) and the test of each step.

``gtol`` and ``ftol`` are tested inline by the loop (they are common, and a step on a small problem
costs microseconds); the others by ``Rules.check``, which the loop calls only when one is set. Each
test returns the ``Stop``'s reason and the facts its message quotes.

>>> from tapegrad.descent.rules import Rules
>>> rules = Rules(target=0.5)
>>> rules.active, rules.check(3, 0.25, 1.0, [0.5], 0.01)
(True, ('target', {'loss': 0.25, 'target': 0.5}))
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["Rules"]


def _number(name: str, value: Any, low: float = 0.0, inclusive: bool = True) -> float | None:
    if value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and not math.isnan(value)
    if not ok or not (value >= low if inclusive else value > low):
        raise ValueError(f"{name} must be a number {'>=' if inclusive else '>'} {low:g} (or None), got {value!r}")
    return float(value)


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number of steps >= 1 (or None), got {value!r}")
    return int(value)


class Rules:
    """The stopping rules besides the step count, each None (off) unless given.

    ``gtol``: the gradient norm is <= gtol. ``ftol``: the loss changed by at most
    ``ftol * max(1, |loss|)`` in one step. ``xtol``: the last step moved the parameters by at most
    xtol (Euclidean norm over all of them). ``target``: the loss is <= target. ``patience``: no loss
    below the best so far for this many steps. ``max_time``: seconds since the start. ``runaway``:
    the loss rose above the start by more than ``runaway * max(1, |loss at x0|)`` (say 1e12: a run that
    diverges, caught before it reaches inf). ``stagnation``: the parameters did not change, bit for
    bit, for this many steps in a row while the gradient is not zero (steps below their rounding).

    >>> from tapegrad.descent.rules import Rules
    >>> Rules(patience=0)
    Traceback (most recent call last):
    ValueError: patience must be a whole number of steps >= 1 (or None), got 0
    """

    def __init__(self, gtol: Any = None, ftol: Any = None, xtol: Any = None, target: Any = None, patience: Any = None,
                 max_time: Any = None, runaway: Any = None, stagnation: Any = None) -> None:
        self.gtol, self.ftol, self.xtol = _number("gtol", gtol), _number("ftol", ftol), _number("xtol", xtol)
        if target is not None and (isinstance(target, bool) or not isinstance(target, numbers.Real)
                                   or math.isnan(target)):
            raise ValueError(f"target must be a number (the loss to reach), or None; got {target!r}")
        self.target = None if target is None else float(target)
        self.patience, self.stagnation = _count("patience", patience), _count("stagnation", stagnation)
        self.max_time = _number("max_time", max_time, inclusive=False)
        self.runaway = _number("runaway", runaway, 1.0, inclusive=False)
        # gtol and ftol are tested by the loop itself.
        self.active = any(v is not None for v in (self.xtol, self.target, self.patience, self.max_time,
                                                   self.runaway, self.stagnation))
        self._prev: list | None = None
        self._best, self._best_k, self._still, self._limit = math.inf, 0, 0, math.inf

    def check(self, k: int, loss: float, gnorm: float, values: list, elapsed: float) -> tuple[str, dict] | None:
        """The reason to stop at step ``k`` (its point's loss, gradient norm and values) and its facts, or None."""
        if self.target is not None and loss <= self.target:
            return "target", {"loss": loss, "target": self.target}
        if k == 0:
            self._limit = loss + self.runaway * max(1.0, abs(loss)) if self.runaway is not None else math.inf
            self._start = loss
        elif loss > self._limit:
            return "runaway", {"loss": loss, "start": self._start, "runaway": self.runaway}
        if loss < self._best:
            self._best, self._best_k = loss, k
        elif self.patience is not None and k - self._best_k >= self.patience:
            return "patience", {"best": self._best, "best_step": self._best_k, "patience": self.patience}
        prev, self._prev = self._prev, values
        if prev is not None and (self.xtol is not None or self.stagnation is not None):
            size = math.sqrt(sum(_square_distance(a, b) for a, b in zip(values, prev)))
            if self.xtol is not None and size <= self.xtol:
                return "xtol", {"size": size, "xtol": self.xtol}
            self._still = self._still + 1 if size == 0 and gnorm > 0 else 0
            if self.stagnation is not None and self._still >= self.stagnation:
                return "stagnation", {"stagnation": self.stagnation, "gnorm": gnorm}
        if self.max_time is not None and elapsed >= self.max_time:
            return "max_time", {"elapsed": elapsed, "max_time": self.max_time, "loss": loss}
        return None


def _square_distance(a: Any, b: Any) -> float:
    if np.ndim(a) == 0:  # a scalar parameter: Python floats cost a tenth of NumPy's calls
        d = float(a) - float(b)
        return d * d
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.vdot(d, d))
