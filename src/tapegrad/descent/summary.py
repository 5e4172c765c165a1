"""History's summary for people: a few lines on how the run went (see ``History.summary``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .history import History

__all__ = ["Summary", "summarize", "why_empty"]


class Summary(str):
    r"""A string that shows as itself at the prompt (what ``History.summary()`` returns).

    >>> from tapegrad.descent import Summary
    >>> Summary("two\nlines")
    two
    lines
    """

    def __repr__(self) -> str:
        return str(self)


def summarize(history: History) -> Summary:
    """What ``History.summary`` returns."""
    n = len(history)
    if n == 0:
        return Summary(f"History: empty ({why_empty(history)})")
    head = f"History: {n} rows (steps 0 to {n - 1})" if n > 1 else "History: 1 row (step 0)"
    if history.meta.get("status"):
        head += f", {history.meta['status']}"
    rows: list[tuple[str, str]] = []
    if history.meta.get("message"):
        # The message's first clause says why the run stopped; the rest is advice, too long for here.
        rows.append(("stopped", str(history.meta["message"]).split("; ")[0]))
    loss = history["loss"]
    finite = np.isfinite(loss)
    best = f" (best {_g(np.min(loss[finite]))} at step {int(np.argmin(np.where(finite, loss, np.inf)))})"
    rows.append(("loss", f"{_g(loss[0])} -> {_g(loss[-1])}" + (best if finite.any() else "")))
    names = ["grad_norm", *history.param_columns]
    shown, hidden = names[:6], names[6:]
    rows += [(c, f"{_g(history[c][0])} -> {_g(history[c][-1])}") for c in shown]
    if hidden:
        rows.append(("", f"... and {len(hidden)} more parameter columns: {_spans(hidden)}"))
    lr = history["lr"][:-1] if n > 1 else history["lr"]  # the last row's lr is NaN: no step was taken from it
    lr = lr[np.isfinite(lr)]
    if lr.size:
        rows.append(("lr", _g(lr[0]) if np.all(lr == lr[0]) else
                     f"{_g(lr.min())} to {_g(lr.max())} (varies; first {_g(lr[0])}, last {_g(lr[-1])})"))
    width = max(10, *(len(name) for name, _ in rows))
    lines = [head, *(f"  {name:<{width}} {text}" if name else f"  {text}" for name, text in rows)]
    return Summary("\n".join(lines))


def why_empty(history: History) -> str:
    """Why a history has no rows, for messages (summary, plots)."""
    if not history.recorded:
        return "this run was made with record=False, so there is no history"
    return "this history has no rows"


def _spans(columns: list[str]) -> str:
    """Column names with each array's consecutive elements shortened: ``w[5]..w[9], norm(w), b``."""
    parts: list[list[str]] = []
    for c in columns:
        name = c.split("[")[0] if c.endswith("]") else None
        if name and parts and parts[-1][0].startswith(f"{name}[") and parts[-1][0].endswith("]"):
            parts[-1][1:] = [c]
        else:
            parts.append([c])
    return ", ".join("..".join(p) for p in parts)


def _g(x: float) -> str:
    return f"{x:.6g}"

