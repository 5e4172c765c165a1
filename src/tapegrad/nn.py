"""``tg.nn``: TensorFlow's tf.nn names."""
from tapegrad import ops as _ops
from tapegrad import random as _random
from tapegrad._core.tensor import Tensor as _Tensor
from tapegrad.ops import (  # noqa: F401
    bias_add,
    elu,
    gelu,
    l2_loss,
    l2_normalize,
    leaky_relu,
    log_softmax,
    moments,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    tanh,
    top_k,
    weighted_cross_entropy_with_logits,
)
from tapegrad.ops._args import float_tensor as _float_tensor
from tapegrad.ops._args import shape_param as _shape_param


def dropout(x: object, rate: float, noise_shape: object = None, seed: int | None = None,
            name: str | None = None) -> _Tensor:
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate), as tf.nn.dropout.

    ``noise_shape`` (broadcastable to x's shape) shares one draw along its size-1 axes; ``seed`` makes
    the mask repeatable as tg.random's seeds do (the numbers differ from TensorFlow's generator).

    >>> import tapegrad as tg
    >>> y = tg.nn.dropout(tg.ones((1000,)), rate=0.5, seed=1)
    >>> sorted(set(y.numpy().tolist()))
    [0.0, 2.0]
    """
    t = _float_tensor(x, "dropout")
    r = float(rate.numpy()) if isinstance(rate, _Tensor) else float(rate)
    if not 0.0 <= r < 1.0:
        raise ValueError(f"dropout: rate must be a scalar in the range [0, 1), got rate={rate}")
    if r == 0.0:
        return _ops.identity(t)
    shape = t.shape if noise_shape is None else _shape_param(noise_shape)
    keep = _random.uniform(shape, dtype=t.dtype, seed=seed) >= r
    return _ops.where(keep, t * (1.0 / (1.0 - r)), 0.0)
