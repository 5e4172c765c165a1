"""Shapes, joining, indexing, casting and selecting, under TensorFlow's names (constructors: ``constructors``)."""
from __future__ import annotations

import builtins
from typing import Any

from tapegrad._core.backend import NATIVE, xp
from tapegrad._core.dtypes import as_dtype
from tapegrad._core.record import apply
from tapegrad._core.state import escape
from tapegrad._core.tensor import Operand, Tensor, to_array, wrap

from . import table as T
from ._args import axis_param, operand, pair, shape_param

TensorLike = Any


def _unchanged(x: Operand) -> Tensor:
    """``x`` when nothing is to be done: a Tensor as it is, a Variable as a recorded read."""
    return x if isinstance(x, Tensor) else apply(T.identity, (x,))


def _to_shape(prim: Any, input: TensorLike, shape: Any, problem: str) -> Tensor:
    """``input`` taken to ``shape`` by ``prim`` (reshape, broadcast_to); ``problem`` says why it cannot be."""
    x = operand(input)
    shape = shape_param(shape)
    if x._value.shape == shape:
        return _unchanged(x)
    try:
        return apply(prim, (x,), {"shape": shape})
    except ValueError:
        old = tuple(x._value.shape)
        raise ValueError(f"{prim.name}: " + problem.format(size=x._value.size, old=old, new=shape)) from None


def reshape(tensor: TensorLike, shape: Any, name: str | None = None) -> Tensor:
    """The same values in a new shape (one dimension may be -1).

    >>> import tapegrad as tg
    >>> tg.reshape([1.0, 2.0, 3.0, 4.0], (2, 2)).shape
    TensorShape([2, 2])
    """
    return _to_shape(T.reshape, tensor, shape, "cannot put {size} values of shape {old} into shape {new}")


def transpose(a: TensorLike, perm: Any = None, conjugate: bool = False, name: str | None = None) -> Tensor:
    """Axes permuted by ``perm`` (reversed when None).

    >>> import tapegrad as tg
    >>> tg.transpose([[1.0, 2.0]]).shape
    TensorShape([2, 1])
    """
    x = operand(a)
    n = x._value.ndim
    if perm is None:
        perm = tuple(builtins.range(n - 1, -1, -1))
    elif type(perm) is not tuple or sorted(perm) != list(builtins.range(n)):  # else it is valid as it is
        perm = tuple([int(p) % builtins.max(n, 1) for p in perm])
        if sorted(perm) != list(builtins.range(n)):
            raise ValueError(f"transpose: perm {perm} is not a permutation of the {n} axes")
    return apply(T.transpose, (x,), {"perm": perm})


def matrix_transpose(a: TensorLike, name: str | None = None, conjugate: bool = False) -> Tensor:
    """The last two axes swapped (and the values conjugated with ``conjugate``).

    >>> import tapegrad as tg
    >>> tg.linalg.matrix_transpose(tg.zeros((3, 2, 4))).shape
    TensorShape([3, 4, 2])
    """
    x = operand(a)
    n = x._value.ndim
    if n < 2:
        raise ValueError(f"matrix_transpose needs a tensor of rank >= 2, got rank {n}")
    if conjugate and x._value.dtype.kind == "c":
        x = apply(T.conj, (x,))
    return transpose(x, tuple(builtins.range(n - 2)) + (n - 1, n - 2))


def expand_dims(input: TensorLike, axis: int, name: str | None = None) -> Tensor:
    """A new axis of length 1 inserted at ``axis``.

    >>> import tapegrad as tg
    >>> tg.expand_dims([1.0, 2.0], 0).shape
    TensorShape([1, 2])
    """
    x = operand(input)
    n = x._value.ndim
    axis = int(axis)
    if not -n - 1 <= axis <= n:
        raise ValueError(f"expand_dims: axis {axis} is out of range for a tensor of rank {n}")
    axis = axis % (n + 1)
    shape = x._value.shape
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def squeeze(input: TensorLike, axis: Any = None, name: str | None = None) -> Tensor:
    """Axes of length 1 removed (only those in ``axis`` when given).

    >>> import tapegrad as tg
    >>> tg.squeeze(tg.zeros((1, 3, 1))).shape
    TensorShape([3])
    """
    x = operand(input)
    shape = x._value.shape
    axes = axis_param(axis, len(shape), "squeeze")
    if axes is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    for a in axes:
        if shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has length {shape[a]}, not 1")
    return reshape(x, tuple(s for i, s in enumerate(shape) if i not in axes))


