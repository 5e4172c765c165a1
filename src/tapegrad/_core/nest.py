"""Nested structures (lists, tuples, dicts) of leaves, flattened like tf.nest."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(structure: Any) -> list:
    """Leaves in order; dicts by sorted key, as tf.nest does."""
    if isinstance(structure, (list, tuple)):
        out: list = []
        for s in structure:
            out.extend(flatten(s))
        return out
    if isinstance(structure, dict):
        out = []
        for k in sorted(structure):
            out.extend(flatten(structure[k]))
        return out
    return [structure]


def pack_as(structure: Any, leaves: list) -> Any:
    """The inverse of flatten: ``leaves`` arranged in ``structure``'s shape."""
    return _build(structure, iter(leaves))


def _build(s: Any, it: Any) -> Any:
    # A module-level function, not a closure calling itself: such a closure is a reference
    # cycle, and would keep the leaves (gradients, often large) alive until the next gc pass.
    if isinstance(s, list):
        return [_build(x, it) for x in s]
    if _is_namedtuple(s):
        return type(s)(*[_build(x, it) for x in s])
    if isinstance(s, tuple):
        return tuple(_build(x, it) for x in s)
    if isinstance(s, dict):
        built = {k: _build(s[k], it) for k in sorted(s)}
        return type(s)((k, built[k]) for k in s) if type(s) is not dict else {k: built[k] for k in s}
    return next(it)


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """``fn`` applied to every leaf, the structure kept."""
    return pack_as(structure, [fn(x) for x in flatten(structure)])
