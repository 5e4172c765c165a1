"""``minimize``: run an optimizer on a function until it converges, diverges or runs out of steps,
recording every step.

>>> import tapegrad as tg
>>> result = tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, optimizer="adam", learning_rate=0.1, steps=2000,
...                      gtol=1e-6)
>>> result.status, round(float(result.x), 4)
('converged', 3.0)
"""
from __future__ import annotations

import inspect
import math
import numbers
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.record import STATE
from tapegrad._core.tensor import Operand, Variable
from tapegrad._guard import Unprovable, Watch, watch
from tapegrad.compiler import function
from tapegrad.history import History, picklable_or_none
from tapegrad.optimizers import (
    GradientTransformation,
    Newton,
    NoDescent,
    Optimizer,
    Problem,
    TransformOptimizer,
)
from tapegrad.optimizers.base import _to_float, assign_value
from tapegrad.optimizers.names import OPTIMIZERS
from tapegrad.tape import GradientTape

STATUSES = ("converged", "max_steps", "diverged", "interrupted")
HISTORY_CHUNK = 1 << 16  # rows allocated up front at most; longer runs grow the buffers by doubling


class MinimizeResult:
    """What ``minimize`` returns.

    ``x`` (parameters at the end, with ``x0``'s structure, as NumPy values), ``fun`` (the loss
    there), ``grad``, ``steps`` (updates made), ``status`` (converged / max_steps / diverged /
    interrupted), ``message``, ``success`` (True unless it diverged or was interrupted),
    ``history`` (a ``History``), ``nfev`` (evaluations of the function), ``optimizer``,
    ``compiled`` (True when the loss and gradient were replayed as compiled code at the end of
    the run, see ``minimize``'s ``compile``) and ``compile_reason`` (why not, when False; when True,
    None, or what Python state changed so that ``fn`` was traced again).

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, steps=10)
    >>> r.status, r.steps, r.success, len(r.history)
    ('max_steps', 10, True, 11)
    """

    def __init__(self, x: Any, fun: float, grad: Any, steps: int, status: str, message: str, history: History,
                 nfev: int, optimizer: Optimizer, fn: Callable[..., Any], compiled: bool = False,
                 compile_reason: str | None = None) -> None:
        self.x, self.fun, self.grad, self.steps = x, fun, grad, steps
        self.status, self.message, self.history = status, message, history
        self.nfev, self.optimizer, self.fn = nfev, optimizer, fn
        self.compiled, self.compile_reason = compiled, compile_reason

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

    __slots__ = ("step", "loss", "grad_norm", "history", "optimizer", "_variables", "_structure")

    def __init__(self, step: int, loss: float, grad_norm: float, history: History, optimizer: Optimizer,
                 variables: list, structure: Any) -> None:
        self.step, self.loss, self.grad_norm, self.history, self.optimizer = step, loss, grad_norm, history, optimizer
        self._variables, self._structure = variables, structure

    def __repr__(self) -> str:
        return f"StepInfo(step={self.step}, loss={self.loss:.6g}, grad_norm={self.grad_norm:.6g})"

    @property
    def x(self) -> Any:
        """The parameters' current values, with ``x0``'s structure."""
        return nest.pack_as(self._structure, [v.numpy() for v in self._variables])


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
    steps = _nonnegative_int("steps", steps)
    if not (compile is True or compile is False or (isinstance(compile, str) and compile == "auto")):
        raise ValueError(f"compile must be True, False or 'auto', got {compile!r}")
    for name, value in (("tol", tol), ("gtol", gtol)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0):
            raise ValueError(f"{name} must be a number >= 0 (or None), got {value!r}")
    for name, value, allowed in (("record", record, "True or False"), ("progress", progress, "True, False or None")):
        if not (isinstance(value, (bool, np.bool_)) or (value is None and name == "progress")):
            raise TypeError(f"{name} must be {allowed}, got {value!r}")
    callbacks = _callbacks(callbacks)
    _takes_one_argument(fn, x0)
    opt = _optimizer(optimizer, learning_rate)
    structure = x0
    variables, names = _variables(x0, fn)
    arg = nest.pack_as(structure, variables)
    problem = Problem(lambda: fn(arg), variables) if compile is False else _CompiledProblem(fn, arg, variables, compile)
    start = [v._value for v in variables]
    history = History._for_run(names, start, min(steps + 1, HISTORY_CHUNK) if record else 0)
    history.fn = fn
    history._structure = structure
    bar = _progress_bar(progress, steps)

    status, why = "max_steps", ""
    error: Exception | None = None
    k = last_k = written = 0
    prev_loss = lr = loss = gnorm = math.nan
    last: tuple[float, list, list] | None = None  # loss, grads, values at the last finite point (step last_k)
    scalar = [np.ndim(v._value) == 0 for v in variables]
    # Rows of scalar parameters are written here, with one call each, rather than through a method: on a
    # one-parameter problem a step costs a few microseconds and the recording must stay a small fraction
    # of it. mode: 0 no recording; 1 or 2 scalars, spelled out (a call with *values costs twice as much);
    # 3 more scalars; 4 array parameters, through History._write_row.
    pack, buffer, stride, capacity = history._recorder()
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
                        history._n = k  # the rows _grow copies
                        pack, buffer, stride, capacity = history._grow()
                    # lr is the step size taken from row k - 1: the last column of that row.
                    if mode == 1:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, values[0])
                    elif mode == 2:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, values[0], values[1])
                    elif mode == 3:
                        pack(buffer, k * stride, lr, loss, gnorm, clock() - t0, *values)
                    else:
                        history._write_row(k, lr, loss, gnorm, clock() - t0, values)
                    written = k + 1  # becomes history._n for callbacks and at the end: a local is cheaper
                bad = _nonfinite(loss, gnorm, values, scalar, names)
                if bad:
                    status, why = "diverged", _diverged(k, bad, loss, prev_loss, lr)
                    break
                last, last_k = (loss, grads, values), k
                if gtol is not None and gnorm <= gtol:
                    status, why = "converged", f"the gradient norm {gnorm:.3g} is <= gtol={gtol:g}"
                    break
                if tol is not None and k and abs(prev_loss - loss) <= tol * max(1.0, abs(loss), abs(prev_loss)):
                    status, why = "converged", f"the loss changed by {abs(prev_loss - loss):.3g} (tol={tol:g})"
                    break
                if callbacks:
                    history._n = written
                    if _ask_callbacks(callbacks, StepInfo(k, loss, gnorm, history, opt, variables, structure)):
                        status, why = "interrupted", "a callback asked to stop"
                        break
                if k == steps:
                    break
                lr = opt._step(problem, loss, grads)
                prev_loss = loss
                k += 1
                if bar is not None and not k & 31:
                    bar.show(k, loss, gnorm)
        except KeyboardInterrupt:
            status, why = "interrupted", "interrupted (KeyboardInterrupt)"
        except NoDescent as e:
            status, why = "converged", str(e)
        except Exception as e:
            # The error is the user's to see, but the steps made so far are theirs too: they ride on it.
            error = e
            where = f"at step {k}, after its point was evaluated (in a callback or the optimizer's step)" \
                if last_k == k and last is not None else f"while evaluating fn at step {k}"
            status, why = "interrupted", f"stopped by {e!r}, raised {where}"
        finally:
            history._n = written
            if bar is not None:
                bar.close(k, loss, gnorm)

    if last is None:  # nothing finite was seen: leave x0 as it was
        loss_end, grads_end, values_end = math.nan, [np.full_like(v._value, math.nan) for v in variables], \
            [v._value for v in variables]
    else:
        loss_end, grads_end, values_end = last
    for v, value in zip(variables, values_end):
        assign_value(v, value)
    history._final = list(values_end)
    x = nest.pack_as(structure, [v.numpy() for v in variables])
    grad = nest.pack_as(structure, [np.array(g, copy=True)[()] if np.ndim(g) == 0 else np.array(g, copy=True)
                                    for g in grads_end])
    steps_done = last_k if status == "interrupted" else k
    message = _message(status, why, steps_done, steps, loss_end) if error is None else \
        f"{why}; the parameters are those of step {steps_done}, the last point evaluated"
    # Newton has the Hessian and says itself what kind of stationary point it stopped at.
    if status in ("max_steps", "converged") and gnorm == 0 and not isinstance(opt, Newton) and all(
            a is b or np.array_equal(a, b) for a, b in zip(start, values_end)):
        note = ("x0 is a stationary point (the gradient there is exactly zero, so the steps never moved): it may be "
                "a maximum or a saddle point as well as a minimum, which the gradient alone cannot tell; start "
                "elsewhere to look for a minimum")
        message = f"converged at step 0: {note}" if status == "converged" else f"{message}. {note}"
    history.meta.update(status=status, message=message, optimizer=type(opt).__name__, config=opt.get_config(),
                        recorded=bool(record))
    compiled, reason = (problem.compiled, problem.reason) if compile is not False else (False, "compile=False")
    history.meta.update(compiled=compiled)
    result = MinimizeResult(x, loss_end, grad, steps_done, status, message, history, problem.nfev, opt, fn,
                            compiled, reason)
    if error is not None:
        if last is not None:
            error.result = result  # type: ignore[attr-defined]
            if hasattr(error, "add_note"):  # Python 3.11+
                error.add_note(f"tg.minimize stopped at step {steps_done}; the run up to there is kept on this "
                               f"exception: e.result, a MinimizeResult with the history of steps 0 to {steps_done}")
        raise error
    return result


