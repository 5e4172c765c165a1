"""TensorFlow's semantics in the cases users meet, checked against what TensorFlow 2.21 does.

Each expectation below was recorded by running the same code under TensorFlow 2.21 (CPU).
"""
import pickle
import threading

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import Primitive, apply


# ---- gradients flow only from watched tensors ----------------------------------------------------
def test_an_unwatched_constant_that_meets_a_watched_variable_has_no_gradient():
    c, v = tg.constant(2.0), tg.Variable(3.0)
    with tg.GradientTape(persistent=True) as tape:
        y = c * v + c ** 2
    gc, gv = tape.gradient(y, [c, v])
    assert gc is None and gv.numpy() == 2.0
    assert tape.gradient(y, c, unconnected_gradients="zero").numpy() == 0.0
    assert tape.jacobian(y, [c, v])[0] is None
    assert tape.jacobian(y, c, unconnected_gradients="zero").numpy() == 0.0
    assert "never watched" in str(tape.explain(y, c))


def test_a_tensor_computed_before_the_tape_has_no_gradient():
    c, v = tg.constant(2.0), tg.Variable(3.0)
    pre = c * 3.0
    with tg.GradientTape() as tape:
        y = pre * v
    assert tape.gradient(y, pre) is None


def test_a_target_is_its_own_source_even_unwatched_and_a_recorded_intermediate_is_a_source():
    c, x = tg.constant(2.0), tg.constant(3.0)
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        z = x * c
        y = z * z
    assert tape.gradient(c, c).numpy() == 1.0
    assert tape.gradient(y, z).numpy() == 2 * z.numpy()


def test_no_cotangent_is_computed_for_an_input_no_watched_source_depends_on():
    def must_not_run(g, ans, a, b):
        raise AssertionError("the walk computed a cotangent for an unwatched input")

    prim = Primitive("probe", lambda a, b: a * b, (must_not_run, lambda g, ans, a, b: g * a), register=False)
    big = tg.constant(np.ones((50, 50)))
    w = tg.Variable(np.full((50, 50), 2.0))
    with tg.GradientTape() as tape:
        y = apply(prim, (big, w))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), np.ones((50, 50)))


# ---- TensorFlow's guarded gradient kernels ---------------------------------------------------------
@pytest.mark.parametrize("op", [tg.sqrt, tg.math.rsqrt, tg.math.reciprocal])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_guarded_rules_give_zero_where_the_upstream_gradient_is_zero(op, value):
    x = tg.Variable([value, 4.0])
    with tg.GradientTape(persistent=True) as tape:
        selected = tg.where(x > 0, op(x), 0.0)
        scaled = op(x) * 0.0
    g = tape.gradient(selected, x).numpy()
    assert g[0] == 0.0 and np.isfinite(g[1]) and g[1] != 0.0
    np.testing.assert_array_equal(tape.gradient(scaled, x).numpy(), [0.0, 0.0])


def test_the_guard_keeps_the_true_gradient_and_the_unguarded_ops_stay_unguarded():
    x = tg.Variable(0.0)
    with tg.GradientTape(persistent=True) as tape:
        s = tg.sqrt(x)  # upstream 1: the derivative itself, inf
        logged = tg.where(x > 0, tg.math.log(x), 0.0)  # log is not protected in TensorFlow
        inverted = tg.where(x > 0, 1.0 / x, 0.0)  # nor is division
    assert np.isinf(tape.gradient(s, x).numpy())
    assert np.isnan(tape.gradient(logged, x).numpy())
    assert np.isnan(tape.gradient(inverted, x).numpy())


def test_euclidean_norm_of_zeros_times_zero_has_zero_gradient():
    x = tg.Variable([0.0, 0.0])
    with tg.GradientTape() as tape:
        y = tg.norm(x) * 0.0
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 0.0])


