"""Forward kernels: the array-level functions that the table's primitives run forward.

They see arrays only (never Tensors) and reach them only through ``xp`` (see ``_core.backend``);
the derivative rules live in ``table``. Ops whose forward is one library call name it in the table.
Kernels use the array API's spellings (``xp.reshape(x, s)``, ``dtype=`` by keyword) so that the same
code runs on every library; NumPy-only fast paths sit behind ``isinstance(x, NUMPY)`` (``xp.ndarray``
stays NumPy's on another library's namespace, so those checks are false there).
"""
from __future__ import annotations

from typing import Any

import numpy as np  # host-side index arithmetic only: index params are NumPy arrays on every library

from tapegrad._core.backend import xp
from tapegrad._core.errors import InvalidArgumentError

INTS = frozenset(xp.dtype(t) for t in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8))
NUMPY = (xp.ndarray, xp.generic)


def astype(x: Any, dtype: Any) -> Any:
    """``x`` as ``dtype`` (no copy when it is already): the method on NumPy, the standard's function elsewhere."""
    if isinstance(x, NUMPY):
        return x.astype(dtype, copy=False)
    return xp.astype(x, dtype, copy=False)


def reshape(x: Any, shape: tuple) -> Any:
    return x.reshape(shape) if isinstance(x, NUMPY) else xp.reshape(x, shape)


# ---- arithmetic ---------------------------------------------------------------------------------


def truediv(x: Any, y: Any) -> Any:
    if x.dtype in INTS:  # TensorFlow: 8- and 16-bit integers divide in float32, wider ones in float64
        dtype = xp.float32 if x.dtype.itemsize <= 2 else xp.float64
        return astype(x, dtype) / astype(y, dtype)
    return x / y


def power(x: Any, y: Any) -> Any:
    if y.ndim == 0 and y == 2 and x.dtype.kind in "fiu":
        return x * x  # the same values as xp.power(x, 2), ten times quicker on the scalars of a descent
    if x.dtype in INTS and xp.any(y < 0):
        raise InvalidArgumentError("pow: integers to negative integer powers are not allowed (as in TensorFlow); "
                                   "cast to float first: tg.cast(x, tg.float32)")
    return xp.power(x, y)


def _nonzero_divisor(op: str, x: Any, y: Any) -> None:
    if x.dtype in INTS and not xp.all(y):
        raise InvalidArgumentError(f"{op}: integer division by zero (as in TensorFlow); make the divisor nonzero "
                                   "or divide in floating point: tg.cast(x, tg.float32)")


def floormod(x: Any, y: Any) -> Any:
    _nonzero_divisor("floormod", x, y)
    return xp.mod(x, y)


def floordiv(x: Any, y: Any) -> Any:
    _nonzero_divisor("floordiv", x, y)
    return xp.floor_divide(x, y)


def truncatediv(x: Any, y: Any) -> Any:
    _nonzero_divisor("truncatediv", x, y)
    if x.dtype.kind == "f":
        return xp.trunc(x / y)
    return (x - xp.fmod(x, y)) // y  # fmod keeps x's sign: what is left divides exactly


def mul_no_nan(x: Any, y: Any) -> Any:
    with xp.errstate(invalid="ignore"):  # inf * 0, which the where then replaces
        return xp.where(y == 0, xp.zeros((), dtype=xp.result_type(x, y)), x * y)


def div_no_nan(x: Any, y: Any) -> Any:
    zero = y == 0
    with xp.errstate(divide="ignore", invalid="ignore"):
        q = truediv(x, xp.where(zero, xp.ones((), dtype=y.dtype), y))  # integers divide as in divide
        return xp.where(zero, xp.zeros((), dtype=q.dtype), q)


# ---- element-wise functions ---------------------------------------------------------------------


_REAL_PART = {xp.dtype(xp.complex64): xp.dtype(xp.float32), xp.dtype(xp.complex128): xp.dtype(xp.float64)}


def angle(x: Any) -> Any:
    out = xp.angle(x)
    if x.dtype.kind not in "fc":
        return out
    return astype(out, _REAL_PART.get(x.dtype, x.dtype))


def rint(x: Any) -> Any:
    return x if x.dtype.kind in "iu" else xp.rint(x)  # integers are round already


