"""Every op in the table on ``array_api_strict`` arrays, generated from the registry like tests/ops.

The strict library has the array API standard and nothing else, so an op whose kernel calls something
NumPy-only fails here. Each primitive runs on strict arrays on a second device ("device1", the stand-in
for a GPU) and on NumPy arrays, with the inputs of its spec in tests/ops/specs.py: the values must agree,
the result and the gradients (first and second order) must be strict arrays on that device, and no
array may be copied to the host on the way. An op that cannot run there is listed in NUMPY_ONLY and
must say so clearly.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core import backend
from tapegrad._core.backend import BackendError
from tapegrad._core.record import REGISTRY
from tests.ops.specs import SPECS, Spec
from tests.ops.test_gradients import _inputs

from .conftest import no_host_copies

strict = pytest.importorskip("array_api_strict")
DEVICE = strict.Device("device1")

# The ops that run on NumPy arrays only (README, "Other array libraries"), each with the reason.
NUMPY_ONLY = {
    # computed element by element with Python's math module (C's erf, lgamma): no array formula yet
    "erf": "math module",
    "erfc": "math module",
    "erfinv": "math module",  # Newton steps on math.erf
    "lgamma": "math module",
    "digamma": "math module",  # its scalar path; the array path is NumPy's errstate and unique
    "polygamma": "math module",
}
ON_STRICT = sorted(set(REGISTRY) - set(NUMPY_ONLY))
CASES = [(n, False) for n in ON_STRICT] + [(n, True) for n in ON_STRICT if SPECS[n].complex]


def _shapes(spec: Spec) -> list:
    if spec.shapes == "unary":
        return [(2, 3)]
    if spec.shapes == "broadcast":
        return [(2, 3), (3,)][: len(spec.domains)] if len(spec.domains) == 2 else [(2, 3)] * len(spec.domains)
    return list(spec.shapes)


def _on_device(a: np.ndarray) -> tg.Tensor:
    return tg.constant(strict.asarray(a, device=DEVICE))


def _host(t: tg.Tensor) -> np.ndarray:
    v = t._value
    if backend.library(v) == "array_api_strict":
        return np.asarray(v.to_device(strict.Device("CPU_DEVICE")))
    return backend.to_numpy(v)


def _real(t: tg.Tensor) -> tg.Tensor:
    return tg.math.real(t) if t.dtype.is_complex else t


def _run(spec: Spec, args: list, make, order: int) -> tuple:
    """The op's value, the gradient of a weighted sum of it, and a Hessian-vector product (second order)."""
    rng = np.random.default_rng(7)
    xs = [make(a) for a in args]
    if not spec.differentiable:
        return spec.call(*xs), [], []
    with tg.GradientTape() as outer:
        outer.watch(xs)
        with tg.GradientTape() as inner:
            inner.watch(xs)
            out = spec.call(*xs)
            w = rng.uniform(0.5, 1.5, size=tuple(out.shape))  # NumPy weights joining the device's arrays
            loss = tg.reduce_sum(_real(out) * w)
        grads = inner.gradient(loss, xs)
        terms = [tg.reduce_sum(_real(g) * rng.uniform(-1, 1, size=tuple(g.shape))) for g in grads if g is not None]
    hvp = outer.gradient(tg.add_n(terms), xs) if order > 1 and spec.second_order and terms else []
    return out, grads, hvp


def _on_strict(t: tg.Tensor | None) -> None:
    if t is not None:
        assert backend.library(t._value) == "array_api_strict", type(t._value)
        assert t._value.device == DEVICE


def check_op(name: str, complex_: bool, make, stays) -> None:
    """The op ``name`` on arrays made by ``make`` against NumPy: values, gradients and second order agree, each
    result passes ``stays`` (its library and device), and nothing is copied to the host. (test_cupy uses it too.)"""
    spec = SPECS[name]
    args = _inputs(spec, _shapes(spec), seed=3, complex=complex_)
    want = _run(spec, args, tg.constant, order=2)
    with no_host_copies():
        got = _run(spec, args, make, order=2)
    for part, w, g in zip(("value", "gradient", "second order"), want, got):
        w, g = (w, g) if part != "value" else ([w], [g])
        assert len(w) == len(g), f"{name}: {part}"
        for a, b in zip(w, g):
            assert (a is None) == (b is None), f"{name}: {part} is None on one library only"
            if b is not None:
                stays(b)
                assert b.dtype == a.dtype, f"{name}: {part} dtype"
                np.testing.assert_allclose(_host(b), _host(a), rtol=1e-10, atol=1e-12, err_msg=f"{name}: {part}")


