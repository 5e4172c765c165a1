"""The parameters as one vector: the path of a run as a matrix, a plane through the final point (the
path's principal directions, filter-normalised random ones, or the user's), and ``fn`` evaluated at
many points at once, in batches, with a progress bar when that takes a while."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import wrap
from tapegrad.descent import History

__all__ = ["Flat", "directions_for", "evaluate_many"]

_BATCH = 1024  # points per call when fn takes a batch; per progress update when it does not


class Flat:
    """A history's parameters laid end to end, in ``final``'s order: ``theta`` (the final point) and
    ``path`` (one row per step), and the way back from such a vector to ``fn``'s argument."""

    def __init__(self, history: History) -> None:
        if history.structure is None or history.final is None:
            raise ValueError("this history does not know how fn takes its parameters (its final point and x0's "
                             "structure: History(columns) was given neither), so the landscape cannot be drawn")
        self.final = history.final
        self.names = list(self.final)
        self.shapes = [np.shape(v) for v in self.final.values()]
        self.dtypes = [np.asarray(v).dtype for v in self.final.values()]
        self.sizes = [int(np.size(v)) for v in self.final.values()]
        self.structure = history.structure
        self.theta = np.concatenate([np.asarray(v, np.float64).reshape(-1) for v in self.final.values()])
        self._history = history

    @property
    def path(self) -> Any:
        """The points visited, one row per step: every element of every parameter must have been recorded."""
        h, columns = self._history, []
        for name, size in zip(self.names, self.sizes):
            if name in h.param_columns:
                columns.append(name)
                continue
            elements, _ = h.array_columns(name)
            if len(elements) < size:
                raise ValueError(f"this history recorded {len(elements)} of the {size} elements of {name!r}, and a "
                                 "plane through the path needs every one at every step: run minimize(..., "
                                 "record='full')")
            columns += elements
        return np.stack([h[c] for c in columns], axis=1) if columns else np.zeros((len(h), 0))

    def split(self, vector: Any) -> list[Any]:
        """A vector (or a batch of them, rows) as the parameters' arrays."""
        batch = np.shape(vector)[:-1]
        parts = np.split(np.asarray(vector), np.cumsum(self.sizes)[:-1], axis=-1)
        return [p.reshape(batch + s).astype(d) for p, s, d in zip(parts, self.shapes, self.dtypes)]

    def call(self, fn: Callable[[Any], Any], vector: Any) -> Any:
        leaves = dict(zip(self.names, self.split(vector)))
        out = fn(nest.map_structure(lambda n: wrap(leaves[n] if leaves[n].ndim else leaves[n][()]), self.structure))
        return np.asarray(getattr(out, "_value", out), dtype=np.float64)


def directions_for(flat: Flat, projection: str | None, directions: Any, seed: int | None) -> tuple[Any, str]:
    """Two directions (rows of a 2 x P array) for the plane, and how they were chosen, for the subtitle."""
    if directions is not None:
        try:
            pair = [_vector(flat, d) for d in directions]
        except TypeError:
            raise TypeError("directions must be a pair (d1, d2), each a vector of all the parameters end to end, "
                            f"or a dict of parameter name -> array like history.final; got {type(directions).__name__}"
                            ) from None
        if len(pair) != 2:
            raise ValueError(f"directions must be a pair (d1, d2); got {len(pair)}")
        d = np.stack(pair)
        how = "your directions"
    elif projection == "pca":
        m = flat.path - flat.theta
        m = m[np.isfinite(m).all(axis=1)]
        _, s, vt = np.linalg.svd(m, full_matrices=False)
        if vt.shape[0] < 2 or s.size < 2 or s[1] <= s[0] * 1e-12:
            raise ValueError("the path spans fewer than two directions (it ran along a line, or made one step), so "
                             "it has no plane of its own; use projection='random' or directions=(d1, d2)")
        d = vt[:2]
        how = "the path's two principal directions"
    elif projection == "random":
        rng = np.random.default_rng(seed)
        rows = []
        for _ in range(2):
            parts = []
            for value in flat.final.values():
                # Li et al. (2018): each parameter's random direction scaled to that parameter's norm, so that a
                # step of 1 along it means the same relative change for every layer.
                r = rng.standard_normal(np.size(value))
                norm = np.linalg.norm(np.asarray(value, np.float64))
                parts.append(r / np.linalg.norm(r) * norm if np.linalg.norm(r) > 0 else r)
            rows.append(np.concatenate(parts))
        d = np.stack(rows)
        how = f"random directions, normalised per parameter (seed {seed})"
    else:
        raise ValueError(f"projection must be 'pca' or 'random' (or give directions=(d1, d2)); got {projection!r}")
    if not np.isfinite(d).all() or np.linalg.matrix_rank(d) < 2:
        raise ValueError("the two directions must be finite and not parallel (nor zero)")
    return d, how


