"""tf.math's segment reductions, top_k and count_nonzero."""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import as_dtype, int64
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.record import apply
from tapegrad._core.state import escape
from tapegrad._core.tensor import Operand, Tensor, to_array, wrap

from . import table as T
from ._args import axis_param, typed
from .array_ops import cast, getitem, where
from .math_ops import not_equal, reduce_sum

TensorLike = Any

TopKV2 = namedtuple("TopKV2", ["values", "indices"])


def _ids(segment_ids: Any, data: Tensor, op: str) -> Any:
    """The segment ids as an integer array whose shape starts data's shape (TensorFlow's requirement)."""
    if isinstance(segment_ids, Operand):
        escape(segment_ids)  # its values decide the output's shape
    ids = to_array(segment_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: segment_ids must be int32 or int64, got {ids.dtype}; cast them: "
                        "tg.cast(ids, tg.int32)")
    shape = data._value.shape
    if ids.ndim == 0 or shape[:ids.ndim] != ids.shape:
        raise InvalidArgumentError(f"{op}: segment_ids of shape {tuple(ids.shape)} must be a prefix of data's "
                                   f"shape {tuple(shape)} (one id per row of data)")
    return ids


def _sorted_ids(segment_ids: Any, data: Tensor, op: str) -> tuple[Any, int]:
    ids = _ids(segment_ids, data, op)
    if ids.ndim != 1:
        raise InvalidArgumentError(f"{op}: segment_ids must be 1-D, got shape {tuple(ids.shape)}")
    if ids.size and (ids[0] < 0 or (xp.diff(ids) < 0).any()):
        raise InvalidArgumentError(f"{op}: segment ids are not increasing (or one is negative), as TensorFlow "
                                   f"requires; sort the data by id or use tg.math.unsorted_segment_sum")
    return ids, int(ids[-1]) + 1 if ids.size else 0


def _sum(data: Tensor, ids: Any, num: int) -> Tensor:
    return apply(T.unsorted_segment_sum, (data,), {"ids": ids, "num_segments": num})


def unsorted_segment_sum(data: TensorLike, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    """Sums of the rows of ``data`` that share an id, in any order; a negative id drops its row.

    >>> import tapegrad as tg
    >>> tg.math.unsorted_segment_sum([1.0, 2.0, 3.0], [0, 2, 0], 3).numpy()
    array([4., 0., 2.], dtype=float32)
    """
    x = typed(data, "unsorted_segment_sum", "fiu")
    ids = _ids(segment_ids, x, "unsorted_segment_sum")
    num = int(to_array(num_segments))
    if ids.size and ids.max() >= num:
        raise InvalidArgumentError(f"unsorted_segment_sum: segment id {int(ids.max())} is out of range "
                                   f"[0, {num}) (num_segments={num})")
    return _sum(x, ids, num)


def segment_sum(data: TensorLike, segment_ids: Any, name: str | None = None) -> Tensor:
    """Sums of the rows of ``data`` that share an id; ids sorted, empty segments give 0.

    >>> import tapegrad as tg
    >>> tg.math.segment_sum([1.0, 2.0, 3.0], [0, 0, 2]).numpy()
    array([3., 0., 3.], dtype=float32)
    """
    x = typed(data, "segment_sum", "fiu")
    ids, num = _sorted_ids(segment_ids, x, "segment_sum")
    return _sum(x, ids, num)


def _counts(ids: Any, num: int, x: Tensor) -> Any:
    """Rows per segment, at least 1 (empty segments have sum 0), shaped to divide the segment sums."""
    n = xp.maximum(xp.bincount(ids, minlength=num), 1).astype(x._value.dtype)
    return n.reshape((num,) + (1,) * (x._value.ndim - 1))


def segment_mean(data: TensorLike, segment_ids: Any, name: str | None = None) -> Tensor:
    """Means of the rows of ``data`` that share an id; ids sorted, empty segments give 0.

    >>> import tapegrad as tg
    >>> tg.math.segment_mean([1.0, 2.0, 3.0], [0, 0, 2]).numpy()
    array([1.5, 0. , 3. ], dtype=float32)
    """
    x = typed(data, "segment_mean", "f")
    ids, num = _sorted_ids(segment_ids, x, "segment_mean")
    return _sum(x, ids, num) / _counts(ids, num, x)


def segment_max(data: TensorLike, segment_ids: Any, name: str | None = None) -> Tensor:
    """Maxima of the rows of ``data`` that share an id; ids sorted, empty segments give 0.

    The gradient is TensorFlow's: split equally among the elements that tie for a maximum.

    >>> import tapegrad as tg
    >>> tg.math.segment_max([1.0, 2.0, 3.0], [0, 0, 2]).numpy()
    array([2., 0., 3.], dtype=float32)
    """
    x = typed(data, "segment_max", "fiu")
    ids, num = _sorted_ids(segment_ids, x, "segment_max")
    m = apply(T.unsorted_segment_max, (x,), {"ids": ids, "num_segments": num, "empty": 0})
    if x._value.dtype.kind != "f":
        return m
    top = getitem(m, ids)
    ties = x._value == top._value
    n = xp.maximum(T.unsorted_segment_sum.forward(ties.astype(x._value.dtype), ids=ids, num_segments=num), 1)
    # m plus the (zero) sum of x - m over the maxima, over their number: the value is m exactly, and
    # each maximum receives 1/n of the gradient.
    return m + _sum(where(ties, x - top, 0), ids, num) / n


def top_k(input: TensorLike, k: int = 1, sorted: bool = True, index_type: Any = "int32",
          name: str | None = None) -> TopKV2:
    """The ``k`` largest entries along the last axis and their indices (ties: the lower index first).

    >>> import tapegrad as tg
    >>> r = tg.math.top_k([1.0, 3.0, 2.0], k=2)
    >>> r.values.numpy(), r.indices.numpy()
    (array([3., 2.], dtype=float32), array([1, 2], dtype=int32))
    """
    x = typed(input, "top_k", "fiu")
    v = x._value
    k = int(to_array(k))
    if v.ndim == 0 or not 0 <= k <= v.shape[-1]:
        raise InvalidArgumentError(f"top_k: input must have at least k={k} columns along its last axis (and "
                                   f"rank >= 1), got shape {tuple(v.shape)}")
    n = v.shape[-1]
    # a stable ascending sort of the reversed row, read backwards: descending, and ties in index order
    order = n - 1 - xp.flip(xp.argsort(xp.flip(v, -1), axis=-1, kind="stable"), -1)[..., :k]
    lead = tuple(xp.arange(s).reshape((s,) + (1,) * (v.ndim - 1 - i)) for i, s in enumerate(v.shape[:-1]))
    values = getitem(x, lead + (order,))
    return TopKV2(values, wrap(order.astype(as_dtype(index_type)._np)))


def count_nonzero(input: TensorLike, axis: Any = None, keepdims: bool | None = None, dtype: Any = int64,
                  name: str | None = None) -> Tensor:
    """The number of nonzero elements across ``axis`` (all axes when None), int64 by default.

    >>> import tapegrad as tg
    >>> tg.math.count_nonzero([1.0, 0.0, 2.0]).numpy()
    np.int64(2)
    """
    x = typed(input, "count_nonzero", "fciub")
    axes = axis_param(axis, x._value.ndim, "count_nonzero")
    nz = not_equal(x, False if x._value.dtype.kind == "b" else 0)
    return reduce_sum(cast(nz, dtype), axes, keepdims=bool(keepdims))
