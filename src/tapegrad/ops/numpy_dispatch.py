"""NumPy called on tensors: recorded as tapegrad ops while something records, plain NumPy otherwise.

While a GradientTape records (or a ForwardAccumulator, or ``tg.function`` traces), ``np.mean(x)``
on a tensor runs as ``tg.reduce_mean(x)`` and ``np.add.reduce(x)`` as ``tg.reduce_sum(x, 0)``:
recorded, with the op's gradient (the table is ``numpy_functions.FUNCTIONS``). Outside them
NumPy runs its own code and returns what it always did, a plain array: tapegrad adds one check.
A NumPy function with no counterpart, on a tensor inside a tape, runs on the arrays and warns
once, naming it, when it loses a gradient (a float tensor went in and a float array came out).
"""
from __future__ import annotations

import warnings
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.record import STATE
from tapegrad._core.state import escape
from tapegrad._core.tensor import Operand

from . import array_ops as A
from . import math_ops as M
from . import numpy_arrays, numpy_linalg  # noqa: F401  (they add their functions to FUNCTIONS)
from ._args import operand
from .numpy_functions import _INT, FUNCTIONS, Unsupported, _as, _refuse

_ndarray = xp.ndarray
_OURS = (Operand, _ndarray)
_WARNED: set = set()

# What to write instead, where TensorFlow has it under another name and tapegrad maps no NumPy call to it.
INSTEAD = {
    "np.argsort": "tf.argsort", "np.take_along_axis": "tf.gather(..., batch_dims=...)",
    "np.cross": "tf.linalg.cross", "np.linalg.slogdet": "tf.linalg.slogdet", "np.linalg.eigh": "tf.linalg.eigh",
    "np.linalg.svd": "tf.linalg.svd", "np.linalg.qr": "tf.linalg.qr",
    "np.linalg.lstsq": "tf.linalg.lstsq", "np.median": "tf.sort and indexing",
    "np.nansum": "tf.reduce_sum(tf.where(tf.math.is_nan(x), tf.zeros_like(x), x))",
    "np.arctan2": "tf.math.atan2", "np.fmod": "tf.math.truncatemod", "np.logaddexp": "tf.reduce_logsumexp",
}


def recording() -> bool:
    """Whether a tape, a forward accumulator or a tracer would see a tapegrad op run now.

    >>> from tapegrad.ops.numpy_dispatch import recording
    >>> recording()
    False
    """
    return bool(STATE.tapes or STATE.hooks or STATE.trace is not None)


def _name(func: Any) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    return f"np{module[5:]}.{func.__name__}" if module.startswith("numpy") else f"{module}.{func.__name__}"


