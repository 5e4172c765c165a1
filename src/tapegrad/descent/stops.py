"""Why a run stopped, as data (``Stop``), and its message rendered in the words of whoever shows it.

The library's message names its arguments (``learning_rate=``, ``x0``); the command line renders
the same ``Stop`` with its options (``--lr``, ``--init``, ``--csv``) through its own ``Words``, so
no message is ever reworded by searching it for phrases.

>>> from tapegrad.descent.stops import Stop, Words
>>> stop = Stop("gtol", 12, {"gnorm": 3e-7, "gtol": 1e-6})
>>> stop.status, stop.message()
('converged', 'converged at step 12: the gradient norm 3e-07 is <= gtol=1e-06')
>>> bad = Stop("nonfinite", 0, {"what": "loss", "value": float("nan")})
>>> bad.message(Words(start_long="the starting point", fn="EXPR", x0="--init"))
'diverged: the loss became nan at the starting point; check EXPR and --init (e.g. a log or sqrt of a negative)'
"""
from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REASONS", "STATUSES", "Reason", "Stop", "Words"]

STATUSES = ("converged", "max_steps", "diverged", "interrupted")


class Reason(str, enum.Enum):
    """Why a run stopped, for programs: ``result.reason``. A ``str`` too, so ``r.reason == "gtol"`` holds.

    ``STEPS`` the steps asked for were taken; ``MAX_TIME`` the time allowed ran out; ``GTOL``,
    ``FTOL`` (the loss's relative change), ``XTOL`` (the step's size), ``TARGET`` (the loss reached
    ``target``), ``PATIENCE`` (no new best loss for ``patience`` steps) and ``STAGNATION`` (the
    parameters stopped changing though the gradient is not zero) their tests met; ``NO_DESCENT``
    the optimizer could go no further down; ``NONFINITE`` the loss, gradient or a parameter became
    NaN/inf; ``UNBOUNDED`` the loss fell without bound; ``RUNAWAY`` the loss grew by ``runaway``
    times its scale without reaching inf; ``CALLBACK`` a callback asked to stop; ``CTRL_C``
    KeyboardInterrupt; ``ERROR`` an exception from fn, the optimizer or a callback (raised to the
    caller, with the run on it).

    >>> from tapegrad.descent import Reason
    >>> Reason("gtol") is Reason.GTOL, Reason.GTOL == "gtol", str(Reason.RUNAWAY)
    (True, True, 'runaway')
    """

    STEPS = "steps"
    MAX_TIME = "max_time"
    GTOL = "gtol"
    FTOL = "ftol"
    XTOL = "xtol"
    TARGET = "target"
    PATIENCE = "patience"
    STAGNATION = "stagnation"
    NO_DESCENT = "no_descent"
    NONFINITE = "nonfinite"
    UNBOUNDED = "unbounded"
    RUNAWAY = "runaway"
    CALLBACK = "callback"
    CTRL_C = "ctrl_c"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


# reason -> the status it gives (a time budget spent reads as max_steps: the run was cut short, not wrong).
REASONS = {"steps": "max_steps", "max_time": "max_steps", "gtol": "converged", "ftol": "converged",
           "xtol": "converged", "target": "converged", "patience": "converged", "stagnation": "converged",
           "no_descent": "converged", "nonfinite": "diverged", "unbounded": "diverged", "runaway": "diverged",
           "callback": "interrupted", "ctrl_c": "interrupted", "error": "interrupted"}

_STATIONARY = ("{} is a stationary point (the gradient there is exactly zero, so the steps never moved): it may be "
               "a maximum or a saddle point as well as a minimum, which the gradient alone cannot tell; start "
               "elsewhere to look for a minimum")


@dataclass(frozen=True)
class Words:
    """How a message names what the user gave: the API's words by default; the command line has its own.

    ``x0`` is the argument that gives the start, ``start`` the start as a sentence's subject and
    ``start_long`` in full; ``lr`` formats a suggested learning rate; ``kept`` says where every step
    can still be read.

    >>> from tapegrad.descent import Words
    >>> Words().lr.format(0.001), Words(lr="--lr {:g}").lr.format(0.001)
    ('learning_rate=0.001', '--lr 0.001')
    """

    fn: str = "the function"
    x0: str = "x0"
    start: str = "x0"
    start_long: str = "the starting point x0"
    lr: str = "learning_rate={:g}"
    kept: str = "the history keeps all steps"
    ctrl_c: str = "KeyboardInterrupt"


API = Words()


