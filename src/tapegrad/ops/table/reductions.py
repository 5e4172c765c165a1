"""Reductions, scans and softmax: ops along axes."""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import Primitive
from tapegrad._core.tensor import wrap

from .. import kernels as K
from ._helpers import BATCHED_JVPS, _lead, _unseen, linear, nondiff
from .shapes import broadcast_as


def _kept_shape(shape: tuple, axis: tuple | None) -> tuple:
    """``shape`` with the reduced axes kept as 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _restore(g: Any, x: Any, axis: tuple | None, lead: tuple = ()) -> Any:
    return F.reshape(g, lead + _kept_shape(x._value.shape, axis))


def _max_vjp(g: Any, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    # Ties share the gradient equally, as in TensorFlow.
    mask = F.cast(F.equal(x, _restore(ans, x, axis)), g.dtype)
    return _restore(g, x, axis, _lead(g, ans)) * mask / F.reduce_sum(mask, axis, keepdims=True)


def _max_jvp(t: tuple, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    mask = F.cast(F.equal(x, _restore(ans, x, axis)), ans.dtype)
    s = F.reduce_sum(mask * t[0], axis, keepdims=keepdims)
    return s / F.reduce_sum(mask, axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    lead = _lead(g, ans)
    if axis is not None or lead:  # (a scalar broadcasts as it is)
        g = _restore(g, x, axis, lead)
    return broadcast_as(g, lead + x._value.shape, x)


def _behind(axis: tuple | None, x: Any) -> tuple:
    """The reduced axes of a tangent with one batch axis in front of x's."""
    return tuple(range(1, x._value.ndim + 1)) if axis is None else tuple(a + 1 for a in axis)


reduce_sum = linear("reduce_sum", K.reduce_sum, (_sum_vjp,),
                    batch=lambda t, ans, x, axis, keepdims: F.reduce_sum(t[0], _behind(axis, x), keepdims))


def _count(shape: tuple, axis: tuple | None) -> int:
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


def _mean(x: Any, axis: tuple | None, keepdims: bool) -> Any:
    """The sum over the count, as ``reduce_sum(x) / n`` divides (n in x's dtype): one op instead of two."""
    total = K.reduce_sum(x, axis, keepdims)
    return K.truediv(total, xp.asarray(_count(x.shape, axis), dtype=total.dtype))


