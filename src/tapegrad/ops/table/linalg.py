"""Matrix products."""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import Primitive
from tapegrad._core.tensor import wrap

from ._helpers import _add_tangents, _c, _lead, _unbroadcast, _unseen


def _mT(x: Any) -> Any:
    n = x._value.ndim
    return F.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _plain(g: Any, ans: Any, a: Any, b: Any) -> bool:
    """Matrices of reals and nothing watching the rule (``_unseen``): BLAS on the arrays directly."""
    va, vb = a._value, b._value
    return (_unseen(g, ans) and type(va) is xp.ndarray and type(vb) is xp.ndarray and va.ndim == 2
            and vb.ndim == 2 and va.dtype.kind == "f")


def _matmul_da(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if _plain(g, ans, a, b):
        return wrap(xp.matmul(g._value, b._value.T))  # .T is a view: BLAS reads it transposed, no copy
    return _unbroadcast(F.matmul(g, _mT(_c(b))), a._value.shape, _lead(g, ans))


def _matmul_db(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if _plain(g, ans, a, b):
        return wrap(xp.matmul(a._value.T, g._value))
    return _unbroadcast(F.matmul(_mT(_c(a)), g), b._value.shape, _lead(g, ans))


matmul = Primitive(
    "matmul", xp.matmul, (_matmul_da, _matmul_db),
    jvp=lambda t, ans, a, b: _add_tangents(None if t[0] is None else F.matmul(t[0], b),
                                           None if t[1] is None else F.matmul(a, t[1])),
    batched=True)