# -- set-up ----------------------------------------------------------------------------------------

def _nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _callbacks(callbacks: Any) -> list:
    try:
        out = [callbacks] if callable(callbacks) else list(callbacks)
    except TypeError:
        out = [callbacks]
    for cb in out:
        if not callable(cb):
            raise TypeError(f"callbacks must be functions of one StepInfo (or a list of them), not "
                            f"{type(cb).__name__} {cb!r}: e.g. callbacks=[lambda s: print(s.step, s.loss)]")
        try:
            inspect.signature(cb).bind(None)
        except ValueError:  # no signature to read (some builtins): let the call decide
            continue
        except TypeError:
            raise TypeError(f"each callback is called with one argument, a StepInfo (.step, .loss, .grad_norm, .x, "
                            f".history), but {getattr(cb, '__name__', 'a callback')}{inspect.signature(cb)} does not "
                            "take one: e.g. callbacks=[lambda s: print(s.step, s.loss)]") from None
    return out


def _takes_one_argument(fn: Any, x0: Any) -> None:
    """fn gets x0's structure as one argument: say so before a TypeError from inside the run."""
    if not callable(fn):
        raise TypeError(f"fn must be a function of the parameters, not {type(fn).__name__}")
    try:
        inspect.signature(fn).bind(x0)
    except ValueError:  # no signature to read (some builtins): let the call decide
        return
    except TypeError:
        hint = ""
        if isinstance(x0, (list, tuple)):
            names = ", ".join(f"p[{i}]" for i in range(len(x0)))
            hint = f"; for x0 = a list of {len(x0)}, write fn(p) and use {names}"
        elif isinstance(x0, dict):
            hint = "; for a dict x0, write fn(p) and use p['name']"
        raise TypeError(f"fn is called with one argument, the parameters with x0's structure, but its signature "
                        f"is {getattr(fn, '__name__', 'fn')}{inspect.signature(fn)}{hint}") from None


