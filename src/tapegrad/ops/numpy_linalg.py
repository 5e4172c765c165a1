"""NumPy's products, norms and diagonals on tensors, as tapegrad ops (see ``numpy_functions``)."""
from __future__ import annotations

import builtins

from tapegrad._core.backend import xp
from tapegrad._core.tensor import Operand, Tensor

from . import array_ops as A
from . import linalg_ops as L
from . import math_ops as M
from ._args import operand
from .numpy_functions import _F64, _INT, Unsupported, _as, _flat, _maps, _moveaxis, _ndim, _refuse


@_maps(xp.dot)
def _dot(a, b, out=None):
    _refuse(out=out)
    x, y = operand(a), operand(b)
    if _ndim(x) == 0 or _ndim(y) == 0:
        return M.multiply(x, y)
    if _ndim(x) == _ndim(y) == 2:
        return L.matmul(x, y)
    return L.tensordot(x, y, [[_ndim(x) - 1], [builtins.max(_ndim(y) - 2, 0)]])


@_maps(xp.inner)
def _inner(a, b):
    x, y = operand(a), operand(b)
    if _ndim(x) == 0 or _ndim(y) == 0:
        return M.multiply(x, y)
    return L.tensordot(x, y, [[-1], [-1]])


@_maps(xp.vdot)
def _vdot(a, b):
    return M.reduce_sum(M.conj(_flat(operand(a))) * _flat(operand(b)))


@_maps(xp.outer)
def _outer(a, b, out=None):
    _refuse(out=out)
    return A.reshape(operand(a), (-1, 1)) * A.reshape(operand(b), (1, -1))


@_maps(xp.tensordot)
def _tensordot(a, b, axes=2):
    return L.tensordot(a, b, axes)


_VECTOR_ORDS = {None: "euclidean", 2: "euclidean", 1: 1, xp.inf: xp.inf}


@_maps(xp.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    t = _as(x, None, _F64)
    matrix = (axis is None and _ndim(t) == 2) or (axis is not None and not isinstance(axis, int) and len(axis) == 2)
    if ord in (None, "fro") and (matrix or ord is None):
        return L.norm(t, "euclidean", axis, keepdims)  # the Frobenius norm is the 2-norm of all elements
    if not matrix and (axis is not None or _ndim(t) == 1) and ord in _VECTOR_ORDS:
        return L.norm(t, _VECTOR_ORDS[ord], axis, keepdims)
    raise Unsupported(f"ord={ord!r}" + (" on matrices" if matrix else ""))


def _diagonal_of(x: Operand, offset: int, axis1: int, axis2: int) -> Tensor:
    n = _ndim(x)
    m = _moveaxis(x, [axis1, axis2], [n - 2, n - 1])
    rows, cols = m._value.shape[-2:]
    k = builtins.max(0, builtins.min(rows, cols - offset) if offset >= 0 else builtins.min(rows + offset, cols))
    i = xp.arange(k)
    return A.getitem(m, (Ellipsis, i + builtins.max(-offset, 0), i + builtins.max(offset, 0)))


@_maps(xp.diagonal)
def _diagonal(a, offset=0, axis1=0, axis2=1):
    return _diagonal_of(operand(a), int(offset), int(axis1), int(axis2))


@_maps(xp.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _refuse(out=out)
    return M.reduce_sum(_diagonal_of(_as(a, dtype, _INT), int(offset), int(axis1), int(axis2)), -1)


# NumPy 2's array-API spellings in np.linalg: the last two axes are the matrix.
_maps(xp.linalg.matmul)(lambda x1, x2, /: L.matmul(x1, x2))
_maps(xp.linalg.tensordot)(lambda x1, x2, /, *, axes=2: L.tensordot(x1, x2, axes))


@_maps(xp.linalg.outer)
def _linalg_outer(x1, x2, /):
    return _outer(x1, x2)


@_maps(xp.linalg.diagonal)
def _linalg_diagonal(x, /, *, offset=0):
    return _diagonal_of(operand(x), int(offset), -2, -1)


@_maps(xp.linalg.trace)
def _linalg_trace(x, /, *, offset=0, dtype=None):
    return M.reduce_sum(_diagonal_of(_as(x, dtype, _INT), int(offset), -2, -1), -1)


@_maps(xp.linalg.vector_norm)
def _vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    t = _as(x, None, _F64)
    if ord not in _VECTOR_ORDS:
        raise Unsupported(f"ord={ord!r}")
    return L.norm(t, _VECTOR_ORDS[ord], axis, keepdims)


@_maps(xp.linalg.matrix_norm)
def _matrix_norm(x, /, *, keepdims=False, ord="fro"):
    if ord != "fro":
        raise Unsupported(f"ord={ord!r}")
    return L.norm(_as(x, None, _F64), "euclidean", (-2, -1), keepdims)
