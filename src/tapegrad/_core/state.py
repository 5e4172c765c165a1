"""The thread-local state every op consults: active tapes, hooks, and a tracer when one runs.

Only this module writes it: the functions and context managers below are the one way in
(``GradientTape`` pushes and pops itself, ``custom_gradient`` adds a collecting tape,
forward-mode accumulators and debuggers hook every op, ``tg.function`` traces, and
``explain`` runs walks of its own in isolation).

``trace`` is set only while ``tg.function`` (tapegrad.compiler) traces a Python function: it is told when
a traced tensor's value leaves for Python (``escape``), when a Variable is written
(``assigned``) and when something is done that a replay could not repeat (``impure``);
``trace.tracks(x)`` says whether x's value may change from call to call.
"""
from __future__ import annotations

import collections
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class _Stack(threading.local):
    def __init__(self) -> None:
        self.tapes: list[Any] = []  # TapeState, innermost last
        self.hooks: list[Callable[..., Any]] = []  # forward-mode accumulators, debuggers, the tracer
        self.trace: Any = None
        # tg.debugging's NaN/inf checker while it checks numerics: told of every op (as a hook) and of
        # every rule the backward walk runs (backward reads it once per walk).
        self.numerics: Any = None
        self.numerics_hook: Any = None  # its on_op, as added to hooks (a bound method is made anew on each access)
        self.scope = ""  # the name scope new Variables are named in ("outer/inner/"), set by tg.name_scope
        # Recent results of gradient()/jacobian(): (weak result, weak tape that made it, ids of the tapes
        # recording then). explain() reads it to recognise a first derivative taken outside the outer tape.
        self.results: collections.deque = collections.deque(maxlen=256)


STATE = _Stack()
_NONE: frozenset = frozenset()

# One item for each tape recording and each hook added, in any thread. While it is empty (between the
# tapes of a descent loop, and always in a program that never records) no thread records, hooks or
# traces, and an op need not read its thread's STATE: a thread-local read costs more than the scalar
# arithmetic of a descent step. list.append and list.pop are atomic, so no thread can lose another's
# update; an item left behind (a tape entered and never exited) only costs that read again.
ACTIVE: list = []


def escape(x: Any) -> None:
    """``x``'s value is about to be used as a Python value (bool(), float(), .numpy(), ...)."""
    tracer = STATE.trace if ACTIVE else None
    if tracer is not None:
        tracer.escape(x)


def impure(what: str) -> None:
    """Something a straight-line replay cannot repeat happened (a new Variable, a random draw)."""
    tracer = STATE.trace if ACTIVE else None
    if tracer is not None:
        tracer.impure(what)


# ---- tapes --------------------------------------------------------------------------------------------
def push(tape: Any) -> None:
    """Start recording on ``tape`` (innermost)."""
    STATE.tapes.append(tape)
    ACTIVE.append(None)


def pop(tape: Any) -> None:
    """Stop recording on ``tape``, wherever it is in the stack."""
    tapes = STATE.tapes
    if tapes and tapes[-1] is tape:  # the usual case: the innermost
        tapes.pop()
        ACTIVE.pop()
        return
    for i in range(len(tapes) - 1, -1, -1):
        if tapes[i] is tape:
            del tapes[i]
            ACTIVE.pop()
            return


def is_recording(tape: Any) -> bool:
    for t in STATE.tapes:
        if t is tape:
            return True
    return False


@contextmanager
def paused(tape: Any) -> Iterator[None]:
    """``tape`` records nothing inside the block (``stop_recording``)."""
    pop(tape)
    try:
        yield
    finally:
        push(tape)


@contextmanager
def also_recording(tape: Any) -> Iterator[None]:
    """``tape`` records inside the block too, innermost, and leaves the stack as it was."""
    saved = STATE.tapes
    STATE.tapes = saved + [tape]
    ACTIVE.append(None)
    try:
        yield
    finally:
        STATE.tapes = saved
        ACTIVE.pop()


