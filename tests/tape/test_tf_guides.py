"""Code from TensorFlow's guides "Introduction to gradients and automatic differentiation" and
"Advanced automatic differentiation", run unchanged with ``import tapegrad as tf``.

Expected numbers are the ones the guides print (they follow from calculus, noted beside each).
Keras layers and tf.image are outside tapegrad (see README, differences from TensorFlow).
"""
import threading
import warnings

import numpy as np
import pytest

import tapegrad as tf


def test_intro_first_gradient():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x**2
    dy_dx = tape.gradient(y, x)
    assert dy_dx.numpy() == 6.0  # 2x at 3


def test_intro_dense_layer_by_hand_list_and_dict_sources():
    w = tf.Variable(tf.random.normal((3, 2)), name="w")
    b = tf.Variable(tf.zeros(2, dtype=tf.float32), name="b")
    x = [[1.0, 2.0, 3.0]]
    with tf.GradientTape(persistent=True) as tape:
        y = x @ w + b
        loss = tf.reduce_mean(y**2)
    [dl_dw, dl_db] = tape.gradient(loss, [w, b])
    assert dl_dw.shape == w.shape and dl_db.shape == b.shape
    yv = np.array(x, np.float32) @ w.numpy() + b.numpy()
    np.testing.assert_allclose(dl_db.numpy(), (yv).ravel(), rtol=1e-5)  # d mean(y^2)/db = 2y/2
    np.testing.assert_allclose(dl_dw.numpy(), np.array(x, np.float32).T @ yv, rtol=1e-5)
    grad = tape.gradient(loss, {"w": w, "b": b})
    np.testing.assert_allclose(grad["b"].numpy(), dl_db.numpy())


def test_intro_what_is_watched():
    x0 = tf.Variable(3.0, name="x0")
    x1 = tf.Variable(3.0, name="x1", trainable=False)
    x2 = tf.Variable(2.0, name="x2") + 1.0  # a Tensor now, not a Variable
    x3 = tf.constant(3.0, name="x3")
    with tf.GradientTape() as tape:
        y = (x0**2) + (x1**2) + (x2**2)
    grad = tape.gradient(y, [x0, x1, x2, x3])
    assert grad[0].numpy() == 6.0 and grad[1:] == [None, None, None]
    assert [var.name for var in tape.watched_variables()] == ["x0:0"]


def test_intro_watch_accessed_variables_false():
    x0 = tf.Variable(0.0)
    x1 = tf.Variable(10.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x1)
        y0 = tf.math.sin(x0)
        y1 = tf.nn.softplus(x1)
        y = y0 + y1
        ys = tf.reduce_sum(y)
    grad = tape.gradient(ys, {"x0": x0, "x1": x1})
    assert grad["x0"] is None
    np.testing.assert_allclose(grad["x1"].numpy(), 1 / (1 + np.exp(-10.0)), rtol=1e-6)  # sigmoid(10)


def test_intro_gradient_of_intermediate():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(z, y).numpy() == 18.0  # 2y at y = 9


def test_intro_persistent_tape():
    x = tf.constant([1, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), [4.0, 108.0])  # 4x^3
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 6.0])  # 2x
    del tape


def test_intro_multiple_targets_are_summed():
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y0 = x**2
        y1 = 1 / x
    assert tape.gradient(y0, x).numpy() == 4.0
    assert tape.gradient(y1, x).numpy() == -0.25
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y0 = x**2
        y1 = 1 / x
    assert tape.gradient({"y0": y0, "y1": y1}, x).numpy() == 3.75
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * [3.0, 4.0]
    assert tape.gradient(y, x).numpy() == 7.0


def test_intro_sigmoid_over_linspace():
    x = tf.linspace(-10.0, 10.0, 200 + 1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.sigmoid(x)
    dy_dx = tape.gradient(y, x)
    s = 1 / (1 + np.exp(-x.numpy().astype(np.float64)))
    np.testing.assert_allclose(dy_dx.numpy(), s * (1 - s), atol=1e-6)


def test_intro_control_flow():
    x = tf.constant(1.0)
    v0 = tf.Variable(2.0)
    v1 = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        if x > 0.0:
            result = v0
        else:
            result = v1**2
    dv0, dv1 = tape.gradient(result, [v0, v1])
    assert dv0.numpy() == 1.0 and dv1 is None
    assert tape.gradient(result, x) is None


def test_intro_cases_returning_none():
    x = tf.Variable(2.0)
    y = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        z = y * y
    assert tape.gradient(z, x) is None

    x = tf.Variable(2.0)
    seen = []
    for _ in range(2):
        with tf.GradientTape() as tape:
            y = x + 1
        seen.append(tape.gradient(y, x))
        x = x + 1  # replaces the Variable by a Tensor
    assert seen[0].numpy() == 1.0 and seen[1] is None

    x = tf.Variable([[1.0, 2.0], [3.0, 4.0]], dtype=tf.float32)
    with tf.GradientTape() as tape:
        x2 = x**2
        y = np.mean(x2, axis=0)  # TensorFlow leaves the tape here (gradient None); tapegrad records np.mean
        y = tf.reduce_mean(y, axis=0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), x.numpy() / 2, rtol=1e-6)

    x = tf.constant(10)
    with tf.GradientTape() as g:
        with pytest.warns(UserWarning, match="must be floating"):
            g.watch(x)
        y = x * x
    with pytest.warns(UserWarning, match="must be floating"):
        assert g.gradient(y, x) is None

    x0 = tf.Variable(3.0)
    x1 = tf.Variable(0.0)
    with tf.GradientTape() as tape:
        x1.assign_add(x0)
        y = x1**2
    assert tape.gradient(y, x0) is None


