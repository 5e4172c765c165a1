"""Keras-style optimizer objects: ``SGD``, ``Adam``, ... with ``apply_gradients`` and ``minimize``.

They hold the state the pure rules thread by hand (one set of slots per Variable, an
``iterations`` counter) and update Variables in place, as ``tf.keras.optimizers`` does:

>>> import tapegrad as tg
>>> w = tg.Variable(1.0)
>>> opt = tg.optimizers.SGD(learning_rate=0.1)
>>> with tg.GradientTape() as tape:
...     loss = w ** 2
>>> _ = opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
>>> w.numpy(), int(opt.iterations)
(np.float32(0.8), 1)
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from tapegrad._core.tensor import Operand, Variable
from tapegrad.tape import GradientTape

from . import _checks as C
from . import rules as R
from .base import LearningRate, Problem, as_array, assign_value, check_variable, variable_list
from .transforms import clip_global_norm, clip_norm, clip_value

_PAIRS = "apply_gradients takes (gradient, variable) pairs, e.g. zip(grads, vars)"
_KERAS_ONLY = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
               "gradient_accumulation_steps": None}


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


class _RuleOptimizer(Optimizer):
    """A first-order optimizer running one of the rules in ``tapegrad.optimizers.rules``."""

    def __init__(self, rule: R.Rule, learning_rate: Any, weight_decay: float | None, clipnorm: float | None,
                 clipvalue: float | None, global_clipnorm: float | None, name: str | None,
                 kwargs: dict[str, Any]) -> None:
        super().__init__(learning_rate, name)
        for key, value in kwargs.items():
            if key not in _KERAS_ONLY:
                raise TypeError(f"{type(self).__name__}() got an unexpected argument {key!r}")
            if value != _KERAS_ONLY[key]:
                raise ValueError(f"{type(self).__name__}({key}=...) is a Keras feature tapegrad does not have; "
                                 "leave it out")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be set; got clipnorm="
                             f"{clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        # The transformations' own checks (clip(-1) says "max_delta must be > 0"): Keras ignores a limit <= 0,
        # but a negative one here would turn the clipped step uphill.
        clipnorm, clipvalue, global_clipnorm = (C.optional(n, c, 0, open_low=True) for n, c in (
            ("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)))
        self._rule = rule
        self._extra = rule.extra0
        self._slots: dict[int, list] = {}  # id(variable) -> [variable, slots]
        self.weight_decay = C.optional("weight_decay", weight_decay, 0)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self._clip: Callable[[list], list] | None = None
        if clipnorm:
            self._clip = lambda gs: [clip_norm(g, clipnorm) for g in gs]
        elif global_clipnorm:
            self._clip = lambda gs: clip_global_norm(gs, global_clipnorm)
        elif clipvalue:
            self._clip = lambda gs: [clip_value(g, clipvalue) for g in gs]
        self._no_decay_ids: set[int] = set()
        self._no_decay_pattern: re.Pattern | None = None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._rule.config())
        config.update(weight_decay=self.weight_decay, clipnorm=self.clipnorm, clipvalue=self.clipvalue,
                      global_clipnorm=self.global_clipnorm)
        return config

    # -- Keras API -----------------------------------------------------------------------------
    def build(self, var_list: Iterable[Variable]) -> None:
        """Create the optimizer's slots for these Variables now (they are also made on first use).

        >>> import tapegrad as tg
        >>> w = tg.Variable([1.0, 2.0])
        >>> opt = tg.optimizers.Adam(); opt.build([w])
        >>> opt.get_slot(w, "velocity")
        array([0., 0.], dtype=float32)
        """
        for v in var_list:
            self._entry(v)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Variable:
        """Update each Variable with its gradient: ``opt.apply_gradients(zip(grads, variables))``.

        A ``None`` gradient is skipped with a warning, as in Keras. Returns ``iterations``.

        >>> import tapegrad as tg
        >>> w = tg.Variable(2.0)
        >>> _ = tg.optimizers.SGD(0.5).apply_gradients([(1.0, w)])
        >>> w.numpy()
        np.float32(1.5)
        """
        try:
            pairs = list(grads_and_vars)
        except TypeError:
            raise TypeError(_PAIRS + f"; got {type(grads_and_vars).__name__}") from None
        if not pairs:
            return self._iterations
        for p in pairs:
            if type(p) is not tuple or len(p) != 2:  # zip gives tuples: one check per pair is all it costs
                if not (isinstance(p, (tuple, list)) and len(p) == 2):
                    raise TypeError(_PAIRS + f"; got an item {type(p).__name__} {p!r:.60}")
        grads, variables = zip(*pairs)
        self._apply(grads, variables)
        return self._iterations

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Variable]) -> None:
        """Update ``trainable_variables`` with ``grads`` (same order): Keras 3's ``apply``.

        >>> import tapegrad as tg
        >>> w = tg.Variable(2.0)
        >>> tg.optimizers.SGD(0.5).apply([1.0], [w]); w.numpy()
        np.float32(1.5)
        """
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables; give one per variable")
        self._apply(grads, variables)

    def _apply(self, grads: Sequence[Any], variables: Sequence[Any]) -> None:
        """``apply`` for sequences of one length: every input is checked before any Variable changes."""
        arrays, used, missing = [], [], []
        for g, v in zip(grads, variables):
            if not isinstance(v, Variable) or v._value.dtype.kind != "f":
                check_variable(v)  # an int Variable would silently have become float64
            if g is None:
                missing.append(v.name)
                continue
            try:
                a = as_array(g, v._value.dtype)
            except TypeError as e:
                raise TypeError(f"the gradient for Variable '{v.name}' {e}") from None
            if a.shape != v._value.shape:
                raise ValueError(f"the gradient for Variable '{v.name}' has shape {tuple(a.shape)}, but the "
                                 f"Variable has shape {tuple(v._value.shape)}")
            arrays.append(a)
            used.append(v)
        if not arrays:
            raise ValueError("No gradients provided for any variable: every gradient is None. Check that the "
                             "loss is computed from these Variables inside the GradientTape")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss; they are "
                          "left unchanged", stacklevel=3)
        self._update(arrays, used)

    def minimize(self, loss: Any, var_list: Any, tape: GradientTape | None = None) -> float:
        value, grads, var_list = self._gradients(loss, var_list, tape)
        self._apply(grads, var_list)
        return value

    def exclude_from_weight_decay(self, var_list: Iterable[Variable] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Leave these Variables (or those whose name contains one of ``var_names``) out of weight decay.

        >>> import tapegrad as tg
        >>> b = tg.Variable(1.0, name="bias")
        >>> opt = tg.optimizers.AdamW(0.1, weight_decay=0.5)
        >>> opt.exclude_from_weight_decay(var_names=["bias"])
        >>> _ = opt.apply_gradients([(0.0, b)]); b.numpy()
        np.float32(1.0)
        """
        self._no_decay_ids = {id(v) for v in var_list or ()}
        names = [re.escape(n) for n in var_names or ()]
        self._no_decay_pattern = re.compile("|".join(names)) if names else None

    def get_slot_names(self) -> list[str]:
        """Names of the per-Variable state this optimizer keeps (Adam: momentum, velocity).

        >>> import tapegrad as tg
        >>> tg.optimizers.Adam().get_slot_names()
        ['momentum', 'velocity']
        """
        return list(self._rule.slot_names)

    def get_slot(self, var: Variable, slot_name: str) -> Any:
        """A copy of one slot of ``var`` (e.g. Adam's ``"momentum"``), to look inside the optimizer.

        >>> import tapegrad as tg
        >>> w = tg.Variable(0.0)
        >>> opt = tg.optimizers.SGD(0.1, momentum=0.9)
        >>> _ = opt.apply_gradients([(1.0, w)]); _ = opt.apply_gradients([(1.0, w)])
        >>> round(float(opt.get_slot(w, "momentum")), 6)    # 0.9 * -0.1 - 0.1
        -0.19
        """
        names = self._rule.slot_names
        if slot_name not in names:
            raise KeyError(f"{type(self).__name__} has no slot {slot_name!r}; its slots are {list(names)}")
        entry = self._slots.get(id(var))
        if entry is None:  # Keras raises too; making slots here would give the Variable state it never had
            raise ValueError(f"{type(self).__name__} has no slots for {getattr(var, 'name', type(var).__name__)!r}: "
                             "it has not updated this Variable yet. Apply a gradient to it first, or make its "
                             "slots with opt.build([var])")
        return np.array(entry[1][names.index(slot_name)], copy=True)

    # -- the update ----------------------------------------------------------------------------
    def _entry(self, v: Variable) -> list:
        entry = self._slots.get(id(v))
        if entry is None:
            if not isinstance(v, Variable):
                raise TypeError(f"optimizers keep state for tg.Variable objects, not {type(v).__name__}")
            entry = self._slots[id(v)] = [v, self._rule.init(v._value)]
        return entry

    def _decays(self, v: Variable) -> bool:
        if id(v) in self._no_decay_ids:
            return False
        return self._no_decay_pattern is None or self._no_decay_pattern.search(v.name) is None

    def _update(self, grads: list, variables: list) -> float:
        """One step from gradient arrays already in each Variable's dtype and shape; returns the learning rate."""
        step = int(self._iterations._value)
        lr = self._lr.at(step)
        if self._clip is not None:
            grads = self._clip(grads)
        if self.weight_decay:
            wd = self.weight_decay
            for v in variables:
                if self._decays(v):
                    assign_value(v, v._value - v._value * wd * lr)
        ctx, self._extra = self._rule.prepare(step, lr, self._extra)
        leaf, slots = self._rule.leaf, self._slots
        for g, v in zip(grads, variables):
            entry = slots.get(id(v)) or self._entry(v)
            delta, entry[1] = leaf(g, entry[1], ctx)
            assign_value(v, v._value + delta)
        assign_value(self._iterations, np.int64(step + 1))
        return lr

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        return self._update(grads, problem.variables)


