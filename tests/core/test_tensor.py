"""Tensors and Variables: dtype policy, conversion, printing, Python protocols, errors."""
import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("value, dtype", [
    (1.0, "float32"), (1, "int32"), (True, "bool"), ([1.0, 2], "float32"), ([1, 2], "int32"),
    (np.float64(1.0), "float64"), (np.array([1, 2], dtype=np.int64), "int64"), (np.ones(2, np.float16), "float16"),
    (2**40, "int64"), ([[True, False]], "bool"),
])
def test_tensorflow_dtype_policy(value, dtype):
    assert tg.constant(value).dtype.name == dtype
    assert tg.Variable(value).dtype.name == dtype


def test_dtype_argument_casts():
    assert tg.constant(1, dtype=tg.float64).dtype == tg.float64
    x = tg.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tg.float32)
    assert x.dtype == tg.float32 and x.shape == (7,)
    assert tg.constant(1.0, dtype="float16").dtype.name == "float16"


def test_lossy_float_to_int_conversion_is_refused():
    with pytest.raises(TypeError, match="tg.cast"):
        tg.constant(2.5, dtype=tg.int32)
    assert tg.constant(2.0, dtype=tg.int32).numpy() == 2


def test_unknown_values_and_dtypes_are_refused_clearly():
    with pytest.raises(TypeError, match="cannot make a tensor from str"):
        tg.constant("abc")
    with pytest.raises(ValueError, match="ragged"):
        tg.constant([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="unknown dtype"):
        tg.constant(1.0, dtype="float128x")
    with pytest.raises(ValueError, match="None"):
        tg.constant(None)


def test_printing_matches_tensorflow():
    assert str(tg.constant(200.0)) == "tf.Tensor(200.0, shape=(), dtype=float32)"
    assert str(tg.constant([-6.0, 0.0, 6.0])) == "tf.Tensor([-6.  0.  6.], shape=(3,), dtype=float32)"
    assert repr(tg.constant(2.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=2.0>"
    assert repr(tg.Variable(20.0)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=20.0>"
    assert repr(tg.float32) == "tf.float32"
    assert f"{tg.constant(1.23456):.2f}" == "1.23"


def test_numpy_returns_scalars_for_scalars_and_copies_for_variables():
    assert isinstance(tg.constant(1.0).numpy(), np.float32)
    v = tg.Variable([1.0, 2.0])
    a = v.numpy()
    a[0] = 100.0
    assert v.numpy()[0] == 1.0


def test_variable_keeps_its_buffer_from_the_caller():
    data = np.array([1.0, 2.0])
    v = tg.Variable(data)
    data[0] = 50.0
    assert v.numpy()[0] == 1.0


def test_python_protocols():
    x = tg.constant(3.0)
    assert float(x) == 3.0 and int(x) == 3 and bool(x > 0)
    assert [0, 1, 2, 3][tg.constant(2)] == 2
    assert np.asarray(tg.constant([1.0, 2.0])).dtype == np.float32
    assert len(tg.zeros((4, 2))) == 4
    assert [float(r) for r in tg.constant([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(ValueError, match="exactly one element"):
        bool(tg.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="unhashable"):
        hash(x)
    assert {x.ref(): 1}[x.ref()] == 1 and x.ref().deref() is x


def test_shape_helpers():
    s = tg.zeros((2, 3)).shape
    assert s == (2, 3) and s.as_list() == [2, 3] and s.rank == 2 and s.num_elements() == 6
    assert str(s) == "(2, 3)"


def test_variable_assignment_and_errors():
    v = tg.Variable([1.0, 2.0], name="w")
    assert v.name == "w:0" and v.trainable
    v.assign([3.0, 4.0]).assign_add([1.0, 1.0]).assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    assert v.dtype == tg.float32
    with pytest.raises(ValueError, match="shape"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="initial_value"):
        tg.Variable()
    assert tg.Variable(lambda: 3.0).numpy() == 3.0


def test_read_value_is_a_recorded_tensor():
    v = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        r = v.read_value()
        y = r * r
    assert isinstance(r, tg.Tensor) and tape.gradient(y, v).numpy() == 4.0


def test_operators():
    a, b = tg.constant([7.0, -7.0]), tg.constant(2.0)
    np.testing.assert_array_equal((a // b).numpy(), [3.0, -4.0])
    np.testing.assert_array_equal((a % b).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal((a ** b).numpy(), [49.0, 49.0])
    np.testing.assert_array_equal((-a).numpy(), [-7.0, 7.0])
    np.testing.assert_array_equal(abs(a).numpy(), [7.0, 7.0])
    np.testing.assert_array_equal((2.0 - a).numpy(), [-5.0, 9.0])
    np.testing.assert_array_equal((1.0 / b).numpy(), 0.5)
    m = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal((m @ m).numpy(), np.array([[7.0, 10.0], [15.0, 22.0]]))
    np.testing.assert_array_equal((a > 0).numpy(), [True, False])
    np.testing.assert_array_equal((a == 7.0).numpy(), [True, False])
    assert (a == None) is False  # noqa: E711  (TensorFlow returns False for None)
    assert ((a > 0) & (a < 10)).dtype == tg.bool
    np.testing.assert_array_equal((np.float32(2.0) * a).numpy(), [14.0, -14.0])
    assert isinstance(np.float32(2.0) * a, tg.Tensor)


def test_mixed_dtypes_are_refused_with_a_fix():
    with pytest.raises(tg.InvalidArgumentError, match=r"tg.cast"):
        tg.constant(1.0) + tg.constant(1.0, dtype=tg.float64)
    with pytest.raises(TypeError):
        tg.constant(1) * 0.5
    assert (tg.constant(1.0, dtype=tg.float64) * 2.0).dtype == tg.float64  # Python numbers adapt


def test_integer_division_gives_float64_like_tensorflow():
    assert (tg.constant(1) / tg.constant(2)).dtype == tg.float64


def test_indexing():
    x = tg.constant(np.arange(12.0).reshape(3, 4))
    v = x.numpy()
    np.testing.assert_array_equal(x[1].numpy(), v[1])
    np.testing.assert_array_equal(x[::-1, 1:3].numpy(), v[::-1, 1:3])
    np.testing.assert_array_equal(x[:, -1].numpy(), v[:, -1])
    np.testing.assert_array_equal(x[[0, 2]].numpy(), v[[0, 2]])
    np.testing.assert_array_equal(x[tg.constant([2, 0])].numpy(), v[[2, 0]])
    np.testing.assert_array_equal(x[..., None].numpy(), v[..., None])
    np.testing.assert_array_equal(x[x > 5.0].numpy(), v[v > 5])
    with pytest.raises(IndexError, match="does not fit"):
        x[5]
    with pytest.raises(IndexError, match="integers or booleans"):
        x[np.array([0.5])]


def test_repeated_integer_indices_add_up_in_the_gradient():
    x = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(x[[0, 0, 2]])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 0.0, 1.0])


def test_shape_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="cannot put 4 values"):
        tg.reshape([1.0, 2.0, 3.0, 4.0], (3, 2))
    with pytest.raises(ValueError, match="inner dimensions"):
        tg.matmul(tg.zeros((2, 3)), tg.zeros((2, 3)))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        tg.reduce_sum(tg.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        tg.broadcast_to(tg.zeros((3,)), (2, 2))
    with pytest.raises(tg.DTypeError, match="floating-point"):
        tg.exp(tg.constant(1))


def test_constructors():
    assert tg.range(5).dtype == tg.int32 and tg.range(1.0, 2.0, 0.5).dtype == tg.float32
    np.testing.assert_array_equal(tg.range(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_allclose(tg.linspace(-1.0, 1.0, 5).numpy(), np.linspace(-1, 1, 5))
    assert tg.fill((2, 2), 3).dtype == tg.int32
    assert tg.eye(2, 3).shape == (2, 3)
    assert tg.zeros_like(tg.constant([1, 2])).dtype == tg.int32
    np.testing.assert_array_equal(tg.shape(tg.zeros((2, 5))).numpy(), [2, 5])
