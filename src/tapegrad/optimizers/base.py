"""Optimizers as pure update rules (optax's ``init``/``update`` pairs), and what every optimizer shares.

A ``GradientTransformation`` turns gradients into updates and threads its own state:

>>> import numpy as np
>>> import tapegrad as tg
>>> opt = tg.optimizers.sgd(learning_rate=0.1)
>>> params = np.array([1.0, -2.0])
>>> state = opt.init(params)
>>> updates, state = opt.update(2 * params, state)      # the gradient of sum(params**2)
>>> tg.optimizers.apply_updates(params, updates)
array([ 0.8, -1.6])
"""
from __future__ import annotations

import inspect
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tapegrad import ops
from tapegrad._core import nest
from tapegrad._core.tensor import Operand, Variable
from tapegrad.tape import GradientTape

from . import schedules
from .schedules import LearningRateSchedule


class GradientTransformation(NamedTuple):
    """An optimizer as two pure functions: ``init(params)`` gives a state, ``update(grads, state, params)``
    gives ``(updates, new_state)``.

    ``params`` and ``grads`` are arrays, or lists/tuples/dicts of them; ``updates`` has the
    gradients' structure and is added to the parameters by ``apply_updates``.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adam(0.1)
    >>> state = opt.init({"w": np.zeros(2)})
    >>> updates, state = opt.update({"w": np.array([1.0, -1.0])}, state)
    >>> np.round(updates["w"], 6)
    array([-0.1,  0.1])
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply several transformations one after the other, each with its own state.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.chain(tg.optimizers.clip(1.0), tg.optimizers.sgd(0.1))
    >>> updates, _ = opt.update(np.array([5.0, -0.5]), opt.init(np.zeros(2)))
    >>> updates
    array([-0.1 ,  0.05])
    """
    for t in transforms:
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain() takes GradientTransformations (tg.optimizers.sgd(...), clip(...), ...), "
                            f"not {type(t).__name__}")

    def init(params: Any) -> tuple:
        return tuple(t.init(params) for t in transforms)

    def update(updates: Any, state: tuple, params: Any = None) -> tuple[Any, tuple]:
        if len(state) != len(transforms):
            raise ValueError(f"this chain has {len(transforms)} transformations but the state has {len(state)} "
                             "parts; pass the state that this chain's init() returned")
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def apply_updates(params: Any, updates: Any) -> Any:
    """``params + updates``, leaf by leaf, in each parameter's dtype.

    Arrays give new arrays; a Variable is updated in place (and returned).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> tg.optimizers.apply_updates([np.float32(1.0)], [0.5])
    [np.float32(1.5)]
    """
    leaves, deltas = nest.flatten(params), nest.flatten(updates)
    if len(leaves) != len(deltas):
        raise ValueError(f"apply_updates: {len(leaves)} parameters but {len(deltas)} updates; "
                         "give one update per parameter")
    out = []
    for p, u in zip(leaves, deltas):
        if isinstance(p, Variable):
            check_variable(p)
            assign_value(p, p._value + as_array(u, p._value.dtype))
            out.append(p)
        else:
            p = as_array(p)
            if p.dtype.kind != "f":  # p + u cast to an integer dtype would drop the update
                raise TypeError(f"apply_updates: a parameter has dtype {p.dtype}; only floating-point parameters "
                                "can be updated, e.g. np.array([1, 2], dtype=float)")
            out.append(p + as_array(u, p.dtype))
    return nest.pack_as(params, out)


def as_array(x: Any, dtype: Any = None) -> Any:
    """A NumPy array (or NumPy scalar) for a tensor, array or number, cast to ``dtype`` if given.

    Anything else (None, a string, an object) is a TypeError whose message continues a sentence
    naming the value, e.g. "the gradient for Variable 'w' " + message.

    >>> from tapegrad.optimizers.base import as_array
    >>> as_array(2, "float32")
    array(2., dtype=float32)
    """
    if isinstance(x, Operand):
        x = x._value
    elif not isinstance(x, (np.ndarray, np.generic)):
        # Converted without a dtype first: np.asarray(x, float) would read "1.0" as 1.0 and None as NaN,
        # and neither is a gradient anyone meant.
        try:
            a = np.asarray(x)
        except (TypeError, ValueError):
            raise TypeError(_not_numbers(x)) from None
        if a.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
        target = np.float64 if dtype is None else dtype
        return a if a.dtype == target else a.astype(target)
    if dtype is None:
        if x.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
    elif x.dtype != dtype:  # an array already in a Variable's float dtype needs no kind check
        if x.dtype.kind not in "fiub":
            raise TypeError(_not_numbers(x))
        x = x.astype(dtype)
    return x


