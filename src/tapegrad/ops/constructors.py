"""Tensors made from shapes and values (zeros, ones, fill, range, linspace, eye) and shape queries."""
from __future__ import annotations

from typing import Any

from tapegrad._core import backend
from tapegrad._core.backend import NATIVE, xp
from tapegrad._core.dtypes import as_dtype, float32
from tapegrad._core.state import escape
from tapegrad._core.tensor import Tensor, to_array, wrap

from ._args import operand, pair, shape_param

TensorLike = Any


def zeros(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """A tensor of zeros (float32 by default).

    >>> import tapegrad as tg
    >>> tg.zeros((2,)).numpy()
    array([0., 0.], dtype=float32)
    """
    return wrap(xp.zeros(shape_param(shape), dtype=as_dtype(dtype)._np))


def ones(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """A tensor of ones (float32 by default).

    >>> import tapegrad as tg
    >>> tg.ones((2,)).numpy()
    array([1., 1.], dtype=float32)
    """
    return wrap(xp.ones(shape_param(shape), dtype=as_dtype(dtype)._np))


def zeros_like(input: TensorLike, dtype: Any = None, name: str | None = None) -> Tensor:
    """Zeros of ``input``'s shape and dtype.

    >>> import tapegrad as tg
    >>> tg.zeros_like([1.0, 2.0]).numpy()
    array([0., 0.], dtype=float32)
    """
    v = operand(input)._value
    if type(v) not in NATIVE:  # in v's own library, on its device
        return wrap(backend.full_like(v, 0, None if dtype is None else as_dtype(dtype)._np))
    return wrap(xp.zeros(v.shape, dtype=v.dtype if dtype is None else as_dtype(dtype)._np))


def ones_like(input: TensorLike, dtype: Any = None, name: str | None = None) -> Tensor:
    """Ones of ``input``'s shape and dtype.

    >>> import tapegrad as tg
    >>> tg.ones_like([1.0, 2.0]).numpy()
    array([1., 1.], dtype=float32)
    """
    v = operand(input)._value
    if type(v) not in NATIVE:
        return wrap(backend.full_like(v, 1, None if dtype is None else as_dtype(dtype)._np))
    return wrap(xp.ones(v.shape, dtype=v.dtype if dtype is None else as_dtype(dtype)._np))


def fill(dims: Any, value: TensorLike, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (its dtype by the usual rules).

    >>> import tapegrad as tg
    >>> tg.fill((2,), 7.0).numpy()
    array([7., 7.], dtype=float32)
    """
    v = to_array(value)
    return wrap(xp.full(shape_param(dims), v, dtype=v.dtype))


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str | None = None) -> Tensor:
    """Numbers from ``start`` up to (not including) ``limit`` by ``delta``; int32 unless a float is given.

    >>> import tapegrad as tg
    >>> tg.range(3).numpy()
    array([0, 1, 2], dtype=int32)
    """
    if limit is None:
        start, limit = 0, start
    vals = [to_array(v) for v in (start, limit, delta)]
    if dtype is None:
        kinds = {v.dtype.kind for v in vals}
        dtype = vals[0].dtype if len({v.dtype for v in vals}) == 1 else (
            xp.float32 if "f" in kinds else xp.int32)
    want = as_dtype(dtype)._np
    if float(vals[2]) == 0:
        raise ValueError("range: delta must not be 0")
    return wrap(xp.arange(vals[0][()], vals[1][()], vals[2][()]).astype(want))


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float32 for Python floats).

    >>> import tapegrad as tg
    >>> tg.linspace(0.0, 1.0, 3).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    a, b = pair(start, stop, "linspace")
    escape(a)
    escape(b)
    dtype = a._value.dtype if a._value.dtype.kind == "f" else xp.dtype(xp.float64)
    return wrap(xp.linspace(a._value, b._value, int(num), axis=axis).astype(dtype))


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None, dtype: Any = float32,
        name: str | None = None) -> Tensor:
    """An identity matrix (float32 by default).

    >>> import tapegrad as tg
    >>> tg.eye(2).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    m = xp.eye(int(num_rows), None if num_columns is None else int(num_columns), dtype=as_dtype(dtype)._np)
    if batch_shape is not None:
        m = xp.broadcast_to(m, shape_param(batch_shape) + m.shape).copy()
    return wrap(m)


def shape(input: TensorLike, out_type: Any = "int32", name: str | None = None) -> Tensor:
    """The shape as an int32 tensor.

    >>> import tapegrad as tg
    >>> tg.shape(tg.zeros((2, 3))).numpy()
    array([2, 3], dtype=int32)
    """
    return wrap(xp.asarray(operand(input)._value.shape, dtype=as_dtype(out_type)._np))


def size(input: TensorLike, out_type: Any = "int32", name: str | None = None) -> Tensor:
    """The number of elements as an int32 tensor.

    >>> import tapegrad as tg
    >>> tg.size(tg.zeros((2, 3))).numpy()
    np.int32(6)
    """
    return wrap(xp.asarray(operand(input)._value.size, dtype=as_dtype(out_type)._np))


def rank(input: TensorLike, name: str | None = None) -> Tensor:
    """The number of axes as an int32 tensor.

    >>> import tapegrad as tg
    >>> tg.rank(tg.zeros((2, 3))).numpy()
    np.int32(2)
    """
    return wrap(xp.asarray(operand(input)._value.ndim, dtype=xp.int32))
