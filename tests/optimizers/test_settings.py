"""Optimizer settings are checked at construction, with one wording for the objects and the transformations."""
import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers


@pytest.mark.parametrize("make", [O.Adam, O.Adamax, O.Nadam, O.AdamW, O.adam, O.adamax, O.nadam])
@pytest.mark.parametrize("beta", ["beta_1", "beta_2"])
def test_adam_family_betas_must_be_below_one(make, beta):
    # beta_1 = 1 divided by zero at the first step; beta_2 = 1 made every Adam step silently zero.
    with pytest.raises(ValueError, match=rf"{beta} must be in \[0, 1\), got 1.0"):
        make(**{beta: 1.0})
    make(**{beta: 0.0})  # the closed end of the range is allowed


@pytest.mark.parametrize("make, bad", [
    (lambda v: O.SGD(momentum=v), "momentum"), (lambda v: O.RMSprop(rho=v), "rho"),
    (lambda v: O.Adadelta(rho=v), "rho"), (lambda v: O.Adam(epsilon=v), "epsilon"),
    (lambda v: O.sgd(momentum=v), "momentum"), (lambda v: O.Lion(beta_2=v), "beta_2"),
])
@pytest.mark.parametrize("value", [None, "0.9", True])
def test_hyper_parameters_must_be_numbers(make, bad, value):
    with pytest.raises(TypeError, match=f"{bad} must be a number, got"):
        make(value)


def test_epsilon_must_be_finite():
    with pytest.raises(ValueError, match="epsilon must be >= 0, got inf"):
        O.RMSprop(epsilon=float("inf"))


@pytest.mark.parametrize("make, name", [
    (lambda v: O.SGD(momentum=0.9, nesterov=v), "nesterov"), (lambda v: O.Adam(amsgrad=v), "amsgrad"),
    (lambda v: O.RMSprop(centered=v), "centered"), (lambda v: O.rmsprop(centered=v), "centered"),
])
def test_switches_must_be_booleans(make, name):
    with pytest.raises(TypeError, match=f"{name} must be True or False, got str 'no'"):
        make("no")


def test_numpy_booleans_are_booleans():
    assert O.Adam(amsgrad=np.bool_(True)).get_config()["amsgrad"] is True


@pytest.mark.parametrize("value, error, message", [
    ("5", TypeError, "memory must be a whole number"), (2.5, TypeError, "memory must be a whole number"),
    (0, ValueError, "memory must be >= 1, got 0"),
])
def test_lbfgs_memory_must_be_a_positive_int(value, error, message):
    with pytest.raises(error, match=message):
        O.LBFGS(memory=value)
    assert O.LBFGS(memory=np.int64(3)).memory == 3


def test_line_search_needs_at_least_one_backtrack_and_numbers():
    with pytest.raises(ValueError, match="max_backtracks must be >= 1"):
        O.Newton(max_backtracks=0)
    with pytest.raises(TypeError, match="c1 .* must be a number"):
        O.LineSearchGD(c1="0.1")


@pytest.mark.parametrize("keras_name, transform, transform_name", [
    ("clipvalue", O.clip, "max_delta"), ("clipnorm", O.clip_by_norm, "max_norm"),
    ("global_clipnorm", O.clip_by_global_norm, "max_norm"),
])
@pytest.mark.parametrize("value", [-1.0, 0.0, float("nan")])
def test_clipping_limits_are_checked_as_the_transformations_check_them(keras_name, transform, transform_name,
                                                                        value):
    with pytest.raises(ValueError) as from_object:
        O.SGD(1.0, **{keras_name: value})
    with pytest.raises(ValueError) as from_transform:
        transform(value)
    assert str(from_object.value) == str(from_transform.value).replace(transform_name, keras_name)
    assert f"{keras_name} must be > 0" in str(from_object.value)


@pytest.mark.parametrize("keras_name", ["clipvalue", "clipnorm", "global_clipnorm", "weight_decay"])
def test_clipping_and_decay_must_be_numbers(keras_name):
    with pytest.raises(TypeError, match=f"{keras_name} must be a number, got str '1'"):
        O.Adam(**{keras_name: "1"})


def test_weight_decay_is_checked_like_add_decayed_weights():
    with pytest.raises(ValueError) as from_object:
        O.AdamW(weight_decay=-0.1)
    with pytest.raises(ValueError) as from_transform:
        O.add_decayed_weights(-0.1)
    assert str(from_object.value) == str(from_transform.value) == "weight_decay must be >= 0, got -0.1"


def test_a_valid_clip_still_clips():
    w = tg.Variable(np.float64(0.0))
    O.SGD(1.0, clipvalue=2.0).apply_gradients([(5.0, w)])
    assert float(w.numpy()) == -2.0
