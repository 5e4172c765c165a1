"""The recorder: the only writer of a run's rows, which it hands over as a ``History``.

Rows live in one preallocated float64 buffer. A row is: loss, grad_norm, elapsed, the scalar
parameters, the array parameters' columns, the optimizer's state columns (if recorded), lr. lr comes
last so that row k's lr and row k+1's first columns are adjacent, and the loop writes them with one
call (see ``writer``); a spare slot in front holds the lr of "row -1", written with row 0.

>>> import numpy as np
>>> from tapegrad.descent.recorder import Recorder
>>> rec = Recorder(["w"], [np.float64(1.0)], capacity=2)
>>> pack, buffer, stride, capacity = rec.writer()
>>> pack(buffer, 0 * stride, float("nan"), 1.0, 2.0, 0.0, 1.0)   # lr of row -1, loss, grad_norm, elapsed, w
>>> pack(buffer, 1 * stride, 0.25, 0.25, 1.0, 0.1, 0.5)
>>> h = rec.history(2)
>>> h.columns, h["w"].tolist(), h["lr"].tolist()
(['step', 'loss', 'w', 'grad_norm', 'lr', 'elapsed'], [1.0, 0.5], [0.25, nan])
"""
from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from tapegrad._core import backend
from tapegrad.optimizers.variables import on_device

from .history import History

__all__ = ["Recorder"]


