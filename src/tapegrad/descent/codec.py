"""History's files: CSV and JSON out, JSON back in, each file written whole or not at all.

JSON has no NaN or infinity, so a NaN is written as ``null`` and an infinity as ``"inf"`` or
``"-inf"``. Beside the columns and ``meta``, the JSON keeps what a landscape needs: the final point
(``"final"``: each parameter's dtype, shape and values) and x0's structure (``"structure"``: the
parameters' names in x0's lists, tuples and dicts), so a History read back can draw one.

>>> from tapegrad.descent.codec import decode_structure, encode_structure
>>> spec = encode_structure({"b": ("x", "y"), 3: ["w"]})
>>> spec
{'dict': [['b', {'tuple': ['x', 'y']}], [3, ['w']]]}
>>> decode_structure(spec)
{'b': ('x', 'y'), 3: ['w']}
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import pickle
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from tapegrad._files import open_atomic

if TYPE_CHECKING:
    from .history import History

__all__ = ["column_from_json", "decode_structure", "encode_structure", "picklable_or_none", "read_json",
           "to_csv", "to_json"]


def to_csv(history: History, path: str | os.PathLike | IO[str] | None) -> str | None:
    """``history`` as CSV into ``path`` (see ``History.to_csv``); the text when ``path`` is None."""
    with _text_output(path, "to_csv") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(history.columns)
        w.writerows(zip(*[history[c].tolist() for c in history.columns]))
        return f.getvalue() if path is None else None


def to_json(history: History, path: str | os.PathLike | IO[str] | None) -> str | None:
    """``history`` as JSON into ``path`` (see ``History.to_json``); the text when ``path`` is None."""
    with _text_output(path, "to_json") as f:
        obj: dict[str, Any] = {
            "meta": _jsonable(history.meta),
            "columns": {c: [_json_number(v) for v in vals] for c, vals in history.to_dict().items()}}
        final, structure = history.final, history.structure
        spec = None if structure is None else encode_structure(structure)
        if final is not None and spec is not None:
            obj["final"] = {n: {"dtype": np.asarray(v).dtype.name, "shape": list(np.shape(v)),
                                "values": [_json_number(x) for x in np.asarray(v).reshape(-1).tolist()]}
                            for n, v in final.items()}
            obj["structure"] = spec
        json.dump(obj, f)
        return f.getvalue() if path is None else None


def read_json(source: str | os.PathLike | IO[str]) -> dict[str, Any]:
    """What ``to_json`` wrote, as ``History``'s arguments: columns, meta, final, structure."""
    text = source.read() if hasattr(source, "read") else str(source)
    if not text.lstrip().startswith("{"):
        with open(source) as f:
            text = f.read()
    obj = json.loads(text)
    if "columns" not in obj:
        raise ValueError("this JSON is not a tapegrad History (no 'columns' key); write one with to_json()")
    final = obj.get("final")
    if final is not None:
        final = {n: column_from_json(n, p["values"]).astype(p["dtype"]).reshape(p["shape"]) for n, p in final.items()}
    structure = obj.get("structure")
    return {"columns": obj["columns"], "meta": obj.get("meta"), "final": final,
            "structure": None if structure is None else decode_structure(structure)}


def encode_structure(structure: Any) -> Any:
    """x0's structure with names as leaves, as JSON: a name, a list, ``{"tuple": [...]}`` or ``{"dict": [[key,
    value], ...]}`` (keys strings or ints); None for what JSON cannot hold (a namedtuple, other key types)."""
    if isinstance(structure, str):
        return structure
    if type(structure) in (list, tuple):
        items = [encode_structure(s) for s in structure]
        if any(i is None for i in items):
            return None
        return items if type(structure) is list else {"tuple": items}
    if type(structure) is dict and all(type(k) in (str, int) for k in structure):
        items = [[k, encode_structure(v)] for k, v in structure.items()]
        return None if any(v is None for _, v in items) else {"dict": items}
    return None


def decode_structure(spec: Any) -> Any:
    """The inverse of ``encode_structure``."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [decode_structure(s) for s in spec]
    if isinstance(spec, dict) and set(spec) == {"tuple"}:
        return tuple(decode_structure(s) for s in spec["tuple"])
    if isinstance(spec, dict) and set(spec) == {"dict"}:
        return {k: decode_structure(v) for k, v in spec["dict"]}
    raise ValueError(f"a History's 'structure' holds names in lists, {{'tuple': [...]}} and {{'dict': [[key, "
                     f"value], ...]}} (as to_json writes it); got {spec!r}")


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


_NON_FINITE = {math.inf: "inf", -math.inf: "-inf"}  # NaN is null; NaN != NaN, so it is no dict key
_FROM_JSON = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _json_number(v: float) -> float | str | None:
    """A column value as strict JSON allows it: itself when finite, "inf"/"-inf", or None for NaN."""
    if isinstance(v, int) or math.isfinite(v):
        return v
    return _NON_FINITE.get(v)


def column_from_json(name: str, values: Any) -> Any:
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