def _big_float(x: Any) -> bool:
    """An array worth working on in place (a NumPy scalar cannot be written into)."""
    return type(x) is xp.ndarray and x.ndim > 0 and x.dtype.kind == "f"


def sigmoid(x: Any) -> Any:
    if _big_float(x):
        # 1 / (1 + exp(-x)) in one buffer; exp(-x) overflowing to inf (x < -709) gives the right 0.
        with xp.errstate(over="ignore"):
            r = xp.negative(x)
            xp.exp(r, out=r)
        r += 1
        return xp.reciprocal(r, out=r)
    # exp of -|x| never overflows: stable for large inputs of either sign.
    e = xp.exp(-xp.abs(x))
    return astype(xp.where(x >= 0, 1 / (1 + e), e / (1 + e)), x.dtype)


def softplus(x: Any) -> Any:
    if _big_float(x):
        # max(x, 0) + log(1 + exp(-|x|)) in one buffer: NumPy's logaddexp is a scalar loop, 2x slower.
        t = xp.abs(x)
        xp.negative(t, out=t)
        xp.exp(t, out=t)
        xp.log1p(t, out=t)
        t += xp.maximum(x, 0)
        return t
    return xp.logaddexp(xp.zeros((), dtype=x.dtype), x)


def relu(x: Any) -> Any:
    return xp.maximum(x, xp.zeros((), dtype=x.dtype))


_BITS = {4: xp.dtype(xp.uint32), 8: xp.dtype(xp.uint64)}


def where(c: Any, x: Any, y: Any) -> Any:
    """xp.where; on large arrays of one 4- or 8-byte dtype, as a bitwise select.

    NumPy's where branches on every element, so a random mask (a ReLU's, say) costs ~10x
    an arithmetic pass; ``(x & m) | (y & ~m)`` with an all-ones mask selects the same bits.
    """
    dtype = x.dtype
    if (type(c) is not xp.ndarray or c.size < 4096 or y.dtype != dtype or dtype.itemsize not in _BITS
            or dtype.kind not in "fiu"):
        return xp.where(c, x, y)
    bits = _BITS[dtype.itemsize]
    m = c.astype(bits)
    xp.negative(m, out=m)  # 1 -> all ones
    xb = xp.asarray(x).view(bits)
    if y.ndim or y != 0 or xp.signbit(y):
        out = xp.bitwise_and(xb, m) | xp.bitwise_and(xp.asarray(y).view(bits), xp.invert(m, out=m))
    else:  # selecting +0.0 is all-zero bits; into the mask's buffer when the shapes allow
        out = xp.bitwise_and(xb, m, out=m if m.shape == xp.broadcast_shapes(m.shape, xb.shape) else None)
    return out.view(dtype)


# ---- reductions and scans -----------------------------------------------------------------------


def _keep_int(x: Any) -> Any:
    """The dtype to reduce integers in: their own, as TensorFlow does (NumPy widens them to int64)."""
    return x.dtype if x.dtype in INTS else None


def reduce_sum(x: Any, axis: tuple | None, keepdims: bool) -> Any:
    return xp.sum(x, axis=axis, keepdims=keepdims, dtype=_keep_int(x))


def reduce_prod(x: Any, axis: tuple | None, keepdims: bool) -> Any:
    return xp.prod(x, axis=axis, keepdims=keepdims, dtype=_keep_int(x))


