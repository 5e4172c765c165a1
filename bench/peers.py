"""The same workloads in torch, JAX, autograd and TensorFlow, each skipped when not importable.

They are written the way each library's users write them (JAX jitted, since that is how JAX is
used; TensorFlow eager with GradientTape, tf.function for the compiled step).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# torch's OpenMP threads spin between ops by default; on a small shared machine that spinning
# slows NumPy's BLAS threads (the floor's and its own) several times over.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

Builder = Callable[[dict], Callable[[], Any]]
LIBS = {"torch": "torch", "jax": "jax", "autograd": "autograd", "tensorflow": "tensorflow"}


def builders(key: str, label: str) -> dict[str, Builder]:
    """{display name: builder} of one peer for one workload ({} if it has no version of it)."""
    table = {"torch": TORCH, "jax": JAX, "autograd": AUTOGRAD, "tensorflow": TF}[label]
    if key not in table:
        return {}
    name = label + (" jit" if label == "jax" and key != "seed" else "")
    name = "tensorflow function" if label == "tensorflow" and key == "compiled" else name
    return {name: table[key]}


def rosen_np(x: Any, np_: Any) -> Any:
    return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def expr20(x: Any, b: Any, m: Any) -> Any:
    """The 20-operation expression of workload 3, for a library's math module ``m``."""
    u = x * b
    v = m.sin(x) + b
    w = m.exp(-v * 0.1)
    z = u / (1.0 + w)
    q = m.sqrt(z * z + 1.0)
    r = m.log(q + x * x)
    s = m.tanh(r - b)
    return s * q + u - w * 2.0


# ---- torch --------------------------------------------------------------------------------------

def _torch() -> Any:
    import torch
    torch.set_grad_enabled(True)
    return torch


def torch_seed(d: dict) -> Callable[[], Any]:
    torch = _torch()

    def run() -> Any:
        w0 = torch.tensor(1.0, requires_grad=True)
        for _ in range(d["steps"]):
            (g,) = torch.autograd.grad(torch.square(w0), w0)
            w0 = torch.tensor((w0 - 0.01 * g).detach().numpy(), requires_grad=True)
        return w0.detach().numpy()
    return run


def torch_idiom(d: dict) -> Callable[[], Any]:
    torch = _torch()

    def run() -> Any:
        w = torch.tensor(1.0, requires_grad=True)
        for _ in range(d["steps"]):
            y = w ** 2
            y.backward()
            with torch.no_grad():
                w -= 0.01 * w.grad
            w.grad = None
        return w.detach().numpy()
    return run


def torch_expr20(d: dict) -> Callable[[], Any]:
    torch = _torch()
    x = torch.tensor(d["x"], requires_grad=True)
    b = torch.tensor(d["b"], requires_grad=True)

    def run() -> Any:
        gx, gb = torch.autograd.grad(expr20(x, b, torch), [x, b])
        return np.array([gx.item(), gb.item()])
    return run


def torch_second(d: dict) -> Callable[[], Any]:
    torch = _torch()

    def run() -> Any:
        x = torch.tensor([-3.0, -2, -1, 0, 1, 2, 3], requires_grad=True)
        (dy,) = torch.autograd.grad(torch.square(x).sum(), x, create_graph=True)
        (d2,) = torch.autograd.grad(dy.sum(), x)
        return np.stack([dy.detach().numpy(), d2.numpy()])
    return run


def torch_logistic(d: dict) -> Callable[[], Any]:
    torch = _torch()
    X, y = torch.from_numpy(d["X"]), torch.from_numpy(d["y"])
    w = torch.tensor(d["w"], requires_grad=True)

    def run() -> Any:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y)
        (g,) = torch.autograd.grad(loss, w)
        return g.numpy()
    return run


