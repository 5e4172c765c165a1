"""Special functions, more element-wise ops, segment sums and the fused softmax cross entropies.

Forwards in ``ops.special_kernels`` (and ``ops.kernels``); rules in tapegrad ops, as everywhere in the table.
"""
from __future__ import annotations

import math
from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.backward import Donated, Seed
from tapegrad._core.record import Primitive
from tapegrad._core.tensor import wrap

from .. import kernels as K
from .. import special_kernels as S
from ._helpers import _lead, _times, _unseen, binary, linear, nondiff, unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)

# ---- special functions --------------------------------------------------------------------------
erf = unary("erf", S.erf, lambda x, ans: _TWO_OVER_SQRT_PI * F.exp(-(x * x)))
erfc = unary("erfc", S.erfc, lambda x, ans: -_TWO_OVER_SQRT_PI * F.exp(-(x * x)))
erfinv = unary("erfinv", S.erfinv, lambda x, ans: _HALF_SQRT_PI * F.exp(ans * ans))
lgamma = unary("lgamma", S.lgamma, lambda x, ans: F.digamma(x))
digamma = unary("digamma", S.digamma, lambda x, ans: F.polygamma(1.0, x))


def _polygamma_dx(a: Any, x: Any) -> Any:
    return F.polygamma(a + 1.0, x)


# d/da is not defined (a is an order); TensorFlow returns None for it too.
polygamma = binary("polygamma", S.polygamma, None, lambda g, ans, a, x: g * _polygamma_dx(a, x),
                   jvp=lambda t, ans, a, x: (F.broadcast_to(t[1] * _polygamma_dx(a, x), ans._value.shape)
                                             if t[1] is not None else F.zeros_like(ans)), batch_jvp=False)


def _atan2_r2(y: Any, x: Any) -> Any:
    return x * x + y * y


# atan2(y, x), TensorFlow's argument order
atan2 = binary("atan2", xp.arctan2, lambda g, ans, y, x: g * x / _atan2_r2(y, x),
               lambda g, ans, y, x: -g * y / _atan2_r2(y, x),
               tx=lambda t, ans, y, x: t * x / _atan2_r2(y, x), ty=lambda t, ans, y, x: -t * y / _atan2_r2(y, x))
# The rules floormod has (TensorFlow registers none for TruncateMod: tapegrad gives the same one-sided ones).
truncatemod = binary("truncatemod", S.truncatemod, lambda g, ans, x, y: g,
                     lambda g, ans, x, y: -g * F.truncatediv(x, y),
                     tx=lambda t, ans, x, y: t, ty=lambda t, ans, x, y: -t * F.truncatediv(x, y))


def _complex_jvp(t: tuple, ans: Any, re: Any, im: Any) -> Any:
    tr = t[0] if t[0] is not None else F.zeros_like(re)
    ti = t[1] if t[1] is not None else F.zeros_like(im)
    return F.broadcast_to(F.complex(tr, ti), ans._value.shape)


# TensorFlow's convention: the cotangent of x + iy is g, so x's is real(g) and y's imag(g).
complex = binary("complex", S.complex_from_parts, lambda g, ans, re, im: F.real(g),
                 lambda g, ans, re, im: F.imag(g), jvp=_complex_jvp, batch_jvp=False)

# ---- segments -----------------------------------------------------------------------------------


def _segment_vjp(g: Any, ans: Any, data: Any, ids: Any, num_segments: int) -> Any:
    n = len(_lead(g, ans))
    drop = ids < 0
    rows = F.getitem(g, (slice(None),) * n + (xp.where(drop, 0, ids),))
    if drop.any():  # TensorFlow drops negative ids: their rows get no gradient
        rows = F.where(xp.reshape(drop, drop.shape + (1,) * (data._value.ndim - ids.ndim)), 0.0, rows)
    return rows


unsorted_segment_sum = linear("unsorted_segment_sum", S.unsorted_segment_sum, (_segment_vjp,))
unsorted_segment_max = nondiff("unsorted_segment_max", S.unsorted_segment_max)

# ---- fused cross entropies (TensorFlow's kernels: one op each, rules from softmax or sigmoid) --------
#
# Each logits rule has a fast path (``_unseen``): softmax or sigmoid minus the labels, times g, in the
# one buffer the kernel made. Elsewhere (under a recording tape: higher orders) the same formula in ops.


_CHUNK = 8192  # elements: the scratch stays in cache and under malloc's mmap threshold


def _sigmoid_xent(labels: Any, logits: Any) -> Any:
    """max(x, 0) - x z + log(1 + exp(-|x|)), TensorFlow's stable form.

    On large arrays, chunk by chunk through two small scratch buffers: one new array (the result) and
    one pass over memory, where the formula makes four arrays of the input's size and passes eight times.
    """
    x, z = logits, labels
    n = x.size
    if (n <= _CHUNK or type(x) is not xp.ndarray or type(z) is not xp.ndarray or x.shape != z.shape
            or not x.flags.c_contiguous or not z.flags.c_contiguous):
        return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))
    out = xp.empty_like(x)
    xf, zf, of = x.reshape(-1), z.reshape(-1), out.reshape(-1)
    ta, tb = xp.empty(_CHUNK, x.dtype), xp.empty(_CHUNK, x.dtype)
    zero = xp.zeros((), x.dtype)
    for i in range(0, n, _CHUNK):
        xs = xf[i:i + _CHUNK]
        k = len(xs)
        a, b = ta[:k], tb[:k]
        xp.abs(xs, out=a)
        xp.negative(a, out=a)
        xp.exp(a, out=a)
        xp.log1p(a, out=a)
        a += xp.maximum(xs, zero, out=b)
        xp.subtract(a, xp.multiply(xs, zf[i:i + _CHUNK], out=b), out=of[i:i + _CHUNK])
    return out


