"""Primitives, the thread-local stack of recording tapes, and recording one op.

An op runs its NumPy forward and, only if some active tape watches one of its
inputs, appends one entry ``(primitive, inputs, params, output)`` to that tape.
With no tape active the whole cost is one attribute read.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import backend, npwarn
from .backend import INEXACT as _INEXACT
from .backend import NATIVE as _NATIVE
from .backend import xp
from .state import ACTIVE, STATE
from .tensor import Operand, Tensor, Variable, to_array

VJP = Callable[..., Any]

REGISTRY: dict[str, Primitive] = {}


class Primitive:
    """One operation: its NumPy forward and its derivative rules.

    ``vjps[i](g, ans, *inputs, **params)`` returns the cotangent of input i (or None for
    a symbolic zero), written with tapegrad ops so higher orders come for free.
    ``jvp(tangents, ans, *inputs, **params)`` returns the output tangent, with ``None``
    in ``tangents`` for inputs that carry none. ``vjps=None`` declares the op
    non-differentiable: it is never recorded.

    ``batched=True`` promises that the vjps also accept a cotangent with leading batch axes,
    ``g.shape == batch + ans.shape``, and return ``batch + input.shape``: that is what lets
    ``jacobian`` push every row through one backward pass. Rules without the promise are run
    once per batch element instead, which is always correct.

    ``reuses_ans=True`` says that the last of the vjps may write its result into ``ans``'s array when the
    backward walk hands ``ans`` over as a ``backward.Donated`` tensor (referenced by nothing else, so no one
    can see the write): the array it would allocate is then one the walk was about to free.
    """

    __slots__ = ("name", "forward", "vjps", "jvp", "differentiable", "batched", "reuses_ans")

    def __init__(self, name: str, forward: Callable[..., Any], vjps: Sequence[VJP | None] | None,
                 jvp: Callable[..., Any] | None = None, register: bool = True, batched: bool = False,
                 reuses_ans: bool = False) -> None:
        self.name = name
        self.forward = forward
        self.vjps = tuple(vjps) if isinstance(vjps, list) else vjps
        self.jvp = jvp
        self.differentiable = vjps is not None
        self.batched = batched
        self.reuses_ans = reuses_ans
        if register:
            if name in REGISTRY:
                raise ValueError(f"a primitive named {name!r} is registered already")
            REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


class TapeState:
    """What one GradientTape records: entries in execution order and the ids it tracks."""

    __slots__ = ("entries", "ids", "persistent", "watch_accessed_variables", "variables", "cuts", "lineage",
                 "only", "__weakref__")

    def __init__(self, persistent: bool, watch_accessed_variables: bool) -> None:
        self.entries: list[Any] = []
        # (len(entries) at the time, prim, inputs, out) of ops that stopped a gradient, and of ops computed from
        # their results (not recorded: nothing there has a gradient); read only by explain()
        self.cuts: list[Any] = []
        self.lineage: dict[int, Any] | None = None  # id -> object: the outputs noted in cuts (made on the first)
        self.ids: dict[int, Any] = {}  # id -> object: the reference keeps the id unique
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.variables: list[Variable] = []
        # The id of the one object watched (not a recorded output) into ids, 0 before any, -1 after a second:
        # every id a tape that watched one object tracks depends on it, so ids is all the backward walk can
        # reach from it (GradientTape.gradient's fast path needs no pass over the entries to find that).
        self.only = 0

    def watch(self, obj: Operand) -> None:
        if id(obj) not in self.ids:
            self.ids[id(obj)] = obj
            self.only = id(obj) if self.only == 0 else -1
            if type(obj) is Variable:
                self.variables.append(obj)


# read_variable: a Variable's value at the moment it was read, like TensorFlow's ReadVariableOp,
# so a later assign cannot change what an earlier entry's rule sees. Its JVP hands the tangent on
# instead of applying READ to it, as ops.table's ``linear`` would: tg.function and explain() take
# every READ for a read of a Variable.
READ = Primitive("read_variable", lambda v: v, (lambda g, ans, v: g,), jvp=lambda t, ans, v: t[0],
                 register=False, batched=True)

_new = object.__new__
_ndarray, _generic = xp.ndarray, xp.generic


def read(var: Variable) -> Tensor:
    """A Tensor holding the Variable's current value, recorded on tapes that watch it."""
    if ACTIVE:
        tapes = STATE.tapes
        hooks = STATE.hooks
        if tapes or hooks:
            return _read(var, tapes, hooks)
    snap = _new(Tensor)
    snap._value = var._value
    return snap


def _read(var: Variable, tapes: list[TapeState], hooks: list) -> Tensor:
    """read() while something records: the READ entry on each tape that watches ``var`` (or now watches it)."""
    snap = _new(Tensor)
    snap._value = var._value
    vid = id(var)
    for tape in tapes:
        ids = tape.ids
        if vid not in ids:
            if not (tape.watch_accessed_variables and var._trainable and var._value.dtype in _INEXACT):
                continue
            ids[vid] = var  # tape.watch(var), inlined: the first read on every tape of a descent loop
            tape.only = vid if tape.only == 0 else -1
            if type(var) is Variable:
                tape.variables.append(var)
        tape.entries.append((READ, (var,), None, snap))
        ids[id(snap)] = snap
    for hook in hooks:
        hook(READ, (var,), {}, snap)
    return snap


