"""The thread-local state every op consults: active tapes, hooks, and a tracer when one runs.

``trace`` is set only while ``tapegrad.function`` traces a Python function: it is told when
a traced tensor's value leaves for Python (``escape``), when a Variable is written
(``assigned``) and when something is done that a replay could not repeat (``impure``);
``trace.tracks(x)`` says whether x's value may change from call to call.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class _Stack(threading.local):
    def __init__(self) -> None:
        self.tapes: list[Any] = []  # TapeState, innermost last
        self.hooks: list[Callable[..., Any]] = []  # forward-mode accumulators, debuggers, the tracer
        self.trace: Any = None


STATE = _Stack()


def escape(x: Any) -> None:
    """``x``'s value is about to be used as a Python value (bool(), float(), .numpy(), ...)."""
    tracer = STATE.trace
    if tracer is not None:
        tracer.escape(x)


def impure(what: str) -> None:
    """Something a straight-line replay cannot repeat happened (a new Variable, a random draw)."""
    tracer = STATE.trace
    if tracer is not None:
        tracer.impure(what)
