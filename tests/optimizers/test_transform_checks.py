"""Pure transformations say which gradient does not fit the state, instead of NaNs or NumPy broadcast errors."""
import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers


@pytest.mark.parametrize("make", [O.adam, O.sgd, lambda: O.chain(O.clip(1.0), O.adam()), O.rmsprop])
def test_a_none_gradient_is_an_error_not_nan(make):
    tx = make()
    with pytest.raises(TypeError, match=r"update\(\): the gradient is None, not a number"):
        tx.update(None, tx.init(np.zeros(2)))
    with pytest.raises(TypeError, match=r"the gradient at \['w'\] is None"):
        tx.update({"v": np.ones(2), "w": None}, tx.init({"v": np.zeros(2), "w": np.zeros(2)}))


def test_a_gradient_of_another_shape_names_the_leaf_and_both_shapes():
    tx = O.adam(0.1)
    with pytest.raises(ValueError, match=r"the gradient has shape \(3,\), but init\(\) saw a parameter of shape "
                                         r"\(2,\)"):
        tx.update(np.ones(3), tx.init(np.zeros(2)))
    state = tx.init({"a": np.zeros(2), "b": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"at \['b'\] has shape \(2,\), but init\(\) saw a parameter of shape "
                                         r"\(2, 2\)"):
        tx.update({"a": np.ones(2), "b": np.ones(2)}, state)


def test_sgd_without_state_still_checks_shapes():
    tx = O.sgd(0.1)
    with pytest.raises(ValueError, match=r"shape \(\), but init\(\) saw a parameter of shape \(3,\)"):
        tx.update([np.float64(1.0)], tx.init([np.zeros(3)]))


def test_a_dict_with_other_keys_is_refused():
    tx = O.adam(0.1)
    with pytest.raises(ValueError, match=r"structured as \{'b': array\}, but init\(\) made the state for "
                                         r"\{'a': array\}"):
        tx.update({"b": np.ones(2)}, tx.init({"a": np.zeros(2)}))


def test_add_decayed_weights_needs_gradients_and_parameters_of_one_structure():
    tx = O.add_decayed_weights(0.1)
    with pytest.raises(ValueError, match="gradients structured as \\[array\\] but parameters structured as "
                                         "\\[array, array\\]"):
        tx.update([np.ones(1)], tx.init(None), [np.ones(1), np.ones(1)])


def test_a_state_of_another_kind_and_a_bad_parameter_are_named():
    tx = O.adam(0.1)
    with pytest.raises(TypeError, match=r"takes the state that this transformation's init\(\) returned, not tuple"):
        tx.update(np.ones(2), ())
    with pytest.raises(TypeError, match=r"init\(\): the parameter at \[1\] is str 'x'"):
        tx.init([np.zeros(2), "x"])


def test_lists_and_tuples_are_one_structure_and_good_updates_are_unchanged():
    tx = O.sgd(0.5, momentum=0.5)
    state = tx.init((np.zeros(2), np.float64(0.0)))
    updates, state = tx.update([np.ones(2), 2.0], state)
    np.testing.assert_array_equal(updates[0], [-0.5, -0.5])
    assert float(updates[1]) == -1.0 and state.count == 1
    updates, _ = tx.update([np.ones(2), 2.0], state)
    np.testing.assert_array_equal(updates[0], [-0.75, -0.75])  # momentum: 0.5 * -0.5 - 0.5


def test_a_state_made_by_hand_without_spec_is_still_counted():
    state = O.transforms.RuleState(0, ((np.zeros(1),),), None)
    with pytest.raises(ValueError, match="2 gradients for a state made for 1"):
        O.sgd(0.1, momentum=0.9).update([np.ones(1), np.ones(1)], state)


def test_integer_parameters_are_refused_rather_than_left_unchanged():
    with pytest.raises(TypeError, match=r"init\(\): the parameter at \[0\] has dtype int64"):
        tg.optimizers.adam(0.1).init([np.array([1, 2])])
    with pytest.raises(TypeError, match="apply_updates: a parameter has dtype int64"):
        tg.optimizers.apply_updates([np.array([1, 2])], [np.ones(2)])
    with pytest.raises(TypeError, match="only real floating-point Variables"):
        tg.optimizers.apply_updates([tg.Variable(1)], [1.0])
