"""History's export methods (dict, pandas, CSV, JSON) and ``from_json``: a base class of ``History``, the files
themselves written and read by ``codec``."""
from __future__ import annotations

import importlib
import os
from typing import IO, TYPE_CHECKING, Any

from . import codec

if TYPE_CHECKING:
    from .history import History

__all__ = ["HistoryFiles"]


class HistoryFiles:
    """The export half of ``History``."""

    columns: list[str]

    def __getitem__(self, name: str) -> Any:
        raise NotImplementedError

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
        try:
            pd = importlib.import_module("pandas")
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install 'tapegrad[plot]' (or pip install pandas)") \
                from None
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
        return codec.to_csv(self, path)  # type: ignore[arg-type]

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
        return codec.to_json(self, path)  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, source: str | os.PathLike | IO[str]) -> History:  # type: ignore[misc]
        """Read back what ``to_json`` wrote: a path to a file, an open text file, or the JSON text itself.

        >>> import tapegrad as tg
        >>> h = tg.minimize(lambda w: w ** 2, 1.0, steps=5).history
        >>> back = tg.History.from_json(h.to_json())
        >>> bool((back["w"] == h["w"]).all()), back.meta["status"]
        (True, 'max_steps')
        """
        return cls(**codec.read_json(source))
