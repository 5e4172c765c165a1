"""The seed blog post, section by section, with the numbers it printed."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tf

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "acceptance")


def test_11_first_derivative_of_watched_constant():
    x = tf.constant(100.0)
    b = tf.constant(10.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x**2 + b
    dy_dx = tape.gradient(y, x)
    del tape
    assert str(dy_dx) == "tf.Tensor(200.0, shape=(), dtype=float32)"


def test_12_two_variables_persistent():
    x = tf.constant(20.0)
    b = tf.constant(10.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(b)
        y = x**2 + b**2
        with pytest.warns(UserWarning):
            dy_dx = tape.gradient(y, x)
        dy_db = tape.gradient(y, b)
    assert str(dy_dx) == "tf.Tensor(40.0, shape=(), dtype=float32)"
    assert str(dy_db) == "tf.Tensor(20.0, shape=(), dtype=float32)"


def test_131_unwatched_constants_give_none():
    x = tf.constant(20.0)
    b = tf.constant(10.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x**2 + b**2
        dy_dx, dy_db = tape.gradient(y, [x, b])
    assert dy_dx is None and dy_db is None


def test_132_variables_are_watched():
    x = tf.Variable(20.0)
    b = tf.Variable(10.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x**2 + b**2
        dy_dx, dy_db = tape.gradient(y, [x, b])
    assert (float(dy_dx), float(dy_db)) == (40.0, 20.0)


def test_21_wrong_indentation_gives_none():
    x = tf.Variable(20.0)
    b = tf.Variable(10.0)
    with tf.GradientTape(persistent=True) as tape2:
        with tf.GradientTape(persistent=True) as tape1:
            y = x**2 + b**2
    dy_dx = tape1.gradient(y, x)
    dy_dx_1 = tape2.gradient(dy_dx, x)
    assert float(dy_dx) == 40.0 and dy_dx_1 is None


def test_22_second_derivative():
    x = tf.Variable(20.0)
    b = tf.Variable(10.0)
    with tf.GradientTape(persistent=True) as tape2:
        with tf.GradientTape(persistent=True) as tape1:
            y = x**2 + b**2
        dy_dx = tape1.gradient(y, x)
    dy_dx_1 = tape2.gradient(dy_dx, x)
    assert str(dy_dx_1) == "tf.Tensor(2.0, shape=(), dtype=float32)"


def test_23_array_second_derivative():
    x = tf.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape2:
        with tf.GradientTape(persistent=True) as tape1:
            y = tf.math.square(x)
        dy_dx = tape1.gradient(y, x)
    dy_dx_1 = tape2.gradient(dy_dx, x)
    assert str(dy_dx) == "tf.Tensor([-6. -4. -2.  0.  2.  4.  6.], shape=(7,), dtype=float32)"
    assert str(dy_dx_1) == "tf.Tensor([2. 2. 2. 2. 2. 2. 2.], shape=(7,), dtype=float32)"


def test_30_gradient_descent_as_written():
    def gradientdescent(learning_rate, w0):
        with tf.GradientTape() as tape:
            y = tf.math.square(w0)
        dy_dw0 = tape.gradient(y, w0)
        w0 = w0 - learning_rate * dy_dw0
        return w0

    w0 = tf.Variable(1.0, dtype=tf.float32)
    weights = []
    for _ in range(10000):
        weights.append(w0.numpy())
        w0 = tf.Variable(gradientdescent(0.01, w0).numpy(), dtype=tf.float32)
    # IEEE float32 arithmetic, step for step (TensorFlow flushes denormals and stops at 5.803526e-37).
    w, lr, two = np.float32(1.0), np.float32(0.01), np.float32(2.0)
    expected = []
    for _ in range(10000):
        expected.append(w)
        w = w - lr * (two * w)
    np.testing.assert_array_equal(np.array(weights), np.array(expected))
    assert w0.numpy() == w and w0.numpy() == np.float32(3.503246e-44)
    assert weights[1] == np.float32(0.98)


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED, "run.py")), reason="shared acceptance not beside")
def test_shared_acceptance_runner_passes_all():
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    out = subprocess.run([sys.executable, os.path.join(SHARED, "run.py"), "--impl", "tapegrad", "--ref",
                          os.path.join(SHARED, "reference.json")], capture_output=True, text=True, env=env,
                         timeout=300)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("acceptance: 8 passed, 0 failed, 0 errored"), out.stdout
