"""Cases for tf.linalg and the array ops that run unchanged under TensorFlow and under tapegrad: each
takes the library as ``tf`` and returns named results (values, and gradients of a weighted sum).

Only what is unique is compared: eigen/singular vectors and QR factors enter through sign-free
quantities (their squares), since each library may choose a vector's sign differently.
``linalg_tf_reference.py`` records TensorFlow's answers into ``linalg_tf_expected.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

A = np.array([[2.0, 0.5, -0.3], [0.1, 1.5, 0.4], [-0.2, 0.3, 1.0]])  # not symmetric: eigh reads its lower triangle
B = np.array([[1.0, -1.0], [0.5, 2.0], [0.3, 0.1]])
TALL = np.array([[3.0, 0.2], [0.1, 1.0], [0.5, -0.4]])
WIDE = TALL.T.copy()
X = np.arange(12.0).reshape(2, 3, 2) / 7.0 - 0.5
IDX = [[0, 2], [1, 1]]


def _w(shape: Any, seed: int = 0) -> np.ndarray:
    """Fixed weights: a weighted sum tests every entry of a gradient, not only their total."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)


def _grad(tf: Any, fn: Callable[..., Any], *arrays: np.ndarray) -> dict:
    """The value of fn and the gradient of sum(w * fn) with respect to each input."""
    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(xs)
        y = fn(*xs)
        loss = tf.reduce_sum(y * tf.constant(_w(y.shape)))
    grads = tape.gradient(loss, xs)
    out = {"value": y.numpy()}
    for i, g in enumerate(grads):
        out[f"grad{i}"] = None if g is None else g.numpy()
    return out


def _sym_gram(tf: Any, a: Any) -> Any:
    return tf.matmul(a, a, transpose_b=True) + tf.eye(3, dtype=tf.float64)


def _eigh(tf: Any, a: Any) -> Any:
    e, v = tf.linalg.eigh(a)
    return tf.concat([e[None, :], v * v], 0)


def _svd(tf: Any, a: Any) -> Any:
    s, u, v = tf.linalg.svd(a)
    return tf.concat([tf.reshape(s, [-1]), tf.reshape(u * u, [-1]), tf.reshape(v * v, [-1])], 0)


def _qr(tf: Any, a: Any) -> Any:
    q, r = tf.linalg.qr(a)
    return tf.concat([tf.reshape(q * q, [-1]), tf.reshape(r * r, [-1])], 0)


def _list(tf: Any, ts: list) -> Any:
    return tf.concat([tf.reshape(t, [-1]) for t in ts], 0)


