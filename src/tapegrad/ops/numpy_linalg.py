"""NumPy's products, norms and diagonals on tensors, as tapegrad ops (see ``numpy_functions``)."""
from __future__ import annotations

import builtins

from tapegrad._core.backend import xp
from tapegrad._core.tensor import Operand, Tensor

from . import array_ops as A
from . import decomp_ops as D
from . import einsum_ops as E
from . import index_ops as I
from . import linalg_ops as L
from . import math_ops as M
from . import matrix_ops as MX
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


# ---- the solvers, decompositions and einsum of tf.linalg --------------------------------------------------
@_maps(xp.einsum)
def _einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    _refuse(out=out, dtype=dtype)
    if not operands or not isinstance(operands[0], str):
        raise Unsupported("np.einsum with operand lists instead of a subscripts string")
    return E.einsum(operands[0], *operands[1:])


_maps(xp.linalg.inv)(lambda a: MX.inv(a))
_maps(xp.linalg.det)(lambda a: MX.det(a))
_maps(xp.linalg.cholesky)(lambda a, /, *, upper=False: _lower_only(a, upper))
_maps(xp.linalg.eigvalsh)(lambda a, UPLO="L": _uplo(a, UPLO, D.eigvalsh))


@_maps(xp.linalg.solve)
def _solve(a, b):
    x, y = operand(a), operand(b)
    if _ndim(y) == 1:  # NumPy's vector right-hand side: a column, then back
        return A.reshape(MX.solve(x, A.reshape(y, (-1, 1))), (-1,))
    return MX.solve(x, y)


def _lower_only(a, upper):
    if upper:
        raise Unsupported("np.linalg.cholesky(upper=True)")
    return D.cholesky(a)


def _uplo(a, uplo, op):
    if uplo != "L":
        raise Unsupported(f"UPLO={uplo!r}")
    return op(a)


@_maps(xp.sort)
def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _refuse(order=order)
    x = operand(a)
    if axis is None:
        return I.sort(_flat(x), -1)
    return I.sort(x, axis)
