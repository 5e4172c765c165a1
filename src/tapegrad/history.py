"""History: one row per step of a descent, kept in preallocated NumPy buffers.

Columns: ``step``, ``loss``, each parameter (a scalar parameter is one column named
after it; an array parameter ``w`` gives ``w[0]``, ``w[1]``, ... up to
``History.max_elements`` elements, and ``norm(w)`` when it has more), ``grad_norm``,
``lr`` (the step size taken from that row's point; NaN for the last row) and
``elapsed`` (seconds since the start). Row 0 is the starting point and the last row
is the point the run ended at.

>>> import tapegrad as tg
>>> h = tg.minimize(lambda w: w ** 2, tg.Variable(1.0), optimizer="sgd", learning_rate=0.25, steps=3).history
>>> h.columns
['step', 'loss', 'w', 'grad_norm', 'lr', 'elapsed']
>>> h["w"]
array([1.   , 0.5  , 0.25 , 0.125])
"""
from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

_FIXED = ("loss", "grad_norm", "lr", "elapsed")


class Summary(str):
    """A string that shows as itself at the prompt (what ``History.summary()`` returns)."""

    def __repr__(self) -> str:
        return str(self)


class History:
    """The recorded steps of a descent (``tg.minimize(...).history``), exportable and plottable.

    Built by ``minimize``; ``History(columns)`` rebuilds one from column data, e.g. what
    ``to_json`` wrote. ``meta`` holds the run's status, message, optimizer and its settings;
    ``fn`` the function minimized (for landscape plots).

    >>> import tapegrad as tg
    >>> h = tg.History({"step": [0, 1], "loss": [4.0, 1.0], "x": [2.0, 1.0], "grad_norm": [4.0, 2.0],
    ...                 "lr": [0.25, float("nan")], "elapsed": [0.0, 0.001]})
    >>> len(h), h.param_columns
    (2, ['x'])
    """

    max_elements: int = 10

    def __init__(self, columns: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        names = [c for c in columns if c != "step"]
        missing = [c for c in _FIXED if c not in names]
        if missing:
            raise ValueError(f"History needs the columns {list(_FIXED)}; missing {missing}")
        arrays = {c: np.asarray([math.nan if v is None else v for v in columns[c]], dtype=np.float64)
                  for c in names}
        n = len(arrays["loss"])
        if any(len(a) != n for a in arrays.values()):
            raise ValueError("History columns must all have the same length")
        params = [c for c in names if c not in _FIXED]
        self._setup(params, n)
        self._loss[:], self._gnorm[:], self._lr[:], self._elapsed[:] = (arrays[c] for c in _FIXED)
        for j, c in enumerate(params):
            self._params[:, j] = arrays[c]
        self._n = n
        self.meta: dict[str, Any] = dict(meta or {})

    def _setup(self, params: list[str], capacity: int) -> None:
        self._param_names = params
        self._loss, self._gnorm, self._elapsed = (np.zeros(capacity) for _ in range(3))
        self._lr = np.full(capacity, math.nan)
        self._params = np.zeros((capacity, len(params)))
        self._n = 0
        self.meta = {}
        self.fn: Callable[..., Any] | None = None
        self._layout: list[tuple[int, int, int, bool]] = []
        self._scalar_cols: list[int] | None = None
        self._sources: dict[str, tuple[int, int]] = {}
        self._structure: Any = None
        self._final: list | None = None

    @classmethod
    def _for_run(cls, names: list[str], values: list, capacity: int) -> History:
        """An empty history for a run over parameters ``names`` whose current values are ``values``."""
        params, layout, sources = [], [], {}
        for leaf, (name, v) in enumerate(zip(names, values)):
            size = int(np.size(v))
            col = len(params)
            if np.ndim(v) == 0:
                params.append(name)
                layout.append((col, 1, -1, True))
                sources[name] = (leaf, 0)
                continue
            take = min(size, cls.max_elements)
            cols = [f"{name}[{i}]" for i in range(take)]
            norm = -1
            if size > take:
                cols.append(f"norm({name})")
                norm = col + take
            params.extend(cols)
            layout.append((col, take, norm, False))
            sources.update((c, (leaf, i)) for i, c in enumerate(cols[:take]))
        h = cls.__new__(cls)
        h._setup(params, max(capacity, 1))
        h._layout = layout
        h._scalar_cols = [c for c, _, _, scalar in layout] if all(s for *_, s in layout) else None
        h._sources = sources
        return h

    # -- recording: minimize writes rows straight into these buffers (see minimize's loop) -----------
    def _buffers(self) -> tuple:
        return self._loss, self._gnorm, self._lr, self._elapsed, self._params

    def _write_params(self, k: int, values: list) -> None:
        """Row k of the parameter columns, for any mix of scalar and array parameters."""
        row = self._params[k]
        for (c, take, norm, scalar), v in zip(self._layout, values):
            if scalar:
                row[c] = v
                continue
            flat = v.reshape(-1)
            row[c:c + take] = flat[:take]
            if norm >= 0:
                if flat.dtype != np.float64:
                    flat = flat.astype(np.float64)  # float32 squares overflow early
                row[norm] = math.sqrt(float(flat @ flat))

    def _grow(self) -> tuple:
        """Double the capacity; returns the new buffers."""
        cap = len(self._loss)
        self._loss, self._gnorm, self._elapsed = (np.concatenate([b, np.zeros(cap)])
                                                  for b in (self._loss, self._gnorm, self._elapsed))
        self._lr = np.concatenate([self._lr, np.full(cap, math.nan)])
        self._params = np.concatenate([self._params, np.zeros_like(self._params)])
        return self._buffers()

    # -- reading -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def columns(self) -> list[str]:
        """Column names: step, loss, the parameters, grad_norm, lr, elapsed."""
        return ["step", "loss", *self._param_names, "grad_norm", "lr", "elapsed"]

    @property
    def param_columns(self) -> list[str]:
        """The parameter columns, in order."""
        return list(self._param_names)

    def __getitem__(self, name: str) -> Any:
        """One column as a read-only NumPy array (``step`` as integers).

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history["loss"]
        array([1.    , 0.25  , 0.0625])
        """
        n = self._n
        if name == "step":
            return np.arange(n)
        fixed = {"loss": self._loss, "grad_norm": self._gnorm, "lr": self._lr, "elapsed": self._elapsed}
        if name in fixed:
            col = fixed[name][:n]
        elif name in self._param_names:
            col = self._params[:n, self._param_names.index(name)]
        else:
            raise KeyError(f"no column {name!r} in this history; its columns are {self.columns}")
        col.flags.writeable = False
        return col

    @property
    def step(self) -> Any:
        return self["step"]

    @property
    def loss(self) -> Any:
        return self["loss"]

    @property
    def grad_norm(self) -> Any:
        return self["grad_norm"]

    @property
    def lr(self) -> Any:
        return self["lr"]

    @property
    def elapsed(self) -> Any:
        return self["elapsed"]

    def __repr__(self) -> str:
        return f"<History: {self._n} rows, columns {', '.join(self.columns)}>"

    # -- export ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, list]:
        """Column name -> list of values (step as ints, floats elsewhere).

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=1).history
        >>> h.to_dict()["w"]
        [1.0, 0.5]
        """
        return {c: self[c].tolist() for c in self.columns}

    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per step (needs pandas).

        >>> import tapegrad as tg
        >>> df = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history.to_pandas()
        >>> df[["step", "w"]].to_dict("list")
        {'step': [0, 1, 2], 'w': [1.0, 0.5, 0.25]}
        """
        pd = _import("pandas", "to_pandas")
        return pd.DataFrame(self.to_dict())

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the history as CSV: a header row, then one row per step (no pandas needed).

        >>> import os, tempfile
        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, steps=2).history
        >>> path = os.path.join(tempfile.mkdtemp(), "h.csv"); h.to_csv(path)
        >>> open(path).readline().strip()
        'step,loss,w,grad_norm,lr,elapsed'
        """
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            cols = [self[c].tolist() for c in self.columns]
            w.writerows(zip(*cols))

    def to_json(self, path: str | os.PathLike | None = None) -> str | None:
        """The history as JSON ``{"meta": {...}, "columns": {name: [values]}}``; written to ``path`` if given.

        JSON has no NaN or infinity: they are written as null (and read back as NaN).

        >>> import json
        >>> import tapegrad as tg
        >>> text = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=1).history.to_json()
        >>> json.loads(text)["columns"]["lr"]
        [0.25, None]
        """
        cols = {c: [v if isinstance(v, int) or math.isfinite(v) else None for v in vals]
                for c, vals in self.to_dict().items()}
        text = json.dumps({"meta": _jsonable(self.meta), "columns": cols})
        if path is None:
            return text
        with open(path, "w") as f:
            f.write(text)
        return None

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> History:
        """Read back what ``to_json`` wrote: a path to a file, or the JSON text itself.

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, steps=5).history
        >>> back = tg.History.from_json(h.to_json())
        >>> bool((back["w"] == h["w"]).all()), back.meta["status"]
        (True, 'max_steps')
        """
        text = str(source)
        if not text.lstrip().startswith("{"):
            with open(source) as f:
                text = f.read()
        obj = json.loads(text)
        if "columns" not in obj:
            raise ValueError("this JSON is not a tapegrad History (no 'columns' key); write one with to_json()")
        return cls(obj["columns"], obj.get("meta"))

    # -- reading for people ------------------------------------------------------------------------
    def summary(self) -> Summary:
        """A few lines on the run: rows, loss from start to end and its best, gradient norm, parameters.

        >>> import tapegrad as tg
        >>> print(tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=3).history.summary())
        History: 4 rows (steps 0 to 3), max_steps
          loss       1 -> 0.015625 (best 0.015625 at step 3)
          grad_norm  2 -> 0.25
          w          1 -> 0.125
          lr         0.25
        """
        n = self._n
        if n == 0:
            return Summary("History: empty (nothing recorded)")
        head = f"History: {n} rows (steps 0 to {n - 1})"
        if self.meta.get("status"):
            head += f", {self.meta['status']}"
        loss = self["loss"]
        finite = np.isfinite(loss)
        lines = [head]
        if finite.any():
            best = int(np.nanargmin(np.where(finite, loss, np.nan)))
            lines.append(f"  {'loss':<10} {_g(loss[0])} -> {_g(loss[-1])} (best {_g(loss[best])} at step {best})")
        else:
            lines.append(f"  {'loss':<10} {_g(loss[0])} -> {_g(loss[-1])}")
        names = ["grad_norm", *self.param_columns]
        shown = names[:6]
        for c in shown:
            col = self[c]
            lines.append(f"  {c:<10} {_g(col[0])} -> {_g(col[-1])}")
        if len(names) > len(shown):
            lines.append(f"  ... and {len(names) - len(shown)} more parameter columns")
        lr = self["lr"][:-1] if n > 1 else self["lr"]
        lr = lr[np.isfinite(lr)]
        if lr.size:
            lines.append(f"  {'lr':<10} " + (_g(lr[0]) if np.all(lr == lr[0]) else f"{_g(lr[0])} .. {_g(lr[-1])}"))
        return Summary("\n".join(lines))

    def plot(self, kind: str = "trajectory", **kwargs: Any) -> Any:
        """A plotnine figure: ``"trajectory"`` (parameters over steps, the default), ``"loss"`` or ``"landscape"``.

        Keyword arguments go to ``tapegrad.plot.trajectory``, ``loss`` or ``landscape``.

        >>> import tapegrad as tg
        >>> p = tg.minimize(lambda w0: w0 ** 2, 1.0, steps=5).history.plot()
        >>> p.labels.title
        'w0 over epochs'
        """
        from tapegrad import plot
        kinds = {"trajectory": plot.trajectory, "loss": plot.loss}
        if kind == "landscape":
            fn = kwargs.pop("fn", None) or self.fn
            if fn is None:
                raise ValueError("a landscape plot needs the function: history.plot('landscape', fn=f)")
            return plot.landscape(fn, self, **kwargs)
        if kind not in kinds:
            raise ValueError(f"unknown plot kind {kind!r}; use 'trajectory', 'loss' or 'landscape'")
        return kinds[kind](self, **kwargs)


def _g(x: float) -> str:
    return f"{x:.6g}"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    return repr(obj)


def _import(module: str, what: str) -> Any:
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{what}() needs {module}: pip install 'tapegrad[plot]' (or pip install {module})") from None


__all__ = ["History", "Summary"]
