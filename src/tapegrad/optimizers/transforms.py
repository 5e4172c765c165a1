"""Gradient transformations: Keras's optimizers as pure ``init``/``update`` pairs, and pieces to chain with them.

>>> import numpy as np
>>> import tapegrad as tg
>>> opt = tg.optimizers.chain(tg.optimizers.clip_by_global_norm(1.0), tg.optimizers.sgd(0.5))
>>> params = np.array([3.0, 4.0])
>>> updates, _ = opt.update(params, opt.init(params))    # gradient norm 5, clipped to 1
>>> updates
array([-0.3, -0.4])
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from tapegrad._core import nest
from tapegrad._core.backend import xp

from . import _checks as C
from . import rules as R
from .base import GradientTransformation, LearningRate, as_array, chain


class RuleState(NamedTuple):
    """State of an optimizer transformation: the step count, each parameter's slots, and per-step extras.

    ``spec`` records the parameters' structure and shapes, so that ``update`` can say which
    gradient does not fit (None skips those checks).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> state = tg.optimizers.sgd(0.1, momentum=0.9).init({"w": np.zeros(2)})
    >>> state.count, state.slots
    (0, ((array([0., 0.]),),))
    """

    count: int
    slots: tuple
    extra: Any
    spec: Any = None


def _flatten(tree: Any) -> tuple[list, Any]:
    """The leaves in ``nest.flatten``'s order, and the structure as a value to compare with ``==``.

    A leaf's structure is None; a list or tuple's is ``(n, parts)`` (lists and tuples alike, as
    gradients from a tape come as lists); a dict's is ``(keys, parts)``.
    """
    if isinstance(tree, (list, tuple)):
        leaves: list = []
        parts = []
        for t in tree:
            sub, part = _flatten(t)
            leaves.extend(sub)
            parts.append(part)
        return leaves, (len(parts), tuple(parts))
    if isinstance(tree, dict):
        leaves, parts = [], []
        keys = sorted(tree)
        for k in keys:
            sub, part = _flatten(tree[k])
            leaves.extend(sub)
            parts.append(part)
        return leaves, (tuple(keys), tuple(parts))
    return [tree], None


def _show(structure: Any) -> str:
    """A structure from ``_flatten`` as text: ``array``, ``[array, array]``, ``{'w': array}``."""
    if structure is None:
        return "array"
    head, parts = structure
    if isinstance(head, int):
        return "[" + ", ".join(_show(p) for p in parts) + "]"
    return "{" + ", ".join(f"{k!r}: {_show(p)}" for k, p in zip(head, parts)) + "}"


def _paths(structure: Any, prefix: str = "") -> list[str]:
    """Each leaf's place, in leaf order: ``['w']``, ``[0]``, or "" for a single array."""
    if structure is None:
        return [prefix]
    head, parts = structure
    keys = range(head) if isinstance(head, int) else head
    return [path for k, p in zip(keys, parts) for path in _paths(p, f"{prefix}[{k!r}]")]


def _arrays(tree: Any, what: str) -> tuple[list, Any]:
    """The leaves of ``tree`` as arrays, and its structure; a leaf that is not numbers is named in the error."""
    leaves, structure = _flatten(tree)
    try:
        return [as_array(x) for x in leaves], structure
    except TypeError:
        for x, path in zip(leaves, _paths(structure)):
            try:
                as_array(x)
            except TypeError as e:
                raise TypeError(f"{what}{' at ' + path if path else ''} {e}") from None
        raise


