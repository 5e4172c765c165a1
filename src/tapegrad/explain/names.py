"""The names the user gave: a tensor's variable name in the caller's frame, short value summaries."""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import xp
from tapegrad._core.frames import user_frame
from tapegrad._core.tensor import Operand, Variable


def caller() -> Any:
    """The first frame outside tapegrad: where the user's names live."""
    return user_frame()


def names_in(frame: Any) -> dict[int, str]:
    if frame is None:
        return {}
    out: dict[int, str] = {}
    for scope in (frame.f_globals, frame.f_locals):
        for k, v in scope.items():
            if isinstance(v, Operand) and not k.startswith("_"):
                out[id(v)] = k
    return out


def describe(x: Any, names: dict[int, str], fallback: str) -> str:
    if id(x) in names:
        return names[id(x)]
    if isinstance(x, Variable):
        return f"Variable {x.name!r}"
    return fallback


def fmt(value: Any) -> str:
    v = xp.asarray(value)
    if v.size == 1:
        return f"{v.reshape(())[()]:.4g}"
    if v.size <= 6:
        return xp.array2string(v.reshape(-1) if v.ndim > 1 else v, precision=4, separator=", ") + (
            f" (shape {tuple(v.shape)})" if v.ndim > 1 else "")
    return f"shape {tuple(v.shape)}, mean {float(xp.mean(v)):.4g}"
