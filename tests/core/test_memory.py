"""Memory: tapes leave nothing behind, and a spent tape's walk releases intermediates as it goes."""
from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np

import tapegrad as tg


def _descend(w: tg.Variable, steps: int) -> None:
    for _ in range(steps):
        with tg.GradientTape() as tape:
            y = w * w
        w.assign_sub(0.01 * tape.gradient(y, w))


def test_100000_tape_uses_leave_memory_flat():
    w = tg.Variable(1.0, dtype=tg.float64)
    _descend(w, 100)
    # tracemalloc costs ~10x per allocation, so it watches 10,000 uses byte by byte; the count of
    # live allocated blocks (cheap) watches all 100,000: a leak of one object per use shows in both.
    # Bounded caches (explain() keeps the last 256 results) turn over while traced before the
    # measurement starts: memory they free was then allocated under tracing too.
    tracemalloc.start()
    try:
        _descend(w, 1000)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _descend(w, 10_000)
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 16 * 1024, f"memory grew by {after - before} bytes over 10,000 tape uses"
    assert peak - before < 256 * 1024, f"peak rose {peak - before} bytes above the start"
    gc.collect()
    blocks = sys.getallocatedblocks()
    _descend(w, 100_000)
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 1000, "objects accumulate over 100,000 tape uses"
    want = 1.0
    for _ in range(111_100):  # the same float64 arithmetic by hand: d(w * w)/dw = w + w
        want = want - 0.01 * (want + want)
    assert w.numpy() == want


def _chain(x: tg.Tensor, refs: list, probe: object) -> tg.Tensor:
    """sin applied ten times after an op whose gradient runs ``probe`` (it is the last rule walked)."""
    y = _probe_op(x, probe)
    for _ in range(10):
        y = tg.sin(y)
        refs.append(weakref.ref(y))
    return y


def _probe_op(x: tg.Tensor, probe: object) -> tg.Tensor:
    @tg.custom_gradient
    def op(v):
        def grad(upstream):
            probe.alive = sum(r() is not None for r in probe.refs)
            return upstream
        return tg.identity(v), grad
    return op(x)


class _Probe:
    refs: list = []
    alive = -1


def test_a_spent_tape_releases_each_intermediate_once_walked():
    probe = _Probe()
    probe.refs = []
    x = tg.constant(np.linspace(0.0, 1.0, 1000))
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.reduce_sum(_chain(x, probe.refs, probe))
    tape.gradient(y, x)
    # When the first op's rule runs, every sin output (all walked already) is gone.
    assert probe.alive == 0


def test_a_persistent_tape_keeps_intermediates_until_it_is_dropped():
    probe = _Probe()
    probe.refs = []
    x = tg.constant(np.linspace(0.0, 1.0, 1000))
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tg.reduce_sum(_chain(x, probe.refs, probe))
    tape.gradient(y, x)
    assert probe.alive == 10  # a second gradient may need them
    del tape, y
    gc.collect()
    assert all(r() is None for r in probe.refs)