def apply(prim: Primitive, inputs: tuple, params: dict | None = None) -> Tensor:
    """Run ``prim`` on Tensors/Variables and record it where it needs recording."""
    # The hot path of every op: arities spelled out, no list built, wrap() inlined; the one
    # check for other array libraries is a set lookup on each input's type.
    try:  # (free until NumPy warns: see npwarn)
        if len(inputs) == 2:
            a = inputs[0]._value
            b = inputs[1]._value
            if type(a) in _NATIVE and type(b) in _NATIVE:
                out = prim.forward(a, b, **params) if params else prim.forward(a, b)
            else:
                out = foreign(prim, inputs, params)
        elif len(inputs) == 1:
            a = inputs[0]._value
            if type(a) in _NATIVE:
                out = prim.forward(a, **params) if params else prim.forward(a)
            else:
                out = foreign(prim, inputs, params)
        else:
            values = [x._value for x in inputs]
            if all(type(v) in _NATIVE for v in values):
                out = prim.forward(*values, **params) if params else prim.forward(*values)
            else:
                out = foreign(prim, inputs, params)
    except RuntimeWarning as w:
        out = npwarn.rewarn(prim, [x._value for x in inputs], params, w)
    if type(out) not in _NATIVE and not isinstance(out, (_ndarray, _generic)):
        out = to_array(out)
    result = _new(Tensor)
    result._value = out
    if ACTIVE:
        if STATE.tapes:
            if prim.differentiable:
                record(prim, inputs, params, result)
                return result
            _cut(prim, inputs, result)
        if STATE.hooks:
            _notify(prim, inputs, params, result)
    return result


def foreign(prim: Primitive, inputs: tuple, params: dict | None) -> Any:
    """``prim``'s forward on inputs of which some hold another library's arrays (Dask, CuPy, ...).

    NumPy inputs join that library (as NumPy and Dask arrays mix); the kernel runs bound to its
    namespace (see ``backend``). An ndarray subclass (a memmap) is NumPy's and runs as it is.
    """
    values = [x._value for x in inputs]
    if not any(map(backend.is_foreign, values)):
        return prim.forward(*values, **(params or {}))
    ns = backend.common_namespace(values)
    values = [ns.asarray(v) if isinstance(v, (xp.ndarray, xp.generic)) else v for v in values]
    try:
        out = backend.forward_in(prim.forward, ns)(*values, **(params or {}))
    except (NotImplementedError, AttributeError) as e:  # BackendError, or the library's own refusal
        raise backend.BackendError(
            f"{prim.name} runs on NumPy arrays only: its kernel needs what {ns.__name__} lacks ({e}). "
            f"Convert the input first: x.numpy(), then tg.constant(...)") from None
    if isinstance(out, (xp.ndarray, xp.generic)):  # a NumPy function that converted its input: back to its library
        out = ns.asarray(out)
    return out


def record(prim: Primitive, inputs: tuple, params: dict | None, out: Tensor) -> None:
    """Append the op to each active tape that tracks one of its inputs."""
    tapes = STATE.tapes
    hooks = STATE.hooks
    for x in inputs:
        if type(x) is Variable:
            inputs = _snapshots(inputs, tapes, hooks)
            break
    if out._value.dtype in _INEXACT:
        oid = id(out)
        for tape in tapes:
            ids = tape.ids
            for x in inputs:
                if id(x) in ids:
                    tape.entries.append((prim, inputs, params, out))
                    ids[oid] = out
                    break
            else:
                if tape.lineage:
                    _follow(tape, prim, inputs, out)
    else:
        _cut(prim, inputs, out)
    if hooks:
        _notify(prim, inputs, params, out)


def _snapshots(inputs: tuple, tapes: list[TapeState], hooks: list) -> tuple:
    """The inputs with each Variable replaced by a recorded read of its current value (while something records)."""
    if len(inputs) == 2:
        a, b = inputs
        return (_read(a, tapes, hooks) if type(a) is Variable else a,
                _read(b, tapes, hooks) if type(b) is Variable else b)
    if len(inputs) == 1:
        return (_read(inputs[0], tapes, hooks),)
    return tuple([_read(x, tapes, hooks) if type(x) is Variable else x for x in inputs])


def _cut(prim: Primitive, inputs: tuple, out: Tensor) -> None:
    """Note, on each tape tracking an input (or reading a Variable), that this op's result carries no gradient.

    Only explain() reads these notes.
    """
    for tape in STATE.tapes:
        ids = tape.ids
        lineage = tape.lineage
        for x in inputs:
            if id(x) in ids or type(x) is Variable or (lineage is not None and id(x) in lineage):
                tape.cuts.append((len(tape.entries), prim, inputs, out))
                if lineage is None:
                    lineage = tape.lineage = {}
                lineage[id(out)] = out
                break


def _follow(tape: TapeState, prim: Primitive, inputs: tuple, out: Tensor) -> None:
    """An op the tape did not record, computed from a cut's result: noted too, so explain() can say that a
    target made this way depends on the cut (and never blames a cut the target did not touch)."""
    lineage = tape.lineage
    for x in inputs:
        if id(x) in lineage:  # type: ignore[operator]  (called only when there is one)
            tape.cuts.append((len(tape.entries), prim, inputs, out))
            lineage[id(out)] = out  # type: ignore[index]
            return


def _notify(prim: Primitive, inputs: tuple, params: dict | None, out: Tensor) -> None:
    for x in inputs:
        if type(x) is Variable:
            inputs = _snapshots(inputs, STATE.tapes, STATE.hooks)
            break
    for hook in STATE.hooks:
        hook(prim, inputs, params or {}, out)


npwarn.install(apply.__code__)