def test_no_nan_products_and_quotients():
    inf, nan = float("inf"), float("nan")
    np.testing.assert_array_equal(tg.math.multiply_no_nan([inf, nan, 2.0], [0.0, 0.0, 3.0]).numpy(), [0, 0, 6])
    np.testing.assert_array_equal(tg.math.divide_no_nan([1.0, 0.0, 6.0], [0.0, 0.0, 3.0]).numpy(), [0, 0, 2])


@pytest.mark.parametrize("values", [[0.0, 2.0, 3.0], [2.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
def test_reduce_prod_gradient_is_the_product_of_the_others_even_at_zeros(values):
    x = tg.Variable(np.array(values))
    with tg.GradientTape() as tape:
        y = tg.reduce_prod(x)
    others = [np.prod(np.delete(values, i)) for i in range(len(values))]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), others, rtol=1e-15)


def test_reduce_prod_over_some_axes_at_zeros_by_rows_and_by_jacobian():
    a = np.array([[[0.0, 2.0], [3.0, -1.0]], [[1.5, 0.0], [0.0, 4.0]], [[2.0, 0.5], [1.0, 3.0]]])
    x = tg.Variable(a)
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_prod(x, axis=(0, 2))
    jac = tape.jacobian(y, x).numpy()  # rows pushed through one batched walk
    for j in range(a.shape[1]):
        block = a[:, j, :].ravel()
        others = np.array([np.prod(np.delete(block, i)) for i in range(block.size)]).reshape(a.shape[0], a.shape[2])
        np.testing.assert_allclose(jac[j][:, j, :], others, rtol=1e-15)
        np.testing.assert_array_equal(np.delete(jac[j], j, axis=1), 0.0)


# ---- custom_gradient under nested tapes ----------------------------------------------------------------
def test_custom_gradient_second_derivative_is_the_derivative_of_grad_fn():
    @tg.custom_gradient
    def log1pexp(x):  # TensorFlow's own docstring example
        e = tg.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))
        return tg.math.log(1 + e), grad

    x = tg.Variable(np.float64(1.0))
    with tg.GradientTape() as t2:
        with tg.GradientTape() as t1:
            y = log1pexp(x)
        g = t1.gradient(y, x)
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(g.numpy(), s, rtol=1e-14)
    np.testing.assert_allclose(t2.gradient(g, x).numpy(), s * (1 - s), rtol=1e-14)


def test_custom_gradient_grad_fn_decides_the_second_derivative_too():
    @tg.custom_gradient
    def clipped(x):
        def grad(dy):
            return tg.clip_by_value(dy, -0.1, 0.1)
        return tg.identity(x), grad

    x = tg.Variable(1.0)
    with tg.GradientTape() as t2:
        with tg.GradientTape() as t1:
            y = clipped(x) * x
        g = t1.gradient(y, x)
    assert g.numpy() == pytest.approx(1.1) and t2.gradient(g, x).numpy() == pytest.approx(0.1)  # TF: 1.1, 0.1


# ---- tf.keras -----------------------------------------------------------------------------------------
def test_keras_optimizers_are_tapegrads_own():
    import tapegrad.keras.optimizers as ko
    from tapegrad.keras.optimizers.schedules import ExponentialDecay

    assert ko is tg.optimizers and tg.keras.optimizers.Adam is tg.optimizers.Adam
    assert ExponentialDecay is tg.optimizers.schedules.ExponentialDecay
    w = tg.Variable(5.0)
    opt = tg.keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(100):
        with tg.GradientTape() as tape:
            loss = (w - 2.0) ** 2
        opt.apply_gradients([(tape.gradient(loss, w), w)])
    assert abs(w.numpy() - 2.0) < 1e-4


@pytest.mark.parametrize("name", ["layers", "models", "Sequential"])
def test_what_keras_has_and_tapegrad_does_not_is_named(name):
    with pytest.raises(AttributeError, match=f"tf.keras.{name}.*provides tf.keras.optimizers"):
        getattr(tg.keras, name)
    assert not hasattr(tg.keras, name)
    with pytest.raises(AttributeError, match="Keras has"):
        tg.keras.optimizers.Ftrl  # noqa: B018


