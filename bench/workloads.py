"""The benchmark workloads: tapegrad, the same-process floor, and the data they share.

Each workload builder takes the shared data and returns a callable doing one unit of
work (``steps`` descent steps, or one gradient); its result is what ``check`` compares,
so a floor that computes something else cannot make tapegrad look good.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bench_history import minimize_no_record, minimize_seed

import tapegrad as tg

STEPS = 10_000  # the seed's 10,000 epochs


@dataclass
class Workload:
    """One row group of the table: what is timed, per what, and the target it must meet."""

    key: str
    title: str
    per: str                      # "step": times are divided by steps; "call": one unit is one call
    target: str                   # the target, as text
    limit_us: float | None        # absolute target in microseconds per step/call (None: ratio target)
    limit_ratio: float | None     # target as a ratio to the floor
    limit_memory: float | None    # target for peak memory as a ratio to the floor
    data: Callable[[], dict]
    impls: dict[str, Callable[[dict], Callable[[], Any]]] = field(default_factory=dict)
    steps: int = 1
    limit_peer: dict[str, float] = field(default_factory=dict)  # peer's name -> most time as a multiple of it


# ---- 1. the seed's loop as written --------------------------------------------------------------

def seed_loop_tapegrad(d: dict) -> Callable[[], Any]:
    tf = tg

    def gradientdescent(learning_rate, w0):
        with tf.GradientTape() as tape:
            y = tf.math.square(w0)
        dy_dw0 = tape.gradient(y, w0)
        w0 = w0 - learning_rate * dy_dw0
        return w0

    def run() -> Any:
        w0 = tf.Variable(1.0, dtype=tf.float32)
        for _ in range(d["steps"]):
            w0 = tf.Variable(gradientdescent(0.01, w0).numpy(), dtype=tf.float32)
        return w0.numpy()
    return run


def descent_floor(d: dict) -> Callable[[], Any]:
    """Hand-written NumPy: the same float32 arithmetic, w - lr * (2 * w)."""
    lr, two = np.float32(0.01), np.float32(2.0)

    def run() -> Any:
        w = np.float32(1.0)
        for _ in range(d["steps"]):
            w = w - lr * (two * w)
        return w
    return run


# ---- 2. the same descent, idiomatic -------------------------------------------------------------

def idiomatic_tapegrad(d: dict) -> Callable[[], Any]:
    def run() -> Any:
        w = tg.Variable(1.0)
        for _ in range(d["steps"]):
            with tg.GradientTape() as tape:
                y = w ** 2
            w.assign_sub(0.01 * tape.gradient(y, w))
        return w.numpy()
    return run


def idiomatic_compiled(d: dict) -> Callable[[], Any]:
    w = tg.Variable(1.0)

    @tg.function
    def step() -> None:
        with tg.GradientTape() as tape:
            y = w ** 2
        w.assign_sub(0.01 * tape.gradient(y, w))

    def run() -> Any:
        w.assign(1.0)
        for _ in range(d["steps"]):
            step()
        return w.numpy()
    return run


# ---- 3. a 20-operation scalar expression of two variables -----------------------------------------

def expr20_tapegrad(d: dict) -> Callable[[], Any]:
    x, b = tg.Variable(d["x"]), tg.Variable(d["b"])

    def run() -> Any:
        with tg.GradientTape() as tape:
            u = x * b
            v = tg.sin(x) + b
            w = tg.exp(-v * 0.1)
            z = u / (1.0 + w)
            q = tg.sqrt(z * z + 1.0)
            r = tg.math.log(q + x * x)
            s = tg.tanh(r - b)
            y = s * q + u - w * 2.0
        gx, gb = tape.gradient(y, [x, b])
        return np.array([gx.numpy(), gb.numpy()], dtype=np.float64)
    return run


def expr20_floor(d: dict) -> Callable[[], Any]:
    """Plain Python: the forward, then each adjoint written out by hand."""
    x0, b0 = float(d["x"]), float(d["b"])

    def run() -> Any:
        x, b = x0, b0
        u = x * b
        sx = math.sin(x)
        v = sx + b
        w = math.exp(-v * 0.1)
        z = u / (1.0 + w)
        q = math.sqrt(z * z + 1.0)
        r = math.log(q + x * x)
        s = math.tanh(r - b)
        # y = s * q + u - 2 w
        gs, gq, gu, gw = q, s, 1.0, -2.0
        gr = gs * (1.0 - s * s)
        gb = -gr
        gq += gr / (q + x * x)
        gx = gr * 2.0 * x / (q + x * x)
        gz = gq * z / q
        gu += gz / (1.0 + w)
        gw += -gz * u / (1.0 + w) ** 2
        gv = gw * w * -0.1
        gx += gv * math.cos(x)
        gb += gv
        gx += gu * b
        gb += gu * x
        return np.array([gx, gb], dtype=np.float64)
    return run


# ---- 4. the seed's array second derivative ------------------------------------------------------

def second_tapegrad(d: dict) -> Callable[[], Any]:
    tf = tg

    def run() -> Any:
        x = tf.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tf.float32)
        with tf.GradientTape(persistent=True) as tape2:
            with tf.GradientTape(persistent=True) as tape1:
                y = tf.math.square(x)
            dy_dx = tape1.gradient(y, x)
        dy_dx_1 = tape2.gradient(dy_dx, x)
        return np.stack([dy_dx.numpy(), dy_dx_1.numpy()])
    return run


def second_floor(d: dict) -> Callable[[], Any]:
    def run() -> Any:
        x = np.array([-3, -2, -1, 0, 1, 2, 3], dtype=np.float32)
        return np.stack([np.float32(2) * x, np.full_like(x, 2)])
    return run


# ---- 5. logistic regression ---------------------------------------------------------------------

def logistic_data() -> dict:
    rng = np.random.default_rng(0)
    n, p = 200_000, 100
    X = rng.standard_normal((n, p))
    w_true = rng.standard_normal(p) / math.sqrt(p)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w_true)))).astype(np.float64)
    return {"X": X, "y": y, "w": np.zeros(p) + 0.01}


def logistic_tapegrad(d: dict) -> Callable[[], Any]:
    X, y = tg.constant(d["X"]), tg.constant(d["y"])
    w = tg.Variable(d["w"])

    def run() -> Any:
        with tg.GradientTape() as tape:
            logits = tg.linalg.matvec(X, w)
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        return tape.gradient(loss, w).numpy()
    return run


def logistic_floor(d: dict) -> Callable[[], Any]:
    """The minimal hand gradient, X.T @ (sigmoid(z) - y) / n, no loss: what a user compares with."""
    X, y, w = d["X"], d["y"], d["w"]

    def run() -> Any:
        return X.T @ ((1 / (1 + np.exp(-(X @ w))) - y) / len(y))
    return run


def logistic_floor_with_loss(d: dict) -> Callable[[], Any]:
    """A costlier floor: the loss too (as tapegrad and the peers compute it), each sigmoid branch stable."""
    X, y, w = d["X"], d["y"], d["w"]

    def run() -> Any:
        z = X @ w
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))  # noqa: F841 (as the peers do)
        e = np.exp(-np.abs(z))
        p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        return X.T @ ((p - y) / len(y))
    return run


# ---- 6. two-layer MLP ---------------------------------------------------------------------------

def mlp_data() -> dict:
    rng = np.random.default_rng(1)
    f = np.float32
    labels = rng.integers(0, 10, 256)
    return {"X": rng.standard_normal((256, 784)).astype(f), "onehot": np.eye(10, dtype=f)[labels],
            "W1": (rng.standard_normal((784, 256)) * 0.05).astype(f), "b1": np.zeros(256, f),
            "W2": (rng.standard_normal((256, 10)) * 0.05).astype(f), "b2": np.zeros(10, f)}


def _mlp_eager(d: dict, loss_of: Callable[[Any, Any], Any]) -> Callable[[], Any]:
    """The MLP's eager gradient, its loss ``loss_of(logits, onehot)``."""
    X, onehot = tg.constant(d["X"]), tg.constant(d["onehot"])
    params = [tg.Variable(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        with tg.GradientTape() as tape:
            h = tg.nn.relu(X @ W1 + b1)
            loss = loss_of(h @ W2 + b2, onehot)
        return [g.numpy() for g in tape.gradient(loss, params)]
    return run


def mlp_tapegrad(d: dict) -> Callable[[], Any]:
    return _mlp_eager(d, lambda logits, onehot: tg.reduce_mean(
        tg.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)))


def mlp_tapegrad_unfused(d: dict) -> Callable[[], Any]:
    """The loss spelled out, -mean(sum(onehot * log_softmax(logits))), as the peers write it."""
    return _mlp_eager(d, lambda logits, onehot: -tg.reduce_mean(
        tg.reduce_sum(onehot * tg.nn.log_softmax(logits), axis=1)))


def mlp_compiled(d: dict) -> Callable[[], Any]:
    X, onehot = tg.constant(d["X"]), tg.constant(d["onehot"])
    params = [tg.Variable(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    @tg.function
    def grads() -> Any:
        with tg.GradientTape() as tape:
            h = tg.nn.relu(X @ W1 + b1)
            logits = h @ W2 + b2
            loss = tg.reduce_mean(tg.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits))
        return tape.gradient(loss, params)

    def run() -> Any:
        return [g.numpy() for g in grads()]
    return run


def mlp_floor(d: dict) -> Callable[[], Any]:
    X, onehot, W1, b1, W2, b2 = (d[k] for k in ("X", "onehot", "W1", "b1", "W2", "b2"))

    def run() -> Any:
        a = X @ W1 + b1
        h = np.maximum(a, 0)
        logits = h @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(onehot * (shifted - np.log(s)), axis=1))  # noqa: F841
        dlogits = (e / s - onehot) / X.shape[0]
        dW2 = h.T @ dlogits
        db2 = dlogits.sum(axis=0)
        dh = dlogits @ W2.T
        da = dh * (a > 0)
        return [X.T @ da, da.sum(axis=0), dW2, db2]
    return run


# ---- 7. Hessian of the 50-d Rosenbrock function -------------------------------------------------

def rosen_data() -> dict:
    return {"x": np.linspace(-1.0, 1.5, 50)}


def rosenbrock(x: Any) -> Any:
    return tg.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hessian_tapegrad(d: dict) -> Callable[[], Any]:
    """``tg.hessian``: reverse over reverse, every row of the outer Jacobian in one batched backward pass."""
    h = tg.hessian(rosenbrock)
    x = d["x"]

    def run() -> Any:
        return h(x).numpy()
    return run


def hessian_compiled(d: dict) -> Callable[[], Any]:
    """``tg.function(tg.hessian(f))``: the ops traced once, replayed without tapes (JAX's jit counterpart)."""
    h = tg.function(tg.hessian(rosenbrock))
    x = tg.constant(d["x"])

    def run() -> Any:
        return h(x).numpy()
    return run


def hessian_nested(d: dict) -> Callable[[], Any]:
    """The same by hand with two tapes (what ``tg.hessian`` runs, less its argument handling)."""
    x = tg.Variable(d["x"])

    def run() -> Any:
        with tg.GradientTape() as outer:
            with tg.GradientTape() as inner:
                y = rosenbrock(x)
            g = inner.gradient(y, x)
        return outer.jacobian(g, x).numpy()
    return run


def hessian_floor(d: dict) -> Callable[[], Any]:
    """The Rosenbrock Hessian written out: tridiagonal."""
    x0 = d["x"]

    def run() -> Any:
        x = x0
        n = len(x)
        diag = np.zeros(n)
        diag[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
        diag[1:] += 200
        off = -400 * x[:-1]
        H = np.diag(diag)
        idx = np.arange(n - 1)
        H[idx, idx + 1] = off
        H[idx + 1, idx] = off
        return H
    return run


def residuals(x: Any) -> Any:
    """Rosenbrock's residuals (its value is their sum of squares): 98 outputs of 50 inputs."""
    return tg.concat([10.0 * (x[1:] - x[:-1] ** 2), 1.0 - x[:-1]], 0)


def jacfwd_tapegrad(d: dict) -> Callable[[], Any]:
    """``tg.jacfwd``: the 50 basis tangents pushed through one forward pass."""
    j = tg.jacfwd(residuals)
    x = d["x"]

    def run() -> Any:
        return j(x).numpy()
    return run


def jacfwd_floor(d: dict) -> Callable[[], Any]:
    """The residuals' Jacobian written out: two bands and a diagonal."""
    x0 = d["x"]

    def run() -> Any:
        n = len(x0)
        J = np.zeros((2 * (n - 1), n))
        i = np.arange(n - 1)
        J[i, i] = -20.0 * x0[:-1]
        J[i, i + 1] = 10.0
        J[n - 1 + i, i] = -1.0
        return J
    return run


def expr_data() -> dict:
    return {"x": 0.5, "b": 1.5}


WORKLOADS = [
    Workload("seed", "1. seed loop as written (new Variable each step)", "step", "<= 25x floor", None, 25.0, None,
             lambda: {"steps": STEPS}, {"tapegrad": seed_loop_tapegrad, "floor": descent_floor}, steps=STEPS),
    Workload("idiom", "2. idiomatic descent step (tape, gradient, assign_sub)", "step", "<= 20x floor", None,
             20.0, None, lambda: {"steps": STEPS},
             {"tapegrad": idiomatic_tapegrad, "floor": descent_floor}, steps=STEPS),
    Workload("compiled", "2c. the same step under tg.function", "step", "<= 2 us/step, <= 6x floor", 2.0, 6.0,
             None, lambda: {"steps": STEPS}, {"tapegrad": idiomatic_compiled, "floor": descent_floor}, steps=STEPS),
    Workload("expr20", "3. gradient of a 20-op scalar expression of 2 variables", "call", "(reported)", None, None,
             None, expr_data, {"tapegrad": expr20_tapegrad, "floor": expr20_floor}),
    Workload("second", "4. seed's array second derivative (nested tapes, 7 values)", "call", "(reported)", None,
             None, None, dict, {"tapegrad": second_tapegrad, "floor": second_floor}),
    Workload("logistic", "5. logistic regression gradient, X 200,000 x 100 float64", "call",
             "<= 1.05x floor, <= 1.1x peak memory", None, 1.05, 1.1, logistic_data,
             {"tapegrad": logistic_tapegrad, "floor": logistic_floor}),
    Workload("logistic_loss", "5b. the same, against a floor that computes the loss too", "call", "(reported)",
             None, None, None, logistic_data, {"tapegrad": logistic_tapegrad, "floor": logistic_floor_with_loss}),
    Workload("mlp", "6. MLP 784-256-10, batch 256, float32, forward + backward", "call",
             "<= 1.05x floor, faster than torch", None, 1.05, None, mlp_data,
             {"tapegrad": mlp_tapegrad, "floor": mlp_floor}, limit_peer={"torch": 1.0}),
    Workload("mlp_unfused", "6b. the same MLP, loss as -mean(sum(onehot * log_softmax))", "call", "(reported)",
             None, None, None, mlp_data, {"tapegrad": mlp_tapegrad_unfused, "floor": mlp_floor}),
    Workload("mlp_compiled", "6c. the same MLP gradient under tg.function", "call", "(reported)", None, None,
             None, mlp_data, {"tapegrad": mlp_compiled, "floor": mlp_floor}),
    Workload("hessian", "7. full Hessian of 50-d Rosenbrock (tg.hessian)", "call", "<= 1.5x JAX jit", None, None,
             None, rosen_data, {"tapegrad": hessian_tapegrad, "floor": hessian_floor}, limit_peer={"jax jit": 1.5}),
    Workload("hessian_compiled", "7c. the same under tg.function", "call", "(reported)", None, None, None,
             rosen_data, {"tapegrad": hessian_compiled, "floor": hessian_floor}),
    Workload("hessian_nested", "7n. the same Hessian with two nested tapes", "call", "(reported)", None, None, None,
             rosen_data, {"tapegrad": hessian_nested, "floor": hessian_floor}),
    Workload("jacfwd", "7f. forward Jacobian of its 98 residuals (tg.jacfwd)", "call", "(reported)", None, None,
             None, rosen_data, {"tapegrad": jacfwd_tapegrad, "floor": jacfwd_floor}),
    # The floor here is tapegrad's own compiled step (2c): what tg.minimize adds to it, recording the history.
    Workload("minimize", "8. tg.minimize of 2c, recording (floor: 2c alone)", "step", "<= 1.10x floor", None,
             1.10, None, lambda: {"steps": STEPS},
             {"tapegrad": minimize_seed, "floor": idiomatic_compiled, "record=False": minimize_no_record},
             steps=STEPS),
]
