"""The seed's graphs drawn by tapegrad itself, and its backward passes replayed step by step.

Run it with `python examples/graphs.py [folder]`; the pictures go to tapegrad-demo/ (README's are in docs/).
No Graphviz is needed; the PNG and the GIF need matplotlib (`pip install 'tapegrad[plot]'`).
"""
import os
import sys

import numpy as np

import tapegrad as tf

out = sys.argv[1] if len(sys.argv) > 1 else "tapegrad-demo"
os.makedirs(out, exist_ok=True)

# 1.2: y = x**2 + b**2 at x = 20, b = 10
x = tf.Variable(20.0)
b = tf.Variable(10.0)
with tf.GradientTape(persistent=True) as tape:
    y = x ** 2 + b ** 2
g = tape.graph(y)
print(g)
g.render(os.path.join(out, "seed-graph.svg"))

# 1.1: y = x**2 + b at x = 100, the backward pass step by step
x = tf.constant(100.0)
b = tf.constant(10.0)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    y = x ** 2 + b
steps = tape.replay(y, x)
print(steps)
for k in range(len(steps) + 1):
    steps.draw(k).render(os.path.join(out, f"replay-step{k}.svg"))

# 2.2: the second derivative with nested tapes, and the graph the outer tape saw
x = tf.Variable(20.0)
b = tf.Variable(10.0)
with tf.GradientTape(persistent=True) as tape2:
    with tf.GradientTape(persistent=True) as tape1:
        y = x ** 2 + b ** 2
    dy_dx = tape1.gradient(y, x)
print(tape1.replay(y, [x, b]))
print(tape2.replay(dy_dx, x))
tape2.graph(dy_dx).render(os.path.join(out, "nested-graph.svg"))

# 2.3: elementwise, on an array
x = tf.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tf.float32)
with tf.GradientTape(persistent=True) as tape2:
    with tf.GradientTape(persistent=True) as tape1:
        y = tf.math.square(x)
    dy_dx = tape1.gradient(y, x)
print(tape1.replay(y, x))
print(tape2.replay(dy_dx, x))

# A small MLP: two dense layers, relu, softmax cross-entropy written out, an L2 penalty (about 30 ops)
rng = np.random.default_rng(0)
X = tf.constant(rng.normal(size=(4, 3)).astype("float32"))
labels = tf.constant(np.eye(3, dtype="float32")[[0, 2, 1, 0]])
W1 = tf.Variable(rng.normal(size=(3, 5)).astype("float32"))
b1 = tf.Variable(np.zeros(5, "float32"))
W2 = tf.Variable(rng.normal(size=(5, 3)).astype("float32"))
b2 = tf.Variable(np.zeros(3, "float32"))
with tf.GradientTape(persistent=True) as tape:
    h = tf.nn.relu(tf.matmul(X, W1) + b1)
    logits = tf.matmul(h, W2) + b2
    z = logits - tf.stop_gradient(tf.reduce_max(logits, axis=1, keepdims=True))
    e = tf.exp(z)
    p = e / tf.reduce_sum(e, axis=1, keepdims=True)
    ce = -tf.reduce_sum(labels * tf.math.log(p), axis=1)
    l2 = tf.reduce_sum(W1 ** 2) + tf.reduce_sum(b1 ** 2) + tf.reduce_sum(W2 ** 2) + tf.reduce_sum(b2 ** 2)
    loss = tf.reduce_mean(ce) + 1e-3 * l2
mlp = tape.graph(loss, rankdir="TB")
print(f"the MLP: {len(mlp.model.ops)} ops")
mlp.render(os.path.join(out, "mlp-graph.svg"))
try:
    mlp.render(os.path.join(out, "mlp-graph.png"))
    g.render(os.path.join(out, "seed-graph.png"))
    steps.animate(os.path.join(out, "replay.gif"))
except ImportError as err:
    print(err)