def _optimizer(optimizer: Any, learning_rate: Any) -> Optimizer:
    if isinstance(optimizer, str):
        key = optimizer.strip().lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; valid names: {', '.join(OPTIMIZERS)}")
        make, default = OPTIMIZERS[key]
        return make(default if learning_rate is None else learning_rate)
    if learning_rate is not None:
        raise ValueError("learning_rate= goes with an optimizer name (optimizer='adam', learning_rate=0.1); an "
                         "optimizer object has its own: tg.optimizers.Adam(learning_rate=0.1)")
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, GradientTransformation):
        return TransformOptimizer(optimizer)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise TypeError(f"optimizer={optimizer.__name__} is the class; pass an optimizer object such as "
                        f"{optimizer.__name__}(learning_rate=...), or a name like 'sgd'")
    raise TypeError(f"optimizer must be a name ({', '.join(OPTIMIZERS)}), a tg.optimizers optimizer or a "
                    f"GradientTransformation, not {type(optimizer).__name__}")


def _variables(x0: Any, fn: Callable[..., Any]) -> tuple[list[Variable], list[str]]:
    """The Variables for x0's leaves (x0's own Variables are used as they are) and their column names."""
    try:
        leaves = nest.flatten(x0)
    except TypeError:  # dict keys that do not sort together
        raise TypeError("x0's dict keys must be of one sortable kind (all strings, say), as the parameters are "
                        "taken in sorted key order, as tf.nest does") from None
    if not leaves:
        raise ValueError("x0 holds no parameters; give a number, an array, a Variable, or a list/dict of them")
    paths = _paths(x0, ())
    single = len(leaves) == 1 and not isinstance(x0, (list, tuple, dict))
    names, variables, taken = [], [], set()
    for leaf, path in zip(leaves, paths):
        name = _name(leaf, path, single, fn)
        base, i = name, 1
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names.append(name)
        variables.append(_as_variable(leaf, name))
        if variables[-1]._value.size == 0:
            raise ValueError(f"x0's {name!r} is an empty array (shape {variables[-1]._value.shape}); every parameter "
                             "needs at least one element")
    if len({id(v) for v in variables}) != len(variables):
        raise ValueError("x0 holds the same Variable twice; give each parameter once")
    return variables, names