@pytest.mark.parametrize(("name", "complex_"), CASES, ids=[f"{n}{'-complex' if c else ''}" for n, c in CASES])
def test_op_on_strict_arrays_matches_numpy(numpy_dtypes, name, complex_):
    check_op(name, complex_, _on_device, _on_strict)


@pytest.mark.parametrize("name", sorted(NUMPY_ONLY))
def test_numpy_only_ops_say_so(numpy_dtypes, name):
    spec = SPECS[name]
    args = _inputs(spec, _shapes(spec), seed=3)
    with pytest.raises(BackendError, match=f"{name} runs on NumPy arrays only") as caught:
        spec.call(*[_on_device(a) for a in args])
    assert "Convert the input first" in str(caught.value)
    # raised by tapegrad, with the library's own traceback dropped
    assert caught.value.__suppress_context__ and "tapegrad" in str(caught.traceback[-1].path)


def test_every_primitive_is_covered():
    # the cases above are generated from REGISTRY: a new primitive is run on strict arrays the moment it
    # exists, from its spec in tests/ops/specs.py (or listed in NUMPY_ONLY, with its reason)
    assert set(REGISTRY) <= set(SPECS), sorted(set(REGISTRY) - set(SPECS))
    assert set(NUMPY_ONLY) <= set(REGISTRY), sorted(set(NUMPY_ONLY) - set(REGISTRY))
    assert {n for n, _ in CASES} | set(NUMPY_ONLY) == set(REGISTRY)
    assert len(NUMPY_ONLY) <= 10, "NUMPY_ONLY is meant to stay short: write the kernel in standard calls"


# ---- devices: the stand-in for a GPU --------------------------------------------------------------


def test_numpy_values_join_the_arrays_device(numpy_dtypes):
    x = _on_device(np.arange(3.0))
    with no_host_copies():
        y = x * np.array([1.0, 2.0, 3.0]) + 1.0
        z = tg.where(np.array([True, False, True]), y, 0.0)
    for t in (y, z):
        _on_strict(t)
    np.testing.assert_array_equal(_host(z), [1.0, 0.0, 7.0])


def test_arrays_on_two_devices_are_refused_clearly(numpy_dtypes):
    a = _on_device(np.ones(2))
    b = tg.constant(strict.asarray(np.ones(2), device=strict.Device("device2")))
    with pytest.raises(ValueError, match="two devices"):
        a + b


def test_a_variable_on_a_device_trains_there(numpy_dtypes):
    w = tg.Variable(strict.asarray(np.array([0.5, -0.5]), device=DEVICE))
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    with no_host_copies():
        for _ in range(3):
            with tg.GradientTape() as tape:
                loss = tg.reduce_mean(tg.square(tg.linalg.matvec(x, w) - 1.0))
            g = tape.gradient(loss, w)
            w.assign_sub(0.01 * g)
    _on_strict(g)
    assert backend.library(w._value) == "array_api_strict" and w._value.device == DEVICE
    v = np.array([0.5, -0.5])
    for _ in range(3):
        v = v - 0.01 * 2 * x.T @ (x @ v - 1.0) / 3
    np.testing.assert_allclose(_host(tg.constant(w._value)), v, rtol=1e-12)


def test_minimize_keeps_a_device_variable_on_its_device(numpy_dtypes):
    rng = np.random.default_rng(0)
    X = strict.asarray(rng.standard_normal((50, 3)), device=DEVICE)
    w = tg.Variable(strict.asarray(np.zeros(3), device=DEVICE))
    result = tg.minimize(lambda w: tg.reduce_mean(tg.square(tg.linalg.matvec(X, w) - 1.0)), w, "sgd", 0.1, steps=5)
    assert w._value.device == DEVICE
    assert isinstance(result.history.loss, np.ndarray) and result.history.loss[-1] < result.history.loss[0]


def _least_squares(X, opt, on_device, record=True, steps=25, data_on_device=True, **kw):
    """A least-squares fit from w = 0: w on DEVICE (with X there too, or X in NumPy), or all on NumPy."""
    start = np.zeros(X.shape[1])
    if on_device:
        start = strict.asarray(start, device=DEVICE)
        X = strict.asarray(X, device=DEVICE) if data_on_device else X
    w = tg.Variable(start, name="w")
    result = tg.minimize(lambda w: tg.reduce_mean(tg.square(tg.linalg.matvec(X, w) - 1.0)), w, opt, steps=steps,
                         record=record, **kw)
    return w, result


