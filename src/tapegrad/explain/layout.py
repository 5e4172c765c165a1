"""A layered drawing of a small DAG, in pure Python (no Graphviz): where each node and edge goes.

The Sugiyama recipe, kept small: longest-path layers (leaves pulled next to their first
use), dummy nodes on edges that span layers, barycentric ordering sweeps that keep the order
with the fewest crossings, and coordinates that pull each node toward its neighbours with
the order and the spacing kept (an isotonic regression, solved exactly by pooling).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Layout", "layout"]

RANK_GAP = 46.0  # between layers, room for the arrows and their labels
CROSS_GAP = 16.0  # between neighbours in a layer
DUMMY = 6.0  # the width a long edge takes up where it passes a layer


@dataclass
class Layout:
    """Centres and sizes of the nodes, the points each edge passes through, and the picture's size."""

    centers: list[tuple[float, float]]
    sizes: list[tuple[float, float]]
    edges: list[list[tuple[float, float]]]  # per edge: tail port, points where it crosses layers, head port
    width: float
    height: float
    layers: list[int] = field(default_factory=list)
    rankdir: str = "LR"

    def boxes(self) -> list[tuple[float, float, float, float]]:
        """(left, top, right, bottom) of every node."""
        return [(x - w / 2, y - h / 2, x + w / 2, y + h / 2) for (x, y), (w, h) in zip(self.centers, self.sizes)]


def layout(sizes: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]], rankdir: str = "LR",
           margin: float = 12.0) -> Layout:
    """Place nodes of the given (width, height) so edges run along ``rankdir`` (``LR`` or ``TB``).

    >>> from tapegrad.explain.layout import layout
    >>> lay = layout([(40, 20), (40, 20), (40, 20)], [(0, 2), (1, 2)])
    >>> lay.layers
    [0, 0, 1]
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), not {rankdir!r}")
    n = len(sizes)
    lr = rankdir == "LR"
    # along: extent in the direction of the edges; across: in the direction of a layer
    along = [w if lr else h for w, h in sizes]
    across = [h if lr else w for w, h in sizes]
    layer = _layers(n, edges)
    # dummies: a chain of points for each edge that spans more than one layer
    chains: list[list[int]] = []
    succ: dict[int, list[int]] = {}
    pred: dict[int, list[int]] = {}
    for u, v in edges:
        chain = [u]
        for k in range(layer[u] + 1, layer[v]):
            layer.append(k)
            along.append(0.0)
            across.append(DUMMY)
            chain.append(len(layer) - 1)
        chain.append(v)
        chains.append(chain)
        for a, b in zip(chain, chain[1:]):
            succ.setdefault(a, []).append(b)
            pred.setdefault(b, []).append(a)
    total = len(layer)
    depth = max(layer, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    for v in _topo(total, succ, pred):
        rows[layer[v]].append(v)
    rows = _order(rows, succ, pred, sweeps=12 if total < 3000 else 4)  # (a hub used by every op: many dummies)
    # coordinates along the edges: each layer as wide as its widest node
    span = [max((along[v] for v in row), default=0.0) for row in rows]
    pos_along, at = [0.0] * total, margin
    for k, row in enumerate(rows):
        for v in row:
            pos_along[v] = at + span[k] / 2
        at += span[k] + RANK_GAP
    pos_across = _across(rows, across, succ, pred, sweeps=8 if total < 3000 else 4)
    _straighten([c[1:-1] for c in chains if len(c) > 3], rows, pos_across, across)
    low = min((pos_across[v] - across[v] / 2 for v in range(total)), default=0.0)
    pos_across = [p - low + margin for p in pos_across]
    extent_across = max((pos_across[v] + across[v] / 2 for v in range(total)), default=0.0) + margin
    extent_along = at - RANK_GAP + margin if rows else 2 * margin

    def point(v: int) -> tuple[float, float]:
        return (pos_along[v], pos_across[v]) if lr else (pos_across[v], pos_along[v])

    routes = []
    for (u, v), chain in zip(edges, chains):
        tail = (pos_along[u] + along[u] / 2, pos_across[u])
        head = (pos_along[v] - along[v] / 2, pos_across[v])
        pts = [tail] + [(pos_along[d], pos_across[d]) for d in chain[1:-1]] + [head]
        routes.append([p if lr else (p[1], p[0]) for p in pts])
    _spread_ports(routes, edges, across, lr)
    return Layout(centers=[point(v) for v in range(n)], sizes=[tuple(s) for s in sizes],  # type: ignore[misc]
                  edges=routes, width=extent_along if lr else extent_across,
                  height=extent_across if lr else extent_along, layers=layer[:n], rankdir=rankdir)


def _layers(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Longest path from the leaves; then each leaf moves to the layer just before its first use."""
    succ: dict[int, list[int]] = {}
    pred: dict[int, list[int]] = {}
    for u, v in edges:
        succ.setdefault(u, []).append(v)
        pred.setdefault(v, []).append(u)
    order = _topo(n, succ, pred)
    layer = [0] * n
    for v in order:
        for u in pred.get(v, ()):
            layer[v] = max(layer[v], layer[u] + 1)
    for v in order:
        if v not in pred and v in succ:
            layer[v] = min(layer[s] for s in succ[v]) - 1
    return layer


def _topo(n: int, succ: dict[int, list[int]], pred: dict[int, list[int]]) -> list[int]:
    """Kahn's order, ties broken by index (the order the tape ran)."""
    import heapq

    missing = [len(pred.get(v, ())) for v in range(n)]
    ready = [v for v in range(n) if not missing[v]]
    heapq.heapify(ready)
    out = []
    while ready:
        v = heapq.heappop(ready)
        out.append(v)
        for s in succ.get(v, ()):
            missing[s] -= 1
            if not missing[s]:
                heapq.heappush(ready, s)
    if len(out) != n:
        raise ValueError("the graph has a cycle, so it has no layered drawing")
    return out


