"""The user's frame: the innermost one outside tapegrad, where messages should point and names live."""
from __future__ import annotations

import sys
from typing import Any


def _ours(frame: Any) -> bool:
    name = frame.f_globals.get("__name__", "")
    return name == "tapegrad" or name.startswith("tapegrad.")


def user_frame() -> Any:
    """The innermost frame of the caller's stack that is not tapegrad's own (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None and _ours(frame):
        frame = frame.f_back
    return frame


def user_line() -> str:
    """``file, line N, in function`` of the user's frame."""
    frame = user_frame()
    if frame is None:
        return "inside tapegrad"
    return f"{frame.f_code.co_filename}, line {frame.f_lineno}, in {frame.f_code.co_name}"


def warn_at_user(message: str, category: type[Warning], stacklevel: int = 3) -> None:
    """Issue a warning from the user's frame: their filters, and Python's once-per-line registry, treat it
    as raised on the line they wrote (``stacklevel`` is used only when there is no such frame)."""
    import warnings

    frame = user_frame()
    if frame is None:
        warnings.warn(message, category, stacklevel=stacklevel)
        return
    g = frame.f_globals
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=g.get("__name__", "<string>"),
                           registry=g.setdefault("__warningregistry__", {}), module_globals=g)
