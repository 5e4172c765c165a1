"""Plots of a descent, in plotnine (ggplot) style as the seed post drew them.

Every function takes the run as a ``History`` or as the result ``tg.minimize`` returned (a
run made with ``record=False`` has no history, and plotting it is an error), and returns a
plotnine ``ggplot`` you can extend with ``+`` and write with ``.save(path)``; its ``.data``
is the pandas DataFrame it draws. pandas, plotnine and
matplotlib are imported only when a plot is made (``pip install 'tapegrad[plot]'``).

Any history draws readably: axes span the finite values only (a diverged run's inf and NaN
are left out, and a dashed line or a marker shows where the run left the finite range),
tick labels are short (``1e150``, ``2.5e-5``, never 150 digits), and captions wrap.

>>> import tapegrad as tg
>>> r = tg.minimize(lambda w0: w0 ** 2, 1.0, steps=100)
>>> p = tg.plot.trajectory(r)          # the seed's figure: w0 over epochs
>>> p.labels.title, list(p.data.columns)
('w0 over epochs', ['step', 'w0'])
"""
from __future__ import annotations

import importlib
import math
import textwrap
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

    Many lines in one colour scale cannot be told apart, so with more than 8 series:
    by default (no ``param``) each array parameter is drawn as its L2 norm ``norm(w)`` (its size,
    which is what shows whether a model's weights settle or blow up), scalars as themselves, and
    the caption says so; ``trajectory(h, "w")`` still draws w's elements. When more than 8
    series remain, or were asked for, each gets a panel of its own (``facet_wrap``, each
    panel its own y scale), at most 16 panels, the caption saying how many were left out. Values
    that are not finite are not drawn; a dashed line marks the step where the run left the
    finite range, and the caption says what became inf or NaN.

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
    >>> model = tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones(37), steps=5)
    >>> p = tg.plot.trajectory(model)      # 37 elements: one line, their norm, and a caption saying so
    >>> p.labels.title, list(p.data.columns)
    ('norm(w) over epochs', ['step', 'norm(w)'])
    """
    pd, p9 = _libraries()
    history = _history(history)
    names = _param_names(history, param)
    notes = []
    values = {n: history[n] for n in names}
    if param is None and len(names) > _MOST_LINES:
        values, note = _as_norms(history)
        names = list(values)
        notes += [note] if note else []
    if len(names) > _MOST_PANELS:
        notes.append(f"the first {_MOST_PANELS} of {len(names)} series; choose others with param=[...]")
        names = names[:_MOST_PANELS]
    left = _left_finite([history["loss"], *(history[c] for c in history.param_columns)],
                        ["the loss", *history.param_columns])
    if left:
        notes.insert(0, f"dashed line: the run left the finite range at step {left[0]} ({left[1]})")
    steps = history["step"]
    marks = [p9.geom_vline(p9.aes(xintercept="step"), data=pd.DataFrame({"step": [left[0]]}), linetype="dashed",
                           color=_RED)] if left else []
    caption = _wrap("; ".join(notes))
    if len(names) == 1:
        (name,) = names
        keep = np.isfinite(values[name])
        data = pd.DataFrame({"step": steps[keep], name: values[name][keep]})
        return (p9.ggplot(data, p9.aes(x="step", y=name)) + p9.geom_line() + _x_scale(p9) + _y_scale(p9)
                + p9.coord_cartesian(xlim=(0, len(history) - 1), ylim=_view(data[name]))
                + p9.labs(title=f"{name} over epochs", x="Epoch", y=name, caption=caption) + _theme(p9)
                + marks)
    frames = [pd.DataFrame({"step": steps, "parameter": n, "value": values[n]}) for n in names]
    data = pd.concat(frames, ignore_index=True)
    data = data[np.isfinite(data["value"])].reset_index(drop=True)
    data["parameter"] = pd.Categorical(data["parameter"], categories=names)
    title = f"{param} over epochs" if isinstance(param, str) else "parameters over epochs"
    common = [p9.labs(title=title, x="Epoch", y="value", caption=caption), _theme(p9), _x_scale(p9)]
    if len(names) > _MOST_LINES:
        return (p9.ggplot(data, p9.aes(x="step", y="value")) + p9.geom_line()
                + p9.facet_wrap("parameter", scales="free_y") + _y_scale(p9, expand=None)
                + p9.coord_cartesian(xlim=(0, len(history) - 1)) + common + marks)
    return (p9.ggplot(data, p9.aes(x="step", y="value", color="parameter")) + p9.geom_line() + _y_scale(p9)
            + p9.coord_cartesian(xlim=(0, len(history) - 1), ylim=_view(data["value"])) + common + marks)


def loss(history: History | MinimizeResult) -> Any:
    """The loss over steps, on a log scale when it can be.

    ``history`` is a ``History`` or a minimize result. Rows whose loss is NaN or inf (a
    diverged run's last ones) are not drawn, nor, on a log scale, rows whose loss is exactly 0
    (a float32 loss can underflow to 0; a log scale has no 0): the caption says which, and the
    x axis still runs to the last step. A dashed line marks the step where the loss left the
    finite range. When some loss is negative the scale is linear and every finite row is drawn.
    The y axis spans the finite losses drawn, however large (1e307) or small.

    >>> import tapegrad as tg
    >>> p = tg.plot.loss(tg.minimize(lambda w: w ** 2, 1.0, steps=50))
    >>> p.labels.y, p.labels.caption
    ('loss (log scale)', None)
    >>> diverged = tg.plot.loss(tg.minimize(lambda w: w ** 2, 1.0, learning_rate=1.5, steps=100))
    >>> diverged.labels.caption
    'not drawn: loss inf at step 64 (dashed line)'
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
    positive = bool(len(lines)) and bool((lines["level"] > 0).all())
    spread = positive and lines["level"].max() / lines["level"].min() > 100
    return (p9.ggplot(data, p9.aes(x="x", y="y"))
            + p9.geom_path(p9.aes(group="group", color="level"), data=lambda d: d[d["kind"] == "contour"])
            + p9.geom_path(data=lambda d: d[d["kind"] == "path"], color=_RED)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3, color=_RED)
            + p9.scale_color_continuous(trans="log10" if spread else None, labels=_tick_labels)
            + p9.scale_x_continuous(labels=_tick_labels) + p9.scale_y_continuous(labels=_tick_labels)
            + p9.coord_cartesian(xlim=spans[0], ylim=spans[1], expand=False)
            + p9.labs(title="loss landscape and descent path", subtitle=_wrap(held and f"slice through {held}"),
                      x=names[0], y=names[1], color="loss", shape="")
            + _theme(p9))


