"""Peak RSS of the logistic-regression gradient (bench row 5): tapegrad against the minimal floor.

Each side runs in a fresh process: make the data, convert it as the workload does (tg.constant,
which shares the 160 MB X instead of copying it), take the gradient 3 times, report the process's
peak resident memory. tracemalloc (bench/run.py) counts one call's allocations; this counts the data.

    PYTHONPATH=src python bench/bench_logistic_rss.py
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def child(which: str) -> None:
    sys.path.insert(0, HERE)
    import workloads
    fn = getattr(workloads, which)(workloads.logistic_data())
    for _ in range(3):
        fn()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # kB on Linux


def main() -> None:
    src = os.path.join(HERE, "..", "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    mb = {w: float(subprocess.check_output([sys.executable, __file__, w], env=env))
          for w in ("logistic_floor", "logistic_tapegrad")}
    print(f"peak RSS: tapegrad {mb['logistic_tapegrad']:.0f} MB, floor {mb['logistic_floor']:.0f} MB, "
          f"ratio {mb['logistic_tapegrad'] / mb['logistic_floor']:.2f}x (target <= 1.1x)")


if __name__ == "__main__":
    child(sys.argv[1]) if len(sys.argv) > 1 else main()
