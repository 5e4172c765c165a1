"""The backward walk: a tape is already in execution order, so walk it in reverse.

Cotangents are kept by tensor id and summed with ``+`` (a tapegrad op, so an outer
tape records the walk itself: that is how higher derivatives work).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any
from weakref import getweakrefcount

from .backend import NATIVE, namespace, xp
from .state import ACTIVE, STATE
from .tensor import Tensor

_new = object.__new__


def reachable(entries: Sequence[Any], source_ids: set[int]) -> set[int]:
    """Ids of the sources and of every recorded output that depends on one."""
    reach = set(source_ids)
    add = reach.add
    for entry in entries:
        for x in entry[1]:
            if id(x) in reach:
                add(id(entry[3]))
                break
    return reach


_ONE: dict[Any, Any] = {}


class Seed(Tensor):
    """The ones a target's walk starts from. Rules may use that ``g * d`` is then ``d`` itself."""

    __slots__ = ()


class Donated(Tensor):
    """An entry's output that nothing but the walk references, nor its array anything but it: handed to the
    entry's last rule (of a primitive with ``reuses_ans``), which may write its cotangent into that array."""

    __slots__ = ()


def _counts(t: Any) -> tuple:
    v = t._value
    return _refcount(t), _refcount(v)


def _via(t: Any) -> tuple:
    return _counts(t)


def _probe() -> tuple:
    t = _new(Tensor)
    t._value = xp.empty(1)
    return _via(t)  # (as the walk calls _donate(out), which calls _counts(out))


_refcount = getattr(sys, "getrefcount", None)
# What _counts(out) gives in _donate when the walk's local is the only reference to out and out the only
# one to its array, measured along the same path (a local, one call, _counts), so that it holds whatever
# references this interpreter's calls take. Without getrefcount (not CPython) nothing is donated.
_SOLE = _probe() if _refcount is not None else None


def _donate(out: Any) -> None:
    """Mark ``out`` Donated if the walk's one local is all that references it and it all that references its array."""
    if _SOLE is not None and type(out) is Tensor and _counts(out) == _SOLE and not getweakrefcount(out):
        v = out._value
        if type(v) is xp.ndarray and v.base is None and v.flags.writeable:
            out.__class__ = Donated


def ones_like(value: Any) -> Any:
    """The seed cotangent of a target: ones of its shape and dtype (a shared NumPy scalar for 0-d)."""
    if type(value) not in NATIVE:
        return namespace(value).ones_like(value)  # in the target's own library (Dask, CuPy)
    if value.ndim == 0:
        dtype = value.dtype
        one = _ONE.get(dtype)
        if one is None:
            one = _ONE[dtype] = dtype.type(1)
        return one
    return xp.ones(value.shape, value.dtype)


