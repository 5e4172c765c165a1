"""The same code on a GPU: tensors of CuPy arrays. Skipped where CuPy or a CUDA GPU is missing.

Every op runs on the GPU and agrees with NumPy (the generated check of test_strict), gradients stay
CuPy arrays on the input's device, and a logistic regression and the MLP give NumPy's values.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core import backend

from .conftest import no_host_copies

cupy = pytest.importorskip("cupy")
try:
    GPUS = cupy.cuda.runtime.getDeviceCount()
except Exception:  # CUDARuntimeError: no driver
    GPUS = 0
if GPUS == 0:
    pytest.skip("no CUDA GPU", allow_module_level=True)

from .test_strict import CASES, check_op  # noqa: E402  (after the skip: it needs array_api_strict)


def _on_gpu(a: np.ndarray) -> tg.Tensor:
    return tg.constant(cupy.asarray(a))


def _stays(t: tg.Tensor, device: int = 0) -> None:
    assert isinstance(t._value, cupy.ndarray), type(t._value)
    assert t._value.device.id == device


@pytest.mark.parametrize(("name", "complex_"), CASES, ids=[f"{n}{'-complex' if c else ''}" for n, c in CASES])
def test_op_on_cupy_arrays_matches_numpy(name, complex_):
    check_op(name, complex_, _on_gpu, _stays)


def _logistic(X, y, w):
    return tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tg.linalg.matvec(X, w)))


def _data(n: int = 2000, p: int = 10):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.standard_normal(p)))).astype(np.float64)
    return X, y


def test_logistic_regression_on_the_gpu_matches_numpy():
    X, y = _data()
    w0 = np.full(X.shape[1], 0.1)
    results = []
    for make in (np.asarray, cupy.asarray):
        w = tg.Variable(make(w0))
        with tg.GradientTape() as tape:
            loss = _logistic(tg.constant(make(X)), tg.constant(make(y)), w)
        results.append((loss, tape.gradient(loss, w)))
    (loss_np, g_np), (loss_gpu, g_gpu) = results
    _stays(loss_gpu)
    _stays(g_gpu)
    np.testing.assert_allclose(loss_gpu.numpy(), loss_np.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_gpu.numpy(), g_np.numpy(), rtol=1e-10, atol=1e-14)


def test_mlp_gradients_on_the_gpu_match_numpy():
    rng = np.random.default_rng(1)
    f = np.float32
    X = rng.standard_normal((64, 784)).astype(f)
    onehot = np.eye(10, dtype=f)[rng.integers(0, 10, 64)]
    init = [(rng.standard_normal((784, 32)) * 0.05).astype(f), np.zeros(32, f),
            (rng.standard_normal((32, 10)) * 0.05).astype(f), np.zeros(10, f)]
    grads = []
    for make in (np.asarray, cupy.asarray):
        params = [tg.Variable(make(p)) for p in init]
        W1, b1, W2, b2 = params
        with no_host_copies() if make is cupy.asarray else contextlib.nullcontext():
            with tg.GradientTape() as tape:
                h = tg.nn.relu(tg.constant(make(X)) @ W1 + b1)
                logp = tg.nn.log_softmax(h @ W2 + b2)
                loss = -tg.reduce_mean(tg.reduce_sum(tg.constant(make(onehot)) * logp, axis=1))
            grads.append(tape.gradient(loss, params))
    for g_np, g_gpu in zip(*grads):
        _stays(g_gpu)
        np.testing.assert_allclose(g_gpu.numpy(), g_np.numpy(), rtol=2e-4, atol=1e-6)


def test_minimize_on_gpu_data_records_host_scalars():
    X, y = _data(500, 4)
    Xg, yg = tg.constant(cupy.asarray(X)), tg.constant(cupy.asarray(y))
    w = tg.Variable(cupy.zeros(4))
    result = tg.minimize(lambda w: _logistic(Xg, yg, w), w, "sgd", 0.5, steps=20)
    _stays(tg.constant(w._value))
    losses = result.history.loss
    assert isinstance(losses, np.ndarray) and losses.dtype.kind == "f" and len(losses) == 21  # host numbers
    assert losses[-1] < losses[0]
    wn = tg.Variable(np.zeros(4))
    tg.minimize(lambda w: _logistic(tg.constant(X), tg.constant(y), w), wn, "sgd", 0.5, steps=20)
    np.testing.assert_allclose(backend.to_numpy(w._value), wn.numpy(), rtol=1e-10)


@pytest.mark.skipif(GPUS < 2, reason="needs two GPUs")
def test_gradients_stay_on_the_second_gpu():
    X, y = _data(200, 3)
    with cupy.cuda.Device(1):
        Xg, yg, w = cupy.asarray(X), cupy.asarray(y), tg.Variable(cupy.zeros(3))
    with tg.GradientTape() as tape:
        loss = _logistic(tg.constant(Xg), tg.constant(yg), w)
    _stays(tape.gradient(loss, w), device=1)
