"""What ``minimize`` returns: ``MinimizeResult``, which also answers as ``scipy.optimize.OptimizeResult`` does,
and ``Status``, the run's status as a word that is also scipy's integer code.

>>> import tapegrad as tg
>>> r = tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, learning_rate=0.25, steps=100, gtol=1e-6)
>>> r.status, int(r.status), r.status == 0, r.reason, r["nit"] == r.nit == r.steps
('converged', 0, True, <Reason.GTOL: 'gtol'>, True)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .codec import picklable_or_none
from .stops import Reason, Stop

if TYPE_CHECKING:
    from tapegrad.optimizers import Optimizer

    from .history import History

__all__ = ["CODES", "MinimizeResult", "Status"]

# scipy's convention: 0 is success; the rest tell how the run ended otherwise.
CODES = {"converged": 0, "max_steps": 1, "diverged": 2, "interrupted": 3}
_KEYS = ("x", "fun", "jac", "nit", "nfev", "njev", "status", "message", "success", "reason", "grad", "steps",
         "history")


class Status(str):
    """A run's status: the word (``"converged"``, ``"max_steps"``, ``"diverged"``, ``"interrupted"``) that
    also equals its integer code, as scipy's ``OptimizeResult.status`` is one: 0 converged, 1 the steps (or
    the time) asked for ran out, 2 diverged, 3 interrupted.

    >>> from tapegrad.descent.result import Status
    >>> s = Status("diverged")
    >>> s == "diverged", s == 2, int(s), s.code, f"{s}"
    (True, True, 2, 2, 'diverged')
    """

    code: int

    def __new__(cls, word: str) -> Status:
        if word not in CODES:
            raise ValueError(f"a status is one of {list(CODES)}, got {word!r}")
        s = super().__new__(cls, word)
        s.code = CODES[word]
        return s

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.code == other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        same = self.__eq__(other)
        return same if same is NotImplemented else not same

    __hash__ = str.__hash__

    def __int__(self) -> int:
        return self.code

    def __index__(self) -> int:
        return self.code

    def __reduce__(self) -> tuple:
        return Status, (str(self),)


class MinimizeResult:
    """What ``minimize`` returns.

    ``x`` (parameters at the end, with ``x0``'s structure, as NumPy values), ``fun`` (the loss
    there), ``grad``, ``steps`` (updates made), ``status`` (converged / max_steps / diverged /
    interrupted: a ``Status``, which is also scipy's code 0 / 1 / 2 / 3), ``reason`` (which rule
    stopped it: a ``tapegrad.descent.Reason``), ``message``, ``success`` (True unless it diverged
    or was interrupted), ``history`` (a ``History``), ``nfev`` (evaluations of the function),
    ``optimizer``, ``compiled`` (True when the loss and gradient were replayed as compiled code at the
    end of the run, see ``minimize``'s ``compile``), ``compile_reason`` (why not, when False; when True,
    None, or what Python state changed so that ``fn`` was traced again) and ``stop`` (why it stopped,
    as data: a ``tapegrad.descent.Stop``, whose ``message()`` is ``message``).

    It also answers as ``scipy.optimize.OptimizeResult`` does: ``jac`` (the gradient, ``grad``),
    ``nit`` (``steps``), ``njev`` (gradient evaluations: each evaluation gives both, so ``nfev``),
    and ``r["x"]``, ``r.keys()``.

    >>> import tapegrad as tg
    >>> r = tg.minimize(lambda w: w ** 2, 1.0, steps=10)
    >>> r.status, r.steps, r.success, len(r.history)
    ('max_steps', 10, True, 11)
    >>> r.stop.reason, r.stop.message() == r.message
    (<Reason.STEPS: 'steps'>, True)
    >>> r["x"] is r.x, r.njev == r.nfev, r.status == 1
    (True, True, True)
    """

    def __init__(self, x: Any, fun: float, grad: Any, steps: int, status: str, message: str, history: History,
                 nfev: int, optimizer: Optimizer, fn: Callable[..., Any], compiled: bool = False,
                 compile_reason: str | None = None, stop: Stop | None = None) -> None:
        self.x, self.fun, self.grad, self.steps = x, fun, grad, steps
        self.status, self.message, self.history = Status(status), message, history
        self.nfev, self.optimizer, self.fn = nfev, optimizer, fn
        self.compiled, self.compile_reason, self.stop = compiled, compile_reason, stop

    @property
    def success(self) -> bool:
        """True unless the run diverged or was interrupted.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=1.5, steps=100).success
        False
        """
        return self.status in ("converged", "max_steps")

    @property
    def reason(self) -> Reason | None:
        """Which rule stopped the run, for programs (``Reason.GTOL``, ...); ``message`` says it for people.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=100, target=1e-4).reason
        <Reason.TARGET: 'target'>
        """
        return None if self.stop is None else self.stop.reason

    @property
    def jac(self) -> Any:
        """The gradient at ``x`` (``grad``), as scipy names it.

        >>> import tapegrad as tg
        >>> float(tg.minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=1).jac)
        1.0
        """
        return self.grad

    @property
    def nit(self) -> int:
        """The steps made (``steps``), as scipy names it.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, steps=4).nit
        4
        """
        return self.steps

    @property
    def njev(self) -> int:
        """Gradient evaluations: each evaluation gives the loss and the gradient together, so ``nfev``.

        >>> import tapegrad as tg
        >>> tg.minimize(lambda w: w ** 2, 1.0, steps=4).njev
        5
        """
        return self.nfev

    def keys(self) -> list[str]:
        """The names ``r[name]`` answers to, as a scipy result (a dict) has them.

        >>> import tapegrad as tg
        >>> "jac" in tg.minimize(lambda w: w ** 2, 1.0, steps=1).keys()
        True
        """
        return list(_KEYS)

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(f"a MinimizeResult has no {key!r}; it answers to {list(_KEYS)}")
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in _KEYS

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "fn": picklable_or_none(self.fn)}

    def plot(self, kind: str = "trajectory", **kwargs: Any) -> Any:
        """A plotnine figure of the run: ``"trajectory"`` (default), ``"loss"``, ``"landscape"``, ``"state"``
        or ``"slice"`` (see ``History.plot``).

        >>> import tapegrad as tg
        >>> r = tg.minimize(lambda p: (p["x"] - 1) ** 2 + (p["y"] + 1) ** 2, {"x": 0.0, "y": 0.0}, steps=50)
        >>> r.plot("landscape").labels.x
        'x'
        """
        if kind in ("landscape", "slice"):
            kwargs.setdefault("fn", self.fn)
        return self.history.plot(kind, **kwargs)

    def _repr_html_(self) -> str:  # Jupyter: the status, why it stopped, the numbers and a small loss curve
        from .notebook import result_html

        return result_html(self)

    def __repr__(self) -> str:
        lines = [f"{k:>9}: {v!s}" for k, v in (
            ("status", self.status), ("success", self.success), ("message", self.message), ("fun", self.fun),
            ("x", self.x), ("grad", self.grad), ("steps", self.steps), ("nfev", self.nfev),
            ("history", repr(self.history)))]
        return "\n".join(lines)