def backward(entries: list[Any], targets: Sequence[Any], output_gradients: Sequence[Any],
             sources: Sequence[Any], reach: set[int] | None = None, free: bool = False,
             unbatched: Callable[..., Any] | None = None, skipped: list | None = None,
             lineage: dict | None = None) -> list[Any]:
    """Gradients of sum(targets * output_gradients) with respect to each source (None: unconnected).

    ``free`` drops each entry as soon as it has been walked, so a non-persistent
    tape releases its intermediates during the walk, not after it.

    Output gradients may carry leading batch axes (``batch + target.shape``: one row of a
    Jacobian each); ``unbatched(rule, g, ans, inputs, params, x)`` then runs the rules of
    primitives that are not ``batched`` once per batch element
    (``x`` is the input whose cotangent is wanted).

    ``skipped`` collects what explain() needs once the entries are gone, as ``(what, i, prim, input ids,
    output id)``: "passed" for each entry the walk passed without a cotangent, "none" where a rule returned
    None, "fed" where an input in ``lineage`` (made from a cut's result, tracked only for explain) fed an
    entry the walk took. None of it happens on a walk where every entry leads to a target and nothing was cut.
    """
    numerics = STATE.numerics if ACTIVE else None
    if numerics is not None:
        free = False  # a failing rule's report reads later entries (the where that masked the op)
    source_ids = set(map(id, sources))  # (map, not a comprehension: no frame to set up on this hot path)
    if reach is None:
        reach = reachable(entries, source_ids)
    cot: dict[int, Any] = {}
    for t, g in zip(targets, output_gradients):
        tid = id(t)
        if tid not in reach:
            continue
        if g is None:
            g = _new(Seed)
            g._value = ones_like(t._value)
        prev = cot.get(tid)
        cot[tid] = g if prev is None else prev + g
    pop = cot.pop
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if free:
            entries[i] = None
        if entry is None:
            continue
        prim, inputs, params, out = entry
        oid = id(out)
        # A source's own cotangent stays: it is an answer even if the walk goes on past it.
        g = pop(oid, None) if oid not in source_ids else cot.get(oid)
        if g is None:
            if skipped is not None:
                skipped.append(("passed", i, prim, tuple(map(id, inputs)), oid))
            continue
        vjps = prim.vjps
        per_element = unbatched is not None and not prim.batched and g._value.ndim > out._value.ndim
        if prim.reuses_ans and free and not per_element:
            entry = x = None  # (the walk's other references to out: only the local out remains)
            _donate(out)
        k = 0
        for x in inputs:
            rule = vjps[k]
            k += 1
            xid = id(x)
            if rule is None or xid not in reach:
                if lineage is not None and xid in lineage:
                    skipped.append(("fed", i, prim, (xid,), oid))  # type: ignore[union-attr]
                continue
            if numerics is not None:
                rule = numerics.checked(rule, entries, i, k - 1)
            if per_element:
                gx = unbatched(rule, g, out, inputs, params, x)
            elif params:
                gx = rule(g, out, *inputs, **params)
            else:
                gx = rule(g, out, *inputs)
            if gx is None:
                if skipped is not None:
                    skipped.append(("none", i, prim, (xid,), oid))
                continue
            prev = cot.get(xid)
            cot[xid] = gx if prev is None else prev + gx
    return list(map(cot.get, map(id, sources)))


def backward1(entries: list[Any], target: Any, source: Any, reach: Any, skipped: list,
              lineage: dict | None) -> Any:
    """``backward(entries, [target], [None], [source], reach, free=True, skipped=skipped, lineage=lineage)[0]``.

    GradientTape.gradient's common case (one target seeded with ones, one source, a spent tape, no
    numerics checker), without the general bookkeeping: the same rules run in the same order on the
    same cotangents, so the result is the same bit for bit. ``reach`` is anything supporting ``in``.
    """
    tid = id(target)
    sid = id(source)
    cot = {}
    if tid in reach:  # (if not, the walk still runs: explain() reads what it passed)
        seed = cot[tid] = _new(Seed)
        v = target._value
        seed._value = (_ONE.get(v.dtype) if type(v) in NATIVE and v.ndim == 0 else None) or ones_like(v)
    pop = cot.pop
    get = cot.get
    for i in range(len(entries) - 1, -1, -1):
        prim, inputs, params, out = entries[i]
        entries[i] = None
        oid = id(out)
        g = pop(oid, None) if oid != sid else get(oid)
        if g is None:
            skipped.append(("passed", i, prim, tuple(map(id, inputs)), oid))
            continue
        if prim.reuses_ans:
            x = None  # (the last input of a later entry: maybe out)
            _donate(out)
        vjps = prim.vjps
        k = 0
        for x in inputs:
            rule = vjps[k]
            k += 1
            xid = id(x)
            if rule is None or xid not in reach:
                if lineage is not None and xid in lineage:
                    skipped.append(("fed", i, prim, (xid,), oid))
                continue
            gx = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
            if gx is None:
                skipped.append(("none", i, prim, (xid,), oid))
                continue
            prev = get(xid)
            cot[xid] = gx if prev is None else prev + gx
    return get(sid)
