"""TensorFlow's array ops that pick, move or place elements: split, pad, slice, strided_slice, gather_nd,
boolean_mask, reverse, tensor_scatter_nd_*, repeat, sort, argsort, one_hot.

Each is indexing with the positions worked out in NumPy (they depend on shapes and integer arguments,
never on values that carry gradients), so getitem and scatter_index give every gradient, at every order.
"""
from __future__ import annotations

import builtins
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.dtypes import as_dtype
from tapegrad._core.errors import DTypeError, InvalidArgumentError
from tapegrad._core.state import escape
from tapegrad._core.tensor import Operand, Tensor, to_array, wrap

from ._args import axis_param, operand, pair, typed
from .array_ops import getitem, reshape, scatter_index, where

TensorLike = Any
_slice = builtins.slice  # (this module defines tf.slice)


def _ints(value: Any, op: str, what: str) -> Any:
    """An integer array from a Python value, array or tensor (whose value is then used as data)."""
    if isinstance(value, Operand):
        escape(value)
    a = to_array(value)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {what} must be integers, got {a.dtype}")
    return a


def _axis(axis: Any, ndim: int, op: str) -> int:
    return axis_param(int(axis), ndim, op)[0]


def split(value: TensorLike, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str | None = None) -> list:
    """``value`` cut along ``axis`` into ``num_or_size_splits`` equal parts, or parts of the given sizes
    (one size may be -1: the rest).

    >>> import tapegrad as tg
    >>> [t.shape for t in tg.split(tg.zeros((6, 2)), [1, -1, 2])]
    [TensorShape([1, 2]), TensorShape([3, 2]), TensorShape([2, 2])]
    """
    x = operand(value)
    axis = _axis(axis, x._value.ndim, "split")
    n = x._value.shape[axis]
    sizes = _ints(num_or_size_splits, "split", "num_or_size_splits")
    if sizes.ndim == 0:
        parts = int(sizes)
        if parts <= 0 or n % parts:
            raise InvalidArgumentError(f"split: {parts} parts do not divide axis {axis} of length {n} evenly; "
                                       f"give the sizes of the parts instead")
        sizes = [n // parts] * parts
    else:
        sizes = [int(s) for s in sizes]
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise InvalidArgumentError(f"split: sizes {sizes} may hold one -1 and otherwise sizes >= 0")
        if -1 in sizes:
            sizes[sizes.index(-1)] = n - (builtins.sum(sizes) + 1)
        if builtins.sum(sizes) != n or builtins.min(sizes) < 0:
            raise InvalidArgumentError(f"split: sizes {sizes} do not add up to {n}, the length of axis {axis}")
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (_slice(None),) * axis + (_slice(start, start + s),)))
        start += s
    return out


def _paddings(paddings: Any, ndim: int, op: str) -> list:
    p = _ints(paddings, op, "paddings")
    if p.shape != (ndim, 2):
        raise InvalidArgumentError(f"{op}: paddings must have shape ({ndim}, 2), one (before, after) per axis; "
                                   f"got shape {p.shape}")
    if (p < 0).any():
        raise InvalidArgumentError(f"{op}: paddings must be non-negative, got {p.tolist()}")
    return [(int(a), int(b)) for a, b in p]


def _mirror(n: int, before: int, after: int, symmetric: bool) -> Any:
    """Indices of an axis of length n padded by reflection (the edge not repeated) or symmetrically."""
    edge = 0 if symmetric else 1
    if builtins.max(before, after) > n - edge:
        limit = "no greater than" if symmetric else "less than"
        raise InvalidArgumentError(f"pad: in {'SYMMETRIC' if symmetric else 'REFLECT'} mode paddings must be "
                                   f"{limit} the dimension size {n}, got ({before}, {after})")
    left = xp.arange(before - 1 + edge, edge - 1, -1) if before else xp.arange(0)
    right = xp.arange(n - 1 - edge, n - 1 - edge - after, -1)
    return xp.concatenate([left, xp.arange(n), right])


