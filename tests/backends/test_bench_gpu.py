"""bench/bench_gpu.py's code paths on NumPy (the GPU run itself happens only where CuPy has a GPU)."""
from __future__ import annotations

import importlib.util
import io
import os

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_gpu", os.path.join(HERE, "..", "..", "bench", "bench_gpu.py"))
bench_gpu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_gpu)


def test_every_workload_runs_and_agrees_with_its_floor_on_numpy():
    out = io.StringIO()
    medians = bench_gpu.bench(np, bench_gpu.SMOKE, rounds=1, with_torch=False, out=out)
    assert set(medians) == set(bench_gpu.WORKLOADS)
    for times in medians.values():
        assert set(times) == {"floor", "tapegrad"} and all(t > 0 for t in times.values())
    assert "logistic regression 2,000 x 10" in out.getvalue()


@pytest.mark.parametrize("key", sorted(bench_gpu.WORKLOADS))
def test_the_check_catches_a_wrong_gradient(key):
    _, make, tapegrad_run, floor_run, _ = bench_gpu.WORKLOADS[key]
    d = make(np, bench_gpu.SMOKE[key])
    loss, grads = tapegrad_run(d)()
    wrong = [g * 1.01 for g in grads]
    with pytest.raises(AssertionError, match="gradient"):
        bench_gpu.check(key, (loss, wrong), floor_run(d)(), 1e-4)


def test_without_a_gpu_it_says_so_and_exits_0(capsys):
    if bench_gpu.gpu_missing() is None:
        pytest.skip("a GPU is here: the real benchmark would run")
    assert bench_gpu.main([]) == 0
    assert capsys.readouterr().out.startswith("no GPU: skipped")
