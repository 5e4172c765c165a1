"""What the generators of TensorFlow reference tables share (``tf_dtype_reference``, ``linalg_tf_reference``):
literals for the recorded numbers, and running the generator (skip without TensorFlow, ``--check``, a whole write)."""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def literal(v: Any) -> str:
    """A Python literal for nested lists of numbers (repr of a float is exact); non-finite floats as INF / NAN."""
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if isinstance(v, complex):
        return f"complex({literal(v.real)}, {literal(v.imag)})"
    if isinstance(v, float) and not math.isfinite(v):
        return "NAN" if math.isnan(v) else ("INF" if v > 0 else "-INF")
    return repr(v)


def generate(script: str, target: Path, make: Callable[[Any], tuple[str, int]], argv: list[str]) -> int:
    """Run ``make(tf) -> (text, cases)`` under TensorFlow and write ``target``, or with ``--check`` say whether it
    is current (exit status 1 if not). Without TensorFlow: say so and return 0."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        print("skipped: TensorFlow is not installed in this Python")
        return 0
    text, cases = make(tf)
    if "--check" in argv:
        current = target.read_text() if target.exists() else ""
        print(f"{target.name} is {'up to date' if current == text else 'out of date: rerun ' + Path(script).name}")
        return 0 if current == text else 1
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(target)  # written whole or not at all
    print(f"wrote {cases} cases to {target.name}")
    return 0
