"""Turning user arguments into operands, with TensorFlow's dtype rules and clear errors."""
from __future__ import annotations

from typing import Any

from tapegrad._core.dtypes import of_numpy
from tapegrad._core.errors import DTypeError
from tapegrad._core.tensor import Operand, Tensor, convert_to_tensor, to_array

_new = object.__new__


def operand(x: Any) -> Operand:
    """A Tensor or Variable as it is; anything else converted (Python float -> float32)."""
    if isinstance(x, Operand):
        return x
    if isinstance(x, (list, tuple)):
        return convert_to_tensor(x)  # a list holding tensors is stacked, not cut from the tape
    t = _new(Tensor)
    t._value = to_array(x)
    return t


def pair(x: Any, y: Any, op: str) -> tuple[Operand, Operand]:
    """Two operands of one dtype: a plain value takes the other operand's dtype, as in TensorFlow."""
    if isinstance(x, Operand):
        if isinstance(y, Operand):
            dx, dy = x._value.dtype, y._value.dtype
            if dx is not dy and dx != dy:
                a, b = of_numpy(x._value.dtype).name, of_numpy(y._value.dtype).name
                raise DTypeError(
                    f"{op}: the operands have different dtypes, {a} and {b}; tapegrad (like TensorFlow) does not "
                    f"convert silently. Cast one of them, e.g. tg.cast(y, tg.{a})")
            return x, y
        if type(y) is float or type(y) is int:  # `x * 2.0`: the hot path of every expression
            dtype = x._value.dtype
            if dtype.kind in "fc":
                c = _new(Tensor)
                c._value = dtype.type(y)
                return x, c
        return x, _like(y, x, op)
    if isinstance(y, Operand):
        if type(x) is float or type(x) is int:
            dtype = y._value.dtype
            if dtype.kind in "fc":
                c = _new(Tensor)
                c._value = dtype.type(x)
                return c, y
        return _like(x, y, op), y
    xt = operand(x)
    return xt, _like(y, xt, op)


def _like(value: Any, other: Operand, op: str) -> Tensor:
    t = _new(Tensor)
    try:
        t._value = to_array(value, other._value.dtype)
    except TypeError as e:
        raise DTypeError(f"{op}: {e}") from None
    return t


def axis_param(axis: Any, ndim: int, op: str) -> tuple | None:
    """``axis`` as a sorted tuple of non-negative ints (None: all axes)."""
    if axis is None:
        return None
    if isinstance(axis, Operand):
        axis = axis.numpy().tolist()
    axes = (axis,) if isinstance(axis, int) or hasattr(axis, "__index__") else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of rank {ndim} "
                             f"(valid axes: {-ndim} to {ndim - 1})")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def shape_param(shape: Any) -> tuple:
    if isinstance(shape, Operand):
        return tuple(int(s) for s in shape.numpy().reshape(-1))
    if isinstance(shape, int) or hasattr(shape, "__index__"):
        return (int(shape),)
    return tuple(map(int, shape))


def float_tensor(x: Any, op: str) -> Operand:
    """Ops defined on reals refuse integer tensors with a fix, as TensorFlow does."""
    x = operand(x)
    if x._value.dtype.kind not in "fc":
        raise DTypeError(f"{op} needs a floating-point tensor, got {of_numpy(x._value.dtype).name}; "
                         f"cast it first: tg.cast(x, tg.float32)")
    return x


__all__ = ["Tensor", "axis_param", "float_tensor", "operand", "pair", "shape_param"]
