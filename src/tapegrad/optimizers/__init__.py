"""Optimizers: Keras-style objects (``SGD``, ``Adam``, ...), the same rules as pure transformations
(``sgd``, ``adam``, ... with ``init``/``update``, chained like optax), learning-rate schedules, and
line-search methods for small problems (``LineSearchGD``, ``LBFGS``, ``Newton``).

>>> import tapegrad as tg
>>> w = tg.Variable(5.0)
>>> opt = tg.optimizers.Adam(learning_rate=0.5)
>>> for _ in range(200):
...     _ = opt.minimize(lambda: (w - 2.0) ** 2, [w])
>>> round(float(w.numpy()), 3)
2.0
"""
from . import rules, schedules
from .base import GradientTransformation, NoDescent, Problem, apply_updates, chain
from .keras import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, Optimizer, RMSprop, TransformOptimizer
from .names import get
from .second_order import LBFGS, LineSearchGD, Newton
from .transforms import (
    RuleState,
    adadelta,
    adagrad,
    adam,
    adamax,
    adamw,
    add_decayed_weights,
    clip,
    clip_by_global_norm,
    clip_by_norm,
    from_rule,
    lion,
    nadam,
    rmsprop,
    scale,
    sgd,
)

__all__ = [n for n in dir() if not n.startswith("_")]

_KERAS_ONLY = ("Ftrl", "Adafactor", "LossScaleOptimizer", "legacy", "serialize", "deserialize")


def __getattr__(name: str) -> object:
    if name in _KERAS_ONLY:
        raise AttributeError(f"tapegrad.optimizers has no {name}, which Keras has; the optimizers here are "
                             f"{', '.join(n for n in __all__ if n[0].isupper() and n not in _BASES)} (and the "
                             "transforms sgd, adam, ...); construct one by its class, e.g. tg.optimizers.Adam(0.01), "
                             "or by name: tg.optimizers.get('adam')")
    raise AttributeError(f"module 'tapegrad.optimizers' has no attribute {name!r}")


_BASES = ("GradientTransformation", "NoDescent", "Problem", "RuleState", "Optimizer", "TransformOptimizer")
