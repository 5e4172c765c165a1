"""The set-up of a run: minimize's arguments checked, the optimizer made, and x0 made into Variables with
column names.

>>> import numpy as np
>>> from tapegrad.descent.setup import variables
>>> vs, names = variables({"w": np.zeros(2), "b": 0.0}, lambda p: p)
>>> names, [v.dtype.name for v in vs]
(['b', 'w'], ['float32', 'float64'])
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import Operand, Variable
from tapegrad.optimizers import GradientTransformation, Optimizer, TransformOptimizer
from tapegrad.optimizers.names import OPTIMIZERS

__all__ = ["callbacks_list", "nonnegative_int", "optimizer_from", "record_modes", "takes_one_argument", "variables"]

_RECORD = ("state", "full")


def record_modes(record: Any) -> tuple[bool, bool, bool]:
    """minimize's ``record`` as (keep rows, every element of every array, the optimizer's state)."""
    if isinstance(record, (bool, np.bool_)):
        return bool(record), False, False
    modes = (record,) if isinstance(record, str) else tuple(record) if isinstance(record, (list, tuple, set)) else None
    if modes is None or not modes or any(not isinstance(m, str) or m not in _RECORD for m in modes):
        raise TypeError(f"record must be True, False, 'state', 'full' or a list of these two ('state': the "
                        f"optimizer's state each step; 'full': every element of every array parameter); got {record!r}")
    return True, "full" in modes, "state" in modes


def nonnegative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def callbacks_list(callbacks: Any) -> list:
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


def takes_one_argument(fn: Any, x0: Any) -> None:
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



def optimizer_from(optimizer: Any, learning_rate: Any) -> Optimizer:
    """The optimizer ``minimize``'s ``optimizer=`` and ``learning_rate=`` ask for: a name from the table (with
    its starting learning rate unless one is given), an optimizer object, or a ``GradientTransformation``."""
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


def variables(x0: Any, fn: Callable[..., Any]) -> tuple[list[Variable], list[str]]:
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
