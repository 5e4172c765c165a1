"""Plots of a descent, in plotnine (ggplot) style as the seed post drew them.

Every function takes the run as a ``History`` or as the result ``tg.minimize`` returned (a
run made with ``record=False`` has no history, and plotting it is an error), and returns a
plotnine ``ggplot`` you can extend with ``+`` and write with ``.save(path)``; its ``.data``
is the pandas DataFrame it draws. pandas, plotnine and
matplotlib are imported only when a plot is made (``pip install 'tapegrad[plot]'``).

>>> import tapegrad as tg
>>> r = tg.minimize(lambda w0: w0 ** 2, 1.0, steps=100)
>>> p = tg.plot.trajectory(r)          # the seed's figure: w0 over epochs
>>> p.labels.title, list(p.data.columns)
('w0 over epochs', ['step', 'w0'])
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.tensor import wrap
from tapegrad.history import History

if TYPE_CHECKING:
    from tapegrad.minimize import MinimizeResult


def trajectory(history: History | MinimizeResult, param: str | Sequence[str] | None = None) -> Any:
    """Parameters over steps: one parameter gives the seed's figure (``geom_line``, "w0 over epochs").

    ``history``: a ``History`` or a minimize result. ``param``: a parameter column name, an
    array parameter's name (``"w"`` draws its recorded elements ``w[0]``, ``w[1]``, ..., one line
    each; ``"norm(w)"``, when recorded, is a column of its own), or a list of these; default
    every parameter column. Several columns share one figure, one colour per column.

    >>> import numpy as np
    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda p: (p[0] - 1) ** 2 + p[1] ** 2, [0.0, 2.0], steps=20)
    >>> p = tg.plot.trajectory(r)
    >>> sorted(set(p.data["parameter"])), p.labels.title
    (['x0', 'x1'], 'parameters over epochs')
    >>> w = tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones(3), steps=5)
    >>> p = tg.plot.trajectory(w, "w")
    >>> list(p.data["parameter"].cat.categories), p.labels.title
    (['w[0]', 'w[1]', 'w[2]'], 'w over epochs')
    """
    pd, p9 = _libraries()
    history = _history(history)
    names = _param_names(history, param)
    if len(names) == 1:
        (name,) = names
        data = pd.DataFrame({"step": history["step"], name: history[name]})
        return (p9.ggplot(data, p9.aes(x="step", y=name)) + p9.geom_line()
                + p9.labs(title=f"{name} over epochs", x="Epoch", y=name) + p9.theme_minimal())
    data = pd.DataFrame({
        "step": np.tile(history["step"], len(names)),
        "parameter": pd.Categorical(np.repeat(names, len(history)), categories=names),
        "value": np.concatenate([history[n] for n in names]),
    })
    title = f"{param} over epochs" if isinstance(param, str) else "parameters over epochs"
    return (p9.ggplot(data, p9.aes(x="step", y="value", color="parameter")) + p9.geom_line()
            + p9.labs(title=title, x="Epoch", y="value") + p9.theme_minimal())


def loss(history: History | MinimizeResult) -> Any:
    """The loss over steps, on a log scale when it can be.

    ``history`` is a ``History`` or a minimize result. Rows whose loss is NaN or inf (a
    diverged run's last ones) are not drawn, nor, on a log scale, rows whose loss is exactly 0
    (a float32 loss can underflow to 0; a log scale has no 0): the caption says which, and the
    x axis still runs to the last step. When some loss is negative the scale is linear and
    every finite row is drawn.

    >>> import tapegrad as tg
    >>> p = tg.plot.loss(tg.minimize(lambda w: w ** 2, 1.0, steps=50))
    >>> p.labels.y, p.labels.caption
    ('loss (log scale)', None)
    >>> diverged = tg.plot.loss(tg.minimize(lambda w: w ** 2, 1.0, learning_rate=1.5, steps=100))
    >>> diverged.labels.caption
    'not drawn: loss inf at step 64'
    """
    pd, p9 = _libraries()
    return _loss_plot(pd, p9, {"": _history(history)})


def compare(runs: Mapping[str, History | MinimizeResult]) -> Any:
    """The loss against step for several runs on one figure, one colour per run (log scale as in ``loss``).

    ``runs`` maps a label to a ``History`` or a ``MinimizeResult``. Rows are left out, and
    named in the caption, as in ``loss``.

    >>> import tapegrad as tg
    >>> f = lambda w: (w - 2.0) ** 2
    >>> p = tg.plot.compare({"sgd": tg.minimize(f, 0.0, steps=30), "adam": tg.minimize(f, 0.0, "adam", steps=30)})
    >>> list(p.data["run"].cat.categories)
    ['sgd', 'adam']
    """
    pd, p9 = _libraries()
    example = "e.g. {'sgd': r1, 'adam': r2} with r1, r2 what tg.minimize returned (or their .history)"
    if not isinstance(runs, Mapping):
        raise TypeError(f"compare() takes a dict of label -> History (or minimize result), {example}; "
                        f"got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"compare() needs at least one run; got an empty dict. Give label -> run, {example}")
    histories = {}
    for label, run in runs.items():
        try:
            histories[str(label)] = _history(run)
        except (TypeError, ValueError) as e:
            raise type(e)(f"run {label!r}: {e}") from None
    return _loss_plot(pd, p9, histories, color="run")


def landscape(fn: Callable[[Any], Any], history: History | MinimizeResult, params: str | Sequence[str] | None = None,
              bounds: Sequence[Sequence[float]] | None = None, resolution: int = 60, levels: int = 15) -> Any:
    """Contours of ``fn`` over two parameters with the descent's path on them, start and end marked.

    ``fn`` is the function that was minimized (called as minimize called it); ``history`` a
    ``History`` or a minimize result. ``params`` picks two parameter columns, or one name
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
    (``"diverged after this"``; the path's line runs on out of the view); when only given
    ``bounds`` leave the end out, the last point inside them (``"left the view after this"``).
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
    pd, p9 = _libraries()
    if not callable(fn) and callable(history):
        raise TypeError("the arguments are the wrong way round: call landscape(fn, history)")
    if not callable(fn):
        raise TypeError(f"fn must be the function that was minimized, not {type(fn).__name__}")
    history = _history(history)
    if history._structure is None or history._final is None:
        raise ValueError("this history does not know how fn takes its parameters (it was not made by "
                         "tg.minimize in this session), so the landscape cannot be drawn from it")
    available = [c for c in history.param_columns if c in history._sources]
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
    path = path[np.isfinite(path.drop(columns="step")).all(axis=1)].reset_index(drop=True)
    if not len(path):
        raise ValueError("the history has no finite point to draw")
    evaluate(tuple(path.iloc[-1][f"p{i}"] for i in range(len(names))))  # a non-scalar fn fails here, once
    cut = _runaway(path["loss"].to_numpy())
    if cut:
        path = path.iloc[:cut + 1]  # up to the first step out: points 1e19 away draw as stray lines
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
    positive = bool(len(lines)) and bool((lines["level"] > 0).all())
    spread = positive and lines["level"].max() / lines["level"].min() > 100
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_path(p9.aes(group="group", color="level"), data=lambda d: d[d["kind"] == "contour"])
            + p9.geom_path(data=lambda d: d[d["kind"] == "path"], color="#d62728")
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3,
                            color="#d62728")
            + p9.scale_color_continuous(trans="log10" if spread else None)
            + p9.coord_cartesian(xlim=spans[0], ylim=spans[1], expand=False)
            + p9.labs(title="loss landscape and descent path", subtitle=held and f"slice through {held}",
                      x=names[0], y=names[1], color="loss", shape="")
            + p9.theme_minimal())


