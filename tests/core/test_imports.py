"""`import tapegrad` stays light: optional and heavy modules load only when used."""
import subprocess
import sys

LAZY = ("pandas", "plotnine", "matplotlib", "tqdm", "numpy.random", "subprocess", "pathlib")


def test_import_tapegrad_loads_no_optional_or_heavy_module():
    code = f"import sys, tapegrad; print(sorted(m for m in {LAZY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"import tapegrad loaded {out.strip()}: import them where they are used"
