"""More of tf.nn: the softmax cross entropies, activations, normalization and bias_add."""
from __future__ import annotations

from typing import Any

from tapegrad._core.errors import DTypeError, InvalidArgumentError
from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor, to_array

from . import table as T
from ._args import axis_param, float_tensor, pair, typed
from .array_ops import broadcast_to, reshape, squeeze, where
from .math_ops import (
    abs,
    expm1,
    maximum,
    minimum,
    pow,
    reduce_mean,
    reduce_sum,
    rsqrt,
    sigmoid,
    softplus,
    squared_difference,
    stop_gradient,
    tanh,
)
from .special_ops import erfc

TensorLike = Any

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along ``axis``, in one stable op.

    Its gradient in ``logits`` is TensorFlow's, softmax(logits) - labels: the true gradient when each
    row of ``labels`` sums to 1, as a probability distribution does.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.softmax_cross_entropy_with_logits([0.0, 1.0], [0.0, 0.0])), 6)
    0.693147
    """
    x = float_tensor(logits, "softmax_cross_entropy_with_logits")
    y = pair(labels, x, "softmax_cross_entropy_with_logits")[0]
    if y._value.shape != x._value.shape:
        try:
            y = broadcast_to(y, x._value.shape)
        except ValueError:
            raise InvalidArgumentError(f"softmax_cross_entropy_with_logits: labels of shape {tuple(y.shape)} do "
                                       f"not broadcast to the logits' shape {tuple(x.shape)}") from None
    if x._value.ndim == 0:
        raise InvalidArgumentError("softmax_cross_entropy_with_logits: logits must have rank >= 1 (a class axis)")
    (ax,) = axis_param(axis, x._value.ndim, "softmax_cross_entropy_with_logits")
    return apply(T.softmax_cross_entropy_with_logits, (y, x), {"axis": ax})


def sparse_softmax_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike,
                                             name: str | None = None) -> Tensor:
    """-log_softmax(logits)[..., labels]: the cross entropy of integer class labels, in one stable op.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.sparse_softmax_cross_entropy_with_logits(1, [0.0, 0.0])), 6)
    0.693147
    """
    x = float_tensor(logits, "sparse_softmax_cross_entropy_with_logits")
    ids = to_array(labels._value if isinstance(labels, Tensor) else labels)
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be int32 or int64 class indices, "
                         f"got {ids.dtype}; for one-hot or probability labels use softmax_cross_entropy_with_logits")
    shape = x._value.shape
    if x._value.ndim == 0 or ids.shape != shape[:-1]:
        raise InvalidArgumentError(f"sparse_softmax_cross_entropy_with_logits: labels must have the logits' shape "
                                   f"without its last (class) axis: labels {tuple(ids.shape)}, logits {tuple(shape)}")
    n = shape[-1]
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = int(ids.max()) if ids.max() >= n else int(ids.min())
        raise InvalidArgumentError(f"sparse_softmax_cross_entropy_with_logits: Received a label value of {bad} "
                                   f"which is outside the valid range of [0, {n})")
    return apply(T.sparse_softmax_cross_entropy_with_logits, (x,), {"labels": ids})


def weighted_cross_entropy_with_logits(labels: TensorLike, logits: TensorLike, pos_weight: TensorLike,
                                       name: str | None = None) -> Tensor:
    """sigmoid_cross_entropy_with_logits with the positive term weighted by ``pos_weight``, stable.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.weighted_cross_entropy_with_logits(1.0, 0.0, 2.0)), 6)  # 2 log 2
    1.386294
    """
    x = float_tensor(logits, "weighted_cross_entropy_with_logits")
    z = pair(labels, x, "weighted_cross_entropy_with_logits")[0]
    # TensorFlow's form: (1 - z) x + (1 + (q - 1) z) softplus(-x)
    return (1 - z) * x + (1 + (pos_weight - 1) * z) * softplus(-x)


def gelu(features: TensorLike, approximate: bool = False, name: str | None = None) -> Tensor:
    """x * P(X <= x) for a standard normal X: 0.5 x erfc(-x / sqrt(2)), or its tanh approximation.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.gelu(1.0)), 6)
    0.841345
    """
    x = float_tensor(features, "gelu")
    if approximate:
        return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * pow(x, 3.0))))
    return 0.5 * x * erfc(-x * 0.7071067811865476)


def silu(features: TensorLike, beta: float = 1.0) -> Tensor:
    """x * sigmoid(beta * x) (also called swish).

    >>> import tapegrad as tg
    >>> round(float(tg.nn.silu(1.0)), 6)
    0.731059
    """
    x = float_tensor(features, "silu")
    return x * sigmoid(beta * x)


swish = silu


def selu(features: TensorLike, name: str | None = None) -> Tensor:
    """scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise (the self-normalizing constants).

    >>> import tapegrad as tg
    >>> round(float(tg.nn.selu(1.0)), 6)
    1.050701
    """
    x = float_tensor(features, "selu")
    return _SELU_SCALE * where(x > 0, x, _SELU_ALPHA * expm1(minimum(x, 0.0)))


def softsign(features: TensorLike, name: str | None = None) -> Tensor:
    """x / (1 + |x|).

    >>> import tapegrad as tg
    >>> tg.nn.softsign(3.0).numpy()
    np.float32(0.75)
    """
    x = float_tensor(features, "softsign")
    return x / (1 + abs(x))


def l2_normalize(x: TensorLike, axis: Any = None, epsilon: float = 1e-12, name: str | None = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x**2, axis), epsilon)): unit L2 norm along ``axis`` (all axes when None).

    >>> import tapegrad as tg
    >>> tg.nn.l2_normalize([3.0, 4.0]).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    x = float_tensor(x, "l2_normalize")
    axes = axis_param(dim if axis is None else axis, x._value.ndim, "l2_normalize")
    return x * rsqrt(maximum(reduce_sum(x * x, axes, keepdims=True), epsilon))


def moments(x: TensorLike, axes: Any, shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean and variance of ``x`` across ``axes``.

    As in TensorFlow, the variance's gradient treats the mean as a constant (``stop_gradient``).

    >>> import tapegrad as tg
    >>> mean, variance = tg.nn.moments(tg.constant([1.0, 2.0, 3.0, 4.0]), axes=[0])
    >>> float(mean), float(variance)
    (2.5, 1.25)
    """
    x = float_tensor(x, "moments")
    ax = axis_param(axes, x._value.ndim, "moments")
    mean = reduce_mean(x, ax, keepdims=True)
    variance = reduce_mean(squared_difference(x, stop_gradient(mean)), ax, keepdims=True)
    if not keepdims:
        mean, variance = squeeze(mean, ax), squeeze(variance, ax)
    return mean, variance