# -- helpers ---------------------------------------------------------------------------------------

def _libraries() -> tuple[Any, Any]:
    try:
        pd = importlib.import_module("pandas")
        p9 = importlib.import_module("plotnine")
    except ImportError as e:
        raise ImportError(f"plots need pandas, plotnine and matplotlib ({e}); install them with "
                          "pip install 'tapegrad[plot]'") from None
    return pd, p9


def _history(run: Any) -> History:
    """The History of ``run`` (a History or a minimize result), which must have rows to draw."""
    h = getattr(run, "history", run)
    if not isinstance(h, History):
        raise TypeError(f"expected a History or a minimize result (what tg.minimize returns), "
                        f"not {type(run).__name__}")
    if not len(h):
        raise ValueError(f"{h._why_empty()} to plot"
                         + ("; run minimize with record=True (the default)" if h._unrecorded() else ""))
    return h


def _loss_plot(pd: Any, p9: Any, histories: dict[str, History], color: str | None = None) -> Any:
    """Loss against step for each history (``color`` names the column of their labels, when several).

    On a log scale the rows with loss 0 cannot be drawn, and inf/NaN rows never can; they are left
    out and the caption names them, so a line that stops early (a float32 loss underflowing to 0)
    is explained. The x axis runs to the last step regardless."""
    frames, notes = [], []
    finite_losses = np.concatenate([h["loss"][np.isfinite(h["loss"])] for h in histories.values()])
    log = bool((finite_losses >= 0).all()) and bool((finite_losses > 0).any())
    for label, h in histories.items():
        loss_ = h["loss"]
        bad = ~np.isfinite(loss_)
        zero = (loss_ == 0) if log else np.zeros(len(h), bool)
        keep = ~(bad | zero)
        frames.append(pd.DataFrame({**({color: label} if color else {}), "step": h["step"][keep],
                                    "loss": loss_[keep]}))
        who = f"{label}'s loss" if color else "loss"
        if bad.any():
            kinds = " or ".join(k for k, m in (("inf", np.isinf(loss_)), ("NaN", np.isnan(loss_))) if m.any())
            notes.append(f"{who} {kinds} {_where(np.flatnonzero(bad), len(h))}")
        if zero.any():
            notes.append(f"{who} 0 {_where(np.flatnonzero(zero), len(h))} (a log scale has no 0)")
    data = pd.concat(frames, ignore_index=True)
    if color:
        data[color] = pd.Categorical(data[color], categories=list(histories))
    last = max(len(h) for h in histories.values()) - 1
    by = {"color": color} if color else {}
    plot = (p9.ggplot(data, p9.aes(x="step", y="loss", **by)) + p9.geom_line()
            + p9.coord_cartesian(xlim=(0, last))
            + p9.labs(title="loss over epochs", x="Epoch", y="loss (log scale)" if log else "loss",
                      caption="not drawn: " + "; ".join(notes) if notes else None, **by)
            + p9.theme_minimal())
    return plot + p9.scale_y_log10() if log else plot


