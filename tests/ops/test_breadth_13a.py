"""TensorFlow's semantics of the tf.nn / tf.math additions: rules, dtypes, edge cases and errors.

Expected values marked "recorded" were printed by TensorFlow 2.21 (CPU) on the same inputs; they are
compared with a tolerance a float32 kernel's rounding stays within.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_grads


def test_softmax_cross_entropy_gradient_is_tensorflows_softmax_minus_labels():
    labels, logits = tg.constant([[0.5, 0.2]]), tg.Variable([[0.0, 0.0]])
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(labels)
        loss = tg.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    # recorded: loss 0.48520303, d/dlogits [[0, 0.3]] (labels summing to 0.7: not the loss's true gradient,
    # softmax * 0.7 - labels, but TensorFlow's), d/dlabels -log_softmax = [[0.6931472, 0.6931472]]
    np.testing.assert_allclose(loss.numpy(), [0.7 * np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), [[0.0, 0.3]], atol=1e-7)
    np.testing.assert_allclose(tape.gradient(loss, labels).numpy(), [[np.log(2)] * 2], rtol=1e-6)


def test_cross_entropies_are_stable_and_agree_with_each_other():
    logits = tg.constant([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]], tg.float64)
    sparse = tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=logits)
    dense = tg.nn.softmax_cross_entropy_with_logits(labels=tg.constant([[0.0, 1, 0], [0, 0, 1]], tg.float64),
                                                    logits=logits, axis=-1)
    assert np.isfinite(sparse.numpy()).all()
    np.testing.assert_allclose(sparse.numpy(), dense.numpy(), rtol=1e-15)
    np.testing.assert_allclose(sparse.numpy()[0], 1000.0, rtol=1e-15)
    # a class axis other than the last
    t = tg.nn.softmax_cross_entropy_with_logits(labels=tg.transpose(tg.nn.softmax(logits)),
                                                logits=tg.transpose(logits), axis=0)
    np.testing.assert_allclose(t.numpy(), tg.nn.softmax_cross_entropy_with_logits(tg.nn.softmax(logits),
                                                                                  logits).numpy(), rtol=1e-12)


def test_sparse_cross_entropy_errors_say_what_to_do():
    logits = tg.constant([[0.3, -0.1, 0.5]])
    with pytest.raises(tg.InvalidArgumentError, match="label value of 5 .* range of \\[0, 3\\)"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[5], logits=logits)
    with pytest.raises(TypeError, match="int32 or int64"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[1.0], logits=logits)
    with pytest.raises(tg.InvalidArgumentError, match="without its last"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1]], logits=logits)


def test_activations_match_recorded_tensorflow_values():
    x = tg.constant([-3.0, -0.5, 0.0, 1.2, 4.0])
    recorded = {  # tf.nn.* on x, float32
        "gelu": [-0.0040497, -0.15426877, 0.0, 1.0619165, 3.9998734],
        "gelu_tanh": [-3.6374331e-03, -1.5428600e-01, 0.0, 1.0617028, 3.9999299],
        "silu": [-0.14227763, -0.18877034, 0.0, 0.92222977, 3.928055],
        "silu_2": [-0.00741787, -0.13447072, 0.0, 1.1001928, 3.9986587],
        "selu": [-1.6705687, -0.69175816, 0.0, 1.2608413, 4.202804],
        "softsign": [-0.75, -0.33333334, 0.0, 0.54545456, 0.8],
        "log_sigmoid": [-3.0485873, -0.974077, -0.6931472, -0.26328245, -0.01814993],
    }
    got = {"gelu": tg.nn.gelu(x), "gelu_tanh": tg.nn.gelu(x, approximate=True), "silu": tg.nn.silu(x),
           "silu_2": tg.nn.silu(x, beta=2.0), "selu": tg.nn.selu(x), "softsign": tg.nn.softsign(x),
           "log_sigmoid": tg.math.log_sigmoid(x)}
    for name, want in recorded.items():
        assert got[name].dtype == tg.float32
        np.testing.assert_allclose(got[name].numpy(), want, rtol=2e-6, atol=1e-6, err_msg=name)
    assert tg.nn.swish is tg.nn.silu


def test_l2_normalize_moments_bias_add():
    np.testing.assert_allclose(tg.nn.l2_normalize([[3.0, 4.0], [0.0, 0.0]], axis=1).numpy(), [[0.6, 0.8], [0, 0]])
    mean, var = tg.nn.moments(tg.constant([[1.0, 2.0], [3.0, 5.0]]), axes=[0])
    np.testing.assert_allclose([mean.numpy(), var.numpy()], [[2.0, 3.5], [1.0, 2.25]])
    mean, var = tg.nn.moments(tg.constant([[1.0, 2.0], [3.0, 5.0]]), axes=[0, 1], keepdims=True)
    assert mean.shape == (1, 1) and var.shape == (1, 1)
    out = tg.nn.bias_add(tg.ones((1, 3, 2)), [1.0, 2.0, 3.0], data_format="NCHW").numpy()
    np.testing.assert_array_equal(out[0, :, 0], [2, 3, 4])
    with pytest.raises(tg.InvalidArgumentError, match="as many biases"):
        tg.nn.bias_add(tg.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(tg.InvalidArgumentError, match="1-D"):
        tg.nn.bias_add(tg.ones((2, 3)), [[1.0, 2.0, 3.0]])


def test_dropout_scales_what_it_keeps_and_repeats_with_a_seed():
    x = tg.Variable(tg.ones((4000,)))
    with tg.GradientTape() as tape:
        y = tg.nn.dropout(x, rate=0.25, seed=7)
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    assert 0.70 < kept.mean() < 0.80  # 4000 draws: far outside 7 standard deviations otherwise
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), y.numpy())
    tg.random.set_seed(3)
    a = tg.nn.dropout(tg.ones((50,)), 0.5, seed=1).numpy()
    tg.random.set_seed(3)
    np.testing.assert_array_equal(tg.nn.dropout(tg.ones((50,)), 0.5, seed=1).numpy(), a)
    rows = tg.nn.dropout(tg.ones((30, 4)), 0.5, noise_shape=[30, 1], seed=2).numpy()
    assert all(len(set(r)) == 1 for r in rows)  # one draw per row
    with pytest.raises(ValueError, match="range \\[0, 1\\)"):
        tg.nn.dropout(tg.ones((3,)), 1.0)
    np.testing.assert_array_equal(tg.nn.dropout(tg.ones((3,)), 0.0).numpy(), [1, 1, 1])


def test_segments_as_tensorflow():
    # recorded: segment_max with an empty segment gives 0 there; unsorted_segment_sum leaves 0
    np.testing.assert_array_equal(tg.math.segment_max([1.0, 2.0, 3.0], [0, 0, 2]).numpy(), [2, 0, 3])
    np.testing.assert_array_equal(tg.math.unsorted_segment_sum([1.0, 2.0, 3.0], [0, 2, 0], 4).numpy(), [4, 0, 2, 0])
    x = tg.Variable([1.0, 3.0, 3.0, 2.0])
    with tg.GradientTape(persistent=True) as tape:
        m = tg.math.segment_max(x, [0, 0, 0, 1])
        mean = tg.math.segment_mean(x, [0, 0, 2, 2])
    np.testing.assert_array_equal(tape.gradient(m, x).numpy(), [0, 0.5, 0.5, 1])  # ties share it (recorded)
    np.testing.assert_array_equal(tape.gradient(mean, x).numpy(), [0.5] * 4)
    with pytest.raises(tg.InvalidArgumentError, match="not increasing"):
        tg.math.segment_sum([1.0, 2.0], [1, 0])
    with pytest.raises(tg.InvalidArgumentError, match="out of range"):
        tg.math.unsorted_segment_sum([1.0, 2.0], [0, 3], 2)
    with pytest.raises(tg.InvalidArgumentError, match="prefix"):
        tg.math.segment_sum([1.0, 2.0], [0, 0, 1])
    # a 2-D id array picks rows of a 3-D data tensor; checked against finite differences
    ids = np.array([[0, 1], [1, 1]])
    check_grads(lambda d: tg.math.unsorted_segment_sum(d, ids, 3), [np.ones((2, 2, 3))], order=2, per_element=True)


def test_top_k_count_nonzero_and_small_ops():
    r = tg.math.top_k([1.0, 3.0, 3.0, 2.0], k=3)
    np.testing.assert_array_equal(r.values.numpy(), [3, 3, 2])
    np.testing.assert_array_equal(r.indices.numpy(), [1, 2, 3])  # ties: the lower index first (recorded)
    assert r.indices.dtype == tg.int32 and tg.nn.top_k is tg.math.top_k
    with pytest.raises(tg.InvalidArgumentError, match="at least k"):
        tg.math.top_k([1.0, 2.0], k=3)
    assert tg.math.count_nonzero([1.0, 0.0, 2.0]).dtype == tg.int64
    np.testing.assert_array_equal(tg.math.count_nonzero([[1, 0], [2, 3]], axis=1, keepdims=True, dtype=tg.int32),
                                  [[1], [2]])
    assert float(tg.truncatemod(-7.0, 3.0)) == -1.0 and float(tg.math.floormod(-7.0, 3.0)) == 2.0
    np.testing.assert_array_equal(tg.math.rint([0.5, 1.5, -2.5]).numpy(), [0, 2, -2])
    with pytest.raises(TypeError, match="int32"):
        tg.math.rint([1, 2])
    assert float(tg.math.polyval([1.0, 2.0, 3.0], 2.0)) == 11.0
    assert float(tg.math.polyval([], 2.0)) == 0.0


def test_xlogy_is_zero_where_x_is_zero_with_zero_gradients():
    assert float(tg.math.xlogy(0.0, 0.0)) == 0.0 and float(tg.math.xlog1py(0.0, -1.0)) == 0.0
    with np.errstate(divide="ignore"):  # log(0), as tg.math.log(0.0) warns
        assert float(tg.math.xlogy(1.0, 0.0)) == -np.inf
    a, b = tg.Variable(0.0), tg.Variable(0.0)
    with tg.GradientTape() as tape:
        y = tg.math.xlogy(a, b)
    assert [float(g) for g in tape.gradient(y, [a, b])] == [0.0, 0.0]  # recorded: TensorFlow's too


def test_complex_from_parts():
    z = tg.complex(1.0, 2.0)
    assert z.dtype == tg.complex64 and z.numpy() == 1 + 2j
    assert tg.complex(tg.constant(1.0, tg.float64), tg.constant([2.0, np.inf], tg.float64)).dtype == tg.complex128
    assert tg.complex(0.0, np.inf).numpy().imag == np.inf  # not NaN, as 1j * inf would give
    with pytest.raises(TypeError, match="float32 or both float64"):
        tg.complex(1, 2)
    r, i = tg.Variable(1.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = tg.math.real(tg.complex(r, i) * tg.complex(r, i))
    assert [float(g) for g in tape.gradient(y, [r, i])] == [2.0, -4.0]  # recorded


def test_reduce_variance_and_std():
    np.testing.assert_allclose(tg.math.reduce_variance([1.0, 2.0, 4.0]).numpy(), np.var([1, 2, 4]), rtol=1e-6)
    np.testing.assert_allclose(tg.math.reduce_std([[1.0, 2.0], [3.0, 5.0]], axis=0).numpy(), [1.0, 1.5])
    v = tg.math.reduce_variance(tg.constant([1 + 1j, 2 - 1j]))
    assert v.dtype == tg.float64 and float(v) == 1.25
    with pytest.raises(TypeError, match="int32"):
        tg.math.reduce_variance([1, 2])