@dataclass(frozen=True)
class Stop:
    """Why a run stopped: ``reason`` (a key of ``REASONS``), the ``step`` it stopped at (the steps made) and
    the ``facts`` its message quotes (numbers and names); ``status`` follows from the reason.

    >>> from tapegrad.descent import Stop
    >>> Stop("steps", 3, {"asked": 3, "loss": 0.015625}).message()
    'ran the 3 steps asked for; loss 0.015625'
    """

    reason: Reason
    step: int
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", Reason(self.reason))  # a known reason, as the enum, from a str too

    @property
    def status(self) -> str:
        """``converged``, ``max_steps``, ``diverged`` or ``interrupted``.

        >>> from tapegrad.descent import Stop
        >>> Stop("ctrl_c", 5).status
        'interrupted'
        """
        return REASONS[self.reason]

    def message(self, words: Words = API) -> str:
        """The message for people, naming the user's inputs with ``words``.

        >>> from tapegrad.descent import Stop, Words
        >>> Stop("ctrl_c", 5).message(Words(ctrl_c="Ctrl-C"))
        'interrupted (Ctrl-C) at step 5; the parameters are those of the last recorded step'
        """
        f, k = self.facts, self.step
        if self.reason == "steps":
            text = f"ran the {f['asked']} steps asked for; loss {f['loss']:.6g}"
        elif self.reason == "gtol":
            text = f"converged at step {k}: the gradient norm {f['gnorm']:.3g} is <= gtol={f['gtol']:g}"
        elif self.reason == "ftol":
            text = f"converged at step {k}: the loss changed by {f['change']:.3g}, <= ftol={f['ftol']:g} times " \
                   f"max(1, |loss|)"
        elif self.reason == "xtol":
            text = f"converged at step {k}: the last step moved the parameters by {f['size']:.3g}, <= " \
                   f"xtol={f['xtol']:g}"
        elif self.reason == "target":
            text = f"converged at step {k}: the loss {f['loss']:.6g} is <= target={f['target']:g}"
        elif self.reason == "patience":
            text = f"stopped at step {k}: no loss below the best, {f['best']:.6g} at step {f['best_step']}, for " \
                   f"patience={f['patience']} steps"
        elif self.reason == "stagnation":
            text = f"stopped at step {k}: the parameters have not changed for stagnation={f['stagnation']} steps " \
                   f"though the gradient norm is {f['gnorm']:.3g}: the steps are below the parameters' rounding " \
                   "(a larger learning rate, or float64, may help)"
        elif self.reason == "max_time":
            text = f"stopped at step {k}: {f['elapsed']:.3g} s elapsed, max_time={f['max_time']:g} s; loss " \
                   f"{f['loss']:.6g}"
        elif self.reason == "runaway":
            text = f"diverged: the loss ran away at step {k}, to {f['loss']:.6g} from {f['start']:.6g} at " \
                   f"{words.start}, more than runaway={f['runaway']:g} times its scale; " + _advice(f["lr"], words)
        elif self.reason == "unbounded":
            text = f"diverged: {_diverged(k, f, words)}"
        elif self.reason == "no_descent":
            text = f"converged at step {k}: {f['text']}"  # the optimizer's own words
        elif self.reason == "nonfinite":
            text = f"diverged: {_diverged(k, f, words)}"
        elif self.reason == "error":
            where = f"at step {f['at']}, after its point was evaluated (in a callback or the optimizer's step)" \
                if f["during"] == "step" else f"while evaluating fn at step {f['at']}"
            return f"stopped by {f['error']}, raised {where}; the parameters are those of step {k}, the last point " \
                   "evaluated"
        else:
            why = "a callback asked to stop" if self.reason == "callback" else f"interrupted ({words.ctrl_c})"
            return f"{why} at step {k}; the parameters are those of the last recorded step"
        if f.get("stationary"):
            # Newton has the Hessian and says itself what kind of stationary point it stopped at; others cannot.
            note = _STATIONARY.format(words.start)
            return f"converged at step 0: {note}" if self.status == "converged" else f"{text}. {note}"
        return text


def _diverged(k: int, f: Mapping[str, Any], words: Words) -> str:
    what = f"the parameter {f['name']!r} became non-finite" if f["what"] == "parameter" else \
        f"the {f['what']} became {f['value']}"
    if k == 0:
        return f"{what} at {words.start_long}; check {words.fn} and {words.x0} (e.g. a log or sqrt of a negative)"
    prev, lr = f["prev_loss"], f["lr"]
    text = f"{what} at step {k} (the loss was {prev:.6g} at step {k - 1})"
    back = f"The parameters were put back to step {k - 1}, the last finite point; {words.kept}"
    if f.get("unbounded"):
        # Falling without end is not a step-size problem: a smaller rate only takes longer to get there.
        return text + ("; the loss fell without bound: the function seems to have no minimum (it is unbounded "
                       "below), so no learning rate will help. Check its sign (minimize, not maximize?) or add a "
                       f"term that bounds it. {back}")
    return f"{text}; {_advice(lr, words)}. {back}"


def unbounded(loss: float, prev_loss: float) -> bool:
    """Whether a run that left the finite range did so falling: the loss went to -inf or was beyond -1e100."""
    return prev_loss < -1e100 or loss == -math.inf


def _advice(lr: float, words: Words) -> str:
    if math.isfinite(lr) and lr > 0:
        return f"the learning rate {lr:g} is probably too large: try a smaller one, e.g. {words.lr.format(lr / 10)}"
    return "try a smaller learning rate"
