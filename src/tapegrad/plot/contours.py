"""The landscape: contours of the function minimized with the descent's path on them (or, for one
parameter, its curve and the points visited)."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import wrap
from tapegrad.descent import History

from .style import RED, history_of, libraries, theme, tick_labels, wrap_text

if TYPE_CHECKING:
    from tapegrad.descent import MinimizeResult

__all__ = ["landscape", "landscape_args"]


def landscape(fn: Callable[[Any], Any] | MinimizeResult | History, history: History | MinimizeResult | None = None,
              params: str | Sequence[str] | None = None, bounds: Sequence[Sequence[float]] | None = None,
              resolution: int = 60, levels: int = 15, *, projection: str | None = None, directions: Any = None,
              seed: int | None = 0, progress: bool | None = None) -> Any:
    """Contours of ``fn`` over two parameters (or a plane through all of them) with the descent's path on them.

    ``fn`` is the function that was minimized (called as minimize called it); ``history`` a
    ``History`` or a minimize result. ``landscape(result)`` takes both from what ``tg.minimize``
    returned (or from a History that kept its function).

    Any number of parameters, in a plane through the run's final point: ``projection="pca"`` takes
    the path's two principal directions (those of the points visited less the final point: the plane
    that holds most of the path), ``projection="random"`` two random directions normalised per
    parameter to that parameter's norm (Li et al., "Visualizing the Loss Landscape of Neural Nets",
    2018; ``seed`` picks them), and ``directions=(d1, d2)`` your own (each a vector of every element
    of every parameter end to end, in ``history.final``'s order, or a dict like ``history.final``).
    The path is projected onto the plane; the subtitle says the share of the path's variance about
    the final point the plane holds. Axes are the coordinates along the two directions; ``bounds``
    is then their ranges. The path needs every element of every parameter at every step: run
    ``minimize(..., record="full")`` when there are array parameters. ``fn`` is evaluated on the
    grid in batches when it broadcasts over a leading batch axis of its parameters (checked against
    single calls), else point by point; a progress bar (tqdm) shows when that takes over a second
    (``progress=False``: never).

    Without a projection, ``params`` picks two parameter columns, or one name
    (default the first two). With a single parameter it draws the curve of ``fn`` with the
    visited points instead. The picture is a slice: every parameter not drawn (and the
    elements of an array not drawn) stays at its final value, and the subtitle says which,
    e.g. "slice through x, y; z at its final value".
    ``bounds`` is one ``(low, high)`` pair per drawn parameter, ``[(xmin, xmax), (ymin, ymax)]``.
    By default they cover the path plus a 20% margin. When the loss ran away (rose above the
    start by more than 100 times the larger of its starting size and its best drop: a
    diverging run), the path is drawn up to its first step out and the default bounds cover
    the part before it, so the picture shows where the descent left instead of a square
    1e19 wide. The view is cut to the bounds. The end marker sits on the last point in view:
    the run's end (``"end"``), or for a diverging run the point before the step out
    (``"diverged after this"``; the path's line runs on out of the view), as for a run whose
    last points are inf or NaN (its last finite point); when only given ``bounds`` leave the
    end out, the last point inside them (``"left the view after this"``). With one parameter
    the loss axis spans the curve, the start and the end (a converged run's last loss lies
    below the curve's lowest grid point; on a slice the losses visited are off the curve).
    ``resolution`` is the number of grid points per axis (an int >= 2), ``levels`` the
    number of contour levels (an int >= 1). The DataFrame ``.data`` holds the contour lines
    (``kind == "contour"``), the path (``"path"``) and the two markers (``"marker"``).

    >>> import tapegrad as tg
    >>> f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
    >>> r = tg.minimize(f, {"x": -1.2, "y": 1.0}, optimizer="adam", learning_rate=0.05, steps=300)
    >>> p = tg.plot.landscape(f, r.history)
    >>> sorted(set(p.data["kind"])), list(p.data.query("kind == 'marker'")["label"])
    (['contour', 'marker', 'path'], ['start', 'end'])
    """
    fn, history = landscape_args(fn, history)
    if projection is not None or directions is not None:
        if params is not None:
            raise ValueError("params picks the parameters to draw, and a projection draws all of them: give one")
        from .projected import plane_landscape  # it builds on this module's helpers

        return plane_landscape(fn, history, projection, directions, bounds, resolution, levels, seed, progress)
    pd, p9 = libraries()
    if history.structure is None or history.final is None:
        raise ValueError("this history does not know how fn takes its parameters (its final point and x0's "
                         "structure: History(columns) was given neither), so the landscape cannot be drawn from it")
    available = [c for c in history.param_columns if history.element(c) is not None]
    names = [params] if isinstance(params, str) else list(params) if params is not None else available[:2]
    for n in names:
        if n not in available:
            raise ValueError(f"no parameter column {n!r} to draw; choose from {available}")
    if len(names) not in (1, 2):
        raise ValueError(f"a landscape shows one or two parameters; got {len(names)}: {names}")
    if len(set(names)) < len(names):
        raise ValueError(f"params lists {names[0]!r} twice; give two different parameters, or one")
    _check_count("resolution", resolution, 2)
    _check_count("levels", levels, 1)
    given = None if bounds is None else _check_bounds(bounds, names)
    evaluate = _evaluator(fn, history, names)
    path = pd.DataFrame({"step": history["step"], "loss": history["loss"],
                         **{f"p{i}": history[n] for i, n in enumerate(names)}})
    finite = np.isfinite(path.drop(columns="step")).all(axis=1).to_numpy()
    path = path[finite].reset_index(drop=True)
    if not len(path):
        raise ValueError("the history has no finite point to draw")
    evaluate(tuple(path.iloc[-1][f"p{i}"] for i in range(len(names))))  # a non-scalar fn fails here, once
    cut = _runaway(path["loss"].to_numpy())
    if cut:
        path = path.iloc[:cut + 1]  # up to the first step out: points 1e19 away draw as stray lines
    elif not finite[-1]:
        cut = len(path)  # the run ended in inf or NaN: its step out of the finite range has no point to draw
    spans = given or _default_spans(path.iloc[:cut], len(names))
    held = _held(history, names)
    if len(names) == 1:
        return _landscape_1d(pd, p9, evaluate, path, names[0], spans[0], resolution, cut, held)
    xs, ys = (np.linspace(lo, hi, resolution) for lo, hi in spans)
    with np.errstate(all="ignore"):
        z = np.array([[evaluate((x, y)) for x in xs] for y in ys])
    lines = _contours(pd, xs, ys, z, levels)
    trail = pd.DataFrame({"kind": "path", "x": path["p0"], "y": path["p1"], "step": path["step"],
                          "loss": path["loss"]})
    inside = np.logical_and.reduce([trail[a].between(*span).to_numpy() for a, span in zip("xy", spans)])
    data = pd.concat([lines, trail, _markers(pd, trail, inside, cut)], ignore_index=True)
    return _contour_figure(p9, data, lines, spans, "loss landscape and descent path",
                           held and f"slice through {held}", names[0], names[1])


def _contour_figure(p9: Any, data: Any, lines: Any, spans: list, title: str, subtitle: str | None, x: str,
                    y: str) -> Any:
    """Contours of the loss (log colours when they span more than 100x), the path and its markers in red."""
    positive = bool(len(lines)) and bool((lines["level"] > 0).all())
    spread = positive and lines["level"].max() / lines["level"].min() > 100
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_path(p9.aes(group="group", color="level"), data=lambda d: d[d["kind"] == "contour"])
            + p9.geom_path(data=lambda d: d[d["kind"] == "path"], color=RED)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3, color=RED)
            + p9.scale_color_continuous(trans="log10" if spread else None, labels=tick_labels)
            + p9.scale_x_continuous(labels=tick_labels) + p9.scale_y_continuous(labels=tick_labels)
            + p9.coord_cartesian(xlim=spans[0], ylim=spans[1], expand=False)
            + p9.labs(title=title, subtitle=wrap_text(subtitle), x=x, y=y, color="loss", shape="")
            + theme(p9))


def landscape_args(fn: Any, history: Any) -> tuple[Callable[[Any], Any], History]:
    """``(fn, history)`` from ``(fn, history)``, ``(result,)`` or ``(history,)``, checked."""
    if history is None:
        if isinstance(fn, History) or hasattr(fn, "history"):
            history = history_of(fn)
            fn = getattr(fn, "fn", None)
            if fn is None:
                raise ValueError("this run has no function to evaluate (a history read back from JSON keeps none): "
                                 "give it again, landscape(fn, history)")
        elif callable(fn):
            raise TypeError("landscape(fn) needs the run too: landscape(fn, history), or landscape(result)")
    if not callable(fn) and callable(history):
        raise TypeError("the arguments are the wrong way round: call landscape(fn, history)")
    if not callable(fn):
        raise TypeError(f"fn must be the function that was minimized, not {type(fn).__name__}")
    return fn, history_of(history)


def _evaluator(fn: Callable[[Any], Any], history: History, names: list[str]) -> Callable[[tuple], float]:
    """fn at the final point with the chosen parameter elements replaced by the given numbers."""
    base = {n: np.array(v, copy=True) for n, v in history.final.items()}
    where = [history.element(n) for n in names]
    structure = history.structure

    def evaluate(point: tuple) -> float:
        leaves = {n: b.copy() for n, b in base.items()}
        for (name, i), value in zip(where, point):
            leaves[name].reshape(-1)[i] = value
        out = fn(nest.map_structure(lambda n: wrap(leaves[n] if leaves[n].ndim else leaves[n][()]), structure))
        try:
            return float(np.asarray(getattr(out, "_value", out)).reshape(()))
        except (TypeError, ValueError):
            shape = np.shape(getattr(out, "_value", out))
            raise TypeError(f"fn must return a scalar loss (a number or a 0-d tensor); it returned "
                            f"{type(out).__name__}" + (f" of shape {shape}" if shape else "")) from None

    return evaluate


def _check_count(name: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= {least}, got {value!r} ({type(value).__name__})")
    if value < least:
        raise ValueError(f"{name} must be an int >= {least}, got {value}")


def _check_bounds(bounds: Any, names: list[str]) -> list[tuple[float, float]]:
    example = ", ".join(f"({n}_low, {n}_high)" for n in names)
    form = f"bounds needs one (low, high) pair per drawn parameter, low < high, finite: [{example}]"
    try:
        pairs = [(float(lo), float(hi)) for lo, hi in bounds]
    except (TypeError, ValueError):
        raise ValueError(f"{form}; got {bounds!r}") from None
    if len(pairs) != len(names):
        raise ValueError(f"{form}; got {len(pairs)} pair(s) for {len(names)} parameter(s): {bounds!r}")
    for pair in pairs:
        if not (np.isfinite(pair).all() and pair[0] < pair[1]):
            raise ValueError(f"{form}; got {pair}")
    return pairs


def _runaway(loss: Any) -> int | None:
    """The first row whose loss rose far above the start (see landscape), or None."""
    limit = loss[0] + 100 * max(abs(loss[0]), loss[0] - loss.min())
    away = np.flatnonzero(loss > limit)
    return int(away[0]) if away.size else None


def _held(history: History, names: list[str]) -> str | None:
    """``"x, y; z at its final value"``: the drawn columns and the parameters held still, or None if none are."""
    held = []
    for whole, value in history.final.items():
        columns = [c for c in history.param_columns if (history.element(c) or ("",))[0] == whole]
        drawn = [c for c in columns if c in names]
        # An array's elements past max_elements have no column, but they are held at their final values too.
        if not drawn:
            held.append(whole)
        elif len(drawn) < len(columns) or len(columns) < np.size(value):
            held.append(f"the rest of {whole}")
    if not held:
        return None
    which = ", ".join(held) if len(held) <= 4 else f"the other {len(held)} parameters"
    return f"{', '.join(names)}; {which} at {'its' if len(held) == 1 else 'their'} final value" \
        + ("" if len(held) == 1 else "s")


def _markers(pd: Any, points: Any, inside: Any, cut: int | None) -> Any:
    """The start and end markers. The end is the last point in view: when the path leaves the view (a
    diverging run's first step out always does, see landscape), a marker on it would not show."""
    last = len(points) - 1
    label = "end"
    if not inside[last] and inside.any():
        last = int(np.flatnonzero(inside)[-1])
        label = "left the view after this"
    if cut is not None and last >= cut - 1:
        label = "diverged after this"
    marks = points.iloc[[0, last]].assign(kind="marker", label=["start", label])
    marks["label"] = pd.Categorical(marks["label"], categories=["start", label])
    return marks


def _default_spans(path: Any, count: int) -> list[tuple[float, float]]:
    spans = []
    for i in range(count):
        lo, hi = float(path[f"p{i}"].min()), float(path[f"p{i}"].max())
        margin = 0.2 * (hi - lo) if hi > lo else 0.5 * max(abs(lo), 1.0)
        spans.append((lo - margin, hi + margin))
    return spans


def _contours(pd: Any, xs: Any, ys: Any, z: Any, levels: int) -> Any:
    contourpy = importlib.import_module("contourpy")
    finite = z[np.isfinite(z)]
    rows = []
    if finite.size:
        # Levels at quantiles of the values, so steep functions (Rosenbrock) still show their valley.
        gen = contourpy.contour_generator(x=xs, y=ys, z=np.ma.masked_invalid(z), line_type="Separate")
        for li, level in enumerate(np.unique(np.quantile(finite, np.linspace(0, 1, levels + 2)[1:-1]))):
            for si, line in enumerate(gen.lines(level)):
                rows.append(pd.DataFrame({"kind": "contour", "x": line[:, 0], "y": line[:, 1],
                                          "level": float(level), "group": f"{li}.{si}"}))
    if not rows:
        return pd.DataFrame({"kind": [], "x": [], "y": [], "level": [], "group": []})
    return pd.concat(rows, ignore_index=True)


def _landscape_1d(pd: Any, p9: Any, evaluate: Callable[[tuple], float], path: Any, name: str,
                  span: tuple[float, float], resolution: int, cut: int | None, held: str | None) -> Any:
    xs = np.linspace(span[0], span[1], max(resolution, 200))
    with np.errstate(all="ignore"):
        curve = pd.DataFrame({"kind": "curve", "x": xs, "y": [evaluate((x,)) for x in xs]})
    points = pd.DataFrame({"kind": "path", "x": path["p0"], "y": path["loss"], "step": path["step"]})
    # The view spans the curve, the start and the end (a converged run's last loss lies below the curve's
    # lowest grid point; on a slice the losses visited are off the curve), not a diverging run's step out.
    ends = points.iloc[[0, len(points) - 1 if cut is None else cut - 1]]
    heights = np.concatenate([curve["y"], ends["y"][ends["x"].between(*span)]])
    heights = heights[np.isfinite(heights)]
    ylim = (heights.min(), heights.max()) if len(heights) and heights.min() < heights.max() else None
    inside = points["x"].between(*span) & (points["y"].between(*ylim) if ylim else True)
    data = pd.concat([curve, points, _markers(pd, points, inside.to_numpy(), cut)], ignore_index=True)
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_line(data=lambda d: d[d["kind"] == "curve"], color="grey")
            + p9.geom_point(data=lambda d: d[d["kind"] == "path"], color=RED, alpha=0.5)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3)
            + p9.scale_x_continuous(labels=tick_labels) + p9.scale_y_continuous(labels=tick_labels)
            + p9.coord_cartesian(xlim=span, ylim=ylim)
            + p9.labs(title=f"loss along {name} and the points visited",
                      subtitle=wrap_text(held and f"slice along {held}"), x=name, y="loss", shape="")
            + theme(p9))
