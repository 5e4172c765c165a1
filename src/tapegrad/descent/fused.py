"""``minimize``'s fused steps: on the compiled seed step the loop's own Python costs more than the step, so
where it is provably the same, a chunk of steps (loss, gradient, the optimizer's update) runs as one generated
loop, and the loop's per-step work (gradient norm, finiteness, stopping rules, the history's rows) is done for
the chunk at once, on NumPy arrays of its recorded rows.

Only where the result is the step-by-step loop's, bit for bit:

- ``fn`` is compiled (``CompiledProblem.compiled``), its trace assigns no Variable, and every parameter is a
  NumPy scalar;
- the optimizer is plain SGD at a fixed rate (``KerasOptimizer``'s fast step ``w - g * lr``, with its
  ``_step`` and ``_update`` not overridden): the chunk runs that very expression;
- no callback, no rule but ``gtol`` and ``ftol``, no recorded optimizer state.

A chunk never reaches the run's last step, so the step count always ends in the ordinary loop. When anything
in a chunk would have stopped the ordinary loop (a NaN or inf, ``gtol``, ``ftol``, a gradient norm that
overflows), or a chunk raises, the parameters, ``iterations`` and ``nfev`` go back to where the chunk began and
the ordinary loop runs the chunk's steps again: it stops where it always did, with the same history. Ctrl-C
in a chunk keeps the rows completed before it (the same rerun when one of them would have stopped the run), as
if it had come at the next evaluation.

The compile guard (the Python state fn reads) is checked before each chunk rather than before each step:
within a chunk no Python code but the generated loop's runs (no callback, no fn), so nothing the guard
watches can change there, short of another thread or a signal handler rebinding it.

Per row, ``elapsed`` is interpolated between the chunk's start and end (the one column no run repeats).

>>> import numpy as np
>>> import tapegrad as tg
>>> fused = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.01, steps=500, progress=False)  # 2 to 499 fused
>>> ordinary = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.01, steps=500, progress=False, compile=False)
>>> np.array_equal(fused.history["w"], ordinary.history["w"]), fused.nfev == ordinary.nfev
(True, True)
"""
from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tapegrad._core.tensor import Variable
from tapegrad.optimizers.keras_base import KerasOptimizer

__all__ = ["ENABLED", "FIRST_CHUNK", "MAX_CHUNK", "Fused", "fusable"]

ENABLED = True  # False: every run takes the ordinary loop (tests compare the two)
# Steps per chunk: the first small, as a chunk in which the run stops is run again step by step; then doubling,
# so the per-chunk work (a dozen NumPy calls) is spread thin.
FIRST_CHUNK, MAX_CHUNK = 64, 1024
MIN_CHUNK = 8  # fewer steps left than this: the ordinary loop takes them
_FLOATS = "f"
_NEVER = 1 << 62


def fusable(opt: Any, problem: Any, scalars: bool, callbacks: list, active: bool, with_state: bool) -> bool:
    """Whether a run may take fused steps at all (each chunk checks the rest again)."""
    return (ENABLED and scalars and not callbacks and not active and not with_state
            and hasattr(problem, "_parts") and _plain_rate(opt) is not None)


def _plain_rate(opt: Any) -> float | None:
    """The rate when ``opt``'s step is ``KerasOptimizer._update``'s fast one, ``w - g * lr`` (else None).

    The condition is ``_update``'s own; the two must change together (tests/minimize compare them)."""
    if not isinstance(opt, KerasOptimizer) or type(opt)._step is not KerasOptimizer._step \
            or type(opt)._update is not KerasOptimizer._update:
        return None
    if opt._rule.plain and opt._clip is None and not opt.weight_decay and opt._lr.schedule is None:
        return opt._lr.value
    return None


def _slots(n: int) -> list:
    """A chunk's list for one column's n values (a function, so that tests can hand in lists that interrupt)."""
    return [None] * n