def _mean_vjp(g: Any, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    v = x._value
    n = xp.asarray(_count(v.shape, axis), dtype=v.dtype)
    if _unseen(g, ans) and type(v) is xp.ndarray and isinstance(g._value, K.NUMPY):
        # reduce_sum's rule on divide's (g / n), on the arrays: a read-only broadcast of one value per mean
        return wrap(xp.broadcast_to(K.reshape(g._value / n, _kept_shape(v.shape, axis)), v.shape))
    return _sum_vjp(g / n, ans, x, axis, keepdims)


reduce_mean = linear("reduce_mean", _mean, (_mean_vjp,),
                     batch=lambda t, ans, x, axis, keepdims: F.reduce_mean(t[0], _behind(axis, x), keepdims))
reduce_max = Primitive("reduce_max", lambda x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                       (_max_vjp,), jvp=_max_jvp, batched=True)
reduce_min = Primitive("reduce_min", lambda x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
                       (_max_vjp,), jvp=_max_jvp, batched=True)


def _max_batch(t: tuple, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    mask = F.cast(F.equal(x, _restore(ans, x, axis)), ans.dtype)
    s = F.reduce_sum(mask * t[0], _behind(axis, x), keepdims=keepdims)
    return s / F.reduce_sum(mask, axis, keepdims=keepdims)


BATCHED_JVPS[reduce_max] = BATCHED_JVPS[reduce_min] = _max_batch


def _others(x: Any, axis: tuple | None) -> Any:
    """d prod / d x_i: the product of the other elements along ``axis``, exact where x has zeros.

    TensorFlow's rule: the reduced axes moved to the front and flattened, then the products to the left
    and to the right of each element (two exclusive cumprods), never ``prod / x_i``.
    """
    shape = x._value.shape
    reduced = tuple(range(len(shape))) if axis is None else tuple(axis)
    kept = tuple(i for i in range(len(shape)) if i not in reduced)
    perm = reduced + kept
    m = 1
    for i in reduced:
        m *= shape[i]
    flat = F.reshape(F.transpose(x, perm), (m, -1))
    both = F.cumprod(flat, 0, True, False) * F.cumprod(flat, 0, True, True)
    back = F.reshape(both, tuple(shape[i] for i in perm))
    return F.transpose(back, tuple(int(i) for i in xp.argsort(perm)))


reduce_prod = Primitive(
    "reduce_prod", K.reduce_prod,
    (lambda g, ans, x, axis, keepdims: _restore(g, x, axis, _lead(g, ans)) * _others(x, axis),),
    jvp=lambda t, ans, x, axis, keepdims: F.reduce_sum(_others(x, axis) * t[0], axis, keepdims), batched=True)
BATCHED_JVPS[reduce_prod] = lambda t, ans, x, axis, keepdims: F.reduce_sum(_others(x, axis) * t[0],
                                                                           _behind(axis, x), keepdims)
# TensorFlow's rule, division by x included: exact except where x is 0 (where it gives 0).
cumprod = Primitive(
    "cumprod", K.cumprod,
    (lambda g, ans, x, axis, exclusive, reverse: F.divide_no_nan(
        F.cumsum(ans * g, axis + len(_lead(g, ans)), exclusive, not reverse), x),),
    jvp=lambda t, ans, x, axis, exclusive, reverse: ans * F.cumsum(F.divide_no_nan(t[0], x), axis, exclusive,
                                                                   reverse),
    batched=True)
BATCHED_JVPS[cumprod] = lambda t, ans, x, axis, exclusive, reverse: ans * F.cumsum(
    F.divide_no_nan(t[0], x), axis + 1, exclusive, reverse)
cumsum = linear("cumsum", K.cumsum, (lambda g, ans, x, axis, exclusive, reverse: F.cumsum(
    g, axis + len(_lead(g, ans)), exclusive, not reverse),),
    batch=lambda t, ans, x, axis, exclusive, reverse: F.cumsum(t[0], axis + 1, exclusive, reverse))
argmax = nondiff("argmax", lambda x, axis, output_type: K.astype(xp.argmax(x, axis=axis), output_type))
argmin = nondiff("argmin", lambda x, axis, output_type: K.astype(xp.argmin(x, axis=axis), output_type))
reduce_all = nondiff("reduce_all", lambda x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims))
reduce_any = nondiff("reduce_any", lambda x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims))

# ---- softmax (TensorFlow's kernels: one op each, rules on the answer) ------------------------------


def _axes(axis: tuple, g: Any, ans: Any) -> tuple:
    n = len(_lead(g, ans))
    return tuple(a + n for a in axis)


softmax = Primitive(
    "softmax", K.softmax,
    (lambda g, ans, x, axis: (g - F.reduce_sum(g * ans, _axes(axis, g, ans), keepdims=True)) * ans,),
    jvp=lambda t, ans, x, axis: ans * (t[0] - F.reduce_sum(ans * t[0], axis, keepdims=True)), batched=True)
log_softmax = Primitive(
    "log_softmax", K.log_softmax,
    (lambda g, ans, x, axis: g - F.exp(ans) * F.reduce_sum(g, _axes(axis, g, ans), keepdims=True),),
    jvp=lambda t, ans, x, axis: t[0] - F.reduce_sum(F.exp(ans) * t[0], axis, keepdims=True), batched=True)
BATCHED_JVPS[softmax] = lambda t, ans, x, axis: ans * (t[0] - F.reduce_sum(ans * t[0], _behind(axis, x), True))
BATCHED_JVPS[log_softmax] = lambda t, ans, x, axis: t[0] - F.reduce_sum(F.exp(ans) * t[0], _behind(axis, x), True)
