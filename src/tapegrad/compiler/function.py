"""``tg.function``: trace a Python function once per input signature, then replay it as
straight-line NumPy code, forward and backward alike.

Tracing runs the function eagerly (that first call's results are the eager ones) while every
op, Variable read and Variable write is written down. The record becomes one Python function
of plain NumPy calls: no tensors, no tape, no rule lookups, dead code dropped, ops on constants
folded. A gradient taken inside the function is traced too, since the backward pass is made of
ops; so a whole descent step (tape, gradient, ``assign_sub``) compiles to a few NumPy lines.

What a straight-line replay cannot repeat makes the function run eagerly instead, for that input
signature, silently and correctly: Python control flow on a tensor's value (``if loss > 0``,
``float(x)``, ``x.numpy()``), a new ``tg.Variable``, a random draw. Python numbers in the
arguments are part of the signature (a new value traces again), as in TensorFlow; other Python
values the function reads (globals, closures) are taken as they were when it was traced.

Each ``Function`` keeps the traces of its ``CACHE_SIZE`` (128) most recently used signatures; an
older one is dropped, and traced again if it comes back. Python floats in the arguments are told
apart by their bits: every NaN of one bit pattern is one signature, and 0.0 and -0.0 are two (they
give different results, e.g. ``1 / x``).
"""
from __future__ import annotations

import functools
import operator
import struct
import warnings
from collections.abc import Callable
from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.record import STATE
from tapegrad._core.state import tracing
from tapegrad._core.tensor import Operand, Tensor, Variable, to_array

from .signature import bind, check_signature, example, has_spec
from .tracer import Tracer

__all__ = ["ConcreteFunction", "Function", "function"]

_new = object.__new__
# Forwards that are Python operators are written as operators: no call at all.
_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/"}
_RETRACE_WARNING = 10  # signatures traced before the user is told why it keeps tracing
# Traces kept per Function. TensorFlow warns from a handful of retraces on; a program that needs more
# than a hundred signatures alive at once gains little from tracing them all.
CACHE_SIZE = 128
_bits = struct.Struct("<d").pack


def function(func: Callable[..., Any] | None = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: Any = None, reduce_retracing: bool = False, experimental_implements: Any = None,
             experimental_autograph_options: Any = None, experimental_attributes: Any = None,
             experimental_relax_shapes: Any = None, experimental_compile: Any = None,
             experimental_follow_type_hints: Any = None) -> Any:
    """Compile ``func`` to straight-line NumPy, traced once per input signature (TensorFlow's ``tf.function``).

    The options TensorFlow takes are accepted; none changes what tapegrad does, except
    ``input_signature`` (a list of ``tg.TensorSpec``: arguments are checked and converted as
    TensorFlow does, a mismatch is a TypeError; tapegrad still traces once per concrete shape) and
    ``reduce_retracing`` (or its old name ``experimental_relax_shapes``): tapegrad's traces are for
    one shape each, so with it a call whose tensors differ only in shape from a traced signature
    (same structure, dtypes and ranks) runs eagerly rather than tracing again, with the same results.
    Functions with Python control flow on tensor values run eagerly, with the same results.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> @tg.function
    ... def step():
    ...     with tg.GradientTape() as tape:
    ...         loss = w ** 2
    ...     w.assign_sub(0.1 * tape.gradient(loss, w))
    ...     return loss
    >>> [round(float(step()), 4) for _ in range(3)]
    [1.0, 0.64, 0.4096]
    >>> step.get_concrete_function().compiled
    True
    """
    signature = None if input_signature is None else check_signature(input_signature)
    reduce = bool(reduce_retracing or experimental_relax_shapes)
    if func is None:
        return lambda f: Function(f, reduce_retracing=reduce, input_signature=signature)
    return Function(func, reduce_retracing=reduce, input_signature=signature)