def _vector(flat: Flat, d: Any) -> Any:
    if isinstance(d, dict):
        missing = [n for n in flat.names if n not in d]
        if missing:
            raise ValueError(f"a direction given as a dict needs every parameter; it lacks {missing}")
        d = np.concatenate([np.broadcast_to(np.asarray(d[n], np.float64), s).reshape(-1)
                            for n, s in zip(flat.names, flat.shapes)])
    d = np.asarray(d, dtype=np.float64).reshape(-1)
    if d.size != flat.theta.size:
        raise ValueError(f"a direction needs {flat.theta.size} numbers (every element of every parameter, end to "
                         f"end in the order {flat.names}); got {d.size}")
    return d


def coordinates(points: Any, centre: Any, d: Any) -> tuple[Any, float]:
    """Each point's (a, b) with ``centre + a d1 + b d2`` its projection on the plane (least squares), and the
    share of the points' squared distance from the centre that the plane holds."""
    rel = points - centre
    ab, *_ = np.linalg.lstsq(d.T, rel.T, rcond=None)
    total = float(np.sum(rel * rel))
    proj = ab.T @ d
    share = float(np.sum(proj * proj)) / total if total > 0 else 1.0
    return ab.T, share


def evaluate_many(fn: Callable[[Any], Any], flat: Flat, points: Any, progress: bool | None = None) -> Any:
    """fn at each row of ``points``: in batches of points when fn gives one loss per point of a batch (checked
    against single calls), else one call per point; a progress bar (tqdm) when it runs over a second."""
    n = len(points)
    out = np.full(n, np.nan)
    bar = _Bar(n, progress)
    try:
        batched = n > 3 and _takes_batches(fn, flat, points)
        start = 0
        while start < n:
            stop = min(n, start + _BATCH)
            if batched:
                out[start:stop] = flat.call(fn, points[start:stop])
            else:
                for i in range(start, stop):
                    out[i] = _scalar(flat.call(fn, points[i]))
            bar.update(stop)
            start = stop
    finally:
        bar.close()
    return out


def _takes_batches(fn: Callable[[Any], Any], flat: Flat, points: Any) -> bool:
    """Whether fn, given parameters with a leading batch axis, gives each point's loss (as single calls do)."""
    probe = points[[0, len(points) // 2, len(points) - 1]]
    try:
        with np.errstate(all="ignore"):
            batch = flat.call(fn, probe)
    except Exception:
        return False
    if batch.shape != (3,):
        return False
    single = np.array([_scalar(flat.call(fn, p)) for p in probe])
    scale = np.maximum(np.abs(single), 1e-30)
    same = (np.abs(batch - single) <= 1e-5 * scale) | (np.isnan(batch) & np.isnan(single)) | (batch == single)
    return bool(same.all())


def _scalar(value: Any) -> float:
    if value.shape != ():
        raise TypeError(f"fn must return a scalar loss (a number or a 0-d tensor); it returned shape {value.shape}")
    return float(value)


class _Bar:
    """tqdm on stderr once the evaluation has taken a second (never with progress=False), if tqdm is installed."""

    def __init__(self, total: int, progress: bool | None) -> None:
        self.total, self.progress, self.t0, self.tqdm = total, progress, time.perf_counter(), None

    def update(self, done: int) -> None:
        if self.tqdm is None and self.progress is not False and (
                self.progress or time.perf_counter() - self.t0 > 1.0) and done < self.total:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.progress = False
                return
            self.tqdm = tqdm(total=self.total, unit="point", desc="landscape", file=sys.stderr)
        if self.tqdm is not None:
            self.tqdm.update(done - self.tqdm.n)

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
