"""The rules' fast paths (``table._helpers._unseen``) against the plain rules, and the chunked
sigmoid cross entropy against its formula.

With no tape recording and no hook listening, the fused cross entropies, relu and 2-D matmul
compute their cotangents on arrays directly. Under a recording tape the same rules run as ops (that
is what higher orders differentiate, and what tests/ops/test_gradients.py checks against finite
differences). Both must give the same numbers: float64 within 1e-13 relative (the same arithmetic,
in another order at most), float32 within 1e-6.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import table as T

TOL = {np.float64: dict(rtol=1e-13, atol=1e-15), np.float32: dict(rtol=1e-6, atol=1e-7)}


def _both(loss_fn, sources):
    """Gradients through the fast path (no tape recording) and through the plain one (an outer tape
    records, so every rule runs as ops)."""
    with tg.GradientTape() as tape:
        loss = loss_fn()
    fast = tape.gradient(loss, sources)
    with tg.GradientTape() as outer:
        outer.watch(sources)
        with tg.GradientTape() as tape:
            loss = loss_fn()
        plain = tape.gradient(loss, sources)
    return [g.numpy() for g in fast], [g.numpy() for g in plain]


def _close(fast, plain, dtype):
    assert len(fast) == len(plain)
    for f, p in zip(fast, plain):
        assert f.dtype == p.dtype == dtype
        np.testing.assert_allclose(f, p, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduce", [True, False], ids=["mean", "elementwise-target"])
def test_sigmoid_cross_entropy(dtype, reduce):
    rng = np.random.default_rng(0)
    n = 3 * 8192 + 5  # past the kernel's chunk, not a multiple of it
    x = tg.Variable((rng.standard_normal(n) * 4).astype(dtype))
    z = tg.constant((rng.random(n) < 0.5).astype(dtype))
    f = (lambda: tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x))) if reduce else \
        (lambda: tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x))
    _close(*_both(f, [x]), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_chunked_sigmoid_cross_entropy_is_the_formula(dtype):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(2 * 8192 + 3) * 5, [800.0, -800.0, 0.0, 40.0, -40.0]]).astype(dtype)
    z = rng.random(x.shape).astype(dtype)
    out = tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x).numpy()
    assert out.dtype == dtype and np.isfinite(out).all()
    xd, zd = x.astype(np.float64), z.astype(np.float64)
    np.testing.assert_allclose(out, np.logaddexp(0, xd) - xd * zd, rtol=1e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    small = tg.nn.sigmoid_cross_entropy_with_logits(labels=z[:7], logits=x[:7]).numpy()  # the unchunked form
    np.testing.assert_allclose(small, out[:7], **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropies_and_relu_and_matmul(dtype):
    rng = np.random.default_rng(2)
    X = tg.constant(rng.standard_normal((64, 30)).astype(dtype))
    W1, W2 = (tg.Variable((rng.standard_normal(s) * 0.3).astype(dtype)) for s in ((30, 20), (20, 5)))
    b1 = tg.Variable(np.zeros(20, dtype))
    labels = rng.integers(0, 5, 64)
    onehot = tg.constant(np.eye(5, dtype=dtype)[labels])

    def logits():
        return tg.nn.relu(X @ W1 + b1) @ W2

    for f in (lambda: tg.reduce_mean(tg.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits())),
              lambda: tg.reduce_mean(tg.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits())),
              lambda: tg.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits())):
        _close(*_both(f, [W1, b1, W2]), dtype)


def test_fast_rules_answer_as_the_finite_differences():
    """The fast path on its own (first order, nothing recording) against central differences."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 4))
    z = (rng.random(6) < 0.5).astype(np.float64)
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    A = rng.standard_normal((3, 3))

    def f(w):
        h = tg.nn.relu(tg.constant(X) @ w)
        return (tg.reduce_sum(tg.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=h @ A))
                + tg.reduce_sum(tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=tg.reduce_sum(h, 1))))
    tg.testing.check_grads(f, [rng.standard_normal((4, 3)) + 0.3], order=1, modes=("rev",), per_element=True)


def test_no_cotangent_is_computed_for_an_unwatched_constant(monkeypatch):
    """The logistic regression's X (and its labels) get no cotangent: their rules would fail if run."""
    def probe(*args, **kwargs):
        raise AssertionError("a cotangent was computed for an unwatched constant")
    monkeypatch.setattr(T.matmul, "vjps", (probe, T.matmul.vjps[1]))
    monkeypatch.setattr(T.sigmoid_cross_entropy_with_logits, "vjps",
                        (probe, T.sigmoid_cross_entropy_with_logits.vjps[1]))
    rng = np.random.default_rng(4)
    X, y = tg.constant(rng.standard_normal((100, 5))), tg.constant((rng.random(100) < 0.5).astype(np.float64))
    w = tg.Variable(np.full(5, 0.1))
    with tg.GradientTape() as tape:
        loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tg.linalg.matvec(X, w)))
    g = tape.gradient(loss, w).numpy()
    p = 1 / (1 + np.exp(-(X.numpy() @ w.numpy())))
    np.testing.assert_allclose(g, X.numpy().T @ (p - y.numpy()) / 100, rtol=1e-12)
    # the probe is live: watching X makes its rule run
    with tg.GradientTape() as tape:
        tape.watch(X)
        loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tg.linalg.matvec(X, w)))
    with pytest.raises(AssertionError, match="unwatched constant"):
        tape.gradient(loss, X)


def test_relu_gradient_is_tensorflows_relugrad_on_both_paths():
    """g * (x > 0), as TensorFlow's ReluGrad: an inf or NaN cotangent gives NaN where x <= 0 too
    (TensorFlow 2.21: [nan, nan, nan] below), and a finite one is masked to exact zeros."""
    x = tg.constant([-1.0, 2.0, 0.0])
    for g in ([np.inf, np.nan, np.nan], [5.0, 3.0, 7.0]):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.nn.relu(x)
        fast = tape.gradient(y, x, output_gradients=tg.constant(g)).numpy()
        with tg.GradientTape():  # recording: the plain rule runs
            with tg.GradientTape() as tape:
                tape.watch(x)
                y = tg.nn.relu(x)
            with warnings.catch_warnings():  # (the plain path says inf * 0 at the user's line; TensorFlow is silent)
                warnings.simplefilter("ignore", RuntimeWarning)
                plain = tape.gradient(y, x, output_gradients=tg.constant(g)).numpy()
        expected = np.array(g, np.float32) * (x.numpy() > 0)
        np.testing.assert_array_equal(fast, expected)
        np.testing.assert_array_equal(plain, expected)



@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_reduce_mean_fast_rule(dtype, axis, keepdims):
    """One op's fast rule (g / n broadcast on the arrays) against the plain one, and against 1 / n."""
    rng = np.random.default_rng(5)
    x = tg.Variable(rng.standard_normal((3, 4, 5)).astype(dtype))
    w = tg.constant(rng.standard_normal((3, 4, 5)).astype(dtype))
    fast, plain = _both(lambda: tg.reduce_sum(tg.reduce_mean(x * w, axis=axis, keepdims=keepdims) ** 2), [x])
    _close(fast, plain, dtype)
    fast, _ = _both(lambda: tg.reduce_mean(x, axis=axis, keepdims=keepdims), [x])
    n = 60 if axis is None else int(np.prod([(3, 4, 5)[a] for a in np.atleast_1d(axis)]))
    np.testing.assert_allclose(fast[0], np.full((3, 4, 5), 1 / n), **TOL[dtype])
