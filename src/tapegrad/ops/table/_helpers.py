"""The constructors every table module builds its primitives with, and the rules' shared helpers."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.backward import Seed
from tapegrad._core.record import VJP, Primitive, apply
from tapegrad._core.state import STATE
from tapegrad._core.tensor import wrap

from .. import kernels as K

_COMPLEX = frozenset({xp.dtype(xp.complex64), xp.dtype(xp.complex128)})  # (a set lookup: quicker than .kind)

# Primitive -> its JVP rule for tangents with one leading batch axis (``t.shape == (B,) + x.shape``, the answer
# ``(B,) + ans.shape`` or anything that broadcasts to it): what lets ``jacfwd`` push every basis tangent through
# one forward pass. A primitive not here has its ``jvp`` run once per batch element, which is always correct.
BATCHED_JVPS: dict[Primitive, Callable[..., Any]] = {}


def _lead(g: Any, ans: Any) -> tuple:
    """The batch axes ``g`` carries in front of the output's shape (none outside ``jacobian``)."""
    n = g._value.ndim - ans._value.ndim
    return g._value.shape[:n] if n > 0 else ()


def _times(g: Any, d: Any, ans: Any) -> Any:
    """``g * d``; just ``d`` when g is backward's seed (ones of ans's shape) and d has ans's shape too."""
    if type(g) is Seed and d._value.shape == ans._value.shape:
        return d  # 1 * d == d exactly: one op fewer on the first rule of every walk
    return g * d


def _unseen(g: Any, ans: Any) -> bool:
    """Whether a rule may work on arrays directly: no tape records and no hook listens to the ops it would
    run (so nothing differentiates the rule itself), and ``g`` has the output's shape (no Jacobian batch
    axes). Such a fast path skips op dispatch and reuses the buffers it makes; it must give the plain
    rule's numbers (tests/ops/test_fast_rules.py)."""
    return not STATE.tapes and not STATE.hooks and g._value.shape == ans._value.shape


def _unbroadcast(r: Any, shape: tuple, lead: tuple) -> Any:
    """``r`` (lead + a broadcast shape) summed down to lead + ``shape``."""
    if not lead:
        if type(r._value) is xp.ndarray and not STATE.tapes and not STATE.hooks:
            return wrap(K.sum_to(r._value, tuple(shape)))  # sum_to's kernel without the op around it (a bias's rule)
        return F.sum_to(r, shape)
    extra = r._value.ndim - len(lead) - len(shape)
    full = lead + (1,) * extra + tuple(shape)
    out = F.sum_to(r, full)
    return F.reshape(out, lead + tuple(shape)) if extra else out