def _paths(x: Any, path: tuple) -> list[tuple]:
    if isinstance(x, (list, tuple)):
        return [p for i, item in enumerate(x) for p in _paths(item, (*path, i))]
    if isinstance(x, dict):
        return [p for k in sorted(x) for p in _paths(x[k], (*path, k))]
    return [path]


def _name(leaf: Any, path: tuple, single: bool, fn: Callable[..., Any]) -> str:
    if isinstance(leaf, Variable) and leaf._name != "Variable":
        return leaf._name
    if single:
        return _argument_name(fn)
    first, *rest = path
    head = f"x{first}" if isinstance(first, int) else str(first)
    return ".".join([head, *map(str, rest)])


def _argument_name(fn: Callable[..., Any]) -> str:
    """The name of fn's parameter (``lambda w: ...`` gives "w"), to name a single parameter's column."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return "x"
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        return params[0].name
    return "x"


def _as_variable(leaf: Any, name: str) -> Variable:
    if isinstance(leaf, Variable):
        if leaf._value.dtype.kind != "f":
            raise TypeError(f"the Variable for {name!r} has dtype {leaf.dtype.name}; only real floating-point "
                            "Variables can be optimized: tg.Variable(1.0) or tg.Variable(np.float64(1.0))")
        if not leaf.trainable:
            raise ValueError(f"the Variable for {name!r} was made with trainable=False, so no tape watches it; "
                             "make it trainable, or pass its value instead of the Variable")
        return leaf
    value = leaf._value if isinstance(leaf, Operand) else leaf
    if isinstance(value, bool) or value is None or isinstance(value, str):
        raise TypeError(f"x0's {name!r} is {value!r}; starting values must be numbers or arrays")
    if type(value) in (int, float):
        return Variable(float(value), name=name)  # float32, TensorFlow's default float
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"x0's {name!r} has dtype {arr.dtype}; starting values must be real numbers")
    return Variable(arr, name=name)


# -- the compiled path -----------------------------------------------------------------------------

# When the Python state fn reads changes, fn is traced again if it is one of the first FREE_RETRACES
# changes, or if the trace was replayed RETRACE_AFTER times; else the rest of the run is eager, as
# tracing (and checking the trace) costs a few evaluations.
RETRACE_AFTER = 20
FREE_RETRACES = 2


class _CompiledProblem(Problem):
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
            return _to_float(loss), self._arrays(grads)
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
            self._replay, self._assigns = concrete.replay, concrete.assigns
            if self._strict:
                self.compiled, self.reason = True, None
        elif self._strict:
            raise ValueError(f"compile=True, but the function cannot be compiled: {concrete.reason}. Use "
                             "compile='auto' to run it eagerly when it cannot be compiled")
        else:
            self.reason = concrete.reason
        return _to_float(loss), self._arrays(grads)

    def _verify(self) -> tuple[float, list]:
        if self._guard is not None and self._guard() != -1:  # a callback changed it since the trace
            return self._changed()
        before = [v._value for v in self._assigns]
        loss, grads = super().value_and_grad()
        after = [v._value for v in self._assigns]
        for v, value in zip(self._assigns, before):  # the replay starts where eager code started
            v._value = value
        r_loss, r_grads = self._replay()
        same = _same(loss, _to_float(r_loss)) and all(_same(a, b) for a, b in zip(grads, self._arrays(r_grads))) \
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
        self.compiled, self._replay, self._guard = False, None, None
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


# -- the run ---------------------------------------------------------------------------------------

def _norm(grads: list) -> float:
    """The gradients' joint norm, scaled by the largest element so that finite gradients give a finite norm."""
    flat = [np.abs(np.asarray(g, dtype=np.float64)).reshape(-1) for g in grads]
    top = max((float(f.max()) for f in flat if f.size), default=0.0)
    if not 0 < top < math.inf:
        return top  # 0, or inf/NaN: a gradient that is not finite
    return top * math.sqrt(sum(float(np.vdot(f / top, f / top)) for f in flat))