def torch_mlp(d: dict) -> Callable[[], Any]:
    torch = _torch()
    X, onehot = torch.from_numpy(d["X"]), torch.from_numpy(d["onehot"])
    params = [torch.tensor(d[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        h = torch.relu(X @ W1 + b1)
        logits = h @ W2 + b2
        loss = -(onehot * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        return [g.numpy() for g in torch.autograd.grad(loss, params)]
    return run


def torch_hessian(d: dict) -> Callable[[], Any]:
    torch = _torch()
    x = torch.tensor(d["x"])

    def run() -> Any:
        return torch.autograd.functional.hessian(lambda v: rosen_np(v, torch), x).numpy()
    return run


TORCH = {"seed": torch_seed, "idiom": torch_idiom, "expr20": torch_expr20, "second": torch_second,
         "logistic": torch_logistic, "mlp": torch_mlp, "hessian": torch_hessian}


# ---- JAX (jitted, as it is used) ----------------------------------------------------------------

def _jax() -> tuple:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp


def jax_seed(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    dsq = jax.grad(jnp.square)

    def run() -> Any:
        w0 = jnp.float32(1.0)
        for _ in range(d["steps"]):
            w0 = jnp.asarray(np.asarray(w0 - 0.01 * dsq(w0)), dtype=jnp.float32)
        return np.asarray(w0)
    return run


def jax_idiom(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    step = jax.jit(lambda w: w - 0.01 * jax.grad(lambda v: v ** 2)(w))

    def run() -> Any:
        w = jnp.float32(1.0)
        for _ in range(d["steps"]):
            w = step(w)
        return np.asarray(w)
    return run


def jax_expr20(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    g = jax.jit(jax.grad(lambda x, b: expr20(x, b, jnp), argnums=(0, 1)))
    x, b = jnp.float32(d["x"]), jnp.float32(d["b"])

    def run() -> Any:
        gx, gb = g(x, b)
        return np.array([float(gx), float(gb)])
    return run


def jax_second(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    first = jax.vmap(jax.grad(jnp.square))
    both = jax.jit(lambda x: jnp.stack([first(x), jax.vmap(jax.grad(jax.grad(jnp.square)))(x)]))

    def run() -> Any:
        return np.asarray(both(jnp.array([-3.0, -2, -1, 0, 1, 2, 3], dtype=jnp.float32)))
    return run


def jax_logistic(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    X, y = jnp.asarray(d["X"]), jnp.asarray(d["y"])

    def loss(w: Any) -> Any:
        z = X @ w
        return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))
    g = jax.jit(jax.grad(loss))
    w = jnp.asarray(d["w"])

    def run() -> Any:
        return np.asarray(g(w))
    return run


def jax_mlp(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    X, onehot = jnp.asarray(d["X"]), jnp.asarray(d["onehot"])
    params = [jnp.asarray(d[k]) for k in ("W1", "b1", "W2", "b2")]

    def loss(p: list) -> Any:
        W1, b1, W2, b2 = p
        h = jax.nn.relu(X @ W1 + b1)
        return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(h @ W2 + b2), axis=1))
    g = jax.jit(jax.grad(loss))

    def run() -> Any:
        return [np.asarray(a) for a in g(params)]
    return run


def jax_hessian(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    h = jax.jit(jax.hessian(lambda v: rosen_np(v, jnp)))
    x = jnp.asarray(d["x"])

    def run() -> Any:
        return np.asarray(h(x))
    return run


JAX = {"seed": jax_seed, "idiom": jax_idiom, "compiled": jax_idiom, "expr20": jax_expr20, "second": jax_second,
       "logistic": jax_logistic, "mlp": jax_mlp, "hessian": jax_hessian}


# ---- autograd -----------------------------------------------------------------------------------

def autograd_seed(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    dsq = autograd.grad(anp.square)

    def run() -> Any:
        w0 = np.float32(1.0)
        for _ in range(d["steps"]):
            w0 = np.float32(w0 - 0.01 * dsq(w0))
        return w0
    return run


def autograd_idiom(d: dict) -> Callable[[], Any]:
    import autograd
    dsq = autograd.grad(lambda w: w ** 2)

    def run() -> Any:
        w = np.float32(1.0)
        for _ in range(d["steps"]):
            w = w - np.float32(0.01) * dsq(w)
        return w
    return run


def autograd_expr20(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    g = autograd.grad(lambda v: expr20(v[0], v[1], anp))
    xb = np.array([d["x"], d["b"]], dtype=np.float32)

    def run() -> Any:
        return g(xb)
    return run


def autograd_second(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    first = autograd.elementwise_grad(anp.square)
    second = autograd.elementwise_grad(first)

    def run() -> Any:
        x = np.array([-3, -2, -1, 0, 1, 2, 3], dtype=np.float32)
        return np.stack([first(x), second(x)])
    return run


def autograd_logistic(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    X, y = d["X"], d["y"]

    def loss(w: Any) -> Any:
        z = anp.dot(X, w)
        return anp.mean(anp.maximum(z, 0) - z * y + anp.log1p(anp.exp(-anp.abs(z))))
    g = autograd.grad(loss)

    def run() -> Any:
        return g(d["w"])
    return run


def autograd_mlp(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    X, onehot = d["X"], d["onehot"]

    def loss(p: list) -> Any:
        W1, b1, W2, b2 = p
        h = anp.maximum(anp.dot(X, W1) + b1, 0)
        logits = anp.dot(h, W2) + b2
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(anp.sum(onehot * logp, axis=1))
    g = autograd.grad(loss)
    params = [d[k] for k in ("W1", "b1", "W2", "b2")]

    def run() -> Any:
        return list(g(params))
    return run


def autograd_hessian(d: dict) -> Callable[[], Any]:
    import autograd
    import autograd.numpy as anp
    h = autograd.hessian(lambda v: rosen_np(v, anp))

    def run() -> Any:
        return h(d["x"])
    return run


AUTOGRAD = {"seed": autograd_seed, "idiom": autograd_idiom, "expr20": autograd_expr20, "second": autograd_second,
            "logistic": autograd_logistic, "mlp": autograd_mlp, "hessian": autograd_hessian}


# ---- TensorFlow (the API tapegrad follows) --------------------------------------------------------

def _tf() -> Any:
    import tensorflow as tf
    return tf


def tf_seed(d: dict) -> Callable[[], Any]:
    tf = _tf()

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


def tf_idiom(d: dict) -> Callable[[], Any]:
    tf = _tf()

    def run() -> Any:
        w = tf.Variable(1.0)
        for _ in range(d["steps"]):
            with tf.GradientTape() as tape:
                y = w ** 2
            w.assign_sub(0.01 * tape.gradient(y, w))
        return w.numpy()
    return run


def tf_compiled(d: dict) -> Callable[[], Any]:
    tf = _tf()
    w = tf.Variable(1.0)

    @tf.function
    def step() -> None:
        with tf.GradientTape() as tape:
            y = w ** 2
        w.assign_sub(0.01 * tape.gradient(y, w))

    def run() -> Any:
        w.assign(1.0)
        for _ in range(d["steps"]):
            step()
        return w.numpy()
    return run


def tf_expr20(d: dict) -> Callable[[], Any]:
    tf = _tf()
    x, b = tf.Variable(d["x"]), tf.Variable(d["b"])

    def run() -> Any:
        with tf.GradientTape() as tape:
            y = expr20(x, b, tf.math)
        gx, gb = tape.gradient(y, [x, b])
        return np.array([gx.numpy(), gb.numpy()])
    return run


def tf_second(d: dict) -> Callable[[], Any]:
    tf = _tf()

    def run() -> Any:
        x = tf.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tf.float32)
        with tf.GradientTape(persistent=True) as tape2:
            with tf.GradientTape(persistent=True) as tape1:
                y = tf.math.square(x)
            dy_dx = tape1.gradient(y, x)
        dy_dx_1 = tape2.gradient(dy_dx, x)
        return np.stack([dy_dx.numpy(), dy_dx_1.numpy()])
    return run


def tf_logistic(d: dict) -> Callable[[], Any]:
    tf = _tf()
    X, y = tf.constant(d["X"]), tf.constant(d["y"])
    w = tf.Variable(d["w"])

    def run() -> Any:
        with tf.GradientTape() as tape:
            logits = tf.linalg.matvec(X, w)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        return tape.gradient(loss, w).numpy()
    return run


def tf_mlp(d: dict) -> Callable[[], Any]:
    tf = _tf()
    X, onehot = tf.constant(d["X"]), tf.constant(d["onehot"])
    params = [tf.Variable(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        with tf.GradientTape() as tape:
            h = tf.nn.relu(X @ W1 + b1)
            logits = h @ W2 + b2
            loss = -tf.reduce_mean(tf.reduce_sum(onehot * tf.nn.log_softmax(logits), axis=1))
        return [g.numpy() for g in tape.gradient(loss, params)]
    return run


def tf_hessian(d: dict) -> Callable[[], Any]:
    tf = _tf()
    x = tf.Variable(d["x"])

    def run() -> Any:
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = tf.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
            g = inner.gradient(y, x)
        return outer.jacobian(g, x).numpy()
    return run


TF = {"seed": tf_seed, "idiom": tf_idiom, "compiled": tf_compiled, "expr20": tf_expr20, "second": tf_second,
      "logistic": tf_logistic, "mlp": tf_mlp, "hessian": tf_hessian}