def crossings(rows: list[list[int]], succ: dict[int, list[int]]) -> int:
    """How many pairs of edges cross between neighbouring layers (inversions, counted in O(E log E))."""
    total = 0
    for upper, lower in zip(rows, rows[1:]):
        rank = {v: i for i, v in enumerate(lower)}
        ends = sorted((i, rank[s]) for i, u in enumerate(upper) for s in succ.get(u, ()) if s in rank)
        tree = [0] * (len(lower) + 1)  # Fenwick tree over the lower ends seen so far
        seen = 0
        for _, j in ends:
            k, not_after = j + 1, 0
            while k > 0:
                not_after += tree[k]
                k -= k & -k
            total += seen - not_after  # earlier edges that end strictly to the right: they cross this one
            k = j + 1
            while k <= len(lower):
                tree[k] += 1
                k += k & -k
            seen += 1
    return total


def _order(rows: list[list[int]], succ: dict[int, list[int]], pred: dict[int, list[int]],
           sweeps: int = 12) -> list[list[int]]:
    """Barycentric sweeps down and up; the order with the fewest crossings seen wins."""
    best, best_count = [r[:] for r in rows], crossings(rows, succ)
    cur = [r[:] for r in rows]
    for sweep in range(sweeps):
        if best_count == 0:
            break
        down = sweep % 2 == 0
        ks = range(1, len(cur)) if down else range(len(cur) - 2, -1, -1)
        for k in ks:
            ref = cur[k - 1] if down else cur[k + 1]
            where = {v: i for i, v in enumerate(ref)}
            near = pred if down else succ

            def bary(iv: tuple[int, int], where: dict[int, int] = where, near: dict = near) -> float:
                i, v = iv
                ps = [where[u] for u in near.get(v, ()) if u in where]
                return sum(ps) / len(ps) if ps else float(i)  # no neighbours there: it stays

            cur[k] = [v for _, v in sorted(enumerate(cur[k]), key=lambda iv: (bary(iv), iv[0]))]
        count = crossings(cur, succ)
        if count < best_count:
            best, best_count = [r[:] for r in cur], count
    return best


def _across(rows: list[list[int]], across: list[float], succ: dict[int, list[int]],
            pred: dict[int, list[int]], sweeps: int = 8) -> list[float]:
    """Each node as near the mean of its neighbours as the order and the gaps allow."""
    pos = [0.0] * len(across)
    for row in rows:  # start packed
        at = 0.0
        for v in row:
            pos[v] = at + across[v] / 2
            at += across[v] + CROSS_GAP
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for row in rows if down else rows[::-1]:
            want = []
            for v in row:
                ns = [*pred.get(v, ()), *succ.get(v, ())]
                want.append(sum(pos[u] for u in ns) / len(ns) if ns else pos[v])
            gaps = [(across[a] + across[b]) / 2 + CROSS_GAP for a, b in zip(row, row[1:])]
            for v, p in zip(row, _isotonic(want, gaps)):
                pos[v] = p
    return pos


def _straighten(chains: list[list[int]], rows: list[list[int]], pos: list[float], across: list[float]) -> None:
    """A long edge's dummies in one line where their neighbours leave room: long edges run straight."""
    where = {v: (k, i) for k, row in enumerate(rows) for i, v in enumerate(row)}

    def fits(d: int, p: float) -> bool:
        k, i = where[d]
        row = rows[k]
        if i > 0 and p - pos[row[i - 1]] < (across[row[i - 1]] + across[d]) / 2 + CROSS_GAP:
            return False
        return not (i + 1 < len(row) and pos[row[i + 1]] - p < (across[row[i + 1]] + across[d]) / 2 + CROSS_GAP)

    for chain in chains:
        here = sorted(pos[d] for d in chain)
        mid = here[len(here) // 2]
        for p in sorted(here, key=lambda q: abs(q - mid)):
            if all(fits(d, p) for d in chain):
                for d in chain:
                    pos[d] = p
                break


def _isotonic(want: list[float], gaps: list[float]) -> list[float]:
    """Positions p closest to ``want`` (least squares) with p[i+1] - p[i] >= gaps[i]: pool adjacent violators."""
    offs = [0.0]
    for g in gaps:
        offs.append(offs[-1] + g)
    blocks: list[list[float]] = []  # [mean, count]
    for w, o in zip(want, offs):
        blocks.append([w - o, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    out = []
    for mean, count in blocks:
        out.extend([mean] * int(count))
    return [q + o for q, o in zip(out, offs)]


def _spread_ports(routes: list[list[tuple[float, float]]], edges: Sequence[tuple[int, int]],
                  across: list[float], lr: bool) -> None:
    """Edges into (out of) one node arrive (leave) at spread points in input order, so parallel edges stay apart."""
    k = 1 if lr else 0
    for end, idx in ((1, -1), (0, 0)):
        groups: dict[int, list[int]] = {}
        for e, uv in enumerate(edges):
            groups.setdefault(uv[end], []).append(e)
        for node, es in groups.items():
            if len(es) < 2:
                continue
            if end == 0:  # outgoing: ordered by where they go, so they do not cross at the start
                es = sorted(es, key=lambda e: routes[e][1][k])
            step = min(10.0, 0.7 * across[node] / (len(es) - 1))
            for j, e in enumerate(es):
                p = list(routes[e][idx])
                p[k] += (j - (len(es) - 1) / 2) * step
                routes[e][idx] = (p[0], p[1])
