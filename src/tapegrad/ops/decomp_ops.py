"""``tf.linalg``'s decompositions: cholesky, eigh, eigvalsh, svd, qr (real matrices, batched).

Their gradients are TensorFlow's. Those of eigh and svd exist only where the eigenvalues (singular
values) are distinct: a repeated one leaves its vectors free to rotate within their subspace.
"""
from __future__ import annotations

from typing import Any

from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import typed
from .table.decomp import eigh_parts, qr_parts, svd_parts

TensorLike = Any


def _matrices(x: Any, op: str, square: bool = True) -> Tensor:
    x = typed(x, op, "f")
    shape = x._value.shape
    if len(shape) < 2:
        raise ValueError(f"{op} needs a matrix or a batch of matrices (rank >= 2), got shape {tuple(shape)}")
    if square and shape[-1] != shape[-2]:
        raise ValueError(f"{op} needs square matrices, got {shape[-2]}x{shape[-1]} (shape {tuple(shape)})")
    return x


def cholesky(input: TensorLike, name: str | None = None) -> Tensor:
    """The lower-triangular L with ``L @ L^T == input``, for symmetric positive definite matrices (only
    their lower triangle is read; an error if one is not positive definite).

    >>> import tapegrad as tg
    >>> tg.linalg.cholesky([[4.0, 2.0], [2.0, 2.0]]).numpy()
    array([[2., 0.],
           [1., 1.]], dtype=float32)
    """
    return apply(T.cholesky, (_matrices(input, "cholesky"),))


def eigh(tensor: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices; only the lower triangle
    is read. The gradient exists for distinct eigenvalues (TensorFlow's; a repeated one gives 0 for its
    vectors' part, not a meaningful value).

    >>> import tapegrad as tg
    >>> e, v = tg.linalg.eigh([[2.0, 1.0], [1.0, 2.0]])
    >>> e.numpy()
    array([1., 3.], dtype=float32)
    """
    return eigh_parts(apply(T.eigh, (_matrices(tensor, "eigh"),)))


def eigvalsh(tensor: TensorLike, name: str | None = None) -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices (the lower triangle is read).

    >>> import tapegrad as tg
    >>> tg.linalg.eigvalsh([[2.0, 0.0], [0.0, 1.0]]).numpy()
    array([1., 2.], dtype=float32)
    """
    return eigh(tensor)[0]


def svd(tensor: TensorLike, full_matrices: bool = False, compute_uv: bool = True,
        name: str | None = None) -> Any:
    """Singular values (descending) ``s``, and with ``compute_uv`` the tuple ``(s, u, v)`` with
    ``tensor == u @ diag(s) @ v^T`` (v, not v^T, as in TensorFlow). The gradient exists for distinct
    singular values (and, for non-square matrices, nonzero ones); with full_matrices only for
    |rows - columns| <= 1, as in TensorFlow.

    >>> import tapegrad as tg
    >>> tg.linalg.svd([[3.0, 0.0], [0.0, -4.0]], compute_uv=False).numpy()
    array([4., 3.], dtype=float32)
    """
    x = _matrices(tensor, "svd", square=False)
    m, n = x._value.shape[-2:]
    full = bool(full_matrices) and compute_uv
    s, u, v = svd_parts(apply(T.svd, (x,), {"full_matrices": full}), m, n, full)
    return (s, u, v) if compute_uv else s


def qr(input: TensorLike, full_matrices: bool = False, name: str | None = None) -> tuple[Tensor, Tensor]:
    """q with orthonormal columns and upper-triangular r with ``input == q @ r``.

    >>> import tapegrad as tg
    >>> q, r = tg.linalg.qr([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    >>> q.shape, r.shape
    (TensorShape([3, 2]), TensorShape([2, 2]))
    """
    x = _matrices(input, "qr", square=False)
    m, n = x._value.shape[-2:]
    return qr_parts(apply(T.qr, (x,), {"full_matrices": bool(full_matrices)}), m, n, bool(full_matrices))


__all__ = ["cholesky", "eigh", "eigvalsh", "qr", "svd"]
