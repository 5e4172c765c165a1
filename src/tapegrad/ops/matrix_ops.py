"""``tf.linalg``'s structure and solver ops: diagonals, bands, trace, inverse, determinants, solves, lstsq.

All work on the last two axes; the axes before them are a batch of matrices, as in TensorFlow.
The solvers and determinants take real floating-point matrices (TensorFlow takes complex ones too:
tapegrad has no rules in its complex convention for them yet).
"""
from __future__ import annotations

import builtins
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor, wrap

from . import linalg_kernels as K
from . import table as T
from ._args import operand, pair
from .array_ops import matrix_transpose, scatter_index, where
from .decomp_ops import _matrices, cholesky
from .linalg_ops import matmul
from .math_ops import conj, log, multiply, reduce_sum

TensorLike = Any


def _diagonal(m: int, n: int, k: int) -> tuple:
    """Row and column indices of diagonal k of an m x n matrix (k > 0: above the main one)."""
    length = builtins.max(0, builtins.min(m + builtins.min(0, k), n - builtins.max(0, k)))
    i = xp.arange(length)
    return i + builtins.max(-k, 0), i + builtins.max(k, 0)


def _only_int_k(k: Any, op: str) -> int:
    if not isinstance(k, int) and not hasattr(k, "__index__"):
        raise NotImplementedError(f"{op}: k must be one int (one diagonal); bands of diagonals (k=(low, high)) "
                                  "are not supported; call it once per diagonal")
    return int(k)


def band_part(input: TensorLike, num_lower: int, num_upper: int, name: str | None = None) -> Tensor:
    """The band of each matrix: ``num_lower`` diagonals below the main one, ``num_upper`` above (-1: all).

    >>> import tapegrad as tg
    >>> tg.linalg.band_part(tg.ones((3, 3)), 0, -1).numpy()
    array([[1., 1., 1.],
           [0., 1., 1.],
           [0., 0., 1.]], dtype=float32)
    """
    x = operand(input)
    if x._value.ndim < 2:
        raise ValueError(f"band_part needs a tensor of rank >= 2, got shape {tuple(x._value.shape)}")
    m, n = x._value.shape[-2:]
    mask = K.band_mask(m, n, int(num_lower), int(num_upper), x._value.dtype)
    if x._value.dtype.kind in "fc":
        return multiply(x, wrap(mask))
    return where(wrap(mask.astype(bool)), x, wrap(xp.zeros((), x._value.dtype)))