# ---- random ops with an op seed ----------------------------------------------------------------------
def test_an_op_seed_draws_new_numbers_each_call_and_set_seed_repeats_them():
    tg.random.set_seed(7)
    first = [tg.random.uniform([3], seed=1).numpy(), tg.random.uniform([3], seed=1).numpy(),
             tg.random.normal([3], seed=1).numpy(), tg.random.uniform([3]).numpy()]
    assert not np.array_equal(first[0], first[1])
    tg.random.set_seed(7)
    again = [tg.random.uniform([3], seed=1).numpy(), tg.random.uniform([3], seed=1).numpy(),
             tg.random.normal([3], seed=1).numpy(), tg.random.uniform([3]).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    tg.random.set_seed(8)
    assert not np.array_equal(tg.random.uniform([3], seed=1).numpy(), first[0])


# ---- printing ------------------------------------------------------------------------------------------
# repr() and print() of these, as TensorFlow 2.21 prints them.
_PRINTED = [
    (lambda: tg.constant(0.1), "<tf.Tensor: shape=(), dtype=float32, numpy=0.10000000149011612>",
     "tf.Tensor(0.1, shape=(), dtype=float32)"),
    (lambda: tg.Variable(0.1), "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=0.10000000149011612>",
     "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=0.10000000149011612>"),
    (lambda: tg.constant([0.1, 0.2]), "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([0.1, 0.2], dtype=float32)>",
     "tf.Tensor([0.1 0.2], shape=(2,), dtype=float32)"),
    (lambda: tg.constant(0.1, tg.float64), "<tf.Tensor: shape=(), dtype=float64, numpy=0.1>",
     "tf.Tensor(0.1, shape=(), dtype=float64)"),
    (lambda: tg.constant(123456789.0), "<tf.Tensor: shape=(), dtype=float32, numpy=123456792.0>",
     "tf.Tensor(1.2345679e+08, shape=(), dtype=float32)"),
    (lambda: tg.constant(3), "<tf.Tensor: shape=(), dtype=int32, numpy=3>", "tf.Tensor(3, shape=(), dtype=int32)"),
    (lambda: tg.constant(float("nan")), "<tf.Tensor: shape=(), dtype=float32, numpy=nan>",
     "tf.Tensor(nan, shape=(), dtype=float32)"),
    (lambda: tg.constant(0.1) + tg.constant(0.2), "<tf.Tensor: shape=(), dtype=float32, numpy=0.30000001192092896>",
     "tf.Tensor(0.3, shape=(), dtype=float32)"),
]


@pytest.mark.parametrize("make, shown, printed", _PRINTED)
def test_tensors_print_as_tensorflow_prints_them(make, shown, printed):
    t = make()
    assert repr(t) == shown and str(t) == printed


# ---- Variables ---------------------------------------------------------------------------------------
def test_assigning_a_tensor_of_another_dtype_is_an_error_and_numbers_are_converted():
    v = tg.Variable(1.0)
    for other in (tg.constant(2.0, tg.float64), tg.constant(2)):
        for how in (v.assign, v.assign_add, v.assign_sub):
            with pytest.raises(ValueError, match="requested dtype float32.*tg.cast"):
                how(other)
    assert v.numpy() == 1.0
    v.assign(np.float64(2.5))
    v.assign_add(1)
    assert v.numpy() == 3.5 and v.dtype == tg.float32


def test_assign_add_from_many_threads_loses_no_update():
    v = tg.Variable(0.0, dtype=tg.float64)
    w = tg.Variable(np.zeros(3))

    def work():
        for _ in range(20_000):
            v.assign_add(1.0)
            w.assign_sub([1.0, 2.0, 3.0])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert v.numpy() == 160_000.0
    np.testing.assert_array_equal(w.numpy(), [-160_000.0, -320_000.0, -480_000.0])


def test_a_variable_pickles_and_still_updates():
    v = pickle.loads(pickle.dumps(tg.Variable([1.0, 2.0], name="w", trainable=False)))
    v.assign_add([1.0, 1.0])
    assert v.name == "w:0" and not v.trainable
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0])
