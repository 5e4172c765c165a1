"""Regenerate ``tf_dtypes_expected.py``: what real TensorFlow gives on every case of ``dtype_cases``
(dtypes and values, and gradients with respect to complex inputs).

Run it with a Python that has TensorFlow (tapegrad is not needed):

    python tests/ops/tf_dtype_reference.py            # writes tests/ops/tf_dtypes_expected.py
    python tests/ops/tf_dtype_reference.py --check    # exits 1 if the stored table is out of date

Without TensorFlow it says so and exits 0 (skipped), so it is safe to run anywhere.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = HERE / "tf_dtypes_expected.py"


def _lit(v: Any) -> str:
    """A Python literal for nested lists of numbers, with non-finite floats spelled out."""
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, complex):
        return f"complex({_lit(v.real)}, {_lit(v.imag)})"
    if isinstance(v, float) and not math.isfinite(v):
        return "NAN" if math.isnan(v) else ("INF" if v > 0 else "-INF")
    return repr(v)


def render(table: dict, grads: dict, version: str) -> str:
    lines = [
        "# ruff: noqa: E501",
        '"""What TensorFlow gives on each case of ``dtype_cases``: GENERATED, do not edit by hand.',
        "",
        f"Made by tests/ops/tf_dtype_reference.py under TensorFlow {version}; rerun it to regenerate.",
        '"""',
        "INF = float(\"inf\")",
        "NAN = float(\"nan\")",
        "",
        "EXPECTED = {",
    ]
    for key, r in table.items():
        if "python" in r:
            lines.append(f"    {key!r}: {{'python': {r['python']!r}}},")
        elif "error" in r:
            lines.append(f"    {key!r}: {{'error': {r['error']!r}, 'type': {r['type']!r}}},")
        else:
            lines.append(f"    {key!r}: {{'dtype': {r['dtype']!r}, 'value': {_lit(r['value'])}}},")
    lines.append("}")
    lines.append("")
    lines.append("# Gradients [d/dz, d/dw] of a real loss of each dtype_cases.GRADS[name](z, w), complex128.")
    lines.append("GRADIENTS = {")
    for key, gs in grads.items():
        lines.append(f"    {key!r}: [{', '.join('None' if g is None else _lit(g) for g in gs)}],")
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
    import dtype_cases

    table = {key: dtype_cases.run(tf, key) for key in dtype_cases.CASES}
    grads = {name: dtype_cases.run_gradient(tf, name) for name in dtype_cases.GRADS}
    text = render(table, grads, tf.__version__)
    if "--check" in argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.name} is out of date: rerun {Path(__file__).name}")
            return 1
        print(f"{TARGET.name} is up to date")
        return 0
    if "--print" in argv:
        for key, r in table.items():
            print(key, r)
        return 0
    tmp = TARGET.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(TARGET)  # written whole or not at all
    print(f"wrote {len(table)} cases to {TARGET.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