def diag(diagonal: TensorLike, name: str | None = None, k: int = 0, num_rows: int = -1, num_cols: int = -1,
         padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """Matrices with ``diagonal`` (its last axis) on diagonal ``k`` and ``padding_value`` elsewhere.

    >>> import tapegrad as tg
    >>> tg.linalg.diag([1.0, 2.0]).numpy()
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    """
    d = operand(diagonal)
    k = _only_int_k(k, "diag")
    if d._value.ndim < 1:
        raise ValueError("diag needs a vector or a batch of vectors (rank >= 1), got a scalar")
    n = d._value.shape[-1]
    min_rows, min_cols = n + builtins.max(-k, 0), n + builtins.max(k, 0)
    num_rows, num_cols = int(num_rows), int(num_cols)
    if num_rows <= 0 and num_cols <= 0:
        num_rows = num_cols = builtins.max(min_rows, min_cols)
    rows = num_rows if num_rows > 0 else min_rows
    cols = num_cols if num_cols > 0 else min_cols
    i, j = _diagonal(rows, cols, k)
    if len(i) != n:
        raise ValueError(f"diag: a diagonal of length {n} does not fit diagonal {k} of a {rows}x{cols} matrix")
    out = scatter_index(d, (Ellipsis, i, j), d._value.shape[:-1] + (rows, cols))
    if padding_value != 0:
        mask = xp.ones((rows, cols), bool)
        mask[i, j] = False
        out = where(wrap(mask), wrap(xp.asarray(padding_value, d._value.dtype)), out)
    return out


def diag_part(input: TensorLike, name: str | None = None, k: int = 0, padding_value: Any = 0,
              align: str = "RIGHT_LEFT") -> Tensor:
    """Diagonal ``k`` of each matrix (k > 0: above the main one).

    >>> import tapegrad as tg
    >>> tg.linalg.diag_part([[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([1., 4.], dtype=float32)
    """
    x = operand(input)
    if x._value.ndim < 2:
        raise ValueError(f"diag_part needs a tensor of rank >= 2, got shape {tuple(x._value.shape)}")
    i, j = _diagonal(*x._value.shape[-2:], _only_int_k(k, "diag_part"))
    return apply(T.getitem, (x,), {"index": (Ellipsis, i, j)})


def set_diag(input: TensorLike, diagonal: TensorLike, name: str | None = None, k: int = 0,
             align: str = "RIGHT_LEFT") -> Tensor:
    """``input`` with diagonal ``k`` of each matrix replaced by ``diagonal``.

    >>> import tapegrad as tg
    >>> tg.linalg.set_diag(tg.zeros((2, 2)), [1.0, 2.0]).numpy()
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    """
    x, d = pair(input, diagonal, "set_diag")
    if x._value.ndim < 2:
        raise ValueError(f"set_diag needs a tensor of rank >= 2, got shape {tuple(x._value.shape)}")
    shape = x._value.shape
    i, j = _diagonal(*shape[-2:], _only_int_k(k, "set_diag"))
    if d._value.shape != shape[:-2] + (len(i),):
        raise ValueError(f"set_diag: the diagonal must have shape {shape[:-2] + (len(i),)} for input of shape "
                         f"{tuple(shape)}, got {tuple(d._value.shape)}")
    mask = xp.zeros(shape[-2:], bool)
    mask[i, j] = True
    return where(wrap(mask), scatter_index(d, (Ellipsis, i, j), shape), x)


def trace(x: TensorLike, name: str | None = None) -> Tensor:
    """The sum of each matrix's main diagonal.

    >>> import tapegrad as tg
    >>> tg.linalg.trace([[1.0, 2.0], [3.0, 4.0]]).numpy()
    np.float32(5.0)
    """
    return reduce_sum(diag_part(x), -1)


def adjoint(matrix: TensorLike, name: str | None = None) -> Tensor:
    """The conjugate transpose of each matrix.

    >>> import tapegrad as tg
    >>> tg.linalg.adjoint([[1.0, 2.0]]).shape
    TensorShape([2, 1])
    """
    x = operand(matrix)
    return matrix_transpose(conj(x) if x._value.dtype.kind == "c" else x)


def inv(input: TensorLike, adjoint: bool = False, name: str | None = None) -> Tensor:
    """The inverse of each matrix (of its transpose with ``adjoint``); an error for a singular one.

    >>> import tapegrad as tg
    >>> tg.linalg.inv([[2.0, 0.0], [0.0, 4.0]]).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    x = _matrices(input, "inv")
    return apply(T.matrix_inverse, (matrix_transpose(x) if adjoint else x,))


def det(input: TensorLike, name: str | None = None) -> Tensor:
    """The determinant of each matrix.

    >>> import tapegrad as tg
    >>> tg.linalg.det([[2.0, 1.0], [1.0, 3.0]]).numpy()
    np.float32(5.0)
    """
    return apply(T.matrix_determinant, (_matrices(input, "det"),))


def slogdet(input: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The sign and the log of the absolute value of each determinant (no overflow for large matrices).

    >>> import tapegrad as tg
    >>> sign, logabs = tg.linalg.slogdet([[-2.0, 0.0], [0.0, 3.0]])
    >>> float(sign), round(float(logabs), 4)
    (-1.0, 1.7918)
    """
    p = apply(T.slogdet, (_matrices(input, "slogdet"),))
    return p[..., 0], p[..., 1]


def logdet(matrix: TensorLike, name: str | None = None) -> Tensor:
    """log(det(matrix)) of symmetric positive definite matrices, through their Cholesky factor.

    >>> import tapegrad as tg
    >>> round(float(tg.linalg.logdet([[4.0, 0.0], [0.0, 1.0]])), 4)
    1.3863
    """
    return 2.0 * reduce_sum(log(diag_part(cholesky(matrix))), -1)


def _rhs(matrix: TensorLike, rhs: TensorLike, op: str, broadcast: bool) -> tuple[Tensor, Tensor]:
    a, b = pair(matrix, rhs, op)
    a = _matrices(a, op)
    sa, sb = a._value.shape, b._value.shape
    if len(sb) < 2 or sb[-2] != sa[-1]:
        raise ValueError(f"{op}: rhs must have shape (..., {sa[-1]}, K) for matrices of shape {tuple(sa)}, got "
                         f"{tuple(sb)}; a vector b goes in as b[:, None]")
    if broadcast:
        try:
            xp.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"{op}: batch shapes {tuple(sa[:-2])} and {tuple(sb[:-2])} do not broadcast") from None
    elif sa[:-2] != sb[:-2]:
        raise ValueError(f"{op}: matrix and rhs need the same batch shape (as in TensorFlow), got {tuple(sa[:-2])} "
                         f"and {tuple(sb[:-2])}; broadcast one with tg.broadcast_to")
    return a, b