# -- helpers ---------------------------------------------------------------------------------------

def _libraries() -> tuple[Any, Any]:
    try:
        pd = importlib.import_module("pandas")
        p9 = importlib.import_module("plotnine")
    except ImportError as e:
        raise ImportError(f"plots need pandas, plotnine and matplotlib ({e}); install them with "
                          "pip install 'tapegrad[plot]'") from None
    return pd, p9


_RED = "#d62728"
_MOST_LINES = 8  # more lines than this share too few distinguishable colours (see trajectory)
_MOST_PANELS = 16
_CAPTION_WIDTH = 80  # characters a caption line holds on a default (6.4 inch) figure
_LARGEST = float(np.finfo(np.float64).max)


def _wrap(text: str | None) -> str | None:
    """A caption or subtitle broken into lines that fit the figure (matplotlib does not wrap them)."""
    return textwrap.fill(text, _CAPTION_WIDTH, break_on_hyphens=False) if text else None


def _tick_labels(breaks: Sequence[float]) -> list[str]:
    """Short tick labels: plain numbers between 1e-3 and 1e6, else scientific (``2.5e-05`` as ``2.5e-5``,
    1e150 as ``1e150``), each with the fewest digits that still tell it from its neighbours.

    >>> from tapegrad.plot import _tick_labels
    >>> _tick_labels([0.0, 0.25, 0.5]), _tick_labels([-1e150, 0.0, 1e150]), _tick_labels([1e-20, 2e-20])
    (['0', '0.25', '0.5'], ['-1e150', '0', '1e150'], ['1e-20', '2e-20'])
    """
    values = np.asarray(breaks, dtype=float)
    sizes = np.abs(values[np.isfinite(values) & (values != 0)])
    scientific = bool(sizes.size) and (sizes.max() >= 1e6 or sizes.min() < 1e-3)
    ordered = np.unique(values[np.isfinite(values)])
    labels = []
    for v in values:
        if not np.isfinite(v) or v == 0:
            labels.append("0" if v == 0 else str(v))
            continue
        # A label must read back to within a thousandth of the gap to the nearest other break.
        gaps = np.abs(ordered[ordered != v] - v)
        tolerance = 1e-3 * (gaps.min() if gaps.size else abs(v))
        for digits in range(17):
            text = f"{v:.{digits}e}" if scientific else f"{v:.{digits}f}"
            if abs(float(text) - v) <= tolerance:
                break
        if scientific:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        labels.append(text)
    return labels


