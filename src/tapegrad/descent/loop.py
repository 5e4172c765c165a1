"""``minimize``: run an optimizer on a function until it converges, diverges or runs out of steps,
recording every step. The loop lives here; its result, the set-up, the compiled problem, the recorder,
the stopping rules, the stop reasons, the optimizer's state and the progress bar each in a module of their own.

>>> import tapegrad as tg
>>> result = tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, optimizer="adam", learning_rate=0.1, steps=2000,
...                      gtol=1e-6)
>>> result.status, round(float(result.x), 4)
('converged', 3.0)
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tapegrad._core import backend, nest
from tapegrad.optimizers import Newton, NoDescent, Optimizer, Problem
from tapegrad.optimizers.base import assign_value
from tapegrad.optimizers.variables import all_finite, any_nonzero, max_abs, on_device, same_values, sum_of_squares

from . import fused as _fused
from .history import History
from .problem import CompiledProblem
from .progress import progress_bar
from .recorder import Recorder
from .result import MinimizeResult
from .rules import Rules
from .setup import callbacks_list, nonnegative_int, optimizer_from, record_modes, takes_one_argument
from .setup import variables as make_variables
from .state import state_reader
from .stops import REASONS, Stop, unbounded

__all__ = ["HISTORY_CHUNK", "MinimizeResult", "StepInfo", "minimize"]

HISTORY_CHUNK = 1 << 16  # rows allocated up front at most; longer runs grow the buffers by doubling


class StepInfo:
    """What a callback receives after each evaluation: ``step``, ``loss``, ``grad_norm``, ``x``, ``history``.

    A callback returning True (or raising StopIteration) stops the run with status ``interrupted``.

    >>> import tapegrad as tg
    >>> seen = []
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, steps=3, callbacks=[lambda s: seen.append(s.step)])
    >>> seen
    [0, 1, 2, 3]
    """

    __slots__ = ("step", "loss", "grad_norm", "optimizer", "_variables", "_structure", "_recorder", "_rows",
                 "_history")

    def __init__(self, step: int, loss: float, grad_norm: float, optimizer: Optimizer, variables: list,
                 structure: Any, recorder: Recorder, rows: int) -> None:
        self.step, self.loss, self.grad_norm, self.optimizer = step, loss, grad_norm, optimizer
        self._variables, self._structure, self._recorder, self._rows = variables, structure, recorder, rows
        self._history: History | None = None

    def __repr__(self) -> str:
        return f"StepInfo(step={self.step}, loss={self.loss:.6g}, grad_norm={self.grad_norm:.6g})"

    @property
    def x(self) -> Any:
        """The parameters' current values, with ``x0``'s structure."""
        return nest.pack_as(self._structure, [v.numpy() for v in self._variables])

    @property
    def history(self) -> History:
        """The rows recorded so far, steps 0 to ``step`` (none with ``record=False``), as a ``History``."""
        if self._history is None:
            self._history = self._recorder.history(self._rows)
        return self._history


def minimize(fn: Callable[[Any], Any], x0: Any, optimizer: Any = "sgd", learning_rate: Any = None,
             steps: int = 1000, tol: float | None = None, gtol: float | None = None,
             callbacks: Iterable[Callable[[StepInfo], Any]] | Callable[[StepInfo], Any] = (),
             record: bool | str | Iterable[str] = True, progress: bool | None = None, compile: bool | str = "auto",
             *, ftol: float | None = None, xtol: float | None = None, target: float | None = None,
             patience: int | None = None, max_time: float | None = None, runaway: float | None = None,
             stagnation: int | None = None) -> MinimizeResult:
    """Minimize ``fn`` from ``x0`` with gradient-based steps, recording each one.

    - ``x0``: a Variable (updated in place), a number, an array, or a list/tuple/dict of
      them. ``fn`` gets one argument with that structure whose leaves are Variables. Python
      numbers become float32 Variables (TensorFlow's rule); pass NumPy float64 values
      for float64.
    - ``optimizer``: an optimizer object (``tg.optimizers.SGD(0.01)``, ``LBFGS()``, ...), a
      ``GradientTransformation``, or a name: sgd, momentum, nesterov, adam, adamw, rmsprop,
      adagrad, adadelta, adamax, nadam, lion, lbfgs, newton, linesearch. With a name,
      ``learning_rate`` (a number or schedule) defaults to ``OPTIMIZERS[name][1]``.
    - Stops after ``steps`` updates (status ``max_steps``), or when a stopping rule fires: the
      gradient norm is ``<= gtol``; the loss changed by at most ``ftol * max(1, |loss|)`` in one
      step (``tol`` is the same rule's older name); the last step moved the parameters by at most
      ``xtol``; the loss is ``<= target``; no new best loss for ``patience`` steps; the parameters
      stopped changing for ``stagnation`` steps though the gradient is not zero (status
      ``converged`` for all of these); ``max_time`` seconds passed (``max_steps``); the loss rose
      by more than ``runaway * max(1, |loss at x0|)`` (``diverged``). Every rule is off unless
      given. Always on: the loss, gradient or a parameter became NaN/inf, or the loss fell without
      bound (``diverged``: the parameters go back to the last finite point); Ctrl-C or a callback
      asking to stop (``interrupted``). ``result.reason`` names the rule (a ``Reason``) and
      ``result.message`` says it with its numbers.
      An exception from ``fn``, the optimizer or a callback is raised as it is, with the run
      so far on it as ``e.result`` (a ``MinimizeResult`` with the history) once a step was made.
    - An optimizer object keeps its state (``iterations``, slots such as Adam's moments) from
      one run to the next, as in Keras: pass a new one, or a name, to start afresh.
    - ``record``: keep the history (one row per point visited, from ``x0`` to the end). ``"state"``
      adds the optimizer's state after each step (columns ``step_norm``, ``momentum_norm``, ...: see
      ``tapegrad.descent.state``); ``"full"`` keeps every element of every array parameter (not only
      the first ``History.max_elements``), which a PCA landscape needs; ``("full", "state")`` both.
    - ``progress``: a progress bar (tqdm) on stderr; None shows it on runs longer than half a
      second when stderr is a terminal or in a notebook.
    - ``compile``: evaluate the loss and gradient with ``tg.function``'s compiled code, several
      times faster on small problems. ``"auto"`` (default) gives the results of ``False`` bit for
      bit: it compiles when ``fn`` traces cleanly, reads only Python state that can be watched
      (numbers, strings, tuples, NumPy arrays up to 1 MiB in all, Variables, tensors, modules'
      attributes, functions it calls, by the same rules) and gives the eager result at the second
      evaluation; before every replay it checks that what ``fn`` reads is unchanged (a global or
      closure variable rebound, an array changed in place, by a callback say), and traces again or
      goes on eagerly when it changed. It runs eagerly when ``fn`` has Python control flow on values
      (``float(w)``), draws random numbers, prints, assigns outer names or reads lists, dicts or
      objects' attributes. ``True`` always replays the trace (an error if ``fn`` cannot be traced),
      so Python state ``fn`` reads is frozen as it was at the first call, as with ``tf.function``;
      ``False`` always runs ``fn`` eagerly. ``result.compiled`` and ``result.compile_reason`` tell.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, tg.Variable(np.float64(1.0)), optimizer=tg.optimizers.SGD(0.01),
    ...                 steps=10000)
    >>> r.status, r.steps, len(r.history)       # rows: the start and one per step
    ('max_steps', 10000, 10001)
    >>> r.history["w"][:3]                     # w_k = (1 - 2 * 0.01) ** k
    array([1.    , 0.98  , 0.9604])
    >>> r.compiled
    True
    """
    steps = nonnegative_int("steps", steps)
    if not (compile is True or compile is False or (isinstance(compile, str) and compile == "auto")):
        raise ValueError(f"compile must be True, False or 'auto', got {compile!r}")
    if tol is not None and ftol is not None:
        raise ValueError("tol and ftol are the same rule (tol is its older name); give one of them")
    rules = Rules(gtol, tol if ftol is None else ftol, xtol, target, patience, max_time, runaway, stagnation)
    gtol, ftol, active, check = rules.gtol, rules.ftol, rules.active, rules.check
    if not (isinstance(progress, (bool, np.bool_)) or progress is None):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    record, full, with_state = record_modes(record)
    callbacks = callbacks_list(callbacks)
    takes_one_argument(fn, x0)
    opt = optimizer_from(optimizer, learning_rate)
    structure = x0
    variables, names = make_variables(x0, fn)
    arg = nest.pack_as(structure, variables)
    problem = Problem(lambda: fn(arg), variables) if compile is False else CompiledProblem(fn, arg, variables, compile)
    start = [v._value for v in variables]
    state_columns, read_state = state_reader(opt, variables) if with_state else ([], None)
    recorder = Recorder(names, start, min(steps + 1, HISTORY_CHUNK) if record else 0, full=full,
                        state=state_columns)
    bar = progress_bar(progress, steps)

    reason, facts = "steps", {}
    error: Exception | None = None
    k = last_k = written = 0
    prev_loss = lr = loss = gnorm = math.nan
    last: tuple[float, list, list] | None = None  # loss, grads, values at the last finite point (step last_k)
    # A parameter on a device (CuPy, ...) is never a "scalar" here: its gradient's square sum and finiteness are
    # taken on the device, and only those numbers come over (optimizers.variables).
    scalar = [np.ndim(v._value) == 0 and not on_device(v._value) for v in variables]
    # Rows of scalar parameters are written here, with one call each of the recorder's packer, rather than
    # through a method: on a one-parameter problem a step costs a few microseconds and the recording must stay
    # a small fraction of it. mode: 0 no recording; 1 or 2 scalars, spelled out (a call with *values costs
    # twice as much); 3 more scalars; 4 array parameters, through Recorder.write_row.
    pack, buffer, stride, capacity = recorder.writer()
    scalars = all(scalar)
    mode = 0 if not record else 4 if not scalars else min(len(scalar), 3)
    clock, isfinite = time.perf_counter, math.isfinite
    # Bound once: on the compiled seed step the loop's own work is of the order of the evaluation's.
    value_and_grad, take_step = problem.value_and_grad, opt._step
    t0 = clock()
    # Chunks of steps run as one generated loop where that is provably the same run (see descent.fused).
    fused = _fused.Fused(problem, opt, variables, recorder, bool(mode), t0) \
        if _fused.fusable(opt, problem, scalars, callbacks, active, with_state) else None
    # NaN and inf are reported as status "diverged", so NumPy's overflow warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            while True:
                if fused is not None and k >= fused.resume_at:
                    # A Ctrl-C waits for the chunk and its bookkeeping (about a millisecond), then stops the run
                    # as at the next evaluation: a signal landing between the rows' writes could cut them short.
                    with _fused.sigint_deferred() as pending:
                        done = None if k == fused.interrupt_at else \
                            fused.run(k, steps - k, prev_loss, lr, gtol, ftol, bar)
                        if done is not None:
                            m, loss, gnorm, grads, values, lr, interrupted = done
                            last, last_k, prev_loss = (loss, grads, values), k + m - 1, loss
                            k += m
                            if mode:
                                written = k
                                pack, buffer, stride, capacity = recorder.writer()
                    if done is None and k == fused.interrupt_at:  # a Ctrl-C that came during a chunk
                        raise KeyboardInterrupt
                    if done is not None:
                        if interrupted or pending:
                            raise KeyboardInterrupt
                        continue
                    if pending:
                        raise KeyboardInterrupt
                loss, grads = value_and_grad()
                values = [v._value for v in variables]
                sq = 0.0
                if scalars:
                    for g in grads:
                        g = float(g)  # Python floats overflow to inf quietly; NaN/inf is reported below
                        sq += g * g
                else:
                    for g, s in zip(grads, scalar):
                        if s:
                            g = float(g)
                            sq += g * g
                        elif type(g) is np.ndarray:
                            g = g if g.dtype == np.float64 else g.astype(np.float64)
                            sq += float(np.vdot(g, g))
                        else:
                            sq += sum_of_squares(g)
                gnorm = math.sqrt(sq)
                if gnorm == math.inf:  # |g| above 1e154 squares to inf: tell that from an infinite gradient
                    gnorm = _norm(grads)
                if mode:
                    if k == capacity:
                        pack, buffer, stride, capacity = recorder.grow(k)
                    # lr is the step size taken from row k - 1: the last column of that row.
                    if mode == 1:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, values[0])
                    elif mode == 2:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, values[0], values[1])
                    elif mode == 3:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, *values)
                    else:
                        recorder.write_row(k, lr, loss, gnorm, clock() - t0, values)
                    written = k + 1  # the rows recorded: a local is cheaper than asking the recorder
                finite = isfinite(loss) and isfinite(gnorm)
                if finite and scalars:
                    for x in values:
                        finite = finite and isfinite(x)
                bad = None if finite and scalars else _nonfinite(loss, gnorm, values, scalar, names)
                if bad is not None:
                    reason = "unbounded" if unbounded(loss, prev_loss) else "nonfinite"
                    facts = {**bad, "loss": loss, "prev_loss": prev_loss, "lr": lr, "unbounded": reason == "unbounded"}
                    break
                last, last_k = (loss, grads, values), k
                if gtol is not None and gnorm <= gtol:
                    reason, facts = "gtol", {"gnorm": gnorm, "gtol": gtol}
                    break
                if ftol is not None and k and abs(prev_loss - loss) <= ftol * max(1.0, abs(loss), abs(prev_loss)):
                    reason, facts = "ftol", {"change": abs(prev_loss - loss), "ftol": ftol}
                    break
                if active:
                    hit = check(k, loss, gnorm, values, clock() - t0)
                    if hit is not None:
                        reason, facts = hit
                        facts["lr"] = lr
                        break
                if callbacks and _ask_callbacks(callbacks, StepInfo(k, loss, gnorm, opt, variables, structure,
                                                                    recorder, written)):
                    reason = "callback"
                    break
                if k == steps:
                    break
                lr = take_step(problem, loss, grads)
                if read_state is not None:
                    recorder.write_state(k, read_state(values))
                prev_loss = loss
                k += 1
                if bar is not None and not k & 31:
                    bar.show(k, loss, gnorm)
        except KeyboardInterrupt:
            reason = "ctrl_c"
        except NoDescent as e:
            reason, facts = "no_descent", {"text": str(e)}
        except Exception as e:
            # The error is the user's to see, but the steps made so far are theirs too: they ride on it.
            error = e
            reason, facts = "error", {"error": repr(e), "at": k,
                                      "during": "step" if last_k == k and last is not None else "evaluation"}
        finally:
            if bar is not None:
                bar.close(k, loss, gnorm)
            if mode == 4 and written:
                recorder.last_row(written - 1, values)

    if last is None:  # nothing finite was seen: leave x0 as it was
        loss_end, grads_end, values_end = math.nan, [backend.full_like(v._value, math.nan) if on_device(v._value)
                                                     else np.full_like(v._value, math.nan) for v in variables], \
            [v._value for v in variables]
    else:
        loss_end, grads_end, values_end = last
    for v, value in zip(variables, values_end):
        assign_value(v, value)
    # A device's parameters and gradients stay there (never written into, so no copy is needed).
    x = nest.pack_as(structure, [v._value if on_device(v._value) else v.numpy() for v in variables])
    grad = nest.pack_as(structure, [g if on_device(g) else np.array(g, copy=True)[()] if np.ndim(g) == 0 else
                                    np.array(g, copy=True) for g in grads_end])
    status = REASONS[reason]
    steps_done = last_k if status == "interrupted" else k
    if reason == "steps":
        facts = {"asked": steps, "loss": loss_end}
    # Newton has the Hessian and says itself what kind of stationary point it stopped at.
    if status in ("max_steps", "converged") and not any(any_nonzero(g) for g in grads_end) \
            and not isinstance(opt, Newton) and all(a is b or same_values(a, b) for a, b in zip(start, values_end)):
        facts = {**facts, "stationary": True}
    stop = Stop(reason, steps_done, facts)
    message = stop.message()
    compiled, why = (problem.compiled, problem.reason) if compile is not False else (False, "compile=False")
    history = recorder.history(written, fn=fn, structure=nest.pack_as(structure, names),
                               final={n: np.array(backend.to_numpy(v), copy=True) for n, v in zip(names, values_end)},
                               meta={"status": status, "message": message, "optimizer": type(opt).__name__,
                                     "config": opt.get_config(), "recorded": bool(record), "compiled": compiled,
                                     "reason": stop.reason.value, "state_columns": state_columns})
    result = MinimizeResult(x, loss_end, grad, steps_done, status, message, history, problem.nfev, opt, fn,
                            compiled, why, stop)
    if error is not None:
        if last is not None:
            error.result = result  # type: ignore[attr-defined]
            if hasattr(error, "add_note"):  # Python 3.11+
                error.add_note(f"tg.minimize stopped at step {steps_done}; the run up to there is kept on this "
                               f"exception: e.result, a MinimizeResult with the history of steps 0 to {steps_done}")
        raise error
    return result


def _norm(grads: list) -> float:
    """The gradients' joint norm, scaled by the largest element so that finite gradients give a finite norm."""
    flat = [g if on_device(g) else np.asarray(g, dtype=np.float64).reshape(-1) for g in grads]
    top = max((max_abs(f) for f in flat if np.size(f)), default=0.0)
    if not 0 < top < math.inf:
        return top  # 0, or inf/NaN: a gradient that is not finite
    return top * math.sqrt(sum(sum_of_squares(f / top) for f in flat))


def _nonfinite(loss: float, gnorm: float, values: list, scalar: list, names: list) -> dict[str, Any] | None:
    """Which of loss, gradient, parameters is NaN or inf (None when all are finite), as a Stop's facts."""
    if not math.isfinite(loss):
        return {"what": "loss", "value": loss}
    if not math.isfinite(gnorm):
        return {"what": "gradient", "value": gnorm}
    for v, s, name in zip(values, scalar, names):
        if not (math.isfinite(v) if s else all_finite(v)):
            return {"what": "parameter", "name": name}
    return None


def _ask_callbacks(callbacks: list, info: StepInfo) -> bool:
    stop = False
    for cb in callbacks:
        try:
            stop = bool(cb(info)) or stop
        except StopIteration:
            stop = True
    return stop
