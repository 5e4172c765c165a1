"""Forward kernels: the array-level functions that the table's primitives run forward.

They see arrays only (never Tensors) and reach them only through ``xp`` (see ``_core.backend``);
the derivative rules live in ``table``. Ops whose forward is one library call name it in the table.
"""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.errors import InvalidArgumentError

INTS = frozenset(xp.dtype(t) for t in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8))


# ---- arithmetic ---------------------------------------------------------------------------------


def truediv(x: Any, y: Any) -> Any:
    if x.dtype in INTS:  # TensorFlow: 8- and 16-bit integers divide in float32, wider ones in float64
        return xp.true_divide(x, y, dtype=xp.float32 if x.dtype.itemsize <= 2 else xp.float64)
    return x / y


def power(x: Any, y: Any) -> Any:
    if y.ndim == 0 and y == 2 and x.dtype.kind in "fiu":
        return x * x  # the same values as xp.power(x, 2), ten times quicker on the scalars of a descent
    if x.dtype in INTS and (y < 0).any():
        raise InvalidArgumentError("pow: integers to negative integer powers are not allowed (as in TensorFlow); "
                                   "cast to float first: tg.cast(x, tg.float32)")
    return xp.power(x, y)


def _nonzero_divisor(op: str, x: Any, y: Any) -> None:
    if x.dtype in INTS and not y.all():
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


def angle(x: Any) -> Any:
    out = xp.angle(x)
    real = x.real.dtype if x.dtype.kind in "fc" else out.dtype
    return out.astype(real, copy=False)


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
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


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
    if c.size < 4096 or y.dtype != dtype or dtype.itemsize not in _BITS or dtype.kind not in "fiu":
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
        x = xp.flip(x, axis)
    out = scan(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = xp.concatenate([start(xp.take(out, [0], axis=axis)),
                              xp.take(out, xp.arange(out.shape[axis] - 1), axis=axis)], axis=axis)
    return xp.flip(out, axis) if reverse else out


def cumsum(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    return _scan(xp.cumsum, xp.zeros_like, x, axis, exclusive, reverse)


def cumprod(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    return _scan(xp.cumprod, xp.ones_like, x, axis, exclusive, reverse)


def _shift(x: Any, axis: tuple) -> Any:
    """x minus its max along ``axis``: exp of it cannot overflow."""
    return x - xp.max(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: tuple) -> Any:
    e = xp.exp(_shift(x, axis))
    e /= xp.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(x: Any, axis: tuple) -> Any:
    s = _shift(x, axis)
    s -= xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))
    return s


# ---- shapes and indexing ------------------------------------------------------------------------


def sum_to(x: Any, shape: tuple) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    out = xp.sum(x, axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


def scatter(g: Any, index: tuple, shape: tuple) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    out = xp.zeros(shape, dtype=g.dtype)
    if any(isinstance(k, xp.ndarray) for k in index):
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


def cast(x: Any, dtype: Any) -> Any:
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real  # TensorFlow keeps the real part (NumPy does too, with a warning)
    return x.astype(dtype, copy=False)