class SGD(_RuleOptimizer):
    """Gradient descent: ``w -= lr * g``; with ``momentum``, ``m = momentum * m - lr * g; w += m``.

    ``nesterov=True`` steps by ``momentum * m - lr * g`` instead. Like every optimizer here,
    it also takes ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm`` and
    a schedule as ``learning_rate``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.SGD(learning_rate=0.01)
    >>> for _ in range(3):
    ...     _ = opt.minimize(lambda: w ** 2, [w])
    >>> round(float(w.numpy()), 6)    # (1 - 2 * 0.01) ** 3
    0.941192
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "SGD", **kwargs: Any) -> None:
        super().__init__(R.SGDRule(momentum, nesterov), learning_rate, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, kwargs)


class Adam(_RuleOptimizer):
    """Adam, with Keras's formula: ``w -= m * alpha / (sqrt(v) + epsilon)``, ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Adam(learning_rate=0.1)
    >>> _ = opt.minimize(lambda: w ** 2, [w])
    >>> round(float(w.numpy()), 4)     # Adam's first step is about lr
    0.9
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "adam", **kwargs: Any) -> None:
        super().__init__(R.AdamRule(beta_1, beta_2, epsilon, amsgrad), learning_rate, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, kwargs)


class AdamW(_RuleOptimizer):
    """Adam with decoupled weight decay: each step first does ``w -= w * weight_decay * lr``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> _ = opt.apply_gradients([(0.0, w)])     # no gradient: only the decay acts
    >>> float(w.numpy())
    0.949999988079071
    """

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "adamw", **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW needs a weight_decay (a float); use Adam for none")
        super().__init__(R.AdamRule(beta_1, beta_2, epsilon, amsgrad), learning_rate, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, kwargs)