def _sigmoid_into(x: Any, out: Any) -> Any:
    """K.sigmoid(x), the same ufuncs in the same order, written into ``out``."""
    with xp.errstate(over="ignore"):
        xp.negative(x, out=out)
        xp.exp(out, out=out)
    out += 1
    return xp.reciprocal(out, out=out)


def _sigmoid_xent_dlogits(g: Any, ans: Any, labels: Any, logits: Any) -> Any:
    x = logits._value
    if _unseen(g, ans) and x.shape == ans._value.shape and type(x) is xp.ndarray:
        if type(ans) is Donated and x.ndim and ans._value.dtype == x.dtype:  # (0-d: K.sigmoid's other formula)
            d = _sigmoid_into(x, ans._value)  # the loss's array, which the walk frees next: no new one
        else:
            d = K.sigmoid(x)  # a new array: ours to write
        d -= labels._value
        if type(g) is not Seed:
            d *= g._value
        return wrap(d)
    return _times(g, F.sigmoid(logits) - labels, ans)


# The labels' rule is -x: TensorFlow's op is composite, and differentiates in the labels too.
sigmoid_cross_entropy_with_logits = binary(
    "sigmoid_cross_entropy_with_logits", _sigmoid_xent, lambda g, ans, labels, logits: -_times(g, logits, ans),
    _sigmoid_xent_dlogits, tx=lambda t, ans, labels, logits: -t * logits,
    ty=lambda t, ans, labels, logits: t * (F.sigmoid(logits) - labels))
sigmoid_cross_entropy_with_logits.reuses_ans = True  # (the logits' rule, the last)


def _kept(g: Any, ans: Any, axis: int) -> Any:
    """``g`` with the class axis put back (size 1), after any batch axes of ``jacobian``."""
    return F.expand_dims(g, len(_lead(g, ans)) + axis)


def _xent(labels: Any, logits: Any, axis: int) -> Any:
    p = labels * K.log_softmax(logits, (axis,))
    if type(p) is xp.ndarray:  # (np.sum's reduction without its Python wrapper)
        return -xp.add.reduce(p, axis)
    return -xp.sum(p, axis=axis)


# The logits' rule is TensorFlow's, softmax - labels: exact when each row of labels sums to 1 (the loss's
# true gradient is softmax * sum(labels) - labels); TensorFlow answers this way, and so does tapegrad.
def _xent_dlogits(g: Any, ans: Any, labels: Any, logits: Any, axis: int) -> Any:
    if _unseen(g, ans) and type(logits._value) is xp.ndarray:
        d = K.softmax(logits._value, (axis,))  # a new array: ours to write
        d -= labels._value
        d *= xp.expand_dims(g._value, axis)
        return wrap(d)
    return _kept(g, ans, axis) * (F.softmax(logits, axis) - labels)


softmax_cross_entropy_with_logits = Primitive(
    "softmax_cross_entropy_with_logits", _xent,
    (lambda g, ans, labels, logits, axis: -_kept(g, ans, axis) * F.log_softmax(logits, axis), _xent_dlogits),
    jvp=lambda t, ans, labels, logits, axis: F.reduce_sum(
        (-t[0] * F.log_softmax(logits, axis) if t[0] is not None else 0.0)
        + (t[1] * (F.softmax(logits, axis) - labels) if t[1] is not None else 0.0), axis),
    batched=True)


def _onehot(labels: Any, like: Any) -> Any:
    n = like._value.shape[-1]
    return (labels[..., None] == xp.arange(n)).astype(like.dtype.as_numpy_dtype)  # (labels: NumPy, a param)


def _sparse_xent(logits: Any, labels: Any) -> Any:
    logp = K.log_softmax(logits, (logits.ndim - 1,))
    if not isinstance(logits, K.NUMPY):  # (Dask has no take_along_axis): the labels' column picked by a mask
        hit = xp.asarray(labels)[..., None] == xp.arange(logits.shape[-1])
        return -xp.sum(xp.where(hit, logp, xp.zeros_like(logp)), axis=-1)
    return -xp.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]


def _sparse_d(logits: Any, labels: Any) -> Any:
    return F.softmax(logits) - _onehot(labels, logits)


def _sparse_xent_dlogits(g: Any, ans: Any, logits: Any, labels: Any) -> Any:
    if _unseen(g, ans) and type(logits._value) is xp.ndarray:
        d = K.softmax(logits._value, (logits._value.ndim - 1,))  # a new array: ours to write
        picked = labels[..., None]
        xp.put_along_axis(d, picked, xp.take_along_axis(d, picked, axis=-1) - 1, axis=-1)
        d *= g._value[..., None]
        return wrap(d)
    return F.expand_dims(g, -1) * _sparse_d(logits, labels)


sparse_softmax_cross_entropy_with_logits = Primitive(
    "sparse_softmax_cross_entropy_with_logits", _sparse_xent, (_sparse_xent_dlogits,),
    jvp=lambda t, ans, logits, labels: F.reduce_sum(t[0] * _sparse_d(logits, labels), -1), batched=True)

__all__ = ["atan2", "complex", "digamma", "erf", "erfc", "erfinv", "lgamma", "polygamma",
           "sigmoid_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
           "sparse_softmax_cross_entropy_with_logits", "truncatemod",
           "unsorted_segment_max", "unsorted_segment_sum"]
