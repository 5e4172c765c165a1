"""Matrix products and norms."""
from __future__ import annotations

import numbers
from typing import Any

from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import axis_param, float_tensor, operand, pair, typed
from .array_ops import cast, expand_dims, matrix_transpose, reshape, squeeze, stack, transpose, where
from .constructors import zeros_like
from .decomp_ops import svd
from .math_ops import _wide, abs, greater, maximum, minimum, pow, reduce_max, reduce_sum, sqrt

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
    if (transpose_a and adjoint_a) or (transpose_b and adjoint_b):
        which = "a" if transpose_a and adjoint_a else "b"
        raise ValueError(f"matmul: only one of transpose_{which} and adjoint_{which} can be True")
    if transpose_a or adjoint_a:
        x = matrix_transpose(x, conjugate=bool(adjoint_a))
    if transpose_b or adjoint_b:
        y = matrix_transpose(y, conjugate=bool(adjoint_b))
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
        x = matrix_transpose(x, conjugate=bool(adjoint_a))
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


_INF = float("inf")


def _norm_axes(axis: Any, ord: Any, ndim: int) -> tuple[tuple | None, bool]:
    """``axis`` and ``ord`` checked as TensorFlow does: axis None or an int (a vector norm: ord 'euclidean',
    1, 2, inf or any p > 0) or two distinct ints (a matrix norm: 'euclidean', 'fro', 1, 2, inf); the axes
    (a pair in the order given, else sorted or None) and whether it is a matrix norm."""
    matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if matrix:
        axes = tuple(axis_param(a, ndim, "norm")[0] if isinstance(a, int) or hasattr(a, "__index__") else None
                     for a in axis)
        if None in axes or axes[0] == axes[1]:
            raise ValueError(f"norm: 'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
    elif axis is None or isinstance(axis, int) or hasattr(axis, "__index__"):
        axes = None if axis is None else axis_param(axis, ndim, "norm")
    else:
        raise ValueError(f"norm: 'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
    if isinstance(ord, str):
        ok = ord == "euclidean" or (matrix and ord == "fro")
    else:
        number = isinstance(ord, numbers.Real) and not isinstance(ord, bool)
        ok = number and (ord in (1, 2, _INF) if matrix else ord > 0)
    if not ok and matrix:
        raise ValueError(f"norm: 'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, inf], "
                         f"got {ord!r}")
    if not ok:
        raise ValueError(f"norm: 'ord' must be a supported vector norm ('euclidean', 1, 2, np.inf or a number "
                         f"p > 0), got {ord!r}; 'fro' is a matrix norm: give axis a pair of axes")
    return axes, matrix


def norm(tensor: TensorLike, ord: Any = "euclidean", axis: Any = None, keepdims: bool = False,
         name: str | None = None) -> Tensor:
    """The norm of a vector (``axis`` None: all elements; or an int) or of matrices (``axis`` a pair).

    Vector norms: ord 'euclidean' (= 2), 1, np.inf, or any p > 0 (``sum(|x|**p) ** (1/p)``); matrix norms:
    'fro' (= 'euclidean'), 1 (largest column sum), np.inf (largest row sum), 2 (largest singular value),
    as in TensorFlow. The gradient of the euclidean norm at 0 is NaN, as in TensorFlow. Ord 1 and inf take
    signed integers (giving integers) and complex tensors too; the others refuse complex ones.

    >>> import tapegrad as tg
    >>> tg.norm([3.0, 4.0]).numpy()
    np.float32(5.0)
    """
    number = not isinstance(ord, str)
    is_abs = number and ord in (1, _INF)
    # |x| is real for complex x too: only the euclidean norm, through x * x, would be wrong for it.
    x = typed(tensor, "norm", "fci" if is_abs else "f")
    n = x._value.ndim
    axes, matrix = _norm_axes(axis, ord, n)
    summed = tuple(sorted(axes)) if matrix else axes
    if matrix and number and ord == 2:
        rest = tuple(i for i in range(n) if i not in axes)
        out = reduce_max(svd(transpose(x, rest + axes), compute_uv=False), -1)
        if keepdims:
            out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x._value.shape)))
        return out
    if not number or ord == 2:
        return sqrt(reduce_sum(x * x, summed, keepdims))
    if not is_abs:
        return pow(reduce_sum(pow(abs(x), ord), summed, keepdims), 1.0 / ord)
    a = abs(x)
    if not matrix:
        return (reduce_sum if ord == 1 else reduce_max)(a, summed, keepdims)
    inner, outer = axes if ord == 1 else axes[::-1]  # 1: the largest column sum; inf: the largest row sum
    out = reduce_max(reduce_sum(a, inner, keepdims=True), outer, keepdims=True)
    return out if keepdims else squeeze(out, summed)


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


def global_norm(t_list: Any, name: str | None = None) -> Tensor:
    """sqrt of the sum of the squares of all elements of the tensors in ``t_list`` (None entries skipped).

    >>> import tapegrad as tg
    >>> tg.linalg.global_norm([tg.constant([3.0]), tg.constant([[4.0]])]).numpy()
    np.float32(5.0)
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"global_norm: t_list should be a list or tuple of tensors, got {type(t_list).__name__}")
    values = [float_tensor(t, "global_norm") for t in t_list if t is not None]
    if not values:
        raise ValueError("global_norm: t_list holds no tensors (only None)")
    # TensorFlow's arithmetic: sqrt(2 * sum of l2_loss(t) = sum(t**2) / 2)
    half = reduce_sum(stack([reduce_sum(v * v) / 2 for v in values]))
    return sqrt(half * 2.0)


def clip_by_global_norm(t_list: Any, clip_norm: TensorLike, use_norm: TensorLike = None,
                        name: str | None = None) -> tuple[list, Tensor]:
    """The tensors of ``t_list`` scaled by ``clip_norm / max(global_norm, clip_norm)``, and the global norm
    (``use_norm`` when given). A global norm of inf or NaN makes every tensor NaN, as in TensorFlow.

    >>> import tapegrad as tg
    >>> clipped, n = tg.clip_by_global_norm([tg.constant([3.0]), tg.constant([4.0])], 1.0)
    >>> [c.numpy() for c in clipped], n.numpy()
    ([array([0.6], dtype=float32), array([0.8], dtype=float32)], np.float32(5.0))
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm: t_list should be a list or tuple of tensors, got "
                        f"{type(t_list).__name__}")
    norm_ = global_norm(t_list) if use_norm is None else use_norm
    norm_, clip = pair(norm_, clip_norm, "clip_by_global_norm")
    # (norm - norm) is NaN exactly when the norm is inf or NaN: it spreads to every tensor
    scale = clip * minimum(1.0 / norm_, 1.0 / clip) + (norm_ - norm_)
    return [None if t is None else float_tensor(t, "clip_by_global_norm") * cast(scale, operand(t).dtype)
            for t in t_list], norm_


__all__ = ["clip_by_global_norm", "clip_by_norm", "global_norm", "matmul", "matvec", "norm", "tensordot",
           "transpose"]
