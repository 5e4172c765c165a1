"""`import tapegrad` stays quick: what users reach for rarely loads on first use, and is then the same object."""
import subprocess
import sys

import tapegrad


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_tapegrad_leaves_the_descent_plots_and_heavy_stdlib_modules_unloaded():
    heavy = ["tapegrad.descent", "tapegrad.plot", "tapegrad.testing", "tapegrad.cli", "json", "csv", "secrets",
             "html", "array_api_compat", "pandas", "matplotlib"]
    code = f"import sys, tapegrad; print([m for m in {heavy!r} if m in sys.modules])"
    assert _run(code) == "[]"


def test_the_lazy_names_are_the_descent_s_own_and_in_dir_and_all():
    from tapegrad import History, MinimizeResult, minimize, race

    d = tapegrad.descent
    assert (minimize, History, MinimizeResult, race) == (d.minimize, d.History, d.MinimizeResult, d.race)
    assert {"descent", "minimize", "History", "plot", "testing"} <= set(dir(tapegrad)) & set(tapegrad.__all__)


def test_a_star_import_and_a_first_use_in_a_fresh_process_load_the_descent():
    code = ("from tapegrad import *\n"
            "r = minimize(lambda w: w ** 2, 1.0, learning_rate=0.25, steps=2)\n"
            "print(type(r.history) is History, r.history['w'].tolist())")
    assert _run(code) == "True [1.0, 0.5, 0.25]"


def test_a_misspelt_name_is_matched_against_the_lazy_names_too():
    code = ("import tapegrad as tf\n"
            "try:\n    tf.minimise\nexcept AttributeError as e:\n    print(e)")
    assert "did you mean tf.minimize?" in _run(code)


def test_tape_graph_and_replay_draw_without_an_import_of_their_own():
    code = ("import tapegrad as tg\nx = tg.Variable(2.0)\n"
            "with tg.GradientTape(persistent=True) as tape:\n    y = x * x\n"
            "print(tape.graph(y).svg().startswith('<svg'), type(tape.replay(y, x)).__name__)")
    assert _run(code) == "True Replay"
