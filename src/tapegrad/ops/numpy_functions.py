"""NumPy's functions on tensors, each as the tapegrad ops that mean the same (``np.mean`` -> ``reduce_mean``).

Each entry takes NumPy's arguments under NumPy's names and defaults and gives NumPy's values; it
runs only while something records (see ``numpy_dispatch``). An argument it cannot honour raises
``Unsupported``, and NumPy's own function runs instead, with a warning; ``out=`` is refused, as a
tensor cannot be written into.
"""
from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.tensor import Operand, Tensor

from . import array_ops as A
from . import constructors as C
from . import math_ops as M
from ._args import operand

FUNCTIONS: dict[Callable, Callable] = {}
_NO: Any = object()  # "not given": NumPy's own sentinel is private


class Unsupported(Exception):
    """An argument the tapegrad ops cannot take; the message names it."""


def _maps(*funcs: Callable) -> Callable:
    def put(handler: Callable) -> Callable:
        for f in funcs:
            FUNCTIONS[f] = handler
        return handler
    return put


def _refuse(**given: Any) -> None:
    """``out=`` is an error; any other argument given a value NumPy does not take by default is Unsupported."""
    for name, value in given.items():
        if value is _NO or value is None:
            continue
        if name == "out":
            raise TypeError("out= cannot be used on a tensor inside a GradientTape: a tensor is immutable and writing "
                            "into an array would cut the tape; assign the result instead, e.g. y = np.sum(x)")
        if name == "order" and value in ("C", "K", "A"):
            continue
        raise Unsupported(f"{name}={value!r}" if isinstance(value, (str, int, float)) else f"{name}=")


_INT = xp.dtype(xp.int64)
_F64 = xp.dtype(xp.float64)


def _as(a: Any, dtype: Any, ints: Any) -> Operand:
    """``a`` as an operand of ``dtype``; with none given, NumPy's accumulator for integer and bool input."""
    x = operand(a)
    if dtype is None:
        if x._value.dtype.kind not in "biu" or x._value.dtype == ints:
            return x
        dtype = ints
    return A.cast(x, xp.dtype(dtype))


def _flat(x: Operand) -> Tensor:
    return A.reshape(x, (-1,))


def _ndim(x: Operand) -> int:
    return x._value.ndim


def _axes(axis: Any, n: int) -> list:
    return [int(a) % builtins.max(n, 1) for a in ((axis,) if hasattr(axis, "__index__") else axis)]


# ---- reductions ---------------------------------------------------------------------------------------
@_maps(xp.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO, where=_NO):
    _refuse(out=out, initial=initial, where=where)
    return M.reduce_sum(_as(a, dtype, _INT), axis, keepdims)


@_maps(xp.prod)
def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO, where=_NO):
    _refuse(out=out, initial=initial, where=where)
    return M.reduce_prod(_as(a, dtype, _INT), axis, keepdims)


@_maps(xp.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NO):
    _refuse(out=out, where=where)
    return M.reduce_mean(_as(a, dtype, _F64), axis, keepdims)


def _extreme(most: Any, truth: Any) -> Callable:
    def reduce(a, axis=None, out=None, keepdims=False, initial=_NO, where=_NO):
        _refuse(out=out, initial=initial, where=where)
        x = operand(a)
        return (truth if x._value.dtype.kind == "b" else most)(x, axis, keepdims)
    return reduce


_maps(xp.max, xp.amax)(_extreme(M.reduce_max, M.reduce_any))
_maps(xp.min, xp.amin)(_extreme(M.reduce_min, M.reduce_all))


def _logical(reduce: Any) -> Callable:
    def fn(a, axis=None, out=None, keepdims=False, *, where=_NO):
        _refuse(out=out, where=where)
        return reduce(A.cast(a, xp.bool_), axis, keepdims)
    return fn


_maps(xp.all)(_logical(M.reduce_all))
_maps(xp.any)(_logical(M.reduce_any))


def _arg(index: Any) -> Callable:
    def fn(a, axis=None, out=None, *, keepdims=False):
        _refuse(out=out)
        x = operand(a)
        if axis is None:
            i = index(_flat(x), 0)
            return A.reshape(i, (1,) * _ndim(x)) if keepdims else i
        i = index(x, axis)
        return A.expand_dims(i, axis) if keepdims else i
    return fn