class Fused:
    """Runs the chunks of one ``minimize`` run; ``resume_at`` is the step before which the ordinary loop runs,
    ``interrupt_at`` the step at which it raises the KeyboardInterrupt a chunk caught (-1: none)."""

    def __init__(self, problem: Any, opt: Any, variables: list, recorder: Any, record: bool, t0: float) -> None:
        self.problem, self.opt, self.variables = problem, opt, variables
        self.recorder, self.record, self.t0 = recorder, record, t0
        self.resume_at, self.interrupt_at = 1, -1  # row 0's evaluation traces: the ordinary loop's
        self.size = FIRST_CHUNK
        self._built: tuple | None = None  # (the parts it was built from, the chunk function)

    def _chunk(self) -> Callable[..., None] | None:
        parts = self.problem._parts
        if self._built is None or self._built[0] is not parts:
            self._built = (parts, _build(parts, self.variables, self.problem._zeros))
        return self._built[1]

    def run(self, k0: int, left: int, prev_loss: float, lr_prev: float, gtol: float | None, ftol: float | None,
            bar: Any) -> tuple | None:
        """Steps from row k0 (``left`` steps to the run's last): ``(m, loss, gnorm, grads, values, lr,
        interrupted)`` when rows k0 to k0 + m - 1 were taken and recorded, or None when the ordinary loop is to
        take them (from the state it had: nothing was changed)."""
        problem = self.problem
        if not problem.compiled:  # not yet (tracing, verifying), or never: evaluations stay eager for good
            self.resume_at = _NEVER if problem._calls >= 2 else k0 + 1
            return None
        if problem._assigns:  # fn assigns Variables: the chunk does not repeat that
            self.resume_at = _NEVER
            return None
        if left < MIN_CHUNK or (problem._guard is not None and problem._guard() != -1):
            self.resume_at = k0 + 1  # the ordinary step sees the change, traces again or goes on eagerly
            return None
        lr = _plain_rate(self.opt)
        chunk = self._chunk() if lr is not None else None
        if chunk is None:
            self.resume_at = _NEVER
            return None
        n = min(self.size, left)
        variables, it = self.variables, self.opt._iterations
        start_values, it0, nfev0 = [v._value for v in variables], it._value, problem.nfev
        losses, grads, values = _slots(n), tuple(_slots(n) for _ in variables), tuple(_slots(n) for _ in variables)
        interrupted = False
        clock = time.perf_counter
        start = clock()
        try:
            chunk(n, lr, losses, grads, values)
        except KeyboardInterrupt:
            interrupted = True
        except Exception:
            # The ordinary loop runs these steps again, and meets the error (or not) where it always would.
            self._restore(start_values, it0, nfev0)
            self.resume_at = k0 + n
            return None
        end = clock()
        try:
            m = _complete(losses, grads, values) if interrupted else n
            rows = _rows(losses, grads, values, m, prev_loss, gtol, ftol) if m else None
        except KeyboardInterrupt:
            rows, interrupted, m = None, True, 0
        if rows is None or isinstance(rows, str):
            self._restore(start_values, it0, nfev0)
            if rows == "types":  # not the float scalars the rows are read as: this run stays ordinary
                self.resume_at = _NEVER
            else:  # a row where the ordinary loop may stop, or none to check: it runs them
                self.resume_at = k0 + (m if interrupted else n)
            if interrupted:
                self.resume_at = self.interrupt_at = k0 + m
            return None
        loss, gnorm, columns = rows
        last_grads = [g[m - 1] for g in grads]
        last_values = [x[m - 1] for x in values]
        if interrupted:  # the update from the last complete row, as the chunk computes it
            for v, x, g in zip(variables, last_values, last_grads):
                v._value = x - g * lr
        it._value = it0 + m  # n int64 increments of 1, as _update makes them
        problem.nfev = nfev0 + m
        if self.record:
            elapsed = (start - self.t0) + (end - start) * (np.arange(1, m + 1) / n)
            self.recorder.write_rows(k0, lr_prev, lr, loss, gnorm, elapsed, columns)
        if bar is not None:
            for k in range(k0 + 1 + (-(k0 + 1) & 31), k0 + m + 1, 32):  # the ordinary loop's every 32nd step
                bar.show(k, float(loss[k - 1 - k0]), float(gnorm[k - 1 - k0]))
        self.size = min(2 * self.size, MAX_CHUNK)
        return m, float(loss[m - 1]), float(gnorm[m - 1]), last_grads, last_values, lr, interrupted

    def _restore(self, values: list, it0: Any, nfev0: int) -> None:
        for v, x in zip(self.variables, values):
            v._value = x
        self.opt._iterations._value = it0
        self.problem.nfev = nfev0


@contextlib.contextmanager
def sigint_deferred() -> Iterator[list]:
    """Ctrl-C (SIGINT) held back while the block runs: the list it yields says whether one came.

    Only where Python's own handler is installed and in the main thread (the only one signals reach);
    a handler of the user's is left to do what it does.
    """
    pending: list = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield pending
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield pending
    finally:
        signal.signal(signal.SIGINT, previous)