@pytest.mark.parametrize("opt", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("data_on_device", [True, False])
def test_minimize_on_a_device_equals_numpy(numpy_dtypes, opt, data_on_device):
    """Parameters, gradients and optimizer state stay strict arrays on DEVICE; the History is host NumPy and
    its every column equals the NumPy run's (the same kernels underneath: to rounding at most)."""
    X = np.random.default_rng(1).standard_normal((40, 4))
    w, result = _least_squares(X, opt, True, record="state", data_on_device=data_on_device)
    w_np, expected = _least_squares(X, opt, False, record="state")
    assert backend.library(w._value) == "array_api_strict" and w._value.device == DEVICE
    for value in (result.x, result.grad):
        assert backend.library(value) == "array_api_strict" and value.device == DEVICE
    if opt == "adam":
        for slot in result.optimizer._slots[id(w)][1]:
            assert backend.library(slot) == "array_api_strict" and slot.device == DEVICE
    h, e = result.history, expected.history
    assert h.columns == e.columns and len(h) == len(e) and result.status == expected.status
    for c in h.columns:
        assert type(h[c]) is np.ndarray and h[c].dtype == e[c].dtype, c
        if c != "elapsed":
            np.testing.assert_allclose(h[c], e[c], rtol=1e-10, atol=1e-12, err_msg=c)
    np.testing.assert_allclose(_host(tg.constant(w._value)), w_np.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.final["w"], w_np.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clipping_and_weight_decay_run_on_the_device(numpy_dtypes, clip):
    X = np.random.default_rng(4).standard_normal((40, 4))
    runs = [_least_squares(X, tg.optimizers.AdamW(0.05, weight_decay=0.1, **{clip: 0.05}), dev, steps=15)
            for dev in (True, False)]
    (w, result), (w_np, expected) = runs
    assert backend.library(w._value) == "array_api_strict" and w._value.device == DEVICE
    for c in ("loss", "grad_norm", "w[0]", "w[3]"):
        np.testing.assert_allclose(result.history[c], expected.history[c], rtol=1e-10, atol=1e-12, err_msg=c)


def test_minimize_copies_only_the_recorded_columns_of_a_device_parameter(numpy_dtypes, monkeypatch):
    """Per step a device parameter gives the host its History columns (first max_elements and its norm), never
    the whole parameter; the whole of it is copied once, at the end, for History.final."""
    copies = []
    to_numpy = backend.to_numpy
    monkeypatch.setattr(backend, "to_numpy", lambda v: copies.append(int(np.size(v))) or to_numpy(v))
    X = np.random.default_rng(2).standard_normal((30, 200)) / 10
    w, result = _least_squares(X, "adam", True, steps=10)
    monkeypatch.setattr(backend, "to_numpy", to_numpy)
    _, expected = _least_squares(X, "adam", False, steps=10)
    columns = tg.History.max_elements + 1
    assert sum(n > columns for n in copies) == 1 and max(copies) == 200
    assert "norm(w)" in result.history.columns
    for c in ("w[0]", "w[9]", "norm(w)", "loss", "grad_norm"):
        np.testing.assert_allclose(result.history[c], expected.history[c], rtol=1e-10, atol=1e-12, err_msg=c)


def test_a_full_record_of_a_large_device_parameter_is_taken_every_few_steps(numpy_dtypes, monkeypatch):
    """record="full": a device parameter larger than History.device_elements is copied every
    ceil(size / device_elements) steps and at the last row, NaN between; a small one every step."""
    monkeypatch.setattr(tg.History, "device_elements", 4)
    X = np.random.default_rng(3).standard_normal((20, 10)) / 3
    _, result = _least_squares(X, "sgd", True, record="full", steps=7)
    _, expected = _least_squares(X, "sgd", False, record="full", steps=7)
    h, e = result.history, expected.history
    every = 3  # ceil(10 / 4)
    kept = [k for k in range(len(h)) if k % every == 0 or k == len(h) - 1]
    for i in range(10):
        col = f"w[{i}]"
        np.testing.assert_allclose(h[col][kept], e[col][kept], rtol=1e-10, atol=1e-12)
        assert np.isnan(np.delete(h[col], kept)).all()
    monkeypatch.setattr(tg.History, "device_elements", 10)
    _, small = _least_squares(X, "sgd", True, record="full", steps=7)
    np.testing.assert_allclose(small.history["w[9]"], e["w[9]"], rtol=1e-10, atol=1e-12)
