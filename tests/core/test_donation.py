"""The backward walk hands an entry's output to its rule (``Primitive.reuses_ans``, ``backward.Donated``)
only when nothing else can see it: the sigmoid cross entropy's logits rule then writes the cotangent into
the per-example loss's array instead of a new one.

Donation must never change a number, and must never happen while anything holds the loss (a user's name,
a weakref, a persistent tape, an outer tape recording the walk).
"""
from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tapegrad as tg

N = 50_000  # 400 kB of float64: a cotangent of this size shows up plainly in tracemalloc's peak


def _data(dtype=np.float64):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(N) * 4).astype(dtype)
    z = (rng.random(N) < 0.5).astype(dtype)
    return x, z


def _grad(x0, z0, hold=None, many=False):
    """The gradient of the mean loss, and the traced peak (bytes) during tape.gradient alone."""
    x, z = tg.Variable(x0), tg.constant(z0)
    with tg.GradientTape() as tape:
        per = tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
        loss = tg.reduce_mean(per)
    kept = hold(per) if hold is not None else None
    del per
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        g = tape.gradient(loss, [x] if many else x)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    g = g[0] if many else g
    return g.numpy(), peak, kept


@pytest.mark.parametrize("many", [False, True], ids=["one-source", "list-of-sources"])
def test_the_loss_array_is_reused_and_the_numbers_are_the_same(many):
    x0, z0 = _data()
    donated, peak, _ = _grad(x0, z0, many=many)
    held, held_peak, per = _grad(x0, z0, hold=lambda t: t, many=many)
    assert peak < N * 8 // 2 <= N * 8 <= held_peak  # no new n-array when donated; one when the loss is held
    np.testing.assert_array_equal(donated, held)  # the same ufuncs in the same order: the same bits
    expect = (1 / (1 + np.exp(-x0)) - z0) / N
    np.testing.assert_allclose(donated, expect, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("hold", [lambda t: t, lambda t: t.numpy(), lambda t: t.numpy()[10:],
                                  lambda t: weakref.ref(t)],
                         ids=["tensor", "its-array", "a-view", "a-weakref"])
def test_a_loss_anyone_holds_is_never_overwritten(hold):
    x0, z0 = _data()
    _, peak, kept = _grad(x0, z0, hold=hold)
    assert peak >= N * 8
    values = kept() if isinstance(kept, weakref.ref) else kept
    if values is not None:  # (a weakref's tensor is gone by now)
        values = np.asarray(values.numpy() if isinstance(values, tg.Tensor) else values)
        expect = np.maximum(x0, 0) - x0 * z0 + np.log1p(np.exp(-np.abs(x0)))
        np.testing.assert_allclose(values, expect[-len(values):], rtol=1e-12, atol=1e-12)  # (cancellation)


def test_no_donation_on_a_persistent_tape_and_the_loss_survives():
    x0, z0 = _data()
    x, z = tg.Variable(x0), tg.constant(z0)
    with tg.GradientTape(persistent=True) as tape:
        per = tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
        loss = tg.reduce_mean(per)
    before = per.numpy().copy()
    del per
    g1 = tape.gradient(loss, x).numpy()
    g2 = tape.gradient(loss, x).numpy()  # the entries (and the loss) are still there for a second walk
    np.testing.assert_array_equal(g1, g2)
    with tg.GradientTape() as again:
        loss2 = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x))
    np.testing.assert_array_equal(again.gradient(loss2, x).numpy(), g1)
    assert np.isfinite(before).all()


def test_second_order_is_unaffected():
    """An outer tape records the inner walk: the rule runs as ops, nothing is written in place, and the
    Hessian's diagonal is sigmoid'(x) / n."""
    x0, z0 = _data()
    x0, z0 = x0[:200], z0[:200]
    x, z = tg.Variable(x0), tg.constant(z0)
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x))
        g = inner.gradient(loss, x)
        s = tg.reduce_sum(g)
    h = outer.gradient(s, x).numpy()
    p = 1 / (1 + np.exp(-x0))
    np.testing.assert_allclose(h, p * (1 - p) / len(x0), rtol=1e-10, atol=1e-18)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_and_float32_losses(dtype):
    """0-d logits (K.sigmoid's other formula: never donated) and float32 agree with the plain formula."""
    for x0, z0 in [(np.array(2.5, dtype), np.array(1.0, dtype)), tuple(a.astype(dtype) for a in _data())]:
        x, z = tg.Variable(x0), tg.constant(z0)
        with tg.GradientTape() as tape:
            loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x))
        g = tape.gradient(loss, x).numpy()
        assert g.dtype == dtype
        expect = (1 / (1 + np.exp(-x0.astype(np.float64))) - z0) / x0.size
        tol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g, expect, rtol=tol, atol=tol / x0.size)