_maps(xp.argmax)(_arg(M.argmax))
_maps(xp.argmin)(_arg(M.argmin))


def _scan(op: Any) -> Callable:
    def fn(a, axis=None, dtype=None, out=None):
        _refuse(out=out)
        x = _as(a, dtype, _INT)
        return op(_flat(x), 0) if axis is None else op(x, axis)
    return fn


_maps(xp.cumsum)(_scan(M.cumsum))


@_maps(xp.cumulative_sum)
def _cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    _refuse(out=out, include_initial=include_initial or None)
    return _scan(M.cumsum)(x, 0 if axis is None else axis, dtype)
_maps(xp.cumprod)(_scan(M.cumprod))


def _moments(root: bool) -> Callable:
    def fn(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NO, mean=_NO,
           correction=_NO):
        _refuse(out=out, where=where, mean=mean)
        x = _as(a, dtype, _F64)
        if x._value.dtype.kind == "c":
            raise Unsupported("a complex tensor")
        n = x._value.size if axis is None else math.prod(x._value.shape[i] for i in _axes(axis, _ndim(x)))
        ddof = ddof if correction is _NO else correction
        d = x - M.reduce_mean(x, axis, keepdims=True)
        v = M.reduce_sum(d * d, axis, keepdims) / (n - ddof)
        return M.sqrt(v) if root else v
    return fn


_maps(xp.var)(_moments(False))
_maps(xp.std)(_moments(True))


