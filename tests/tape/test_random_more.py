"""tf.random additions: truncated_normal, shuffle, categorical, Generator (TensorFlow's semantics; NumPy's bits)."""
import numpy as np
import pytest

import tapegrad as tg


def test_truncated_normal_stays_within_two_standard_deviations():
    tg.random.set_seed(0)
    x = tg.random.truncated_normal((20000,), mean=3.0, stddev=0.5, dtype=tg.float64)
    assert x.dtype == tg.float64 and x.shape == (20000,)
    v = x.numpy()
    assert np.all(np.abs(v - 3.0) <= 1.0)
    # Truncating at 2 sigma leaves a standard deviation of about 0.88 sigma; 20000 draws pin it within a few %.
    assert abs(v.mean() - 3.0) < 0.02 and 0.40 < v.std() < 0.48
    assert tg.random.truncated_normal((2, 3)).dtype == tg.float32


def test_float_only_draws_say_so_for_integer_dtypes():
    with pytest.raises(TypeError, match="floating-point"):
        tg.random.truncated_normal((2,), dtype=tg.int32)
    with pytest.raises(TypeError, match="floating-point"):
        tg.random.Generator.from_seed(1).normal((2,), dtype=tg.int32)


@pytest.mark.parametrize("draw", [
    lambda s: tg.random.truncated_normal((4,), seed=s),
    lambda s: tg.random.shuffle(tg.range(10), seed=s),
    lambda s: tg.random.categorical(tg.zeros((1, 5)), 8, seed=s),
])
def test_op_seeds_follow_tensorflows_eager_rule(draw):
    # Same op seed: a new draw each call; set_seed starts every sequence again.
    tg.random.set_seed(3)
    first = [draw(1).numpy() for _ in range(3)]
    tg.random.set_seed(3)
    again = [draw(1).numpy() for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], f) for f in first[1:])


def test_shuffle_permutes_the_first_dimension_and_has_no_gradient():
    x = tg.reshape(tg.range(12), (6, 2))
    y = tg.random.shuffle(x).numpy()
    assert y.shape == (6, 2)
    assert sorted(map(tuple, y)) == sorted(map(tuple, x.numpy()))
    assert float(tg.random.shuffle(tg.constant(3.0))) == 3.0  # a scalar comes back as it is
    v = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.random.shuffle(v) * [1.0, 2.0, 3.0])
    assert tape.gradient(loss, v) is None  # as in TensorFlow: RandomShuffle has no gradient


def test_categorical_draws_with_softmax_probabilities():
    tg.random.set_seed(0)
    logits = tg.constant([[np.log(0.2), np.log(0.8), -np.inf], [0.0, 0.0, 0.0]])  # -inf: never drawn
    s = tg.random.categorical(logits, 30000)
    assert s.dtype == tg.int64 and s.shape == (2, 30000)
    counts = [np.bincount(row, minlength=3) / 30000 for row in s.numpy()]
    assert counts[0][2] == 0
    np.testing.assert_allclose(counts[0], [0.2, 0.8, 0.0], atol=0.02)  # standard error ~0.0023
    np.testing.assert_allclose(counts[1], [1 / 3] * 3, atol=0.02)
    assert tg.random.categorical([[0.0, 1.0]], 3, dtype=tg.int32).dtype == tg.int32
    assert tg.random.categorical(tg.zeros((2, 3)), 0).shape == (2, 0)


def test_categorical_refuses_what_tensorflow_refuses():
    with pytest.raises(tg.InvalidArgumentError, match="matrix"):
        tg.random.categorical([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="int32 or tg.int64"):
        tg.random.categorical([[1.0, 2.0]], 3, dtype=tg.float32)
    with pytest.raises(tg.InvalidArgumentError, match="floating point"):
        tg.random.categorical([[0, 1]], 3)


def test_a_generator_from_a_seed_repeats_and_split_makes_independent_ones():
    a, b = tg.random.Generator.from_seed(5), tg.random.Generator.from_seed(5)
    np.testing.assert_array_equal(a.normal((4,)).numpy(), b.normal((4,)).numpy())
    assert not np.array_equal(a.normal((4,)).numpy(), tg.random.Generator.from_seed(6).normal((4,)).numpy())
    kids = tg.random.Generator.from_seed(1).split(3)
    again = tg.random.Generator.from_seed(1).split(3)
    draws = [k.uniform((5,)).numpy() for k in kids]
    for k, d in zip(again, draws):
        np.testing.assert_array_equal(k.uniform((5,)).numpy(), d)
    assert not np.array_equal(draws[0], draws[1])
    # The parent moves on: splitting again gives other children.
    parent = tg.random.Generator.from_seed(1)
    first, second = parent.split(1)[0], parent.split(1)[0]
    assert not np.array_equal(first.normal((3,)).numpy(), second.normal((3,)).numpy())
    g = tg.random.Generator.from_seed(2)
    x = g.normal((2,))
    g.reset_from_seed(2)
    np.testing.assert_array_equal(g.normal((2,)).numpy(), x.numpy())
    copy = tg.random.Generator(copy_from=g)
    np.testing.assert_array_equal(copy.uniform((3,)).numpy(), g.uniform((3,)).numpy())


def test_generator_uniform_bounds_and_dtypes():
    g = tg.random.Generator.from_seed(0)
    f = g.uniform((1000,), minval=2.0, maxval=4.0, dtype=tg.float64)
    assert f.dtype == tg.float64 and f.numpy().min() >= 2.0 and f.numpy().max() < 4.0
    i = g.uniform((1000,), minval=-3, maxval=3, dtype=tg.int32).numpy()
    assert i.dtype == np.int32 and set(np.unique(i)) == set(range(-3, 3))
    full = g.uniform((1000,), minval=None, dtype=tg.int64).numpy()
    assert full.dtype == np.int64 and full.min() < -2 ** 60 and full.max() > 2 ** 60
    with pytest.raises(ValueError, match="both `None` or both non-`None`"):
        g.uniform((2,), dtype=tg.int32)
    t = g.truncated_normal((500,), stddev=2.0).numpy()
    assert np.abs(t).max() <= 4.0


def test_draws_inside_tg_function_are_new_each_call():
    g = tg.random.Generator.from_seed(0)
    f = tg.function(lambda: g.normal((3,)) + tg.random.truncated_normal((3,)))
    a, b = f().numpy(), f().numpy()
    assert not np.array_equal(a, b)
