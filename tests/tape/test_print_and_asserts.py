"""tg.print and the tf.debugging asserts (tapegrad.debugging.asserts), against output recorded with TensorFlow 2.21."""
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.debugging.asserts import assert_equal, assert_near, assert_shapes

# (inputs, keyword arguments, what tf.print wrote), each recorded by running the same call under TF 2.21.
_PRINTED = [
    (lambda: (tg.constant(2.0),), {}, "2\n"),
    (lambda: (tg.constant([1.5, 2.0, 3.0]),), {}, "[1.5 2 3]\n"),
    (lambda: ("x:", tg.constant([[1, 2], [3, 4]]), 5, 2.5, "s"), {}, "x: [[1 2]\n [3 4]] 5 2.5 s\n"),
    (lambda: (tg.range(20),), {}, "[0 1 2 ... 17 18 19]\n"),
    (lambda: (tg.range(20),), {"summarize": -1}, "[" + " ".join(map(str, range(20))) + "]\n"),
    (lambda: (tg.reshape(tg.range(60.0), (6, 10)),), {},
     "[[0 1 2 ... 7 8 9]\n [10 11 12 ... 17 18 19]\n [20 21 22 ... 27 28 29]\n [30 31 32 ... 37 38 39]\n"
     " [40 41 42 ... 47 48 49]\n [50 51 52 ... 57 58 59]]\n"),
    (lambda: (tg.constant([1.0, 2.0]),), {"sep": "|", "end": "END\n"}, "[1 2]END\n"),
    (lambda: (tg.constant(True), tg.constant(1.23456789, tg.float64), tg.constant(1e-8), tg.constant(1e10)), {},
     "1 1.23456789 1e-08 1e+10\n"),
    (lambda: (tg.constant([0.1, 1e-8, 123456.7]),), {}, "[0.1 1e-08 123456.703]\n"),
    (lambda: ({"a": tg.constant(1.0), "b": [tg.constant(2), 3]},), {}, "{'a': 1, 'b': [2, 3]}\n"),
    (lambda: (tg.Variable([1.0, 2.0]), np.array([1.0, 2.0]), [1.0, 2.0], (3, 4)), {},
     "[1 2] array([1., 2.]) [1.0, 2.0] (3, 4)\n"),
    (lambda: (tg.constant(np.nan), tg.constant([np.inf, -np.inf])), {}, "nan [inf -inf]\n"),
    (lambda: (tg.zeros((2, 0)), tg.ones((2, 2, 2))), {}, "[\n ...] [[[1 1]\n  [1 1]]\n\n [[1 1]\n  [1 1]]]\n"),
    (lambda: (tg.constant(0.1, tg.float16), tg.constant(1 / 3), tg.constant(1 / 3, tg.float64)), {},
     "0.0999755859 0.333333343 0.33333333333333331\n"),
    (lambda: (tg.constant(3, tg.uint8), tg.constant(-0.0), tg.constant([True, False])), {}, "3 -0 [1 0]\n"),
    (lambda: (tg.constant([[1.5, 2.0]]), tg.constant(2.0)), {"summarize": 0}, "[\n ...] ...\n"),
    (lambda: (tg.constant(np.arange(12.0).reshape(3, 4) / 3, tg.float64),), {"summarize": 1},
     "[[0 ... 1]\n ...\n [2.6666666666666665 ... 3.6666666666666665]]\n"),
    (lambda: ([tg.constant([1, 2]), {"k": (tg.constant(1.0), "str", None)}], "end", tg.constant(7, tg.int64)), {},
     "[[1 2], {'k': (1, 'str', None)}] end 7\n"),
]


@pytest.mark.parametrize("make, kwargs, expected", _PRINTED)
def test_print_writes_what_tensorflow_writes(make, kwargs, expected, capsys):
    tg.print(*make(), **kwargs)
    assert capsys.readouterr().err == expected
    tg.print(*make(), output_stream=sys.stdout, **kwargs)
    assert capsys.readouterr().out == expected


def test_print_to_a_file_appends(tmp_path):
    path = tmp_path / "log.txt"
    tg.print("a", tg.constant([1, 2]), output_stream=f"file://{path}")
    tg.print("b", output_stream=f"file://{path}")
    assert path.read_text() == "a [1 2]\nb\n"


def test_print_refuses_unknown_arguments_and_streams():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        tg.print("a", foo=1)
    with pytest.raises(ValueError, match="Unsupported output stream"):
        tg.print("a", output_stream=3)


def test_print_inside_tg_function_prints_every_call(capsys):
    f = tg.function(lambda x: (tg.print(x, output_stream=sys.stdout), x * 2.0)[1])
    for _ in range(3):
        f(tg.constant(1.5))
    assert capsys.readouterr().out == "1.5\n" * 3
    assert "from tapegrad import *" and "print" not in tg.__all__  # star imports keep Python's print


def _message(fn):
    with pytest.raises(tg.InvalidArgumentError) as info:
        fn()
    return str(info.value)