@contextmanager
def isolated() -> Iterator[None]:
    """Nothing is recorded, hooked or traced inside the block (a walk of explain's own, say)."""
    saved = STATE.tapes, STATE.hooks, STATE.trace, STATE.numerics
    STATE.tapes, STATE.hooks, STATE.trace, STATE.numerics = [], [], None, None
    try:
        yield
    finally:
        STATE.tapes, STATE.hooks, STATE.trace, STATE.numerics = saved


# ---- hooks and the tracer ----------------------------------------------------------------------------
def add_hook(hook: Callable[..., Any]) -> None:
    """``hook(prim, inputs, params, out)`` is told of every op from now on (innermost last)."""
    STATE.hooks.append(hook)
    ACTIVE.append(None)


def remove_hook(hook: Callable[..., Any]) -> None:
    hooks = STATE.hooks
    for i in range(len(hooks) - 1, -1, -1):
        if hooks[i] is hook:
            del hooks[i]
            ACTIVE.pop()
            return


@contextmanager
def hooked(hook: Callable[..., Any]) -> Iterator[None]:
    """``hook`` is told of every op inside the block."""
    add_hook(hook)
    try:
        yield
    finally:
        remove_hook(hook)


@contextmanager
def tracing(tracer: Any) -> Iterator[None]:
    """``tracer`` is the trace inside the block, and its ``on_op`` is told of every op."""
    saved = STATE.trace
    STATE.trace = tracer
    hook = tracer.on_op
    add_hook(hook)
    try:
        yield
    finally:
        remove_hook(hook)
        STATE.trace = saved


# ---- checking numerics (tg.debugging) ------------------------------------------------------------------
def start_numerics(checker: Any) -> Any:
    """``checker`` checks every op from now on (``checker.on_op`` as a hook) and every backward rule; returns the
    checker it replaces (None if none)."""
    old = stop_numerics()
    STATE.numerics = checker
    STATE.numerics_hook = checker.on_op
    add_hook(STATE.numerics_hook)
    return old


def stop_numerics() -> Any:
    """No checker from now on; returns the one that checked (None if none)."""
    old = STATE.numerics
    if old is not None:
        remove_hook(STATE.numerics_hook)
        STATE.numerics = STATE.numerics_hook = None
    return old


@contextmanager
def numerics_checked(checker: Any) -> Iterator[None]:
    """``checker`` checks inside the block; whatever checked before checks again after it."""
    old = start_numerics(checker)
    try:
        yield
    finally:
        stop_numerics()
        if old is not None:
            start_numerics(old)


# ---- why a gradient is None, said by gradient() itself (tg.debugging.explain_none_gradients) ---------------
# Process-wide, like the switch that sets it: gradient() reads it only when a result is None.
_none_gradient_hook: list[Any] = [None]


def set_none_gradient_hook(hook: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """``hook(tape, targets, sources, results)`` is told of each gradient() that returns a None; returns the old
    hook."""
    old = _none_gradient_hook[0]
    _none_gradient_hook[0] = hook
    return old


def none_gradient_hook() -> Callable[..., Any] | None:
    return _none_gradient_hook[0]
@contextmanager
def scoped(scope: str) -> Iterator[None]:
    """New Variables are named under ``scope`` (a full scope, "a/b/") inside the block."""
    saved = STATE.scope
    STATE.scope = scope
    try:
        yield
    finally:
        STATE.scope = saved


# ---- gradient results ----------------------------------------------------------------------------------
def note_results(tape: Any, results: list, tensor_type: type) -> None:
    """GradientTape tells which tensors a gradient()/jacobian() made, and which tapes were recording then."""
    recording = frozenset(map(id, STATE.tapes)) if ACTIVE and STATE.tapes else _NONE
    made_by = weakref.ref(tape)
    append = STATE.results.append
    for g in results:
        if isinstance(g, tensor_type):
            append((weakref.ref(g), made_by, recording))


def gradient_origin(t: Any) -> tuple | None:
    """(the tape whose gradient made ``t``, ids of the tapes recording then), or None."""
    for ref, made_by, recording in reversed(STATE.results):
        if ref() is t:
            return made_by(), recording
    return None
