"""Every op of the table on Dask arrays against NumPy: the generated check of test_strict, with Dask's arrays.

Lazy results stay Dask arrays (values and gradients, first and second order); nothing is computed on the way.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

from .test_strict import CASES, check_op

da = pytest.importorskip("dask.array")


def _lazy(a: np.ndarray) -> tg.Tensor:
    return tg.constant(da.from_array(a, chunks=max(1, (a.shape[0] + 1) // 2) if a.ndim else ()))


def _stays(t: tg.Tensor) -> None:
    assert isinstance(t._value, da.Array), type(t._value)


# What Dask itself cannot do yet (xfail strict: a fix shows up as XPASS, and the entry goes)
_LINALG = "dask.array.linalg takes 2-D matrices only (these specs have batch axes) and has no det, slogdet, eigh"
DASK_LIMITS = {"cholesky": _LINALG, "eigh": _LINALG, "matrix_determinant": _LINALG, "matrix_inverse": _LINALG,
               "matrix_solve": _LINALG, "qr": _LINALG, "slogdet": _LINALG, "svd": _LINALG,
               "triangular_solve": _LINALG,
               "reshape": "Dask reshapes only where chunk boundaries allow (the test splits the first axis)"}
DASK_CASES = [pytest.param(n, c, id=f"{n}{'-complex' if c else ''}",
                           marks=[pytest.mark.xfail(reason=DASK_LIMITS[n], strict=True)] if n in DASK_LIMITS else [])
              for n, c in CASES]


@pytest.mark.parametrize(("name", "complex_"), DASK_CASES)
def test_op_on_dask_arrays_matches_numpy(name, complex_):
    check_op(name, complex_, _lazy, _stays)
