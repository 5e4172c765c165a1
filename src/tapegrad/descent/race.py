"""``race``: several optimizers from one start on one function, each through ``minimize``, and a leaderboard.

>>> import tapegrad as tg
>>> r = tg.race("booth", ["sgd", "adam", "lbfgs"], steps=100)
>>> [row["optimizer"] for row in r.leaderboard][0], r["sgd"].steps
('lbfgs', 100)
"""
from __future__ import annotations

import csv
import importlib
import math
import numbers
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

import numpy as np

from tapegrad import testfunctions
from tapegrad._core import nest
from tapegrad._core.tensor import Operand
from tapegrad.optimizers import GradientTransformation, Optimizer
from tapegrad.optimizers.names import NAMES, OPTIMIZERS

from .codec import _text_output
from .loop import MinimizeResult, minimize

__all__ = ["COLUMNS", "RaceResult", "Runner", "race"]

DEFAULT = ("sgd", "momentum", "adam", "lbfgs")
# The leaderboard's columns, as to_csv writes them.
COLUMNS = ("rank", "optimizer", "learning_rate", "steps_to_tol", "time_to_tol", "final_loss", "best_loss", "status",
           "steps", "nfev", "seconds")


class Runner:
    """One optimizer's run in a race: ``label``, ``learning_rate`` (None for an object without a number),
    ``result`` (what ``minimize`` returned), ``seconds`` (its wall time), ``steps_to_tol`` and ``time_to_tol``
    (the first step at which the loss was within ``tol`` of the reference, and the seconds to it; None if never).

    >>> import tapegrad as tg
    >>> runner = tg.race("booth", ["adam"], steps=50).runners[0]
    >>> runner.label, runner.learning_rate, runner.result.steps
    ('adam', 0.1, 50)
    """

    def __init__(self, label: str, learning_rate: float | None, result: MinimizeResult, seconds: float) -> None:
        self.label, self.learning_rate, self.result, self.seconds = label, learning_rate, result, seconds
        self.steps_to_tol: int | None = None
        self.time_to_tol: float | None = None

    @property
    def diverged(self) -> bool:
        """True when the loss, gradient or a parameter became inf or NaN (the run keeps its last finite point).

        >>> import tapegrad as tg
        >>> tg.race("booth", [("sgd", 1.0)], steps=300).runners[0].diverged
        True
        """
        return self.result.status == "diverged"

    def __repr__(self) -> str:
        return f"<Runner {self.label}: {self.result.status}, loss {self.result.fun:.6g}>"