def _scan(scan: Any, start: Any, x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    """``scan`` (a cumulative ufunc reduction) along ``axis``; ``exclusive`` shifts in ``start`` (its identity)."""
    if reverse:
        x = xp.flip(x, axis=axis)
    out = scan(x, axis=axis, dtype=x.dtype)
    if exclusive:
        lead = (slice(None),) * (axis % x.ndim)
        out = xp.concatenate([start(out[lead + (slice(0, 1), ...)]), out[lead + (slice(0, -1), ...)]], axis=axis)
    return xp.flip(out, axis=axis) if reverse else out


def cumsum(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    return _scan(xp.cumsum, xp.zeros_like, x, axis, exclusive, reverse)


def cumprod(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    return _scan(xp.cumprod, xp.ones_like, x, axis, exclusive, reverse)


def _kept_sum(x: Any, axis: tuple) -> Any:
    if type(x) is np.ndarray:  # what np.sum calls, without its Python wrapper (a MLP step's softmaxes call it thrice)
        return np.add.reduce(x, axis, keepdims=True)
    return xp.sum(x, axis=axis, keepdims=True)


def _shift(x: Any, axis: tuple) -> Any:
    """x minus its max along ``axis``: exp of it cannot overflow."""
    if type(x) is np.ndarray:
        return x - np.maximum.reduce(x, axis, keepdims=True)
    return x - xp.max(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: tuple) -> Any:
    e = xp.exp(_shift(x, axis))
    e /= _kept_sum(e, axis)
    return e


def log_softmax(x: Any, axis: tuple) -> Any:
    s = _shift(x, axis)
    s -= xp.log(_kept_sum(xp.exp(s), axis))
    return s


# ---- shapes and indexing ------------------------------------------------------------------------


def sum_to(x: Any, shape: tuple) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    out = xp.sum(x, axis=axes, keepdims=True) if axes else x
    return reshape(out, shape)


def _has_arrays(index: tuple) -> bool:
    return any(isinstance(k, np.ndarray) for k in index)


def _full_index(index: tuple) -> tuple:
    """``index`` with a trailing ``...``: the standard wants every axis named (NumPy fills in the rest)."""
    return index if any(k is Ellipsis for k in index) else index + (Ellipsis,)


def _positions(shape: tuple, index: tuple) -> Any:
    """Where in the flattened array of ``shape`` each element of ``array[index]`` comes from (NumPy, on the host)."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[index]


def getitem(x: Any, index: tuple) -> Any:
    if isinstance(x, NUMPY) or not _has_arrays(index):
        return x[index] if isinstance(x, NUMPY) else x[_full_index(index)]
    if type(x).__module__.startswith("dask"):
        return x[index]  # Dask indexes with NumPy arrays itself, chunk by chunk
    # the standard indexes with integer arrays only when every index is one: a take on the flattened array instead
    pos = _positions(x.shape, index)
    return xp.reshape(xp.take(xp.reshape(x, (-1,)), xp.asarray(pos.reshape(-1))), pos.shape)


def gather_reduce(values: Any, pos: Any, n: int, combine: Any, fill: Any) -> Any:
    """``n`` rows: row j combines, in order, the rows i of ``values`` with ``pos[i] == j`` (``fill`` where none).

    NumPy's ``add.at`` in standard calls, which have no scatter: the k-th occurrence of each position
    forms layer k, one ``take`` each, and the layers are combined (``pos`` is a NumPy array on the host).
    """
    pos = np.asarray(pos, dtype=np.int64).reshape(-1)
    order = np.argsort(pos, kind="stable")
    sorted_pos = pos[order]
    counts = np.bincount(sorted_pos, minlength=n)
    rank = np.arange(pos.size) - (np.cumsum(counts) - counts)[sorted_pos]
    layers = int(counts.max()) if pos.size else 0
    table = np.full((max(layers, 1), n), values.shape[0], dtype=np.int64)  # the extra last row: ``fill``
    table[rank, sorted_pos] = order
    rows = xp.concat([values, xp.full((1,) + tuple(values.shape[1:]), fill, dtype=values.dtype)], axis=0)
    out = xp.take(rows, xp.asarray(table[0]), axis=0)
    for k in range(1, layers):
        out = combine(out, xp.take(rows, xp.asarray(table[k]), axis=0))
    return out


def scatter(g: Any, index: tuple, shape: tuple) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    if isinstance(g, NUMPY) or not _has_arrays(index):
        out = xp.zeros(shape, dtype=g.dtype)
        if not _has_arrays(index):
            out[index if isinstance(g, NUMPY) else _full_index(index)] = g
        else:
            xp.add.at(out, index, g)
        return out
    pos = _positions(shape, index)
    g = xp.reshape(xp.broadcast_to(g, pos.shape), (-1,))
    return xp.reshape(gather_reduce(g, pos, int(np.prod(shape)), xp.add, 0), shape)


def cast(x: Any, dtype: Any) -> Any:
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = xp.real(x)  # TensorFlow keeps the real part (NumPy does too, with a warning)
    return astype(x, dtype)
