"""GradientTape's TensorFlow semantics, point by point, errors included."""
import gc
import weakref

import numpy as np
import pytest

import tapegrad as tg


def test_second_gradient_on_non_persistent_tape_says_use_persistent():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.jacobian(y, x)


def test_persistent_tape_gives_several_gradients_and_can_be_reentered():
    x = tg.Variable(3.0)
    tape = tg.GradientTape(persistent=True)
    with tape:
        y = x * x
    with tape:
        z = y * x
    assert tape.gradient(y, x).numpy() == 6.0
    assert tape.gradient(z, x).numpy() == 27.0  # 3x^2


def test_sources_structure_is_kept():
    a, b, c = tg.Variable(1.0), tg.Variable(2.0), tg.Variable(3.0)
    with tg.GradientTape(persistent=True) as tape:
        y = a * b * c
    g = tape.gradient(y, {"p": [a, (b,)], "q": c})
    assert isinstance(g, dict) and isinstance(g["p"], list) and isinstance(g["p"][1], tuple)
    assert (g["p"][0].numpy(), g["p"][1][0].numpy(), g["q"].numpy()) == (6.0, 3.0, 2.0)
    assert isinstance(tape.gradient(y, (a, b)), tuple)


def test_output_gradients_weight_the_targets():
    x = tg.Variable([1.0, 2.0])
    with tg.GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x, output_gradients=tg.constant([10.0, 100.0]))
    np.testing.assert_array_equal(g.numpy(), [20.0, 400.0])


def test_output_gradients_count_must_match():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * x
    with pytest.raises(ValueError, match="one per target"):
        tape.gradient([y, y], x, output_gradients=[1.0])


def test_unconnected_gradients_accepts_strings_and_rejects_others():
    x, y = tg.Variable([1.0, 2.0]), tg.Variable(1.0)
    with tg.GradientTape(persistent=True) as tape:
        z = y * 2.0
    np.testing.assert_array_equal(tape.gradient(z, x, unconnected_gradients="zero").numpy(), [0, 0])
    with pytest.raises(ValueError, match="'none' or 'zero'"):
        tape.gradient(z, x, unconnected_gradients="zeros")


def test_sources_must_be_tensors():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * x
    with pytest.raises(TypeError, match="sources must be Tensors or Variables"):
        tape.gradient(y, 1.0)


def test_target_none_is_explained():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        x * x
    with pytest.raises(TypeError, match="target is None"):
        tape.gradient(None, x)


def test_watch_rejects_python_numbers_with_a_fix():
    with tg.GradientTape() as tape:
        for bad in (3.0, "abc", None, np.float32(2.0), [tg.constant(1.0), 2.0]):
            with pytest.raises(ValueError, match="tg.constant"):  # ValueError, as in TensorFlow
                tape.watch(bad)


def test_watch_nested_structures():
    a, b = tg.constant(1.0), tg.constant(2.0)
    with tg.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b]})
        y = a * b
    assert [g.numpy() for g in tape.gradient(y, [a, b])] == [2.0, 1.0]


def test_gradient_inside_non_persistent_context_stops_recording():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = x * x
        g = tape.gradient(y, x)
        z = x * 5.0  # not recorded any more, as in TensorFlow
    assert g.numpy() == 4.0
    with pytest.raises(RuntimeError):
        tape.gradient(z, x)


def test_gradient_inside_persistent_context_warns_and_records():
    x = tg.Variable(2.0)
    with tg.GradientTape(persistent=True) as tape:
        y = x * x * x
        with pytest.warns(UserWarning, match="inside its context"):
            g = tape.gradient(y, x)
    assert g.numpy() == 12.0
    assert tape.gradient(g, x).numpy() == 12.0  # 6x: the first gradient was recorded


def test_stop_recording_outside_context_is_an_error():
    tape = tg.GradientTape()
    with pytest.raises(ValueError, match="inside the tape"):
        with tape.stop_recording():
            pass


def test_non_trainable_variable_is_not_watched_unless_asked():
    x = tg.Variable(2.0, trainable=False)
    with tg.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 4.0


def test_assign_after_read_does_not_change_the_recorded_value():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = x * x
        x.assign(100.0)
    assert tape.gradient(y, x).numpy() == 4.0


def test_gradient_of_a_source_itself_is_one():
    x = tg.Variable([1.0, 2.0])
    with tg.GradientTape() as tape:
        y = tg.identity(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 1.0])


