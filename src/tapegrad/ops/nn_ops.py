"""Activations and softmax, as in tf.nn."""
from __future__ import annotations

from typing import Any

from tapegrad._core.dtypes import float32
from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import axis_param, float_tensor, pair, typed
from .array_ops import cast, where
from .math_ops import expm1, minimum, reduce_sum, softplus

TensorLike = Any


def relu(features: TensorLike, name: str | None = None) -> Tensor:
    """max(x, 0); the gradient at 0 is 0, as in TensorFlow (integer tensors stay integer).

    >>> import tapegrad as tg
    >>> tg.nn.relu([-1.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    return apply(T.relu, (typed(features, "relu", "fiu"),))


def relu6(features: TensorLike, name: str | None = None) -> Tensor:
    """min(max(x, 0), 6).

    >>> import tapegrad as tg
    >>> tg.nn.relu6([-1.0, 8.0]).numpy()
    array([0., 6.], dtype=float32)
    """
    r = relu(features)
    return minimum(r, 6.0 if r._value.dtype.kind == "f" else 6)


def leaky_relu(features: TensorLike, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """x for x > 0, alpha * x otherwise (integers are cast to float32 first, as in TensorFlow).

    >>> import tapegrad as tg
    >>> tg.nn.leaky_relu([-1.0, 2.0]).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    x = typed(features, "leaky_relu", "fiu")
    if x._value.dtype.kind in "iu":
        x = cast(x, float32)
    return where(x > 0, x, x * alpha)


def elu(features: TensorLike, name: str | None = None) -> Tensor:
    """x for x > 0, exp(x) - 1 otherwise.

    >>> import tapegrad as tg
    >>> tg.nn.elu([0.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    x = float_tensor(features, "elu")
    # expm1 only ever sees x <= 0: the branch not taken cannot overflow into a NaN gradient.
    return where(x > 0, x, expm1(minimum(x, 0.0)))


def softmax(logits: TensorLike, axis: int = -1, name: str | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, stable for large logits.

    >>> import tapegrad as tg
    >>> tg.nn.softmax([0.0, 0.0]).numpy()
    array([0.5, 0.5], dtype=float32)
    """
    x = float_tensor(logits, "softmax")
    return apply(T.softmax, (x,), {"axis": axis_param(axis, x._value.ndim, "softmax")})


def log_softmax(logits: TensorLike, axis: int = -1, name: str | None = None) -> Tensor:
    """x - logsumexp(x) along ``axis``, stable for large logits.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.log_softmax([1000.0, 1000.0])[0]), 4)
    -0.6931
    """
    x = float_tensor(logits, "log_softmax")
    return apply(T.log_softmax, (x,), {"axis": axis_param(axis, x._value.ndim, "log_softmax")})


def l2_loss(t: TensorLike, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2.

    >>> import tapegrad as tg
    >>> tg.nn.l2_loss([3.0, 4.0]).numpy()
    np.float32(12.5)
    """
    x = float_tensor(t, "l2_loss")
    return reduce_sum(x * x) / 2


def sigmoid_cross_entropy_with_logits(labels: TensorLike = None, logits: TensorLike = None,
                                      name: str | None = None) -> Tensor:
    """Element-wise logistic loss, stable for large logits: max(x, 0) - x * z + log(1 + exp(-|x|)).

    >>> import tapegrad as tg
    >>> round(float(tg.nn.sigmoid_cross_entropy_with_logits(labels=1.0, logits=0.0)), 4)
    0.6931
    """
    x = float_tensor(logits, "sigmoid_cross_entropy_with_logits")
    z, x = pair(labels, x, "sigmoid_cross_entropy_with_logits")
    # One op (TensorFlow composes eight): its logits' gradient is sigmoid(x) - z, made in one buffer,
    # and the tape keeps the logits and the loss only.
    return apply(T.sigmoid_cross_entropy_with_logits, (z, x))


from .math_ops import sigmoid, tanh  # noqa: E402  (tf.nn re-exports them)

__all__ = ["elu", "l2_loss", "leaky_relu", "log_softmax", "relu", "relu6", "sigmoid",
           "sigmoid_cross_entropy_with_logits", "softmax", "softplus", "tanh"]
