"""Where a NaN or an inf came from (``tf.debugging``): the first op or gradient rule that made one, and why.

``enable_check_numerics()`` (TensorFlow's name; ``checking_numerics()`` for a ``with`` block) checks
the output of every op, and in ``gradient()`` every cotangent a rule sends. The first that holds an
inf or a NaN raises :class:`NumericsError`, naming the op, the user's file and line that ran it (in
the backward pass: the line that recorded the op), the elements and the values that made it, and the
likely fix. ``check_numerics(t, message)`` checks one tensor, as in TensorFlow.
``explain_none_gradients()`` makes ``gradient()`` warn, with ``tape.explain``'s reason, the first time
a tape gives a None gradient.

>>> import tapegrad as tg
>>> with tg.debugging.checking_numerics():  # doctest: +ELLIPSIS
...     tg.math.log(tg.constant([1.0, 4.0]) - 1.0)
Traceback (most recent call last):
...
tapegrad.debugging.NumericsError: log produced -inf in 1 of 2 elements: [0] -inf
...
"""
from __future__ import annotations

import linecache
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tapegrad._core import state
from tapegrad._core.backend import xp
from tapegrad._core.dtypes import of_numpy
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.frames import user_frame, warn_at_user
from tapegrad._core.record import READ, Primitive, apply
from tapegrad._core.state import STATE
from tapegrad._core.tensor import Operand, Tensor, Variable
from tapegrad.explain.names import names_in
from tapegrad.ops import operand

from .asserts import assert_equal, assert_near, assert_shapes
from .reports import NumericsError, _backward_error, _elements, _forward_error, _line_text

NumericsError.__module__ = __name__  # it is tg.debugging.NumericsError

__all__ = ["NumericsError", "assert_equal", "assert_near", "assert_shapes", "check_numerics", "checking_numerics",
           "disable_check_numerics", "enable_check_numerics", "explain_none_gradients"]

