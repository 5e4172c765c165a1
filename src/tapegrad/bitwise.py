"""``tg.bitwise``: TensorFlow's tf.bitwise names (also reached by ``&``, ``|``, ``^``, ``~`` on integer tensors)."""
from tapegrad.ops import bitwise_and, bitwise_or, bitwise_xor, invert  # noqa: F401