def concat(values: list, axis: int, name: str | None = None) -> Tensor:
    """Tensors joined along an existing axis.

    >>> import tapegrad as tg
    >>> tg.concat([[1.0], [2.0, 3.0]], axis=0).numpy()
    array([1., 2., 3.], dtype=float32)
    """
    xs = _same_dtype(values, "concat")
    n = xs[0]._value.ndim
    if n == 0:
        raise ValueError("concat: scalars cannot be concatenated; use tg.stack")
    axis = int(axis) % n
    for x in xs:
        s0, s = xs[0]._value.shape, x._value.shape
        if len(s) != n or any(a != b for i, (a, b) in enumerate(zip(s0, s)) if i != axis):
            raise ValueError(f"concat: shapes {tuple(s0)} and {tuple(s)} differ outside axis {axis}")
    if len(xs) == 1:
        return apply(T.identity, (xs[0],))
    return apply(T.concat, tuple(xs), {"axis": axis})


def stack(values: list, axis: int = 0, name: str | None = None) -> Tensor:
    """Tensors of one shape joined along a new axis.

    >>> import tapegrad as tg
    >>> tg.stack([1.0, 2.0]).numpy()
    array([1., 2.], dtype=float32)
    """
    xs = _same_dtype(values, "stack")
    n = xs[0]._value.ndim
    for x in xs:
        if x._value.shape != xs[0]._value.shape:
            raise ValueError(f"stack: all tensors need one shape; got {tuple(xs[0]._value.shape)} and "
                             f"{tuple(x._value.shape)}")
    axis = int(axis)
    if not -n - 1 <= axis <= n:
        raise ValueError(f"stack: axis {axis} is out of range for tensors of rank {n}")
    return concat([expand_dims(x, axis) for x in xs], axis % (n + 1))


def unstack(value: TensorLike, num: int | None = None, axis: int = 0, name: str | None = None) -> list:
    """A list of the slices of ``value`` along ``axis``.

    >>> import tapegrad as tg
    >>> len(tg.unstack(tg.zeros((3, 2))))
    3
    """
    x = operand(value)
    axis = int(axis) % x._value.ndim
    return [getitem(x, (slice(None),) * axis + (i,)) for i in builtins.range(x._value.shape[axis])]


def _same_dtype(values: Any, op: str) -> list:
    if isinstance(values, Operand) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{op} takes a non-empty list of tensors")
    xs = [v if isinstance(v, Operand) else None for v in values]
    ref = next((x for x in xs if x is not None), None)
    if ref is None:
        ref = operand(values[0])
    out = []
    for v in values:
        out.append(pair(ref, v, op)[1])
    return out


def tile(input: TensorLike, multiples: Any, name: str | None = None) -> Tensor:
    """``input`` repeated ``multiples[i]`` times along axis i.

    >>> import tapegrad as tg
    >>> tg.tile([1.0, 2.0], [2]).numpy()
    array([1., 2., 1., 2.], dtype=float32)
    """
    x = operand(input)
    multiples = shape_param(multiples)
    if len(multiples) != x._value.ndim:
        raise ValueError(f"tile: multiples needs one entry per axis ({x._value.ndim}), got {len(multiples)}")
    return apply(T.tile, (x,), {"multiples": multiples})


def broadcast_to(input: TensorLike, shape: Any, name: str | None = None) -> Tensor:
    """``input`` broadcast to ``shape`` by NumPy's rules.

    >>> import tapegrad as tg
    >>> tg.broadcast_to(1.0, (2, 3)).shape
    TensorShape([2, 3])
    """
    return _to_shape(T.broadcast_to, input, shape, "shape {old} cannot be broadcast to {new}")


def sum_to(input: TensorLike, shape: Any) -> Tensor:
    """Sum ``input`` down to ``shape``: the transpose of ``broadcast_to``, and how gradients undo broadcasting.

    >>> import tapegrad as tg
    >>> tg.sum_to(tg.ones((2, 3)), (3,)).numpy()
    array([2., 2., 2.], dtype=float32)
    """
    x = operand(input)
    shape = shape_param(shape)
    if x._value.shape == shape:
        return x
    return apply(T.sum_to, (x,), {"shape": shape})


def _index(key: Any) -> tuple:
    """A NumPy index with tensors and lists turned into arrays and boolean masks into integer arrays."""
    if not isinstance(key, tuple):
        key = (key,)
    out: list = []
    for k in key:
        if isinstance(k, Operand):
            escape(k)  # its values pick elements: a Python-level use of the tensor
            k = k._value
        elif isinstance(k, list):
            k = xp.asarray(k)
        if isinstance(k, (xp.ndarray, xp.generic)):
            if k.dtype.kind == "b":
                out.extend(xp.nonzero(k))
                continue
            if k.dtype.kind not in "iu":
                raise IndexError(f"index arrays must hold integers or booleans, not {k.dtype}")
            k = xp.asarray(k) if k.ndim else int(k)
        elif not (k is None or k is Ellipsis or isinstance(k, (int, slice)) or hasattr(k, "__index__")):
            raise IndexError(f"tensors are indexed by ints, slices, None, ..., or integer/boolean arrays; "
                             f"got {type(k).__name__}")
        out.append(k)
    return tuple(out)


