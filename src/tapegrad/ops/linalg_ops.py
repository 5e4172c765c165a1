"""Matrix products and norms."""
from __future__ import annotations

from typing import Any

from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import axis_param, float_tensor, pair, typed
from .array_ops import expand_dims, matrix_transpose, reshape, squeeze, transpose, where
from .constructors import zeros_like
from .math_ops import _wide, abs, greater, maximum, reduce_max, reduce_sum, sqrt

TensorLike = Any


def matmul(a: TensorLike, b: TensorLike, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None, name: str | None = None) -> Tensor:
    """Matrix product over the last two axes, batch axes broadcast (``a @ b``).

    A 1-D operand is treated as NumPy does (a row or a column vector, dropped afterwards).

    >>> import tapegrad as tg
    >>> tg.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy()
    array([[11.]], dtype=float32)
    """
    x, y = pair(a, b, "matmul")
    _wide(x, "matmul")
    if x._value.ndim == 0 or y._value.ndim == 0:
        raise ValueError("matmul needs tensors of rank >= 1; use tg.multiply (or *) for a scalar factor")
    if transpose_a or adjoint_a:
        x = matrix_transpose(x)
    if transpose_b or adjoint_b:
        y = matrix_transpose(y)
    vec_a, vec_b = x._value.ndim == 1, y._value.ndim == 1
    if vec_a:
        x = expand_dims(x, 0)
    if vec_b:
        y = expand_dims(y, -1)
    if x._value.shape[-1] != y._value.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ: {tuple(x._value.shape)} @ {tuple(y._value.shape)} "
                         f"({x._value.shape[-1]} != {y._value.shape[-2]})")
    out = apply(T.matmul, (x, y))
    if vec_a:
        out = squeeze(out, -2)
    if vec_b:
        out = squeeze(out, -1)
    return out


def matvec(a: TensorLike, b: TensorLike, transpose_a: bool = False, adjoint_a: bool = False,
           name: str | None = None) -> Tensor:
    """Matrix times vector over the last axes: ``matmul(a, b[..., None])[..., 0]``.

    >>> import tapegrad as tg
    >>> tg.linalg.matvec([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).numpy()
    array([3., 7.], dtype=float32)
    """
    x, y = pair(a, b, "matvec")
    _wide(x, "matvec")
    if transpose_a or adjoint_a:
        x = matrix_transpose(x)
    return squeeze(matmul(x, expand_dims(y, -1)), -1)


def tensordot(a: TensorLike, b: TensorLike, axes: Any, name: str | None = None) -> Tensor:
    """Sum of products over ``axes`` (an int: the last n of a with the first n of b; or two lists).

    >>> import tapegrad as tg
    >>> tg.tensordot([1.0, 2.0], [3.0, 4.0], 1).numpy()
    np.float32(11.0)
    """
    x, y = pair(a, b, "tensordot")
    _wide(x, "tensordot")
    na, nb = x._value.ndim, y._value.ndim
    if isinstance(axes, int):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                      [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    ax_a = [i % na for i in ax_a]
    ax_b = [i % nb for i in ax_b]
    sa, sb = x._value.shape, y._value.shape
    for i, j in zip(ax_a, ax_b):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: axis {i} of a ({sa[i]}) and axis {j} of b ({sb[j]}) differ")
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [j for j in range(nb) if j not in ax_b]
    k = 1
    for i in ax_a:
        k *= sa[i]
    m = 1
    for i in free_a:
        m *= sa[i]
    n = 1
    for j in free_b:
        n *= sb[j]
    a2 = reshape(transpose(x, free_a + ax_a), (m, k))
    b2 = reshape(transpose(y, ax_b + free_b), (k, n))
    return reshape(matmul(a2, b2), tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def norm(tensor: TensorLike, ord: Any = "euclidean", axis: Any = None, keepdims: bool = False,
         name: str | None = None) -> Tensor:
    """Vector norm over ``axis`` (all elements when None): ord 'euclidean'/'fro'/2, 1 or inf.

    The gradient of the euclidean norm at 0 is NaN, as in TensorFlow. Ord 1 and inf take signed
    integers (giving integers) and complex tensors too; the euclidean norm refuses complex ones.

    >>> import tapegrad as tg
    >>> tg.norm([3.0, 4.0]).numpy()
    np.float32(5.0)
    """
    # |x| is real for complex x too: only the euclidean norm, through x * x, would be wrong for it.
    x = typed(tensor, "norm", "fci" if ord in (1, 1.0, float("inf"), "inf", "np.inf") else "f")
    axes = axis_param(axis, x._value.ndim, "norm")
    if ord in ("euclidean", "fro", 2, 2.0):
        return sqrt(reduce_sum(x * x, axes, keepdims))
    if ord in (1, 1.0):
        return reduce_sum(abs(x), axes, keepdims)
    if ord in (float("inf"), "inf", "np.inf"):
        return reduce_max(abs(x), axes, keepdims)
    raise ValueError(f"norm: ord {ord!r} is not supported; use 'euclidean', 'fro', 1, 2 or np.inf")


def clip_by_norm(t: TensorLike, clip_norm: TensorLike, axes: Any = None, name: str | None = None) -> Tensor:
    """``t`` scaled down so its L2 norm over ``axes`` is at most ``clip_norm``.

    >>> import tapegrad as tg
    >>> tg.clip_by_norm([3.0, 4.0], 1.0).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    x = float_tensor(t, "clip_by_norm")
    ax = axis_param(axes, x._value.ndim, "clip_by_norm")
    l2sum = reduce_sum(x * x, ax, keepdims=True)
    pred = greater(l2sum, 0.0)
    # sqrt is never taken of 0, so the gradient stays finite at t == 0 (TensorFlow's trick).
    safe = where(pred, l2sum, zeros_like(l2sum) + 1)
    l2norm = where(pred, sqrt(safe), l2sum)
    return x * clip_norm / maximum(l2norm, clip_norm)


__all__ = ["clip_by_norm", "matmul", "matvec", "norm", "tensordot", "transpose"]
