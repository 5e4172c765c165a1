"""GPU workloads on CuPy: tapegrad's tape on CuPy arrays against the same gradient written by hand in CuPy.

    python bench/bench_gpu.py                # `make bench-gpu`: needs cupy and a CUDA GPU
    python bench/bench_gpu.py --rounds 21    # more samples per timing (default 11)
    python bench/bench_gpu.py --cpu-smoke    # the same code on NumPy at a small size (no GPU needed)

Workloads: logistic regression on 2,000,000 x 100 float64 rows (loss and gradient), and the MLP
784-256-10 at batch 4096, float32 (forward and backward). The floor is the hand-written CuPy gradient in the
same process; PyTorch on the same GPU runs too when it is installed (its own autograd, on the same data
through DLPack). Times are medians over interleaved rounds, each ended by a device synchronize; gradients
stay on the GPU (nothing is copied to the host inside a timing). Before timing, tapegrad's gradients
are checked against the floor's. Without cupy or a GPU it prints "no GPU: skipped" and exits 0.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import tapegrad as tg  # noqa: E402

FULL = {"logistic": (2_000_000, 100), "mlp": 4096}
SMOKE = {"logistic": (2_000, 10), "mlp": 64}


def gpu_missing() -> str | None:
    """Why the GPU workloads cannot run here (None when they can)."""
    try:
        import cupy
    except ImportError:
        return "cupy is not installed (pip install 'tapegrad[cupy]')"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError without a driver
        return f"no CUDA device ({e})"
    return None if count > 0 else "no CUDA device"


def synchronize(xp: Any) -> Callable[[], None]:
    if xp is np:
        return lambda: None
    return xp.cuda.get_current_device().synchronize


# ---- logistic regression --------------------------------------------------------------------------

def logistic_data(xp: Any, n: int, p: int) -> dict:
    rs = xp.random.RandomState(0)
    X = rs.standard_normal((n, p)).astype(xp.float64)
    w_true = rs.standard_normal(p).astype(xp.float64) / math.sqrt(p)
    y = (rs.random_sample(n) < 1 / (1 + xp.exp(-(X @ w_true)))).astype(xp.float64)
    return {"xp": xp, "X": X, "y": y, "w": xp.zeros(p) + 0.01}


def logistic_floor(d: dict) -> Callable[[], Any]:
    xp, X, y, w = d["xp"], d["X"], d["y"], d["w"]

    def run() -> Any:
        z = X @ w
        loss = xp.mean(xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z))))
        e = xp.exp(-xp.abs(z))
        p = xp.where(z >= 0, 1 / (1 + e), e / (1 + e))
        return loss, [X.T @ ((p - y) / len(y))]
    return run


def logistic_tapegrad(d: dict) -> Callable[[], Any]:
    X, y = tg.constant(d["X"]), tg.constant(d["y"])
    w = tg.Variable(d["w"])

    def run() -> Any:
        with tg.GradientTape() as tape:
            logits = tg.linalg.matvec(X, w)
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        return loss._value, [tape.gradient(loss, w)._value]
    return run


def logistic_torch(d: dict) -> Callable[[], Any]:
    import torch
    X, y = torch.from_dlpack(d["X"]), torch.from_dlpack(d["y"])
    w = torch.from_dlpack(d["w"]).clone().requires_grad_(True)

    def run() -> Any:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y)
        return loss, list(torch.autograd.grad(loss, [w]))
    return run


# ---- MLP 784-256-10 -------------------------------------------------------------------------------

def mlp_data(xp: Any, batch: int) -> dict:
    rs = xp.random.RandomState(1)
    f = xp.float32
    labels = rs.randint(0, 10, batch)
    return {"xp": xp, "X": rs.standard_normal((batch, 784)).astype(f), "onehot": xp.eye(10, dtype=f)[labels],
            "W1": (rs.standard_normal((784, 256)) * 0.05).astype(f), "b1": xp.zeros(256, f),
            "W2": (rs.standard_normal((256, 10)) * 0.05).astype(f), "b2": xp.zeros(10, f)}


def mlp_floor(d: dict) -> Callable[[], Any]:
    xp = d["xp"]
    X, onehot, W1, b1, W2, b2 = (d[k] for k in ("X", "onehot", "W1", "b1", "W2", "b2"))

    def run() -> Any:
        a = X @ W1 + b1
        h = xp.maximum(a, 0)
        logits = h @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -xp.mean(xp.sum(onehot * (shifted - xp.log(s)), axis=1))
        dlogits = (e / s - onehot) / X.shape[0]
        dh = dlogits @ W2.T
        da = dh * (a > 0)
        return loss, [X.T @ da, da.sum(axis=0), h.T @ dlogits, dlogits.sum(axis=0)]
    return run


def mlp_tapegrad(d: dict) -> Callable[[], Any]:
    X, onehot = tg.constant(d["X"]), tg.constant(d["onehot"])
    params = [tg.Variable(d[k]) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        with tg.GradientTape() as tape:
            h = tg.nn.relu(X @ W1 + b1)
            logits = h @ W2 + b2
            loss = -tg.reduce_mean(tg.reduce_sum(onehot * tg.nn.log_softmax(logits), axis=1))
        return loss._value, [g._value for g in tape.gradient(loss, params)]
    return run


def mlp_torch(d: dict) -> Callable[[], Any]:
    import torch
    X, onehot = torch.from_dlpack(d["X"]), torch.from_dlpack(d["onehot"])
    params = [torch.from_dlpack(d[k]).clone().requires_grad_(True) for k in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params

    def run() -> Any:
        h = torch.relu(X @ W1 + b1)
        logits = h @ W2 + b2
        loss = -torch.mean(torch.sum(onehot * torch.log_softmax(logits, dim=1), dim=1))
        return loss, list(torch.autograd.grad(loss, params))
    return run


WORKLOADS = {
    "logistic": ("logistic regression {0[0]:,} x {0[1]} float64: loss + gradient",
                 lambda xp, size: logistic_data(xp, *size), logistic_tapegrad, logistic_floor, logistic_torch),
    "mlp": ("MLP 784-256-10, batch {0:,}, float32: forward + backward",
            mlp_data, mlp_tapegrad, mlp_floor, mlp_torch),
}


def host(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):  # torch
        return a.detach().cpu().numpy()
    return a.get() if hasattr(a, "get") else np.asarray(a)


def check(name: str, got: Any, want: Any, rtol: float) -> None:
    """tapegrad's (or torch's) loss and gradients against the floor's, on the host (outside any timing)."""
    (loss, grads), (loss0, grads0) = got, want
    np.testing.assert_allclose(host(loss), host(loss0), rtol=rtol, err_msg=f"{name}: loss")
    for i, (g, g0) in enumerate(zip(grads, grads0)):
        np.testing.assert_allclose(host(g), host(g0), rtol=rtol, atol=rtol * float(np.abs(host(g0)).max()),
                                   err_msg=f"{name}: gradient {i}")


