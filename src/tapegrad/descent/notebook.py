"""How a result, a History and a race show themselves in a notebook (``_repr_html_``): a summary table, the
status and why the run stopped, and a small loss curve drawn as inline SVG (no plotting library needed).

>>> import tapegrad as tg
>>> html = tg.minimize(lambda w: w ** 2, 1.0, steps=20)._repr_html_()
>>> "<svg" in html and "max_steps" in html
True
"""
from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .history import History
    from .loop import MinimizeResult
    from .race import RaceResult

__all__ = ["history_html", "loss_svg", "race_html", "result_html"]

# The race plot's colours (tapegrad.plot.races), so that a runner has one colour everywhere.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_STATUS = {"converged": "#2ca02c", "max_steps": "#1f77b4", "diverged": "#d62728", "interrupted": "#7f7f7f"}
_MOST_POINTS = 300  # points per curve: enough for the eye at this size, and the HTML stays a few kB
_CELL = 'style="text-align:left;padding:1px 8px"'


def loss_svg(curves: list[Any], width: int = 260, height: int = 80, colours: tuple[str, ...] = COLOURS) -> str:
    """Loss curves (arrays of losses by step) as one small SVG, a polyline each: on a log scale when no finite loss
    is negative (rows with loss 0 left out), linear otherwise; inf and NaN rows are left out, and on a log scale
    the view ends 3 decades above the highest start (a curve that blew up runs along the top). An empty string
    when nothing is finite.

    >>> from tapegrad.descent.notebook import loss_svg
    >>> svg = loss_svg([[4.0, 2.0, 1.0]])
    >>> svg.startswith("<svg") and svg.count("<polyline") == 1
    True
    """
    arrays = [np.asarray(c, dtype=np.float64) for c in curves]
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.zeros(0)
    if not finite.size:
        return ""
    # A log scale when it can be (a loss of exactly 0, a minimum reached, is then left out, as in plot.loss).
    log = bool((finite >= 0).all()) and bool((finite > 0).any())
    with np.errstate(divide="ignore"):
        scaled = [np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan) if log else a for a in arrays]
    values = np.concatenate([s[np.isfinite(s)] for s in scaled])
    lo, hi = float(values.min()), float(values.max())
    if log:  # a run that blew up to 1e200 would flatten the others: the view ends 3 decades above the starts
        starts = [s[np.isfinite(s)][0] for s in scaled if np.isfinite(s).any()]
        hi = min(hi, max(starts) + 3.0)
    span = hi - lo if hi > lo else 1.0
    longest = max(len(a) for a in arrays)
    pad = 3
    lines = []
    for i, s in enumerate(scaled):
        keep = np.flatnonzero(np.isfinite(s))
        if keep.size > _MOST_POINTS:
            keep = keep[np.unique(np.round(np.linspace(0, keep.size - 1, _MOST_POINTS)).astype(int))]
        if not keep.size:
            continue
        xs = pad + (width - 2 * pad) * keep / max(longest - 1, 1)
        ys = pad + (height - 2 * pad) * (hi - np.minimum(s[keep], hi)) / span
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
        lines.append(f'<polyline fill="none" stroke="{colours[i % len(colours)]}" stroke-width="1.5" '
                     f'points="{points}"/>')
    scale = "log scale" if log else "linear scale"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"><title>loss over steps ({scale})</title>'
            f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ddd"/>{"".join(lines)}</svg>')


def result_html(result: MinimizeResult) -> str:
    """``MinimizeResult._repr_html_``: status and message, the numbers, and the loss curve."""
    rows = [("fun", _number(result.fun)), ("x", _short(result.x)), ("steps", str(result.steps)),
            ("nfev", str(result.nfev)), ("optimizer", type(result.optimizer).__name__),
            ("compiled", str(result.compiled))]
    curve = loss_svg([result.history["loss"]]) if len(result.history) > 1 else ""
    return _card("MinimizeResult", result.status, result.message, rows, curve)


def history_html(history: History) -> str:
    """``History._repr_html_``: its summary and the loss curve."""
    curve = loss_svg([history["loss"]]) if len(history) > 1 else ""
    status = str(history.meta.get("status", ""))
    return (f'<div><b>History</b> {_badge(status) if status else ""}<pre style="margin:4px 0">'
            f'{html.escape(str(history.summary()))}</pre>{curve}</div>')


def race_html(race: RaceResult) -> str:
    """``RaceResult._repr_html_``: the leaderboard, each runner in its colour, and the loss curves together."""
    colour = {r.label: COLOURS[i % len(COLOURS)] for i, r in enumerate(race.runners)}
    head = ("#", "optimizer", "lr", "steps to tol", "time to tol", "final loss", "status", "nfev")
    cells = "".join(f"<th {_CELL}>{h}</th>" for h in head)
    body = []
    for row in race.leaderboard:
        swatch = f'<span style="color:{colour[row["optimizer"]]}">&#9632;</span> '
        status = _badge(row["status"]) + (f" after step {row['steps']}" if row["status"] == "diverged" else "")
        values = (str(row["rank"]), swatch + html.escape(row["optimizer"]), _number(row["learning_rate"]),
                  "-" if row["steps_to_tol"] is None else str(row["steps_to_tol"]),
                  "-" if row["time_to_tol"] is None else f"{row['time_to_tol'] * 1000:.1f} ms",
                  _number(row["final_loss"]), status, str(row["nfev"]))
        body.append("<tr>" + "".join(f"<td {_CELL}>{v}</td>" for v in values) + "</tr>")
    shift = race.f_min if race.f_min is not None and math.isfinite(race.f_min) else 0.0
    curve = loss_svg([r.result.history["loss"] - shift for r in race.runners], width=320, height=110,
                     colours=tuple(colour[r.label] for r in race.runners))
    what = "loss - f*" if shift else "loss"
    return (f"<div><b>Race</b>: {html.escape(race.caption())}"
            f'<table style="border-collapse:collapse;margin:4px 0"><tr>{cells}</tr>{"".join(body)}</table>'
            f"{curve}<div style=\"font-size:smaller;color:#666\">{what} over steps</div></div>")


def _card(title: str, status: str, message: str, rows: list[tuple[str, str]], curve: str) -> str:
    table = "".join(f"<tr><th {_CELL}>{html.escape(k)}</th><td {_CELL}>{html.escape(v)}</td></tr>" for k, v in rows)
    return (f"<div><b>{title}</b> {_badge(status)}<div style=\"margin:2px 0\">{html.escape(message)}</div>"
            f'<div style="display:flex;gap:16px;align-items:flex-start"><table style="border-collapse:collapse">'
            f"{table}</table>{curve}</div></div>")


def _badge(status: str) -> str:
    colour = _STATUS.get(status, "#7f7f7f")
    return (f'<span style="background:{colour};color:white;border-radius:3px;padding:0 5px">'
            f"{html.escape(status)}</span>")


def _number(v: Any) -> str:
    return "-" if v is None else f"{float(v):.6g}"


def _short(x: Any, limit: int = 80) -> str:
    text = " ".join(str(x).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