class RaceResult:
    """What ``race`` returns: the ``runners`` (in the order given), the ``leaderboard`` (rows as dicts, best
    first), and what the race was run on: ``fn`` (called ``name``), ``x0``, ``steps``, ``tol``, ``f_min``
    (the reference the loss is measured against; None when there is none) and ``reference`` (how it was
    found: ``"known minimum"``, ``"given"``, ``"best loss found"`` or ``"none"``). ``r["adam"]`` is that runner's
    ``MinimizeResult``; ``print(r)`` shows the leaderboard as a table.

    >>> import tapegrad as tg
    >>> r = tg.race("himmelblau", ["sgd", "adam"], steps=200)
    >>> r.reference, sorted(r.labels)
    ('known minimum', ['adam', 'sgd'])
    """

    def __init__(self, fn: Callable[[Any], Any], x0: Any, runners: list[Runner], steps: int, tol: float,
                 f_min: float | None, reference: str) -> None:
        self.fn, self.x0, self.runners, self.steps, self.tol = fn, x0, runners, steps, tol
        self.f_min, self.reference = f_min, reference
        self.interrupted = False  # True when Ctrl-C stopped the race before every runner had run
        self.name: str = getattr(fn, "name", None) or getattr(fn, "__name__", None) or "fn"
        for r in runners:
            loss = r.result.history["loss"]
            if f_min is not None:
                hit = np.flatnonzero(loss - f_min <= tol)
                if hit.size:
                    r.steps_to_tol = int(hit[0])
                    r.time_to_tol = float(r.result.history["elapsed"][hit[0]])

    @property
    def labels(self) -> list[str]:
        """The runners' labels, in the order given.

        >>> import tapegrad as tg
        >>> tg.race("booth", ["sgd", ("sgd", 0.01), ("adam", {"beta_1": 0.5})], steps=5).labels
        ['sgd', 'sgd(lr=0.01)', 'adam(beta_1=0.5)']
        """
        return [r.label for r in self.runners]

    def __getitem__(self, label: str) -> MinimizeResult:
        for r in self.runners:
            if r.label == label:
                return r.result
        raise KeyError(f"no runner {label!r} in this race; its runners are {self.labels}")

    def __len__(self) -> int:
        return len(self.runners)

    @property
    def leaderboard(self) -> list[dict[str, Any]]:
        """One row per runner, best first: those that came within ``tol`` of the reference by fewest steps (then
        time), then the rest by final loss, diverged runs last. Keys: ``COLUMNS``.

        >>> import tapegrad as tg
        >>> top = tg.race("booth", ["sgd", "lbfgs"], steps=100).leaderboard[0]
        >>> top["optimizer"], top["status"], top["steps_to_tol"] < 10
        ('lbfgs', 'converged', True)
        """
        def key(r: Runner) -> tuple:
            fun = r.result.fun if math.isfinite(r.result.fun) else math.inf
            if r.steps_to_tol is not None:
                return (0, r.steps_to_tol, r.time_to_tol, fun)
            return (2 if r.diverged else 1, fun, 0.0, 0.0)

        rows = []
        for rank, r in enumerate(sorted(self.runners, key=key), 1):
            loss = r.result.history["loss"]
            finite = loss[np.isfinite(loss)]
            rows.append({"rank": rank, "optimizer": r.label, "learning_rate": r.learning_rate,
                         "steps_to_tol": r.steps_to_tol, "time_to_tol": r.time_to_tol, "final_loss": r.result.fun,
                         "best_loss": float(finite.min()) if finite.size else math.nan,
                         "status": r.result.status, "steps": r.result.steps, "nfev": r.result.nfev,
                         "seconds": r.seconds})
        return rows

    def caption(self) -> str:
        """One line on what the race measured: the function, the start, the steps and the reference.

        >>> import tapegrad as tg
        >>> tg.race("booth", ["adam"], steps=10, tol=1e-3).caption()
        'booth from (-6, -4), 10 steps; to tol: the first step within 0.001 of the known minimum 0'
        """
        leaves = [np.asarray(v._value if isinstance(v, Operand) else v) for v in nest.flatten(self.x0)]
        flat = np.concatenate([v.reshape(-1) for v in leaves])
        start = ", ".join(f"{v:.4g}" for v in flat[:6]) + (", ..." if flat.size > 6 else "")
        head = f"{self.name} from ({start}), {self.steps} steps; "
        if self.f_min is None:
            return head + "no minimum to reach (the function is unbounded below)"
        return head + f"to tol: the first step within {self.tol:g} of the {self.reference} {self.f_min:.6g}"

    def table(self) -> str:
        """The leaderboard as text, for a terminal.

        >>> import tapegrad as tg
        >>> print(tg.race("booth", ["lbfgs"], steps=20).table().splitlines()[1])
          #  optimizer  lr  steps to tol  time to tol  final loss  status     nfev
        """
        head = ("#", "optimizer", "lr", "steps to tol", "time to tol", "final loss", "status", "nfev")
        rows = [(str(row["rank"]), row["optimizer"], _g(row["learning_rate"]), _count(row["steps_to_tol"]),
                 _seconds(row["time_to_tol"]), _g(row["final_loss"]), _status(row), str(row["nfev"]))
                for row in self.leaderboard]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        right = {0, 2, 3, 4, 5, 7}
        line = lambda cells: "  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                              for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        return "\n".join([self.caption(), line(head), *(line(r) for r in rows)])

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from .notebook import race_html

        return race_html(self)

    def to_csv(self, path: str | os.PathLike | IO[str] | None = None) -> str | None:
        """The leaderboard as CSV (columns ``COLUMNS``), into ``path`` (whole or not at all) or returned as text.

        >>> import tapegrad as tg
        >>> tg.race("booth", ["adam"], steps=5).to_csv().splitlines()[0]
        'rank,optimizer,learning_rate,steps_to_tol,time_to_tol,final_loss,best_loss,status,steps,nfev,seconds'
        """
        with _text_output(path, "to_csv") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS)
            w.writerows([["" if row[c] is None else row[c] for c in COLUMNS] for row in self.leaderboard])
            return f.getvalue() if path is None else None

    def plot(self, kind: str = "paths", **kwargs: Any) -> Any:
        """A plotnine figure: ``"paths"`` (every runner's path over the landscape) or ``"loss"`` (the loss curves).

        Keyword arguments go to ``tapegrad.plot.race``.

        >>> import tapegrad as tg
        >>> tg.race("booth", ["sgd", "adam"], steps=20).plot().labels.title
        'booth: sgd, adam'
        """
        return importlib.import_module("tapegrad.plot").race(self, kind, **kwargs)

    def animate(self, path: str | os.PathLike, **kwargs: Any) -> Any:
        """Write the runners moving together as an animated GIF (``.gif``) or an MP4 video (``.mp4``, needs
        ffmpeg), whole or not at all; returns the path. Keyword arguments go to ``tapegrad.plot.race_animation``.

        >>> import os, tempfile, tapegrad as tg
        >>> out = os.path.join(tempfile.mkdtemp(), "race.gif")
        >>> tg.race("booth", ["sgd", "adam"], steps=20).animate(out, frames=4).name
        'race.gif'
        """
        return importlib.import_module("tapegrad.plot").race_animation(self, path, **kwargs)


