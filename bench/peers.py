"""The same workloads in torch, JAX, autograd, MyGrad and TensorFlow, each skipped when not importable.

They are written the way each library's users write them (JAX jitted, since that is how JAX is
used; TensorFlow eager with GradientTape, tf.function for the compiled rows). A peer has no entry for
a workload it cannot do: MyGrad has no higher-order or forward-mode derivatives (its ``.grad`` is a
NumPy array), so no rows 4, 7 and 7f; only autograd has a descent driver like ``tg.minimize`` (row 8).
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
LIBS = {"torch": "torch", "jax": "jax", "autograd": "autograd", "mygrad": "mygrad", "tensorflow": "tensorflow"}


def builders(key: str, label: str) -> dict[str, Builder]:
    """{display name: builder} of one peer for one workload ({} if it has no version of it)."""
    table = {"torch": TORCH, "jax": JAX, "autograd": AUTOGRAD, "mygrad": MYGRAD, "tensorflow": TF}[label]
    if key not in table:
        return {}
    name = label + (" jit" if label == "jax" and key != "seed" else "")
    name = "tensorflow function" if label == "tensorflow" and key.endswith("compiled") else name
    return {name: table[key]}


def rosen_np(x: Any, np_: Any) -> Any:
    return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def residuals_np(x: Any, cat: Callable) -> Any:
    """Rosenbrock's 98 residuals (workload 7f), ``cat`` a library's concatenate."""
    return cat([10.0 * (x[1:] - x[:-1] ** 2), 1.0 - x[:-1]])


def labels_of(onehot: np.ndarray) -> np.ndarray:
    """The class indices of the MLP's one-hot rows: what torch's and MyGrad's fused losses take."""
    return onehot.argmax(axis=1)


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
    """The fused loss, as tapegrad's row 6 (the data are one-hot: torch users pass the class indices)."""
    torch = _torch()
    X, labels = torch.from_numpy(d["X"]), torch.from_numpy(labels_of(d["onehot"]))
    params = [torch.tensor(d[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        h = torch.relu(X @ W1 + b1)
        logits = h @ W2 + b2
        loss = torch.nn.functional.cross_entropy(logits, labels)
        return [g.numpy() for g in torch.autograd.grad(loss, params)]
    return run


def torch_mlp_unfused(d: dict) -> Callable[[], Any]:
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


def torch_jacfwd(d: dict) -> Callable[[], Any]:
    torch = _torch()
    from torch.func import jacfwd
    j = jacfwd(lambda v: residuals_np(v, torch.cat))
    x = torch.tensor(d["x"])

    def run() -> Any:
        return j(x).numpy()
    return run


TORCH = {"seed": torch_seed, "idiom": torch_idiom, "expr20": torch_expr20, "second": torch_second,
         "logistic": torch_logistic, "logistic_loss": torch_logistic, "mlp": torch_mlp,
         "mlp_unfused": torch_mlp_unfused, "hessian": torch_hessian, "jacfwd": torch_jacfwd}


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


def jax_jacfwd(d: dict) -> Callable[[], Any]:
    jax, jnp = _jax()
    j = jax.jit(jax.jacfwd(lambda v: residuals_np(v, jnp.concatenate)))
    x = jnp.asarray(d["x"])

    def run() -> Any:
        return np.asarray(j(x))
    return run


# Under jit the spelled-out loss is fused anyway: rows 6 and 6b are the same program.
JAX = {"seed": jax_seed, "idiom": jax_idiom, "compiled": jax_idiom, "expr20": jax_expr20, "second": jax_second,
       "logistic": jax_logistic, "logistic_loss": jax_logistic, "mlp": jax_mlp, "mlp_unfused": jax_mlp,
       "hessian": jax_hessian, "hessian_compiled": jax_hessian, "jacfwd": jax_jacfwd}


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


def autograd_jacfwd(d: dict) -> Callable[[], Any]:
    """autograd's ``jacobian`` (reverse mode, one backward pass per output: it has no forward-mode Jacobian)."""
    import autograd
    import autograd.numpy as anp
    j = autograd.jacobian(lambda v: residuals_np(v, anp.concatenate))

    def run() -> Any:
        return j(d["x"])
    return run


def autograd_minimize(d: dict) -> Callable[[], Any]:
    """autograd's descent driver, plain SGD (mass=0), its callback recording each step's x and gradient."""
    import autograd
    from autograd.misc.optimizers import sgd
    grad = autograd.grad(lambda w, i: w ** 2)

    def run() -> Any:
        history: list[tuple] = []
        x = sgd(grad, 1.0, callback=lambda x, i, g: history.append((x, g)), num_iters=d["steps"],
                step_size=0.01, mass=0.0)
        return np.float32(x)
    return run


# autograd has no fused cross entropy: rows 6 and 6b are the same code.
AUTOGRAD = {"seed": autograd_seed, "idiom": autograd_idiom, "expr20": autograd_expr20, "second": autograd_second,
            "logistic": autograd_logistic, "logistic_loss": autograd_logistic, "mlp": autograd_mlp,
            "mlp_unfused": autograd_mlp, "hessian": autograd_hessian, "jacfwd": autograd_jacfwd,
            "minimize": autograd_minimize}


# ---- MyGrad (Tensor, .backward(), .grad) ----------------------------------------------------------

def _mygrad() -> Any:
    import mygrad
    return mygrad


def mygrad_seed(d: dict) -> Callable[[], Any]:
    mg = _mygrad()

    def gradientdescent(learning_rate, w0):
        y = mg.square(w0)
        y.backward()
        return w0 - learning_rate * w0.grad

    def run() -> Any:
        # float32, the seed's dtype (MyGrad's default is float64)
        w0 = mg.tensor(1.0, dtype=np.float32)
        for _ in range(d["steps"]):
            w0 = mg.tensor(gradientdescent(0.01, w0).data, dtype=np.float32)
        return w0.data
    return run


def mygrad_idiom(d: dict) -> Callable[[], Any]:
    mg = _mygrad()

    def run() -> Any:
        w = mg.tensor(1.0, dtype=np.float32)
        for _ in range(d["steps"]):
            y = w ** 2
            y.backward()
            w.data -= 0.01 * w.grad  # MyGrad's update of a parameter in place, off the graph
        return w.data
    return run


def mygrad_expr20(d: dict) -> Callable[[], Any]:
    mg = _mygrad()
    x, b = mg.tensor(d["x"], dtype=np.float32), mg.tensor(d["b"], dtype=np.float32)

    def run() -> Any:
        expr20(x, b, mg).backward()
        return np.array([x.grad, b.grad], dtype=np.float64)
    return run


def mygrad_logistic(d: dict) -> Callable[[], Any]:
    mg = _mygrad()
    X, y = d["X"], d["y"]  # NumPy arrays are constants to MyGrad: no gradient for X
    w = mg.tensor(d["w"])

    def run() -> Any:
        z = X @ w
        loss = mg.mean(mg.maximum(z, 0) - z * y + mg.log1p(mg.exp(-mg.abs(z))))
        loss.backward()
        return w.grad
    return run


def _mygrad_mlp(d: dict, fused: bool) -> Callable[[], Any]:
    mg = _mygrad()
    from mygrad.nnet import logsoftmax, relu, softmax_crossentropy
    X, onehot, labels = d["X"], d["onehot"], labels_of(d["onehot"])
    params = [mg.tensor(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        h = relu(X @ W1 + b1)
        logits = h @ W2 + b2
        if fused:  # MyGrad's fused loss takes class indices
            loss = softmax_crossentropy(logits, labels)
        else:
            loss = -mg.mean(mg.sum(onehot * logsoftmax(logits), axis=1))
        loss.backward()
        return [p.grad for p in params]
    return run


def mygrad_mlp(d: dict) -> Callable[[], Any]:
    return _mygrad_mlp(d, fused=True)


def mygrad_mlp_unfused(d: dict) -> Callable[[], Any]:
    return _mygrad_mlp(d, fused=False)


MYGRAD = {"seed": mygrad_seed, "idiom": mygrad_idiom, "expr20": mygrad_expr20, "logistic": mygrad_logistic,
          "logistic_loss": mygrad_logistic, "mlp": mygrad_mlp, "mlp_unfused": mygrad_mlp_unfused}


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


def _tf_mlp(d: dict, fused: bool) -> Callable[[], Any]:
    tf = _tf()
    X, onehot = tf.constant(d["X"]), tf.constant(d["onehot"])
    params = [tf.Variable(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        with tf.GradientTape() as tape:
            h = tf.nn.relu(X @ W1 + b1)
            logits = h @ W2 + b2
            if fused:
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits))
            else:
                loss = -tf.reduce_mean(tf.reduce_sum(onehot * tf.nn.log_softmax(logits), axis=1))
        return [g.numpy() for g in tape.gradient(loss, params)]
    return run


def tf_mlp(d: dict) -> Callable[[], Any]:
    return _tf_mlp(d, fused=True)


def tf_mlp_unfused(d: dict) -> Callable[[], Any]:
    return _tf_mlp(d, fused=False)


def tf_hessian(d: dict, compiled: bool = False) -> Callable[[], Any]:
    tf = _tf()
    x = tf.Variable(d["x"])

    def hessian() -> Any:
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = tf.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
            g = inner.gradient(y, x)
        return outer.jacobian(g, x)
    h = tf.function(hessian) if compiled else hessian

    def run() -> Any:
        return h().numpy()
    return run


def tf_hessian_compiled(d: dict) -> Callable[[], Any]:
    return tf_hessian(d, compiled=True)


def tf_jacfwd(d: dict) -> Callable[[], Any]:
    """``tape.jacobian`` (reverse mode, vectorized), the way TensorFlow users take a full Jacobian."""
    tf = _tf()
    x = tf.Variable(d["x"])

    def run() -> Any:
        with tf.GradientTape() as tape:
            r = residuals_np(x, lambda parts: tf.concat(parts, 0))
        return tape.jacobian(r, x).numpy()
    return run


TF = {"seed": tf_seed, "idiom": tf_idiom, "compiled": tf_compiled, "expr20": tf_expr20, "second": tf_second,
      "logistic": tf_logistic, "logistic_loss": tf_logistic, "mlp": tf_mlp, "mlp_unfused": tf_mlp_unfused,
      "hessian": tf_hessian, "hessian_compiled": tf_hessian_compiled, "jacfwd": tf_jacfwd}
