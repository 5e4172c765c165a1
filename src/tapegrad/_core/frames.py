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
