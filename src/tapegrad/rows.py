"""The rows of a Jacobian, pushed through the backward walk together (TensorFlow's pfor, JAX's vmap) or one
by one: what ``GradientTape.jacobian`` and ``batch_jacobian`` run."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tapegrad import ops
from tapegrad._core.backward import backward, reachable
from tapegrad._core.tensor import Operand, wrap

# Elements (rows x largest cotangent) one vectorized backward pass may hold; more rows take more passes.
_ROWS_BUDGET = 1 << 22


def jacobian_rows(entries: list, t: Operand, n: int, seeds: Callable[[int, int], Any], sources: list, start: set[int],
          vectorized: bool, free: bool) -> list:
    """For each source, the n Jacobian rows of ``t`` stacked: a tensor [n] + source.shape, or None if unconnected.

    Vectorized, the seed cotangents of many rows go through the backward pass together, as a
    leading batch axis the rules carry along (TensorFlow's pfor, JAX's vmap); otherwise the tape
    is walked once per row.
    """
    reach = reachable(entries, start)
    if n == 0 or id(t) not in reach:
        return [None] * len(sources)
    size = 1
    if vectorized:
        biggest = max([t._value.size] + [e[3]._value.size for e in entries if e is not None and id(e[3]) in reach])
        size = max(1, min(n, _ROWS_BUDGET // max(biggest, 1)))
    parts: list[list[Any]] = [[] for _ in sources]
    for start in range(0, n, size):
        stop = min(n, start + size)
        seed = seeds(start, stop) if vectorized else seeds(start, stop)[0]
        grads = backward(entries, [t], [wrap(seed)], sources, reach=reach, free=free and stop == n,
                         unbatched=per_row if vectorized else None)
        for k, g in enumerate(grads):
            parts[k].append(g)
    out = []
    for s, ps in zip(sources, parts):
        if all(p is None for p in ps):
            out.append(None)
            continue
        full = []
        for i, p in enumerate(ps):
            want = ((min(n, (i + 1) * size) - i * size,) if vectorized else ()) + tuple(s._value.shape)
            if p is None:
                p = ops.zeros(want, s.dtype)
            elif tuple(p._value.shape) != want:  # a rule that ignored the row axis: the same for every row
                p = ops.broadcast_to(p, want)
            full.append(p)
        out.append(full[0] if len(full) == 1 and vectorized else ops.concat(full, 0) if vectorized
                   else ops.stack(full))
    return out


def per_row(rule: Callable[..., Any], g: Operand, ans: Operand, inputs: tuple, params: dict | None,
             x: Operand) -> Any:
    """A rule that does not take batch axes (a custom_gradient's), run once per Jacobian row."""
    lead = tuple(g._value.shape[:g._value.ndim - ans._value.ndim])
    flat = ops.reshape(g, (-1,) + tuple(ans._value.shape))
    rows = []
    for i in range(flat._value.shape[0]):
        gi = flat[i]
        rows.append(rule(gi, ans, *inputs, **params) if params else rule(gi, ans, *inputs))
    if all(r is None for r in rows):
        return None
    rows = [ops.zeros_like(x) if r is None else r for r in rows]
    return ops.reshape(ops.stack(rows), lead + tuple(x._value.shape))