def _complete(losses: list, grads: tuple, values: tuple) -> int:
    """How many rows an interrupted chunk completed: those with every column written."""
    m = len(losses)
    for column in (losses, *grads, *values):
        m = min(m, next((i for i, x in enumerate(column) if x is None), len(column)))
    return m


def _floats(column: list, m: int) -> np.ndarray | None:
    """A column's first m values as float64, each as ``float()`` reads it, or None if they are not real scalars."""
    a = np.array(column if m == len(column) else column[:m])
    if a.shape != (m,) or a.dtype.kind not in _FLOATS:
        return None
    return a if a.dtype == np.float64 else a.astype(np.float64)


def _rows(losses: list, grads: tuple, values: tuple, m: int, prev_loss: float, gtol: float | None,
          ftol: float | None) -> tuple | str | None:
    """The chunk's rows as float64 columns ``(loss, gnorm, parameters)``; "types" when a column is not float
    scalars; None when at one of them the ordinary loop could stop (its tests, with its arithmetic)."""
    loss = _floats(losses, m)
    gs = [_floats(g, m) for g in grads]
    xs = [_floats(x, m) for x in values]
    if loss is None or any(g is None for g in gs) or any(x is None for x in xs):
        return "types"
    sq = gs[0] * gs[0]  # the loop's sq = 0.0; sq += g * g, in its order (0.0 + s is s for s >= 0 and NaN)
    for g in gs[1:]:
        sq = sq + g * g
    gnorm = np.sqrt(sq)
    ok = np.isfinite(loss) & np.isfinite(gnorm)  # an overflowing norm too: the loop recomputes it, scaled
    for x in xs:
        ok &= np.isfinite(x)
    if gtol is not None:
        ok &= ~(gnorm <= gtol)
    if ftol is not None:  # k > 0 in a chunk: the rule applies from its first row
        prev = np.concatenate(([prev_loss], loss[:-1]))
        ok &= ~(np.abs(prev - loss) <= ftol * np.maximum(np.maximum(1.0, np.abs(loss)), np.abs(prev)))
    if not ok.all():
        return None
    return loss, gnorm, xs


def _build(parts: tuple | None, variables: list, zeros: list) -> Callable[..., None] | None:
    """The chunk function for a trace of ``(loss, [gradients])``: ``chunk(n, lr, losses, grads, values)`` runs
    n steps, writing row i's loss, gradients and parameters into the lists at i; the parameters live in locals
    and are written back at the end. None when the trace is not of that form."""
    if parts is None or not variables:
        return None
    lines, leaves, namespace = parts
    if len(leaves) != 1 + len(variables):
        return None
    ns = dict(namespace)
    names = {id(obj): name for name, obj in namespace.items() if type(obj) is Variable}
    local: dict[str, str] = {}
    for i, v in enumerate(variables):
        ns[f"P{i}"] = v
        if id(v) in names:
            local[f"{names[id(v)]}._value"] = f"x{i}"
    body = []
    for line in lines:
        left, sep, right = line.strip().partition(" = ")
        if not sep:
            return None
        body.append(f"        {left} = {local.get(right, right)}")
    loss = local.get(leaves[0], leaves[0])
    grads = []
    for i, leaf in enumerate(leaves[1:]):
        if leaf == "None":  # not connected: zeros, as CompiledProblem gives
            ns[f"Z{i}"] = zeros[i]
            leaf = f"Z{i}"
        grads.append(local.get(leaf, leaf))
    count = len(variables)
    xs = ", ".join(f"x{i}" for i in range(count)) + ","
    src = [
        "def chunk(n, lr, L, G, X):",
        f"    {', '.join(f'G{i}' for i in range(count))}, = G",
        f"    {', '.join(f'X{i}' for i in range(count))}, = X",
        f"    {xs} = {', '.join(f'P{i}._value' for i in range(count))},",
        "    for i in range(n):",
        *body,
        f"        L[i] = {loss}",
        *[f"        G{i}[i] = {g}" for i, g in enumerate(grads)],
        *[f"        X{i}[i] = x{i}" for i in range(count)],
        *[f"        x{i} = x{i} - {g} * lr" for i, g in enumerate(grads)],  # KerasOptimizer._update's fast step
        *[f"    P{i}._value = x{i}" for i in range(count)],
        "",
    ]
    code = "\n".join(src)
    # The problem's Variables are only read through the locals: any other use of them would see stale values.
    if any(re.search(rf"\b{re.escape(names[id(v)])}\b", "\n".join(body + [loss, *grads])) for v in variables
           if id(v) in names):
        return None
    exec(compile(code, "<tg.minimize fused steps>", "exec"), ns)  # our generated code only
    return ns["chunk"]

