"""Optimizers by name: one table (optimizers/names.py) for get(), tg.minimize and the command line."""
import importlib

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.optimizers import names

O = tg.optimizers


def test_minimize_and_the_command_line_read_the_one_table():
    for module in ("tapegrad.descent.setup", "tapegrad.cli.minimize"):
        assert importlib.import_module(module).OPTIMIZERS is names.OPTIMIZERS
    assert set(names.OPTIMIZERS) == set(names.NAMES)


@pytest.mark.parametrize("name", list(names.NAMES))
def test_a_name_gives_its_class_with_the_classs_defaults_and_the_names_settings(name):
    cls, settings, _ = names.NAMES[name]
    opt = O.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls(**settings).get_config()
    for spelling in (name.upper(), f" {name.capitalize()} "):
        assert O.get(spelling).get_config() == opt.get_config()


@pytest.mark.parametrize("name", list(names.NAMES))
def test_minimizes_maker_is_get_with_a_learning_rate(name):
    make, rate = names.OPTIMIZERS[name]
    assert make(rate).get_config() == O.get(name, learning_rate=rate).get_config()
    assert make(rate).learning_rate == rate


def test_keras_defaults_not_minimizes():
    # tf.keras.optimizers.get("adam") has Keras's 0.001; tg.minimize(optimizer="adam") starts from its own 0.01.
    assert O.get("adam").learning_rate == O.Adam().learning_rate == pytest.approx(0.001)
    assert names.OPTIMIZERS["adam"][1] == pytest.approx(0.01)


@pytest.mark.parametrize("cls", [O.SGD, O.Adam, O.AdamW, O.RMSprop, O.LBFGS, O.LineSearchGD, O.Newton])
def test_a_config_dict_rebuilds_the_optimizer(cls):
    opt = cls(0.5)
    again = O.get({"class_name": cls.__name__, "config": opt.get_config()})
    assert type(again) is cls and again.get_config() == opt.get_config()
    assert O.get({"class_name": cls.__name__.lower(), "config": {}}, learning_rate=0.25).learning_rate == 0.25


def test_an_optimizer_comes_back_as_it_is_and_none_is_none():
    opt = O.Adam(0.1)
    assert O.get(opt) is opt and O.get(None) is None
    with pytest.raises(TypeError, match="an optimizer object has none to take"):
        O.get(opt, learning_rate=0.2)


def test_settings_reach_the_constructor():
    opt = O.get("momentum", learning_rate=0.1, momentum=0.5)
    assert opt.learning_rate == 0.1 and opt.get_config()["momentum"] == 0.5
    with pytest.raises(TypeError, match="unexpected argument 'momentum'"):
        O.get("adam", momentum=0.9)


@pytest.mark.parametrize("identifier", ["ftrl", "", 5, {"class_name": "Nope"}, {"config": {}},
                                        {"class_name": "Adam", "config": 1}])
def test_what_get_cannot_read_is_a_value_error_listing_the_names(identifier):
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier.*sgd, momentum"):
        O.get(identifier)


def test_a_class_is_not_an_optimizer():
    with pytest.raises(ValueError, match=r"get\(\) got the class Adam; pass an object, Adam\(\.\.\.\), or a name"):
        O.get(O.Adam)


def test_tensorflow_spelling_runs():
    import tapegrad as tf

    opt = tf.keras.optimizers.get("SGD")
    w = tf.Variable(np.float64(1.0))
    opt.apply_gradients([(1.0, w)])
    assert float(w.numpy()) == pytest.approx(1.0 - 0.01)