def _add_tangents(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _tan_or_zero(t: Any, ans: Any) -> Any:
    return F.broadcast_to(t, _lead(t, ans) + ans._value.shape) if t is not None else F.zeros_like(ans)


def _lift(t: Any, x: Any, ans: Any) -> Any:
    """A batched tangent of ``x`` with x's missing broadcast axes put behind the batch axis, so that it
    broadcasts against the other inputs as x does."""
    extra = ans._value.ndim - x._value.ndim
    if extra <= 0:
        return t
    return F.reshape(t, t._value.shape[:1] + (1,) * extra + x._value.shape)


def lifted(jvp: Callable[..., Any]) -> Callable[..., Any]:
    """The batched form of an element-wise op's JVP: the rule itself, on tangents lined up by ``_lift``."""
    def batched(t: tuple, ans: Any, *xs: Any, **params: Any) -> Any:
        t = tuple(None if ti is None else _lift(ti, x, ans) for ti, x in zip(t, xs))
        return jvp(t, ans, *xs, **params)
    return batched


def _c(x: Any) -> Any:
    """conj(x) for a complex x, x itself otherwise: a cotangent is ``g * conj(derivative)``."""
    return F.conj(x) if x._value.dtype in _COMPLEX else x


def unary(name: str, forward: Callable[..., Any], d: Callable[[Any, Any], Any] | None = None,
          over: Callable[[Any, Any], Any] | None = None) -> Primitive:
    """An element-wise op of one input, given its derivative ``d(x, ans)`` or as ``1 / over(x, ans)``.

    The second form divides instead of multiplying by a reciprocal: one pass over the data fewer.
    Both hold for a holomorphic op on complex inputs (the derivative conjugated in the cotangent).
    """
    if over is not None:
        prim = Primitive(name, forward, (lambda g, ans, x: g / _c(over(x, ans)),),
                         jvp=lambda t, ans, x: t[0] / over(x, ans), batched=True)
    else:
        prim = Primitive(name, forward, (lambda g, ans, x: _times(g, _c(d(x, ans)), ans),),
                         jvp=lambda t, ans, x: t[0] * d(x, ans), batched=True)
    BATCHED_JVPS[prim] = prim.jvp  # (a batch axis in front broadcasts)
    return prim


def guarded(name: str, forward: Callable[..., Any], d: Callable[[Any, Any], Any]) -> Primitive:
    """An element-wise op whose derivative ``d`` is infinite somewhere: where the incoming gradient is 0, so is
    the outgoing one (TensorFlow's sqrt, rsqrt and reciprocal kernels), so ``where(x > 0, sqrt(x), 0)`` and
    ``sqrt(x) * 0`` have gradient 0 at x = 0, not NaN."""
    def vjp(g: Any, ans: Any, x: Any) -> Any:
        if type(g) is Seed and g._value.shape == ans._value.shape:
            return d(x, ans)  # the seed is all ones: nothing to guard
        return F.multiply_no_nan(d(x, ans), g)
    prim = Primitive(name, forward, (vjp,), jvp=lambda t, ans, x: F.multiply_no_nan(d(x, ans), t[0]), batched=True)
    BATCHED_JVPS[prim] = prim.jvp
    return prim


def binary(name: str, forward: Callable[..., Any], dx: Callable[..., Any] | None, dy: Callable[..., Any] | None,
           tx: Callable[..., Any] | None = None, ty: Callable[..., Any] | None = None,
           jvp: Callable[..., Any] | None = None, batch_jvp: bool = True) -> Primitive:
    """An element-wise op of two broadcasting inputs; ``dx``/``dy`` give cotangents at the output's shape.

    The JVP is ``jvp``, or the sum of ``tx(tangent of x, ans, x, y)`` and ``ty(tangent of y, ...)``
    over the inputs that carry a tangent, broadcast to the output's shape. ``batch_jvp=False`` says that
    ``jvp`` does not take batched tangents (see ``BATCHED_JVPS``).
    """
    def wrap_rule(rule: Callable[..., Any] | None, which: int) -> Callable[..., Any] | None:
        if rule is None:
            return None

        def vjp(g: Any, ans: Any, x: Any, y: Any) -> Any:
            r = rule(g, ans, x, y)
            shape = (x, y)[which]._value.shape
            have = r._value.shape
            if have == shape:
                return r
            lead = _lead(g, ans)
            if have == lead + shape:  # a Jacobian's rows of a non-broadcast input: nothing to sum
                return r
            return _unbroadcast(r, shape, lead)
        return vjp

    def summed(t: tuple, ans: Any, x: Any, y: Any) -> Any:
        a = None if t[0] is None else tx(t[0], ans, x, y)
        b = None if t[1] is None else ty(t[1], ans, x, y)
        r = _add_tangents(a, b)
        return F.broadcast_to(r, _lead(r, ans) + ans._value.shape)
    if jvp is None and tx is not None and ty is not None:
        jvp = summed
    prim = Primitive(name, forward, (wrap_rule(dx, 0), wrap_rule(dy, 1)), jvp=jvp, batched=True)
    if jvp is not None and batch_jvp:
        BATCHED_JVPS[prim] = lifted(jvp)
    return prim


def linear(name: str, forward: Callable[..., Any], vjps: Sequence[VJP | None],
           batch: Callable[..., Any] | None = None, elementwise: bool = False) -> Primitive:
    """An op linear in its inputs: its JVP is the op itself applied to the tangents, with the same
    params (zeros for an input that carries none).

    Its JVP for batched tangents (see ``BATCHED_JVPS``) is that JVP itself for an ``elementwise`` op of one
    input, else ``batch(t, ans, *xs, **params)`` if given.
    """
    def jvp(t: tuple, ans: Any, *xs: Any, **params: Any) -> Any:
        if len(t) > 1:
            t = tuple(F.zeros_like(x) if ti is None else ti for ti, x in zip(t, xs))
        return apply(prim, t, params or None)
    prim = Primitive(name, forward, vjps, jvp=jvp, batched=True)
    if elementwise or batch is not None:
        BATCHED_JVPS[prim] = batch or jvp
    return prim


def nondiff(name: str, forward: Callable[..., Any]) -> Primitive:
    """Integer, boolean or piecewise-constant results: not differentiable by declaration."""
    return Primitive(name, forward, None)


class _Each:
    """The rule of input k of a variadic op (concat)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __getitem__(self, k: int) -> Callable[..., Any]:
        return lambda g, ans, *xs, **p: self.fn(k, g, ans, *xs, **p)
