"""Keras's optimizers as objects: ``SGD``, ``Adam``, ... with ``apply_gradients`` and ``minimize``.

They hold the state the pure rules thread by hand (one set of slots per Variable, an
``iterations`` counter) and update Variables in place, as ``tf.keras.optimizers`` does:

>>> import tapegrad as tg
>>> w = tg.Variable(1.0)
>>> opt = tg.optimizers.Adam(learning_rate=0.1)
>>> _ = opt.minimize(lambda: w ** 2, [w])
>>> round(float(w.numpy()), 4), int(opt.iterations)
(0.9, 1)
"""
from __future__ import annotations

from typing import Any

from . import rules as R
from .keras_base import KerasOptimizer
from .optimizer import Optimizer, TransformOptimizer


class SGD(KerasOptimizer):
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


class Adam(KerasOptimizer):
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


class AdamW(KerasOptimizer):
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


class RMSprop(KerasOptimizer):
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


class Adagrad(KerasOptimizer):
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


class Adadelta(KerasOptimizer):
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


class Adamax(KerasOptimizer):
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


class Nadam(KerasOptimizer):
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


class Lion(KerasOptimizer):
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


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "Optimizer", "RMSprop",
           "TransformOptimizer"]
