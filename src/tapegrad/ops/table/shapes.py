"""Shapes, joining, indexing and casting: all linear, so each JVP is the op itself on the tangent."""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import NATIVE, xp
from tapegrad._core.record import apply

from .. import kernels as K
from ._helpers import _Each, _lead, _lift, _unbroadcast, linear

# The ``batch`` rules: JVPs for tangents with one batch axis in front (see ``_helpers.BATCHED_JVPS``).


def _sum_to_vjp(g: Any, ans: Any, x: Any, shape: tuple) -> Any:
    lead = _lead(g, ans)
    if lead:  # line the summed-away axes up again before broadcasting past the batch axes
        g = F.reshape(g, lead + (1,) * (x._value.ndim - len(shape)) + tuple(shape))
    return broadcast_as(g, lead + x._value.shape, x)


def _transpose_vjp(g: Any, ans: Any, x: Any, perm: tuple) -> Any:
    n = len(_lead(g, ans))
    return F.transpose(g, tuple(range(n)) + tuple(n + int(i) for i in xp.argsort(perm)))


def _broadcast(x: Any, shape: tuple, chunks: Any = None) -> Any:
    return xp.broadcast_to(x, shape) if chunks is None else xp.broadcast_to(x, shape, chunks=chunks)


# ``chunks`` is never the user's: rules pass it on Dask (see ``broadcast_as``).
broadcast_to = linear("broadcast_to", _broadcast,
                      (lambda g, ans, x, shape, chunks=None: _unbroadcast(g, x._value.shape, _lead(g, ans)),),
                      batch=lambda t, ans, x, shape, chunks=None: F.broadcast_to(_lift(t[0], x, ans),
                                                                                 _lead(t[0], x) + ans._value.shape))


def broadcast_as(g: Any, shape: tuple, x: Any) -> Any:
    """``g`` broadcast to ``shape``, the shape of ``x`` (after any batch axes).

    On a chunked library (Dask) the result is chunked as ``x`` is, so each chunk's cotangent is
    made beside that chunk rather than cut from one big array and shipped between workers.
    """
    v = x._value
    if type(v) in NATIVE or tuple(shape) != tuple(v.shape) or getattr(v, "chunks", None) is None:
        return F.broadcast_to(g, shape)
    return apply(broadcast_to, (g,), {"shape": tuple(shape), "chunks": v.chunks})
sum_to = linear("sum_to", K.sum_to, (_sum_to_vjp,),
                batch=lambda t, ans, x, shape: _unbroadcast(t[0], shape, _lead(t[0], x)))
reshape = linear("reshape", lambda x, shape: xp.reshape(x, shape),
                 (lambda g, ans, x, shape: F.reshape(g, _lead(g, ans) + x._value.shape),),
                 batch=lambda t, ans, x, shape: F.reshape(t[0], _lead(t[0], x) + ans._value.shape))
transpose = linear("transpose", lambda x, perm: xp.transpose(x, perm), (_transpose_vjp,),
                   batch=lambda t, ans, x, perm: F.transpose(t[0], (0,) + tuple(1 + int(i) for i in perm)))


def _tile_vjp(g: Any, ans: Any, x: Any, multiples: tuple) -> Any:
    lead = _lead(g, ans)
    shape = x._value.shape
    split = []
    for m, s in zip(multiples, shape):
        split += [m, s]
    return F.reduce_sum(F.reshape(g, lead + tuple(split)), tuple(range(len(lead), len(lead) + 2 * len(shape), 2)))


def _tile_batch(t: tuple, ans: Any, x: Any, multiples: tuple) -> Any:
    full = (1,) * (ans._value.ndim - len(multiples)) + tuple(multiples)  # (np.tile pads the shorter one with 1s)
    return F.tile(_lift(t[0], x, ans), (1,) + full)


tile = linear("tile", lambda x, multiples: xp.tile(x, multiples), (_tile_vjp,), batch=_tile_batch)


def _concat_vjp(k: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    start = 0
    for x in xs[:k]:
        start += x._value.shape[axis]
    index = (slice(None),) * (axis + len(_lead(g, ans))) + (slice(start, start + xs[k]._value.shape[axis]),)
    return F.getitem(g, index)


def _concat_batch(t: tuple, ans: Any, *xs: Any, axis: int) -> Any:
    lead = next(_lead(ti, x) for ti, x in zip(t, xs) if ti is not None)
    parts = [F.zeros(lead + x._value.shape, x.dtype) if ti is None else ti for ti, x in zip(t, xs)]
    return F.concat(parts, axis + len(lead))


concat = linear("concat", lambda *xs, axis: xp.concatenate(xs, axis=axis), _Each(_concat_vjp), batch=_concat_batch)


def _lead_index(index: tuple, n: int, ndim: int) -> tuple:
    """``index`` for an array with ``n`` batch axes in front, and the permutation its result needs.

    Advanced indices that slices separate put their broadcast axes first, in front of the
    batch axes: the permutation (None when not needed) moves the batch axes back to the front.
    """
    full = (slice(None),) * n + index
    arrays = [k for k in index if isinstance(k, xp.ndarray)]
    if not arrays:
        return full, None
    adv = [i for i, k in enumerate(index) if isinstance(k, (xp.ndarray, int, xp.integer)) and k is not True
           and k is not False]
    if adv == list(range(adv[0], adv[0] + len(adv))):
        return full, None
    nb = len(xp.broadcast_shapes(*[k.shape for k in arrays]))
    return full, tuple(range(nb, nb + n)) + tuple(range(nb)) + tuple(range(n + nb, ndim))


def _getitem_vjp(g: Any, ans: Any, x: Any, index: tuple) -> Any:
    lead = _lead(g, ans)
    if not lead:
        return F.scatter_index(g, index, x._value.shape)
    full, perm = _lead_index(index, len(lead), g._value.ndim)
    if perm is not None:  # g is lead + broadcast + rest; the indexed batch array wants broadcast + lead + rest
        g = F.transpose(g, tuple(int(i) for i in xp.argsort(perm)))
    return F.scatter_index(g, full, lead + x._value.shape)


def _scatter_vjp(g: Any, ans: Any, x: Any, index: tuple, shape: tuple) -> Any:
    lead = _lead(g, ans)
    if not lead:
        return F.getitem(g, index)
    full, perm = _lead_index(index, len(lead), len(lead) + x._value.ndim)
    r = F.getitem(g, full)
    return F.transpose(r, perm) if perm is not None else r


# Each one's batched JVP is the other's batched VJP: scatter_index is getitem's transpose, and both are linear.
getitem = linear("getitem", K.getitem, (_getitem_vjp,),
                 batch=lambda t, ans, x, index: _scatter_vjp(t[0], x, ans, index, x._value.shape))
# The transpose of getitem: g added into zeros of ``shape`` at ``index`` (repeated indices add up).
scatter_index = linear("scatter_index", K.scatter, (_scatter_vjp,),
                       batch=lambda t, ans, x, index, shape: _getitem_vjp(t[0], x, ans, index))


def _cast_vjp(g: Any, ans: Any, x: Any, dtype: Any) -> Any:
    return F.cast(g, x.dtype) if x._value.dtype.kind in "fc" else None


# Between real and complex dtypes the rule is TensorFlow's: real(g) one way, complex(g, 0) the other.
cast = linear("cast", K.cast, (_cast_vjp,), elementwise=True)