def test_intro_unconnected_zero():
    x = tf.Variable([2.0, 2.0])
    y = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        z = y**2
    g = tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_advanced_stop_recording_reset_stop_gradient():
    x, y = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as t:
        x_sq = x * x
        with t.stop_recording():
            y_sq = y * y
        z = x_sq + y_sq
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None

    x, y = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as t:
        y_sq = y * y
        t.reset()
        z = x * x + y_sq
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None

    x, y = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as t:
        y_sq = y**2
        z = x**2 + tf.stop_gradient(y_sq)
    grad = t.gradient(z, {"x": x, "y": y})
    assert grad["x"].numpy() == 4.0 and grad["y"] is None


def test_advanced_custom_gradient_clips():
    @tf.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return tf.clip_by_norm(dy, 0.5)
        return y, backward

    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        output = clip_gradients(v * v)
    assert t.gradient(output, v).numpy() == 2.0  # 2v = 4 clipped to 0.5, times dv*v/dv = 4 -> 2


def test_advanced_two_tapes_in_one_with():
    x0 = tf.constant(0.0)
    x1 = tf.constant(0.0)
    with tf.GradientTape() as tape0, tf.GradientTape() as tape1:
        tape0.watch(x0)
        tape1.watch(x1)
        y0 = tf.math.sin(x0)
        y1 = tf.nn.sigmoid(x1)
        y = y0 + y1
        ys = tf.reduce_sum(y)
    assert tape0.gradient(ys, x0).numpy() == 1.0  # cos 0
    assert tape1.gradient(ys, x1).numpy() == 0.25  # s(1-s) at 0


def test_advanced_higher_order():
    x = tf.Variable(1.0)
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            y = x * x * x
        dy_dx = t1.gradient(y, x)
    d2y_dx2 = t2.gradient(dy_dx, x)
    assert dy_dx.numpy() == 3.0 and d2y_dx2.numpy() == 6.0


def test_advanced_jacobian_scalar_source():
    x = tf.linspace(-10.0, 10.0, 200 + 1)
    delta = tf.Variable(0.0)
    with tf.GradientTape() as tape:
        y = tf.nn.sigmoid(x + delta)
    dy_dx = tape.jacobian(y, delta)
    assert y.shape == (201,) and dy_dx.shape == (201,)
    s = 1 / (1 + np.exp(-x.numpy().astype(np.float64)))
    np.testing.assert_allclose(dy_dx.numpy(), s * (1 - s), atol=1e-6)


def test_advanced_jacobian_matrix_source_and_hessian_by_nesting():
    tf.random.set_seed(1)
    x = tf.random.normal([7, 5], dtype=tf.float64)
    w = tf.Variable(tf.random.normal([5, 10], dtype=tf.float64))
    with tf.GradientTape(persistent=True) as tape:
        y = tf.nn.relu(x @ w)
    j = tape.jacobian(y, w)
    assert j.shape == (7, 10, 5, 10)
    mask = (x.numpy() @ w.numpy() > 0).astype(float)
    want = np.einsum("ik,ja,kb->ikab", mask, x.numpy().T, np.eye(10)).transpose(0, 1, 2, 3)
    want = np.einsum("ik,ia,kb->ikab", mask, x.numpy(), np.eye(10))
    np.testing.assert_allclose(j.numpy(), want)

    v = tf.Variable([1.0, 2.0, 3.0], dtype=tf.float64)
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            loss = tf.reduce_sum(v**3) + v[0] * v[1]
        g = t1.gradient(loss, v)
    h = t2.jacobian(g, v)
    np.testing.assert_allclose(h.numpy(), np.diag(6 * v.numpy()) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]))


def test_advanced_batch_jacobian():
    x = tf.random.normal([7, 5], dtype=tf.float64)
    w = tf.random.normal([5, 8], dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.nn.elu(x @ w)
    jb = tape.batch_jacobian(y, x)
    assert jb.shape == (7, 8, 5)
    full = tape.jacobian(y, x)
    np.testing.assert_allclose(jb.numpy(), np.einsum("bjbi->bji", full.numpy()))


def test_tapes_are_thread_local():
    x = tf.Variable(2.0)
    seen = {}

    def other():
        seen["y"] = x * x  # not inside this thread's tape

    with tf.GradientTape() as tape:
        t = threading.Thread(target=other)
        t.start()
        t.join()
        z = x * 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tape.gradient([seen["y"], z], x).numpy() == 3.0