def test_assert_equal_passes_quietly_and_fails_with_tensorflows_message():
    assert assert_equal(tg.constant([1, 2]), [1, 2]) is None
    assert assert_equal(tg.constant([2.0, 2.0]), 2.0) is None
    # Recorded with TensorFlow 2.21 (tf.debugging.assert_equal, eager).
    assert _message(lambda: assert_equal(tg.constant([1, 2]), [1, 3], message="my msg")) == (
        "my msg\nCondition x == y did not hold.\nIndices of first 1 different values:\n[[1]]\n"
        "Corresponding x values:\n[2]\nCorresponding y values:\n[3]\nFirst 2 elements of x:\n[1 2]\n"
        "First 2 elements of y:\n[1 3]")
    assert _message(lambda: assert_equal(tg.ones((2, 3)), tg.zeros((2, 3)))) == (
        "Condition x == y did not hold.\nIndices of first 3 different values:\n[[0 0]\n [0 1]\n [0 2]]\n"
        "Corresponding x values:\n[1. 1. 1.]\nCorresponding y values:\n[0. 0. 0.]\nFirst 3 elements of x:\n"
        "[1. 1. 1.]\nFirst 3 elements of y:\n[0. 0. 0.]")
    assert _message(lambda: assert_equal(tg.constant([1.0, 2.0]), 1.0)) == (
        "Condition x == y did not hold.\nFirst 2 elements of x:\n[1. 2.]\nFirst 1 elements of y:\n[1.]")
    assert "First 1 elements of x:\n[1]" in _message(lambda: assert_equal(tg.constant([1, 2]), [1, 3], summarize=1))
    assert "Condition x == y" in _message(lambda: assert_equal(tg.constant(np.nan), tg.constant(np.nan)))


def test_assert_near_uses_ten_epsilons_by_default():
    assert assert_near(tg.constant([1.0, 2.0]), [1.0, 2.000001]) is None
    assert assert_near(tg.constant([1.0, 2.0]), [1.0, 2.1], rtol=0.1) is None
    msg = _message(lambda: assert_near(tg.constant([1.0, 2.0, 3.0, 4.0]), [1.0, 2.1, 3.0, 5.0], message="hi"))
    assert msg.startswith("hi.  x and y not equal to tolerance rtol = 1.1920929e-06, atol = 1.1920929e-06")
    assert "x (shape=(4,) dtype=float32) = \n1.0, 2.0, 3.0, ...\ny (shape=(4,) dtype=float32) = \n1.0, 2.1" in msg
    # float64 gets float64's epsilon: a difference float32 could not see is caught.
    _message(lambda: assert_near(tg.constant([1.0], tg.float64), [1.0 + 1e-9]))
    _message(lambda: assert_near(tg.constant([np.nan]), [np.nan]))  # NaN is near nothing, as in TF
    with pytest.raises(ValueError, match="floating-point"):
        assert_near(tg.constant([1, 2]), [1, 2])
    with pytest.raises(ValueError, match="float64"):
        assert_near(tg.constant([1.0]), tg.constant([1.0], tg.float64))


_SHAPE_FAILURES = [  # (shapes, message), messages recorded with TensorFlow 2.21
    ([("x", ("N", "Q")), ("y", ("N",))], "Specified by tensor shape=(2, 3) dtype=float32 dimension 0.  Tensor "
     "shape=(3,) dtype=float32 dimension 0 must have size 2.  Received size 3, shape (3,)"),
    ([("x", ("N", "Q")), ("z", ("N", "Q", 5))], "Specified explicitly.  Tensor shape=(2, 3, 4) dtype=float32 "
     "dimension 2 must have size 5.  Received size 4, shape (2, 3, 4)"),
    ([("x", (2,))], "Tensor  must have rank in (0, 1).  Received rank 2, shape (2, 3)"),
    ([("z", ("*", 3))], "Specified explicitly.  Tensor shape=(2, 3, 4) dtype=float32 dimension -1 must have size 3.  "
     "Received size 4, shape (2, 3, 4)"),
    ([("z", ("N", "Q"))], "Tensor  must have rank 2.  Received rank 3, shape (2, 3, 4)"),
    ([("x", ("N", "N"))], "Specified by tensor shape=(2, 3) dtype=float32 dimension 0.  Tensor shape=(2, 3) "
     "dtype=float32 dimension 1 must have size 2.  Received size 3, shape (2, 3)"),
    ([("x", ("*", "N", "Q", "R"))], "Tensor  must have rank at least 3.  Received rank 2, shape (2, 3)"),
    ([("y", ())], "Specified explicitly.  Tensor shape=(3,) dtype=float32 dimension 0 must have size 1.  "
     "Received size 3, shape (3,)"),
    ([("x", ("N", "*"))], "Tensor shape=(2, 3) dtype=float32 specified shape index 1.  Symbol `...` or `*` for a "
     "variable number of unspecified dimensions is only allowed as the first entry"),
]
_T = {"x": tg.zeros((2, 3)), "y": tg.zeros((3,)), "z": tg.zeros((2, 3, 4)), "s": tg.constant(1.0)}


@pytest.mark.parametrize("shapes, message", _SHAPE_FAILURES)
def test_assert_shapes_fails_as_tensorflow_does(shapes, message):
    with pytest.raises(ValueError) as info:
        assert_shapes([(_T[k], s) for k, s in shapes])
    assert str(info.value) == message
    with pytest.raises(ValueError, match="^mine.  "):
        assert_shapes([(_T[k], s) for k, s in shapes], message="mine")


@pytest.mark.parametrize("shapes", [
    [("x", ("N", "Q")), ("y", ("Q",)), ("z", ("N", "Q", 4))], [("x", (2, 3))], [("x", (".", 3))],
    [("z", ("*", 4))], [("z", (..., 3, 4))], [("s", ())], [("s", ("N",))], [("x", (None, 3))], [("x", "NQ")],
    [("x", None)],
])
def test_assert_shapes_passes_what_tensorflow_passes(shapes):
    assert assert_shapes([(_T[k], s) for k, s in shapes]) is None
    assert assert_shapes([([1.0, 2.0], ("N",))]) is None


def test_print_to_a_logging_level_logs(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="tapegrad"):
        tg.print("loss", tg.constant(0.5), output_stream=logging.info)
    assert [r.getMessage() for r in caplog.records] == ["loss 0.5"]