def _not_numbers(x: Any) -> str:
    shown = "None" if x is None else f"{type(x).__name__} {x!r:.60}"
    return f"is {shown}, not a number, array or tensor of real numbers"


def variable_list(var_list: Any) -> list:
    """``var_list`` as a list: a list or tuple of Variables, a function returning one, or a single Variable.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> from tapegrad.optimizers.base import variable_list
    >>> variable_list(w) == [w], variable_list(lambda: [w]) == [w]
    (True, True)
    """
    if callable(var_list) and not isinstance(var_list, Operand):
        var_list = var_list()
    if isinstance(var_list, Variable):  # as tf.nest.flatten in TF2's minimize: one Variable is a list of one
        return [var_list]
    if isinstance(var_list, Operand) or not isinstance(var_list, Iterable):
        raise TypeError(f"var_list must be a list of Variables, got {type(var_list).__name__}; e.g. "
                        "opt.minimize(loss_fn, [w, b])")
    var_list = list(var_list)
    for v in var_list:
        check_variable(v)
    return var_list


def check_variable(v: Any) -> None:
    """Raise the error for something that is not a Variable an optimizer can update (a float Variable)."""
    if not isinstance(v, Variable):
        raise TypeError(f"optimizers update tg.Variable objects, not {type(v).__name__}; make the parameter a "
                        "Variable: w = tg.Variable(1.0)")
    if v._value.dtype.kind != "f":
        raise TypeError(f"Variable '{v.name}' has dtype {v.dtype.name}; only real floating-point Variables can "
                        "be optimized. Create it from a float, e.g. tg.Variable(1.0)")


def assign_value(var: Variable, value: Any) -> None:
    """Give ``var`` a new value computed from its old one (same shape and dtype).

    Optimizers make a new array on every update and never write into the old one, as
    ``Variable.assign`` does, so tensors read earlier keep their values. Writing the
    attribute directly skips ``assign``'s conversions, which cost more than the update itself
    on small problems.
    """
    var._value = value


class LearningRate:
    """A learning rate that is a number or a schedule, read at a given step as a Python float.

    A schedule's value is checked at every step (a NaN, a negative rate or a string would
    otherwise surface as a diverged run or a NumPy error far from its cause).

    >>> from tapegrad.optimizers.base import LearningRate
    >>> LearningRate(lambda step: 0.5 ** step).at(3)
    0.125
    """

    __slots__ = ("value", "schedule", "takes_step")

    def __init__(self, learning_rate: Any) -> None:
        self.schedule: Callable[..., Any] | None = None
        self.takes_step = True
        self.value = 0.0
        if isinstance(learning_rate, type):
            raise TypeError(_class_given(learning_rate))
        if isinstance(learning_rate, LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, Operand)):
            self.schedule = learning_rate
            self.takes_step = isinstance(learning_rate, LearningRateSchedule) or _takes_argument(learning_rate)
            return
        try:
            if isinstance(learning_rate, (str, bytes, bool)):  # float() would read "0.1" and True as numbers
                raise TypeError
            value = float(learning_rate)
        except (TypeError, ValueError):
            raise TypeError(f"learning_rate must be a number or a schedule (a callable of the step, e.g. "
                            f"tg.optimizers.schedules.ExponentialDecay(...)), not {learning_rate!r}") from None
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"learning_rate must be a finite number >= 0, got {learning_rate!r}")
        self.value = value

    def at(self, step: int) -> float:
        """The rate for update ``step`` (counting from 0); a schedule's value must be a finite number >= 0."""
        if self.schedule is None:
            return self.value
        rate = self.schedule(step) if self.takes_step else self.schedule()
        if type(rate) is not float:  # the built-in schedules return floats: the check below is all they pay
            rate = self._as_float(rate, step)
        if not 0.0 <= rate <= _LARGEST:
            raise ValueError(f"the learning-rate schedule {self._name()} gave {rate} at step {step}; a learning "
                             "rate must be a finite number >= 0")
        return rate

    def _as_float(self, rate: Any, step: int) -> float:
        value = rate._value if isinstance(rate, Operand) else rate
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            shown = "None" if rate is None else f"{type(rate).__name__} {rate!r}"
            raise TypeError(f"the learning-rate schedule {self._name()} returned {shown} at step {step}; it must "
                            "return a number")
        return float(value)

    def _name(self) -> str:
        s = self.schedule
        return type(s).__name__ if isinstance(s, LearningRateSchedule) else getattr(s, "__qualname__", repr(s))

    def config(self) -> Any:
        """A number, a schedule as ``{"class_name": ..., "config": ...}`` (Keras's form), or a callable's repr."""
        if self.schedule is None:
            return self.value
        if isinstance(self.schedule, LearningRateSchedule):
            return {"class_name": type(self.schedule).__name__, "config": self.schedule.get_config()}
        return repr(self.schedule)

    @staticmethod
    def from_config(config: Any, custom_objects: dict[str, type] | None = None) -> Any:
        """The ``learning_rate`` argument that ``config()`` describes: a number or a rebuilt schedule.

        >>> import tapegrad as tg
        >>> from tapegrad.optimizers.base import LearningRate
        >>> LearningRate.from_config({"class_name": "InverseTimeDecay",
        ...                           "config": {"initial_learning_rate": 1.0, "decay_steps": 1, "decay_rate": 1.0}})(1)
        0.5
        """
        if isinstance(config, str):
            raise ValueError(f"this config's learning_rate is {config}, a function's repr, which a config cannot "
                             "rebuild; pass the function again: from_config({**config, 'learning_rate': fn})")
        if not isinstance(config, dict):
            return config
        name = config.get("class_name")
        known = {n: getattr(schedules, n) for n in schedules.__all__} | dict(custom_objects or {})
        cls = known.get(name)
        if not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
            raise ValueError(f"unknown learning-rate schedule {name!r} in the config; for a schedule of your own, "
                             f"pass custom_objects={{{name!r}: {name}}}")
        return cls.from_config(config.get("config", {}))


