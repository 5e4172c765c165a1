"""Learning-rate schedules: plain functions of the step, with Keras's names and formulas.

Each schedule is called with the optimizer's step counter (0 for the first update)
and returns a Python float. Pass one as ``learning_rate`` to any optimizer.

>>> import tapegrad as tg
>>> lr = tg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> lr(0), lr(10), lr(20)
(0.1, 0.05, 0.025)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import _checks as C


class LearningRateSchedule:
    """Base class: a callable ``step -> learning rate``. Subclasses define ``__call__``.

    >>> import tapegrad as tg
    >>> class Halving(tg.optimizers.schedules.LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 1.0 / 2 ** step
    >>> Halving()(3)
    0.125
    """

    def __call__(self, step: int) -> float:
        """The learning rate for update ``step`` (0 for the first); subclasses define it.

        >>> import tapegrad as tg
        >>> tg.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)(2)
        0.25
        """
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, so ``type(s)(**s.get_config())`` rebuilds the schedule.

        >>> import tapegrad as tg
        >>> tg.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5).get_config()["decay_rate"]
        0.5
        """
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """The schedule that ``get_config()`` describes (Keras's API).

        >>> import tapegrad as tg
        >>> S = tg.optimizers.schedules
        >>> S.ExponentialDecay.from_config(S.ExponentialDecay(0.1, 10, 0.5).get_config())(10)
        0.05
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _rate(schedule: LearningRateSchedule, name: str, value: Any) -> float:
    """A learning rate (or a rate's factor) the schedule starts from: a finite number >= 0."""
    return C.number(name, value, 0, owner=type(schedule).__name__)


def _steps(schedule: LearningRateSchedule, name: str, value: Any, low_open: bool = True) -> Any:
    """A count of steps, kept as given (an int stays an int in the config)."""
    C.number(name, value, 0, open_low=low_open, owner=type(schedule).__name__)
    return value


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase`` the exponent is floored.

    >>> import tapegrad as tg
    >>> s = tg.optimizers.schedules.ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> [s(k) for k in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str | None = None) -> None:
        # A negative decay_rate made ExponentialDecay complex and InverseTimeDecay divide by zero.
        self.initial_learning_rate = _rate(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(self, "decay_steps", decay_steps)
        self.decay_rate = _rate(self, "decay_rate", decay_rate)
        self.staircase = C.flag("staircase", staircase, type(self).__name__)
        self.name = name or type(self).__name__

    def _progress(self, step: int) -> float:
        """step / decay_steps, floored when staircase."""
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def __call__(self, step: int) -> float:
        """The rate at ``step``: ``initial_learning_rate * decay_rate ** (step / decay_steps)``.

        >>> import tapegrad as tg
        >>> tg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
        0.025
        """
        p = self._progress(step)
        return self.initial_learning_rate * self.decay_rate ** p


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; ``staircase`` floors the ratio.

    >>> import tapegrad as tg
    >>> s = tg.optimizers.schedules.InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    >>> [s(k) for k in range(4)]
    [1.0, 0.5, 0.3333333333333333, 0.25]
    """

    __init__ = ExponentialDecay.__init__
    _progress = ExponentialDecay._progress

    def __call__(self, step: int) -> float:
        """The rate at ``step``: ``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

        >>> import tapegrad as tg
        >>> tg.optimizers.schedules.InverseTimeDecay(1.0, decay_steps=2, decay_rate=1.0)(2)
        0.5
        """
        p = self._progress(step)
        return self.initial_learning_rate / (1 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <= boundaries[1]``, ...

    >>> import tapegrad as tg
    >>> s = tg.optimizers.schedules.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    >>> [s(k) for k in range(6)]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: str = "PiecewiseConstant") -> None:
        for arg, seq in (("boundaries", boundaries), ("values", values)):
            if not isinstance(seq, (list, tuple)):
                raise TypeError(f"PiecewiseConstantDecay: {arg} must be a list of numbers, got "
                                f"{type(seq).__name__} {seq!r}")
        boundaries = [_steps(self, "each boundary", b, low_open=False) for b in boundaries]
        values = [_rate(self, "each value", v) for v in values]
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay needs one more value than boundaries; got "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must increase strictly, got {list(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: int) -> float:
        """The value of the piece ``step`` falls in (a boundary belongs to the piece before it).

        >>> import tapegrad as tg
        >>> s = tg.optimizers.schedules.PiecewiseConstantDecay([2], [1.0, 0.5])
        >>> s(2), s(3)
        (1.0, 0.5)
        """
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` down to ``end_learning_rate`` over ``decay_steps``, following a power.

    The rate is ``(initial - end) * (1 - step / decay_steps) ** power + end``.

    After ``decay_steps`` it stays at ``end_learning_rate``, or with ``cycle=True`` starts
    again over the next multiple of ``decay_steps``.

    >>> import tapegrad as tg
    >>> s = tg.optimizers.schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    >>> [s(k) for k in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay") -> None:
        self.initial_learning_rate = _rate(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(self, "decay_steps", decay_steps)
        self.end_learning_rate = _rate(self, "end_learning_rate", end_learning_rate)
        self.power = _rate(self, "power", power)  # a negative power makes 0 ** power at the end divide by zero
        self.cycle = C.flag("cycle", cycle, "PolynomialDecay")
        self.name = name

    def __call__(self, step: int) -> float:
        """The rate at ``step`` along the polynomial (held at ``end_learning_rate``, or cycled, after the end).

        >>> import tapegrad as tg
        >>> tg.optimizers.schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0, power=2.0)(2)
        0.25
        """
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps = decay_steps * (1.0 if step == 0 else math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the start rate down to ``alpha`` times it over ``decay_steps``, after an optional warmup.

    With ``warmup_target``, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays from ``warmup_target``.

    >>> import tapegrad as tg
    >>> s = tg.optimizers.schedules.CosineDecay(0.0, decay_steps=2, warmup_target=1.0, warmup_steps=2)
    >>> [round(s(k), 6) for k in range(6)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: float = 0) -> None:
        self.initial_learning_rate = _rate(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _steps(self, "decay_steps", decay_steps)
        self.alpha = _rate(self, "alpha", alpha)
        self.name = name
        # As in Keras, warmup_steps=0 with a warmup_target is allowed: the decay then starts from the target.
        self.warmup_target = None if warmup_target is None else _rate(self, "warmup_target", warmup_target)
        self.warmup_steps = _steps(self, "warmup_steps", warmup_steps, low_open=False)

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * (step / self.decay_steps)))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        """The rate at ``step``: on the warmup line first (if any), then on the half cosine.

        >>> import tapegrad as tg
        >>> round(tg.optimizers.schedules.CosineDecay(1.0, decay_steps=4)(2), 6)   # half way down
        0.5
        """
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            done = step / self.warmup_steps
            return (self.warmup_target - self.initial_learning_rate) * done + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)


__all__ = ["CosineDecay", "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule", "PiecewiseConstantDecay",
           "PolynomialDecay"]
