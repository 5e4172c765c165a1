"""tapegrad's benchmarks: each workload against a same-process floor, and the peers when importable.

    python bench/run.py                      # everything (`make bench`)
    python bench/run.py --only idiom,hessian # some workloads (keys: seed idiom compiled expr20 second
                                             #   logistic mlp hessian)
    python bench/run.py --no-peers           # tapegrad and the floor only
    python bench/run.py --rounds 15          # more samples per timing (default 9)

Times are medians over interleaved rounds after warm-up (tapegrad, floor and each peer take turns,
so load from other processes hits all of them alike). The ratio is tapegrad over the floor measured
in the same process. Peak memory is tracemalloc's peak during one unit of work, over what was
allocated before it (so the data both sides share is not counted): it sees NumPy's allocations,
not those of torch, JAX or TensorFlow, which are shown as "-".
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import peers  # noqa: E402
from workloads import WORKLOADS, Workload  # noqa: E402

NUMPY_MEMORY = {"tapegrad", "floor", "autograd"}  # whose allocations tracemalloc sees


def import_cost(runs: int = 7) -> float:
    """Median milliseconds `import tapegrad` adds to a process that has imported numpy."""
    code = ("import time, numpy; t = time.perf_counter(); import tapegrad; "
            "print(time.perf_counter() - t)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(HERE, "..", "src"),
                                                        os.environ.get("PYTHONPATH", "")]))
    times = [float(subprocess.check_output([sys.executable, "-c", code], env=env)) for _ in range(runs)]
    return statistics.median(times) * 1e3


def time_once(fn: Callable[[], Any]) -> float:
    # The garbage collector stays on: collections a library causes are part of its cost.
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def close(a: Any, b: Any) -> bool:
    try:
        return all(np.allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=2e-3, atol=1e-5)
                   for x, y in zip(a, b)) if isinstance(a, list) else \
            np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=2e-3, atol=1e-5)
    except (TypeError, ValueError):
        return False


def calibrate_steps(build: Callable[[dict], Callable[[], Any]], data: dict, wl: Workload, budget: float) -> dict:
    """A copy of ``data`` whose step count makes one sample take about ``budget`` seconds (peers only)."""
    probe = dict(data, steps=50)
    fn = build(probe)
    fn()
    per_step = max(time_once(fn) / 50, 1e-9)
    return dict(data, steps=int(min(wl.steps, max(50, budget / per_step))))


def run_workload(wl: Workload, rounds: int, with_peers: bool, measure_memory: bool) -> dict:
    data = wl.data()
    builders = dict(wl.impls)
    if with_peers:
        builders.update(peers.builders(wl.key))
    fns: dict[str, Callable[[], Any]] = {}
    results: dict[str, Any] = {}
    steps: dict[str, int] = {}
    notes: list[str] = []
    for name, build in builders.items():
        try:
            d = data if name in wl.impls or wl.per == "call" else calibrate_steps(build, data, wl, 0.3)
            fn = build(d)
            results[name] = fn()  # warm-up (and tg.function's trace)
            fn()
        except Exception as e:  # a peer that cannot run here is reported, not fatal
            if name in wl.impls:
                raise
            notes.append(f"{name}: skipped ({type(e).__name__}: {e})")
            continue
        fns[name] = fn
        steps[name] = d.get("steps", 1) if wl.per == "step" else 1
    for name, result in results.items():
        # Loops of other lengths end elsewhere: only full-length results are comparable.
        if name != "floor" and steps[name] == steps["floor"] and not close(result, results["floor"]):
            notes.append(f"{name}: result differs from the floor's")
    samples: dict[str, list[float]] = {n: [] for n in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_once(fn) / steps[name])
    medians = {n: statistics.median(s) * 1e6 for n, s in samples.items()}
    spread = {n: (min(s) * 1e6, max(s) * 1e6) for n, s in samples.items()}
    memory: dict[str, int] = {}
    if measure_memory:
        for name in fns:
            if name in NUMPY_MEMORY:
                memory[name] = peak_memory(fns[name])
    return {"medians": medians, "spread": spread, "memory": memory, "notes": notes}


def fmt_time(us: float) -> str:
    if us < 1000:
        return f"{us:.3g} us" if us < 10 else f"{us:.1f} us"
    return f"{us / 1000:.3g} ms" if us < 1e6 else f"{us / 1e6:.3g} s"


def fmt_bytes(n: int) -> str:
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def verdict(wl: Workload, res: dict) -> str:
    tg_us, floor_us = res["medians"]["tapegrad"], res["medians"]["floor"]
    ok = True
    if wl.limit_us is not None:
        ok &= tg_us <= wl.limit_us
    if wl.limit_ratio is not None:
        ok &= tg_us / floor_us <= wl.limit_ratio
    if wl.limit_memory is not None:
        mem = res["memory"]
        if "tapegrad" in mem and mem.get("floor"):
            ok &= mem["tapegrad"] / mem["floor"] <= wl.limit_memory
    if wl.limit_us is None and wl.limit_ratio is None and wl.limit_memory is None:
        return ""
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated workload keys")
    ap.add_argument("--rounds", type=int, default=9, help="timed samples per implementation (median taken)")
    ap.add_argument("--no-peers", action="store_true", help="skip torch, jax, autograd, tensorflow")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = ap.parse_args(argv)
    chosen = WORKLOADS if not args.only else [w for w in WORKLOADS if w.key in args.only.split(",")]
    if not chosen:
        ap.error(f"--only: no workload among {', '.join(w.key for w in WORKLOADS)}")

    import tapegrad
    print(f"tapegrad {tapegrad.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores")
    if not args.no_peers:
        print("peers: " + (", ".join(f"{n} {v}" for n, v in peers.available().items()) or "none importable"))
    cost = import_cost()
    print(f"import tapegrad after numpy: {cost:.1f} ms (target <= 50 ms: {'met' if cost <= 50 else 'MISSED'})\n")

    header = f"{'workload':<60} {'tapegrad':>10} {'floor':>10} {'ratio':>7} {'peak mem tg / floor':>22}  target"
    print(header)
    print("-" * len(header))
    all_notes = []
    for wl in chosen:
        res = run_workload(wl, args.rounds, not args.no_peers, not args.no_memory)
        med, mem = res["medians"], res["memory"]
        unit = "/step" if wl.per == "step" else ""
        ratio = med["tapegrad"] / med["floor"]
        memtxt = (f"{fmt_bytes(mem['tapegrad'])} / {fmt_bytes(mem['floor'])}" if "floor" in mem else "-")
        print(f"{wl.title:<60} {fmt_time(med['tapegrad']) + unit:>10} {fmt_time(med['floor']) + unit:>10} "
              f"{ratio:>6.2f}x {memtxt:>22}  {wl.target} {verdict(wl, res)}")
        for name in med:
            if name in ("tapegrad", "floor"):
                continue
            m = f"{fmt_bytes(mem[name])}" if name in mem else "-"
            print(f"{'    ' + name:<60} {fmt_time(med[name]) + unit:>10} {'':>10} {med[name] / med['floor']:>6.2f}x "
                  f"{m:>22}  {med[name] / med['tapegrad']:.3g}x tapegrad's time")
        all_notes += [f"{wl.key}: {n}" for n in res["notes"]]
        sys.stdout.flush()
    if all_notes:
        print("\nnotes:\n  " + "\n  ".join(all_notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