def _log_breaks(limits: Sequence[float]) -> list[float]:
    """Powers of ten for a log axis: every decade, or every 2, 5, 10, 20, 50, 100... decades when the range
    is wide (plotnine's default puts 1e62 apart, and fails when its padding runs past 1e308)."""
    lo, hi = limits
    if not (0 < lo < hi < math.inf):
        return []
    first, last = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
    if last - first < 3:
        return list(importlib.import_module("mizani.breaks").breaks_log()((lo, hi)))
    step = _decade_step(last - first)
    return [10.0 ** e for e in range(math.ceil(first / step) * step, last + 1, step)]


def _log_minor_breaks(limits: Sequence[float]) -> list[float]:
    """Minor grid lines between _log_breaks: every decade, or every fifth of a wide step."""
    lo, hi = limits
    if not (0 < lo < hi < math.inf):
        return []
    first, last = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
    if last - first < 3:
        return []
    step = _decade_step(last - first)
    minor = step // 5 if step % 5 == 0 else 1
    return [10.0 ** e for e in range(first, last + 1) if e % minor == 0 and e % step != 0]


def _decade_step(decades: int) -> int:
    return next(s for s in (1, 2, 5, 10, 20, 50, 100, 200) if decades // s <= 6)


def _theme(p9: Any) -> Any:
    """The seed's theme_minimal, its caption aligned to the figure's right edge rather than the panel's, so a
    wide legend (long run names) does not push a wrapped caption off the left edge."""
    return p9.theme_minimal() + p9.theme(plot_caption_position="plot")


def _x_scale(p9: Any) -> Any:
    """The step axis: whole steps only (a 3-step run has no step 1.5), short labels."""
    return p9.scale_x_continuous(breaks=_whole_breaks, labels=_tick_labels)


def _whole_breaks(limits: Sequence[float]) -> list[float]:
    return [b for b in _linear_breaks(limits) if b == int(b)]


def _linear_breaks(limits: Sequence[float]) -> list[float]:
    """plotnine's breaks, found on limits scaled near 1 when they are huge: its arithmetic squares the range,
    which overflows from about 1e154 on."""
    extended = importlib.import_module("mizani.breaks").breaks_extended()
    top = max(abs(limits[0]), abs(limits[1]))
    if not (1e100 < top < math.inf):
        return list(extended(limits))
    scale = 10.0 ** math.floor(math.log10(top))
    return [b * scale for b in extended((limits[0] / scale, limits[1] / scale))]


def _y_scale(p9: Any, log: bool = False, expand: Any = (0, 0)) -> Any:
    """The y scale: short labels; no padding of its own when ``_view`` gives the limits (padding a range up
    to 1e307 runs past the largest float)."""
    extra = {} if expand is None else {"expand": expand}
    if log:
        return p9.scale_y_log10(labels=_tick_labels, breaks=_log_breaks, minor_breaks=_log_minor_breaks, **extra)
    return p9.scale_y_continuous(breaks=_linear_breaks, labels=_tick_labels, **extra)


def _view(values: Any, log: bool = False) -> tuple[float, float] | None:
    """Axis limits around the finite values (positive ones on a log scale) with 5% padding each side,
    kept within the floats: a diverged run's last values must neither stretch nor overflow the view."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & ((v > 0) if log else True)]
    if not v.size:
        return None
    lo, hi = float(v.min()), float(v.max())
    if log:
        a, b = math.log10(lo), math.log10(hi)
        pad = 0.05 * (b - a) if b > a else 0.5
        return min(lo, 10.0 ** max(a - pad, -323.0)), max(hi, 10.0 ** min(b + pad, 308.0))
    pad = 0.05 * hi - 0.05 * lo if hi > lo else max(0.05 * abs(lo), 0.5 if lo == 0 else 0.0)
    return max(lo - pad, -_LARGEST), min(hi + pad, _LARGEST)


def _left_finite(columns: list[Any], names: list[str]) -> tuple[int, str] | None:
    """The first step where a column is inf or NaN, and what became so (the first such column)."""
    bad = np.stack([~np.isfinite(c) for c in columns])
    rows = np.flatnonzero(bad.any(axis=0))
    if not rows.size:
        return None
    k = int(rows[0])
    which = int(np.flatnonzero(bad[:, k])[0])
    value = columns[which][k]
    return k, f"{names[which]} became {'NaN' if np.isnan(value) else '-inf' if value < 0 else 'inf'}"


def _as_norms(history: History) -> tuple[dict[str, Any], str | None]:
    """Each array parameter's L2 norm (recorded, or computed from its elements when all were kept) and each
    scalar parameter as itself, and the caption saying so (None when there is no array)."""
    values: dict[str, Any] = {}
    arrays = []
    for column in history.param_columns:
        name = column[5:-1] if column.startswith("norm(") else column.split("[")[0] if column.endswith("]") else None
        if name is None:
            values[column] = history[column]
        elif f"norm({name})" not in values:
            elements, norm = history._array_columns(name)
            values[f"norm({name})"] = history[norm] if norm else np.hypot.reduce(
                np.stack([history[c] for c in elements]), axis=0)
            arrays.append(name)
    if not arrays:
        return values, None
    shapes = history.meta.get("shapes", {})
    sized = [f"{a} ({math.prod(shapes[a])} elements)" if a in shapes else a for a in arrays]
    their = "its L2 norm" if len(arrays) == 1 else "their L2 norms"
    note = (f"{' and '.join(sized) if len(sized) < 3 else ', '.join(sized)} drawn as {their}, "
            f"{', '.join(f'norm({a})' for a in arrays)}; trajectory(history, \"{arrays[0]}\") draws "
            f"{arrays[0]}'s elements")
    return values, note


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
    is explained. A dashed line marks where a loss left the finite range. The x axis runs to the
    last step regardless."""
    frames, notes, exits = [], [], []
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
            kinds = " or ".join(k for k, m in (("inf", np.isposinf(loss_)), ("-inf", np.isneginf(loss_)),
                                               ("NaN", np.isnan(loss_))) if m.any())
            notes.append(f"{who} {kinds} {_where(np.flatnonzero(bad), len(h))} (dashed line)")
            exits.append({**({color: label} if color else {}), "step": int(np.flatnonzero(bad)[0])})
        if zero.any():
            notes.append(f"{who} 0 {_where(np.flatnonzero(zero), len(h))} (a log scale has no 0)")
    data = pd.concat(frames, ignore_index=True)
    if color:
        data[color] = pd.Categorical(data[color], categories=list(histories))
    last = max(len(h) for h in histories.values()) - 1
    by = {"color": color} if color else {}
    caption = "not drawn: " + "; ".join(notes) if notes else None
    marks = []
    if exits:
        lines = pd.DataFrame(exits)
        if color:
            lines[color] = pd.Categorical(lines[color], categories=list(histories))
        marks = [p9.geom_vline(p9.aes(xintercept="step", **by), data=lines, linetype="dashed", show_legend=False,
                               **({} if color else {"color": _RED}))]
    return (p9.ggplot(data, p9.aes(x="step", y="loss", **by)) + p9.geom_line() + marks
            + _x_scale(p9) + _y_scale(p9, log=log)
            + p9.coord_cartesian(xlim=(0, last), ylim=_view(data["loss"], log))
            + p9.labs(title="loss over epochs", x="Epoch", y="loss (log scale)" if log else "loss",
                      caption=_wrap(caption), **by)
            + _theme(p9))


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
            + p9.geom_point(data=lambda d: d[d["kind"] == "path"], color=_RED, alpha=0.5)
            + p9.geom_point(p9.aes(shape="label"), data=lambda d: d[d["kind"] == "marker"], size=3)
            + p9.scale_x_continuous(labels=_tick_labels) + p9.scale_y_continuous(labels=_tick_labels)
            + p9.coord_cartesian(xlim=span, ylim=ylim)
            + p9.labs(title=f"loss along {name} and the points visited",
                      subtitle=_wrap(held and f"slice along {held}"), x=name, y="loss", shape="")
            + _theme(p9))


__all__ = ["compare", "landscape", "loss", "trajectory"]
