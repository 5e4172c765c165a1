"""What every optimizer object has (``Optimizer``: a learning rate, ``iterations``, ``minimize``, a config),
and ``TransformOptimizer``, the object around a pure transformation.

>>> import tapegrad as tg
>>> w = tg.Variable(1.0)
>>> opt = tg.optimizers.TransformOptimizer(tg.optimizers.sgd(0.25))
>>> opt.minimize(lambda: w ** 2, [w]), float(w.numpy()), int(opt.iterations)
(1.0, 0.5, 1)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tapegrad._core.tensor import Operand, Variable
from tapegrad.tape import GradientTape

from .learning_rate import LearningRate
from .problem import Problem
from .variables import as_array, assign_value, variable_list


class Optimizer:
    """What every tapegrad optimizer has: a learning rate (number or schedule), ``iterations``, ``minimize``.

    Subclasses define ``_step(problem, loss, grads)``, one update of ``problem.variables``
    given the loss and gradients there, returning the step size it used.

    >>> import tapegrad as tg
    >>> opt = tg.optimizers.Adam(learning_rate=0.01)
    >>> opt.learning_rate, opt.name
    (0.01, 'adam')
    """

    def __init__(self, learning_rate: Any, name: str | None = None) -> None:
        self.name = name if name is not None else type(self).__name__.lower()
        self._lr = LearningRate(learning_rate)
        self._iterations = Variable(np.int64(0), trainable=False, name="iteration")

    @property
    def iterations(self) -> Variable:
        """How many updates this optimizer has made (an int64 Variable, as in Keras).

        >>> import tapegrad as tg
        >>> opt = tg.optimizers.SGD(0.1)
        >>> _ = opt.apply_gradients([(1.0, tg.Variable(1.0))])
        >>> int(opt.iterations), opt.iterations.dtype
        (1, tf.int64)
        """
        return self._iterations

    @property
    def learning_rate(self) -> float:
        """The learning rate for the next update (a schedule is evaluated at ``iterations``); assignable.

        >>> import tapegrad as tg
        >>> opt = tg.optimizers.SGD(tg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
        >>> _ = opt.apply_gradients([(1.0, tg.Variable(1.0))])
        >>> opt.learning_rate                 # the schedule at step 1
        0.05
        >>> opt.learning_rate = 0.01; opt.learning_rate
        0.01
        """
        return self._lr.at(int(self._iterations._value))

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._lr = LearningRate(value)

    def get_config(self) -> dict[str, Any]:
        """The optimizer's settings as a plain dict.

        >>> import tapegrad as tg
        >>> tg.optimizers.SGD(0.1, momentum=0.9).get_config()["momentum"]
        0.9
        """
        return {"name": self.name, "learning_rate": self._lr.config()}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None) -> Optimizer:
        """The optimizer that ``get_config()`` describes, with a schedule rebuilt (Keras's API).

        ``custom_objects`` maps the class names of your own schedules to the classes.

        >>> import tapegrad as tg
        >>> opt = tg.optimizers.Adam(tg.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), beta_1=0.8)
        >>> again = tg.optimizers.Adam.from_config(opt.get_config())
        >>> again.get_config() == opt.get_config()
        True
        """
        config = dict(config)
        if "learning_rate" in config:
            config["learning_rate"] = LearningRate.from_config(config["learning_rate"], custom_objects)
        return cls(**config)

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> float:
        """One update of ``var_list`` to lower ``loss`` (a function of no argument); returns the loss before it.

        ``var_list`` is a list of Variables (one Variable, or a function returning the list, is
        accepted too). Or pass the loss as a tensor with the ``tape`` that recorded it. As in
        TensorFlow, a non-scalar loss is summed: its gradient is that of the sum, and the sum
        (a float) is returned. A loss that cannot be read fails before any Variable changes.
        The line-search optimizers need a scalar loss, as they compare its values.

        >>> import tapegrad as tg
        >>> w = tg.Variable(1.0)
        >>> opt = tg.optimizers.SGD(0.25)
        >>> opt.minimize(lambda: w ** 2, [w]), w.numpy()
        (1.0, np.float32(0.5))
        >>> opt.minimize(lambda: tg.stack([w, w]) ** 2, w), w.numpy()    # the sum: 0.25 + 0.25
        (0.5, np.float32(0.0))
        """
        raise NotImplementedError

    def _gradients(self, loss: Any, var_list: Any, tape: GradientTape | None) -> tuple[float, list, list]:
        """``minimize``'s loss as a float (summed if it is not a scalar), gradients and Variables, before any update."""
        var_list = variable_list(var_list)
        if callable(loss):
            with GradientTape() as tape:
                tape.watch(var_list)
                loss = loss()
        elif tape is None:
            raise ValueError("minimize() got a tensor as the loss without the tape that recorded it; pass "
                             "tape=..., or pass the loss as a function of no argument: lambda: ...")
        value = _loss_value(loss)
        return value, tape.gradient(loss, var_list), var_list

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class TransformOptimizer(Optimizer):
    """An optimizer object around a ``GradientTransformation`` (e.g. a ``chain``), so ``tg.minimize`` can run it.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.TransformOptimizer(tg.optimizers.sgd(0.25))
    >>> _ = opt.minimize(lambda: w ** 2, [w]); float(w.numpy())
    0.5
    """

    def __init__(self, transform: Any, name: str = "transform") -> None:
        super().__init__(0.0, name)
        self.transform = transform
        self._state: Any = None
        self._variables: list = []

    @property
    def learning_rate(self) -> float:
        """NaN: the transformation keeps its own learning rate.

        >>> import tapegrad as tg
        >>> tg.optimizers.TransformOptimizer(tg.optimizers.sgd(0.1)).learning_rate
        nan
        """
        return float("nan")

    def get_config(self) -> dict[str, Any]:
        """Only the name: the transformation is a pair of functions, which a config cannot hold.

        >>> import tapegrad as tg
        >>> tg.optimizers.TransformOptimizer(tg.optimizers.sgd(0.1)).get_config()
        {'name': 'transform'}
        """
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None) -> Optimizer:
        """Not available: a config cannot hold the transformation; build it again with ``TransformOptimizer(...)``.

        >>> import tapegrad as tg
        >>> tg.optimizers.TransformOptimizer.from_config({"name": "transform"})
        Traceback (most recent call last):
        TypeError: a TransformOptimizer's config has no transformation ...
        """
        raise TypeError("a TransformOptimizer's config has no transformation (a pair of functions) to rebuild; "
                        "make it again: TransformOptimizer(tg.optimizers.chain(...), name=...)")

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> float:
        value, grads, var_list = self._gradients(loss, var_list, tape)
        if all(g is None for g in grads):
            raise ValueError("No gradients provided for any variable: every gradient is None. Check that the "
                             "loss is computed from these Variables")
        # A transformation needs every leaf: an unconnected Variable gets a zero gradient, as in tg.minimize.
        arrays = [np.zeros_like(v._value) if g is None else g._value for g, v in zip(grads, var_list)]
        self._transform_step(var_list, arrays)
        return value

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        return self._transform_step(problem.variables, grads)

    def _transform_step(self, variables: list, grads: list) -> float:
        values = [v._value for v in variables]
        state = self._state
        if state is None or [id(v) for v in variables] != self._variables:
            state = self.transform.init(values)
        updates, state = self.transform.update(grads, state, values)
        new = [v._value + as_array(u, v._value.dtype) for v, u in zip(variables, updates)]
        # Only now that the transformation has succeeded does anything change.
        self._state, self._variables = state, [id(v) for v in variables]
        for v, value in zip(variables, new):
            assign_value(v, value)
        assign_value(self._iterations, np.int64(int(self._iterations._value) + 1))
        return float("nan")


def _loss_value(loss: Any) -> float:
    """The loss as a float; a non-scalar loss is summed, as ``tape.gradient`` sums it."""
    v = loss._value if isinstance(loss, Operand) else np.asarray(loss)
    if v.dtype.kind not in "fiu":
        raise TypeError(f"the loss must be a real number tensor, got {type(loss).__name__} {loss!r:.60}; compute "
                        "it with tapegrad operations on the Variables")
    return float(v) if v.ndim == 0 else float(v.sum())


__all__ = ["Optimizer", "TransformOptimizer"]
