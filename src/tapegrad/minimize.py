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
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import Operand, Variable
from tapegrad.history import History
from tapegrad.optimizers import (
    LBFGS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    GradientTransformation,
    LineSearchGD,
    Lion,
    Nadam,
    Newton,
    NoDescent,
    Optimizer,
    Problem,
    RMSprop,
    TransformOptimizer,
)
from tapegrad.optimizers.base import assign_value

# name -> (make the optimizer from a learning rate, the learning rate minimize uses when none is given).
# The defaults suit small problems with parameters of order 1 and a few thousand steps; the classes keep
# Keras's defaults. For the line-search methods the "learning rate" is the first trial step.
OPTIMIZERS: dict[str, tuple[Callable[[float], Optimizer], float]] = {
    "sgd": (lambda lr: SGD(lr), 0.01),
    "momentum": (lambda lr: SGD(lr, momentum=0.9), 0.01),
    "nesterov": (lambda lr: SGD(lr, momentum=0.9, nesterov=True), 0.01),
    "adam": (lambda lr: Adam(lr), 0.01),
    "adamw": (lambda lr: AdamW(lr), 0.01),
    "rmsprop": (lambda lr: RMSprop(lr), 0.01),
    "adagrad": (lambda lr: Adagrad(lr), 0.1),
    "adadelta": (lambda lr: Adadelta(lr), 1.0),
    "adamax": (lambda lr: Adamax(lr), 0.01),
    "nadam": (lambda lr: Nadam(lr), 0.01),
    "lion": (lambda lr: Lion(lr), 0.001),
    "lbfgs": (lambda lr: LBFGS(lr), 1.0),
    "newton": (lambda lr: Newton(lr), 1.0),
    "linesearch": (lambda lr: LineSearchGD(lr), 1.0),
}

STATUSES = ("converged", "max_steps", "diverged", "interrupted")
HISTORY_CHUNK = 1 << 16  # rows allocated up front at most; longer runs grow the buffers by doubling


class MinimizeResult:
    """What ``minimize`` returns.

    ``x`` (parameters at the end, with ``x0``'s structure, as NumPy values), ``fun`` (the loss
    there), ``grad``, ``steps`` (updates made), ``status`` (converged / max_steps / diverged /
    interrupted), ``message``, ``success`` (True unless it diverged or was interrupted),
    ``history`` (a ``History``), ``nfev`` (evaluations of the function) and ``optimizer``.

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, steps=10)
    >>> r.status, r.steps, r.success, len(r.history)
    ('max_steps', 10, True, 11)
    """

    def __init__(self, x: Any, fun: float, grad: Any, steps: int, status: str, message: str, history: History,
                 nfev: int, optimizer: Optimizer, fn: Callable[..., Any]) -> None:
        self.x, self.fun, self.grad, self.steps = x, fun, grad, steps
        self.status, self.message, self.history = status, message, history
        self.nfev, self.optimizer, self.fn = nfev, optimizer, fn

    @property
    def success(self) -> bool:
        return self.status in ("converged", "max_steps")

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

    @property
    def x(self) -> Any:
        """The parameters' current values, with ``x0``'s structure."""
        return nest.pack_as(self._structure, [v.numpy() for v in self._variables])