class Recorder:
    """Rows for a run over parameters ``names`` whose starting values are ``values``, room for ``capacity``.

    A scalar parameter is one column named after it; an array parameter ``w`` its first
    ``History.max_elements`` elements ``w[0]``, ``w[1]``, ... (flat index, C order), and ``norm(w)``
    when it has more; all of them with ``full``. ``state`` names the optimizer's state columns.

    A parameter on a device (CuPy, ...) is reduced to its columns there, so a step copies only
    those few numbers to the host, whatever its size. With ``full``, a device parameter of up to
    ``History.device_elements`` elements is copied whole every step; a larger one every
    ``ceil(size / History.device_elements)`` steps and at the last row, its columns NaN in the rows
    between (``History.param`` of such a row is NaN).
    """

    def __init__(self, names: list[str], values: list, capacity: int, full: bool = False,
                 state: list[str] | None = None) -> None:
        params, scalars, array_cols, arrays = [], [], [], []
        self._packed: list[int] = []  # the scalar parameters' leaves, written by the packer
        self._elements: dict[str, tuple[str, int]] = {}  # column -> (parameter, flat index)
        for leaf, (name, v) in enumerate(zip(names, values)):
            if np.ndim(v) == 0:
                params.append(name)
                scalars.append(name)
                self._packed.append(leaf)
                self._elements[name] = (name, 0)
                continue
            size = int(np.size(v))
            take = size if full else min(size, History.max_elements)
            cols = [f"{name}[{i}]" for i in range(take)]
            self._elements.update((c, (name, i)) for i, c in enumerate(cols))
            norm = f"norm({name})" if size > take else None
            cols += [norm] if norm else []
            params.extend(cols)
            array_cols.extend(cols)
            arrays.append((leaf, cols[0], take, norm))
        state = list(state or [])
        clash = sorted(set(state) & set(params))
        if clash:
            raise ValueError(f"the parameter column(s) {clash} have the names of the optimizer's state columns "
                             f"{state}; rename those parameters to record the state")
        stored = scalars + array_cols + state
        width = len(stored) + 4
        self._params, self._state_names = params, state  # in column order
        self._state = (3 + len(stored) - len(state), len(state))  # first column, count
        self._index = {"loss": 0, "grad_norm": 1, "elapsed": 2, **{c: 3 + i for i, c in enumerate(stored)},
                       "lr": width - 1}
        if full:
            # A full record of a large model could fill memory: start small and let the buffer double.
            capacity = min(capacity, max(16, (64 << 20) // (8 * width)))
        # per array parameter: its leaf, first column, elements kept, norm column (-1: none)
        self._arrays = [(leaf, self._index[first], take, self._index[norm] if norm else -1)
                        for leaf, first, take, norm in arrays]
        # per array parameter on a device: recorded every `every` rows (1 unless a full record of a large one)
        self._every = {leaf: max(1, -(-int(np.size(values[leaf])) // History.device_elements)) if full else 1
                       for leaf, *_ in arrays if on_device(values[leaf])}
        self._shapes = {n: list(np.shape(v)) for n, v in zip(names, values) if np.ndim(v)}
        self._rows = np.zeros((0, width))
        self._allocate(max(capacity, 1), 0)
        # Staging rows for small array parameters (see write_row): up to 256 rows, 1 MiB per parameter. Large
        # ones are written directly: a copy would cost memory, and their steps dwarf the recording anyway.
        biggest = max((int(np.size(values[leaf])) for leaf, *_ in arrays), default=1)
        self._stage_rows = min(256, len(self._rows), (1 << 20) // (8 * biggest))
        self._stages: list[tuple[int, np.ndarray]] = []  # per array parameter: its leaf, its staged rows
        if self._stage_rows >= 16 and not self._every:  # a device's parameters are reduced where they are
            self._stages = [(leaf, np.zeros((self._stage_rows, *np.shape(values[leaf])))) for leaf, *_ in arrays]
        self._staged_from = 0  # the row in each stage's first slot

    def _allocate(self, capacity: int, n: int) -> None:
        """A buffer of ``capacity`` rows holding the first ``n`` rows of the old one."""
        width = len(self._index)
        flat = np.zeros(1 + capacity * width)  # the spare slot in front: the lr of row -1
        rows = flat[1:].reshape(capacity, width)
        rows[:, -1] = math.nan  # a row's lr (and state) stays NaN until a step is taken from it
        first, count = self._state
        rows[:, first:first + count] = math.nan
        rows[:n] = self._rows[:n]
        self._flat, self._rows = flat, rows
        self._pack = struct.Struct(f"{4 + len(self._packed)}d").pack_into
        self._buffer, self._stride = memoryview(flat).cast("B"), rows.strides[0]

    def writer(self) -> tuple[Callable[..., None], memoryview, int, int]:
        """``(pack, buffer, stride, capacity)``: when every parameter is a scalar, ``pack(buffer, k * stride,
        lr, loss, grad_norm, elapsed, *parameters)`` writes row k, and the lr of row k - 1, in one call. On a
        one-parameter problem a compiled step costs a few microseconds, and a NumPy item write ~40 ns."""
        return self._pack, self._buffer, self._stride, len(self._rows)

    def grow(self, n: int) -> tuple[Callable[..., None], memoryview, int, int]:
        """Double the capacity, keeping the ``n`` rows written; returns the new ``writer()``."""
        self._allocate(2 * len(self._rows), n)
        return self.writer()

    def write_rows(self, k: int, lr_before: float, lr: float, loss: np.ndarray, grad_norm: np.ndarray,
                   elapsed: np.ndarray, values: list[np.ndarray]) -> None:
        """Rows k to k + m - 1 at once, of scalar parameters only (``values``: one column each, float64), as m
        calls of ``pack`` write them: the lr of row k - 1 is ``lr_before``, that of the others but the last
        ``lr`` (the last one's comes with the next row)."""
        m = len(loss)
        while k + m > len(self._rows):
            self._allocate(2 * len(self._rows), k)
        rows = self._rows[k:k + m]
        rows[:, 0], rows[:, 1], rows[:, 2] = loss, grad_norm, elapsed
        for i, leaf in enumerate(self._packed):
            rows[:, 3 + i] = values[leaf]
        rows[:m - 1, -1] = lr
        self._flat[k * rows.shape[1]] = lr_before  # row k - 1's last column (the spare slot for row -1)

    def write_row(self, k: int, lr: float, loss: float, grad_norm: float, elapsed: float, values: list) -> None:
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
                if leaf in self._every:
                    self._device_columns(row, values[leaf], col, take, norm, k % self._every[leaf] == 0)
                    continue
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

    def _device_columns(self, row: np.ndarray, value: Any, col: int, take: int, norm: int, now: bool) -> None:
        """A device parameter's columns, taken there and copied over as one small array (NaN when not ``now``)."""
        if not now:
            row[col:col + take] = math.nan
            return
        ns = backend.namespace(value)
        flat = ns.reshape(value, (-1,))
        flat = flat if backend.np_dtype(flat.dtype) == np.float64 else ns.astype(flat, np.float64)
        cols = flat[:take]
        if norm >= 0:
            cols = ns.concat([cols, ns.reshape(ns.sqrt(ns.sum(flat * flat)), (1,))])
        got = backend.to_numpy(cols)
        row[col:col + take] = got[:take]
        if norm >= 0:
            row[norm] = got[take]

    def last_row(self, k: int, values: list) -> None:
        """Row k is the run's last: a device parameter recorded only every few rows is recorded there too."""
        row = self._rows[k]
        for leaf, col, take, norm in self._arrays:
            if self._every.get(leaf, 1) > 1 and k % self._every[leaf]:
                self._device_columns(row, values[leaf], col, take, norm, True)

    def write_state(self, k: int, values: list[float]) -> None:
        """The optimizer's state after the step taken from row k."""
        first, count = self._state
        self._rows[k, first:first + count] = values

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

    def history(self, n: int, meta: dict[str, Any] | None = None, final: dict[str, Any] | None = None,
                structure: Any = None, fn: Callable[..., Any] | None = None) -> History:
        """Rows 0 to ``n - 1`` as a History (their buffer, not a copy): what a callback reads mid-run, and,
        with the run's ``meta``, final point, structure and ``fn``, what ``minimize`` hands over."""
        if self._stages and self._staged_from < n:
            self._flush(n)
        shapes = {name: list(shape) for name, shape in self._shapes.items()}
        return History._of(self._rows[:n], self._index, self._params, self._elements,
                           {"shapes": shapes, "state_columns": list(self._state_names), **(meta or {})}, final,
                           structure, fn)