class Function:
    """A Python function compiled per input signature; call it like the function itself.

    ``get_concrete_function(*args)`` tells whether a signature compiled (``.compiled``), and
    why not (``.reason``); ``experimental_get_tracing_count()`` how many signatures were traced.
    The traces of the ``CACHE_SIZE`` most recently used signatures are kept.

    >>> import tapegrad as tg
    >>> f = tg.function(lambda x: x * x + 1.0)
    >>> print(f(tg.constant(3.0)))
    tf.Tensor(10.0, shape=(), dtype=float32)
    >>> f.experimental_get_tracing_count()
    1
    """

    def __init__(self, python_function: Callable[..., Any], reduce_retracing: bool = False,
                 input_signature: Any = None) -> None:
        if not callable(python_function):
            raise TypeError(f"tg.function needs a function to compile, not {type(python_function).__name__}")
        self._fn = python_function
        # In order of use, the most recent last (a dict keeps insertion order): the first is the one to drop.
        self._cache: dict[Any, ConcreteFunction] = {}
        self._last: ConcreteFunction | None = None  # the entry at the end of _cache
        self._traces = 0
        self._reduce = reduce_retracing
        self._ranks: set = set()  # with reduce_retracing: signatures traced, with shapes cut down to ranks
        self._specs = None if input_signature is None else check_signature(input_signature)
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self) -> Callable[..., Any]:
        """The original Python function."""
        return self._fn

    @property
    def input_signature(self) -> tuple | None:
        """The ``tg.TensorSpec`` s the arguments must fit, or None.

        >>> import tapegrad as tg
        >>> tg.function(lambda x: x, input_signature=[tg.TensorSpec([None])]).input_signature
        (TensorSpec(shape=(None,), dtype=tf.float32, name=None),)
        """
        return self._specs

    def experimental_get_tracing_count(self) -> int:
        """How many times the function was traced (once per new input signature)."""
        return self._traces

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # As a method: the instance is an argument, so each instance gets its own traces.
        if instance is None:
            return self
        if self._specs is None:
            return functools.partial(self._run, instance)
        return functools.partial(self._method_call, instance)

    def _method_call(self, instance: Any, *args: Any, **kwargs: Any) -> Any:
        return self._run(instance, *bind(self._fn, self._specs, args, kwargs, skip=1))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._specs is not None:
            args, kwargs = bind(self._fn, self._specs, args, kwargs, skip=0), {}
        return self._run(*args, **kwargs)

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        if STATE.tapes or STATE.hooks:
            # A tape outside must record the ops themselves (and a tracer outside inlines them).
            return self._fn(*args, **kwargs)
        key, feed = _signature(args, kwargs)
        concrete = self._cache.get(key)
        if concrete is None:
            if self._reduce and _signature(args, kwargs, ranks=True)[0] in self._ranks:
                return self._fn(*args, **kwargs)  # a new shape of a traced signature: not traced again
            return self._trace(key, args, kwargs, keep_effects=True)[1]
        if concrete is not self._last:
            self._used(key, concrete)
        if concrete.replay is None:
            return self._fn(*args, **kwargs)
        return concrete.replay(*feed)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The compiled form for these arguments' signature, tracing it if needed.

        Tracing runs the Python function (its Python side effects happen); Variables it
        assigns are put back as they were.

        >>> import tapegrad as tg
        >>> f = tg.function(lambda x: x * 2.0 if float(x) > 0 else -x)
        >>> f.get_concrete_function(tg.constant(1.0)).compiled
        False
        """
        if self._specs is not None and not args and not kwargs:
            args = self._specs
        if has_spec((args, kwargs)):
            made = example((args, kwargs))
            if made is None:
                raise ValueError("get_concrete_function(): a TensorSpec here has dimensions of any size; tapegrad "
                                 "traces per concrete shape, so pass example tensors instead")
            args, kwargs = made
        if self._specs is not None:
            args, kwargs = bind(self._fn, self._specs, args, kwargs, skip=0), {}
        key, _ = _signature(args, kwargs)
        concrete = self._cache.get(key)
        if concrete is None:
            concrete = self._trace(key, args, kwargs, keep_effects=False)[0]
        elif concrete is not self._last:
            self._used(key, concrete)
        return concrete

    def _used(self, key: Any, concrete: ConcreteFunction) -> None:
        del self._cache[key]
        self._cache[key] = concrete
        self._last = concrete

    def _trace(self, key: Any, args: tuple, kwargs: dict, keep_effects: bool) -> tuple:
        tracer = Tracer()
        t_args, t_kwargs = tracer.inputs(args, kwargs)
        try:
            with tracing(tracer):
                result = self._fn(*t_args, **t_kwargs)
        finally:
            if not keep_effects:
                tracer.undo_assignments()
        self._traces += 1
        name = getattr(self._fn, "__name__", "function")
        replay, source, reason, assigns = tracer.compile(result, name)
        concrete = ConcreteFunction(self, key, name, replay, source, reason, assigns)
        concrete.parts = tracer.parts if replay is not None else None
        self._cache[key] = self._last = concrete
        if len(self._cache) > CACHE_SIZE:
            del self._cache[next(iter(self._cache))]
        if self._reduce:
            self._ranks.add(_signature(args, kwargs, ranks=True)[0])
        if self._traces == _RETRACE_WARNING:
            warnings.warn(
                f"tg.function traced {concrete.name} for {_RETRACE_WARNING} different input signatures. Each new "
                "shape, dtype or Python number in the arguments traces again; pass values that change from call "
                "to call as tensors (tg.constant) rather than Python numbers.", stacklevel=3)
        return concrete, result


class ConcreteFunction:
    """One traced signature of a ``Function``: its generated code, or why it runs eagerly.

    ``compiled`` is True when calls replay the generated NumPy code (``source``), False when
    they run the Python function eagerly; ``reason`` then says what stopped the trace.
    """

    def __init__(self, function: Function, key: Any, name: str, replay: Callable[..., Any] | None,
                 source: str, reason: str | None, assigns: tuple = ()) -> None:
        self._function = function
        self._key = key
        self.name = name
        self.replay = replay
        self.source = source
        self.reason = reason
        self.assigns = assigns  # the Variables a replay assigns to
        # The replay's body lines, its result's leaves as array expressions, and the namespace they run in: for
        # code that runs the body several times in one call (tg.minimize's fused steps). None when not compiled.
        self.parts: tuple | None = None

    @property
    def compiled(self) -> bool:
        return self.replay is not None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function._specs is not None:
            args, kwargs = bind(self._function._fn, self._function._specs, args, kwargs, skip=0), {}
        key, feed = _signature(args, kwargs)
        if key != self._key:
            raise ValueError(f"this concrete function of {self.name} was traced for other argument shapes, "
                             "dtypes or Python values; call the tg.function itself to trace new ones")
        if self.replay is None or STATE.tapes or STATE.hooks:
            return self._function.python_function(*args, **kwargs)
        return self.replay(*feed)

    def __repr__(self) -> str:
        how = "compiled" if self.compiled else f"eager ({self.reason})"
        return f"<ConcreteFunction {self.name}: {how}>"


# ---- the input signature --------------------------------------------------------------------------

def _signature(args: tuple, kwargs: dict, ranks: bool = False) -> tuple:
    """(hashable key, values the replay takes): tensors by shape and dtype, Python values by value.

    With ``ranks``, tensors are keyed by rank instead of shape (for ``reduce_retracing``).
    """
    if not kwargs and not args:
        return (), ()
    key: list = []
    feed: list = []
    seen: dict[int, int] = {}
    _walk_signature(args, key, feed, seen, ranks)
    if kwargs:
        key.append("**")
        _walk_signature({k: kwargs[k] for k in sorted(kwargs)}, key, feed, seen, ranks)
    return tuple(key), feed


def _walk_signature(x: Any, key: list, feed: list, seen: dict, ranks: bool) -> None:
    t = type(x)
    if t is Tensor:
        v = x._value
        key.append((len(v.shape) if ranks else v.shape, v.dtype))
        feed.append(v)
    elif t is Variable:
        # By position, not identity (a new Variable of the same shape reuses the trace); the
        # first position of each Variable is kept so f(v, v) and f(v, w) trace apart.
        first = seen.setdefault(id(x), len(key))
        shape = x._value.shape
        key.append(("var", len(shape) if ranks else shape, x._value.dtype, x._trainable, first))
        feed.append(x)
    elif t is list or t is tuple or (isinstance(x, tuple) and hasattr(x, "_fields")):
        key.append((t, len(x)))
        for item in x:
            _walk_signature(item, key, feed, seen, ranks)
    elif t is dict:
        key.append((dict, tuple(x)))
        for item in x.values():
            _walk_signature(item, key, feed, seen, ranks)
    elif isinstance(x, (xp.ndarray, xp.generic)):
        key.append(("array", x.ndim if ranks else x.shape, x.dtype))
        feed.append(to_array(x))
    elif isinstance(x, Operand):
        key.append((t, x._value.ndim if ranks else x._value.shape, x._value.dtype))
        feed.append(x._value)
    elif t is float:
        # By bits: NaN != NaN would miss the cache every time, and 0.0 == -0.0 would give 1 / -0.0 the
        # trace of 1 / 0.0.
        key.append((float, _bits(x)))
    elif t is complex:
        key.append((complex, _bits(x.real), _bits(x.imag)))
    else:
        try:
            hash(x)
            key.append((t, x))
        except TypeError:  # unhashable: by identity, kept alive by the key
            key.append((t, id(x), _Held(x)))


class _Held:
    """An unhashable argument in a signature key: equal only to itself."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Held) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)
