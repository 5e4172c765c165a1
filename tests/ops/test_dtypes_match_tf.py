"""Every public op on integer, boolean, float32 and complex128 inputs gives TensorFlow's dtype and
values, and gradients with respect to complex inputs are TensorFlow's.

The expected table, ``tf_dtypes_expected.py``, was recorded from real TensorFlow by
``tf_dtype_reference.py`` (rerun it with a Python that has TensorFlow to regenerate); the cases
themselves live in ``dtype_cases.py`` and run unchanged under either library.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

from .dtype_cases import CASES, GRADS, W_G, Z_G, run, run_gradient
from .tf_dtypes_expected import EXPECTED, GRADIENTS

# NaN and inf results (log of negatives, division by zero) are part of what is compared.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Where tapegrad refuses on purpose what TensorFlow accepts: a Python int that does not fit the
# tensor's dtype is an error, not silently wrapped (TensorFlow gives 7 + 2**40 == 7 in int32).
DELIBERATE = {
    "add_uint8_negative_int": "a Python int that does not fit uint8 is refused, not wrapped",
    "add_int32_too_big": "a Python int that does not fit int32 is refused, not wrapped",
    "floordiv_py_negative[uint8]": "-2 does not fit uint8: refused, not wrapped to 254",
    "mod_py_negative[uint8]": "-3 does not fit uint8: refused, not wrapped to 253",
}

# Same dtype, values left to the arithmetic: complex x / 0 is C99's infinities in NumPy, NaN in TensorFlow.
VALUES_DIFFER = {"truediv_by_zero[complex128]"}


def test_table_covers_every_case():
    assert set(EXPECTED) == set(CASES), "rerun tests/ops/tf_dtype_reference.py under TensorFlow"


@pytest.mark.parametrize("key", sorted(CASES))
def test_matches_tensorflow(key):
    want = EXPECTED[key]
    fn, arrays = CASES[key]
    if key in DELIBERATE:
        with pytest.raises(TypeError, match="does not fit"):
            fn(tg, *[tg.constant(a) for a in arrays])
        return
    if "error" in want:
        error = TypeError if want["error"] == "dtype" else tg.InvalidArgumentError
        with pytest.raises(error) as info:
            fn(tg, *[tg.constant(a) for a in arrays])
        if want["error"] == "dtype" and arrays:
            dtypes = {a.dtype.name for a in arrays} | {"float64"}  # a float64 result refused downstream
            assert any(d in str(info.value) for d in dtypes), f"{key}: message names no dtype: {info.value}"
        return
    if key.endswith("[complex128]") and not _complex_capable(fn, arrays):
        return  # refused on purpose: tapegrad has no gradient for it in TensorFlow's convention
    got = run(tg, key)
    assert "error" not in got, f"{key}: TensorFlow gives {want}, tapegrad raised {got['type']}"
    if "python" in want:
        assert got == want
        return
    assert got["dtype"] == want["dtype"], f"{key}: dtype {got['dtype']}, TensorFlow {want['dtype']}"
    if key in VALUES_DIFFER:
        return
    value, expected = np.asarray(got["value"]), np.asarray(want["value"])
    assert value.shape == expected.shape, key
    if expected.dtype.kind in "fc":
        # TensorFlow's float kernels may round differently from NumPy's in the last bits.
        rtol = 1e-5 if want["dtype"] in ("float32", "complex64") else 1e-12
        for part in (np.real, np.imag):
            np.testing.assert_allclose(part(value), part(expected), rtol=rtol, atol=rtol, err_msg=key)
    else:
        np.testing.assert_array_equal(value, expected, err_msg=key)


def _complex_capable(fn, arrays) -> bool:
    """False when tapegrad refuses the complex case on purpose, with the error that says so."""
    try:
        fn(tg, *[tg.constant(a) for a in arrays])
    except tg.DTypeError as e:
        if "does not take complex tensors" in str(e):
            return False
        raise
    return True


# TensorFlow's own rule breaks its convention here: its SquaredDifference gradient is 2 g (x - y) with
# no conj, which finite differences contradict (|x - y|^2 is real). tapegrad's agrees with them
# (squared_difference in test_gradients.py's complex mode).
TF_INCONSISTENT = {"squared_difference"}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_complex_gradients_are_tensorflows(name):
    assert set(GRADIENTS) == set(GRADS), "rerun tests/ops/tf_dtype_reference.py under TensorFlow"
    if name in TF_INCONSISTENT:
        got = run_gradient(tg, name)[0]
        z, w = np.array(Z_G), np.array(W_G)
        np.testing.assert_allclose(got, 2 * (z - w) * np.linspace(1.0, 2.0, z.size).reshape(z.shape), rtol=1e-12)
        return
    for got, want in zip(run_gradient(tg, name), GRADIENTS[name]):
        assert (got is None) == (want is None), name
        if want is not None:
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12, err_msg=name)


def test_stored_table_is_what_tensorflow_gives():
    pytest.importorskip("tensorflow")  # only where TensorFlow is installed
    from . import tf_dtype_reference

    assert tf_dtype_reference.main(["--check"]) == 0, "rerun tests/ops/tf_dtype_reference.py"