def test_integer_ops_are_not_recorded():
    x = tg.Variable(2.5)
    with tg.GradientTape() as tape:
        n = tg.cast(x, tg.int32)
        y = tg.cast(n, tg.float32) * x
    assert tape.gradient(y, x).numpy() == 2.0


def test_non_persistent_tape_frees_intermediates():
    x = tg.Variable(np.ones(1000))
    with tg.GradientTape() as tape:
        h = tg.exp(x)
        y = tg.reduce_sum(h * h)
    ref = weakref.ref(h)
    del h
    tape.gradient(y, x)
    gc.collect()
    assert ref() is None


def test_custom_gradient_with_variables_needs_variables_argument():
    w = tg.Variable(3.0)

    @tg.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * w, [dy * x]
        return x * w, grad

    x = tg.constant(2.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gw = tape.gradient(y, [x, w])
    assert (gx.numpy(), gw.numpy()) == (3.0, 2.0)

    @tg.custom_gradient
    def bad(x):
        return x * w, lambda dy: dy

    with pytest.raises(TypeError, match="variables"):
        bad(x)


def test_custom_gradient_can_be_differentiated_again():
    @tg.custom_gradient
    def cube(x):
        def grad(dy):
            return dy * 3.0 * x * x
        return x * x * x, grad

    x = tg.Variable(2.0)
    with tg.GradientTape() as t2:
        with tg.GradientTape() as t1:
            y = cube(x)
        g = t1.gradient(y, x)
    assert g.numpy() == 12.0 and t2.gradient(g, x).numpy() == 12.0


def test_ties_in_reduce_max_share_the_gradient():
    x = tg.Variable([1.0, 3.0, 3.0, 2.0])
    with tg.GradientTape() as tape:
        y = tg.reduce_max(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0.5, 0.5, 0])


def test_maximum_tie_sends_gradient_to_first_argument():
    x, y = tg.Variable(1.0), tg.Variable(1.0)
    with tg.GradientTape() as tape:
        z = tg.maximum(x, y)
    assert [g.numpy() for g in tape.gradient(z, [x, y])] == [1.0, 0.0]


def test_sqrt_gradient_at_zero_is_inf_and_relu_at_zero_is_zero():
    x = tg.Variable([0.0])
    with tg.GradientTape(persistent=True) as tape:
        s = tg.sqrt(x)
        r = tg.nn.relu(x)
    assert np.isinf(tape.gradient(s, x).numpy()[0])
    assert tape.gradient(r, x).numpy()[0] == 0.0


def test_stable_functions_with_large_inputs():
    x = tg.Variable([1000.0, -1000.0, 0.0], dtype=tg.float64)
    with tg.GradientTape(persistent=True) as tape:
        sp = tg.nn.softplus(x)
        ls = tg.nn.log_softmax(x)
        lse = tg.reduce_logsumexp(x)
        sg = tg.sigmoid(x)
    np.testing.assert_allclose(sp.numpy(), [1000.0, 0.0, np.log(2)], atol=1e-12)
    np.testing.assert_allclose(ls.numpy(), [0.0, -2000.0, -1000.0], atol=1e-9)
    assert lse.numpy() == 1000.0
    np.testing.assert_allclose(sg.numpy(), [1.0, 0.0, 0.5])
    for t in (sp, ls, lse, sg):
        assert np.all(np.isfinite(tape.gradient(t, x).numpy()))
    np.testing.assert_allclose(tape.gradient(lse, x).numpy(), [1.0, 0.0, 0.0])


def test_numpy_ufuncs_on_tensors_are_recorded():
    x = tg.Variable(0.5, dtype=tg.float64)
    with tg.GradientTape() as tape:
        y = np.sin(x) * 2.0
    assert isinstance(y, tg.Tensor)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * np.cos(0.5))


def test_numpy_function_without_op_warns_inside_a_tape():
    x = tg.Variable([1.0, 2.0])
    with tg.GradientTape():
        with pytest.warns(UserWarning, match="np.logaddexp.reduce has no tapegrad counterpart"):
            np.logaddexp.reduce(x)


def test_lists_of_tensors_are_stacked_and_recorded():
    a, b = tg.Variable(1.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        v = tg.convert_to_tensor([a, b * 2.0])
        y = tg.reduce_sum(v * v) + tg.reduce_sum([a, [b][0]])
    assert [g.numpy() for g in tape.gradient(y, [a, b])] == [3.0, 17.0]
