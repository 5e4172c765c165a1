"""Optimizers as pure update rules (optax's ``init``/``update`` pairs): the pair, ``chain``, ``apply_updates``.

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

from collections.abc import Callable
from typing import Any, NamedTuple

from tapegrad._core import nest
from tapegrad._core.tensor import Variable

# What every optimizer shares lives in its own module; these names stay importable from here.
from .learning_rate import LearningRate
from .problem import NoDescent, Problem, loss_to_float  # noqa: F401
from .variables import as_array, assign_value, check_variable, variable_list


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


__all__ = ["GradientTransformation", "LearningRate", "NoDescent", "Problem", "apply_updates", "as_array",
           "assign_value", "chain", "check_variable", "variable_list"]