def from_rule(rule: R.Rule, learning_rate: Any) -> GradientTransformation:
    """A GradientTransformation running ``rule`` (see ``tapegrad.optimizers.rules``) with a learning rate or schedule.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.from_rule(tg.optimizers.rules.SGDRule(momentum=0.5), 1.0)
    >>> s = opt.init(np.zeros(1))
    >>> u, s = opt.update(np.ones(1), s); u, s = opt.update(np.ones(1), s); u
    array([-1.5])
    """
    lr = LearningRate(learning_rate)

    def init(params: Any) -> RuleState:
        values, structure = _arrays(params, "init(): the parameter")
        for value, path in zip(values, _paths(structure)):
            if value.dtype.kind != "f":  # an integer parameter would take no step at all: updates round away
                raise TypeError(f"init(): the parameter{' at ' + path if path else ''} has dtype {value.dtype}; only "
                                "floating-point parameters can be optimized, e.g. np.array([1, 2], dtype=float)")
        return RuleState(0, tuple(rule.init(p) for p in values), rule.extra0,
                         (structure, tuple(p.shape for p in values)))

    def update(updates: Any, state: RuleState, params: Any = None) -> tuple[Any, RuleState]:
        if not isinstance(state, RuleState):
            raise TypeError(f"update() takes the state that this transformation's init() returned, not "
                            f"{type(state).__name__}")
        if isinstance(updates, (list, tuple, dict)):
            grads, structure = _arrays(updates, "update(): the gradient")
        else:  # one array, the common case: spelled out, as this runs at every step
            try:
                grads, structure = [as_array(updates)], None
            except TypeError as e:
                raise TypeError(f"update(): the gradient {e}") from None
        spec = state.spec
        if spec is None:  # a state made by hand: only the count can be checked
            if len(grads) != len(state.slots):
                raise ValueError(f"update() got {len(grads)} gradients for a state made for {len(state.slots)} "
                                 "parameters; call init() with the same parameters")
            shapes = [g.shape for g in grads]
        elif structure != spec[0]:
            _misfit(grads, structure, spec)
        else:
            shapes = spec[1]
        ctx, extra = rule.prepare(state.count, lr.at(state.count), state.extra)
        out, slots = [], []
        for g, s, shape in zip(grads, state.slots, shapes):
            if g.shape != shape:
                _misfit(grads, structure, spec)
            delta, s = rule.leaf(g, s, ctx)
            out.append(delta)
            slots.append(s)
        return nest.pack_as(updates, out), RuleState(state.count + 1, tuple(slots), extra, spec)

    return GradientTransformation(init, update)


def _misfit(grads: list, structure: Any, spec: tuple) -> None:
    """Raise the error for gradients without the structure or shapes of the parameters the state was made for."""
    expected, shapes = spec
    if structure != expected:
        counts = f" ({len(grads)} gradients for a state made for {len(shapes)} parameters)" \
            if len(grads) != len(shapes) else ""
        raise ValueError(f"update() got gradients structured as {_show(structure)}, but init() made the state "
                         f"for {_show(expected)}{counts}; pass gradients with the parameters' structure, or call "
                         "init() with these parameters")
    for path, g, shape in zip(_paths(structure), grads, shapes):
        if g.shape != shape:
            raise ValueError(f"update(): the gradient{' at ' + path if path else ''} has shape {g.shape}, but "
                             f"init() saw a parameter of shape {shape} there")


