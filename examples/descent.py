"""The seed's gradient descent as one call, its figure, and the optimizers raced on Rosenbrock.

Run it with `python examples/descent.py`; the figures go to tapegrad-demo/.
"""
import os

import numpy as np

import tapegrad as tg

out = "tapegrad-demo"
os.makedirs(out, exist_ok=True)

# The blog's 10,000 epochs of w0 - 0.01 * dy/dw0 on y = w0**2, recorded step by step.
result = tg.minimize(lambda w0: w0**2, tg.Variable(1.0), optimizer=tg.optimizers.SGD(0.01), steps=10_000)
print(result)
print(result.history.summary())
result.plot().save(os.path.join(out, "w0_over_epochs.png"), verbose=False)  # the blog's figure
result.plot("loss").save(os.path.join(out, "loss.png"), verbose=False)


def rosenbrock(p):
    return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2


start = {"x": np.float64(-1.2), "y": np.float64(1.0)}
runs = {name: tg.minimize(rosenbrock, start, optimizer=name, learning_rate=lr, steps=3000, gtol=1e-8)
        for name, lr in [("sgd", 0.001), ("momentum", 0.001), ("adam", 0.02), ("lbfgs", None), ("newton", None)]}
for name, r in runs.items():
    print(f"{name:>9}: {r.status:<9} after {r.steps:>4} steps, x = ({r.x['x']:.6f}, {r.x['y']:.6f})")
tg.plot.compare(runs).save(os.path.join(out, "rosenbrock_compare.png"), verbose=False)
runs["adam"].plot("landscape").save(os.path.join(out, "rosenbrock_adam_path.png"), verbose=False)
print(f"figures written to {out}/")
