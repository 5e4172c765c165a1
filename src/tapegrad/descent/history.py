"""History: one row per step of a descent, as ``tg.minimize`` recorded it.

Columns: ``step``, ``loss``, each parameter (a scalar parameter is one column named
after it; an array parameter ``w`` gives ``w[0]``, ``w[1]``, ... numbered by flat index
in C order, as in ``w.reshape(-1)``, so a (2, 3) ``w`` has ``w[0]`` .. ``w[5]`` and ``w[4]``
is ``w[1, 1]``; up to ``History.max_elements`` elements, and ``norm(w)`` when it has more;
``history.param("w")`` gives them back in ``w``'s shape), ``grad_norm``,
``lr`` (the step size taken from that row's point; NaN for the last row) and
``elapsed`` (seconds since the start), and after ``lr`` the optimizer's state columns when the run
was made with ``record="state"`` (``state_columns``; see ``tapegrad.descent.state``). Row 0 is the
starting point and the last row is the point the run ended at.

Every column is host NumPy, also for parameters on a device (CuPy, ...): per step ``minimize``
copies over only the loss, the gradient norm and a device parameter's columns (its first
``max_elements`` elements and its norm, taken on the device), never the whole parameter. With
``record="full"`` a device parameter of up to ``History.device_elements`` elements (65,536) is
copied whole each step; a larger one every ``ceil(size / device_elements)`` steps and at the last
row, with NaN in its columns in the rows between, so a step copies about ``device_elements``
numbers on average. Besides its columns a History knows
the run's ``final`` point and x0's ``structure`` (what a landscape plot needs), and ``meta``; its files (CSV, JSON) are
written and read by ``tapegrad.descent.codec``, its rows by ``tapegrad.descent.recorder``.

>>> import tapegrad as tg
>>> h = tg.minimize(lambda w: w ** 2, tg.Variable(1.0), optimizer="sgd", learning_rate=0.25, steps=3).history
>>> h.columns
['step', 'loss', 'w', 'grad_norm', 'lr', 'elapsed']
>>> h["w"]
array([1.   , 0.5  , 0.25 , 0.125])
"""
from __future__ import annotations

import copy
import importlib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tapegrad._core import nest

from . import codec
from .files import HistoryFiles
from .summary import Summary, summarize

__all__ = ["History", "Summary"]

_FIXED = ("loss", "grad_norm", "lr", "elapsed")
_ELEMENT = re.compile(r"(.+)\[(\d+)\]")


