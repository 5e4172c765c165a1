"""A learning rate that is a number or a schedule (Keras's ``learning_rate`` argument), read at a step.

>>> from tapegrad.optimizers.learning_rate import LearningRate
>>> LearningRate(0.1).at(5), LearningRate(lambda step: 1 / (step + 1)).at(3)
(0.1, 0.25)
"""
from __future__ import annotations

import inspect
import math
import numbers
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from tapegrad._core.tensor import Operand

from . import schedules
from .schedules import LearningRateSchedule


class LearningRate:
    """A learning rate that is a number or a schedule, read at a given step as a Python float.

    A schedule's value is checked at every step (a NaN, a negative rate or a string would
    otherwise surface as a diverged run or a NumPy error far from its cause).

    >>> from tapegrad.optimizers.learning_rate import LearningRate
    >>> LearningRate(lambda step: 0.5 ** step).at(3)
    0.125
    """

    __slots__ = ("value", "schedule", "takes_step")

    def __init__(self, learning_rate: Any) -> None:
        self.schedule: Callable[..., Any] | None = None
        self.takes_step = True
        self.value = 0.0
        if isinstance(learning_rate, type):
            raise TypeError(_class_given(learning_rate))
        if isinstance(learning_rate, LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, Operand)):
            self.schedule = learning_rate
            self.takes_step = isinstance(learning_rate, LearningRateSchedule) or _takes_argument(learning_rate)
            return
        try:
            if isinstance(learning_rate, (str, bytes, bool)):  # float() would read "0.1" and True as numbers
                raise TypeError
            value = float(learning_rate)
        except (TypeError, ValueError):
            raise TypeError(f"learning_rate must be a number or a schedule (a callable of the step, e.g. "
                            f"tg.optimizers.schedules.ExponentialDecay(...)), not {learning_rate!r}") from None
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"learning_rate must be a finite number >= 0, got {learning_rate!r}")
        self.value = value

    def at(self, step: int) -> float:
        """The rate for update ``step`` (counting from 0); a schedule's value must be a finite number >= 0."""
        if self.schedule is None:
            return self.value
        rate = self.schedule(step) if self.takes_step else self.schedule()
        if type(rate) is not float:  # the built-in schedules return floats: the check below is all they pay
            rate = self._as_float(rate, step)
        if not 0.0 <= rate <= _LARGEST:
            raise ValueError(f"the learning-rate schedule {self._name()} gave {rate} at step {step}; a learning "
                             "rate must be a finite number >= 0")
        return rate

    def _as_float(self, rate: Any, step: int) -> float:
        value = rate._value if isinstance(rate, Operand) else rate
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            shown = "None" if rate is None else f"{type(rate).__name__} {rate!r}"
            raise TypeError(f"the learning-rate schedule {self._name()} returned {shown} at step {step}; it must "
                            "return a number")
        return float(value)

    def _name(self) -> str:
        s = self.schedule
        return type(s).__name__ if isinstance(s, LearningRateSchedule) else getattr(s, "__qualname__", repr(s))

    def config(self) -> Any:
        """A number, a schedule as ``{"class_name": ..., "config": ...}`` (Keras's form), or a callable's repr."""
        if self.schedule is None:
            return self.value
        if isinstance(self.schedule, LearningRateSchedule):
            return {"class_name": type(self.schedule).__name__, "config": self.schedule.get_config()}
        return repr(self.schedule)

    @staticmethod
    def from_config(config: Any, custom_objects: dict[str, type] | None = None) -> Any:
        """The ``learning_rate`` argument that ``config()`` describes: a number or a rebuilt schedule.

        >>> import tapegrad as tg
        >>> from tapegrad.optimizers.learning_rate import LearningRate
        >>> LearningRate.from_config({"class_name": "InverseTimeDecay",
        ...                           "config": {"initial_learning_rate": 1.0, "decay_steps": 1, "decay_rate": 1.0}})(1)
        0.5
        """
        if isinstance(config, str):
            raise ValueError(f"this config's learning_rate is {config}, a function's repr, which a config cannot "
                             "rebuild; pass the function again: from_config({**config, 'learning_rate': fn})")
        if not isinstance(config, dict):
            return config
        name = config.get("class_name")
        known = {n: getattr(schedules, n) for n in schedules.__all__} | dict(custom_objects or {})
        cls = known.get(name)
        if not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
            raise ValueError(f"unknown learning-rate schedule {name!r} in the config; for a schedule of your own, "
                             f"pass custom_objects={{{name!r}: {name}}}")
        return cls.from_config(config.get("config", {}))


_LARGEST = sys.float_info.max  # `0 <= rate <= _LARGEST` is False for NaN, inf and negatives alike


def _class_given(cls: type) -> str:
    if issubclass(cls, LearningRateSchedule):
        return (f"learning_rate={cls.__name__} is the schedule class; pass an instance, {cls.__name__}(...) with "
                "its arguments, e.g. ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)")
    return f"learning_rate must be a number or a schedule instance, not the class {cls.__name__}"


def _takes_argument(fn: Callable[..., Any]) -> bool:
    """Keras also accepts a learning rate callable of no argument; tell the two kinds apart."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    for args, takes in (((0,), True), ((), False)):
        try:
            sig.bind(*args)
            return takes
        except TypeError:
            pass
    raise TypeError(f"a learning-rate callable takes the step (one argument) or no argument; "
                    f"{getattr(fn, '__qualname__', 'this one')}{sig} takes neither")


__all__ = ["LearningRate"]
