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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REASONS", "STATUSES", "Stop", "Words"]

STATUSES = ("converged", "max_steps", "diverged", "interrupted")

# reason -> the status it gives. steps: the steps asked for were taken; gtol, tol: the tests met;
# no_descent: the optimizer could go no further down; nonfinite: loss, gradient or a parameter became
# NaN/inf; callback: a callback asked to stop; ctrl_c: KeyboardInterrupt; error: an exception from fn,
# the optimizer or a callback (raised to the caller, with the run on it).
REASONS = {"steps": "max_steps", "gtol": "converged", "tol": "converged", "no_descent": "converged",
           "nonfinite": "diverged", "callback": "interrupted", "ctrl_c": "interrupted", "error": "interrupted"}

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

    reason: str
    step: int
    facts: Mapping[str, Any] = field(default_factory=dict)

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
        elif self.reason == "tol":
            text = f"converged at step {k}: the loss changed by {f['change']:.3g} (tol={f['tol']:g})"
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
    loss, prev, lr = f["loss"], f["prev_loss"], f["lr"]
    text = f"{what} at step {k} (the loss was {prev:.6g} at step {k - 1})"
    back = f"The parameters were put back to step {k - 1}, the last finite point; {words.kept}"
    if prev < -1e100 or loss == -math.inf:
        # Falling without end is not a step-size problem: a smaller rate only takes longer to get there.
        return text + ("; the loss fell without bound: the function seems to have no minimum (it is unbounded "
                       "below), so no learning rate will help. Check its sign (minimize, not maximize?) or add a "
                       f"term that bounds it. {back}")
    if math.isfinite(lr) and lr > 0:
        text += f"; the learning rate {lr:g} is probably too large: try a smaller one, e.g. {words.lr.format(lr / 10)}"
    else:
        text += "; try a smaller learning rate"
    return f"{text}. {back}"
