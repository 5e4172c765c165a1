"""`make bench-scale`: the Dask example at full size (2,000,000 x 50 float64, 800 MB) on a LocalCluster of two
one-thread workers capped at 300 MB each, and its figures in one table.

    python bench/bench_scale.py                    # the full size, about 3 minutes on 2 cores
    python bench/bench_scale.py --rows 200000      # quicker; any option of examples/dask_logistic.py

Times are medians of interleaved passes (tapegrad's and the hand-written floor's take turns). Every
pass generates the rows again, chunk by chunk, so the time per pass includes drawing them: as a
pass over data on disk includes reading them.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import dask_logistic  # noqa: E402

FULL = ["--rows", "2000000", "--cols", "50", "--chunk-rows", "50000", "--workers", "2", "--memory", "300MB",
        "--rounds", "3"]


def main(argv: list[str]) -> None:
    f = dask_logistic.main(FULL + argv)  # later options win
    steps = max(f["steps"], 1)
    rows = [
        ("data", f"{f['rows']:,} x {f['cols']} float64 ({f['rows'] * (f['cols'] + 1) * 8 / 1e6:.0f} MB with labels), "
                 f"{f['chunks']} chunks of {f['chunk_rows']:,} rows"),
        ("cluster", f"LocalCluster, 2 workers x 1 thread, memory limit {f['memory']} each; workers' peak RSS "
                    + (", ".join(f"{m:.0f}" for m in f["worker_rss_mb"]) + " MB" if f["worker_rss_mb"] else "n/a")),
        ("convergence", f"L-BFGS {f['status']} after {f['steps']} steps, gradient norm {f['grad_norm']:.1e}"),
        ("passes", f"{f['passes']} over the data, {f['passes'] / steps:.2f} per step"),
        ("time per step", f"{f['wall'] / steps:.2f} s (the whole run {f['wall']:.0f} s)"),
        ("time per pass", f"tapegrad {f['ours']:.2f} s, hand-written Dask {f['floor']:.2f} s: {f['ratio']:.2f}x, "
                          f"{'within' if f['ratio'] <= 1.3 else 'ABOVE'} the 1.3x target"),
        ("client peak RSS", f"{f['client_rss_mb']:.0f} MB"),
        ("20,000-row sample", f"Dask vs NumPy coefficients differ by {f['sample_diff']:.1e}: "
                              f"{'within' if f['sample_diff'] <= 1e-8 else 'ABOVE'} 1e-8"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for k, v in rows:
        print(f"{k:>{width}}  {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
