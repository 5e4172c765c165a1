"""`tf.<name>` that tapegrad lacks: an AttributeError that says so and what to use instead."""
import subprocess
import sys

import pytest

import tapegrad as tf
from tapegrad._missing import LEFT_OUT


def _message(name: str) -> str:
    with pytest.raises(AttributeError) as e:
        getattr(tf, name)
    return str(e.value)


def test_missing_names_are_still_missing_for_hasattr():
    assert not hasattr(tf, "no_such_name") and not hasattr(tf, "data") and not hasattr(tf, "__wrapped__")
    assert hasattr(tf, "plot") and hasattr(tf, "testing") and hasattr(tf, "keras")  # the lazy ones still load
    with pytest.raises(ImportError):
        exec("from tapegrad import no_such_name", {})


def test_a_name_tapegrad_has_in_a_namespace_is_named():
    assert _message("relu").endswith("tapegrad does not provide tf.relu; it has tf.nn.relu")


@pytest.mark.parametrize("typo, meant", [("matmull", "matmul"), ("GradientTap", "GradientTape"),
                                         ("variable", "Variable"), ("reduce_meen", "reduce_mean"),
                                         ("softmx", "math.softmax")])
def test_a_near_miss_names_the_closest_name(typo: str, meant: str) -> None:
    msg = _message(typo)
    assert msg.startswith(f"module 'tapegrad' has no attribute {typo!r}: tapegrad does not provide tf.{typo}")
    assert msg.endswith(f"did you mean tf.{meant}?")


def test_a_name_with_nothing_close_says_only_that():
    assert "does not provide tf.zzqx (see the README" in _message("zzqx")


@pytest.mark.parametrize("name", sorted(LEFT_OUT))
def test_parts_of_tensorflow_left_out_say_what_they_are(name: str) -> None:
    what, instead = LEFT_OUT[name]
    assert _message(name).endswith(f"tf.{name} is {what}, which tapegrad leaves out; {instead}")


def test_left_out_names_are_really_missing():
    # A name another part of tapegrad comes to provide must leave this table.
    assert not [n for n in LEFT_OUT if n in vars(tf)]


def test_keras_layers_still_say_so():
    with pytest.raises(AttributeError, match="tapegrad has no tf.keras.layers"):
        tf.keras.layers  # noqa: B018


def test_the_message_module_is_loaded_only_when_a_name_is_missing():
    code = "import sys, tapegrad; print('tapegrad._missing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
