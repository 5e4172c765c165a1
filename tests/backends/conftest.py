"""What the backend tests share: array_api_strict with NumPy's dtype introspection, and a guard against host copies."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import tapegrad._core.backend as backend
import tapegrad._core.tensor as tensor_module


@pytest.fixture(scope="module")
def numpy_dtypes() -> Iterator[Any]:
    """array_api_strict, its dtypes given NumPy's ``kind``/``itemsize``/... and NumPy's equality.

    The one relaxation of the strict library in these tests (README, "Other array libraries"): tapegrad reads
    dtypes as NumPy does (``x.dtype.kind``, ``x.dtype in {np.float32, ...}``), which costs the NumPy path
    nothing; Dask's and CuPy's dtypes are NumPy dtypes. array_api_strict wraps NumPy's in objects of its own
    with none of that, so here they answer like the NumPy dtype they wrap. Every non-standard *function* and
    *method* is still refused, which is what catches a kernel's NumPy-only calls.
    """
    strict = pytest.importorskip("array_api_strict")
    dtype_class = type(strict.float64)

    def eq(self: Any, other: Any) -> bool:
        if isinstance(other, dtype_class):
            return self._np_dtype == other._np_dtype
        try:
            return self._np_dtype == np.dtype(other)
        except TypeError:
            return False

    def getattr_(self: Any, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._np_dtype, name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dtype_class, "__eq__", eq)
        mp.setattr(dtype_class, "__hash__", lambda self: hash(self._np_dtype))
        mp.setattr(dtype_class, "__getattr__", getattr_, raising=False)
        mp.setattr(dtype_class, "dtype", property(lambda self: self._np_dtype), raising=False)  # np.dtype(d)
        yield strict


@contextlib.contextmanager
def no_host_copies() -> Iterator[None]:
    """Fails on any copy of an array to the host (``backend.to_numpy``) inside the block."""
    def refuse(value: Any) -> Any:
        raise AssertionError(f"a {backend.library(value)} array was copied to the host")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "to_numpy", refuse)
        mp.setattr(tensor_module, "to_numpy", refuse)
        yield