class RMSprop(_RuleOptimizer):
    """RMSprop: divide the gradient by a running root mean square, ``sqrt(v + epsilon)``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.RMSprop(learning_rate=0.1)
    >>> _ = opt.minimize(lambda: w ** 2 / 2.0, [w])
    >>> round(float(w.numpy()), 6)    # 1 - 0.1 / sqrt(1 - 0.9)
    0.683772
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "rmsprop", **kwargs: Any) -> None:
        super().__init__(R.RMSpropRule(rho, momentum, epsilon, centered), learning_rate, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, kwargs)


class Adagrad(_RuleOptimizer):
    """Adagrad: per-coordinate steps ``lr * g / sqrt(sum of g^2 + epsilon)``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
    >>> _ = opt.minimize(lambda: w ** 2, [w]); float(w.numpy())
    0.8999999761581421
    """

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str = "adagrad",
                 **kwargs: Any) -> None:
        super().__init__(R.AdagradRule(initial_accumulator_value, epsilon), learning_rate, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, kwargs)


class Adadelta(_RuleOptimizer):
    """Adadelta: steps scaled by running averages of past steps and gradients (``learning_rate=1.0`` is the paper's).

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Adadelta(learning_rate=1.0)
    >>> _ = opt.minimize(lambda: w ** 2, [w]); bool(w.numpy() < 1.0)
    True
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "adadelta", **kwargs: Any) -> None:
        super().__init__(R.AdadeltaRule(rho, epsilon), learning_rate, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, kwargs)


class Adamax(_RuleOptimizer):
    """Adamax: Adam with the infinity norm, ``w -= lr m / ((1 - b1^t) (u + epsilon))``, ``u = max(b2 u, |g|)``.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Adamax(learning_rate=0.1)
    >>> _ = opt.minimize(lambda: w ** 2, [w]); round(float(w.numpy()), 4)
    0.9
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str = "adamax",
                 **kwargs: Any) -> None:
        super().__init__(R.AdamaxRule(beta_1, beta_2, epsilon), learning_rate, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, kwargs)


class Nadam(_RuleOptimizer):
    """Nadam: Adam with Nesterov momentum.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Nadam(learning_rate=0.1)
    >>> _ = opt.minimize(lambda: w ** 2, [w]); bool(0.8 < w.numpy() < 0.9)
    True
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str = "nadam",
                 **kwargs: Any) -> None:
        super().__init__(R.NadamRule(beta_1, beta_2, epsilon), learning_rate, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, kwargs)


class Lion(_RuleOptimizer):
    """Lion: every coordinate moves by exactly ``lr``, in the sign of a blend of momentum and gradient.

    >>> import tapegrad as tg
    >>> w = tg.Variable(1.0)
    >>> opt = tg.optimizers.Lion(learning_rate=0.125)
    >>> _ = opt.minimize(lambda: w ** 2, [w]); float(w.numpy())
    0.875
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str = "lion", **kwargs: Any) -> None:
        super().__init__(R.LionRule(beta_1, beta_2), learning_rate, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, kwargs)


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


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "Optimizer", "RMSprop",
           "TransformOptimizer"]
