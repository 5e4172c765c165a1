"""``tg.nn``: TensorFlow's tf.nn names."""
from tapegrad.ops import (  # noqa: F401
    elu,
    l2_loss,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softplus,
    tanh,
)
