"""The seed blog post's code, unchanged but for its first line: `import tapegrad as tf`.

Run it with `python examples/seed.py`; it prints what the blog printed.
"""
import numpy as np

import tapegrad as tf

print("1.1 First derivative of x**2 + b at x = 100 (x watched):")
x = tf.constant(100.0)
b = tf.constant(10.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = x**2 + b
dy_dx = tape.gradient(y, x)
del tape
print(dy_dx)

print("\n1.2 Two variables, persistent tape, gradients after the `with` block:")
x = tf.constant(20.0)
b = tf.constant(10.0)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    tape.watch(b)
    y = x**2 + b**2
dy_dx = tape.gradient(y, x)
dy_db = tape.gradient(y, b)
del tape
print(dy_dx)
print(dy_db)

print("\n1.3.1 Constants that were never watched give None:")
x = tf.constant(20.0)
b = tf.constant(10.0)
with tf.GradientTape(persistent=True) as tape:
    y = x**2 + b**2
dy_dx, dy_db = tape.gradient(y, [x, b])
print(dy_dx)
print(dy_db)

print("\n1.3.2 Variables are watched automatically:")
x = tf.Variable(20.0)
b = tf.Variable(10.0)
with tf.GradientTape(persistent=True) as tape:
    y = x**2 + b**2
dy_dx, dy_db = tape.gradient(y, [x, b])
print(dy_dx)
print(dy_db)

print("\n2.1 Second derivative, first gradient taken outside the outer tape (None):")
with tf.GradientTape(persistent=True) as tape2:
    with tf.GradientTape(persistent=True) as tape1:
        y = x**2 + b**2
dy_dx = tape1.gradient(y, x)
dy_dx_1 = tape2.gradient(dy_dx, x)
print(dy_dx)
print(dy_dx_1)

print("\n2.2 Second derivative with the right indentation:")
with tf.GradientTape(persistent=True) as tape2:
    with tf.GradientTape(persistent=True) as tape1:
        y = x**2 + b**2
    dy_dx = tape1.gradient(y, x)
dy_dx_1 = tape2.gradient(dy_dx, x)
print(dy_dx)
print(dy_dx_1)

print("\n2.3 Element-wise first and second derivatives of x**2:")
x = tf.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tf.float32)
with tf.GradientTape(persistent=True) as tape2:
    with tf.GradientTape(persistent=True) as tape1:
        y = tf.math.square(x)
    dy_dx = tape1.gradient(y, x)
dy_dx_1 = tape2.gradient(dy_dx, x)
print(dy_dx)
print(dy_dx_1)

print("\n3.0 Gradient descent on y = w0**2, lr 0.01, 10,000 epochs:")


def gradientdescent(learning_rate, w0):
    with tf.GradientTape() as tape:
        y = tf.math.square(w0)
    dy_dw0 = tape.gradient(y, w0)
    w0 = w0 - learning_rate * dy_dw0
    return w0


w0 = tf.Variable(1.0, dtype=tf.float32)
weights = []
for i in range(10000):  # noqa: B007  (the blog's own loop)
    weights.append(w0.numpy())
    w0 = tf.Variable(gradientdescent(0.01, w0).numpy(), dtype=tf.float32)
print(repr(w0.numpy()))
print("(TensorFlow prints 5.803526e-37: it flushes float32 denormals to zero; exact IEEE float32 goes on to "
      f"{np.float32(w0.numpy()):.6e})")
