"""Matrix products."""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import Primitive
from tapegrad._core.tensor import wrap

from ._helpers import BATCHED_JVPS, _add_tangents, _c, _lead, _unbroadcast, _unseen


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


def _matmul_batch(t: tuple, ans: Any, a: Any, b: Any) -> Any:
    """The JVP for tangents with a batch axis in front: vectors made matrices, the batch axis lined up in front
    of the broadcast ones, the product shaped back."""
    a2 = a._value.shape if a._value.ndim > 1 else (1,) + a._value.shape
    b2 = b._value.shape if b._value.ndim > 1 else b._value.shape + (1,)
    nd = max(len(a2), len(b2))
    r = None
    if t[0] is not None:
        r = F.matmul(F.reshape(t[0], t[0]._value.shape[:1] + (1,) * (nd - len(a2)) + a2), F.reshape(b, b2))
    if t[1] is not None:
        r = _add_tangents(r, F.matmul(F.reshape(a, a2), F.reshape(t[1], t[1]._value.shape[:1] + (1,) * (nd - len(b2))
                                                                   + b2)))
    return F.reshape(r, r._value.shape[:1] + ans._value.shape)


BATCHED_JVPS[matmul] = _matmul_batch
