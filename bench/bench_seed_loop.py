"""The seed's loop, 20,000 steps, timed in two source trees taking turns: what a change costs the hot path.

    python bench/bench_seed_loop.py OLD_SRC NEW_SRC [--rounds 15] [--steps 20000]

Each round runs one fresh process per tree (in alternating order, so load from other processes
hits both alike); a process times the loop three times and reports its best. The table gives the
median over rounds, and the ratio of the medians. With one tree it only times that tree.

    w = tg.Variable(1.0)
    for _ in range(20_000):
        with tg.GradientTape() as tape:
            y = w ** 2
        g = tape.gradient(y, w)
        w.assign_sub(0.01 * g)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CODE = """
import time
import tapegrad as tg
steps = {steps}
def loop():
    w = tg.Variable(1.0)
    for _ in range(steps):
        with tg.GradientTape() as tape:
            y = w ** 2
        g = tape.gradient(y, w)
        w.assign_sub(0.01 * g)
    return w
loop()
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    loop()
    best = min(best, time.perf_counter() - t)
print(best)
"""


def run(src: str, steps: int) -> float:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    out = subprocess.check_output([sys.executable, "-c", CODE.format(steps=steps)], env=env, text=True)
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="src folders to compare (the first is the reference)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    times: dict[str, list[float]] = {t: [] for t in args.trees}
    for r in range(args.rounds):
        order = args.trees if r % 2 == 0 else args.trees[::-1]
        for tree in order:
            times[tree].append(run(tree, args.steps))
    ref = statistics.median(times[args.trees[0]])
    for tree in args.trees:
        med, best = statistics.median(times[tree]), min(times[tree])
        print(f"{tree:<40} median {med * 1e6 / args.steps:7.3f} us/step  (min {best * 1e6 / args.steps:7.3f})"
              f"  x{med / ref:.4f}")


if __name__ == "__main__":
    main()
