"""Tensors holding another library's arrays (Dask here; array_api_strict for a second library).

The engine's side of the dispatch: where values go, what stays lazy, what mixing gives, and what
the user is told when an op cannot run. Every op on every library is the generated strict test's job.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core import backend
from tests.optional import needs

DASK = needs("dask")


def _logistic(X, y, w):
    with tg.GradientTape() as tape:
        z = tg.reshape(tg.matmul(tg.constant(X), tg.reshape(w, (-1, 1))), (-1,))
        loss = tg.reduce_mean(tg.nn.sigmoid_cross_entropy_with_logits(labels=tg.constant(y), logits=z))
    return loss, tape.gradient(loss, w)


def test_importing_tapegrad_imports_no_other_array_library():
    code = "import sys, tapegrad; print(sorted(m for m in ('array_api_compat', 'dask', 'cupy') if m in sys.modules))"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "[]"


@DASK
def test_a_dask_logistic_regression_stays_lazy_and_equals_numpys():
    import dask.array as da
    rng = np.random.default_rng(0)
    Xn = rng.normal(size=(400, 5))
    yn = (Xn @ rng.normal(size=5) > 0).astype(np.float64)
    w0 = rng.normal(size=5)
    loss, g = _logistic(da.from_array(Xn, chunks=(100, 5)), da.from_array(yn, chunks=100), tg.Variable(w0))
    assert isinstance(loss._value, da.Array) and isinstance(g._value, da.Array)  # nothing computed yet
    loss_np, g_np = _logistic(Xn, yn, tg.Variable(w0))
    np.testing.assert_allclose(float(loss), float(loss_np), rtol=1e-12)
    np.testing.assert_allclose(g.numpy(), g_np.numpy(), rtol=1e-10, atol=1e-14)
    assert type(g.numpy()) is np.ndarray  # .numpy() computes


@DASK
def test_a_numpy_parameter_joins_a_dask_array_as_numpy_and_dask_mix():
    import dask.array as da
    data = tg.constant(da.ones((6, 2), chunks=(3, 2)))
    out = data * tg.constant(np.array([2.0, 3.0]))
    assert isinstance(out._value, da.Array)
    np.testing.assert_array_equal(out.numpy(), np.ones((6, 2)) * [2.0, 3.0])
    assert out.dtype == tg.float64 and out.shape == (6, 2)


@DASK
def test_a_dask_tensor_converts_and_casts_without_computing():
    import dask.array as da
    x = da.arange(6, chunks=3).astype("float64")
    t = tg.constant(x, dtype=tg.float32)
    assert isinstance(t._value, da.Array) and t.dtype == tg.float32
    assert float(tg.reduce_sum(t)) == 15.0


@DASK
def test_second_derivatives_on_dask_equal_numpys():
    import dask.array as da
    xn = np.linspace(-1.0, 1.0, 8)
    for x in (xn, da.from_array(xn, chunks=4)):
        v = tg.Variable(np.array(0.7))
        with tg.GradientTape() as outer:
            with tg.GradientTape() as inner:
                loss = tg.reduce_sum(tg.sin(tg.constant(x) * v) ** 2)
            g = inner.gradient(loss, v)
        h = outer.gradient(g, v)
        if x is xn:
            expected = (g.numpy(), h.numpy())
    np.testing.assert_allclose([g.numpy(), h.numpy()], expected, rtol=1e-12)


@needs("dask", "array_api_strict")
def test_mixing_two_other_libraries_is_refused_with_the_fix():
    import array_api_strict as xs
    import dask.array as da
    with pytest.raises(TypeError, match="cannot mix dask and array_api_strict.*move one to the other's library"):
        backend.common_namespace([np.ones(3), da.ones(3, chunks=3), xs.ones(3)])


@DASK
def test_an_op_the_library_cannot_run_names_itself_and_the_way_out():
    import dask.array as da
    x = tg.constant(da.ones((4, 2), chunks=(2, 2)))
    with pytest.raises(backend.BackendError, match=r"erf runs on NumPy arrays only.*dask.*x\.numpy"):
        tg.math.erf(x)


def test_forward_in_rebinds_a_kernels_xp_and_leaves_other_functions_alone():
    from tapegrad.ops import kernels
    ns = backend.Namespace("fake", type("NS", (), {"maximum": staticmethod(lambda a, b: ("max", a, b)),
                                                   "zeros": staticmethod(lambda shape, dtype=None: 0)})(), None)
    relu = backend.forward_in(kernels.relu, ns)
    assert relu(np.array([-1.0, 2.0]))[0] == "max"  # the same code, with xp bound to the namespace
    assert backend.forward_in(kernels.relu, ns) is relu  # made once
    assert kernels.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]  # NumPy's stays NumPy's
    import operator
    assert backend.forward_in(operator.add, ns) is operator.add
    with pytest.raises(backend.BackendError, match="fake has no exp"):
        backend.forward_in(np.exp, ns)


@needs("array_api_strict")
def test_a_library_whose_dtypes_are_not_numpys_is_refused_when_the_tensor_is_made():
    import array_api_strict as xs
    if hasattr(xs.float64, "kind"):
        pytest.skip("array_api_strict's dtypes were given NumPy's attributes (tests/backends' fixture)")
    with pytest.raises(TypeError, match="array_api_strict's dtype objects are its own.*np.asarray"):
        tg.constant(xs.ones(3))