def time_interleaved(runs: dict, sync: Callable[[], None], rounds: int) -> dict:
    """Median seconds per call of each run, the runs taking turns (load hits all alike); one warm-up each."""
    for run in runs.values():
        run()
        sync()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(rounds):
        for k in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            t = time.perf_counter()
            runs[k]()
            sync()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def torch_on_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def bench(xp: Any, sizes: dict, rounds: int, with_torch: bool, out: Any = sys.stdout) -> dict:
    """Every workload on ``xp``'s arrays: checked against the floor, then timed. Returns the medians."""
    results = {}
    sync = synchronize(xp)
    for key, (title, make, tapegrad_run, floor_run, torch_run) in WORKLOADS.items():
        d = make(xp, sizes[key])
        runs = {"floor": floor_run(d), "tapegrad": tapegrad_run(d)}
        if with_torch:
            runs["torch"] = torch_run(d)
        rtol = 1e-9 if key == "logistic" else 2e-4  # float64 / float32 sums in other orders
        want = runs["floor"]()
        for k in runs:
            if k != "floor":
                check(f"{key} ({k})", runs[k](), want, rtol)
        medians = time_interleaved(runs, sync, rounds)
        results[key] = medians
        print(f"\n{title.format(sizes[key])} ({xp.__name__})", file=out)
        for k, t in medians.items():
            print(f"  {k:10s} {t * 1e3:9.3f} ms   x{t / medians['floor']:.2f} of the floor", file=out)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--cpu-smoke", action="store_true", help="run the same code on NumPy at a small size")
    args = parser.parse_args(argv)
    if args.cpu_smoke:
        bench(np, SMOKE, rounds=max(1, min(args.rounds, 3)), with_torch=False)
        return 0
    missing = gpu_missing()
    if missing is not None:
        print(f"no GPU: skipped ({missing})")
        return 0
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.get_current_device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    print(f"GPU: {name}; CuPy {cupy.__version__}; torch on the GPU: {'yes' if torch_on_gpu() else 'no'}")
    bench(cupy, FULL, rounds=args.rounds, with_torch=torch_on_gpu())
    return 0


if __name__ == "__main__":
    sys.exit(main())
