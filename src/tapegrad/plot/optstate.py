"""The optimizer's state over the steps (a run made with ``record="state"``): one panel per column."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tapegrad.descent import History

from .style import history_of, libraries, theme, x_scale

if TYPE_CHECKING:
    from tapegrad.descent import MinimizeResult

__all__ = ["state"]


def state(history: History | MinimizeResult, columns: str | Sequence[str] | None = None) -> Any:
    """The optimizer's state over steps: ``step_norm``, Adam's moment norms and ``alpha``, ``lr``, ...

    ``history``: a ``History`` or a minimize result of a run made with ``minimize(...,
    record="state")`` (the columns are described in ``tapegrad.descent.state``); a history read back
    with ``History.from_json`` draws too. ``columns``: which to draw (default: the learning rate when
    it varies, then every state column). Each column gets a panel of its own with its own y scale,
    logarithmic when its values are all positive and span more than two decades. Each row describes
    the step taken from that row's point, so the last row (no step) is not drawn.

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, optimizer="adam", learning_rate=0.1, steps=20, record="state")
    >>> p = tg.plot.state(r)
    >>> list(p.data["column"].cat.categories)
    ['step_norm', 'momentum_norm', 'velocity_norm', 'alpha']
    """
    pd, p9 = libraries()
    history = history_of(history)
    available = history.state_columns
    lr = history["lr"][:-1]
    varies = lr.size > 1 and np.isfinite(lr).any() and np.nanmax(lr) > np.nanmin(lr)
    if columns is None:
        names = (["lr"] if varies else []) + available
        if not available:
            raise ValueError("this history has no optimizer state: run minimize(..., record='state') to record it "
                             "(step_norm, the moments' norms, ...)")
    else:
        names = [columns] if isinstance(columns, str) else list(columns)
        unknown = [n for n in names if n not in available and n != "lr"]
        if unknown:
            raise ValueError(f"no state column {unknown[0]!r} in this history; its state columns are {available} "
                             "(and 'lr')")
    steps = history["step"][:-1]
    frames = []
    for n in names:
        v = history[n][:-1]
        keep = np.isfinite(v)
        frames.append(pd.DataFrame({"step": steps[keep], "column": n, "value": v[keep]}))
    data = pd.concat(frames, ignore_index=True)
    data["column"] = pd.Categorical(data["column"], categories=names)
    values = data["value"].to_numpy()
    log = bool(values.size) and bool((values > 0).all()) and values.max() / values.min() > 100
    return (p9.ggplot(data, p9.aes(x="step", y="value")) + p9.geom_line()
            + p9.facet_wrap("column", scales="free_y", ncol=1 if len(names) <= 3 else 2)
            + (p9.scale_y_log10() if log else p9.scale_y_continuous())
            + x_scale(p9)
            + p9.labs(title=f"the optimizer's state ({history.meta.get('optimizer', 'optimizer')})", x="Epoch",
                      y="value" + (" (log scale)" if log else ""))
            + theme(p9))
