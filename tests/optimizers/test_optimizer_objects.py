"""The Keras-style surface: apply_gradients, minimize, iterations, slots, and clear errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers


def test_apply_gradients_returns_iterations_and_counts_steps():
    w = tg.Variable(1.0)
    opt = O.SGD(0.1)
    it = opt.apply_gradients([(tg.constant(2.0), w)])
    assert it is opt.iterations and int(it) == 1 and it.dtype == tg.int64
    assert w.numpy() == np.float32(1.0) - np.float32(0.1) * np.float32(2.0)


def test_minimize_with_a_loss_function_and_with_a_tape():
    w = tg.Variable(np.float64(3.0))
    opt = O.SGD(0.25)
    assert opt.minimize(lambda: w**2, [w]) == 9.0
    assert float(w.numpy()) == 3.0 - 0.25 * 6.0
    with tg.GradientTape() as tape:
        loss = w**2
    opt.minimize(loss, [w], tape=tape)
    assert float(w.numpy()) == 1.5 - 0.25 * 3.0
    with pytest.raises(ValueError, match="without the tape"):
        opt.minimize(w**2, [w])


def test_none_gradient_is_skipped_with_a_warning_and_all_none_is_an_error():
    a, b = tg.Variable(1.0, name="a"), tg.Variable(1.0, name="b")
    opt = O.SGD(0.5)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b:0'\]"):
        opt.apply_gradients([(1.0, a), (None, b)])
    assert a.numpy() == 0.5 and b.numpy() == 1.0
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, a)])


def test_bad_inputs_say_what_to_do():
    w = tg.Variable(np.zeros(2))
    opt = O.SGD(0.1)
    with pytest.raises(ValueError, match=r"has shape \(3,\), but the Variable has shape \(2,\)"):
        opt.apply_gradients([(np.ones(3), w)])
    with pytest.raises(TypeError, match="not ndarray"):
        opt.apply_gradients([(np.ones(2), np.zeros(2))])
    with pytest.raises(ValueError, match="Keras feature tapegrad does not have"):
        O.Adam(use_ema=True)
    with pytest.raises(TypeError, match="unexpected argument 'momentum'"):
        O.Adam(momentum=0.9)
    with pytest.raises(ValueError, match="momentum must be in"):
        O.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="AdamW needs a weight_decay"):
        O.AdamW(weight_decay=None)


def test_slots_are_made_per_variable_on_first_use_and_readable():
    a, b = tg.Variable(np.ones(2)), tg.Variable(np.float64(1.0))
    opt = O.Adam(0.1)
    assert opt.get_slot_names() == ["momentum", "velocity"]
    opt.apply_gradients([(np.array([1.0, 2.0]), a)])
    opt.apply_gradients([(np.array([1.0, 2.0]), a), (3.0, b)])  # b joins later: its own fresh slots
    np.testing.assert_allclose(opt.get_slot(b, "momentum"), 0.1 * 3.0)
    np.testing.assert_allclose(opt.get_slot(a, "momentum"), 0.9 * 0.1 * np.array([1, 2]) + 0.1 * np.array([1, 2]))
    with pytest.raises(KeyError, match="slots are"):
        opt.get_slot(a, "nope")


def test_build_makes_adagrad_accumulators_at_their_initial_value():
    w = tg.Variable(np.zeros(3))
    opt = O.Adagrad(initial_accumulator_value=0.7)
    opt.build([w])
    np.testing.assert_array_equal(opt.get_slot(w, "accumulator"), np.full(3, 0.7))


def test_config_and_repr():
    opt = O.RMSprop(0.01, rho=0.8, centered=True, clipnorm=2.0)
    config = opt.get_config()
    assert config["rho"] == 0.8 and config["centered"] is True and config["clipnorm"] == 2.0
    assert config["learning_rate"] == 0.01 and config["name"] == "rmsprop"
    assert repr(opt).startswith("RMSprop(learning_rate=0.01")
    sched = O.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert O.SGD(sched).get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


def test_transform_optimizer_runs_a_chain_in_minimize():
    w = tg.Variable(np.array([4.0, -4.0]))
    opt = O.TransformOptimizer(O.chain(O.clip(1.0), O.sgd(0.5)))
    opt.minimize(lambda: tg.reduce_sum(w**2), [w])  # gradient (8, -8) clipped to (1, -1)
    np.testing.assert_array_equal(w.numpy(), [3.5, -3.5])
    assert int(opt.iterations) == 1


def test_keras_style_loop_matches_tg_minimize():
    w = tg.Variable(np.float64(2.0))
    opt = O.Adam(0.1)
    for _ in range(20):
        opt.minimize(lambda: (w - 1.0) ** 2, [w])
    r = tg.minimize(lambda v: (v - 1.0) ** 2, np.float64(2.0), optimizer=O.Adam(0.1), steps=20)
    assert float(r.x) == float(w.numpy())


def test_no_warnings_in_a_normal_run():
    w = tg.Variable(1.0)
    opt = O.Nadam(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            opt.minimize(lambda: w**2, [w])


def test_integer_variables_are_refused_before_anything_changes():
    w, n = tg.Variable(np.float64(1.0)), tg.Variable(3)
    opt = O.SGD(0.1)
    with pytest.raises(TypeError, match="has dtype int32; only real floating-point Variables can be optimized"):
        opt.apply_gradients([(1.0, w), (1, n)])
    assert float(w.numpy()) == 1.0 and n.dtype == tg.int32 and int(n.numpy()) == 3 and int(opt.iterations) == 0


@pytest.mark.parametrize("pairs", [lambda w: [(1.0, w, 3)], lambda w: [(1.0, w), (1.0, w, 3)],
                                   lambda w: [1.0, 2.0], lambda w: [np.ones(2)], lambda w: 5, lambda w: [[1.0]]])
def test_malformed_pairs_say_what_apply_gradients_takes(pairs):
    w = tg.Variable(1.0)
    with pytest.raises(TypeError, match=r"takes \(gradient, variable\) pairs, e\.g\. zip\(grads, vars\)"):
        O.SGD(0.1).apply_gradients(pairs(w))
    assert w.numpy() == 1.0


@pytest.mark.parametrize("grad", ["1.0", "abc", b"1", ["1.0"], object(), [[1.0, 2.0], [3.0]]])
def test_gradients_that_are_not_numbers_are_refused_naming_the_variable(grad):
    w = tg.Variable(1.0, name="w")
    opt = O.Adam(0.1)
    with pytest.raises(TypeError, match="the gradient for Variable 'w:0' is .*not a number, array or tensor"):
        opt.apply_gradients([(grad, w)])
    with pytest.raises(TypeError, match="the gradient for Variable 'w:0'"):
        opt.apply([grad], [w])
    assert w.numpy() == 1.0 and int(opt.iterations) == 0


def test_lists_of_pairs_and_numbers_of_other_types_still_work():
    w = tg.Variable(np.float64(1.0))
    O.SGD(0.5).apply_gradients([[1, w]])   # a list for a pair, an int for a gradient
    assert float(w.numpy()) == 0.5


FIRST_ORDER = [lambda: O.SGD(0.1, momentum=0.5), lambda: O.Adam(0.1), lambda: O.TransformOptimizer(O.adam(0.1))]


@pytest.mark.parametrize("make", FIRST_ORDER)
def test_a_non_scalar_loss_steps_on_its_sum_and_returns_the_sum_as_tensorflow_does(make):
    w, ref = tg.Variable(np.array([1.0, -2.0])), tg.Variable(np.array([1.0, -2.0]))
    opt, ref_opt = make(), make()
    for _ in range(3):
        before = np.sum((w.numpy() * np.array([1.0, 3.0])) ** 2)
        got = opt.minimize(lambda: (w * tg.constant(np.array([1.0, 3.0]))) ** 2, [w])
        expected = ref_opt.minimize(lambda: tg.reduce_sum((ref * tg.constant(np.array([1.0, 3.0]))) ** 2), [ref])
        assert got == expected == pytest.approx(before, rel=1e-15)
    np.testing.assert_array_equal(w.numpy(), ref.numpy())
    with tg.GradientTape() as tape:
        loss = tg.stack([w, w])
    value = opt.minimize(loss, [w], tape=tape)
    assert value == pytest.approx(2 * float(np.sum(ref.numpy())), rel=1e-15)


@pytest.mark.parametrize("make", [O.LBFGS, O.Newton, O.LineSearchGD])
def test_line_search_minimize_needs_a_scalar_and_changes_nothing_without_one(make):
    w = tg.Variable(np.array([1.0, -2.0]))
    opt = make()
    with pytest.raises(ValueError, match=r"the loss must be a scalar, but it has shape \(2,\)"):
        opt.minimize(lambda: w**2, [w])
    np.testing.assert_array_equal(w.numpy(), [1.0, -2.0])
    assert int(opt.iterations) == 0


@pytest.mark.parametrize("make", [*FIRST_ORDER, O.LBFGS])
def test_a_single_variable_is_a_var_list_of_one(make):
    w, ref = tg.Variable(np.float64(3.0)), tg.Variable(np.float64(3.0))
    make().minimize(lambda: w**2, w)
    make().minimize(lambda: ref**2, [ref])
    assert float(w.numpy()) == float(ref.numpy()) != 3.0


@pytest.mark.parametrize("var_list", [5, "w", tg.constant(1.0)])
def test_var_list_must_be_a_list_of_variables(var_list):
    with pytest.raises(TypeError, match="var_list must be a list of Variables|not str"):
        O.SGD(0.1).minimize(lambda: tg.constant(1.0), var_list)


@pytest.mark.parametrize("make", FIRST_ORDER)
def test_a_loss_that_is_not_numbers_fails_before_any_change(make):
    w = tg.Variable(1.0)
    opt = make()
    with pytest.raises(TypeError, match="the loss must be a real number tensor, got NoneType"):
        opt.minimize(lambda: None, [w])
    assert w.numpy() == 1.0 and int(opt.iterations) == 0


def test_get_slot_of_a_variable_the_optimizer_never_saw_is_an_error_and_makes_no_slots():
    w = tg.Variable(np.array([1.0, 2.0]), name="w")
    opt = O.Adam(0.1)
    with pytest.raises(ValueError, match=r"Adam has no slots for 'w:0': it has not updated this Variable yet.*"
                                         r"opt\.build\(\[var\]\)"):
        opt.get_slot(w, "momentum")
    opt.apply_gradients([(np.array([1.0, 1.0]), w)])  # slots made now start from zero, as for a new Variable
    np.testing.assert_allclose(opt.get_slot(w, "momentum"), 0.1 * np.ones(2))
    other = tg.Variable(0.0)
    opt.build([other])
    assert float(opt.get_slot(other, "velocity")) == 0.0


@pytest.mark.parametrize("member", [
    O.Optimizer.iterations.fget, O.Optimizer.learning_rate.fget, O.NoDescent, O.Problem.values,
    O.Problem.set_values, O.Problem.set_flat, O.TransformOptimizer.learning_rate.fget,
    *[cls.__call__ for cls in (O.schedules.LearningRateSchedule, O.schedules.ExponentialDecay,
                               O.schedules.InverseTimeDecay, O.schedules.PiecewiseConstantDecay,
                               O.schedules.PolynomialDecay, O.schedules.CosineDecay)],
], ids=lambda m: m.__qualname__)
def test_members_document_themselves_with_an_example(member):
    # tests/test_docs.py runs every example; this says which members must have one.
    assert ">>>" in (member.__doc__ or "")
