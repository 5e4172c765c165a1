"""``tg.print``: print tensors' values the way ``tf.print`` does (no ``tf.Tensor(...)`` wrapper)."""
from __future__ import annotations

import builtins
import os
import sys
from typing import Any

import numpy as np

from tapegrad._core import nest
from tapegrad._core.state import impure
from tapegrad._core.tensor import Operand

__all__ = ["print"]

def print(*inputs: Any, **kwargs: Any) -> None:  # noqa: A001  (tf.print)
    """Print tensors' values (and any Python values), like ``tf.print``: to stderr by default.

    Keyword arguments: ``output_stream`` (``sys.stderr``, ``sys.stdout``, a ``logging`` level or
    function, or ``"file://<path>"`` to append to a file), ``summarize`` (elements shown at each end
    of every dimension, 3 by default, -1 for all), ``sep`` and ``end``.

    >>> import sys
    >>> import tapegrad as tg
    >>> tg.print("x:", tg.constant([[1.5, 2.0], [3.0, 4.0]]), output_stream=sys.stdout)
    x: [[1.5 2]
     [3 4]]
    >>> tg.print(tg.range(10), summarize=2, output_stream=sys.stdout)
    [0 1 ... 8 9]
    """
    output_stream = kwargs.pop("output_stream", sys.stderr)
    kwargs.pop("name", None)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", os.linesep)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    write = _writer(output_stream)
    impure("tg.print prints on every call")  # a compiled replay would print nothing
    summarize = 3 if summarize is None else int(summarize)
    write(sep.join(_template(x, summarize) for x in inputs) + end)


def _writer(stream: Any) -> Any:
    if stream is sys.stdout or stream is sys.stderr or stream is sys.__stdout__ or stream is sys.__stderr__:
        return stream.write
    if isinstance(stream, str) and stream.startswith("file://"):
        path = stream[len("file://"):]

        def append(text: str) -> None:
            with open(path, "a", encoding="utf-8") as f:  # one write per call: a line is there whole or not at all
                f.write(text)
        return append
    import logging  # here, not at the top: it costs `import tapegrad` a few ms

    levels = {logging.INFO: logging.INFO, logging.info: logging.INFO, logging.WARNING: logging.WARNING,
              logging.warning: logging.WARNING, logging.warn: logging.WARNING, logging.ERROR: logging.ERROR,
              logging.error: logging.ERROR}
    try:
        level = levels.get(stream)
    except TypeError:  # unhashable
        level = None
    if level is not None:
        logger = logging.getLogger("tapegrad")
        return lambda text: logger.log(level, text.rstrip("\n"))
    raise ValueError(f"Unsupported output stream, logging level, or file.{stream}. Supported streams are "
                     "sys.stdout, sys.stderr, logging.info, logging.warning, logging.error. File needs to be in the "
                     "form of 'file://<filepath>'.")


def _template(x: Any, summarize: int) -> str:
    if isinstance(x, str):
        return x
    import pprint  # TensorFlow formats the structure with pprint; loaded on first use
    # TensorFlow's way: pretty-print the structure with a placeholder for each tensor, then fill them in.
    leaves = nest.flatten(x)
    tensors = [leaf for leaf in leaves if isinstance(leaf, Operand)]
    if not tensors:
        return pprint.pformat(x)
    blank = pprint.pformat(nest.map_structure(lambda v: "" if isinstance(v, Operand) else v, x))
    mark = "{}"
    while mark in blank:
        mark = "{" + mark + "}"
    text = pprint.pformat(nest.pack_as(x, [mark if isinstance(v, Operand) else v for v in leaves]))
    text = text.replace(repr(mark), mark)
    pieces = text.split(mark)
    out = [pieces[0]]
    for t, piece in zip(tensors, pieces[1:]):
        out.append(_format(t._value, summarize))
        out.append(piece)
    return "".join(out)


def _element(v: Any) -> str:
    kind = v.dtype.kind
    if kind == "b":
        return "1" if v else "0"
    if kind in "iu":
        return str(int(v))
    if kind == "f":
        # TensorFlow's FloatToBuffer: the shortest of 6 or 9 significant digits (15 or 17 for float64)
        # that reads back as the same number; float16 prints as float32.
        if v.dtype == np.float64:
            s = f"{v:.15g}"
            return s if np.float64(s) == v or v != v else f"{v:.17g}"
        f = np.float32(v)
        s = f"{f:.6g}"
        return s if np.float32(s) == f or f != f else f"{f:.9g}"
    return "?"  # complex: TensorFlow prints no value either


def _format(arr: Any, summarize: int = 3) -> str:
    """A tensor's values as ``tf.print`` shows them: at most ``summarize`` at each end of each dimension."""
    arr = np.asarray(arr)
    n = arr.size
    limit = n if summarize < 0 else builtins.min(summarize, n)
    flat = arr.reshape(-1)
    if arr.ndim == 0:
        return (_element(flat[0]) if limit > 0 else "") + ("..." if limit < n else "")
    out: list[str] = []
    _dim(0, arr.shape, limit, flat, 0, out)
    return "".join(out)


def _spacing(dim: int, ndim: int, out: list) -> None:
    if dim == ndim - 1:
        out.append(" ")
    else:
        out.append("\n" * (ndim - dim - 1) + " " * (dim + 1))


def _dim(dim: int, shape: tuple, ends: int, flat: Any, start: int, out: list) -> None:
    # TensorFlow's PrintOneDimV2, line for line.
    ndim = len(shape)
    if dim == ndim:
        out.append(_element(flat[start]))
        return
    out.append("[")
    count = shape[dim]
    start_of_end = builtins.max(ends, count - ends)
    step = 1
    for s in shape[dim + 1:]:
        step *= s
    for i in range(builtins.min(ends, count)):
        if i > 0:
            _spacing(dim, ndim, out)
        _dim(dim + 1, shape, ends, flat, start + step * i, out)
    if count > 2 * ends:
        _spacing(dim, ndim, out)
        out.append("...")
    for i in range(start_of_end, count):
        _spacing(dim, ndim, out)
        _dim(dim + 1, shape, ends, flat, start + step * i, out)
    out.append("]")