_LARGEST = sys.float_info.max  # `0 <= rate <= _LARGEST` is False for NaN, inf and negatives alike


def _class_given(cls: type) -> str:
    if issubclass(cls, LearningRateSchedule):
        return (f"learning_rate={cls.__name__} is the schedule class; pass an instance, {cls.__name__}(...) with "
                "its arguments, e.g. ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)")
    return f"learning_rate must be a number or a schedule instance, not the class {cls.__name__}"


def _takes_argument(fn: Callable[..., Any]) -> bool:
    """Keras also accepts a learning rate callable of no argument; tell the two kinds apart."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    for args, takes in (((0,), True), ((), False)):
        try:
            sig.bind(*args)
            return takes
        except TypeError:
            pass
    raise TypeError(f"a learning-rate callable takes the step (one argument) or no argument; "
                    f"{getattr(fn, '__qualname__', 'this one')}{sig} takes neither")


class NoDescent(Exception):
    """Raised by a line-search optimizer that cannot lower the loss any further (the message says why).

    ``opt.minimize`` and ``tg.minimize`` catch it (the latter reports it as convergence); it
    reaches you only from an optimizer's internal ``_step``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(0.0)
    >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
    >>> opt = tg.optimizers.Newton()
    >>> try:
    ...     opt._step(p, *p.value_and_grad())
    ... except tg.optimizers.NoDescent as e:
    ...     print(e)
    the gradient is exactly zero and the Hessian is positive definite: a minimum
    """


class Problem:
    """A loss as a function of Variables, evaluated the ways optimizers need.

    ``loss_fn`` takes no argument and computes the loss from ``variables``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(3.0)
    >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
    >>> loss, grads = p.value_and_grad()
    >>> loss, grads[0]
    (9.0, np.float32(6.0))
    """

    def __init__(self, loss_fn: Callable[[], Any], variables: Sequence[Variable]) -> None:
        self.loss_fn = loss_fn
        self.variables = list(variables)
        for v in self.variables:
            check_variable(v)
        self.nfev = 0
        self._zeros = [np.zeros_like(v._value) for v in self.variables]
        self._checked = False

    def value_and_grad(self) -> tuple[float, list]:
        """The loss as a float and its gradient for each variable (arrays; zeros where unconnected).

        >>> import tapegrad as tg
        >>> w, b = tg.Variable(2.0), tg.Variable(1.0)
        >>> loss, (dw, db) = tg.optimizers.Problem(lambda: w ** 2, [w, b]).value_and_grad()
        >>> loss, float(dw), float(db)       # b is not in the loss: its gradient is zero
        (4.0, 4.0, 0.0)
        """
        with GradientTape() as tape:
            loss = self.loss_fn()
        if not self._checked:
            self._check(loss)
        grads = tape.gradient(loss, self.variables)
        self.nfev += 1
        if not self._checked:
            self._check_grads(grads)
        return _to_float(loss), [z if g is None else g._value for g, z in zip(grads, self._zeros)]

    def value(self) -> float:
        """The loss at the Variables' current values, without recording anything.

        >>> import tapegrad as tg
        >>> w = tg.Variable(3.0)
        >>> tg.optimizers.Problem(lambda: w ** 2, [w]).value()
        9.0
        """
        self.nfev += 1
        loss = self.loss_fn()
        return _to_float(loss) if isinstance(loss, Operand) else float(loss)

    def hessian(self) -> Any:
        """The Hessian of the loss over all variables, flattened and concatenated: a float64 (n, n) array.

        >>> import tapegrad as tg
        >>> x, y = tg.Variable(1.0), tg.Variable(2.0)
        >>> tg.optimizers.Problem(lambda: x ** 2 * y, [x, y]).hessian()
        array([[4., 2.],
               [2., 0.]])
        """
        with GradientTape() as outer:
            with GradientTape() as inner:
                loss = self.loss_fn()
            grads = inner.gradient(loss, self.variables, unconnected_gradients="zero")
            flat = ops.concat([ops.reshape(ops.cast(g, "float64"), [-1]) for g in grads], 0)
        self.nfev += 1
        rows = outer.jacobian(flat, self.variables, unconnected_gradients="zero")
        n = flat.shape[0]
        return np.concatenate([np.asarray(r._value, dtype=np.float64).reshape(n, -1) for r in rows], axis=1)

    def values(self) -> list:
        """The Variables' current values (their arrays, not copies: optimizers never write into them).

        >>> import tapegrad as tg
        >>> w = tg.Variable([1.0, 2.0])
        >>> tg.optimizers.Problem(lambda: tg.reduce_sum(w), [w]).values()
        [array([1., 2.], dtype=float32)]
        """
        return [v._value for v in self.variables]

    def set_values(self, values: Sequence[Any]) -> None:
        """Put back values taken with ``values()`` (same shapes and dtypes; they are not converted).

        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0)
        >>> p = tg.optimizers.Problem(lambda: w ** 2, [w])
        >>> saved = p.values(); _ = w.assign(5.0); p.set_values(saved); w.numpy()
        np.float32(1.0)
        """
        for v, x in zip(self.variables, values):
            assign_value(v, x)

    def get_flat(self) -> Any:
        """All variables' values as one float64 vector.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> a, b = tg.Variable(1.0), tg.Variable(np.array([2.0, 3.0]))
        >>> tg.optimizers.Problem(lambda: a + tg.reduce_sum(b), [a, b]).get_flat()
        array([1., 2., 3.])
        """
        return np.concatenate([np.asarray(v._value, dtype=np.float64).reshape(-1) for v in self.variables])

    def set_flat(self, x: Any) -> None:
        """Set the variables from one vector in ``get_flat``'s order, each cast back to its shape and dtype.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> a, b = tg.Variable(1.0), tg.Variable(np.array([2.0, 3.0]))
        >>> p = tg.optimizers.Problem(lambda: a + tg.reduce_sum(b), [a, b])
        >>> p.set_flat(np.array([7.0, 8.0, 9.0])); a.numpy(), b.numpy()
        (np.float32(7.0), array([8., 9.]))
        """
        i = 0
        for v in self.variables:
            old = v._value
            n = old.size
            new = x[i:i + n].reshape(old.shape).astype(old.dtype)
            assign_value(v, new if new.ndim else new[()])
            i += n

    def flatten(self, arrays: Sequence[Any]) -> Any:
        """Per-variable arrays (e.g. gradients) as one float64 vector, in the order of ``get_flat``.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0)
        >>> tg.optimizers.Problem(lambda: w ** 2, [w]).flatten([np.float32(2.0), np.ones((1, 2))])
        array([2., 1., 1.])
        """
        return np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])

    def _check(self, loss: Any) -> None:
        if not isinstance(loss, Operand):
            raise TypeError(
                f"the loss function returned {type(loss).__name__} {loss!r}, not a tensor computed from the "
                "parameters. Compute it with tapegrad operations on the Variables it receives (x ** 2, "
                "tg.sin(x), np.exp(x) ...); float(), .numpy() or np.asarray() cut the gradient")
        v = loss._value
        if v.dtype.kind != "f":
            raise TypeError(f"the loss must be a real floating-point scalar; got dtype {loss.dtype.name}")
        if v.size != 1:
            raise ValueError(f"the loss must be a scalar, but it has shape {tuple(v.shape)}; reduce it, e.g. "
                             "tg.reduce_sum(...) or tg.reduce_mean(...)")

    def _check_grads(self, grads: list) -> None:
        self._checked = True
        if all(g is None for g in grads):
            names = ", ".join(v.name for v in self.variables)
            raise ValueError(
                f"the loss does not depend on the parameters ({names}): every gradient is None. Compute it from "
                "the Variables the function receives, with tapegrad operations; a value taken out with float(), "
                ".numpy() or np.asarray() is a constant to the tape")


def _to_float(loss: Any) -> float:
    v = loss._value
    return float(v) if v.ndim == 0 else float(v.reshape(()))


__all__ = ["GradientTransformation", "LearningRate", "NoDescent", "Problem", "apply_updates", "as_array",
           "assign_value", "chain", "check_variable", "variable_list"]