def solve(matrix: TensorLike, rhs: TensorLike, adjoint: bool = False, name: str | None = None) -> Tensor:
    """x with ``matrix @ x == rhs`` (``matrix^T @ x`` with ``adjoint``); rhs is (..., M, K).

    >>> import tapegrad as tg
    >>> tg.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [[1.0], [1.0]]).numpy()
    array([[0.5 ],
           [0.25]], dtype=float32)
    """
    a, b = _rhs(matrix, rhs, "solve", broadcast=False)
    return apply(T.matrix_solve, (a, b), {"adjoint": bool(adjoint)})


def triangular_solve(matrix: TensorLike, rhs: TensorLike, lower: bool = True, adjoint: bool = False,
                     name: str | None = None) -> Tensor:
    """x with ``matrix @ x == rhs`` for triangular matrices (only the ``lower`` or upper triangle is read).

    >>> import tapegrad as tg
    >>> tg.linalg.triangular_solve([[2.0, 0.0], [1.0, 1.0]], [[2.0], [2.0]]).numpy()
    array([[1.],
           [1.]], dtype=float32)
    """
    a, b = _rhs(matrix, rhs, "triangular_solve", broadcast=True)
    return apply(T.triangular_solve, (a, b), {"lower": bool(lower), "adjoint": bool(adjoint)})


def cholesky_solve(chol: TensorLike, rhs: TensorLike, name: str | None = None) -> Tensor:
    """x with ``A @ x == rhs``, given ``chol``, the Cholesky factor of A.

    >>> import tapegrad as tg
    >>> tg.linalg.cholesky_solve([[2.0, 0.0], [0.0, 1.0]], [[4.0], [1.0]]).numpy()
    array([[1.],
           [1.]], dtype=float32)
    """
    return triangular_solve(chol, triangular_solve(chol, rhs, lower=True), lower=True, adjoint=True)


def lstsq(matrix: TensorLike, rhs: TensorLike, l2_regularizer: Any = 0.0, fast: bool = True,
          name: str | None = None) -> Tensor:
    """The least-squares solution of ``matrix @ x = rhs`` (minimum norm when underdetermined), with an
    optional ridge term ``l2_regularizer * ||x||^2``: TensorFlow's fast path, the normal equations solved
    by Cholesky (so matrices of full rank, or a positive regulariser).

    >>> import tapegrad as tg
    >>> tg.linalg.lstsq([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], [[1.0], [2.0], [2.0]]).numpy().round(4)
    array([[1.1667],
           [0.5   ]], dtype=float32)
    """
    if not fast:
        raise NotImplementedError("lstsq: only fast=True (TensorFlow's default, the normal equations) is "
                                  "supported; fast=False has no gradient in TensorFlow either")
    a = _matrices(matrix, "lstsq", square=False)
    a, b = pair(a, rhs, "lstsq")
    m, n = a._value.shape[-2:]
    if b._value.ndim < 2 or b._value.shape[-2] != m:
        raise ValueError(f"lstsq: rhs must have shape (..., {m}, K) for matrices of shape {tuple(a._value.shape)}, "
                         f"got {tuple(b._value.shape)}")
    over = m >= n
    gram = matmul(a, a, transpose_a=over, transpose_b=not over)
    eye = wrap(xp.eye(gram._value.shape[-1], dtype=a._value.dtype))
    if isinstance(l2_regularizer, Tensor) or l2_regularizer != 0:
        gram = gram + eye * l2_regularizer
    chol = cholesky(gram)
    if over:
        return cholesky_solve(chol, matmul(a, b, transpose_a=True))
    return matmul(a, cholesky_solve(chol, b), transpose_a=True)


__all__ = ["adjoint", "band_part", "cholesky_solve", "det", "diag", "diag_part", "inv", "logdet", "lstsq",
           "set_diag", "slogdet", "solve", "trace", "triangular_solve"]
