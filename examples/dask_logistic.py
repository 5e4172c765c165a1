"""Logistic regression on data bigger than memory: tapegrad's tape on Dask arrays, descent with tg.minimize.

    python examples/dask_logistic.py                          # 200,000 x 50 on a LocalCluster of 2 workers
    python examples/dask_logistic.py --rows 2000000           # 800 MB of rows, 300 MB per worker (make bench-scale)
    python examples/dask_logistic.py --scheduler tcp://scheduler:8786   # the same code on a real cluster

The rows are generated chunk by chunk, each chunk by a generator seeded with its index, so no
process ever holds them whole, and every pass makes them again (as a pass over files would read
them again). The parameters are a small NumPy array; only the data are Dask. The loss is written
with tapegrad ops as for NumPy; each step of ``tg.minimize`` computes the loss and the gradient in
one ``dask.compute``: one pass over the chunks.

The figures printed: time per pass against the same loss and gradient written by hand in Dask (the
floor), the client's peak memory, convergence, and a 20,000-row sample fitted on Dask and on NumPy
(the coefficients must agree to 1e-8).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from typing import Any

import dask
import dask.array as da
import numpy as np

import tapegrad as tg

L2 = 1e-4  # a little ridge: the optimum is unique and well-conditioned, so two runs can agree to 1e-8


def make_data(rows: int, cols: int, chunk_rows: int, seed: int = 0) -> tuple[Any, Any]:
    """(X, y): Dask arrays of ``rows`` x ``cols`` float64 features and 0/1 labels, generated per chunk.

    A chunk holds ``[X | y]`` of ``chunk_rows`` rows (the labels need that chunk's X), so X and y
    come from one task per chunk: a pass makes each chunk once.
    """
    w_true = np.linspace(-2.0, 2.0, cols)

    def block(block_info: dict | None = None) -> np.ndarray:
        info = block_info[None]
        (start, stop), _ = info["array-location"]
        rng = np.random.default_rng([seed, info["chunk-location"][0]])  # a stream of its own per chunk
        x = rng.random((stop - start, cols)) * 2.0 - 1.0  # uniform features: 4x quicker to draw than normal ones
        p = 1.0 / (1.0 + np.exp(-(x @ w_true)))
        return np.concatenate([x, (rng.random(stop - start) < p)[:, None]], axis=1)

    both = da.map_blocks(block, chunks=(da.core.normalize_chunks(chunk_rows, (rows,))[0], (cols + 1,)),
                         dtype=np.float64, meta=np.empty((0, 0)))
    return both[:, :cols], both[:, cols]


def logistic_loss(X: Any, y: Any, l2: float = L2) -> Any:
    """The loss as a function of the coefficients, written with tapegrad ops: the same for NumPy and Dask data."""
    def loss(w: Any) -> Any:
        z = tg.linalg.matvec(X, w)
        return tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)) + \
            0.5 * l2 * tg.reduce_sum(w * w)
    return loss


def hand_written(X: Any, y: Any, w: np.ndarray, l2: float = L2) -> tuple[float, np.ndarray]:
    """The floor: the same loss and gradient written by hand in Dask, computed in one dask.compute."""
    z = X @ w
    loss = da.mean(da.logaddexp(0.0, z) - y * z) + 0.5 * l2 * float(w @ w)
    grad = X.T @ (1.0 / (1.0 + da.exp(-z)) - y) / X.shape[0] + l2 * w
    loss, grad = dask.compute(loss, grad)
    return float(loss), grad


def fit(X: Any, y: Any, steps: int = 100, gtol: float = 1e-7, optimizer: str = "lbfgs") -> Any:
    """Minimize the logistic loss from zeros: ``tg.minimize`` with the data as they are (NumPy or Dask)."""
    return tg.minimize(logistic_loss(X, y), np.zeros(X.shape[1]), optimizer=optimizer, steps=steps, gtol=gtol)


def time_per_pass(X: Any, y: Any, w: np.ndarray, rounds: int = 5) -> tuple[float, float]:
    """Median seconds of one evaluation of the loss and gradient at ``w``: (tapegrad, hand-written), interleaved
    so that load from other processes hits both alike. tapegrad's is what each step of minimize runs."""
    v = tg.Variable(w.copy())
    loss = logistic_loss(X, y)
    problem = tg.optimizers.Problem(lambda: loss(v), [v])
    ours, floor = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        problem.value_and_grad()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        hand_written(X, y, w)
        floor.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(floor)


def sample_check(X: Any, y: Any, rows: int = 20_000, chunks: int = 4) -> tuple[float, Any, Any]:
    """The first ``rows`` rows fitted on Dask (in ``chunks`` chunks) and on NumPy with the same optimizer and steps:
    (largest coefficient difference, Dask run, NumPy run)."""
    xs, ys = X[:rows].rechunk((rows // chunks, X.shape[1])), y[:rows].rechunk(rows // chunks)
    xn, yn = dask.compute(xs, ys)
    lazy, eager = fit(xs, ys, gtol=1e-10), fit(xn, yn, gtol=1e-10)
    return float(np.max(np.abs(lazy.x - eager.x))), lazy, eager


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (ru_maxrss is in KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # run on each worker: its process's peak


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", default="300MB", help="memory limit per worker")
    parser.add_argument("--scheduler", help="a running cluster's scheduler address, e.g. tcp://scheduler:8786")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds against the floor")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, memory_limit=args.memory,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        start_rss = peak_rss_mb()
        X, y = make_data(args.rows, args.cols, args.chunk_rows)
        gb = args.rows * (args.cols + 1) * 8 / 1e9
        print(f"data: {args.rows:,} x {args.cols} float64 + labels ({gb:.2f} GB), {X.numblocks[0]} chunks of "
              f"{args.chunk_rows:,} rows; workers: {len(client.scheduler_info()['workers'])}, memory limit "
              f"{args.memory} each")
        t = time.perf_counter()
        result = fit(X, y)
        wall = time.perf_counter() - t
        passes, steps = result.nfev, max(result.steps, 1)
        print(f"tg.minimize (L-BFGS): {result.status} after {result.steps} steps, gradient norm "
              f"{result.history['grad_norm'][-1]:.2e}, {passes} passes over the data ({passes / steps:.2f} per "
              f"step), {wall:.1f} s ({wall / steps:.2f} s per step)")
        ours, floor = time_per_pass(X, y, result.x, args.rounds)
        ratio = ours / floor
        print(f"time per pass (median of {args.rounds} interleaved): tapegrad {ours:.3f} s, hand-written Dask "
              f"{floor:.3f} s, ratio {ratio:.2f} ({'within' if ratio <= 1.3 else 'above'} the 1.3x target)")
        diff, lazy, _ = sample_check(X, y)
        print(f"20,000-row sample, Dask vs NumPy (same L-BFGS, {lazy.steps} steps): largest coefficient difference "
              f"{diff:.1e} ({'within' if diff <= 1e-8 else 'above'} 1e-8)")
        rss = peak_rss_mb()
        workers = [m / 1024 for m in client.run(_peak_kb).values()] if sys.platform == "linux" else []
        print(f"client peak RSS: {rss:.0f} MB ({start_rss:.0f} MB before the first pass; the data: {gb * 1000:.0f} "
              f"MB)" + (f"; workers' peak RSS: {', '.join(f'{m:.0f}' for m in workers)} MB" if workers else ""))
        return {"rows": args.rows, "cols": args.cols, "chunk_rows": args.chunk_rows, "chunks": X.numblocks[0],
                "memory": args.memory, "status": result.status, "steps": result.steps, "passes": passes, "grad_norm":
                float(result.history["grad_norm"][-1]), "wall": wall, "ours": ours, "floor": floor,
                "ratio": ratio, "sample_diff": diff, "client_rss_mb": rss, "worker_rss_mb": workers}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
