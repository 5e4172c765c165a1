"""``tg.linalg``: TensorFlow's tf.linalg names."""
from tapegrad.ops import eye, matmul, matrix_transpose, matvec, norm, tensordot  # noqa: F401

