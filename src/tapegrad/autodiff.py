"""Forward mode: ``ForwardAccumulator``, with TensorFlow's ``tf.autodiff`` API.

An accumulator pairs tensors with tangents and, while its ``with`` block runs, pushes
each operation's tangent forward with the op's ``jvp`` rule. The rules are written
with tapegrad ops, so tangents are themselves recorded by any tape or outer
accumulator: that is how forward-over-reverse Hessian-vector products and higher
forward derivatives work.
"""
from __future__ import annotations

import weakref
from typing import Any

from tapegrad import ops
from tapegrad._core import nest
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.record import Primitive
from tapegrad._core.state import add_hook, remove_hook
from tapegrad._core.tensor import Operand, to_array, wrap
from tapegrad.ops.table._helpers import BATCHED_JVPS
from tapegrad.tape import GradientTape, UnconnectedGradients, zeros_for_unconnected

__all__ = ["ForwardAccumulator", "GradientTape", "UnconnectedGradients"]


class ForwardAccumulator:
    """Computes Jacobian-vector products (forward mode) of what runs inside its ``with`` block.

    ``primals`` are the tensors to differentiate with respect to, ``tangents`` the
    direction (same structure, shapes and dtypes). After the block, ``acc.jvp(y)``
    is the derivative of ``y`` along that direction.

    >>> import tapegrad as tg
    >>> x = tg.constant(3.0)
    >>> with tg.autodiff.ForwardAccumulator(x, tg.constant(1.0)) as acc:
    ...     y = x ** 2
    >>> acc.jvp(y).numpy()
    np.float32(6.0)

    Nested with a GradientTape it gives a Hessian-vector product (forward over reverse):

    >>> x = tg.constant([1.0, 2.0])
    >>> with tg.autodiff.ForwardAccumulator(x, tg.constant([1.0, 0.0])) as acc:
    ...     with tg.GradientTape() as tape:
    ...         tape.watch(x)
    ...         y = tg.reduce_sum(x ** 3)
    ...     g = tape.gradient(y, x)
    >>> acc.jvp(g).numpy()  # Hessian diag(6x) times [1, 0]
    array([6., 0.], dtype=float32)
    """

    def __init__(self, primals: Any, tangents: Any) -> None:
        # id -> (weak reference to the tensor, its tangent); an entry leaves when its tensor dies.
        self._tangents: dict[int, tuple[Any, Any]] = {}
        self._batch: int | None = None  # set by ``batched``: every tangent has this many rows in front
        self._busy = False
        self._active = False
        self._hook = self._on_op
        self._watch(primals, tangents, "ForwardAccumulator")

    def __enter__(self) -> ForwardAccumulator:
        if self._active:
            raise ValueError("this ForwardAccumulator is already active; nest a new one instead")
        add_hook(self._hook)
        self._active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        remove_hook(self._hook)
        self._active = False

    def watch(self, primals: Any, tangents: Any) -> None:
        """Give more tensors a tangent (inside the ``with`` block).

        >>> import tapegrad as tg
        >>> x, y = tg.constant(2.0), tg.constant(5.0)
        >>> with tg.autodiff.ForwardAccumulator(x, tg.constant(1.0)) as acc:
        ...     acc.watch(y, tg.constant(1.0))
        ...     z = x * y
        >>> acc.jvp(z).numpy()  # y + x
        np.float32(7.0)
        """
        self._watch(primals, tangents, "watch")

    def _watch(self, primals: Any, tangents: Any, who: str) -> None:
        flat_p = nest.flatten(primals)
        flat_t = nest.flatten(tangents)
        if len(flat_p) != len(flat_t):
            raise ValueError(f"{who}: got {len(flat_p)} primals but {len(flat_t)} tangents; give one tangent "
                             "per primal, in the same structure")
        for p, t in zip(flat_p, flat_t):
            if not isinstance(p, Operand):
                raise TypeError(f"{who}: primals must be Tensors or Variables, got {type(p).__name__}; make it a "
                                "tensor first: x = tg.constant(...), and compute with that x")
            if p._value.dtype.kind not in "fc":
                raise TypeError(f"{who}: a primal has dtype {of_numpy(p._value.dtype).name}; forward-mode "
                                "derivatives need floating-point tensors, e.g. tg.constant(3.0) rather than 3")
            tv = t if isinstance(t, Operand) else wrap(to_array(t, p._value.dtype))
            if tv._value.shape != p._value.shape or tv._value.dtype != p._value.dtype:
                raise ValueError(f"{who}: a tangent must match its primal's shape and dtype: primal "
                                 f"{tuple(p._value.shape)} {of_numpy(p._value.dtype).name}, tangent "
                                 f"{tuple(tv._value.shape)} {of_numpy(tv._value.dtype).name}")
            self._set(p, tv)

    def _set(self, x: Operand, tangent: Any) -> None:
        key = id(x)
        table = self._tangents
        ref = weakref.ref(x, lambda _, key=key, table=table: table.pop(key, None))
        table[key] = (ref, tangent)

    def _get(self, x: Any) -> Any:
        hit = self._tangents.get(id(x))
        if hit is None or hit[0]() is not x:
            return None
        return hit[1]

    def _on_op(self, prim: Primitive, inputs: tuple, params: dict, out: Any) -> None:
        # The tangent computation below runs ops too: this accumulator must not see its own work
        # (outer accumulators and tapes do, which is what gives higher derivatives).
        if self._busy or out._value.dtype.kind not in "fc":
            return
        tangents = [self._get(x) for x in inputs]
        if all(t is None for t in tangents) or not prim.differentiable:
            return
        self._busy = True
        try:
            if self._batch is not None:
                t = _batched_jvp(prim, tangents, inputs, params, out, self._batch)
            elif prim.jvp is not None:
                t = prim.jvp(tuple(tangents), out, *inputs, **params)
            else:
                t = _jvp_by_double_vjp(prim, tangents, inputs, params, out)
            if t is not None:
                shape = out._value.shape if self._batch is None else (self._batch,) + out._value.shape
                if t._value.shape != shape:
                    t = ops.broadcast_to(t, shape)
        finally:
            self._busy = False
        if t is not None:
            self._set(out, t)

    def jvp(self, primals: Any, unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE) -> Any:
        """The tangent of each tensor in ``primals`` (None, or zeros with ``UnconnectedGradients.ZERO``).

        >>> import tapegrad as tg
        >>> x = tg.constant(1.0)
        >>> with tg.autodiff.ForwardAccumulator(x, tg.constant(2.0)) as acc:
        ...     y, z = tg.exp(x * 0.0), tg.constant(4.0)
        >>> acc.jvp([y, z], unconnected_gradients="zero")[1].numpy()
        np.float32(0.0)
        """
        zero = zeros_for_unconnected(unconnected_gradients)
        out = []
        for p in nest.flatten(primals):
            if not isinstance(p, Operand):
                raise TypeError(f"jvp() takes Tensors or Variables, not {type(p).__name__}")
            t = self._get(p)
            if t is None and zero:
                t = ops.zeros_like(p) if self._batch is None else ops.zeros((self._batch,) + p._value.shape, p.dtype)
            out.append(t)
        return nest.pack_as(primals, out)


