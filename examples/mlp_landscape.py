"""The loss landscape of a small MLP's training, in the plane of its path (README's "descent lab" figure).

Run it with `python examples/mlp_landscape.py [OUT.png]`; by default it writes docs/mlp_pca_landscape.png.
A 2-8-1 tanh network (33 parameters) fits y = sin(3 x1) x2 with Adam; record="full" keeps every weight at
every step, which the plane of the path (its two principal directions) is computed from.
"""
import sys

import numpy as np

import tapegrad as tg

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, (64, 2))
y = np.sin(3 * X[:, :1]) * X[:, 1:]
x0 = {"W1": rng.normal(0, 1, (2, 8)), "b1": np.zeros(8), "W2": rng.normal(0, 0.5, (8, 1)), "b2": np.zeros(1)}


def mse(p):
    hidden = tg.tanh(X @ p["W1"] + p["b1"])
    return tg.reduce_mean((hidden @ p["W2"] + p["b2"] - y) ** 2)


result = tg.minimize(mse, x0, optimizer="adam", learning_rate=0.05, steps=300, record=("full", "state"))
print(result.message)
figure = tg.plot.landscape(result, projection="pca", resolution=50)
print(figure.labels.subtitle)
figure.save(sys.argv[1] if len(sys.argv) > 1 else "docs/mlp_pca_landscape.png", dpi=90, width=6.4, height=4.8,
            verbose=False)
