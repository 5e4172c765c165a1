"""NumPy's split, pad and repeat on tensors, as tapegrad ops (see ``numpy_functions``)."""
from __future__ import annotations

from tapegrad._core.backend import xp

from . import index_ops as I
from ._args import operand
from .numpy_functions import Unsupported, _maps, _ndim


@_maps(xp.repeat)
def _repeat(a, repeats, axis=None):
    return I.repeat(a, repeats, axis)


@_maps(xp.split)
def _split(ary, indices_or_sections, axis=0):
    x = operand(ary)
    n = x._value.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")  # NumPy's own message
        return I.split(x, indices_or_sections, axis)
    points = [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in indices_or_sections]
    bounds = [0] + points + [n]
    sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return I.split(x, sizes, axis)


_MODES = {"constant": "CONSTANT", "reflect": "REFLECT", "symmetric": "SYMMETRIC"}


@_maps(xp.pad)
def _pad(array, pad_width, mode="constant", **kwargs):
    x = operand(array)
    if mode not in _MODES or set(kwargs) - {"constant_values"}:
        raise Unsupported(f"mode={mode!r}" if mode not in _MODES else f"{', '.join(sorted(kwargs))}=")
    value = kwargs.get("constant_values", 0)
    if not isinstance(value, (int, float)):
        raise Unsupported("constant_values other than one number")
    widths = xp.broadcast_to(xp.asarray(pad_width, dtype=xp.int64), (_ndim(x), 2))
    return I.pad(x, widths.tolist(), _MODES[mode], value)
