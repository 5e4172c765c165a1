"""What recording the history costs: a 10,000-step minimize with record=True against record=False;
and what minimize's compiled path (compile="auto", the default) gains over compile=False.
``minimize_seed`` (and ``minimize_no_record``) are `make bench`'s row 8, against the compiled seed step alone; it
runs fused steps (descent.fused), ``minimize_ordinary`` the same without them.

The issue's budget is 10%. Both runs do the same work but for the history's buffer writes; they
alternate, and the cost quoted is the median of the rounds' ratios. Two floors show what the driver
itself adds: the engine alone (tape, w**2, gradient) and the seed's descent written by hand (the same
plus assign_sub). Medians of several runs, in this process.

    PYTHONPATH=src python bench/bench_history.py [--steps 10000] [--repeat 21]
"""
import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tapegrad as tg


def minimize_seed(d: dict, record: bool = True) -> Callable[[], Any]:
    """The compiled seed step (w ** 2, SGD 0.01, float32) run by tg.minimize, which records the history."""
    def run() -> Any:
        r = tg.minimize(lambda w: w ** 2, tg.Variable(1.0), optimizer="sgd", learning_rate=0.01, steps=d["steps"],
                        record=record, progress=False)
        return r.x
    return run


def minimize_no_record(d: dict) -> Callable[[], Any]:
    return minimize_seed(d, record=False)


def minimize_ordinary(d: dict) -> Callable[[], Any]:
    """minimize_seed without the fused steps (descent.fused): the ordinary loop, a Python iteration per step."""
    from tapegrad.descent import fused

    seed = minimize_seed(d)

    def run() -> Any:
        fused.ENABLED = False
        try:
            return seed()
        finally:
            fused.ENABLED = True
    return run


def by_hand(steps: int) -> None:
    w = tg.Variable(np.float64(1.0))
    for _ in range(steps):
        with tg.GradientTape() as tape:
            y = w ** 2
        w.assign_sub(0.01 * tape.gradient(y, w))


def engine_only(steps: int) -> None:
    w = tg.Variable(np.float64(1.0))
    for _ in range(steps):
        with tg.GradientTape() as tape:
            y = w ** 2
        tape.gradient(y, w)


def run(record: bool, steps: int, fn, x0, optimizer: str, compile="auto") -> None:
    tg.minimize(fn, x0, optimizer=optimizer, steps=steps, record=record, progress=False, compile=compile)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    n, r = args.steps, args.repeat
    cases = {
        "seed: w**2, one scalar, sgd": (lambda w: w ** 2, np.float64(1.0), "sgd"),
        "rosenbrock: two scalars, adam": (lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2,
                                          {"x": np.float64(-1.2), "y": np.float64(1.0)}, "adam"),
        "quadratic: one 100-vector, adam": (lambda v: tg.reduce_sum(v * v), np.linspace(-1.0, 1.0, 100), "adam"),
    }
    engine = median_time(lambda: engine_only(n), r)
    floor = median_time(lambda: by_hand(n), r)
    print(f"{n} steps, median of {r} runs")
    print(f"{'engine only: tape, w**2, gradient':<34} {engine * 1e6 / n:7.2f} us/step")
    print(f"{'the seed by hand (+ assign_sub)':<34} {floor * 1e6 / n:7.2f} us/step")
    for name, case in cases.items():
        # Interleaved, so that a slow moment of the machine hits both; the cost is the median of the
        # per-round ratios.
        on, off = [], []
        for i in range(r):
            # The order alternates too, so that neither setting always runs second (warmer caches).
            for record in (False, True) if i % 2 else (True, False):
                (on if record else off).append(median_time(lambda case=case, record=record:
                                                           run(record, n, *case), 1))
        cost = statistics.median(a / b - 1 for a, b in zip(on, off))
        print(f"{name:<34} record=False {statistics.median(off) * 1e6 / n:7.2f} us/step   record=True "
              f"{statistics.median(on) * 1e6 / n:7.2f} us/step   recording costs {100 * cost:+5.1f}%")
    seed = {"steps": n}
    fused, ordinary = minimize_seed(seed), minimize_ordinary(seed)
    on, off = [], []
    for i in range(r):
        for f, times in ((fused, on), (ordinary, off)) if i % 2 else ((ordinary, off), (fused, on)):
            times.append(median_time(f, 1))
    print(f"{'seed, fused steps (descent.fused)':<34} {statistics.median(on) * 1e6 / n:7.2f} us/step   ordinary loop "
          f"{statistics.median(off) * 1e6 / n:7.2f} us/step")
    print("compile: minimize's default (compiled when fn traces cleanly) against compile=False, record=True")
    for name, case in cases.items():
        comp = median_time(lambda case=case: run(True, n, *case), r)
        eager = median_time(lambda case=case: run(True, n, *case, compile=False), r)
        print(f"{name:<34} compiled {comp * 1e6 / n:7.2f} us/step   eager {eager * 1e6 / n:7.2f} us/step   "
              f"eager/compiled {eager / comp:5.2f}x")


if __name__ == "__main__":
    main()
