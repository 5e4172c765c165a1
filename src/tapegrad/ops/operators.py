"""Python operators and NumPy ufuncs on Tensor and Variable, from one explicit list."""
from __future__ import annotations

from typing import Any

from tapegrad._core import dtypes as _dtypes
from tapegrad._core.backend import xp
from tapegrad._core.dtypes import refusal
from tapegrad._core.errors import DTypeError
from tapegrad._core.record import apply
from tapegrad._core.tensor import Operand, Tensor

from . import array_ops as A
from . import linalg_ops as L
from . import math_ops as M
from . import numpy_dispatch as D
from . import table as T
from ._args import number

_new = object.__new__


def _swap(fn: Any) -> Any:
    return lambda self, other: fn(other, self)


# As in TensorFlow: `x == None` is False and shapes that do not broadcast compare unequal, but
# a value that cannot take x's dtype (`int_tensor == 1.5`) is an error, not False.
def _comparison(op: Any, otherwise: bool) -> Any:
    def compare(self: Operand, other: Any) -> Any:
        if other is None:
            return otherwise
        try:
            return op(self, other)
        except DTypeError:
            raise
        except ValueError:
            return otherwise
    return compare


_eq = _comparison(M.equal, False)
_ne = _comparison(M.not_equal, True)


_BOOL = xp.dtype(xp.bool_)


# `lr * grad`, `x * 2.0`: a tensor of one of these times a Python float needs none of multiply's checks
_FLOATING = frozenset(xp.dtype(t) for t in (xp.float16, xp.float32, xp.float64, xp.complex64, xp.complex128))


def _mul(self: Operand, other: Any) -> Any:
    dtype = self._value.dtype
    if type(other) is float and dtype in _FLOATING:
        return apply(T.multiply, (self, _constant(dtype, other)))
    if dtype is _BOOL:
        return _bool_mul(self, other)
    return M.multiply(self, other)


def _rmul(self: Operand, other: Any) -> Any:
    dtype = self._value.dtype
    if type(other) is float and dtype in _FLOATING:
        return apply(T.multiply, (_constant(dtype, other), self))
    if dtype is _BOOL:
        return _bool_mul(self, other)
    return M.multiply(other, self)


def _constant(dtype: Any, value: float) -> Tensor:
    c = _new(Tensor)
    c._value = number(dtype, value)  # what multiply's own conversion makes (pair)
    return c


def _bool_mul(self: Operand, other: Any) -> Any:
    """TensorFlow's `*` on a bool tensor: logical and, with a plain value taken for its truth."""
    if not isinstance(other, Operand):
        other = xp.asarray(other).astype(bool)
    return M.logical_and(self, other)


def _bits(logical: Any, bitwise: Any, op: str) -> Any:
    """`&`, `|`, `^` as TensorFlow has them: logical on bool tensors, bitwise on integer ones."""
    def fn(x: Any, y: Any) -> Any:
        t = x if isinstance(x, Operand) else y
        kind = t._value.dtype.kind
        if kind == "b":
            return logical(x, y)
        if kind in "iu":
            return bitwise(x, y)
        raise DTypeError(refusal(op, t._value.dtype, "biu"))
    return fn


def _invert(self: Operand) -> Any:
    kind = self._value.dtype.kind
    if kind == "b":
        return M.logical_not(self)
    if kind in "iu":
        return M.invert(self)
    raise DTypeError(refusal("invert (~)", self._value.dtype, "biu"))


_and = _bits(M.logical_and, M.bitwise_and, "and (&)")
_or = _bits(M.logical_or, M.bitwise_or, "or (|)")
_xor = _bits(M.logical_xor, M.bitwise_xor, "xor (^)")


OPERATORS = {
    "__add__": M.add, "__radd__": _swap(M.add),
    "__sub__": M.subtract, "__rsub__": _swap(M.subtract),
    "__mul__": _mul, "__rmul__": _rmul,
    "__truediv__": M.divide, "__rtruediv__": _swap(M.divide),
    "__floordiv__": M.floordiv, "__rfloordiv__": _swap(M.floordiv),
    "__mod__": M.floormod, "__rmod__": _swap(M.floormod),
    "__pow__": M.pow, "__rpow__": _swap(M.pow),
    "__matmul__": L.matmul, "__rmatmul__": _swap(L.matmul),
    "__neg__": M.negative, "__pos__": lambda self: self, "__abs__": M.abs,
    "__lt__": M.less, "__le__": M.less_equal, "__gt__": M.greater, "__ge__": M.greater_equal,
    "__eq__": _eq, "__ne__": _ne,
    "__and__": _and, "__rand__": _swap(_and),
    "__or__": _or, "__ror__": _swap(_or),
    "__xor__": _xor, "__rxor__": _swap(_xor),
    "__invert__": _invert,
    "__getitem__": A.getitem,
}

# NumPy ufuncs that run as tapegrad ops on tensors, so np.sin(x) is recorded like tg.sin(x).
UFUNCS = {
    xp.add: M.add, xp.subtract: M.subtract, xp.multiply: M.multiply, xp.true_divide: M.divide,
    xp.floor_divide: M.floordiv, xp.mod: M.floormod, xp.power: M.pow, xp.negative: M.negative,
    xp.maximum: M.maximum, xp.minimum: M.minimum, xp.square: M.square, xp.sqrt: M.sqrt, xp.exp: M.exp,
    xp.expm1: M.expm1, xp.log: M.log, xp.log1p: M.log1p, xp.sin: M.sin, xp.cos: M.cos, xp.tan: M.tan,
    xp.arcsin: M.asin, xp.arccos: M.acos, xp.arctan: M.atan, xp.sinh: M.sinh, xp.cosh: M.cosh,
    xp.tanh: M.tanh, xp.abs: M.abs, xp.sign: M.sign, xp.reciprocal: M.reciprocal,
    xp.equal: M.equal, xp.not_equal: M.not_equal, xp.less: M.less, xp.less_equal: M.less_equal,
    xp.greater: M.greater, xp.greater_equal: M.greater_equal, xp.matmul: L.matmul,
    xp.floor: M.floor, xp.ceil: M.ceil, xp.rint: M.round, xp.isnan: M.is_nan, xp.isinf: M.is_inf,
    xp.isfinite: M.is_finite, xp.logical_and: M.logical_and, xp.logical_or: M.logical_or,
    xp.logical_not: M.logical_not, xp.logical_xor: M.logical_xor, xp.bitwise_and: M.bitwise_and,
    xp.bitwise_or: M.bitwise_or, xp.bitwise_xor: M.bitwise_xor, xp.invert: _invert, xp.conjugate: M.conj,
}


def _array_ufunc(self: Operand, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    op = UFUNCS.get(ufunc)
    if op is not None and method == "__call__" and not kwargs:
        return op(*inputs)
    return D.ufunc_method(ufunc, method, op, inputs, kwargs)  # reductions, keywords, and ufuncs without an op


def install() -> None:
    for name, fn in OPERATORS.items():
        setattr(Operand, name, fn)
    Operand.__array_ufunc__ = _array_ufunc  # type: ignore[attr-defined]
    Operand.__array_function__ = D.array_function  # type: ignore[attr-defined]
    _dtypes.PACK[:] = [_pack]


def _pack(values: list, dtype: Any) -> Any:
    """tg.constant([x, y]) of tensors: stacked, and recorded (lists of lists too)."""
    parts = [_pack(v, dtype) if isinstance(v, (list, tuple)) else v for v in values]
    if dtype is not None:
        parts = [A.cast(p, dtype) for p in parts]
    return A.stack(parts)
