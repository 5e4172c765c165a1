"""Landscapes of any number of parameters: the loss on a plane through the final point (``landscape``'s
``projection=`` and ``directions=``), and the loss along the path itself (``path_slice``)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad.descent import History

from .contours import _check_bounds, _check_count, _contour_figure, _contours, _markers, _runaway, landscape_args
from .plane import Flat, coordinates, directions_for, evaluate_many
from .style import RED, libraries, theme, tick_labels

if TYPE_CHECKING:
    from tapegrad.descent import MinimizeResult

__all__ = ["path_slice", "plane_landscape"]


def plane_landscape(fn: Callable[[Any], Any], history: History, projection: str | None, directions: Any,
                    bounds: Sequence[Sequence[float]] | None, resolution: int, levels: int, seed: int | None,
                    progress: bool | None) -> Any:
    """What ``landscape`` draws with ``projection=`` or ``directions=`` (see there)."""
    pd, p9 = libraries()
    _check_count("resolution", resolution, 2)
    _check_count("levels", levels, 1)
    given = None if bounds is None else _check_bounds(bounds, ["a", "b"])
    flat = Flat(history)
    path = flat.path
    finite = np.isfinite(path).all(axis=1) & np.isfinite(history["loss"])
    if not finite.any():
        raise ValueError("the history has no finite point to draw")
    d, how = directions_for(flat, projection, directions, seed)
    ab, share = coordinates(path[finite], flat.theta, d)
    loss, steps = history["loss"][finite], history["step"][finite]
    cut = _runaway(loss)
    shown = slice(None, None if cut is None else cut + 1)
    spans = given or _spans(ab[:cut], projection == "random" and directions is None)
    a, b = (np.linspace(lo, hi, resolution) for lo, hi in spans)
    grid = np.stack(np.meshgrid(a, b), axis=-1).reshape(-1, 2)
    with np.errstate(all="ignore"):
        z = evaluate_many(fn, flat, flat.theta + grid @ d, progress).reshape(resolution, resolution)
    lines = _contours(pd, a, b, z, levels)
    trail = pd.DataFrame({"kind": "path", "x": ab[shown, 0], "y": ab[shown, 1], "step": steps[shown],
                          "loss": loss[shown]})
    inside = np.logical_and.reduce([trail[c].between(*s).to_numpy() for c, s in zip("xy", spans)])
    data = pd.concat([lines, trail, _markers(pd, trail, inside, cut)], ignore_index=True)
    subtitle = (f"{how}, through the final point; the plane holds {100 * share:.1f}% of the path's variance "
                f"about it ({flat.theta.size} parameters)")
    return _contour_figure(p9, data, lines, spans, "loss landscape and descent path, in a plane", subtitle,
                           "direction 1", "direction 2")


def _spans(ab: Any, unit: bool) -> list[tuple[float, float]]:
    """The path's extent with a 20% margin (and [-1, 1], one parameter norm, for random directions)."""
    spans = []
    for i in range(2):
        lo, hi = float(ab[:, i].min()), float(ab[:, i].max())
        if unit:
            lo, hi = min(lo, -1.0), max(hi, 1.0)
        margin = 0.2 * (hi - lo) if hi > lo else 0.5 * max(abs(lo), 1.0)
        spans.append((lo - margin, hi + margin))
    return spans


def path_slice(fn: Any, history: History | MinimizeResult | None = None, points: int = 400,
               progress: bool | None = None) -> Any:
    """The loss along the path itself, against the distance travelled: a 1-D slice of a landscape of any size.

    The path is the straight segments between the points visited (every parameter, end to end: a
    run with array parameters needs ``record="full"``); ``fn`` is evaluated at ``points`` points spread
    along it by distance (and at each visited point), so bumps between the steps, where a step jumped
    over a valley or a ridge, show as well. Called as ``landscape`` is: ``path_slice(result)``,
    ``path_slice(fn, history)``. ``.data`` holds the curve (``kind == "curve"``) and the visited points
    (``"step"``).

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda p: p["x"] ** 2 + 10 * p["y"] ** 2, {"x": 1.0, "y": 1.0}, learning_rate=0.09,
    ...                 steps=20)
    >>> p = tg.plot.path_slice(r)
    >>> p.labels.x, sorted(set(p.data["kind"]))
    ('distance travelled', ['curve', 'step'])
    """
    pd, p9 = libraries()
    fn, history = landscape_args(fn, history)
    _check_count("points", points, 2)
    flat = Flat(history)
    path = flat.path
    keep = np.isfinite(path).all(axis=1)
    path, loss, steps = path[keep], history["loss"][keep], history["step"][keep]
    if len(path) < 2:
        raise ValueError("a slice along the path needs at least two finite points visited")
    hops = np.linalg.norm(np.diff(path, axis=0), axis=1)
    travelled = np.concatenate([[0.0], np.cumsum(hops)])
    s = np.union1d(np.linspace(0.0, travelled[-1], points), travelled)
    seg = np.clip(np.searchsorted(travelled, s, side="right") - 1, 0, len(path) - 2)
    frac = np.where(hops[seg] > 0, (s - travelled[seg]) / np.where(hops[seg] > 0, hops[seg], 1.0), 0.0)
    along = path[seg] + frac[:, None] * (path[seg + 1] - path[seg])
    with np.errstate(all="ignore"):
        curve = evaluate_many(fn, flat, along, progress)
    data = pd.concat([pd.DataFrame({"kind": "curve", "x": s, "y": curve}),
                      pd.DataFrame({"kind": "step", "x": travelled, "y": loss, "step": steps})], ignore_index=True)
    finite = data["y"][np.isfinite(data["y"])]
    log = bool(len(finite)) and bool((finite > 0).all()) and finite.max() / finite.min() > 100
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_line(data=lambda q: q[q["kind"] == "curve"], color="grey")
            + p9.geom_point(data=lambda q: q[q["kind"] == "step"], color=RED, size=1)
            + p9.scale_x_continuous(labels=tick_labels)
            + (p9.scale_y_log10(labels=tick_labels) if log else p9.scale_y_continuous(labels=tick_labels))
            + p9.labs(title="loss along the path", subtitle=f"{len(path) - 1} steps, {flat.theta.size} parameters; "
                      "dots: the points visited", x="distance travelled", y="loss" + (" (log scale)" if log else ""))
            + theme(p9))