def batched(primals: list, tangents: list, batch: int) -> ForwardAccumulator:
    """An accumulator pushing ``batch`` tangents at once: ``tangents[k]`` is ``[batch] + primals[k].shape``, and
    ``jvp`` answers likewise (what ``jacfwd`` runs: every basis tangent in one pass, as JAX's vmap of a jvp)."""
    if batch < 1:
        raise ValueError("batched: a batch of no tangents has nothing to push")
    acc = ForwardAccumulator([], [])
    acc._batch = batch
    for p, t in zip(primals, tangents):
        acc._set(p, t)
    return acc


def _batched_jvp(prim: Primitive, tangents: list, inputs: tuple, params: dict, out: Any, batch: int) -> Any:
    """The op's JVP for tangents with ``batch`` rows in front: its batched rule, or its rule once per row."""
    rule = BATCHED_JVPS.get(prim)
    if rule is not None:
        return rule(tuple(tangents), out, *inputs, **params)
    rows = []
    for i in range(batch):
        ti = [None if t is None else t[i] for t in tangents]
        if prim.jvp is not None:
            r = prim.jvp(tuple(ti), out, *inputs, **params)
        else:
            r = _jvp_by_double_vjp(prim, ti, inputs, params, out)
        rows.append(r)
    if all(r is None for r in rows):
        return None
    return ops.stack([ops.zeros_like(out) if r is None else ops.broadcast_to(r, out._value.shape) for r in rows])


def _jvp_by_double_vjp(prim: Primitive, tangents: list, inputs: tuple, params: dict, out: Any) -> Any:
    """The JVP of an op that has only VJP rules (a custom_gradient): the VJP is linear in its cotangent g,
    so <vjp(g), t> differentiated with respect to g gives J t."""
    g = ops.zeros_like(out)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(g)
        total = None
        for k, t in enumerate(tangents):
            if t is None or prim.vjps[k] is None:
                continue
            ct = prim.vjps[k](g, out, *inputs, **params)
            if ct is None:
                continue
            term = ops.reduce_sum(ct * t)
            total = term if total is None else total + term
    return None if total is None else tape.gradient(total, g)
