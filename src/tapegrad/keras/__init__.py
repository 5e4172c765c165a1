"""``tg.keras``: the part of Keras that tape code uses, so ``tf.keras.optimizers.Adam`` runs unchanged.

``tg.keras.optimizers`` *is* ``tg.optimizers`` (and ``.schedules`` its schedules): the same
classes, not copies. ``tg.keras.losses`` has Keras 3's regression and cross-entropy losses.
Keras's models and layers are not part of tapegrad; asking for them says so.

>>> import tapegrad as tf
>>> tf.keras.optimizers.Adam is tf.optimizers.Adam
True
>>> opt = tf.keras.optimizers.SGD(tf.keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9))
"""
from __future__ import annotations

import sys

from tapegrad import optimizers
from tapegrad.keras import losses

# `import tapegrad.keras.optimizers` and `from tapegrad.keras.optimizers.schedules import ...` as in TensorFlow.
sys.modules[f"{__name__}.optimizers"] = optimizers
sys.modules[f"{__name__}.optimizers.schedules"] = optimizers.schedules

__all__ = ["losses", "optimizers"]

_MODELS = {"layers", "models", "Model", "Sequential", "Input", "activations", "initializers", "regularizers",
           "constraints", "metrics", "callbacks", "applications", "datasets", "preprocessing", "mixed_precision",
           "backend", "ops", "random", "saving", "export", "utils", "config"}


def __getattr__(name: str) -> object:
    if name in _MODELS:
        hint = ("tapegrad differentiates and optimizes your own code: hold the parameters in tf.Variable objects, "
                "write the model as a function of them with tapegrad ops (tf.matmul, tf.nn.relu, ...), and train "
                "it with tf.GradientTape and tf.keras.optimizers (or tapegrad.minimize)")
    else:
        raise AttributeError(f"module 'tapegrad.keras' has no attribute {name!r}; tapegrad provides "
                             "tf.keras.optimizers (with .schedules) and tf.keras.losses only")
    raise AttributeError(f"tapegrad has no tf.keras.{name}: of Keras, tapegrad provides tf.keras.optimizers (with "
                         f".schedules) and tf.keras.losses only; {hint}")
