"""What minimize(compile="auto") pays to stay equal to eager code: the check, before every replay, that
the Python state fn reads did not change (tapegrad/descent/guard.py).

One evaluation (replay, loss and gradient as arrays) with the check and without it, alternating in
this process, best of 15 rounds each; and the check alone. The fits read two NumPy arrays of n points
each from their closure, compared bit for bit at every step.

    PYTHONPATH=src python bench/bench_guard.py
"""
import importlib
import timeit

import numpy as np

import tapegrad as tg

M = importlib.import_module("tapegrad.descent.problem")
scale = 2.0


def fit(n: int):
    rng = np.random.default_rng(0)
    xs = rng.normal(size=n)
    ys = 3 * xs + 1
    return lambda p: tg.reduce_mean((p[0] * xs + p[1] - ys) ** 2) * scale


def main() -> None:
    cases = {"seed: w**2": (lambda w: w ** 2, 1, 10),
             "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, 2, 10)}
    for n in (100, 1000, 3000, 10_000, 60_000):
        cases[f"fit, 2 arrays of {n}"] = (fit(n), 2, n)
    for name, (fn, nv, size) in cases.items():
        vs = [tg.Variable(np.float64(0.5)) for _ in range(nv)]
        problem = M.CompiledProblem(fn, vs[0] if nv == 1 else vs, vs, "auto")
        problem.value_and_grad()
        problem.value_and_grad()
        assert problem.compiled, problem.reason
        check = problem._guard
        k = max(200, 200_000 // size)
        on, off = [], []
        for _ in range(15):
            problem._guard = check
            on.append(timeit.timeit(problem.value_and_grad, number=k) / k * 1e6)
            problem._guard = None
            off.append(timeit.timeit(problem.value_and_grad, number=k) / k * 1e6)
        alone = min(timeit.repeat(check, number=k, repeat=7)) / k * 1e6 if check else 0.0
        print(f"{name:<24} {len(problem._watch):2d} checks   evaluation {min(off):8.2f} us, with the check "
              f"{min(on):8.2f} us ({100 * (min(on) / min(off) - 1):+5.1f}%); the check alone {alone:6.2f} us")


if __name__ == "__main__":
    main()
