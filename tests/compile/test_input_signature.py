"""TensorSpec and tg.function(input_signature=...): TensorFlow 2.21's checks and conversions."""
import numpy as np
import pytest

import tapegrad as tg


def test_tensor_spec_holds_shape_dtype_and_name():
    s = tg.TensorSpec([None, 3], tg.float32, name="x")
    assert repr(s) == "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')"  # as TF 2.21 prints it
    assert s.shape == (None, 3) and s.dtype == tg.float32 and s.name == "x"
    assert repr(tg.TensorSpec(None)) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
    assert tg.TensorSpec((), "float64").dtype == tg.float64 and tg.TensorSpec(2, np.int32).shape == (2,)
    assert s == tg.TensorSpec([None, 3], name="x") and s != tg.TensorSpec([None, 3])
    assert hash(s) == hash(tg.TensorSpec((None, 3), "float32", "x"))
    assert s.is_compatible_with(tg.zeros((5, 3))) and not s.is_compatible_with(tg.zeros((5, 2)))
    assert not s.is_compatible_with(tg.zeros((5, 3), tg.float64))
    assert s.is_compatible_with(tg.TensorSpec([2, 3])) and tg.TensorSpec(None).is_compatible_with(tg.zeros((1, 2, 3)))
    assert tg.TensorSpec.from_tensor(tg.zeros((2, 3)), name="q") == tg.TensorSpec((2, 3), name="q")


def test_tensor_spec_refuses_bad_dimensions_and_dtypes():
    with pytest.raises(TypeError, match="Dimension value must be integer or None"):
        tg.TensorSpec([None, "a"])
    with pytest.raises(TypeError, match="Dimension value must be integer or None"):
        tg.TensorSpec([2.5, 3])
    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        tg.TensorSpec([-1, 3])
    with pytest.raises(TypeError, match="unknown dtype"):
        tg.TensorSpec([2], "foo")


def _doubled_rows():
    @tg.function(input_signature=[tg.TensorSpec([None, 3], tg.float32)])
    def f(x):
        return tg.reduce_sum(x * 2.0, axis=1)
    return f


@pytest.mark.parametrize("arg", [
    tg.ones((2, 3)), tg.ones((4, 3)), np.ones((4, 3), np.float32), np.ones((4, 3)), [[1.0, 2.0, 3.0]], [[1, 2, 3]],
    tg.Variable(tg.ones((1, 3))),
])
def test_arguments_that_fit_or_convert_are_accepted(arg):
    # Tensors must match; other values are converted to the spec's dtype first (TF 2.21 accepts all of these).
    out = _doubled_rows()(arg)
    expected = np.asarray(arg if not isinstance(arg, tg.Variable) else arg.numpy(), np.float32).sum(axis=1) * 2
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == tg.float32


@pytest.mark.parametrize("call, match", [
    (lambda f: f(tg.ones((4, 3), tg.float64)), "float64.*does not fit"),
    (lambda f: f(tg.ones((4, 2))), "shape=\\(4, 2\\).*does not fit"),
    (lambda f: f(tg.ones((4,))), "does not fit"),
    (lambda f: f(3.0), "does not fit"),
    (lambda f: f(tg.ones((4, 3)), tg.ones(3)), "too many positional arguments"),
    (lambda f: f(), "missing a required argument: 'x'"),
])
def test_arguments_that_do_not_fit_are_a_type_error_as_in_tensorflow(call, match):
    with pytest.raises(TypeError, match=match):
        call(_doubled_rows())


def test_keywords_python_numbers_and_structures_bind_like_tensorflow():
    f = _doubled_rows()
    assert f(x=tg.ones((1, 3))).numpy().tolist() == [6.0]
    g = tg.function(lambda n, v: v * tg.cast(n, tg.float32),
                    input_signature=[tg.TensorSpec([], tg.int32), tg.TensorSpec([None], tg.float32)])
    for k in range(4):  # Python numbers become tensors: one signature, one trace
        assert g(k, [1.0, 2.0]).numpy().tolist() == [k, 2.0 * k]
    assert g.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="fraction"):
        g(2.5, [1.0])
    pair = tg.function(lambda p: p[0] + p[1], input_signature=[(tg.TensorSpec([2]), tg.TensorSpec([2]))])
    assert pair((tg.ones(2), tg.ones(2))).numpy().tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="list.*tuple"):
        pair([tg.ones(2), tg.ones(2)])
    d = tg.function(lambda x: x["a"], input_signature=[{"a": tg.TensorSpec([2])}])
    assert d({"a": [1.0, 2.0]}).dtype == tg.float32
    assert tg.function(lambda *a: a[0], input_signature=[tg.TensorSpec([2])])(tg.ones(2)).shape == (2,)
    assert tg.function(lambda x: x, input_signature=[tg.TensorSpec(None)])(tg.ones((2, 2))).shape == (2, 2)
    h = tg.function(lambda x, y=2.0: x * y, input_signature=[tg.TensorSpec([2])])
    assert h(tg.ones(2)).numpy().tolist() == [2.0, 2.0]
    with pytest.raises(TypeError):
        h(tg.ones(2), 3.0)  # TF: an argument outside the signature cannot be passed
    with pytest.raises(TypeError, match="missing type constraint for y"):
        tg.function(lambda x, y: x * y, input_signature=[tg.TensorSpec([2])])(tg.ones(2), 3.0)


def test_bad_signatures_are_refused_when_made():
    with pytest.raises(TypeError, match="must be either a tuple or a list"):
        tg.function(lambda x: x, input_signature=tg.TensorSpec([2]))
    with pytest.raises(TypeError, match="nested sequence of TensorSpec"):
        tg.function(lambda x: x, input_signature=[3])
    assert _doubled_rows().input_signature == (tg.TensorSpec([None, 3], tg.float32),)


def test_a_none_dimension_traces_per_concrete_shape_and_never_changes_an_answer():
    w = tg.Variable(1.0)

    @tg.function(input_signature=[tg.TensorSpec([None], tg.float32)])
    def step(x):
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum((x * w - 1.0) ** 2)
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss

    losses = [float(step(tg.constant([1.0, 2.0]))) for _ in range(3)] + [float(step(tg.constant([1.0, 2.0, 3.0])))]
    w2 = tg.Variable(1.0)
    expected = []
    for data in ([1.0, 2.0],) * 3 + ([1.0, 2.0, 3.0],):
        x = tg.constant(data)
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum((x * w2 - 1.0) ** 2)
        w2.assign_sub(0.1 * tape.gradient(loss, w2))
        expected.append(float(loss))
    assert losses == expected
    assert step.get_concrete_function(tg.constant([1.0])).compiled


def test_methods_with_a_signature_leave_self_out():
    class Scale(tg.Module):
        def __init__(self):
            super().__init__()
            self.w = tg.Variable(2.0)

        @tg.function(input_signature=[tg.TensorSpec([None], tg.float32)])
        def __call__(self, x):
            return x * self.w

    m = Scale()
    assert m([1.0, 2.0]).numpy().tolist() == [2.0, 4.0]
    with pytest.raises(TypeError, match="does not fit"):
        m(tg.ones((3, 1)))


def test_get_concrete_function_takes_fully_defined_specs():
    f = tg.function(lambda x: x * 2.0, input_signature=[tg.TensorSpec([2])])
    assert f.get_concrete_function()(tg.ones(2)).numpy().tolist() == [2.0, 2.0]
    g = tg.function(lambda x: x + 1.0)
    assert g.get_concrete_function(tg.TensorSpec([3])).compiled
    with pytest.raises(ValueError, match="any size"):
        _doubled_rows().get_concrete_function()