def _where(rows: Any, count: int) -> str:
    """Where the given rows (step numbers, ascending) are, in words: at step k, from step k on, at n steps."""
    if len(rows) == 1:
        return f"at step {rows[0]}"
    if rows[-1] == count - 1 and len(rows) == count - rows[0]:
        return f"from step {rows[0]} on"
    return f"at {len(rows)} steps from step {rows[0]}"


def _param_names(history: History, param: str | Sequence[str] | None) -> list[str]:
    """The columns to draw: each name a parameter column, or an array parameter standing for its elements."""
    available = history.param_columns
    asked = available if param is None else [param] if isinstance(param, str) else list(param)
    if not asked:
        raise ValueError("this history has no parameter columns to plot")
    names: list[str] = []
    for n in asked:
        columns = [n] if n in available else history._array_columns(n)[0] if isinstance(n, str) else []
        if not columns:
            raise ValueError(f"no parameter column {n!r}; this history has {available} (an array "
                             f"parameter's name, e.g. 'w', stands for all its element columns)")
        names += [c for c in columns if c not in names]
    return names


def _evaluator(fn: Callable[[Any], Any], history: History, names: list[str]) -> Callable[[tuple], float]:
    """fn at the final point with the chosen parameter elements replaced by the given numbers."""
    base = [np.array(v, copy=True) for v in history._final]
    where = [history._sources[n] for n in names]
    structure = history._structure

    def evaluate(point: tuple) -> float:
        leaves = [b.copy() for b in base]
        for (leaf, i), value in zip(where, point):
            leaves[leaf].reshape(-1)[i] = value
        out = fn(nest.pack_as(structure, [wrap(v if v.ndim else v[()]) for v in leaves]))
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
    leaves: dict[int, list[str]] = {}  # each parameter's columns, by its leaf
    for column, (leaf, _) in history._sources.items():
        leaves.setdefault(leaf, []).append(column)
    held = []
    for columns in leaves.values():
        whole = columns[0].split("[")[0] if columns[0].endswith("]") else columns[0]
        drawn = [c for c in columns if c in names]
        # An array's elements past max_elements have no column, but they are held at their final values too.
        if not drawn:
            held.append(whole)
        elif len(drawn) < len(columns) or len(columns) < math.prod(history.meta.get("shapes", {}).get(whole, [1])):
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
    # The visited points outside the span (a diverging run) must not stretch the view.
    heights = curve["y"][np.isfinite(curve["y"])]
    ylim = (heights.min(), heights.max()) if len(heights) and heights.min() < heights.max() else None
    inside = points["x"].between(*span) & (points["y"].between(*ylim) if ylim else True)
    data = pd.concat([curve, points, _markers(pd, points, inside.to_numpy(), cut)], ignore_index=True)
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_line(data=lambda d: d[d["kind"] == "curve"], color="grey")
            + p9.geom_point(data=lambda d: d[d["kind"] == "path"], color="#d62728", alpha=0.5)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3)
            + p9.coord_cartesian(xlim=span, ylim=ylim)
            + p9.labs(title=f"loss along {name} and the points visited", subtitle=held and f"slice along {held}",
                      x=name, y="loss", shape="")
            + p9.theme_minimal())


__all__ = ["compare", "landscape", "loss", "trajectory"]
