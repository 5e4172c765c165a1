"""``minimize``: run an optimizer on a function until it converges, diverges or runs out of steps,
recording every step. The loop and its result live here; the set-up, the compiled problem, the
recorder, the stop reasons and the progress bar each in a module of their own.

>>> import tapegrad as tg
>>> result = tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, optimizer="adam", learning_rate=0.1, steps=2000,
...                      gtol=1e-6)
>>> result.status, round(float(result.x), 4)
('converged', 3.0)
"""
from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad.optimizers import Newton, NoDescent, Optimizer, Problem
from tapegrad.optimizers.base import assign_value

from .codec import picklable_or_none
from .history import History
from .problem import CompiledProblem
from .progress import progress_bar
from .recorder import Recorder
from .setup import callbacks_list, nonnegative_int, optimizer_from, takes_one_argument
from .setup import variables as make_variables
from .stops import REASONS, Stop

__all__ = ["HISTORY_CHUNK", "MinimizeResult", "StepInfo", "minimize"]

HISTORY_CHUNK = 1 << 16  # rows allocated up front at most; longer runs grow the buffers by doubling


class MinimizeResult:
    """What ``minimize`` returns.

    ``x`` (parameters at the end, with ``x0``'s structure, as NumPy values), ``fun`` (the loss
    there), ``grad``, ``steps`` (updates made), ``status`` (converged / max_steps / diverged /
    interrupted), ``message``, ``success`` (True unless it diverged or was interrupted),
    ``history`` (a ``History``), ``nfev`` (evaluations of the function), ``optimizer``,
    ``compiled`` (True when the loss and gradient were replayed as compiled code at the end of
    the run, see ``minimize``'s ``compile``), ``compile_reason`` (why not, when False; when True,
    None, or what Python state changed so that ``fn`` was traced again) and ``stop`` (why it stopped,
    as data: a ``tapegrad.descent.Stop``, whose ``message()`` is ``message``).

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, steps=10)
    >>> r.status, r.steps, r.success, len(r.history)
    ('max_steps', 10, True, 11)
    >>> r.stop.reason, r.stop.message() == r.message
    ('steps', True)
    """

    def __init__(self, x: Any, fun: float, grad: Any, steps: int, status: str, message: str, history: History,
                 nfev: int, optimizer: Optimizer, fn: Callable[..., Any], compiled: bool = False,
                 compile_reason: str | None = None, stop: Stop | None = None) -> None:
        self.x, self.fun, self.grad, self.steps = x, fun, grad, steps
        self.status, self.message, self.history = status, message, history
        self.nfev, self.optimizer, self.fn = nfev, optimizer, fn
        self.compiled, self.compile_reason, self.stop = compiled, compile_reason, stop

    @property
    def success(self) -> bool:
        """True unless the run diverged or was interrupted.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=1.5, steps=100).success
        False
        """
        return self.status in ("converged", "max_steps")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "fn": picklable_or_none(self.fn)}

    def plot(self, kind: str = "trajectory", **kwargs: Any) -> Any:
        """A plotnine figure of the run: ``"trajectory"`` (default), ``"loss"`` or ``"landscape"``.

        >>> import tapegrad as tg
        >>> r = tg.minimize(lambda p: (p["x"] - 1) ** 2 + (p["y"] + 1) ** 2, {"x": 0.0, "y": 0.0}, steps=50)
        >>> r.plot("landscape").labels.x
        'x'
        """
        if kind == "landscape":
            kwargs.setdefault("fn", self.fn)
        return self.history.plot(kind, **kwargs)

    def __repr__(self) -> str:
        lines = [f"{k:>9}: {v!s}" for k, v in (
            ("status", self.status), ("success", self.success), ("message", self.message), ("fun", self.fun),
            ("x", self.x), ("grad", self.grad), ("steps", self.steps), ("nfev", self.nfev),
            ("history", repr(self.history)))]
        return "\n".join(lines)


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
             record: bool = True, progress: bool | None = None, compile: bool | str = "auto") -> MinimizeResult:
    """Minimize ``fn`` from ``x0`` with gradient-based steps, recording each one.

    - ``x0``: a Variable (updated in place), a number, an array, or a list/tuple/dict of
      them. ``fn`` gets one argument with that structure whose leaves are Variables. Python
      numbers become float32 Variables (TensorFlow's rule); pass NumPy float64 values
      for float64.
    - ``optimizer``: an optimizer object (``tg.optimizers.SGD(0.01)``, ``LBFGS()``, ...), a
      ``GradientTransformation``, or a name: sgd, momentum, nesterov, adam, adamw, rmsprop,
      adagrad, adadelta, adamax, nadam, lion, lbfgs, newton, linesearch. With a name,
      ``learning_rate`` (a number or schedule) defaults to ``OPTIMIZERS[name][1]``.
    - Stops after ``steps`` updates, or when the gradient norm is ``<= gtol``, or when the loss
      changes by at most ``tol * max(1, |loss|)`` in one step (status ``converged``), or when
      the loss, gradient or a parameter is NaN/inf (``diverged``: the parameters go back to
      the last finite point), or on Ctrl-C or a callback asking to stop (``interrupted``).
      An exception from ``fn``, the optimizer or a callback is raised as it is, with the run
      so far on it as ``e.result`` (a ``MinimizeResult`` with the history) once a step was made.
    - An optimizer object keeps its state (``iterations``, slots such as Adam's moments) from
      one run to the next, as in Keras: pass a new one, or a name, to start afresh.
    - ``record``: keep the history (one row per point visited, from ``x0`` to the end).
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
    for name, value in (("tol", tol), ("gtol", gtol)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0):
            raise ValueError(f"{name} must be a number >= 0 (or None), got {value!r}")
    for name, value, allowed in (("record", record, "True or False"), ("progress", progress, "True, False or None")):
        if not (isinstance(value, (bool, np.bool_)) or (value is None and name == "progress")):
            raise TypeError(f"{name} must be {allowed}, got {value!r}")
    callbacks = callbacks_list(callbacks)
    takes_one_argument(fn, x0)
    opt = optimizer_from(optimizer, learning_rate)
    structure = x0
    variables, names = make_variables(x0, fn)
    arg = nest.pack_as(structure, variables)
    problem = Problem(lambda: fn(arg), variables) if compile is False else CompiledProblem(fn, arg, variables, compile)
    start = [v._value for v in variables]
    recorder = Recorder(names, start, min(steps + 1, HISTORY_CHUNK) if record else 0)
    bar = progress_bar(progress, steps)

    reason, facts = "steps", {}
    error: Exception | None = None
    k = last_k = written = 0
    prev_loss = lr = loss = gnorm = math.nan
    last: tuple[float, list, list] | None = None  # loss, grads, values at the last finite point (step last_k)
    scalar = [np.ndim(v._value) == 0 for v in variables]
    # Rows of scalar parameters are written here, with one call each of the recorder's packer, rather than
    # through a method: on a one-parameter problem a step costs a few microseconds and the recording must stay
    # a small fraction of it. mode: 0 no recording; 1 or 2 scalars, spelled out (a call with *values costs
    # twice as much); 3 more scalars; 4 array parameters, through Recorder.write_row.
    pack, buffer, stride, capacity = recorder.writer()
    mode = 0 if not record else 4 if not all(scalar) else min(len(scalar), 3)
    clock = time.perf_counter
    t0 = clock()
    # NaN and inf are reported as status "diverged", so NumPy's overflow warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            while True:
                loss, grads = problem.value_and_grad()
                values = [v._value for v in variables]
                sq = 0.0
                for g, s in zip(grads, scalar):
                    if s:
                        g = float(g)  # Python floats overflow to inf quietly; NaN/inf is reported below
                        sq += g * g
                    else:
                        g = g if g.dtype == np.float64 else g.astype(np.float64)
                        sq += float(np.vdot(g, g))
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
                bad = _nonfinite(loss, gnorm, values, scalar, names)
                if bad is not None:
                    reason, facts = "nonfinite", {**bad, "loss": loss, "prev_loss": prev_loss, "lr": lr}
                    break
                last, last_k = (loss, grads, values), k
                if gtol is not None and gnorm <= gtol:
                    reason, facts = "gtol", {"gnorm": gnorm, "gtol": gtol}
                    break
                if tol is not None and k and abs(prev_loss - loss) <= tol * max(1.0, abs(loss), abs(prev_loss)):
                    reason, facts = "tol", {"change": abs(prev_loss - loss), "tol": tol}
                    break
                if callbacks and _ask_callbacks(callbacks, StepInfo(k, loss, gnorm, opt, variables, structure,
                                                                    recorder, written)):
                    reason = "callback"
                    break
                if k == steps:
                    break
                lr = opt._step(problem, loss, grads)
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

    if last is None:  # nothing finite was seen: leave x0 as it was
        loss_end, grads_end, values_end = math.nan, [np.full_like(v._value, math.nan) for v in variables], \
            [v._value for v in variables]
    else:
        loss_end, grads_end, values_end = last
    for v, value in zip(variables, values_end):
        assign_value(v, value)
    x = nest.pack_as(structure, [v.numpy() for v in variables])
    grad = nest.pack_as(structure, [np.array(g, copy=True)[()] if np.ndim(g) == 0 else np.array(g, copy=True)
                                    for g in grads_end])
    status = REASONS[reason]
    steps_done = last_k if status == "interrupted" else k
    if reason == "steps":
        facts = {"asked": steps, "loss": loss_end}
    # Newton has the Hessian and says itself what kind of stationary point it stopped at.
    if status in ("max_steps", "converged") and gnorm == 0 and not isinstance(opt, Newton) and all(
            a is b or np.array_equal(a, b) for a, b in zip(start, values_end)):
        facts = {**facts, "stationary": True}
    stop = Stop(reason, steps_done, facts)
    message = stop.message()
    compiled, why = (problem.compiled, problem.reason) if compile is not False else (False, "compile=False")
    history = recorder.history(written, fn=fn, structure=nest.pack_as(structure, names),
                               final={n: np.array(v, copy=True) for n, v in zip(names, values_end)},
                               meta={"status": status, "message": message, "optimizer": type(opt).__name__,
                                     "config": opt.get_config(), "recorded": bool(record), "compiled": compiled})
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
    flat = [np.abs(np.asarray(g, dtype=np.float64)).reshape(-1) for g in grads]
    top = max((float(f.max()) for f in flat if f.size), default=0.0)
    if not 0 < top < math.inf:
        return top  # 0, or inf/NaN: a gradient that is not finite
    return top * math.sqrt(sum(float(np.vdot(f / top, f / top)) for f in flat))


def _nonfinite(loss: float, gnorm: float, values: list, scalar: list, names: list) -> dict[str, Any] | None:
    """Which of loss, gradient, parameters is NaN or inf (None when all are finite), as a Stop's facts."""
    if not math.isfinite(loss):
        return {"what": "loss", "value": loss}
    if not math.isfinite(gnorm):
        return {"what": "gradient", "value": gnorm}
    for v, s, name in zip(values, scalar, names):
        if not (math.isfinite(v) if s else np.isfinite(v).all()):
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