def race(fn: Any, optimizers: Sequence[Any] | Mapping[str, Any] = DEFAULT, x0: Any = None, steps: int = 300,
         tol: float = 1e-4, f_min: float | None = None, compile: bool | str = "auto", name: str | None = None
         ) -> RaceResult:
    """Run each optimizer from the same start on ``fn`` through ``tg.minimize``, and rank them.

    - ``fn``: a ``tg.testfunctions`` function or its name (``"rosenbrock"``), or any function
      ``minimize`` takes (then give ``x0``).
    - ``optimizers``: a list of names (``"adam"``), ``(name, settings)`` pairs (``("adam", {"beta_1":
      0.8})``, ``("sgd", 0.05)`` for a learning rate), optimizer objects (each used once, with its state),
      or a dict label -> any of these. A name's learning rate is the test function's own for it
      (``fn.learning_rates``, chosen not to diverge from its start) or else ``minimize``'s default.
    - ``x0``: the start (default: the test function's ``start``); each runner starts from a copy.
    - ``steps``: the steps each runner takes (none stops early unless its optimizer converges).
    - ``tol``: a runner has arrived at the first step whose loss is within ``tol`` of ``f_min``: the known
      minimum of a test function, the ``f_min`` given, or else the best loss any runner found.
    - ``name``: what tables and titles call the function (default: the test function's name, or fn's).

    Each run is exactly ``minimize(fn, x0, optimizer, learning_rate, steps=steps, compile=compile)``; a run
    that diverges keeps its place on the leaderboard, marked, below the others. Ctrl-C stops the runner it
    lands in (as it stops ``minimize``) and the race: the runners so far are kept, and ``interrupted`` is True.

    >>> import tapegrad as tg
    >>> r = tg.race("rosenbrock", ["momentum", "adam", "lbfgs"], steps=300)
    >>> r.leaderboard[0]["optimizer"], r["lbfgs"].status
    ('lbfgs', 'converged')
    """
    if isinstance(fn, str):
        fn = testfunctions.get(fn)
    if not callable(fn):
        raise TypeError(f"fn must be a function to minimize or the name of a test function "
                        f"({', '.join(testfunctions.NAMES)}), not {type(fn).__name__}")
    known = fn if isinstance(fn, testfunctions.TestFunction) else None
    if x0 is None:
        if known is None:
            raise ValueError("race() needs x0, the start, for a function that is not one of tg.testfunctions")
        x0 = known.start
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 <= tol < math.inf:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    if f_min is not None and (isinstance(f_min, bool) or not isinstance(f_min, numbers.Real)):
        raise TypeError(f"f_min must be a number (the function's known minimum) or None, got {f_min!r}")
    entries = _entries(optimizers, known)
    runners = []
    for label, optimizer, lr in entries:
        start = nest.map_structure(_copy, x0)
        t0 = time.perf_counter()
        result = minimize(fn, start, optimizer=optimizer, learning_rate=lr if isinstance(optimizer, str) else None,
                          steps=steps, progress=False, compile=compile)
        if isinstance(optimizer, Optimizer) and lr is None:
            lr = _rate(optimizer)
        runners.append(Runner(label, lr, result, time.perf_counter() - t0))
        if result.stop is not None and result.stop.reason == "ctrl_c":
            break  # Ctrl-C ends the race, not only the runner it landed in: the rest do not start
    if f_min is not None:
        reference, ref = "given", float(f_min)
    elif known is not None and known.minima:
        reference, ref = "known minimum", known.f_min
    elif known is not None:
        reference, ref = "none", None
    else:
        losses = np.concatenate([r.result.history["loss"] for r in runners])
        losses = losses[np.isfinite(losses)]
        reference, ref = ("best loss found", float(losses.min())) if losses.size else ("none", None)
    out = RaceResult(fn, x0, runners, steps, float(tol), ref, reference)
    out.name = name or out.name
    out.interrupted = any(r.result.stop is not None and r.result.stop.reason == "ctrl_c" for r in runners)
    return out


