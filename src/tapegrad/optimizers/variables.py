"""What optimizer objects do to their inputs: read gradients as arrays, check Variables, write new values.

>>> import tapegrad as tg
>>> from tapegrad.optimizers.variables import as_array, variable_list
>>> w = tg.Variable(1.0)
>>> as_array(tg.constant(2.0)), variable_list(w) == [w]
(np.float32(2.0), True)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tapegrad._core.tensor import Operand, Variable


def as_array(x: Any, dtype: Any = None) -> Any:
    """A NumPy array (or NumPy scalar) for a tensor, array or number, cast to ``dtype`` if given.

    Anything else (None, a string, an object) is a TypeError whose message continues a sentence
    naming the value, e.g. "the gradient for Variable 'w' " + message.

    >>> from tapegrad.optimizers.variables import as_array
    >>> as_array(2, "float32")
    array(2., dtype=float32)
    """
    if isinstance(x, Operand):
        x = x._value
    elif not isinstance(x, (np.ndarray, np.generic)):
        # Converted without a dtype first: np.asarray(x, float) would read "1.0" as 1.0 and None as NaN,
        # and neither is a gradient anyone meant.
        try:
            a = np.asarray(x)
        except (TypeError, ValueError):
            raise TypeError(_not_numbers(x)) from None
        if a.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
        target = np.float64 if dtype is None else dtype
        return a if a.dtype == target else a.astype(target)
    if dtype is None:
        if x.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
    elif x.dtype != dtype:  # an array already in a Variable's float dtype needs no kind check
        if x.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
        x = x.astype(dtype)
    return x


def _not_numbers(x: Any) -> str:
    shown = "None" if x is None else f"{type(x).__name__} {x!r:.60}"
    return f"is {shown}, not a number, array or tensor of real numbers"


def variable_list(var_list: Any) -> list:
    """``var_list`` as a list: a list or tuple of Variables, a function returning one, or a single Variable.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> from tapegrad.optimizers.variables import variable_list
    >>> variable_list(w) == [w], variable_list(lambda: [w]) == [w]
    (True, True)
    """
    if callable(var_list) and not isinstance(var_list, Operand):
        var_list = var_list()
    if isinstance(var_list, Variable):  # as tf.nest.flatten in TF2's minimize: one Variable is a list of one
        return [var_list]
    if isinstance(var_list, Operand) or not isinstance(var_list, Iterable):
        raise TypeError(f"var_list must be a list of Variables, got {type(var_list).__name__}; e.g. "
                        "opt.minimize(loss_fn, [w, b])")
    var_list = list(var_list)
    for v in var_list:
        check_variable(v)
    return var_list


def check_variable(v: Any) -> None:
    """Raise the error for something that is not a Variable an optimizer can update (a float Variable)."""
    if not isinstance(v, Variable):
        raise TypeError(f"optimizers update tg.Variable objects, not {type(v).__name__}; make the parameter a "
                        "Variable: w = tg.Variable(1.0)")
    if v._value.dtype.kind != "f":
        raise TypeError(f"Variable '{v.name}' has dtype {v.dtype.name}; only real floating-point Variables can "
                        "be optimized. Create it from a float, e.g. tg.Variable(1.0)")


def assign_value(var: Variable, value: Any) -> None:
    """Give ``var`` a new value computed from its old one (same shape and dtype).

    Optimizers make a new array on every update and never write into the old one, as
    ``Variable.assign`` does, so tensors read earlier keep their values. Writing the
    attribute directly skips ``assign``'s conversions, which cost more than the update itself
    on small problems.
    """
    var._value = value


__all__ = ["as_array", "assign_value", "check_variable", "variable_list"]
