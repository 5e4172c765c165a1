"""NumPy's RuntimeWarnings from an op's forward ("divide by zero encountered in log") point at the user's line.

NumPy warns from C, so Python files the warning under the innermost Python frame: tapegrad's
``apply`` (or a forward kernel written in Python), never the line the user wrote; and, shown once
per location, one such warning would stand for every line that divides by zero.

The cost has to stay off the hot path, so nothing is checked while ops run: one warnings filter,
appended at import (after every filter the user has or adds, so theirs win), turns into an
exception only a RuntimeWarning raised in tapegrad's code while ``apply`` runs a forward. ``apply``
catches it (a ``try`` costs nothing on Python 3.11+ until something raises), runs the forward
again with those warnings routed to a callback, and issues each one from the user's file and line
with ``warnings.warn_explicit``: the user's filters and the once-per-location registry then treat
it as a warning raised on that line. Without the filter (``warnings.resetwarnings()``, say) NumPy
warns as before, from tapegrad's line.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

from . import backend
from .backend import xp
from .frames import warn_at_user

_DEPTH = 8  # frames between a warning in a forward kernel and apply


class _InsideApply:
    """The filter's module test (duck-typed like a compiled pattern: the warnings module calls ``match``):
    true for a warning raised in tapegrad's code below ``apply``'s ``try``, where it is caught."""

    def __init__(self) -> None:
        self.apply: Any = None  # apply's code object, told by install()

    def match(self, module: Any) -> bool:
        if not isinstance(module, str) or not module.startswith("tapegrad"):
            return False
        frame = sys._getframe(1)
        for _ in range(_DEPTH):
            if frame is None:
                return False
            code = frame.f_code
            if code is self.apply:
                return True
            if code is _again.__code__:  # the second run: warnings are collected there, never raised
                return False
            name = frame.f_globals.get("__name__", "")
            if name != "tapegrad" and not name.startswith("tapegrad."):
                return False
            frame = frame.f_back
        return False

    def __repr__(self) -> str:
        return "<tapegrad: inside an op's forward>"


_MATCH = _InsideApply()


def install(apply_code: Any) -> None:
    """Append the filter once (``apply_code``: the code object of the function whose ``try`` catches)."""
    _MATCH.apply = apply_code
    if any(f[3] is _MATCH for f in warnings.filters):
        return
    mark = "tapegrad-inside-an-op"  # filterwarnings only takes patterns: swap ours in for a placeholder
    warnings.filterwarnings("error", category=RuntimeWarning, module=mark, append=True)
    for i, f in enumerate(warnings.filters):
        if getattr(f[3], "pattern", None) == mark:
            warnings.filters[i] = (f[0], f[1], f[2], _MATCH, f[4])


def rewarn(prim: Any, values: list, params: dict | None, caught: Warning) -> Any:
    """The forward of ``prim`` on ``values`` once more, its NumPy warnings issued from the user's line."""
    seen: list[str] = []
    modes = {k: "call" for k, v in xp.geterr().items() if v == "warn"}
    with xp.errstate(call=lambda err, flag: seen.append(err), **modes):
        out = _again(prim, values, params)
    text = str(caught)
    where = text.partition(" encountered in ")[2]
    messages = [text] + [f"{err} encountered in {where}" for err in dict.fromkeys(seen) if not text.startswith(err)]
    try:
        for message in messages:
            warn_at_user(message, RuntimeWarning)
    except Warning as e:  # the user's filters made it an error: raise it as theirs, not as ours
        raise e.with_traceback(None) from None
    return out


def _again(prim: Any, values: list, params: dict | None) -> Any:
    forward = prim.forward
    if any(map(backend.is_foreign, values)):  # an array_api_strict array, say, computing with NumPy inside
        ns = backend.common_namespace(values)
        forward = backend.forward_in(forward, ns)
        values = [ns.asarray(v) if isinstance(v, (xp.ndarray, xp.generic)) else v for v in values]
    return forward(*values, **params) if params else forward(*values)
