"""tg.constant / convert_to_tensor / ops share a NumPy array's memory instead of copying it.

TensorFlow copies. tapegrad hands the tensor a read-only view (never touching the user's array's
flags), so a large data matrix is not duplicated; a later write to the user's array shows in the
tensor (README, "Differences from TensorFlow").
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("make", [tg.constant, tg.convert_to_tensor, tg.Tensor])
def test_a_tensor_shares_the_array_through_a_read_only_view(make):
    a = np.arange(6.0).reshape(2, 3)
    t = make(a)
    v = t.numpy()
    assert np.shares_memory(v, a)
    assert a.flags.writeable  # the user's array is untouched
    assert not v.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        v[0, 0] = 1.0
    a[0, 0] = 42.0  # documented: the tensor shares, so it sees the write
    assert t.numpy()[0, 0] == 42.0


def test_ops_on_numpy_arrays_neither_copy_nor_lock_them():
    a = np.linspace(-1.0, 1.0, 5)
    w = tg.Variable(np.ones(5))
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(tg.sin(a * w))
    g = tape.gradient(y, w)
    np.testing.assert_allclose(g.numpy(), np.cos(a) * a, rtol=1e-12)
    assert a.flags.writeable
    a[:] = 0.0  # still the user's to write
    assert a.sum() == 0.0


def test_a_cast_or_a_variable_copies():
    a = np.ones(3)
    t = tg.constant(a, dtype=tg.float32)  # a new array of another dtype: tapegrad's own
    v = tg.Variable(a)
    a[0] = 5.0
    assert t.numpy()[0] == 1.0 and v.numpy()[0] == 1.0
    assert not np.shares_memory(t.numpy(), a)


def test_a_gradient_never_writes_into_the_shared_data():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 4)), (rng.random(50) < 0.5).astype(np.float64)
    X0, y0 = X.copy(), y.copy()
    w = tg.Variable(np.full(4, 0.1))
    with tg.GradientTape() as tape:
        loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=tg.constant(y),
                                                                      logits=tg.linalg.matvec(tg.constant(X), w)))
    tape.gradient(loss, w)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_assigning_a_numpy_array_to_a_variable_copies_it_as_tensorflow_does():
    a = np.ones(3)
    v = tg.Variable(np.zeros(3))
    v.assign(a)
    a[0] = 5.0  # the user's array stays theirs: the Variable does not see the write
    np.testing.assert_array_equal(v.numpy(), np.ones(3))
    assert a.flags.writeable
