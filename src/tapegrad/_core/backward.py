"""The backward walk: a tape is already in execution order, so walk it in reverse.

Cotangents are kept by tensor id and summed with ``+`` (a tapegrad op, so an outer
tape records the walk itself: that is how higher derivatives work).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import xp
from .tensor import wrap


def reachable(entries: Sequence[Any], source_ids: set[int]) -> set[int]:
    """Ids of the sources and of every recorded output that depends on one."""
    reach = set(source_ids)
    for entry in entries:
        for x in entry[1]:
            if id(x) in reach:
                reach.add(id(entry[3]))
                break
    return reach


def backward(entries: list[Any], targets: Sequence[Any], output_gradients: Sequence[Any],
             sources: Sequence[Any], reach: set[int] | None = None, free: bool = False) -> list[Any]:
    """Gradients of sum(targets * output_gradients) with respect to each source (None: unconnected).

    ``free`` drops each entry as soon as it has been walked, so a non-persistent
    tape releases its intermediates during the walk, not after it.
    """
    source_ids = {id(s) for s in sources}
    if reach is None:
        reach = reachable(entries, source_ids)
    cot: dict[int, Any] = {}
    for t, g in zip(targets, output_gradients):
        tid = id(t)
        if tid not in reach:
            continue
        if g is None:
            g = wrap(xp.ones_like(t._value))
        cot[tid] = g if tid not in cot else cot[tid] + g
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if free:
            entries[i] = None
        if entry is None:
            continue
        prim, inputs, params, out = entry
        oid = id(out)
        g = cot.get(oid)
        if g is None:
            continue
        if oid not in source_ids:
            del cot[oid]
        vjps = prim.vjps
        for k, x in enumerate(inputs):
            xid = id(x)
            if xid not in reach or vjps[k] is None:
                continue
            gx = vjps[k](g, out, *inputs, **params) if params else vjps[k](g, out, *inputs)
            if gx is None:
                continue
            cot[xid] = gx if xid not in cot else cot[xid] + gx
    return [cot.get(id(s)) for s in sources]