def getitem(tensor: TensorLike, key: Any) -> Tensor:
    """``tensor[key]`` with NumPy's basic and integer-array indexing (gradients add up on repeats).

    >>> import tapegrad as tg
    >>> tg.constant([1.0, 2.0, 3.0])[::-1].numpy()
    array([3., 2., 1.], dtype=float32)
    """
    x = operand(tensor)
    index = _index(key)
    v = x._value
    try:
        # another library's array (which may index differently, or lazily) is checked on a NumPy stand-in
        (v if type(v) in NATIVE else xp.broadcast_to(xp.zeros((), bool), v.shape))[index]
    except IndexError as e:
        raise IndexError(f"index {key!r} does not fit a tensor of shape {tuple(x._value.shape)}: {e}") from None
    return apply(T.getitem, (x,), {"index": index})


def scatter_index(updates: TensorLike, index: tuple, shape: Any) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at ``index``: the transpose of ``getitem``.

    >>> import tapegrad as tg
    >>> tg.scatter_index(tg.constant([1.0, 1.0]), ([0, 0],), (2,)).numpy()
    array([2., 0.], dtype=float32)
    """
    return apply(T.scatter_index, (operand(updates),), {"index": _index(index), "shape": shape_param(shape)})


def gather(params: TensorLike, indices: Any, validate_indices: Any = None, axis: int | None = None,
           batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Slices of ``params`` along ``axis`` picked by integer ``indices``; with ``batch_dims`` b, the first
    b axes of params and indices are a batch, each with its own indices.

    >>> import tapegrad as tg
    >>> tg.gather([10.0, 20.0, 30.0], [2, 0]).numpy()
    array([30., 10.], dtype=float32)
    """
    x = operand(params)
    if isinstance(indices, Operand):
        escape(indices)
    idx = to_array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: indices must be integers, got {idx.dtype}")
    nd = x._value.ndim
    bd = int(batch_dims) + (idx.ndim if int(batch_dims) < 0 else 0)
    axis = bd if axis is None else int(axis) % builtins.max(nd, 1)
    if not 0 <= bd <= builtins.min(idx.ndim, axis):
        raise ValueError(f"gather: batch_dims ({batch_dims}) must lie in [-{idx.ndim}, {idx.ndim}] (the rank of "
                         f"indices) and be at most axis ({axis})")
    if x._value.shape[:bd] != idx.shape[:bd]:
        raise ValueError(f"gather: with batch_dims={bd} params {tuple(x._value.shape)} and indices {idx.shape} "
                         f"must agree on their first {bd} axes")
    n = x._value.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"gather: indices must lie in [-{n}, {n}) for axis {axis} of length {n}")
    batch = tuple(xp.arange(s).reshape((-1,) + (1,) * (idx.ndim - 1 - j)) for j, s in enumerate(idx.shape[:bd]))
    out = getitem(x, batch + (slice(None),) * (axis - bd) + (xp.asarray(idx),))
    if bd and axis > bd:  # NumPy put the indices' axes before the axes between the batch and ``axis``
        k, m = idx.ndim - bd, axis - bd
        out = transpose(out, tuple(builtins.range(bd)) + tuple(builtins.range(bd + k, bd + k + m))
                        + tuple(builtins.range(bd, bd + k)) + tuple(builtins.range(bd + k + m, out._value.ndim)))
    return out


def cast(x: TensorLike, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` converted to ``dtype`` (float to int truncates toward zero, like TensorFlow).

    >>> import tapegrad as tg
    >>> tg.cast([1.7, -1.7], tg.int32).numpy()
    array([ 1, -1], dtype=int32)
    """
    x = operand(x)
    want = as_dtype(dtype)._np
    if x._value.dtype == want:
        return _unchanged(x)
    return apply(T.cast, (x,), {"dtype": want})


def identity(input: TensorLike, name: str | None = None) -> Tensor:
    """The same values as a new Tensor (reads a Variable).

    >>> import tapegrad as tg
    >>> tg.identity(tg.Variable(2.0)).numpy()
    np.float32(2.0)
    """
    return apply(T.identity, (operand(input),))


def where(condition: TensorLike, x: TensorLike = None, y: TensorLike = None, name: str | None = None) -> Tensor:
    """Elements of ``x`` where ``condition`` holds, else of ``y`` (broadcasting).

    With only ``condition``, the coordinates of its true elements (int64).

    >>> import tapegrad as tg
    >>> tg.where([True, False], 1.0, 2.0).numpy()
    array([1., 2.], dtype=float32)
    """
    c = operand(condition)
    if c._value.dtype.kind != "b":
        raise TypeError(f"where: condition must be boolean, got {c.dtype.name}; compare first, e.g. x > 0")
    if x is None and y is None:
        escape(c)
        return wrap(xp.argwhere(c._value).astype(xp.int64))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    xo, yo = pair(x, y, "where")
    return apply(T.where, (c, xo, yo))