# ---- shapes -------------------------------------------------------------------------------------------
@_maps(xp.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _refuse(order=order)
    return A.reshape(a, newshape if shape is None else shape)


@_maps(xp.ravel)
def _ravel(a, order="C"):
    _refuse(order=order)
    return _flat(operand(a))


@_maps(xp.transpose, xp.permute_dims)
def _transpose(a, axes=None):
    return A.transpose(a, axes)


@_maps(xp.matrix_transpose, xp.linalg.matrix_transpose)
def _matrix_transpose(x):
    return A.matrix_transpose(x)


@_maps(xp.astype)
def _astype(x, dtype, /, *, copy=True, device=None):
    return A.cast(x, xp.dtype(dtype))


@_maps(xp.unstack)
def _unstack(x, /, *, axis=0):
    return tuple(A.unstack(x, axis=axis))


def _moveaxis(x: Operand, source: Any, destination: Any) -> Tensor:
    n = _ndim(x)
    src, dst = _axes(source, n), _axes(destination, n)
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return A.transpose(x, order)


@_maps(xp.moveaxis)
def _moveaxis_np(a, source, destination):
    return _moveaxis(operand(a), source, destination)


@_maps(xp.swapaxes)
def _swapaxes(a, axis1, axis2):
    x = operand(a)
    perm = list(range(_ndim(x)))
    i, j = _axes((axis1, axis2), _ndim(x))
    perm[i], perm[j] = perm[j], perm[i]
    return A.transpose(x, perm)


@_maps(xp.squeeze)
def _squeeze(a, axis=None):
    return A.squeeze(a, axis)


@_maps(xp.expand_dims)
def _expand_dims(a, axis):
    x = operand(a)
    n = _ndim(x) + (1 if hasattr(axis, "__index__") else len(axis))
    new = _axes(axis, n)
    dims = iter(x._value.shape)
    return A.reshape(x, tuple(1 if i in new else next(dims) for i in range(n)))


def _join(arrays: Any, dtype: Any) -> list:
    xs = [operand(v) for v in arrays]
    return xs if dtype is None else [A.cast(x, xp.dtype(dtype)) for x in xs]


@_maps(xp.concatenate, xp.concat)
def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse(out=out)
    xs = _join(arrays, dtype)
    return A.concat([_flat(x) for x in xs], 0) if axis is None else A.concat(xs, axis)


@_maps(xp.stack)
def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _refuse(out=out)
    return A.stack(_join(arrays, dtype), axis)


def _at_least(x: Operand, n: int) -> Tensor | Operand:
    shape = x._value.shape
    if len(shape) >= n:
        return x
    return A.reshape(x, (1, 1) if n == 2 and not shape else (1,) + shape if n == 2 else (1,))


@_maps(xp.vstack)
def _vstack(tup, *, dtype=None, casting="same_kind"):
    return A.concat([_at_least(x, 2) for x in _join(tup, dtype)], 0)


@_maps(xp.hstack)
def _hstack(tup, *, dtype=None, casting="same_kind"):
    xs = [_at_least(x, 1) for x in _join(tup, dtype)]
    return A.concat(xs, 0 if _ndim(xs[0]) == 1 else 1)


@_maps(xp.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    return A.broadcast_to(array, shape)


@_maps(xp.tile)
def _tile(A_, reps):
    x = operand(A_)
    reps = (int(reps),) if isinstance(reps, int) or hasattr(reps, "__index__") else tuple(map(int, reps))
    n = builtins.max(len(reps), _ndim(x))
    x = A.reshape(x, (1,) * (n - _ndim(x)) + tuple(x._value.shape))
    return A.tile(x, (1,) * (n - len(reps)) + reps)


@_maps(xp.take)
def _take(a, indices, axis=None, out=None, mode="raise"):
    _refuse(out=out, mode=None if mode == "raise" else mode)
    x = operand(a)
    return A.gather(_flat(x), indices, axis=0) if axis is None else A.gather(x, indices, axis=axis)


@_maps(xp.flip)
def _flip(m, axis=None):
    x = operand(m)
    flipped = range(_ndim(x)) if axis is None else _axes(axis, _ndim(x))
    return A.getitem(x, tuple(slice(None, None, -1) if i in flipped else slice(None) for i in range(_ndim(x))))


@_maps(xp.diff)
def _diff(a, n=1, axis=-1, prepend=_NO, append=_NO):
    _refuse(prepend=prepend, append=append)
    x = operand(a)
    (ax,) = _axes(axis, _ndim(x))
    head = (slice(None),) * ax
    for _ in range(int(n)):
        x = A.getitem(x, (*head, slice(1, None))) - A.getitem(x, (*head, slice(None, -1)))
    return x


@_maps(xp.copy)
def _copy(a, order="K", subok=False):
    return A.identity(a)


# ---- elementwise functions that are not ufuncs --------------------------------------------------------
@_maps(xp.where)
def _where(condition, x=_NO, y=_NO):
    if x is _NO or y is _NO:
        raise Unsupported("a condition alone")
    return A.where(A.cast(condition, xp.bool_), x, y)


@_maps(xp.clip)
def _clip(a, a_min=_NO, a_max=_NO, out=None, *, min=_NO, max=_NO, **kwargs):
    _refuse(out=out, **kwargs)
    lo = min if a_min is _NO else a_min
    hi = max if a_max is _NO else a_max
    lo, hi = (None if v is _NO else v for v in (lo, hi))
    if lo is not None and hi is not None:
        return M.clip_by_value(a, lo, hi)
    if lo is None and hi is None:
        raise ValueError("np.clip: give a lower bound, an upper bound or both")
    return M.maximum(a, lo) if hi is None else M.minimum(a, hi)


@_maps(xp.round, xp.around)
def _round(a, decimals=0, out=None):
    _refuse(out=out)
    x = operand(a)
    if decimals == 0:
        return M.round(x)
    if x._value.dtype.kind != "f":
        raise Unsupported(f"decimals={decimals!r} on a {x.dtype.name} tensor")
    scale = 10.0 ** operator.index(decimals)
    return M.round(x * scale) / scale  # NumPy's own way, so the values agree


_maps(xp.real)(lambda val: M.real(val))
_maps(xp.imag)(lambda val: M.imag(val))


@_maps(xp.angle)
def _angle(z, deg=False):
    return M.angle(z) * (180.0 / xp.pi) if deg else M.angle(z)


def _like(make: Any) -> Callable:
    def fn(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        _refuse(shape=shape)
        return make(a, None if dtype is None else xp.dtype(dtype))
    return fn


_maps(xp.zeros_like)(_like(C.zeros_like))
_maps(xp.ones_like)(_like(C.ones_like))


@_maps(xp.full_like)
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    _refuse(shape=shape)
    x = operand(a)
    want = x._value.dtype if dtype is None else xp.dtype(dtype)
    return C.fill(x._value.shape, A.cast(xp.asarray(fill_value).astype(want), want))
