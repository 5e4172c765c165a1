"""Checks of optimizer and schedule settings, shared so that every setting's error reads the same way.

They run once, at construction: a bad setting is reported there, before any Variable changes,
rather than as a NumPy error (or a silently wrong step) at the first update.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def _where(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def number(name: str, value: Any, low: float | None = None, high: float | None = None, *,
           open_low: bool = False, open_high: bool = False, owner: str | None = None, finite: bool = True) -> float:
    """``value`` as a float if it is a real number in the interval (and finite, unless ``finite=False``).

    Otherwise a TypeError (not a number) or ValueError (out of range) naming ``name``.

    >>> from tapegrad.optimizers._checks import number
    >>> number("momentum", 0.9, 0, 1)
    0.9
    >>> number("epsilon", -1, 0)
    Traceback (most recent call last):
    ValueError: epsilon must be >= 0, got -1.0
    """
    # bool is an Integral, but momentum=True is a slip, not a number.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = "None" if value is None else f"{type(value).__name__} {value!r}"
        raise TypeError(f"{_where(owner)}{name} must be a number, got {shown}")
    value = float(value)
    ok = math.isfinite(value) or (not finite and not math.isnan(value))
    rule = "a finite number" if finite else "a number"
    if low is not None:
        ok = ok and (value > low if open_low else value >= low)
        rule = f"{'>' if open_low else '>='} {low:g}"
    if high is not None:
        ok = ok and (value < high if open_high else value <= high)
        rule = f"in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    if not ok:
        raise ValueError(f"{_where(owner)}{name} must be {rule}, got {value}")
    return value


def optional(name: str, value: Any, low: float, *, open_low: bool = False, owner: str | None = None) -> float | None:
    """None stays None (the setting is off); anything else must pass ``number``.

    >>> from tapegrad.optimizers._checks import optional
    >>> optional("clipnorm", None, 0, open_low=True) is None
    True
    """
    if value is None:
        return None
    return number(name, value, low, open_low=open_low, owner=owner)


def integer(name: str, value: Any, low: int, owner: str | None = None) -> int:
    """``value`` as an int ``>= low``; a float such as 2.5 is refused rather than truncated.

    >>> from tapegrad.optimizers._checks import integer
    >>> integer("memory", 5, 1)
    5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_where(owner)}{name} must be a whole number (an int), got {type(value).__name__} "
                        f"{value!r}")
    if value < low:
        raise ValueError(f"{_where(owner)}{name} must be >= {low}, got {value}")
    return int(value)


def flag(name: str, value: Any, owner: str | None = None) -> bool:
    """``value`` if it is True or False (a NumPy bool too); ``nesterov="no"`` would otherwise read as True.

    >>> from tapegrad.optimizers._checks import flag
    >>> flag("nesterov", False)
    False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_where(owner)}{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)
