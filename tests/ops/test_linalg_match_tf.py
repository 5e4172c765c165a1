"""tf.linalg and the array ops give TensorFlow's values and gradients, and refuse bad input clearly.

The expected table, ``linalg_tf_expected.py``, was recorded from real TensorFlow 2.21 by
``linalg_tf_reference.py``; the cases (``linalg_cases.py``) run unchanged under either library.
Different LAPACK builds round differently, so values agree to a relative 1e-9, not bit for bit.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_grads

from .linalg_cases import CASES
from .linalg_tf_expected import EXPECTED


def test_table_covers_every_case():
    assert set(EXPECTED) == set(CASES), "rerun tests/ops/linalg_tf_reference.py under TensorFlow"


@pytest.mark.parametrize("key", sorted(CASES))
def test_matches_tensorflow(key):
    got = CASES[key](tg)
    want = EXPECTED[key]
    assert set(got) == set(want), key
    for name, w in want.items():
        g = got[name]
        if w is None:
            assert g is None, f"{key}: {name} should be None (unconnected), as in TensorFlow"
            continue
        assert g is not None, f"{key}: {name} is None; TensorFlow gives a value"
        assert np.shape(g) == np.shape(w), f"{key}: {name} has shape {np.shape(g)}, TensorFlow {np.shape(w)}"
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"{key}: {name}")


# ---- what the table cannot hold ------------------------------------------------------------------


def test_indexing_with_steps_new_axes_and_ellipsis_has_second_derivatives():
    x = np.random.default_rng(0).standard_normal((5, 4))
    check_grads(lambda t: t[1:5:2, ::-1][..., None] ** 3, [x], order=2, per_element=True)
    check_grads(lambda t: tg.strided_slice(t, [4, 1], [0, 3], [-2, 1]) ** 3, [x], order=2, per_element=True)


def test_svd_with_full_matrices_has_tensorflows_gradient_one_row_off_square():
    a = np.array([[3.0, 0.2], [0.1, 1.0], [0.5, -0.4]])

    def f(t):  # sign-free: squares of u's columns and the singular values
        s, u, v = tg.linalg.svd(t, full_matrices=True)
        return tg.concat([s, tg.reshape(u[:, :2] * u[:, :2], [-1]), tg.reshape(v * v, [-1])], 0)

    check_grads(f, [a], order=1, modes=("rev",), per_element=True)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        x = tg.constant(np.ones((4, 2)) + np.eye(4, 2))
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.linalg.svd(x, full_matrices=True)[1]
        tape.gradient(y, x)


def test_eigh_of_a_repeated_eigenvalue_has_finite_eigenvalue_gradients():
    # eigvalsh needs no eigenvector gaps; TensorFlow's broadening keeps the vectors' part finite too
    x = tg.constant(np.eye(3))
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.reduce_sum(tg.linalg.eigvalsh(x) * [1.0, 2.0, 3.0])
    g = tape.gradient(y, x).numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g.trace(), 6.0)


def test_float32_in_float32_out():
    a = tg.constant(np.eye(2, dtype=np.float32) * 2)
    for out in (tg.linalg.inv(a), tg.linalg.det(a), tg.linalg.cholesky(a), tg.linalg.eigh(a)[1],
                tg.linalg.svd(a)[0], tg.linalg.qr(a)[1], tg.einsum("ij->j", a), tg.norm(a, 2, axis=[0, 1])):
        assert out.dtype == tg.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda: tg.linalg.inv(tg.zeros((2, 2))), tg.InvalidArgumentError, "not invertible"),
    (lambda: tg.linalg.inv(tg.zeros((2, 3))), ValueError, "square"),
    (lambda: tg.linalg.inv(tg.constant([[1, 2], [3, 4]])), TypeError, "int32"),
    (lambda: tg.linalg.cholesky(tg.constant([[-4.0, 2.0], [2.0, 3.0]])), tg.InvalidArgumentError,
     "positive definite"),
    (lambda: tg.linalg.solve(tg.eye(2), tg.ones((2,))), ValueError, "rhs must have shape"),
    (lambda: tg.linalg.solve(tg.eye(2, batch_shape=[3]), tg.ones((2, 1))), ValueError, "same batch shape"),
    (lambda: tg.linalg.eigh(tg.constant([[1j, 0], [0, 1]])), TypeError, "complex"),
    (lambda: tg.matmul(tg.eye(2), tg.eye(2), transpose_a=True, adjoint_a=True), ValueError, "only one of"),
    (lambda: tg.norm(tg.ones((2, 2)), "fro"), ValueError, "vector norm"),
    (lambda: tg.norm(tg.ones((2, 2)), 0), ValueError, "vector norm"),
    (lambda: tg.norm(tg.ones((2, 2)), 3, axis=[0, 1]), ValueError, "matrix norm"),
    (lambda: tg.norm(tg.ones((2, 2)), axis=[1]), ValueError, "'axis' must be"),
    (lambda: tg.einsum("ij,jk->ik", tg.ones((2, 3)), tg.ones((2, 2))), ValueError, "sizes 3 and 2"),
    (lambda: tg.einsum("ij->i", tg.ones((2, 3)), tg.ones((2, 2))), ValueError, "names 1 operands"),
    (lambda: tg.clip_by_global_norm(tg.ones(2), 1.0), TypeError, "list or tuple"),
    (lambda: tg.pad(tg.ones((2, 2)), [[2, 0], [0, 0]], "REFLECT"), tg.InvalidArgumentError, "less than"),
    (lambda: tg.pad(tg.ones((2, 2)), [[3, 0], [0, 0]], "SYMMETRIC"), tg.InvalidArgumentError, "no greater"),
    (lambda: tg.pad(tg.ones((2, 2)), [[-1, 0], [0, 0]]), tg.InvalidArgumentError, "non-negative"),
    (lambda: tg.pad(tg.ones((2, 2)), [[1, 0], [0, 0]], "EDGE"), ValueError, "mode must be"),
    (lambda: tg.split(tg.ones((6, 4)), 4), tg.InvalidArgumentError, "evenly"),
    (lambda: tg.slice(tg.ones((2, 3)), [0, 1], [3, 2]), tg.InvalidArgumentError, "leave the tensor"),
    (lambda: tg.gather_nd(tg.ones((2, 3)), [[2, 1]]), tg.InvalidArgumentError, "does not index into"),
    (lambda: tg.boolean_mask(tg.ones((2, 3)), [True]), ValueError, "must match"),
    (lambda: tg.reverse(tg.ones((2, 3)), [1, 1]), tg.InvalidArgumentError, "more than once"),
    (lambda: tg.tensor_scatter_nd_update(tg.ones((2, 3)), [[5, 0]], [1.0]), tg.InvalidArgumentError,
     "does not index into"),
    (lambda: tg.sort([3.0, 1.0], direction="UP"), ValueError, "ASCENDING, DESCENDING"),
    (lambda: tg.one_hot([0.0, 2.0], 3), TypeError, "integers"),
    (lambda: tg.gather(tg.ones((2, 3, 4)), [[0, 1], [1, 1]], axis=0, batch_dims=1), ValueError, "at most axis"),
])
def test_bad_input_says_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()
