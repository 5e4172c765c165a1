"""The descent: ``minimize`` runs an optimizer on a function and records each step in a ``History``.

One module per concern: ``loop`` (the loop), ``result`` (``MinimizeResult``), ``rules`` (the stopping
rules), ``state`` (the optimizer's state columns), ``setup`` (x0 into Variables and
column names), ``problem`` (the compiled problem) and ``guard`` (its check of what fn reads),
``stops`` (why a run stopped, as data, and its message), ``progress`` (the bar), ``recorder`` (the
only writer of the rows), ``history`` (``History``'s read API), ``files`` and ``codec`` (its CSV and JSON
files) and ``summary``; ``race`` runs several optimizers on one function, and ``notebook`` shows results in
Jupyter. Plots sit above, in ``tapegrad.plot``, and read a History through its public API.

>>> import tapegrad as tg
>>> r = tg.descent.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2)
>>> r.stop.status, r.history["w"].tolist()
('max_steps', [1.0, 0.5, 0.25])
"""
from .history import History
from .loop import StepInfo, minimize
from .race import RaceResult, race
from .result import MinimizeResult, Status
from .stops import STATUSES, Reason, Stop, Words
from .summary import Summary

__all__ = ["STATUSES", "History", "MinimizeResult", "RaceResult", "Reason", "Status", "StepInfo", "Stop", "Summary",
           "Words", "minimize", "race"]
