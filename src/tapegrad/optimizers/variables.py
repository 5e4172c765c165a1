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

from tapegrad._core import backend
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


# ---- a parameter on a device (CuPy, array_api_strict, ...): reduced there, only the scalar comes back ----------
def on_device(x: Any) -> bool:
    """Whether ``x`` is another library's array (a GPU's, say) rather than a NumPy one.

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import on_device
    >>> on_device(np.zeros(2)), on_device(np.float32(1.0))
    (False, False)
    """
    return type(x) not in backend.NATIVE and backend.is_foreign(x)


def _f64(x: Any) -> Any:
    ns = backend.namespace(x)
    return x if backend.np_dtype(x.dtype) == np.float64 else ns.astype(x, np.float64)


def sum_of_squares(x: Any) -> float:
    """The sum of ``x``'s squared elements in float64, as a Python float (on a device: summed there).

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import sum_of_squares
    >>> sum_of_squares(np.array([3.0, 4.0], np.float32))
    25.0
    """
    if not on_device(x):
        x = np.asarray(x, np.float64).reshape(-1)
        return float(np.vdot(x, x))
    x = _f64(x)
    return float(backend.namespace(x).sum(x * x))


def all_finite(x: Any) -> bool:
    """Whether every element of ``x`` is finite (on a device: checked there).

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import all_finite
    >>> all_finite(np.array([1.0, np.inf]))
    False
    """
    if not on_device(x):
        return bool(np.isfinite(x).all())
    ns = backend.namespace(x)
    return bool(ns.all(ns.isfinite(x)))


def any_nonzero(x: Any) -> bool:
    """Whether some element of ``x`` is not zero (on a device: checked there).

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import any_nonzero
    >>> any_nonzero(np.zeros(3)), any_nonzero(np.array([0.0, -1e-300]))
    (False, True)
    """
    if not on_device(x):
        return bool(np.any(x))
    return bool(backend.namespace(x).any(x != 0))


def max_abs(x: Any) -> float:
    """The largest absolute value in ``x`` as a Python float (on a device: found there).

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import max_abs
    >>> max_abs(np.array([1.0, -3.0]))
    3.0
    """
    if not on_device(x):
        return float(np.max(np.abs(x)))
    ns = backend.namespace(x)
    return float(ns.max(ns.abs(x)))


def same_values(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` hold equal values (``np.array_equal``; on a device: compared there).

    >>> import numpy as np
    >>> from tapegrad.optimizers.variables import same_values
    >>> same_values(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    True
    """
    if not (on_device(a) or on_device(b)):
        return bool(np.array_equal(a, b))
    ns = backend.namespace(a if on_device(a) else b)
    return tuple(a.shape) == tuple(b.shape) and bool(ns.all(a == b))


__all__ = ["all_finite", "any_nonzero", "as_array", "assign_value", "check_variable", "max_abs", "on_device",
           "same_values", "sum_of_squares", "variable_list"]