def _nonfinite(loss: float, gnorm: float, values: list, scalar: list, names: list) -> str:
    """Which of loss, gradient, parameters is NaN or inf ('' when all are finite)."""
    if not math.isfinite(loss):
        return f"the loss became {loss}"
    if not math.isfinite(gnorm):
        return f"the gradient became {gnorm}"
    for v, s, name in zip(values, scalar, names):
        if not (math.isfinite(v) if s else np.isfinite(v).all()):
            return f"the parameter {name!r} became non-finite"
    return ""


def _diverged(k: int, what: str, loss: float, prev_loss: float, lr: float) -> str:
    if k == 0:
        return f"{what} at the starting point x0; check the function and x0 (e.g. a log or sqrt of a negative)"
    text = f"{what} at step {k} (the loss was {prev_loss:.6g} at step {k - 1})"
    if prev_loss < -1e100 or loss == -math.inf:
        # Falling without end is not a step-size problem: a smaller rate only takes longer to get there.
        return text + ("; the loss fell without bound: the function seems to have no minimum (it is unbounded "
                       "below), so no learning rate will help. Check its sign (minimize, not maximize?) or add a "
                       f"term that bounds it. The parameters were put back to step {k - 1}, the last finite point; "
                       "the history keeps all steps")
    if math.isfinite(lr) and lr > 0:
        text += f"; the learning rate {lr:g} is probably too large: try a smaller one, e.g. learning_rate={lr / 10:g}"
    else:
        text += "; try a smaller learning rate"
    return text + f". The parameters were put back to step {k - 1}, the last finite point; the history keeps all steps"


def _message(status: str, why: str, k: int, steps: int, loss: float) -> str:
    if status == "max_steps":
        return f"ran the {steps} steps asked for; loss {loss:.6g}"
    if status == "converged":
        return f"converged at step {k}: {why}"
    if status == "diverged":
        return f"diverged: {why}"
    return f"{why} at step {k}; the parameters are those of the last recorded step"


def _ask_callbacks(callbacks: list, info: StepInfo) -> bool:
    stop = False
    for cb in callbacks:
        try:
            stop = bool(cb(info)) or stop
        except StopIteration:
            stop = True
    return stop


# -- progress --------------------------------------------------------------------------------------

class _Bar:
    """tqdm when installed, else a one-line counter on stderr; shows step, loss and gradient norm."""

    def __init__(self, steps: int, delay: float) -> None:
        self.tqdm = None
        try:
            if _in_notebook():
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            # tqdm draws nothing on a terminal that reports its size as 0 x 0 (some containers, CI runners).
            width = {"ncols": 100, "nrows": 24} if _sizeless_terminal() else {}
            self.tqdm = tqdm(total=steps, delay=delay, unit="step", file=sys.stderr, dynamic_ncols=not width,
                             **width)
        except ImportError:
            pass
        self.steps, self.delay = steps, delay
        self.start = time.perf_counter()
        self.last_print = -math.inf
        self.printed = False

    def show(self, k: int, loss: float, gnorm: float, final: bool = False) -> None:
        text = f"loss={loss:.4g}, |g|={gnorm:.3g}"
        if self.tqdm is not None:
            self.tqdm.set_postfix_str(text, refresh=False)
            self.tqdm.update(k - self.tqdm.n)
            return
        now = time.perf_counter()
        if now - self.start >= self.delay and (final or now - self.last_print >= 0.5):
            sys.stderr.write(f"\rstep {k}/{self.steps}  {text}")
            sys.stderr.flush()
            self.last_print, self.printed = now, True

    def close(self, k: int, loss: float, gnorm: float) -> None:
        self.show(k, loss, gnorm, final=self.printed or not self.delay)
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.printed:
            sys.stderr.write("\n")


def _progress_bar(progress: bool | None, steps: int) -> _Bar | None:
    if progress is False or (progress is None and not _interactive()):
        return None
    return _Bar(steps, 0.0 if progress else 0.5)


def _interactive() -> bool:
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return _in_notebook()


def _sizeless_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.get_terminal_size(sys.stderr.fileno()).columns == 0
    except (AttributeError, OSError, ValueError):
        return False


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


__all__ = ["OPTIMIZERS", "STATUSES", "MinimizeResult", "StepInfo", "minimize"]
