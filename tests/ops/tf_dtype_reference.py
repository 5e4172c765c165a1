"""Regenerate ``tf_dtypes_expected.py``: what real TensorFlow gives on every case of ``dtype_cases``
(dtypes and values, and gradients with respect to complex inputs).

Run it with a Python that has TensorFlow (tapegrad is not needed):

    python tests/ops/tf_dtype_reference.py            # writes tests/ops/tf_dtypes_expected.py
    python tests/ops/tf_dtype_reference.py --check    # exits 1 if the stored table is out of date

Without TensorFlow it says so and exits 0 (skipped), so it is safe to run anywhere.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

try:
    from .tf_generate import generate, literal
except ImportError:  # run as a script
    from tf_generate import generate, literal

HERE = Path(__file__).resolve().parent
TARGET = HERE / "tf_dtypes_expected.py"


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
            lines.append(f"    {key!r}: {{'dtype': {r['dtype']!r}, 'value': {literal(r['value'])}}},")
    lines.append("}")
    lines.append("")
    lines.append("# Gradients [d/dz, d/dw] of a real loss of each dtype_cases.GRADS[name](z, w), complex128.")
    lines.append("GRADIENTS = {")
    for key, gs in grads.items():
        lines.append(f"    {key!r}: [{', '.join('None' if g is None else literal(g) for g in gs)}],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    import dtype_cases

    def make(tf: Any) -> tuple[str, int]:
        table = {key: dtype_cases.run(tf, key) for key in dtype_cases.CASES}
        grads = {name: dtype_cases.run_gradient(tf, name) for name in dtype_cases.GRADS}
        if "--print" in argv:
            for key, r in table.items():
                print(key, r)
        return render(table, grads, tf.__version__), len(table)

    return generate(__file__, TARGET, make, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