def bias_add(value: TensorLike, bias: TensorLike, data_format: str | None = None, name: str | None = None) -> Tensor:
    """value + bias, ``bias`` (1-D) added along the channel axis: the last, or axis 1 for "NC..." formats.

    >>> import tapegrad as tg
    >>> tg.nn.bias_add([[1.0, 2.0]], [10.0, 20.0]).numpy()
    array([[11., 22.]], dtype=float32)
    """
    v = typed(value, "bias_add", "fciu")
    b = pair(bias, v, "bias_add")[0]
    if b._value.ndim != 1:
        raise InvalidArgumentError(f"bias_add: bias must be 1-D, got shape {tuple(b.shape)}")
    if v._value.ndim < 2:
        raise InvalidArgumentError(f"bias_add: value must be at least 2-D, got shape {tuple(v.shape)}")
    channels_first = data_format is not None and data_format.startswith("NC")
    axis = 1 if channels_first else -1
    if v._value.shape[axis] != b._value.shape[0]:
        raise InvalidArgumentError(f"bias_add: must provide as many biases as the channel dimension of the value: "
                                   f"{b._value.shape[0]} vs. value shape {tuple(v.shape)}")
    if channels_first:
        b = reshape(b, (-1,) + (1,) * (v._value.ndim - 2))
    return v + b


__all__ = ["bias_add", "gelu", "l2_normalize", "moments", "selu", "silu", "softmax_cross_entropy_with_logits",
           "softsign", "sparse_softmax_cross_entropy_with_logits", "swish", "weighted_cross_entropy_with_logits"]