def _entries(optimizers: Any, known: testfunctions.TestFunction | None) -> list[tuple[str, Any, float | None]]:
    """(label, what minimize's optimizer= gets, learning rate for a name) for each optimizer asked for."""
    if isinstance(optimizers, (str, Optimizer)) or isinstance(optimizers, tuple) and len(optimizers) == 2 \
            and isinstance(optimizers[1], (dict, numbers.Real)):
        optimizers = [optimizers]  # one runner, not a list of them
    items = list(optimizers.items()) if isinstance(optimizers, Mapping) else [(None, o) for o in optimizers]
    if not items:
        raise ValueError("race() needs at least one optimizer, e.g. optimizers=['sgd', 'adam']")
    out, labels, objects = [], set(), set()
    for given_label, spec in items:
        label, optimizer, lr = _entry(spec, known)
        if isinstance(optimizer, (Optimizer, GradientTransformation)):
            if id(optimizer) in objects:
                raise ValueError(f"the optimizer object {optimizer!r} is given twice; an optimizer keeps its state "
                                 "from one run to the next, so give each runner its own (or a name)")
            objects.add(id(optimizer))
        label = str(given_label) if given_label is not None else label
        base, i = label, 2
        while label in labels:
            label, i = f"{base}#{i}", i + 1
        labels.add(label)
        out.append((label, optimizer, lr))
    return out


def _entry(spec: Any, known: testfunctions.TestFunction | None) -> tuple[str, Any, float | None]:
    usage = ("each optimizer is a name ('adam'), a (name, settings) pair (('adam', {'beta_1': 0.8}) or "
             "('sgd', 0.05)), or an optimizer object (tg.optimizers.Adam(0.1))")
    if isinstance(spec, str):
        key = _name(spec)
        return key, key, _default_rate(key, known)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        key, settings = _name(spec[0]), spec[1]
        if isinstance(settings, numbers.Real) and not isinstance(settings, bool):
            return f"{key}(lr={settings:g})", key, float(settings)
        if not isinstance(settings, Mapping):
            raise TypeError(f"{usage}; the settings of {spec[0]!r} are {type(settings).__name__} {settings!r}")
        settings = dict(settings)
        lr = settings.pop("learning_rate", None)
        if not settings:
            lr = _default_rate(key, known) if lr is None else lr
            return (f"{key}(lr={lr:g})" if "learning_rate" in spec[1] else key), key, lr
        cls, defaults, _ = NAMES[key]
        rate = _default_rate(key, known) if lr is None else lr
        try:
            optimizer = cls(rate, **{**defaults, **settings})
        except TypeError as e:
            raise TypeError(f"{key}: {e}") from None
        shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec[1].items())
        return f"{key}({shown})", optimizer, rate
    if isinstance(spec, Optimizer):
        return type(spec).__name__.lower(), spec, None
    if isinstance(spec, GradientTransformation):
        return "transform", spec, None
    raise TypeError(f"{usage}; got {type(spec).__name__} {spec!r}")


def _name(text: str) -> str:
    key = text.strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {text!r}; valid names: {', '.join(OPTIMIZERS)}")
    return key


def _default_rate(key: str, known: testfunctions.TestFunction | None) -> float:
    if known is not None and key in known.learning_rates:
        return known.learning_rates[key]
    return OPTIMIZERS[key][1]


def _rate(optimizer: Optimizer) -> float | None:
    try:
        value = optimizer.learning_rate
    except Exception:  # a schedule with no value yet, or an optimizer without one
        return None
    return float(value) if isinstance(value, numbers.Real) else None


def _copy(leaf: Any) -> Any:
    """A runner's own copy of one leaf of x0: a Variable's value (minimize would move the Variable itself)."""
    if isinstance(leaf, Operand):
        return np.array(leaf._value, copy=True)
    return np.array(leaf, copy=True) if isinstance(leaf, np.ndarray) else leaf


def _g(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}"


def _count(v: int | None) -> str:
    return "-" if v is None else str(v)


def _seconds(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def _status(row: dict[str, Any]) -> str:
    if row["status"] == "diverged":
        return f"DIVERGED after step {row['steps']}"
    return row["status"]
