"""Matrix products."""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import Primitive

from ._helpers import _add_tangents, _c, _lead, _unbroadcast


def _mT(x: Any) -> Any:
    n = x._value.ndim
    return F.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


matmul = Primitive(
    "matmul", xp.matmul,
    (lambda g, ans, a, b: _unbroadcast(F.matmul(g, _mT(_c(b))), a._value.shape, _lead(g, ans)),
     lambda g, ans, a, b: _unbroadcast(F.matmul(_mT(_c(a)), g), b._value.shape, _lead(g, ans))),
    jvp=lambda t, ans, a, b: _add_tangents(None if t[0] is None else F.matmul(t[0], b),
                                           None if t[1] is None else F.matmul(a, t[1])),
    batched=True)
