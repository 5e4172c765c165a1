"""Plots over the steps: the parameters (``trajectory``), the loss (``loss``) and several runs' losses
(``compare``)."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad.descent import History

from .style import RED, history_of, libraries, theme, view, wrap_text, x_scale, y_scale

if TYPE_CHECKING:
    from tapegrad.descent import MinimizeResult

__all__ = ["compare", "loss", "trajectory"]

_MOST_LINES = 8  # more lines than this share too few distinguishable colours (see trajectory)
_MOST_PANELS = 16


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
    pd, p9 = libraries()
    history = history_of(history)
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
                           color=RED)] if left else []
    caption = wrap_text("; ".join(notes))
    if len(names) == 1:
        (name,) = names
        keep = np.isfinite(values[name])
        data = pd.DataFrame({"step": steps[keep], name: values[name][keep]})
        return (p9.ggplot(data, p9.aes(x="step", y=name)) + p9.geom_line() + x_scale(p9) + y_scale(p9)
                + p9.coord_cartesian(xlim=(0, len(history) - 1), ylim=view(data[name]))
                + p9.labs(title=f"{name} over epochs", x="Epoch", y=name, caption=caption) + theme(p9)
                + marks)
    frames = [pd.DataFrame({"step": steps, "parameter": n, "value": values[n]}) for n in names]
    data = pd.concat(frames, ignore_index=True)
    data = data[np.isfinite(data["value"])].reset_index(drop=True)
    data["parameter"] = pd.Categorical(data["parameter"], categories=names)
    title = f"{param} over epochs" if isinstance(param, str) else "parameters over epochs"
    common = [p9.labs(title=title, x="Epoch", y="value", caption=caption), theme(p9), x_scale(p9)]
    if len(names) > _MOST_LINES:
        return (p9.ggplot(data, p9.aes(x="step", y="value")) + p9.geom_line()
                + p9.facet_wrap("parameter", scales="free_y") + y_scale(p9, expand=None)
                + p9.coord_cartesian(xlim=(0, len(history) - 1)) + common + marks)
    return (p9.ggplot(data, p9.aes(x="step", y="value", color="parameter")) + p9.geom_line() + y_scale(p9)
            + p9.coord_cartesian(xlim=(0, len(history) - 1), ylim=view(data["value"])) + common + marks)


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
    pd, p9 = libraries()
    return _loss_plot(pd, p9, {"": history_of(history)})


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
    pd, p9 = libraries()
    example = "e.g. {'sgd': r1, 'adam': r2} with r1, r2 what tg.minimize returned (or their .history)"
    if not isinstance(runs, Mapping):
        raise TypeError(f"compare() takes a dict of label -> History (or minimize result), {example}; "
                        f"got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"compare() needs at least one run; got an empty dict. Give label -> run, {example}")
    histories = {}
    for label, run in runs.items():
        try:
            histories[str(label)] = history_of(run)
        except (TypeError, ValueError) as e:
            raise type(e)(f"run {label!r}: {e}") from None
    return _loss_plot(pd, p9, histories, color="run")


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
            elements, norm = history.array_columns(name)
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
                               **({} if color else {"color": RED}))]
    return (p9.ggplot(data, p9.aes(x="step", y="loss", **by)) + p9.geom_line() + marks
            + x_scale(p9) + y_scale(p9, log=log)
            + p9.coord_cartesian(xlim=(0, last), ylim=view(data["loss"], log))
            + p9.labs(title="loss over epochs", x="Epoch", y="loss (log scale)" if log else "loss",
                      caption=wrap_text(caption), **by)
            + theme(p9))


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
        columns = [n] if n in available else history.array_columns(n)[0] if isinstance(n, str) else []
        if not columns:
            raise ValueError(f"no parameter column {n!r}; this history has {available} (an array "
                             f"parameter's name, e.g. 'w', stands for all its element columns)")
        names += [c for c in columns if c not in names]
    return names