def pad(tensor: TensorLike, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """``tensor`` padded by ``paddings[i] = (before, after)`` along axis i: with ``constant_values``
    (mode 'CONSTANT'), by reflection without the edge ('REFLECT') or with it ('SYMMETRIC').

    >>> import tapegrad as tg
    >>> tg.pad([1.0, 2.0, 3.0], [[2, 1]], "REFLECT").numpy()
    array([3., 2., 1., 2., 3., 2.], dtype=float32)
    """
    x = operand(tensor)
    shape = x._value.shape
    pads = _paddings(paddings, len(shape), "pad")
    mode_ = str(mode).upper()
    if mode_ in ("REFLECT", "SYMMETRIC"):
        for axis, (before, after) in enumerate(pads):
            if before or after:
                idx = _mirror(shape[axis], before, after, mode_ == "SYMMETRIC")
                x = getitem(x, (_slice(None),) * axis + (idx,))
        return x
    if mode_ != "CONSTANT":
        raise ValueError(f'pad: mode must be one of "CONSTANT", "REFLECT", or "SYMMETRIC", got {mode!r}')
    inner = tuple(_slice(b, b + n) for (b, _), n in zip(pads, shape))
    out = scatter_index(x, inner, tuple(n + b + a for (b, a), n in zip(pads, shape)))
    c = pair(x, constant_values, "pad")[1]
    escape(c)
    if c._value.ndim:
        raise InvalidArgumentError("pad: constant_values must be a scalar")
    if c._value != 0:
        mask = xp.ones(out._value.shape, bool)
        mask[inner] = False
        out = where(wrap(mask), wrap(c._value), out)  # (no gradient for constant_values, as in TensorFlow)
    return out


def slice(input_: TensorLike, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """The block of ``size`` (-1: to the end) starting at ``begin``.

    >>> import tapegrad as tg
    >>> tg.slice([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0, 1], [-1, 2]).numpy()
    array([[2., 3.],
           [5., 6.]], dtype=float32)
    """
    x = operand(input_)
    shape = x._value.shape
    b, s = _ints(begin, "slice", "begin").reshape(-1), _ints(size, "slice", "size").reshape(-1)
    if len(b) != len(shape) or len(s) != len(shape):
        raise InvalidArgumentError(f"slice: begin and size need {len(shape)} entries (one per axis), got "
                                   f"{len(b)} and {len(s)}")
    index = []
    for i, (start, n, dim) in enumerate(zip(b.tolist(), s.tolist(), shape)):
        n = dim - start if n == -1 else n
        if not 0 <= start <= dim or not 0 <= n <= dim - start:
            raise InvalidArgumentError(f"slice: on axis {i} (length {dim}) begin {start} and size {n} leave the "
                                       f"tensor; need 0 <= begin <= {dim} and 0 <= size <= {dim} - begin")
        index.append(_slice(start, start + n))
    return getitem(x, tuple(index))


def strided_slice(input_: TensorLike, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0,
                  var: Any = None, name: str | None = None) -> Tensor:
    """``input_[begin:end:strides]`` spelled as TensorFlow's op: bit i of a mask applies to entry i
    (begin_mask/end_mask: ignore that bound; ellipsis_mask: ``...``; new_axis_mask: ``None``;
    shrink_axis_mask: take index begin[i] and drop the axis). Same as indexing, gradients included.

    >>> import tapegrad as tg
    >>> tg.strided_slice([1.0, 2.0, 3.0, 4.0], [3], [0], [-1]).numpy()
    array([4., 3., 2.], dtype=float32)
    """
    b = _ints(begin, "strided_slice", "begin").reshape(-1).tolist()
    e = _ints(end, "strided_slice", "end").reshape(-1).tolist()
    s = [1] * len(b) if strides is None else _ints(strides, "strided_slice", "strides").reshape(-1).tolist()
    if not len(b) == len(e) == len(s):
        raise InvalidArgumentError(f"strided_slice: begin, end and strides need one length, got {len(b)}, "
                                   f"{len(e)} and {len(s)}")
    if 0 in s:
        raise InvalidArgumentError("strided_slice: strides must be nonzero")
    index: list = []
    for i, (start, stop, step) in enumerate(zip(b, e, s)):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            index.append(start)
        else:
            index.append(_slice(None if begin_mask & bit else start, None if end_mask & bit else stop, step))
    return getitem(input_, tuple(index))


def _nd_index(shape: tuple, indices: Any, batch_dims: int, op: str) -> tuple:
    """The NumPy index of ``indices`` (last axis: a position among ``shape[batch_dims:]``), behind the
    batch axes that ``indices`` and ``shape`` share."""
    idx = _ints(indices, op, "indices")
    k = idx.shape[-1] if idx.ndim else 0
    if k < 1 or k > len(shape) - batch_dims:
        raise InvalidArgumentError(f"{op}: the last axis of indices (shape {idx.shape}) must name from 1 to "
                                   f"{len(shape) - batch_dims} coordinates of shape {shape}")
    if idx.shape[:batch_dims] != shape[:batch_dims]:
        raise InvalidArgumentError(f"{op}: indices {idx.shape} and params {shape} differ in the first "
                                   f"{batch_dims} (batch) axes")
    limits = xp.asarray(shape[batch_dims:batch_dims + k], dtype=xp.int64)
    bad = (idx < 0) | (idx >= limits)
    if bad.any():
        where_ = tuple(int(i) for i in xp.argwhere(bad.any(-1) if idx.ndim > 1 else bad)[0])
        raise InvalidArgumentError(f"{op}: indices{list(where_)} = {idx[where_].tolist()} does not index into "
                                   f"shape {list(shape)}")
    lead = [xp.arange(n).reshape((-1,) + (1,) * (idx.ndim - 2 - j)) for j, n in enumerate(shape[:batch_dims])]
    return tuple(lead) + tuple(idx[..., j] for j in range(k))


def gather_nd(params: TensorLike, indices: Any, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Elements (or slices) of ``params`` at the coordinates in the last axis of ``indices``.

    >>> import tapegrad as tg
    >>> tg.gather_nd([[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 0]]).numpy()
    array([2., 3.], dtype=float32)
    """
    x = operand(params)
    return getitem(x, _nd_index(x._value.shape, indices, int(batch_dims), "gather_nd"))


def boolean_mask(tensor: TensorLike, mask: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """The elements (slices) of ``tensor`` where ``mask`` is True, ``mask`` covering axes ``axis`` onward.

    >>> import tapegrad as tg
    >>> tg.boolean_mask([1.0, 2.0, 3.0], [True, False, True]).numpy()
    array([1., 3.], dtype=float32)
    """
    x = operand(tensor)
    if isinstance(mask, Operand):
        escape(mask)
    m = to_array(mask)
    if m.dtype.kind != "b":
        raise DTypeError(f"boolean_mask: mask must be boolean, got {m.dtype}; compare first, e.g. x > 0")
    axis = 0 if axis is None else _axis(axis, x._value.ndim, "boolean_mask")
    part = x._value.shape[axis:axis + m.ndim]
    if m.ndim == 0 or part != m.shape:
        raise ValueError(f"boolean_mask: mask of shape {m.shape} must match the shape of tensor {x._value.shape} "
                         f"from axis {axis}: {part}")
    return getitem(x, (_slice(None),) * axis + tuple(xp.nonzero(m)))


def reverse(tensor: TensorLike, axis: Any, name: str | None = None) -> Tensor:
    """``tensor`` with the order of its elements along each of ``axis`` reversed.

    >>> import tapegrad as tg
    >>> tg.reverse([[1.0, 2.0]], [1]).numpy()
    array([[2., 1.]], dtype=float32)
    """
    x = operand(tensor)
    n = x._value.ndim
    axes = [_axis(a, n, "reverse") for a in to_array(axis).reshape(-1).tolist()]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"reverse: axis {list(axes)} names an axis more than once")
    return getitem(x, tuple(_slice(None, None, -1) if i in axes else _slice(None) for i in range(n)))


def _scatter(tensor: TensorLike, indices: Any, updates: TensorLike, op: str) -> tuple:
    x, u = pair(tensor, updates, op)
    shape = x._value.shape
    index = _nd_index(shape, indices, 0, op)
    want = index[0].shape + shape[len(index):] if index else shape
    if u._value.shape != want:
        raise InvalidArgumentError(f"{op}: updates must have shape {want} (indices' outer shape, then the "
                                   f"rest of the tensor's shape), got {u._value.shape}")
    return x, u, index


def tensor_scatter_nd_add(tensor: TensorLike, indices: Any, updates: TensorLike, name: str | None = None) -> Tensor:
    """``tensor`` with ``updates`` added at the coordinates ``indices`` (repeated coordinates add up).

    >>> import tapegrad as tg
    >>> tg.tensor_scatter_nd_add([1.0, 1.0, 1.0], [[0], [0]], [5.0, 2.0]).numpy()
    array([8., 1., 1.], dtype=float32)
    """
    x, u, index = _scatter(tensor, indices, updates, "tensor_scatter_nd_add")
    return x + scatter_index(u, index, x._value.shape)


def tensor_scatter_nd_sub(tensor: TensorLike, indices: Any, updates: TensorLike, name: str | None = None) -> Tensor:
    """``tensor`` with ``updates`` subtracted at the coordinates ``indices``.

    >>> import tapegrad as tg
    >>> tg.tensor_scatter_nd_sub([1.0, 1.0], [[1]], [5.0]).numpy()
    array([ 1., -4.], dtype=float32)
    """
    x, u, index = _scatter(tensor, indices, updates, "tensor_scatter_nd_sub")
    return x - scatter_index(u, index, x._value.shape)


def tensor_scatter_nd_update(tensor: TensorLike, indices: Any, updates: TensorLike,
                             name: str | None = None) -> Tensor:
    """``tensor`` with the elements (slices) at the coordinates ``indices`` replaced by ``updates``; of
    repeated coordinates the last one wins (as TensorFlow's CPU kernel does), the others get no gradient.

    >>> import tapegrad as tg
    >>> tg.tensor_scatter_nd_update([1.0, 1.0, 1.0], [[2], [0]], [5.0, 7.0]).numpy()
    array([7., 1., 5.], dtype=float32)
    """
    x, u, index = _scatter(tensor, indices, updates, "tensor_scatter_nd_update")
    shape = x._value.shape
    flat = xp.ravel_multi_index(tuple(i.reshape(-1) for i in index), shape[:len(index)])
    _, first_of_reversed = xp.unique(flat[::-1], return_index=True)
    keep = xp.sort(len(flat) - 1 - first_of_reversed)  # the last occurrence of each coordinate
    kept_index = tuple(i.reshape(-1)[keep] for i in index)
    kept = reshape(u, (len(flat),) + shape[len(index):])
    if len(keep) < len(flat):
        kept = getitem(kept, (keep,))
    mask = xp.zeros(shape, bool)
    mask[kept_index] = True
    return where(wrap(mask), scatter_index(kept, kept_index, shape), x)


def repeat(input: TensorLike, repeats: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """Each element (slice along ``axis``; of the flattened tensor when None) repeated ``repeats`` times.

    >>> import tapegrad as tg
    >>> tg.repeat([1.0, 2.0], [1, 2]).numpy()
    array([1., 2., 2.], dtype=float32)
    """
    x = operand(input)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x._value.ndim, "repeat")
    n = x._value.shape[axis]
    r = _ints(repeats, "repeat", "repeats")
    if r.ndim > 1 or (r.ndim == 1 and len(r) not in (1, n)) or (r < 0).any():
        raise InvalidArgumentError(f"repeat: repeats must be a non-negative scalar or hold one count per element "
                                   f"({n}) of axis {axis}, got shape {r.shape}")
    return getitem(x, (_slice(None),) * axis + (xp.repeat(xp.arange(n), r.reshape(-1)),))


_DIRECTIONS = ("ASCENDING", "DESCENDING")


def _order(x: Tensor, axis: int, direction: str, op: str) -> Any:
    if direction not in _DIRECTIONS:
        raise ValueError(f"{op}: direction should be one of ASCENDING, DESCENDING, got {direction!r}")
    if x._value.ndim == 0:
        raise InvalidArgumentError(f"{op} needs a tensor of rank >= 1, got a scalar")
    escape(x)
    v = x._value
    if direction == "ASCENDING":
        return xp.argsort(v, axis=axis, kind="stable")
    # Descending with ties in their original order: reverse, sort ascending stably, reverse back.
    n = v.shape[axis]
    return n - 1 - xp.flip(xp.argsort(xp.flip(v, axis), axis=axis, kind="stable"), axis)


def argsort(values: TensorLike, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: str | None = None) -> Tensor:
    """The indices (int32) that sort ``values`` along ``axis`` (ties in their original order).

    >>> import tapegrad as tg
    >>> tg.argsort([3.0, 1.0, 2.0]).numpy()
    array([1, 2, 0], dtype=int32)
    """
    x = typed(values, "argsort", "fiu")
    return wrap(_order(x, _axis(axis, x._value.ndim, "argsort"), direction, "argsort").astype(xp.int32))


def sort(values: TensorLike, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """``values`` sorted along ``axis``; the gradient goes back to each value's place.

    >>> import tapegrad as tg
    >>> tg.sort([3.0, 1.0, 2.0], direction="DESCENDING").numpy()
    array([3., 2., 1.], dtype=float32)
    """
    x = typed(values, "sort", "fiu")
    shape = x._value.shape
    axis = _axis(axis, len(shape), "sort")
    order = _order(x, axis, direction, "sort")
    index = tuple(order if d == axis else xp.arange(n).reshape((-1,) + (1,) * (len(shape) - 1 - d))
                  for d, n in enumerate(shape))
    return getitem(x, index)


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None, axis: int | None = None,
            dtype: Any = None, name: str | None = None) -> Tensor:
    """``on_value`` where the new axis (last, or ``axis``) equals the index, ``off_value`` elsewhere (an index
    outside [0, depth) gives a row of ``off_value``). Not differentiable, as in TensorFlow.

    >>> import tapegrad as tg
    >>> tg.one_hot([0, 2], 3).numpy()
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    idx = _ints(indices, "one_hot", "indices")
    given = [operand(v) for v in (on_value, off_value) if v is not None]
    for v in given:
        escape(v)
    if dtype is not None:
        want = as_dtype(dtype)._np
    elif given:
        want = given[0]._value.dtype
        if builtins.any(v._value.dtype != want for v in given):
            raise DTypeError(f"one_hot: on_value and off_value have different dtypes, "
                             f"{given[0]._value.dtype} and {given[-1]._value.dtype}")
    else:
        want = xp.dtype(xp.float32)
    on = xp.asarray(1 if on_value is None else operand(on_value)._value).astype(want)
    off = xp.asarray(0 if off_value is None else operand(off_value)._value).astype(want)
    hot = idx[..., None] == xp.arange(int(depth))
    if axis is not None and int(axis) != -1:
        hot = xp.moveaxis(hot, -1, _axis(axis, hot.ndim, "one_hot"))
    return wrap(xp.where(hot, on, off))


__all__ = ["argsort", "boolean_mask", "gather_nd", "one_hot", "pad", "repeat", "reverse", "slice", "sort", "split",
           "strided_slice", "tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_nd_update"]
