"""The Keras-style optimizer objects' shell: per-Variable slots, ``iterations``, ``apply_gradients``,
clipping and weight decay, around one of the update rules in ``rules``.

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

from tapegrad._core import backend
from tapegrad._core.tensor import Variable
from tapegrad.tape import GradientTape

from . import rules as R
from . import transforms as T
from .optimizer import Optimizer
from .problem import Problem
from .variables import as_array, assign_value, check_variable, on_device

_PAIRS = "apply_gradients takes (gradient, variable) pairs, e.g. zip(grads, vars)"
_KERAS_ONLY = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
               "gradient_accumulation_steps": None}


class KerasOptimizer(Optimizer):
    """The Keras objects' shell: a rule (as ``from_rule`` runs it), clipping (``clip``, ``clip_by_norm``,
    ``clip_by_global_norm``) and decoupled weight decay (``add_decayed_weights``), run on Variables in
    Keras's order, with one set of slots per Variable and ``iterations`` as the step.

    Subclasses give the rule and spell out Keras's signature.

    >>> import tapegrad as tg
    >>> from tapegrad.optimizers.keras_base import KerasOptimizer
    >>> issubclass(tg.optimizers.AdamW, KerasOptimizer), tg.optimizers.AdamW(clipnorm=1.0).clipnorm
    (True, 1.0)
    """

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
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(c is not None for c in clipping.values()) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue and global_clipnorm can be set; got clipnorm="
                             f"{clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        # The transformations' checks and functions: Keras ignores a limit <= 0, but refusing it says so.
        self._clip: Callable[[list], list] | None = None
        for setting, limit in clipping.items():
            if limit is not None:
                clipping[setting] = limit = T.clip_limit(setting, limit)
                self._clip = T.clipper(setting, limit)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipping.values()
        self.weight_decay = None if weight_decay is None else T.decay_rate(weight_decay)
        self._rule = rule
        self._extra = rule.extra0
        self._slots: dict[int, list] = {}  # id(variable) -> [variable, slots, the rule's leaf for its library]
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
        slot = entry[1][names.index(slot_name)]
        return slot if on_device(slot) else np.array(slot, copy=True)  # a device's arrays are never written into

    # -- the update ----------------------------------------------------------------------------
    def _entry(self, v: Variable) -> list:
        entry = self._slots.get(id(v))
        if entry is None:
            if not isinstance(v, Variable):
                raise TypeError(f"optimizers keep state for tg.Variable objects, not {type(v).__name__}")
            rule, value = self._rule, v._value
            if on_device(value):
                # The rule's own code with xp bound to the Variable's library: its slots and steps stay on its device.
                ns = backend.namespace(value)
                init = backend.forward_in(type(rule).init, ns).__get__(rule)
                entry = self._slots[id(v)] = [v, init(value), backend.forward_in(type(rule).leaf, ns).__get__(rule)]
            else:
                entry = self._slots[id(v)] = [v, rule.init(value), rule.leaf]
        return entry

    def _decays(self, v: Variable) -> bool:
        if id(v) in self._no_decay_ids:
            return False
        return self._no_decay_pattern is None or self._no_decay_pattern.search(v.name) is None

    def _update(self, grads: list, variables: list) -> float:
        """One step from gradient arrays already in each Variable's dtype and shape; returns the learning rate."""
        if self._rule.plain and self._clip is None and not self.weight_decay and self._lr.schedule is None:
            # Plain SGD at a fixed rate, the seed's step: SGDRule.leaf's w + -(g * lr) is w - g * lr bit for bit
            # (IEEE subtraction adds the negation), and nothing else of the general path applies, so it costs a
            # third as much on a scalar step.
            lr = self._lr.value
            for g, v in zip(grads, variables):
                v._value = v._value - g * lr
            it = self._iterations
            it._value = it._value + 1  # an int64 scalar or 0-d array: np.int64 + 1 is np.int64
            return lr
        step = int(self._iterations._value)
        lr = self._lr.at(step)
        # Keras's order, each step run by the transformations' own functions: clip the gradients
        # (clip, clip_by_norm, clip_by_global_norm), take the decay off the Variables (add_decayed_weights,
        # decoupled as in AdamW), then the rule's step (from_rule) from the clipped gradients.
        if self._clip is not None:
            clip = self._clip
            if on_device(grads[0]):  # the transformations' code with xp bound to the gradients' library
                clip = backend.forward_in(clip, backend.common_namespace(list(grads)))
            grads = clip(grads)
        if self.weight_decay:
            wd = self.weight_decay
            for v in variables:
                if self._decays(v):
                    assign_value(v, v._value - T.decay_term(v._value, wd, lr))
        ctx, self._extra = self._rule.prepare(step, lr, self._extra)
        slots = self._slots
        for g, v in zip(grads, variables):
            entry = slots.get(id(v)) or self._entry(v)
            delta, entry[1] = entry[2](g, entry[1], ctx)
            assign_value(v, v._value + delta)
        assign_value(self._iterations, np.int64(step + 1))
        return lr

    def _step(self, problem: Problem, loss: float, grads: list) -> float:
        return self._update(grads, problem.variables)


__all__ = ["KerasOptimizer"]