class History(HistoryFiles):
    """The recorded steps of a descent (``tg.minimize(...).history``), exportable and plottable.

    Built by ``minimize``; ``History(columns)`` rebuilds one from column data, e.g. what
    ``to_json`` wrote. ``meta`` holds the run's status, message, optimizer and its settings,
    ``shapes`` (each array parameter's shape) and ``recorded`` (False for ``record=False``); ``fn``
    the function minimized (for landscape plots). ``final`` (parameter name -> its value at the
    end) and ``structure`` (x0's structure, the parameters' names in place of their values) say
    how ``fn`` takes the parameters, so that a landscape can be drawn from the History alone.

    >>> import tapegrad as tg
    >>> h = tg.History({"step": [0, 1], "loss": [4.0, 1.0], "x": [2.0, 1.0], "grad_norm": [4.0, 2.0],
    ...                 "lr": [0.25, float("nan")], "elapsed": [0.0, 0.001]})
    >>> len(h), h.param_columns
    (2, ['x'])
    """

    max_elements: int = 10
    device_elements: int = 1 << 16  # record="full": a device parameter's elements copied per step, on average

    def __init__(self, columns: dict[str, Any], meta: dict[str, Any] | None = None,
                 final: Mapping[str, Any] | None = None, structure: Any = None) -> None:
        names = [c for c in columns if c != "step"]
        missing = [c for c in _FIXED if c not in names]
        if missing:
            raise ValueError(f"History needs the columns {list(_FIXED)}; missing {missing}")
        arrays = {c: codec.column_from_json(c, columns[c]) for c in names}
        n = len(arrays["loss"])
        if any(len(a) != n for a in arrays.values()):
            raise ValueError("History columns must all have the same length")
        state = list((meta or {}).get("state_columns") or [])
        params = [c for c in names if c not in _FIXED and c not in state]
        if (final is None) != (structure is None):
            raise ValueError("final and structure go together: the parameters' final values by name, and x0's "
                             "structure with those names in place of the values")
        if final is not None:
            final = {str(k): np.array(v, copy=True) for k, v in final.items()}
            unknown = [n for n in nest.flatten(structure) if n not in final]
            if unknown:
                raise ValueError(f"structure names {unknown}, which final has no value for; final has {list(final)}")
        rows = np.column_stack([arrays[c] for c in names]) if n else np.zeros((0, len(names)))
        self._set(rows, {c: i for i, c in enumerate(names)}, params, _elements(params, final), dict(meta or {}),
                  final, structure, None)

    @classmethod
    def _of(cls, rows: Any, index: dict[str, int], params: list[str], elements: dict[str, tuple[str, int]],
            meta: dict[str, Any], final: dict[str, Any] | None, structure: Any, fn: Callable[..., Any] | None
            ) -> History:
        """A History over ``rows`` laid out by ``index``: how the recorder hands one over."""
        h = cls.__new__(cls)
        h._set(rows, index, params, elements, meta, final, structure, fn)
        return h

    def _set(self, rows: Any, index: dict[str, int], params: list[str], elements: dict[str, tuple[str, int]],
             meta: dict[str, Any], final: dict[str, Any] | None, structure: Any, fn: Callable[..., Any] | None
             ) -> None:
        self._rows, self._index, self._param_names, self._elements = rows, index, params, elements
        self._final, self._structure = final, structure
        self.meta: dict[str, Any] = meta
        self.fn: Callable[..., Any] | None = fn

    # -- copying and pickling: fn only when it pickles; a copy owns its rows ------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "fn": codec.picklable_or_none(self.fn)}  # without fn, landscapes need fn=

    def __deepcopy__(self, memo: dict) -> History:
        new = History.__new__(History)
        new.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "fn"}, memo))
        new.fn = self.fn
        return new

    def __copy__(self) -> History:
        return self.__deepcopy__({})

    # -- reading -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    @property
    def columns(self) -> list[str]:
        """Column names: step, loss, the parameters, grad_norm, lr, elapsed.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda p: p["a"] ** 2 + p["b"] ** 2, {"a": 1.0, "b": 2.0}, steps=2).history.columns
        ['step', 'loss', 'a', 'b', 'grad_norm', 'lr', 'elapsed']
        """
        return ["step", "loss", *self._param_names, "grad_norm", "lr", *self.state_columns, "elapsed"]

    @property
    def state_columns(self) -> list[str]:
        """The optimizer's state columns (``record="state"``; see ``tapegrad.descent.state``), else [].

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, optimizer="momentum", steps=2, record="state").history.state_columns
        ['step_norm', 'momentum_norm']
        """
        return list(self.meta.get("state_columns") or [])

    @property
    def param_columns(self) -> list[str]:
        """The parameter columns, in order (an array parameter's by flat index, C order).

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones((2, 2)), steps=2).history.param_columns
        ['w[0]', 'w[1]', 'w[2]', 'w[3]']
        """
        return list(self._param_names)

    def __getitem__(self, name: str) -> Any:
        """One column as a read-only NumPy array (``step`` as integers).

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history["loss"]
        array([1.    , 0.25  , 0.0625])
        """
        if name == "step":
            return np.arange(len(self._rows))
        if name not in self._index:
            elements, norm = self.array_columns(name)
            if elements:
                whole = f" and {norm}" if norm else f"; history.param({name!r}) gives its values as one array"
                raise KeyError(f"{name!r} is an array parameter; its columns are {elements[0]}..{elements[-1]} "
                               f"(flat, C order, as in {name}.reshape(-1)){whole}")
            raise KeyError(f"no column {name!r} in this history; its columns are {self.columns}")
        col = self._rows[:, self._index[name]]
        col.flags.writeable = False
        return col

    def param(self, name: str) -> Any:
        """A parameter's recorded values, one row per step: shape ``(rows,)`` for a scalar, ``(rows, *shape)``
        for an array parameter (all its elements must have been recorded: at most ``History.max_elements``).

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones((2, 3)), learning_rate=0.25, steps=2).history
        >>> h.param("w").shape, bool(h.param("w")[1, 1, 1] == h["w[4]"][1])
        ((3, 2, 3), True)
        """
        if name in self._param_names:
            return self[name]
        elements, norm = self.array_columns(name)
        if not elements:
            raise KeyError(f"no parameter {name!r} in this history; its parameter columns are {self.param_columns}")
        shape = tuple(self.meta.get("shapes", {}).get(name, (len(elements),)))
        if norm:
            of = f" of {math.prod(shape)}" if name in self.meta.get("shapes", {}) else ""
            raise ValueError(f"only the first {len(elements)}{of} elements of {name} were recorded, and {norm}; "
                             f"read them as {elements[0]}..{elements[-1]}, or set tg.History.max_elements "
                             f"higher before minimize to record them all")
        values = np.stack([self[c] for c in elements], axis=1).reshape(len(self), *shape)
        values.flags.writeable = False
        return values

    def array_columns(self, name: str) -> tuple[list[str], str | None]:
        """An array parameter's element columns and its norm column (None when every element has a column).

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones(12), steps=1).history
        >>> h.array_columns("w")
        (['w[0]', 'w[1]', 'w[2]', 'w[3]', 'w[4]', 'w[5]', 'w[6]', 'w[7]', 'w[8]', 'w[9]'], 'norm(w)')
        """
        elements = [c for c in self._param_names if c.startswith(f"{name}[") and c[len(name) + 1:-1].isdigit()]
        norm = f"norm({name})"
        return elements, norm if norm in self._param_names else None

    def element(self, column: str) -> tuple[str, int] | None:
        """The parameter a column records and the element's flat index (0 for a scalar); None for a norm column.

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> x0 = {"b": np.float64(1.0), "w": np.ones(3)}
        >>> h = tg.minimize(lambda p: p["b"] ** 2 + tg.reduce_sum(p["w"] ** 2), x0, steps=1).history
        >>> h.element("b"), h.element("w[2]")
        (('b', 0), ('w', 2))
        """
        if column not in self._param_names:
            raise KeyError(f"no parameter column {column!r} in this history; its parameter columns are "
                           f"{self.param_columns}")
        return self._elements.get(column)

    @property
    def final(self) -> dict[str, Any] | None:
        """Each parameter's value where the run ended (the point ``minimize`` returned), by name, in x0's order;
        None when not known (a History built from columns alone).

        >>> import numpy as np
        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda p: p["y"] ** 2 + tg.reduce_sum(p["v"] ** 2), {"y": 1.0, "v": np.ones(2, np.float32)},
        ...                 learning_rate=0.25, steps=1).history
        >>> h.final
        {'v': array([0.5, 0.5], dtype=float32), 'y': np.float32(0.5)}
        """
        if self._final is None:
            return None
        return {n: v[()] if v.ndim == 0 else v.copy() for n, v in self._final.items()}

    @property
    def structure(self) -> Any:
        """x0's structure with each parameter's name in place of its value (None when not known): how ``fn``
        takes the parameters.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda p: p[0] ** 2 + p[1]["k"] ** 2, [1.0, {"k": 2.0}], steps=1).history.structure
        ['x0', {'k': 'x1.k'}]
        """
        return self._structure

    @property
    def recorded(self) -> bool:
        """False for the history of a run made with ``record=False``, which has no rows.

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, steps=3, record=False).history
        >>> h.recorded, len(h)
        (False, 0)
        """
        return self.meta.get("recorded") is not False

    @property
    def step(self) -> Any:
        """The step numbers, 0 (the start) to ``len(history) - 1``.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, steps=3).history.step
        array([0, 1, 2, 3])
        """
        return self["step"]

    @property
    def loss(self) -> Any:
        """The loss at each row's point.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history.loss
        array([1.    , 0.25  , 0.0625])
        """
        return self["loss"]

    @property
    def grad_norm(self) -> Any:
        """The gradient's norm (over all parameters) at each row's point.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history.grad_norm
        array([2. , 1. , 0.5])
        """
        return self["grad_norm"]

    @property
    def lr(self) -> Any:
        """The step size taken from each row's point; NaN for the last row (no step was taken from it).

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2).history.lr
        array([0.25, 0.25,  nan])
        """
        return self["lr"]

    @property
    def elapsed(self) -> Any:
        """Seconds since the start of the run, at each row.

        >>> import tapegrad as tg
        >>> t = tg.minimize(lambda w: w ** 2, 1.0, steps=3).history.elapsed
        >>> len(t), bool((t >= 0).all() and (t[1:] >= t[:-1]).all())
        (4, True)
        """
        return self["elapsed"]

    def __repr__(self) -> str:
        return f"<History: {len(self)} rows, columns {', '.join(self.columns)}>"

    def _repr_html_(self) -> str:  # Jupyter: the status, the numbers and a small loss curve
        from .notebook import history_html

        return history_html(self)

    # -- reading for people ------------------------------------------------------------------------
    def summary(self) -> Summary:
        """A few lines on the run, for people: how it stopped, the loss from start to end and its best,
        the gradient norm and each parameter column from start to end, and the step size.

        A step size that changed during the run (a schedule, a line search, Newton's damping) shows
        as its range, ``lr 0.125 to 1 (varies; first 1, last 1)``; a constant one as one number.
        After six columns the rest are named in one line.

        >>> import tapegrad as tg
        >>> print(tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=3).history.summary())
        History: 4 rows (steps 0 to 3), max_steps
          stopped    ran the 3 steps asked for
          loss       1 -> 0.015625 (best 0.015625 at step 3)
          grad_norm  2 -> 0.25
          w          1 -> 0.125
          lr         0.25
        """
        return summarize(self)

    def plot(self, kind: str = "trajectory", **kwargs: Any) -> Any:
        """A plotnine figure: ``"trajectory"`` (parameters over steps, the default), ``"loss"``, ``"state"``
        (the optimizer's state, ``record="state"``), ``"landscape"`` or ``"slice"`` (the loss along the path).

        Keyword arguments go to ``tapegrad.plot.trajectory``, ``loss``, ``state``, ``landscape`` or
        ``path_slice``; the last two need the function, ``fn=f`` (the run's own by default; a history
        read back from JSON has none).

        >>> import tapegrad as tg
        >>> p = tg.minimize(lambda w0: w0 ** 2, 1.0, steps=5).history.plot()
        >>> p.labels.title
        'w0 over epochs'
        """
        kinds = {"trajectory": "trajectory", "loss": "loss", "state": "state", "landscape": "landscape",
                 "slice": "path_slice"}
        if kind not in kinds:
            raise ValueError(f"unknown plot kind {kind!r}; use one of {', '.join(map(repr, kinds))}")
        # The one place the drive layer reaches the show layer above it: by name, when a plot is asked for.
        # A static import would make the layers a cycle (plot reads History), and a registry that plot fills
        # on import would still need this import for a user who never imported tapegrad.plot.
        draw = getattr(importlib.import_module("tapegrad.plot"), kinds[kind])
        if kind in ("landscape", "slice"):
            fn = kwargs.pop("fn", None) or self.fn
            if fn is None:
                raise ValueError(f"a {kind} plot needs the function: history.plot({kind!r}, fn=f)")
            return draw(fn, self, **kwargs)
        return draw(self, **kwargs)


def _elements(params: list[str], final: Mapping[str, Any] | None) -> dict[str, tuple[str, int]]:
    """Parameter column -> (parameter, flat index), from the parameters' names when known, else from the
    columns' (``w[3]`` is element 3 of ``w``; any other column but a norm is a scalar parameter)."""
    out = {}
    for c in params:
        match = _ELEMENT.fullmatch(c)
        if final is not None:
            if c in final:
                out[c] = (c, 0)
            elif match and match[1] in final:
                out[c] = (match[1], int(match[2]))
        elif match:
            out[c] = (match[1], int(match[2]))
        elif not (c.startswith("norm(") and c.endswith(")")):
            out[c] = (c, 0)
    return out
