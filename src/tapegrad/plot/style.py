"""What every plot shares: the optional libraries, the run it draws, short tick labels, axes that span
the finite values only, wrapped captions and the theme."""
from __future__ import annotations

import importlib
import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from tapegrad.descent import History

__all__ = ["RED", "history_of", "libraries", "theme", "tick_labels", "view", "wrap_text", "x_scale", "y_scale"]


def libraries() -> tuple[Any, Any]:
    try:
        pd = importlib.import_module("pandas")
        p9 = importlib.import_module("plotnine")
    except ImportError as e:
        raise ImportError(f"plots need pandas, plotnine and matplotlib ({e}); install them with "
                          "pip install 'tapegrad[plot]'") from None
    return pd, p9


RED = "#d62728"
_MOST_LINES = 8  # more lines than this share too few distinguishable colours (see trajectory)
_MOST_PANELS = 16
_CAPTION_WIDTH = 80  # characters a caption line holds on a default (6.4 inch) figure
_LARGEST = float(np.finfo(np.float64).max)


def wrap_text(text: str | None) -> str | None:
    """A caption or subtitle broken into lines that fit the figure (matplotlib does not wrap them)."""
    return textwrap.fill(text, _CAPTION_WIDTH, break_on_hyphens=False) if text else None


def tick_labels(breaks: Sequence[float]) -> list[str]:
    """Short tick labels: plain numbers between 1e-3 and 1e6, else scientific (``2.5e-05`` as ``2.5e-5``,
    1e150 as ``1e150``), each with the fewest digits that still tell it from its neighbours.

    >>> from tapegrad.plot.style import tick_labels
    >>> tick_labels([0.0, 0.25, 0.5]), tick_labels([-1e150, 0.0, 1e150]), tick_labels([1e-20, 2e-20])
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


def theme(p9: Any) -> Any:
    """The seed's theme_minimal, its caption aligned to the figure's right edge rather than the panel's, so a
    wide legend (long run names) does not push a wrapped caption off the left edge."""
    return p9.theme_minimal() + p9.theme(plot_caption_position="plot")


def x_scale(p9: Any) -> Any:
    """The step axis: whole steps only (a 3-step run has no step 1.5), short labels."""
    return p9.scale_x_continuous(breaks=_whole_breaks, labels=tick_labels)


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


def y_scale(p9: Any, log: bool = False, expand: Any = (0, 0)) -> Any:
    """The y scale: short labels; no padding of its own when ``view`` gives the limits (padding a range up
    to 1e307 runs past the largest float)."""
    extra = {} if expand is None else {"expand": expand}
    if log:
        return p9.scale_y_log10(labels=tick_labels, breaks=_log_breaks, minor_breaks=_log_minor_breaks, **extra)
    return p9.scale_y_continuous(breaks=_linear_breaks, labels=tick_labels, **extra)


def view(values: Any, log: bool = False) -> tuple[float, float] | None:
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


def history_of(run: Any) -> History:
    """The History of ``run`` (a History or a minimize result), which must have rows to draw."""
    h = getattr(run, "history", run)
    if not isinstance(h, History):
        raise TypeError(f"expected a History or a minimize result (what tg.minimize returns), "
                        f"not {type(run).__name__}")
    if not len(h):
        if not h.recorded:
            raise ValueError("this run was made with record=False, so there is no history to plot; run minimize "
                             "with record=True (the default)")
        raise ValueError("this history has no rows to plot")
    return h
