"""History: one row per step of a descent, kept in preallocated NumPy buffers.

Columns: ``step``, ``loss``, each parameter (a scalar parameter is one column named
after it; an array parameter ``w`` gives ``w[0]``, ``w[1]``, ... numbered by flat index
in C order, as in ``w.reshape(-1)``, so a (2, 3) ``w`` has ``w[0]`` .. ``w[5]`` and ``w[4]``
is ``w[1, 1]``; up to ``History.max_elements`` elements, and ``norm(w)`` when it has more;
``history.param("w")`` gives them back in ``w``'s shape), ``grad_norm``,
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

import contextlib
import copy
import csv
import io
import json
import math
import os
import pickle
import struct
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy as np

from ._files import open_atomic

_FIXED = ("loss", "grad_norm", "lr", "elapsed")


class Summary(str):
    """A string that shows as itself at the prompt (what ``History.summary()`` returns)."""

    def __repr__(self) -> str:
        return str(self)


class History:
    """The recorded steps of a descent (``tg.minimize(...).history``), exportable and plottable.

    Built by ``minimize``; ``History(columns)`` rebuilds one from column data, e.g. what
    ``to_json`` wrote. ``meta`` holds the run's status, message, optimizer and its settings,
    ``shapes`` (each array parameter's shape) and ``recorded`` (False for ``record=False``); ``fn``
    the function minimized (for landscape plots).

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
        arrays = {c: _column_from_json(c, columns[c]) for c in names}
        n = len(arrays["loss"])
        if any(len(a) != n for a in arrays.values()):
            raise ValueError("History columns must all have the same length")
        params = [c for c in names if c not in _FIXED]
        self._setup(params, params)
        self._allocate(n)
        for c, a in arrays.items():
            self._rows[:, self._index[c]] = a
        self._n = n
        self.meta: dict[str, Any] = dict(meta or {})

    def _setup(self, params: list[str], stored: list[str]) -> None:
        """An empty history; ``params`` in column order, ``stored`` in buffer order. ``_allocate`` makes the buffer."""
        self._param_names = params
        # A row of the buffer: loss, grad_norm, elapsed, the parameters, lr. lr comes last so that row k's
        # lr and row k+1's first columns are adjacent: minimize writes them with one call (see _recorder).
        width = len(stored) + 4
        self._index = {"loss": 0, "grad_norm": 1, "elapsed": 2, **{c: 3 + i for i, c in enumerate(stored)},
                       "lr": width - 1}
        self._packed = list(range(len(stored)))  # the scalar parameters (their leaves), written by _pack
        # per array parameter: its leaf, first column, elements kept, norm column (-1: none)
        self._arrays: list[tuple[int, int, int, int]] = []
        self._stages: list[tuple[int, np.ndarray]] = []  # per array parameter: its leaf, its staged rows
        self._staged_from = 0  # the row in each stage's first slot
        self._n = 0
        self.meta = {}
        self.fn: Callable[..., Any] | None = None
        self._sources: dict[str, tuple[int, int]] = {}
        self._structure: Any = None
        self._final: list | None = None

    def _allocate(self, capacity: int) -> None:
        width = len(self._index)
        # One spare slot in front: the lr of "row -1", written with row 0.
        flat = np.zeros(1 + capacity * width)
        rows = flat[1:].reshape(capacity, width)
        rows[:, -1] = math.nan  # a row's lr stays NaN until a step is taken from it
        if self._n:
            rows[:self._n] = self._rows[:self._n]
        self._flat, self._rows = flat, rows
        self._pack = struct.Struct(f"{4 + len(self._packed)}d").pack_into
        self._buffer, self._stride = memoryview(flat).cast("B"), rows.strides[0]

    @classmethod
    def _for_run(cls, names: list[str], values: list, capacity: int) -> History:
        """An empty history for a run over parameters ``names`` whose current values are ``values``."""
        params, scalars, packed, array_cols, arrays, sources = [], [], [], [], [], {}
        for leaf, (name, v) in enumerate(zip(names, values)):
            if np.ndim(v) == 0:
                params.append(name)
                scalars.append(name)
                packed.append(leaf)
                sources[name] = (leaf, 0)
                continue
            size = int(np.size(v))
            take = min(size, cls.max_elements)
            cols = [f"{name}[{i}]" for i in range(take)]
            sources.update((c, (leaf, i)) for i, c in enumerate(cols))
            norm = f"norm({name})" if size > take else None
            cols += [norm] if norm else []
            params.extend(cols)
            array_cols.extend(cols)
            arrays.append((leaf, cols[0], take, norm))
        h = cls.__new__(cls)
        h._setup(params, scalars + array_cols)
        h._packed = packed
        h._arrays = [(leaf, h._index[first], take, h._index[norm] if norm else -1)
                     for leaf, first, take, norm in arrays]
        h._allocate(max(capacity, 1))
        # Staging rows for small array parameters (see _write_row): up to 256 rows, 1 MiB per parameter. Large
        # ones are written directly: a copy would cost memory, and their steps dwarf the recording anyway.
        biggest = max((int(np.size(values[leaf])) for leaf, *_ in arrays), default=1)
        h._stage_rows = min(256, len(h._rows), (1 << 20) // (8 * biggest))
        if h._stage_rows >= 16:
            h._stages = [(leaf, np.zeros((h._stage_rows, *np.shape(values[leaf])))) for leaf, *_ in arrays]
        h._sources = sources
        h.meta["shapes"] = {n: list(np.shape(v)) for n, v in zip(names, values) if np.ndim(v)}
        return h

    # -- recording: minimize writes rows straight into the buffer (see minimize's loop) -------------
    def _recorder(self) -> tuple[Callable[..., None], memoryview, int, int]:
        """``(pack, buffer, stride, capacity)``: when every parameter is a scalar, ``pack(buffer, k * stride,
        lr, loss, grad_norm, elapsed, *parameters)`` writes row k, and the lr of row k - 1, in one call. On a
        one-parameter problem a compiled step costs a few microseconds, and a NumPy item write ~40 ns."""
        return self._pack, self._buffer, self._stride, len(self._rows)

    def _write_row(self, k: int, lr: float, loss: float, grad_norm: float, elapsed: float, values: list) -> None:
        """Row k (and the lr of row k - 1) for any parameters. Small array parameters are copied whole into
        staging buffers, and ``_flush`` reduces a block of rows at once to their columns (first elements,
        norm): per row, one copy costs less than the slicing and the norm. Large ones are reduced at once."""
        if self._packed:
            self._pack(self._buffer, k * self._stride, lr, loss, grad_norm, elapsed, *[values[i] for i in self._packed])
        else:
            self._pack(self._buffer, k * self._stride, lr, loss, grad_norm, elapsed)
        if not self._stages:
            row = self._rows[k]
            for leaf, col, take, norm in self._arrays:
                flat = values[leaf].reshape(-1)
                row[col:col + take] = flat[:take]
                if norm >= 0:
                    flat = flat.astype(np.float64, copy=False)  # float32 squares overflow early
                    row[norm] = math.sqrt(flat @ flat)
            return
        j = k - self._staged_from
        if j == self._stage_rows:
            self._flush(k)
            j = 0
        for leaf, stage in self._stages:
            stage[j] = values[leaf]

    def _flush(self, end: int) -> None:
        """Move the staged rows, up to row ``end``, into the array parameters' columns."""
        start = self._staged_from
        n = end - start
        for (_, col, take, norm), (_, stage) in zip(self._arrays, self._stages):
            part = stage[:n].reshape(n, -1)
            self._rows[start:end, col:col + take] = part[:, :take]
            if norm >= 0:
                self._rows[start:end, norm] = np.sqrt(np.einsum("ij,ij->i", part, part))
        self._staged_from = end

    def _catch_up(self) -> None:
        """Flush what is staged, for a reader."""
        if self._staged_from < self._n and self._stages:
            self._flush(self._n)

    def _grow(self) -> tuple[Callable[..., None], memoryview, int, int]:
        """Double the capacity; returns the new ``_recorder()``."""
        self._allocate(2 * len(self._rows))
        return self._recorder()

    # -- copying and pickling: the buffer's writer is rebuilt, the unused capacity left out ----------
    def _state(self) -> dict[str, Any]:
        self._catch_up()
        state = {k: v for k, v in self.__dict__.items() if k not in ("_pack", "_buffer", "_stride", "_rows")}
        state.update(_flat=self._flat[:1 + self._n * len(self._index)].copy(), _stages=[])  # nothing left staged
        return state

    def __getstate__(self) -> dict[str, Any]:
        return {**self._state(), "fn": picklable_or_none(self.fn)}  # without fn, landscape plots need fn=

    def __setstate__(self, state: dict[str, Any]) -> None:
        flat = state.pop("_flat")
        self.__dict__.update(state)
        n, self._n = self._n, 0
        self._allocate(max(n, 1))
        self._rows[:n] = flat[1:].reshape(n, len(self._index))
        self._n = n

    def __deepcopy__(self, memo: dict) -> History:
        new = History.__new__(History)
        new.__setstate__(copy.deepcopy(self._state(), memo))
        return new

    def __copy__(self) -> History:
        return self.__deepcopy__({})

    # -- reading -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def columns(self) -> list[str]:
        """Column names: step, loss, the parameters, grad_norm, lr, elapsed.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda p: p["a"] ** 2 + p["b"] ** 2, {"a": 1.0, "b": 2.0}, steps=2).history.columns
        ['step', 'loss', 'a', 'b', 'grad_norm', 'lr', 'elapsed']
        """
        return ["step", "loss", *self._param_names, "grad_norm", "lr", "elapsed"]

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
            return np.arange(self._n)
        if name not in self._index:
            elements, norm = self._array_columns(name)
            if elements:
                whole = f" and {norm}" if norm else f"; history.param({name!r}) gives its values as one array"
                raise KeyError(f"{name!r} is an array parameter; its columns are {elements[0]}..{elements[-1]} "
                               f"(flat, C order, as in {name}.reshape(-1)){whole}")
            raise KeyError(f"no column {name!r} in this history; its columns are {self.columns}")
        self._catch_up()
        col = self._rows[:self._n, self._index[name]]
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
        elements, norm = self._array_columns(name)
        if not elements:
            raise KeyError(f"no parameter {name!r} in this history; its parameter columns are {self.param_columns}")
        shape = tuple(self.meta.get("shapes", {}).get(name, (len(elements),)))
        if norm:
            of = f" of {math.prod(shape)}" if name in self.meta.get("shapes", {}) else ""
            raise ValueError(f"only the first {len(elements)}{of} elements of {name} were recorded, and {norm}; "
                             f"read them as {elements[0]}..{elements[-1]}, or set tg.History.max_elements "
                             f"higher before minimize to record them all")
        values = np.stack([self[c] for c in elements], axis=1).reshape(self._n, *shape)
        values.flags.writeable = False
        return values

    def _array_columns(self, name: str) -> tuple[list[str], str | None]:
        """An array parameter's element columns and its norm column (None if all elements are kept)."""
        elements = [c for c in self._param_names if c.startswith(f"{name}[") and c[len(name) + 1:-1].isdigit()]
        norm = f"norm({name})"
        return elements, norm if norm in self._param_names else None

    def _unrecorded(self) -> bool:
        """True for the history of a run made with ``record=False`` (minimize says so in ``meta``)."""
        return self.meta.get("recorded") is False

    def _why_empty(self) -> str:
        """Why this history has no rows, for messages (summary, plots)."""
        if self._unrecorded():
            return "this run was made with record=False, so there is no history"
        return "this history has no rows"

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

    def to_csv(self, path: str | os.PathLike | IO[str] | None = None) -> str | None:
        """The history as CSV: a header row, then one row per step (no pandas needed).

        Like pandas' ``to_csv``: ``path`` is a file name or an open text file (left open),
        and with no path the CSV text is returned.

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=1).history
        >>> h.to_csv().splitlines()[0]
        'step,loss,w,grad_norm,lr,elapsed'
        >>> h.to_csv().splitlines()[1].startswith('0,1.0,1.0,2.0,0.25,')
        True
        """
        with _text_output(path, "to_csv") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(self.columns)
            w.writerows(zip(*[self[c].tolist() for c in self.columns]))
            return f.getvalue() if path is None else None

    def to_json(self, path: str | os.PathLike | IO[str] | None = None) -> str | None:
        """The history as JSON ``{"meta": {...}, "columns": {name: [values]}}``.

        Written to ``path`` (a file name or an open text file, left open) if given, else returned.
        JSON has no NaN or infinity, so to stay valid JSON a NaN is written as ``null`` and an
        infinity as the string ``"inf"`` or ``"-inf"`` (a diverged run's last loss is often inf);
        ``from_json`` and ``History(columns)`` read all three back as they were.

        >>> import json
        >>> import tapegrad as tg
        >>> h = tg.History({"loss": [1.0, float("inf")], "grad_norm": [2.0, float("-inf")],
        ...                 "lr": [0.5, float("nan")], "elapsed": [0.0, 0.1]})
        >>> cols = json.loads(h.to_json())["columns"]
        >>> cols["loss"], cols["grad_norm"], cols["lr"]
        ([1.0, 'inf'], [2.0, '-inf'], [0.5, None])
        >>> tg.History.from_json(h.to_json())["loss"]
        array([ 1., inf])
        """
        with _text_output(path, "to_json") as f:
            cols = {c: [_json_number(v) for v in vals] for c, vals in self.to_dict().items()}
            json.dump({"meta": _jsonable(self.meta), "columns": cols}, f)
            return f.getvalue() if path is None else None

    @classmethod
    def from_json(cls, source: str | os.PathLike | IO[str]) -> History:
        """Read back what ``to_json`` wrote: a path to a file, an open text file, or the JSON text itself.

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, steps=5).history
        >>> back = tg.History.from_json(h.to_json())
        >>> bool((back["w"] == h["w"]).all()), back.meta["status"]
        (True, 'max_steps')
        """
        text = source.read() if hasattr(source, "read") else str(source)
        if not text.lstrip().startswith("{"):
            with open(source) as f:
                text = f.read()
        obj = json.loads(text)
        if "columns" not in obj:
            raise ValueError("this JSON is not a tapegrad History (no 'columns' key); write one with to_json()")
        return cls(obj["columns"], obj.get("meta"))

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
        n = self._n
        if n == 0:
            return Summary(f"History: empty ({self._why_empty()})")
        head = f"History: {n} rows (steps 0 to {n - 1})" if n > 1 else "History: 1 row (step 0)"
        if self.meta.get("status"):
            head += f", {self.meta['status']}"
        rows: list[tuple[str, str]] = []
        if self.meta.get("message"):
            # The message's first clause says why the run stopped; the rest is advice, too long for here.
            rows.append(("stopped", str(self.meta["message"]).split("; ")[0]))
        loss = self["loss"]
        finite = np.isfinite(loss)
        best = f" (best {_g(np.min(loss[finite]))} at step {int(np.argmin(np.where(finite, loss, np.inf)))})"
        rows.append(("loss", f"{_g(loss[0])} -> {_g(loss[-1])}" + (best if finite.any() else "")))
        names = ["grad_norm", *self.param_columns]
        shown, hidden = names[:6], names[6:]
        rows += [(c, f"{_g(self[c][0])} -> {_g(self[c][-1])}") for c in shown]
        if hidden:
            rows.append(("", f"... and {len(hidden)} more parameter columns: {_spans(hidden)}"))
        lr = self["lr"][:-1] if n > 1 else self["lr"]  # the last row's lr is NaN: no step was taken from it
        lr = lr[np.isfinite(lr)]
        if lr.size:
            rows.append(("lr", _g(lr[0]) if np.all(lr == lr[0]) else
                         f"{_g(lr.min())} to {_g(lr.max())} (varies; first {_g(lr[0])}, last {_g(lr[-1])})"))
        width = max(10, *(len(name) for name, _ in rows))
        lines = [head, *(f"  {name:<{width}} {text}" if name else f"  {text}" for name, text in rows)]
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


def picklable_or_none(fn: Any) -> Any:
    """``fn`` if it pickles, else None: a lambda or a local function must not stop results being saved."""
    try:
        pickle.dumps(fn)
    except Exception:
        return None
    return fn


@contextlib.contextmanager
def _text_output(path: Any, what: str) -> Iterator[Any]:
    """Where a writer writes: a StringIO for None, an open file as it is (not closed), a named file (atomically)."""
    if path is None:
        yield io.StringIO()
    elif hasattr(path, "write"):
        yield path
    elif isinstance(path, (str, bytes, os.PathLike)):
        folder = os.path.dirname(os.fspath(path)) or "."
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Cannot save file into a non-existent directory: {os.fsdecode(folder)!r}; "
                                    f"create it first (os.makedirs) or give {what}() another path")
        with open_atomic(path, "w", newline="") as f:  # whole or not at all, even on Ctrl-C
            yield f
    else:
        # open() would take an int (or a bool) as a file descriptor, and close it.
        fd = " (not a file descriptor: wrap one in open(fd, 'w', closefd=False))" if isinstance(path, int) else ""
        raise TypeError(f"{what}() takes a file name, an open text file, or None (to return the text); "
                        f"got {type(path).__name__} {path!r}{fd}")


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


_NON_FINITE = {math.inf: "inf", -math.inf: "-inf"}  # NaN is null; NaN != NaN, so it is no dict key
_FROM_JSON = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _json_number(v: float) -> float | str | None:
    """A column value as strict JSON allows it: itself when finite, "inf"/"-inf", or None for NaN."""
    if isinstance(v, int) or math.isfinite(v):
        return v
    return _NON_FINITE.get(v)


def _column_from_json(name: str, values: Any) -> Any:
    """A column as float64, reading what _json_number wrote (None, "inf", "-inf") back as numbers."""
    try:
        return np.asarray([math.nan if v is None else _FROM_JSON.get(v, v) if isinstance(v, str) else v
                           for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in values if isinstance(v, str) and v not in _FROM_JSON), None)
        what = f"the string {bad!r}" if bad is not None else "a value that is not a number"
        raise ValueError(f"History column {name!r} holds {what}; a column holds numbers, with null for NaN and "
                         f"\"inf\" / \"-inf\" for infinities (as to_json writes them)") from None


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