# ---- switching it on ------------------------------------------------------------------------------
def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Check every op's output, and every gradient rule's, for inf and NaN from now on (in this thread).

    The limits are TensorFlow's arguments, accepted for compatibility (a report names one line).

    >>> import tapegrad as tg
    >>> tg.debugging.enable_check_numerics()
    >>> tg.debugging.disable_check_numerics()
    """
    if not isinstance(STATE.numerics, _Checker):
        state.start_numerics(_Checker())


def disable_check_numerics() -> None:
    """Stop checking numerics (what ``enable_check_numerics`` started).

    >>> import tapegrad as tg
    >>> tg.debugging.disable_check_numerics()  # nothing to stop: fine
    """
    state.stop_numerics()


@contextmanager
def checking_numerics() -> Iterator[None]:
    """Check numerics inside the ``with`` block only.

    >>> import tapegrad as tg
    >>> with tg.debugging.checking_numerics():
    ...     y = tg.sqrt(tg.constant(4.0))
    >>> y.numpy()
    np.float32(2.0)
    """
    with state.numerics_checked(_Checker()):
        yield


# ---- check_numerics -------------------------------------------------------------------------------
def _kinds(v: Any) -> str:
    nan, inf = bool(xp.isnan(v).any()), bool(xp.isinf(v).any())
    return "Inf and NaN" if nan and inf else "NaN" if nan else "Inf"


def _check_forward(v: Any, message: str) -> Any:
    if not xp.isfinite(v).all():
        frame = user_frame()
        where = f"\n  at {_line_text(frame.f_code.co_filename, frame.f_lineno)}" if frame is not None else ""
        raise NumericsError(f"{message} : Tensor had {_kinds(v)} values{where}\n  {_elements(v)}",
                            op="check_numerics", cause="check_numerics",
                            filename=frame.f_code.co_filename if frame else None,
                            lineno=frame.f_lineno if frame else None)
    return v


_GRADIENT = "Not a number (NaN) or infinity (Inf) values detected in gradient. "

_CHECK = Primitive(
    "check_numerics", _check_forward,
    (lambda g, ans, x, message: apply(_CHECK, (g,), {"message": _GRADIENT + message}),),
    jvp=lambda t, ans, x, message: apply(_CHECK, (t[0],), {"message": _GRADIENT + message}),
    register=False, batched=True)


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """``tensor`` itself, or NumericsError (an InvalidArgumentError) "message : Tensor had NaN values" if it holds
    NaN or inf. Its gradient is checked the same way.

    >>> import tapegrad as tg
    >>> tg.debugging.check_numerics(tg.constant([1.0, 2.0]), "ok").numpy()
    array([1., 2.], dtype=float32)
    """
    t = operand(tensor)
    if t._value.dtype.kind != "f":
        raise InvalidArgumentError(f"check_numerics() takes a floating-point tensor (float16, float32, float64), "
                                   f"got {of_numpy(t._value.dtype).name}")
    return apply(_CHECK, (t,), {"message": str(message)})


# ---- explain_none_gradients -----------------------------------------------------------------------
def explain_none_gradients(enabled: bool = True) -> None:
    """Make ``tape.gradient`` warn, with the reason ``tape.explain`` gives, the first time a tape returns None.

    Off by default; process-wide. The warning points at the ``gradient()`` call.

    >>> import tapegrad as tg
    >>> tg.debugging.explain_none_gradients(True)
    >>> tg.debugging.explain_none_gradients(False)
    """
    state.set_none_gradient_hook(_warn_none if enabled else None)


def _warn_none(tape: Any, target: Any, sources: Any) -> None:
    from tapegrad.explain import explain  # (same layer; imported late: explain imports much)

    reasons = [r for r in explain(tape, target, sources) if r.gradient is None]
    if reasons:
        warn_at_user("gradient() returned None:\n" + "\n".join(f"  {r}" for r in reasons), UserWarning, 4)


# ---- the checker ------------------------------------------------------------------------------------
class _Checker:
    """Told of every op (``on_op``, a hook) and of every rule the backward walk runs (``checked``)."""

    def __init__(self) -> None:
        self.lines: dict[int, tuple] = {}  # id(recorded output) -> (weak ref, filename, lineno)
        self.in_rule = 0  # ops a rule runs are its insides: the rule's result is what is checked

    def on_op(self, prim: Primitive, inputs: tuple, params: dict, out: Tensor) -> None:
        if STATE.tapes:
            self._note_line(out)
        if self.in_rule or prim is _CHECK:
            return
        v = out._value
        if v.dtype.kind in "fc" and not xp.isfinite(v).all():
            raise _forward_error(prim, inputs, params, out, user_frame())

    def _note_line(self, out: Tensor) -> None:
        frame = user_frame()
        if frame is None:
            return
        key = id(out)
        lines = self.lines

        def gone(ref: Any) -> None:
            if lines.get(key, (None,))[0] is ref:
                del lines[key]
        lines[key] = (weakref.ref(out, gone), frame.f_code.co_filename, frame.f_lineno)

    def line_of(self, out: Any) -> tuple[str, int] | None:
        noted = self.lines.get(id(out))
        if noted is None or noted[0]() is not out:
            return None
        return noted[1], noted[2]

    def checked(self, rule: Any, entries: list, i: int, k: int) -> Any:
        def run(g: Any, ans: Any, *inputs: Any, **params: Any) -> Any:
            self.in_rule += 1
            try:  # (NumPy's warnings inside a rule are about its insides: its result is checked instead)
                with xp.errstate(divide="ignore", over="ignore", invalid="ignore"):
                    gx = rule(g, ans, *inputs, **params)
            finally:
                self.in_rule -= 1
            if gx is not None and gx._value.dtype.kind in "fc" and not xp.isfinite(gx._value).all():
                raise _backward_error(self, entries, i, k, g, gx)
            return gx
        return run


