"""Optimizers by name: ``get("adam")`` as ``tf.keras.optimizers.get``, and the table ``tg.minimize`` and the
command line read (``OPTIMIZERS``), with the learning rate each name starts from there.

>>> import tapegrad as tg
>>> tg.optimizers.get("adam").learning_rate, tg.optimizers.names.OPTIMIZERS["adam"][1]   # Keras's, minimize's
(0.001, 0.01)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .keras import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop
from .optimizer import Optimizer
from .second_order import LBFGS, LineSearchGD, Newton

# name -> (class, the settings the name stands for, the learning rate tg.minimize starts from).
# minimize's rates suit small problems with parameters of order 1 and a few thousand steps; get() keeps
# the classes' (Keras's) defaults. For the line-search methods the "learning rate" is the first trial step.
NAMES: dict[str, tuple[type[Optimizer], dict[str, Any], float]] = {
    "sgd": (SGD, {}, 0.01),
    "momentum": (SGD, {"momentum": 0.9}, 0.01),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}, 0.01),
    "adam": (Adam, {}, 0.01),
    "adamw": (AdamW, {}, 0.01),
    "rmsprop": (RMSprop, {}, 0.01),
    "adagrad": (Adagrad, {}, 0.1),
    "adadelta": (Adadelta, {}, 1.0),
    "adamax": (Adamax, {}, 0.01),
    "nadam": (Nadam, {}, 0.01),
    "lion": (Lion, {}, 0.001),
    "lbfgs": (LBFGS, {}, 1.0),
    "newton": (Newton, {}, 1.0),
    "linesearch": (LineSearchGD, {}, 1.0),
}

# Class names too, in any case, as Keras reads them (a config's "class_name" is one).
_CLASSES = {cls.__name__.lower(): cls for cls, _, _ in NAMES.values()}


def _maker(cls: type[Optimizer], settings: dict[str, Any]) -> Callable[[Any], Optimizer]:
    return lambda learning_rate: cls(learning_rate, **settings)


# tg.minimize's form of the table: name -> (make the optimizer from a learning rate, the rate it starts from).
OPTIMIZERS: dict[str, tuple[Callable[[Any], Optimizer], float]] = {
    name: (_maker(cls, settings), rate) for name, (cls, settings, rate) in NAMES.items()}


def get(identifier: Any, **settings: Any) -> Optimizer | None:
    """The optimizer ``identifier`` stands for, as ``tf.keras.optimizers.get``.

    ``identifier`` is a name in any case (``"adam"``, ``"SGD"``; also ``"momentum"``,
    ``"nesterov"``, ``"lbfgs"``, ``"newton"``, ``"linesearch"``), a config dict
    ``{"class_name": "Adam", "config": {...}}``, or an optimizer object, returned as it is;
    None gives None. ``settings`` go to the constructor (over a config's). A name keeps the
    class's defaults, Keras's: ``get("adam")`` has learning rate 0.001, where
    ``tg.minimize(optimizer="adam")`` starts from 0.01 (``OPTIMIZERS``).

    >>> import tapegrad as tg
    >>> opt = tg.optimizers.get("nesterov", learning_rate=0.1)
    >>> type(opt).__name__, opt.learning_rate, opt.get_config()["nesterov"]
    ('SGD', 0.1, True)
    >>> tg.optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}}).learning_rate
    0.5
    """
    if identifier is None or isinstance(identifier, Optimizer):
        if settings:
            raise TypeError(f"get() takes settings ({', '.join(settings)}) with a name or a config; "
                            f"{'None' if identifier is None else 'an optimizer object'} has none to take")
        return identifier
    if isinstance(identifier, str):
        key = identifier.strip().lower()
        if key in NAMES:
            cls, defaults, _ = NAMES[key]
            return cls(**{**defaults, **settings})
        if key in _CLASSES:
            return _CLASSES[key](**settings)
    elif isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str) and isinstance(
            identifier.get("config", {}), dict):
        cls = _CLASSES.get(identifier["class_name"].lower())
        if cls is not None:
            return cls.from_config({**identifier.get("config", {}), **settings})
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        raise ValueError(f"get() got the class {identifier.__name__}; pass an object, {identifier.__name__}(...), "
                         f"or a name: get({identifier.__name__.lower()!r})")
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; give a name ({', '.join(NAMES)}), "
                     "a config {'class_name': 'Adam', 'config': {...}} or an optimizer object")


__all__ = ["NAMES", "OPTIMIZERS", "get"]