CASES: dict[str, Callable[[Any], dict]] = {
    "inv": lambda tf: _grad(tf, tf.linalg.inv, A),
    "inv_adjoint": lambda tf: _grad(tf, lambda a: tf.linalg.inv(a, adjoint=True), A),
    "det": lambda tf: _grad(tf, tf.linalg.det, A),
    "slogdet": lambda tf: _grad(tf, lambda a: tf.stack(tf.linalg.slogdet(-a), 0), A),
    "logdet": lambda tf: _grad(tf, lambda a: tf.linalg.logdet(_sym_gram(tf, a)), A),
    "solve": lambda tf: _grad(tf, tf.linalg.solve, A, B),
    "solve_adjoint": lambda tf: _grad(tf, lambda a, b: tf.linalg.solve(a, b, adjoint=True), A, B),
    "triangular_solve": lambda tf: _grad(tf, tf.linalg.triangular_solve, A, B),
    "triangular_solve_upper_adjoint": lambda tf: _grad(
        tf, lambda a, b: tf.linalg.triangular_solve(a, b, lower=False, adjoint=True), A, B),
    "cholesky": lambda tf: _grad(tf, lambda a: tf.linalg.cholesky(_sym_gram(tf, a)), A),
    "cholesky_solve": lambda tf: _grad(
        tf, lambda a, b: tf.linalg.cholesky_solve(tf.linalg.cholesky(_sym_gram(tf, a)), b), A, B),
    "eigh_lower_triangle": lambda tf: _grad(tf, lambda a: _eigh(tf, a), A),
    "eigvalsh": lambda tf: _grad(tf, tf.linalg.eigvalsh, A),
    "svd_tall": lambda tf: _grad(tf, lambda a: _svd(tf, a), TALL),
    "svd_wide": lambda tf: _grad(tf, lambda a: _svd(tf, a), WIDE),
    "svd_values": lambda tf: _grad(tf, lambda a: tf.linalg.svd(a, compute_uv=False), A),
    "qr_tall": lambda tf: _grad(tf, lambda a: _qr(tf, a), TALL),
    "qr_wide": lambda tf: _grad(tf, lambda a: _qr(tf, a), WIDE),
    "lstsq": lambda tf: _grad(tf, tf.linalg.lstsq, TALL, B),
    "lstsq_wide_ridge": lambda tf: _grad(tf, lambda a, b: tf.linalg.lstsq(a, b, l2_regularizer=0.3), WIDE, B[:2]),
    "einsum_matmul": lambda tf: _grad(tf, lambda a, b: tf.einsum("ij,jk->ik", a, b), A, B),
    "einsum_diagonal": lambda tf: _grad(tf, lambda a: tf.einsum("ii->i", a), A),
    "einsum_ellipsis": lambda tf: _grad(tf, lambda x, b: tf.einsum("...ij,jk->...ki", x, b[:2]), X, B),
    "trace": lambda tf: _grad(tf, tf.linalg.trace, X[:, :2, :]),
    "band_part": lambda tf: _grad(tf, lambda a: tf.linalg.band_part(a, 0, 1), A),
    "diag_k": lambda tf: _grad(tf, lambda d: tf.linalg.diag(d, k=-1), B.T),
    "diag_part_k": lambda tf: _grad(tf, lambda a: tf.linalg.diag_part(a, k=1), X),
    "set_diag_k": lambda tf: _grad(tf, lambda a, d: tf.linalg.set_diag(a, d, k=-1), X, B[:2]),
    "norm_matrix_2": lambda tf: _grad(tf, lambda x: tf.norm(x, 2, axis=[-1, -2], keepdims=True), X),
    "norm_matrix_1": lambda tf: _grad(tf, lambda x: tf.norm(x, 1, axis=[1, 2]), X),
    "norm_matrix_inf": lambda tf: _grad(tf, lambda x: tf.norm(x, np.inf, axis=[0, 2]), X),
    "norm_fro": lambda tf: _grad(tf, lambda x: tf.norm(x, "fro", axis=[0, 1]), X),
    "norm_p3": lambda tf: _grad(tf, lambda x: tf.norm(x, 3, axis=1), X),
    "norm_p_half": lambda tf: _grad(tf, lambda a: tf.norm(a, 0.5), A),
    "global_norm": lambda tf: _grad(tf, lambda a, b: tf.linalg.global_norm([a, None, b]), A, B),
    "clip_by_global_norm": lambda tf: _grad(tf, lambda a, b: _list(tf, tf.clip_by_global_norm([a, b], 2.0)[0]),
                                            A, B),
    "clip_by_global_norm_norm": lambda tf: _grad(tf, lambda a, b: tf.clip_by_global_norm([a, b], 2.0)[1], A, B),
    "clip_by_global_norm_inactive": lambda tf: _grad(
        tf, lambda a, b: _list(tf, tf.clip_by_global_norm([a, b], 100.0)[0]), A, B),
    "pad_constant": lambda tf: _grad(tf, lambda x: tf.pad(x, [[0, 1], [1, 0], [2, 1]], constant_values=-3.0), X),
    "pad_reflect": lambda tf: _grad(tf, lambda x: tf.pad(x, [[1, 1], [2, 0], [1, 1]], "REFLECT"), X),
    "pad_symmetric": lambda tf: _grad(tf, lambda x: tf.pad(x, [[2, 0], [0, 3], [1, 2]], "SYMMETRIC"), X),
    "sort_descending": lambda tf: _grad(tf, lambda a: tf.sort(a, axis=0, direction="DESCENDING"), A),
    "argsort": lambda tf: {"value": tf.argsort(A, axis=-1, direction="DESCENDING").numpy()},
    "gather_batch_dims_between": lambda tf: _grad(tf, lambda x: tf.gather(x, IDX, axis=2, batch_dims=1),
                                                  np.arange(24.0).reshape(2, 3, 4) / 5.0),
    "gather_batch_dims_last": lambda tf: _grad(tf, lambda x: tf.gather(x, IDX, axis=-1, batch_dims=-1),
                                               X.reshape(2, 2, 3)),
    "gather_nd_batch": lambda tf: _grad(tf, lambda x: tf.gather_nd(x, [[[1, 0]], [[2, 1]]], batch_dims=1), X),
    "tensor_scatter_nd_update": lambda tf: _grad(
        tf, lambda a, u: tf.tensor_scatter_nd_update(a, [[2], [0]], u), A, B.T[:, :3]),
    "tensor_scatter_nd_add": lambda tf: _grad(
        tf, lambda a, u: tf.tensor_scatter_nd_add(a, [[1, 1], [0, 2], [1, 1]], u), A, B[:, 0]),
    "boolean_mask": lambda tf: _grad(tf, lambda x: tf.boolean_mask(x, [[True, False, True], [False, True, True]]),
                                     X),
    "repeat": lambda tf: _grad(tf, lambda x: tf.repeat(x, [2, 0, 1], axis=1), X),
    "reverse": lambda tf: _grad(tf, lambda x: tf.reverse(x, [0, 2]), X),
    "strided_slice_masks": lambda tf: _grad(
        tf, lambda x: tf.strided_slice(x, [1, 0, 1], [2, 3, 0], [1, 2, -1], begin_mask=2, end_mask=4,
                                       shrink_axis_mask=1), X),
    "indexing_steps_newaxis": lambda tf: _grad(tf, lambda x: x[::-1, 0:3:2, tf.newaxis, ...], X),
    "split_sizes": lambda tf: _grad(tf, lambda x: _list(tf, tf.split(x, [2, -1], axis=1)[::-1]), X),
    "slice": lambda tf: _grad(tf, lambda x: tf.slice(x, [1, 0, 1], [1, -1, 1]), X),
    "one_hot": lambda tf: {"value": tf.one_hot([[0, 3], [-1, 1]], 3, on_value=2.0, off_value=-1.0, axis=1).numpy()},
    "matmul_adjoint": lambda tf: {"value": tf.matmul(tf.constant(A + 1j * A.T), tf.constant(B + 0j),
                                                     adjoint_a=True).numpy()},
}
