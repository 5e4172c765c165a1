"""The compiled problem: the loss and gradient replayed from ``tg.function``'s trace, guarded so that a run
with ``compile="auto"`` gives eager code's results bit for bit (see ``CompiledProblem``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tapegrad._core.record import STATE
from tapegrad._core.tensor import Operand
from tapegrad.compiler import function
from tapegrad.optimizers import Problem
from tapegrad.optimizers.problem import loss_to_float
from tapegrad.tape import GradientTape

from .guard import Unprovable, Watch, watch

__all__ = ["FREE_RETRACES", "RETRACE_AFTER", "CompiledProblem"]

# When the Python state fn reads changes, fn is traced again if it is one of the first FREE_RETRACES
# changes, or if the trace was replayed RETRACE_AFTER times; else the rest of the run is eager, as
# tracing (and checking the trace) costs a few evaluations.
RETRACE_AFTER = 20
FREE_RETRACES = 2


class CompiledProblem(Problem):
    """A Problem whose ``value_and_grad`` replays ``tg.function``'s code for the loss and its gradient.

    Only the loss and gradient are compiled; optimizers update the Variables eagerly, and the
    compiled code reads them afresh at each call. ``value`` and ``hessian`` stay eager.

    The first call traces (its results are eager ones). With ``mode="auto"`` the result must be
    eager's bit for bit, always, so:

    - before tracing, a ``Watch`` notes the Python state fn reads (globals, closure variables, NumPy
      arrays, module attributes, the functions it calls); state it cannot watch (a list, an object's
      attributes, a random draw, ``print``) keeps the run eager;
    - the second call runs ``fn`` eagerly and the replay beside it (undoing the replay's Variable
      assignments): a difference, or fn changing the state it reads, keeps the run eager;
    - before every replay the Watch is checked: when something changed (a callback rebinding a global,
      an array changed in place), fn is traced again (the first ``FREE_RETRACES`` times, and whenever
      the trace had at least ``RETRACE_AFTER`` replays), or else the rest of the run is eager.
    """

    def __init__(self, fn: Callable[..., Any], arg: Any, variables: list, mode: bool | str) -> None:
        super().__init__(lambda: fn(arg), variables)

        def loss_and_grads() -> tuple:
            with GradientTape() as tape:
                loss = fn(arg)
            if not isinstance(loss, Operand):
                return loss, None  # _check says what is wrong, rather than tape.gradient
            return loss, tape.gradient(loss, self.variables)

        self._fn, self._arg, self._loss_and_grads = fn, arg, loss_and_grads
        self._replay: Callable[[], tuple] | None = None
        self._parts: tuple | None = None  # the trace's body, for minimize's fused steps (ConcreteFunction.parts)
        self._assigns: tuple = ()
        self._watch: Watch | None = None
        self._leaves: tuple = ()  # fn's argument as the trace found it
        self._guard: Callable[[], int] | None = None  # the Watch's check; None when there is nothing to watch
        self._strict = mode is True
        self._calls = 0  # evaluations since the last trace
        self._traced_at = 0  # nfev after the last trace
        self._retraces = 0
        self._note: str | None = None  # why fn was traced again, for compile_reason
        self._first = ""  # the first change that made it trace again
        self.compiled = False
        self.reason: str | None = "the run ended before the second evaluation, where compiled code starts"

    def value_and_grad(self) -> tuple[float, list]:
        if self.compiled:
            if self._guard is not None and self._guard() != -1:
                return self._changed()
            loss, grads = self._replay()
            self.nfev += 1
            # On a one-parameter problem the replay costs well under a microsecond: this wrapper must not
            # double it, so the usual case (every gradient connected, a 0-d loss) skips the helpers' calls.
            value = loss._value
            try:
                arrays = [g._value for g in grads]
            except AttributeError:  # a None gradient: zeros, as eager code gives
                arrays = self._arrays(grads)
            return float(value) if value.ndim == 0 else loss_to_float(loss), arrays
        self._calls += 1
        if self._calls == 1:
            return self._trace()
        if self._calls == 2 and self._replay is not None:
            return self._verify()
        return super().value_and_grad()

    def _trace(self) -> tuple[float, list]:
        if STATE.tapes or STATE.hooks:
            # A tape or tracer outside must see every op, so tg.function would run eagerly anyway.
            return self._eager("minimize runs inside a GradientTape or a tg.function trace")
        if not self._strict:
            try:
                self._watch = watch(self._fn)  # the state as the trace will find it
            except Unprovable as e:
                return self._eager(str(e))
            self._guard = self._watch.check if len(self._watch) else None
            self._leaves = _leaves(self._arg)
        traced = function(self._loss_and_grads)  # a new Function: a new trace, whatever was traced before
        loss, grads = traced()
        self._check(loss)
        self.nfev += 1
        self._traced_at = self.nfev
        self._check_grads(grads)
        concrete = traced.get_concrete_function()
        changed = self._watch.changed() if self._watch is not None else ""
        if changed:
            self.reason, self._calls = _changes_itself(changed), 2
        elif concrete.compiled:
            self._replay, self._assigns, self._parts = concrete.replay, concrete.assigns, concrete.parts
            if self._strict:
                self.compiled, self.reason = True, None
        elif self._strict:
            raise ValueError(f"compile=True, but the function cannot be compiled: {concrete.reason}. Use "
                             "compile='auto' to run it eagerly when it cannot be compiled")
        else:
            self.reason = concrete.reason
        return self._results(loss, grads)

    def _verify(self) -> tuple[float, list]:
        if self._guard is not None and self._guard() != -1:  # a callback changed it since the trace
            return self._changed()
        before = [v._value for v in self._assigns]
        loss, grads = super().value_and_grad()
        after = [v._value for v in self._assigns]
        for v, value in zip(self._assigns, before):  # the replay starts where eager code started
            v._value = value
        r_loss, r_grads = self._replay()
        same = _same(loss, loss_to_float(r_loss)) and all(_same(a, b) for a, b in zip(grads, self._arrays(r_grads))) \
            and all(_same(v._value, a) for v, a in zip(self._assigns, after))
        for v, value in zip(self._assigns, after):  # eager code's assignments are the ones that happened
            v._value = value
        changed = self._watch.changed() if self._watch is not None else ""
        if same and not changed and _leaves(self._arg) == self._leaves:
            self.compiled, self.reason = True, None if self._note is None else f"compiled; {self._note}"
        elif changed or same:
            self.reason = _changes_itself(changed or "its argument")
        else:
            self.reason = ("the function's result depends on Python state that changes between calls (a counter, "
                           "a random draw, ...), which compiled code would freeze")
        return loss, grads

    def _changed(self) -> tuple[float, list]:
        """The Python state fn reads changed since the trace: trace again, or go on eagerly."""
        what, k, replays = self._watch.changed(), self.nfev, self.nfev - self._traced_at
        self.compiled, self._replay, self._guard, self._parts = False, None, None, None
        if replays >= RETRACE_AFTER or self._retraces < FREE_RETRACES:
            self._retraces += 1
            self._first = self._first or f"{what}, after {k} evaluations"
            self._note = (f"fn was traced again {self._retraces} time(s) as Python state it reads changed (first "
                          f"{self._first})")
            self.reason = f"{self._note}; the run ended before compiled code resumed"
            self._calls = 0
            return self.value_and_grad()
        self._calls = 2  # never trace again
        self.reason = (f"{what} changed after {k} evaluations of fn, {replays} after its trace: compiled code ran "
                       "until then and the rest of the run eagerly, since tracing again so often would cost more "
                       "than it saves")
        return super().value_and_grad()

    def _arrays(self, grads: list) -> list:
        return [z if g is None else g._value for g, z in zip(grads, self._zeros)]

    def _eager(self, reason: str) -> tuple[float, list]:
        self.reason = reason
        self._calls = 2  # never trace
        return super().value_and_grad()


def _changes_itself(what: str) -> str:
    return f"fn changes Python state it reads ({what}), which compiled code would not do"


def _leaves(x: Any) -> tuple:
    """x's containers and leaves, by identity: whether fn changed its argument's structure."""
    if type(x) in (list, tuple):
        return (type(x), tuple(_leaves(i) for i in x))
    if type(x) is dict:
        return (dict, tuple((k, _leaves(v)) for k, v in x.items()))
    return (id(x),)


def _same(a: Any, b: Any) -> bool:
    """Equal bit for bit in value, shape and dtype (-0.0 is not 0.0; NaN is NaN when its bits are)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
