"""Turning user arguments into operands, with TensorFlow's dtype rules and clear errors."""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import of_kinds, of_numpy, refusal
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
                c._value = _NUMBERS.get((dtype.type, y)) or _number(dtype.type, y)
                return x, c
        return x, _like(y, x, op)
    if isinstance(y, Operand):
        if type(x) is float or type(x) is int:
            dtype = y._value.dtype
            if dtype.kind in "fc":
                c = _new(Tensor)
                c._value = _NUMBERS.get((dtype.type, x)) or _number(dtype.type, x)
                return c, y
        return _like(x, y, op), y
    xt = operand(x)
    return xt, _like(y, xt, op)


# NumPy takes longer to make a scalar from a Python number than to multiply two: the constants of a
# loop (`w ** 2`, `0.01 * g`) are made once. NumPy scalars are immutable, so one serves every tensor.
# Not kept: zeros (0.0 and -0.0 are one key), NaN (never found) and what could overflow a float16 (whose
# warning must come each time).
_NUMBERS: dict[tuple, Any] = {}


def number(dtype: Any, value: float | int) -> Any:
    """``dtype.type(value)`` for a Python float or int and a float or complex dtype (made once, if kept)."""
    return _NUMBERS.get((dtype.type, value)) or _number(dtype.type, value)


def _number(scalar: type, value: float | int) -> Any:
    v = scalar(value)
    if value != 0 and -65504.0 <= value <= 65504.0 and len(_NUMBERS) < 4096:
        _NUMBERS[scalar, value] = v
    return v


# The kinds of Python value a tensor of each kind takes in a binary op, as in TensorFlow: `x + 1.0`
# with x int32 is refused, not truncated; a bool tensor takes only True and False.
_PYTHON_INTO = {"f": "bif", "c": "bifc", "i": "bi", "u": "bi", "b": "b"}
_PYTHON_KIND = {bool: "b", int: "i", float: "f", complex: "c"}


def _python_kind(value: Any) -> str | None:
    """The kind of a Python number or a list of them (None for NumPy values and tensors: cast as they are)."""
    kind = _PYTHON_KIND.get(type(value))
    if kind is None and isinstance(value, (list, tuple)):
        try:
            kind = xp.asarray(value).dtype.kind
        except (ValueError, TypeError):
            return None
    return kind


def _like(value: Any, other: Operand, op: str) -> Tensor:
    dtype = other._value.dtype
    kind = _python_kind(value)
    if kind is not None and kind in "bifc" and kind not in _PYTHON_INTO[dtype.kind]:
        name = of_numpy(dtype).name
        raise DTypeError(f"{op}: cannot convert {value!r} to a {name} tensor (TensorFlow refuses it too); "
                         f"cast the tensor first, e.g. tg.cast(x, tg.float32), or use a value of its kind")
    t = _new(Tensor)
    try:
        t._value = to_array(value, dtype)
    except TypeError as e:
        raise DTypeError(f"{op}: {e}") from None
    except OverflowError:
        raise DTypeError(f"{op}: {value!r} does not fit a {of_numpy(dtype).name} tensor; cast the tensor to a "
                         f"wider dtype first, e.g. tg.cast(x, tg.int64)") from None
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


_OK: dict[str, frozenset] = {}


def accepts(takes: str) -> frozenset:
    """The NumPy dtypes of the kinds in ``takes`` (see ``dtypes.KINDS``), made once per string."""
    ok = _OK.get(takes)
    if ok is None:
        ok = _OK[takes] = of_kinds(takes)
    return ok


def typed(x: Any, op: str, takes: str) -> Operand:
    """``x`` as an operand if its dtype is of a kind in ``takes`` (see ``dtypes.KINDS``); else a DTypeError."""
    x = operand(x)
    if x._value.dtype not in accepts(takes):
        raise DTypeError(refusal(op, x._value.dtype, takes))
    return x


def float_tensor(x: Any, op: str) -> Operand:
    """Ops defined on reals refuse integer, bool and complex tensors with a fix, as TensorFlow does."""
    return typed(x, op, "f")


__all__ = ["Tensor", "accepts", "axis_param", "float_tensor", "operand", "pair", "shape_param", "typed"]
