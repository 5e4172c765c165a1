"""Regenerate ``linalg_tf_expected.py``: what real TensorFlow gives on every case of ``linalg_cases``.

Run it with a Python that has TensorFlow (tapegrad is not needed):

    python tests/ops/linalg_tf_reference.py            # writes tests/ops/linalg_tf_expected.py
    python tests/ops/linalg_tf_reference.py --check    # exits 1 if the stored table is out of date

Without TensorFlow it says so and exits 0 (skipped).
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
TARGET = HERE / "linalg_tf_expected.py"


def render(table: dict, version: str) -> str:
    lines = ["# ruff: noqa: E501",
             '"""What TensorFlow gives on each case of ``linalg_cases``: GENERATED, do not edit by hand.', "",
             f"Made by tests/ops/linalg_tf_reference.py under TensorFlow {version}; rerun it to regenerate.",
             '"""', "", "EXPECTED = {"]
    for key, results in table.items():
        parts = ", ".join(f"{name!r}: {'None' if v is None else literal(v.tolist())}" for name, v in results.items())
        lines.append(f"    {key!r}: {{{parts}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    import linalg_cases

    def make(tf: Any) -> tuple[str, int]:
        table = {key: case(tf) for key, case in linalg_cases.CASES.items()}
        return render(table, tf.__version__), len(table)

    return generate(__file__, TARGET, make, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