def array_function(self: Operand, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    """``Operand.__array_function__``: NumPy's function ``func`` called with a tensor among its arguments."""
    if not (STATE.tapes or STATE.hooks or STATE.trace is not None):
        for t in types:
            if not issubclass(t, _OURS):
                return NotImplemented  # another library's array: its own __array_function__ answers
        return func._implementation(*args, **kwargs)
    for t in types:
        if not issubclass(t, _OURS):
            return NotImplemented
    handler = FUNCTIONS.get(func)
    why = None
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except Unsupported as e:
            why = str(e)
    return _numpy(_name(func), func._implementation, args, kwargs, why, 4)


# ufunc methods that are reductions: np.add.reduce is what np.sum runs on arrays.
_SCANS = {xp.add: (M.reduce_sum, M.cumsum, _INT), xp.multiply: (M.reduce_prod, M.cumprod, _INT),
          xp.maximum: (M.reduce_max, None, None), xp.minimum: (M.reduce_min, None, None),
          xp.logical_and: (M.reduce_all, None, None), xp.logical_or: (M.reduce_any, None, None)}


def ufunc_method(ufunc: Any, method: str, op: Any, inputs: tuple, kwargs: dict) -> Any:
    """What ``__array_ufunc__`` does beyond a plain call of a mapped ufunc (which it runs itself)."""
    if not (STATE.tapes or STATE.hooks or STATE.trace is not None):
        return _run(getattr(ufunc, method), inputs, kwargs)
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    why = None
    rest = dict(kwargs)
    try:
        _refuse(out=_given_out(rest.pop("out", None)))
        if method == "__call__" and op is not None:
            dtype = rest.pop("dtype", None)
            _refuse(**rest)
            return op(*[x if dtype is None else A.cast(x, xp.dtype(dtype)) for x in inputs])
        scan = _SCANS.get(ufunc)
        if scan is not None and method in ("reduce", "accumulate"):
            return _reduce(scan, method, *inputs, **rest)
    except Unsupported as e:
        why = str(e)
    return _numpy(name, getattr(ufunc, method), inputs, kwargs, why, 5)


def _given_out(out: Any) -> Any:
    return None if out is None or all(o is None for o in out) else out


# On bool arrays NumPy's maximum is logical or, its minimum logical and.
_LOGICAL = {M.reduce_max: M.reduce_any, M.reduce_min: M.reduce_all}


def _reduce(scan: tuple, method: str, a: Any, axis: Any = 0, dtype: Any = None, keepdims: bool = False,
            **rest: Any) -> Any:
    reduce, accumulate, ints = scan
    _refuse(**rest)
    x = operand(a) if dtype is None else A.cast(a, xp.dtype(dtype))
    if ints is not None:
        x = _as(x, None, ints)
    if method == "reduce":
        if reduce in (M.reduce_all, M.reduce_any) or x._value.dtype.kind == "b":
            x = A.cast(x, xp.bool_)
            reduce = _LOGICAL.get(reduce, reduce)
        return reduce(x, axis, keepdims)
    if accumulate is None or axis is None or keepdims:
        raise Unsupported("this accumulation")
    return accumulate(x, axis)


def _run(fn: Any, args: tuple, kwargs: dict) -> Any:
    """NumPy's own function on the tensors' arrays, as before tapegrad recorded NumPy calls."""
    if kwargs:
        return fn(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})
    return fn(*[_plain(a) for a in args])


def _numpy(name: str, fn: Any, args: tuple, kwargs: dict, why: str | None, depth: int) -> Any:
    """NumPy's function run on the arrays, warning when that loses a gradient (``depth``: the stack level of the
    user's call, seen from the warning)."""
    result = _run(fn, args, kwargs)
    if _has(args, "fc", True) or _has(list(kwargs.values()), "fc", True):
        if _has([result], "fc", False):
            _warn(name, why, depth)
    return result


def _plain(x: Any) -> Any:
    if isinstance(x, Operand):
        escape(x)
        return x._value
    if type(x) in (list, tuple) and any(isinstance(v, (Operand, list, tuple)) for v in x):
        return type(x)(_plain(v) for v in x)
    return x


def _has(values: Any, kinds: str, tensors: bool) -> bool:
    """Whether ``values`` hold (in lists and tuples too) a tensor, or an array, of one of ``kinds``."""
    for v in values:
        if isinstance(v, (list, tuple)):
            if _has(v, kinds, tensors):
                return True
        elif tensors and isinstance(v, Operand) or not tensors and isinstance(v, (_ndarray, xp.generic)):
            if xp.asarray(v._value if tensors else v).dtype.kind in kinds:
                return True
    return False


def _warn(name: str, why: str | None, depth: int) -> None:
    key = (name, why)
    if key in _WARNED:
        return
    _WARNED.add(key)
    what = f"{name} with {why}" if why else name
    hint = INSTEAD.get(name) if not why else None
    fix = (f"use {hint} instead" if hint else
           f"call {name} without {why} to have it recorded, or write it with tapegrad ops" if why else
           "write it with tapegrad ops (tf.math, tf.linalg, ...) or give it a gradient with tf.custom_gradient")
    warnings.warn(f"{what} has no tapegrad counterpart: on a tensor, while a tape records, it runs as plain NumPy, "
                  f"which is not recorded, so gradients through it are None; {fix}.", stacklevel=depth)