def minimize(fn: Callable[[Any], Any], x0: Any, optimizer: Any = "sgd", learning_rate: Any = None,
             steps: int = 1000, tol: float | None = None, gtol: float | None = None,
             callbacks: Iterable[Callable[[StepInfo], Any]] | Callable[[StepInfo], Any] = (),
             record: bool = True, progress: bool | None = None) -> MinimizeResult:
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
    - ``record``: keep the history (one row per point visited, from ``x0`` to the end).
    - ``progress``: a progress bar (tqdm) on stderr; None shows it on runs longer than half a
      second when stderr is a terminal or in a notebook.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, tg.Variable(np.float64(1.0)), optimizer=tg.optimizers.SGD(0.01),
    ...                 steps=10000)
    >>> r.status, r.steps, len(r.history)       # rows: the start and one per step
    ('max_steps', 10000, 10001)
    >>> r.history["w"][:3]                     # w_k = (1 - 2 * 0.01) ** k
    array([1.    , 0.98  , 0.9604])
    """
    steps = _nonnegative_int("steps", steps)
    for name, value in (("tol", tol), ("gtol", gtol)):
        if value is not None and not value >= 0:
            raise ValueError(f"{name} must be a number >= 0 (or None), got {value!r}")
    callbacks = [callbacks] if callable(callbacks) else list(callbacks)
    opt = _optimizer(optimizer, learning_rate)
    structure = x0
    variables, names = _variables(x0, fn)
    arg = nest.pack_as(structure, variables)
    problem = Problem(lambda: fn(arg), variables)
    history = History._for_run(names, [v._value for v in variables], min(steps + 1, HISTORY_CHUNK) if record else 0)
    history.fn = fn
    history._structure = structure
    bar = _progress_bar(progress, steps)

    status, why = "max_steps", ""
    k = last_k = 0
    prev_loss = lr = loss = gnorm = math.nan
    last: tuple[float, list, list] | None = None  # loss, grads, values at the last finite point (step last_k)
    scalar = [np.ndim(v._value) == 0 for v in variables]
    # The history's buffers are written here rather than through a method: on a one-parameter problem a
    # step costs a few microseconds and the recording must stay a small fraction of it.
    losses, gnorms, lrs, times, params = history._buffers()
    capacity, scalar_cols = len(losses), history._scalar_cols
    t0 = time.perf_counter()
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
                if record:
                    if k == capacity:
                        losses, gnorms, lrs, times, params = history._grow()
                        capacity = len(losses)
                    losses[k], gnorms[k], times[k] = loss, gnorm, time.perf_counter() - t0
                    if scalar_cols is not None:
                        for c, v in zip(scalar_cols, values):
                            params[k, c] = v
                    else:
                        history._write_params(k, values)
                    history._n = k + 1
                bad = _nonfinite(loss, gnorm, values, scalar, names)
                if bad:
                    status, why = "diverged", _diverged(k, bad, prev_loss, lr)
                    break
                last, last_k = (loss, grads, values), k
                if gtol is not None and gnorm <= gtol:
                    status, why = "converged", f"the gradient norm {gnorm:.3g} is <= gtol={gtol:g}"
                    break
                if tol is not None and k and abs(prev_loss - loss) <= tol * max(1.0, abs(loss), abs(prev_loss)):
                    status, why = "converged", f"the loss changed by {abs(prev_loss - loss):.3g} (tol={tol:g})"
                    break
                if callbacks and _ask_callbacks(callbacks, StepInfo(k, loss, gnorm, history, opt, variables,
                                                                    structure)):
                    status, why = "interrupted", "a callback asked to stop"
                    break
                if k == steps:
                    break
                lr = opt._step(problem, loss, grads)
                if record:
                    lrs[k] = lr
                prev_loss = loss
                k += 1
                if bar is not None and not k & 31:
                    bar.show(k, loss, gnorm)
        except KeyboardInterrupt:
            status, why = "interrupted", "interrupted (KeyboardInterrupt)"
        except NoDescent as e:
            status, why = "converged", str(e)
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
    history._final = list(values_end)
    x = nest.pack_as(structure, [v.numpy() for v in variables])
    grad = nest.pack_as(structure, [np.array(g, copy=True)[()] if np.ndim(g) == 0 else np.array(g, copy=True)
                                    for g in grads_end])
    steps_done = last_k if status == "interrupted" else k
    message = _message(status, why, steps_done, steps, loss_end)
    history.meta.update(status=status, message=message, optimizer=type(opt).__name__, config=opt.get_config())
    return MinimizeResult(x, loss_end, grad, steps_done, status, message, history, problem.nfev, opt, fn)


# -- set-up ----------------------------------------------------------------------------------------

def _nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


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
    leaves = nest.flatten(x0)
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


# -- the run ---------------------------------------------------------------------------------------

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


def _diverged(k: int, what: str, prev_loss: float, lr: float) -> str:
    if k == 0:
        return f"{what} at the starting point x0; check the function and x0 (e.g. a log or sqrt of a negative)"
    text = f"{what} at step {k} (the loss was {prev_loss:.6g} at step {k - 1})"
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
            self.tqdm = tqdm(total=steps, delay=delay, unit="step", file=sys.stderr, dynamic_ncols=True)
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


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


__all__ = ["OPTIMIZERS", "STATUSES", "MinimizeResult", "StepInfo", "minimize"]
