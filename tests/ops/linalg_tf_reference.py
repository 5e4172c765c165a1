"""Regenerate ``linalg_tf_expected.py``: what real TensorFlow gives on every case of ``linalg_cases``.

Run it with a Python that has TensorFlow (tapegrad is not needed):

    python tests/ops/linalg_tf_reference.py            # writes tests/ops/linalg_tf_expected.py
    python tests/ops/linalg_tf_reference.py --check    # exits 1 if the stored table is out of date

Without TensorFlow it says so and exits 0 (skipped).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "linalg_tf_expected.py"


def _lit(v: Any) -> str:
    """A literal for nested lists of numbers (repr of a float is exact)."""
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, complex):
        return f"complex({v.real!r}, {v.imag!r})"
    return repr(v)


def render(table: dict, version: str) -> str:
    lines = ["# ruff: noqa: E501",
             '"""What TensorFlow gives on each case of ``linalg_cases``: GENERATED, do not edit by hand.', "",
             f"Made by tests/ops/linalg_tf_reference.py under TensorFlow {version}; rerun it to regenerate.",
             '"""', "", "EXPECTED = {"]
    for key, results in table.items():
        parts = ", ".join(f"{name!r}: {'None' if v is None else _lit(v.tolist())}" for name, v in results.items())
        lines.append(f"    {key!r}: {{{parts}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        print("skipped: TensorFlow is not installed in this Python")
        return 0
    sys.path.insert(0, str(HERE))
    import linalg_cases

    text = render({key: case(tf) for key, case in linalg_cases.CASES.items()}, tf.__version__)
    if "--check" in argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        print(f"{TARGET.name} is {'up to date' if current == text else 'out of date: rerun ' + Path(__file__).name}")
        return 0 if current == text else 1
    tmp = TARGET.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(TARGET)  # written whole or not at all
    print(f"wrote {len(linalg_cases.CASES)} cases to {TARGET.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
