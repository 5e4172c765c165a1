"""The optimizer names ``minimize`` and the command line take (``"sgd"``, ``"adam"``, ...), and how the
``optimizer=`` argument becomes an optimizer. The descent itself is ``tapegrad.descent``.

>>> from tapegrad.minimize import OPTIMIZERS
>>> make, default = OPTIMIZERS["adam"]
>>> type(make(default)).__name__, default
('Adam', 0.01)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    Optimizer,
    RMSprop,
    TransformOptimizer,
)

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



__all__ = ["OPTIMIZERS"]
