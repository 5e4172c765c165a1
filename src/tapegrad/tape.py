"""GradientTape with TensorFlow's semantics."""
from __future__ import annotations

import contextlib
import enum
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

from tapegrad import ops
from tapegrad._core import nest
from tapegrad._core.backend import INEXACT, xp
from tapegrad._core.backward import Seed, backward, backward1, reachable
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.record import TapeState
from tapegrad._core.state import ACTIVE, STATE, is_recording, none_gradient_hook, note_results, paused, pop, push
from tapegrad._core.tensor import Operand, Tensor, Variable, to_array, wrap
from tapegrad.rows import jacobian_rows


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source the target does not depend on: None or zeros.

    >>> import tapegrad as tg
    >>> x = tg.Variable(1.0)
    >>> with tg.GradientTape() as tape:
    ...     y = tg.constant(2.0)
    >>> tape.gradient(y, x, unconnected_gradients=tg.UnconnectedGradients.ZERO).numpy()
    np.float32(0.0)
    """

    NONE = "none"
    ZERO = "zero"


_NONE = UnconnectedGradients.NONE

_USED = ("A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians); "
         "create it with tg.GradientTape(persistent=True) to take several gradients")


class GradientTape:
    """Records operations on watched tensors so ``gradient`` can differentiate them.

    Trainable Variables read inside the ``with`` block are watched automatically;
    constants need ``tape.watch(x)``. Nest tapes for higher derivatives.

    >>> import tapegrad as tg
    >>> x = tg.constant(10.0)
    >>> with tg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x ** 2 + 100.0
    >>> print(tape.gradient(y, x))
    tf.Tensor(20.0, shape=(), dtype=float32)
    """

    # Until set on the instance (a tape is made on every step of a descent loop: one store each, not seven).
    _warned_inside = False
    _spent_variables: Any = ()
    _paused = 0  # how often stop_recording() ran: explain() names it as a cause
    _spent: Spent | None = None  # after gradient() gave a None on a non-persistent tape: for explain()
    _warned_none = False

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = persistent = bool(persistent)
        self._watch_accessed_variables = watch = bool(watch_accessed_variables)
        self._state: TapeState | None = TapeState(persistent, watch)

    # -- context -------------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        if self._state is None:
            raise RuntimeError(_USED)
        push(self._state)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._state is not None:
            pop(self._state)

    @property
    def persistent(self) -> bool:
        """Whether ``gradient()`` may be called more than once (``GradientTape(persistent=True)``).

        >>> import tapegrad as tg
        >>> tg.GradientTape(persistent=True).persistent
        True
        """
        return self._persistent

    def _live(self) -> TapeState:
        if self._state is None:
            raise RuntimeError(_USED)
        return self._state

    def watch(self, tensor: Any) -> None:
        """Track ``tensor`` (a Tensor, a Variable, or a nested list/tuple/dict of them).

        >>> import tapegrad as tg
        >>> x = tg.constant(3.0)
        >>> with tg.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.gradient(y, x).numpy()
        np.float32(6.0)
        """
        state = self._live()
        for t in nest.flatten(tensor):
            if not isinstance(t, Operand):
                # ValueError, as TensorFlow raises ("Passed in object ... not tf.Tensor or tf.Variable").
                raise ValueError(
                    f"watch(): passed in object {_short(t)} of type {type(t).__name__!r}, not a Tensor or Variable; "
                    "make it a tensor first: x = tg.constant(...), then tape.watch(x) and compute with x")
            if t._value.dtype not in INEXACT:
                warnings.warn(f"The dtype of the watched tensor must be floating (e.g. tf.float32), got "
                              f"tf.{of_numpy(t._value.dtype).name}; it is not watched and its gradient will be "
                              "None. Use a float tensor, e.g. tg.constant(3.0) rather than tg.constant(3)",
                              stacklevel=2)
                continue
            state.watch(t)

    def watched_variables(self) -> tuple:
        """The Variables this tape watches, in the order it first saw them.

        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0, name="w")
        >>> with tg.GradientTape() as tape:
        ...     y = w * 2.0
        >>> [v.name for v in tape.watched_variables()]
        ['w:0']
        """
        return tuple(self._state.variables if self._state is not None else self._spent_variables)

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Pause recording inside the ``with`` block of this tape.

        >>> import tapegrad as tg
        >>> x = tg.Variable(2.0)
        >>> with tg.GradientTape() as tape:
        ...     with tape.stop_recording():
        ...         y = x * x
        >>> print(tape.gradient(y, x))
        None
        """
        state = self._live()
        if not is_recording(state):
            raise ValueError("stop_recording() needs the tape to be recording: call it inside the tape's "
                             "`with` block")
        self._paused += 1
        with paused(state):
            yield

    def reset(self) -> None:
        """Forget everything recorded and watched so far; keep recording.

        >>> import tapegrad as tg
        >>> x = tg.Variable(2.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        ...     tape.reset()
        ...     z = x + 1.0
        >>> tape.gradient(z, x).numpy()
        np.float32(1.0)
        """
        state = self._live()
        state.entries.clear()
        state.ids.clear()
        state.variables.clear()
        state.only = 0
        state.cuts.clear()
        state.lineage = None

    # -- gradients -----------------------------------------------------------------------------
    def _begin(self, what: str) -> TapeState:
        state = self._live()
        if is_recording(state):
            if not self._persistent:
                pop(state)  # as in TensorFlow: the walk is not recorded on a tape about to be freed
            elif not self._warned_inside:
                self._warned_inside = True
                warnings.warn(
                    f"Calling GradientTape.{what} on a persistent tape inside its context records the gradient "
                    "computation on the tape itself, costing time and memory. Call it after the `with` block "
                    "unless you want higher-order derivatives.", stacklevel=3)
        return state

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE) -> Any:
        """d(sum of target) / d(sources), with ``sources``' structure (None where unconnected).

        >>> import tapegrad as tg
        >>> x, b = tg.Variable(20.0), tg.Variable(10.0)
        >>> with tg.GradientTape() as tape:
        ...     y = x ** 2 + b ** 2
        >>> [g.numpy() for g in tape.gradient(y, [x, b])]
        [np.float32(40.0), np.float32(20.0)]
        """
        state = self._state
        if (output_gradients is None and unconnected_gradients is _NONE and state is not None
                and not self._persistent and type(target) is Tensor
                and (not ACTIVE or (not STATE.tapes and STATE.numerics is None))):
            kind = type(sources)
            if (kind is Variable or kind is Tensor) and id(sources) in state.ids and sources._value.dtype in INEXACT:
                return self._gradient1(state, target, sources)
        zero = unconnected_gradients is not _NONE and zeros_for_unconnected(unconnected_gradients)
        if state is None or (ACTIVE and STATE.tapes):  # (outside every tape's block there is nothing to check)
            state = self._begin("gradient")
        single = isinstance(sources, Operand)  # the common case skips the nest machinery
        flat_sources = [sources] if single else _sources(sources)
        targets = [target] if isinstance(target, Operand) else [_target(t) for t in nest.flatten(target)]
        if output_gradients is None:
            grads_in = [None] * len(targets)
        else:
            grads_in = nest.flatten(output_gradients)
            if len(grads_in) != len(targets):
                raise ValueError(f"output_gradients has {len(grads_in)} entries for {len(targets)} targets; "
                                 "give one per target (or None)")
            grads_in = [None if g is None else _cotangent(g, t) for g, t in zip(grads_in, targets)]
        srcs = []
        for s in flat_sources:
            if s._value.dtype in INEXACT:
                srcs.append(s)
            else:
                warnings.warn(f"The dtype of the source tensor must be floating (e.g. tf.float32) when calling "
                              f"GradientTape.gradient, got tf.{of_numpy(s._value.dtype).name}; its gradient is "
                              "None. Use a float tensor or Variable.", stacklevel=2)
        start = _starts(state, srcs, targets)  # (before _walk: a spent tape forgets what it watched)
        cuts, lineage = state.cuts, state.lineage
        entries = self._walk(state)
        reach = reachable(entries, start)
        skipped = None if self._persistent else []
        result = backward(entries, targets, grads_in, srcs, reach=reach, free=not self._persistent, skipped=skipped,
                          lineage=lineage if skipped is not None else None)
        if Seed in map(type, result):  # a target that is its own source: hand out a plain Tensor
            result = [wrap(g._value) if type(g) is Seed else g for g in result]
        if single and srcs:
            out = result
        else:
            by_id = {id(s): g for s, g in zip(srcs, result)}
            out = [by_id.get(id(s)) if s._value.dtype in INEXACT else None for s in flat_sources]
        if zero:
            out = [ops.zeros_like(s) if g is None else g for g, s in zip(out, flat_sources)]
        for g in out:
            if g is None:  # (rare: the record explain() needs, and the warning if asked for, cost only here)
                self._none(state, target, sources, flat_sources, out, start, reach, skipped, cuts)
                break
        note_results(self, out, Tensor)
        return out[0] if single else nest.pack_as(sources, out)

    def _gradient1(self, state: TapeState, target: Tensor, source: Operand) -> Any:
        """gradient() of a Tensor with respect to one watched float source, on a non-persistent tape outside every
        tape's block, without output_gradients: the seed loop's step, without the general path's checks. If the
        tape watched this source only, all it tracks depends on it: its ids are the walk's reach."""
        cuts, lineage = state.cuts, state.lineage
        sid = id(source)
        reach = set(state.ids) if state.only == sid else reachable(state.entries, {sid})
        entries = self._walk(state)
        skipped: list = []
        g = backward1(entries, target, source, reach, skipped, lineage)
        if g is None:
            out = [None]
            self._none(state, target, source, [source], out, {sid}, reach, skipped, cuts)
            note_results(self, out, Tensor)
            return None
        if type(g) is Seed:  # the target is its own source: hand out a plain Tensor
            g = wrap(g._value)
        note_results(self, (g,), Tensor)
        return g

    def _none(self, state: TapeState, target: Any, sources: Any, flat_sources: list, out: list, start: set[int],
              reach: Any, skipped: list | None, cuts: list) -> None:
        """A gradient is None: keep what explain() needs, and tell the hook if asked for."""
        if skipped is not None:
            self._spent = Spent(state, flat_sources, out, start, reach, skipped, cuts, self._spent_variables)
        hook = none_gradient_hook()
        if hook is not None and not self._warned_none:
            self._warned_none = True
            hook(self, target, sources)

    def _walk(self, state: TapeState) -> list:
        """The entries to walk; a non-persistent tape is spent here, so the walk can free them one by one."""
        if self._persistent:
            return state.entries
        self._spent_variables = state.variables  # (_begin took it off the stack of recording tapes)
        self._state = None
        entries = state.entries
        state.entries = []
        state.ids.clear()  # it held every recorded output alive
        if state.cuts:  # (a new list: gradient() reads the old one if a result is None)
            state.cuts = []
            state.lineage = None
        return entries

    def jacobian(self, target: Any, sources: Any,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                 parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """d target[i...] / d source[j...] for every element: shape target.shape + source.shape.

        All rows go through one backward pass, the seed cotangents stacked on a leading axis
        (TensorFlow's pfor); ``experimental_use_pfor=False`` walks the tape once per row instead.

        >>> import tapegrad as tg
        >>> x = tg.Variable([1.0, 2.0])
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.jacobian(y, x).numpy()
        array([[2., 0.],
               [0., 4.]], dtype=float32)
        """
        zero = zeros_for_unconnected(unconnected_gradients)
        state = self._begin("jacobian")
        t = _target(target)
        flat_sources = _sources(sources)
        n = int(t._value.size)
        tshape = tuple(t._value.shape)

        def seeds(start: int, stop: int) -> Any:
            seed = xp.zeros((stop - start, n), t._value.dtype)
            seed[xp.arange(stop - start), xp.arange(start, stop)] = 1
            return seed.reshape((stop - start,) + tshape)

        start = _starts(state, flat_sources, [t])
        rows = jacobian_rows(self._walk(state), t, n, seeds, flat_sources, start, experimental_use_pfor,
                             not self._persistent)
        out = []
        for s, r in zip(flat_sources, rows):
            shape = tshape + tuple(s._value.shape)
            if r is None:
                out.append(ops.zeros(shape, s.dtype) if zero else None)
            else:
                out.append(ops.reshape(r, shape))
        note_results(self, out, Tensor)
        return nest.pack_as(sources, out)

    def batch_jacobian(self, target: Any, source: Any,
                       unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                       parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """Per-example Jacobians: shape [batch] + target.shape[1:] + source.shape[1:].

        Assumes example b of the target depends only on example b of the source.

        >>> import tapegrad as tg
        >>> x = tg.Variable([[1.0, 2.0], [3.0, 4.0]])
        >>> with tg.GradientTape() as tape:
        ...     y = x * x
        >>> tape.batch_jacobian(y, x).shape
        TensorShape([2, 2, 2])
        """
        zero = zeros_for_unconnected(unconnected_gradients)
        state = self._begin("batch_jacobian")
        t = _target(target)
        (s,) = _sources([source])
        if t._value.ndim < 1 or s._value.ndim < 1 or t._value.shape[0] != s._value.shape[0]:
            raise ValueError(f"batch_jacobian needs target and source with the same first (batch) dimension; got "
                             f"shapes {tuple(t._value.shape)} and {tuple(s._value.shape)}")
        b = t._value.shape[0]
        inner = tuple(t._value.shape[1:])
        m = int(xp.prod(inner)) if inner else 1

        def seeds(start: int, stop: int) -> Any:  # row i of every example's Jacobian at once
            seed = xp.zeros((stop - start, b, m), t._value.dtype)
            seed[xp.arange(stop - start), :, xp.arange(start, stop)] = 1
            return seed.reshape((stop - start,) + tuple(t._value.shape))

        start = _starts(state, [s], [t])
        (r,) = jacobian_rows(self._walk(state), t, m, seeds, [s], start, experimental_use_pfor, not self._persistent)
        shape = (b,) + inner + tuple(s._value.shape[1:])
        if r is None:
            return ops.zeros(shape, s.dtype) if zero else None
        # r is [row, example, ...]: put the example axis first.
        return ops.reshape(ops.transpose(r, (1, 0) + tuple(range(2, r._value.ndim))), shape)


class Spent:
    """What explain() needs after gradient() gave a None on a non-persistent tape: ids and op names, no values.

    ``sources``: id -> (weak reference, watched, gradient) of each source gradient() was asked about;
    ``reach``: ids reachable from the watched sources; ``walk``: backward's notes (entries passed without a
    cotangent, rules that returned None, cut results that fed the walk); ``cuts``: ``(at, prim, input ids,
    output id)`` of the ops that cut a gradient and those computed from their results.
    """

    __slots__ = ("state", "sources", "reach", "walk", "cuts", "variables")

    def __init__(self, state: TapeState, sources: list, results: list, start: set[int], reach: set[int],
                 walk: list, cuts: list, variables: Any) -> None:
        self.state = state
        self.variables = variables
        self.sources = {id(s): (weakref.ref(s), id(s) in start, g) for s, g in zip(sources, results)}
        self.reach = reach
        self.walk = walk
        self.cuts = [(at, prim, tuple(map(id, inputs)), id(out)) for at, prim, inputs, out in cuts]



def _starts(state: TapeState, sources: list, targets: list) -> set[int]:
    """Ids of the sources the walk may start from: those the tape tracks, and any source that is a target.

    As in TensorFlow, a tensor the tape never watched has no gradient even where it meets a
    watched one (``c * v`` with ``c`` a plain constant): the walk follows only watched paths.
    """
    ids = state.ids
    if len(sources) == 1:  # the common case, without building sets to compare
        sid = id(sources[0])
        return {sid} if sid in ids or any(id(t) == sid for t in targets) else set()
    tids = {id(t) for t in targets}
    return {id(s) for s in sources if id(s) in ids or id(s) in tids}


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 30 else text[:27] + "..."


def zeros_for_unconnected(value: Any) -> bool:
    """Whether ``unconnected_gradients`` (an UnconnectedGradients or its string) asks for zeros."""
    try:
        return UnconnectedGradients(value.value if isinstance(value, UnconnectedGradients) else value) \
            is UnconnectedGradients.ZERO
    except ValueError:
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero' (tg.UnconnectedGradients.NONE/ZERO), "
                         f"not {value!r}") from None


def _target(t: Any) -> Operand:
    if isinstance(t, Operand):
        return t
    if t is None:
        raise TypeError("gradient(): the target is None; pass the tensor computed inside the tape's `with` block")
    return wrap(to_array(t))


def _sources(sources: Any) -> list:
    flat = nest.flatten(sources)
    for s in flat:
        if not isinstance(s, Operand):
            raise TypeError(
                f"gradient(): sources must be Tensors or Variables, got {type(s).__name__} ({_short(s)}). "
                "Differentiate with respect to a tg.Variable, or a tg.constant you tape.watch()ed")
    return flat


def _cotangent(g: Any, t: Operand) -> Operand:
    g = g if isinstance(g, Operand) else wrap(to_array(g, t._value.dtype))
    if g._value.shape != t._value.shape:
        g = ops.broadcast_to(g, t._value.shape)
    return g