def sgd(learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    """Gradient descent, with optional (Nesterov) momentum; Keras's ``SGD`` as a transformation.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.sgd(0.1)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    array([-0.2])
    """
    return from_rule(R.SGDRule(momentum, nesterov), learning_rate)


def adam(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
         amsgrad: bool = False) -> GradientTransformation:
    """Adam with Keras's formula (epsilon added to the uncorrected ``sqrt(v)``).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adam(0.1)
    >>> np.round(opt.update(np.array([3.0]), opt.init(np.zeros(1)))[0], 6)   # the first step is about -lr
    array([-0.1])
    """
    return from_rule(R.AdamRule(beta_1, beta_2, epsilon, amsgrad), learning_rate)


def adamw(learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
          epsilon: float = 1e-7, amsgrad: bool = False) -> GradientTransformation:
    """Adam with decoupled weight decay: ``adam`` chained with ``add_decayed_weights``; needs ``params`` in update.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adamw(0.1, weight_decay=0.5)
    >>> p = np.array([2.0])
    >>> np.round(opt.update(np.array([0.0]), opt.init(p), p)[0], 6)   # only the decay: -lr * wd * p
    array([-0.1])
    """
    return chain(adam(learning_rate, beta_1, beta_2, epsilon, amsgrad),
                 add_decayed_weights(weight_decay, learning_rate))


def rmsprop(learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
            centered: bool = False) -> GradientTransformation:
    """RMSprop (epsilon inside the square root, as Keras).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.rmsprop(0.1, epsilon=0.0)
    >>> np.round(opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0], 6)   # -lr / sqrt(1 - rho)
    array([-0.316228])
    """
    return from_rule(R.RMSpropRule(rho, momentum, epsilon, centered), learning_rate)


def adagrad(learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
            epsilon: float = 1e-7) -> GradientTransformation:
    """Adagrad: each coordinate's step shrinks with the sum of its squared gradients.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adagrad(1.0, initial_accumulator_value=0.0, epsilon=0.0)
    >>> opt.update(np.array([-4.0]), opt.init(np.zeros(1)))[0]
    array([1.])
    """
    return from_rule(R.AdagradRule(initial_accumulator_value, epsilon), learning_rate)


def adadelta(learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7) -> GradientTransformation:
    """Adadelta (use ``learning_rate=1.0`` for the paper's method).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adadelta(1.0)
    >>> bool(opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0][0] < 0)
    True
    """
    return from_rule(R.AdadeltaRule(rho, epsilon), learning_rate)


def adamax(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
           epsilon: float = 1e-7) -> GradientTransformation:
    """Adamax: Adam with the infinity norm in place of the second moment.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.adamax(0.1)
    >>> np.round(opt.update(np.array([5.0]), opt.init(np.zeros(1)))[0], 6)
    array([-0.1])
    """
    return from_rule(R.AdamaxRule(beta_1, beta_2, epsilon), learning_rate)


def nadam(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
          epsilon: float = 1e-7) -> GradientTransformation:
    """Nadam: Adam with Nesterov momentum.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.nadam(0.1)
    >>> bool(opt.update(np.array([5.0]), opt.init(np.zeros(1)))[0][0] < 0)
    True
    """
    return from_rule(R.NadamRule(beta_1, beta_2, epsilon), learning_rate)


def lion(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99) -> GradientTransformation:
    """Lion: a step of exactly ``lr`` per coordinate, in the sign of an interpolated momentum.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> opt = tg.optimizers.lion(0.1)
    >>> opt.update(np.array([5.0, -0.01]), opt.init(np.zeros(2)))[0]
    array([-0.1,  0.1])
    """
    return from_rule(R.LionRule(beta_1, beta_2), learning_rate)


# ---- pieces to chain -----------------------------------------------------------------------------
# Each piece is a plain function on arrays. The transformations below wrap it for any structure; the Keras
# objects (keras_base.py) call the same functions directly, as the wrapping would double a small step's cost.
# The clipping pieces use ``xp`` with the array API's names: keras_base runs them on a device's arrays through
# backend.forward_in.

def clip_value(g: Any, max_delta: float) -> Any:
    return xp.clip(g, -max_delta, max_delta)


def clip_norm(g: Any, max_norm: float) -> Any:
    """Keras's per-tensor clip: ``g * c / max(||g||, c)`` (so it rescales even when under the limit)."""
    l2sum = xp.sum(g * g)
    l2norm = xp.sqrt(l2sum) if l2sum > 0 else l2sum
    return (g * max_norm) / xp.maximum(l2norm, max_norm)


def clip_global_norm(grads: list, max_norm: float) -> list:
    """Keras's ``clip_by_global_norm``: one scale for all tensors; NaN everywhere if the norm is not finite."""
    norm = math.sqrt(sum(float(xp.sum(g * g)) for g in grads))
    if not math.isfinite(norm):
        scale = math.nan
    elif norm == 0:
        scale = 1.0
    else:
        scale = max_norm * min(1.0 / norm, 1.0 / max_norm)
    return [g * scale for g in grads]


def clip_limit(name: str, value: Any) -> float:
    """A clipping limit, checked: a number > 0 (a negative one would turn a clipped step uphill)."""
    return C.number(name, value, 0, open_low=True)


def clipper(setting: str, limit: float) -> Callable[[list], list]:
    """Clip a list of gradients as Keras's ``setting`` (clipvalue, clipnorm or global_clipnorm) does."""
    if setting == "clipvalue":
        return lambda grads: [clip_value(g, limit) for g in grads]
    if setting == "clipnorm":
        return lambda grads: [clip_norm(g, limit) for g in grads]
    return lambda grads: clip_global_norm(grads, limit)


def decay_rate(value: Any) -> float:
    """A weight decay, checked: a number >= 0."""
    return C.number("weight_decay", value, 0)


def decay_term(param: Any, weight_decay: float, rate: float) -> Any:
    """Decoupled weight decay: what to take off a parameter, ``param * weight_decay * lr``."""
    return param * weight_decay * rate


def _stateless(fn: Callable[[list], list]) -> GradientTransformation:
    def init(params: Any) -> tuple:
        return ()

    def update(updates: Any, state: tuple, params: Any = None) -> tuple[Any, tuple]:
        return nest.pack_as(updates, fn(_arrays(updates, "update(): the gradient")[0])), state

    return GradientTransformation(init, update)


def clip(max_delta: float) -> GradientTransformation:
    """Clip every element of the updates to ``[-max_delta, max_delta]`` (Keras's ``clipvalue``).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> tg.optimizers.clip(1.0).update(np.array([3.0, -0.5, -2.0]), ())[0]
    array([ 1. , -0.5, -1. ])
    """
    return _stateless(clipper("clipvalue", clip_limit("max_delta", max_delta)))


def clip_by_norm(max_norm: float) -> GradientTransformation:
    """Scale each update tensor so its L2 norm is at most ``max_norm`` (Keras's ``clipnorm``).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> tg.optimizers.clip_by_norm(1.0).update([np.array([3.0, 4.0]), np.array([0.5])], ())[0]
    [array([0.6, 0.8]), array([0.5])]
    """
    return _stateless(clipper("clipnorm", clip_limit("max_norm", max_norm)))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all updates together so their joint L2 norm is at most ``max_norm`` (Keras's ``global_clipnorm``).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> tg.optimizers.clip_by_global_norm(1.0).update([np.array([3.0]), np.array([4.0])], ())[0]
    [array([0.6]), array([0.8])]
    """
    return _stateless(clipper("global_clipnorm", clip_limit("max_norm", max_norm)))


def scale(step_size: float) -> GradientTransformation:
    """Multiply the updates by ``step_size`` (e.g. -1.0 to turn gradients into descent directions).

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> tg.optimizers.scale(-0.5).update(np.array([2.0]), ())[0]
    array([-1.])
    """
    step_size = C.number("step_size", step_size, finite=False)  # scale(inf) is a way to test divergence
    return _stateless(lambda gs: [g * step_size for g in gs])


def add_decayed_weights(weight_decay: float, learning_rate: Any = 1.0) -> GradientTransformation:
    """Add ``-lr * weight_decay * param`` to the updates: decoupled weight decay, applied after the rule.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> t = tg.optimizers.add_decayed_weights(0.1, learning_rate=0.5)
    >>> p = np.array([2.0])
    >>> t.update(np.array([0.0]), t.init(p), p)[0]
    array([-0.1])
    """
    weight_decay = decay_rate(weight_decay)
    lr = LearningRate(learning_rate)

    def init(params: Any) -> int:
        return 0

    def update(updates: Any, count: int, params: Any = None) -> tuple[Any, int]:
        if params is None:
            raise ValueError("add_decayed_weights needs the parameters: call update(grads, state, params)")
        grads, structure = _arrays(updates, "update(): the gradient")
        values, expected = _arrays(params, "update(): the parameter")
        if structure != expected:
            raise ValueError(f"add_decayed_weights: update() got gradients structured as {_show(structure)} but "
                             f"parameters structured as {_show(expected)}; pass both with one structure")
        rate = lr.at(count)
        out = [u - decay_term(p, weight_decay, rate) for u, p in zip(grads, values)]
        return nest.pack_as(updates, out), count + 1

    return GradientTransformation(init, update)


__all__ = ["RuleState", "adadelta", "adagrad", "adam", "adamax", "adamw", "add_decayed_weights", "clip",
           "clip_by_global_norm", "clip_by_norm", "from_rule", "lion", "nadam", "rmsprop", "scale", "sgd"]
