"""A Keras object's step is the transformations' step in Keras's order: clip, decay the Variable, then the rule.

The decay is ``add_decayed_weights`` applied to the parameter before the rule's update (Keras
decays the Variable first), so the two paths do the same operations and agree to the bit.
"""
import inspect

import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers
CLIPS = [("clipnorm", O.clip_by_norm), ("clipvalue", O.clip), ("global_clipnorm", O.clip_by_global_norm)]
RULES = [(O.Adam, O.adam), (O.SGD, O.sgd), (O.RMSprop, O.rmsprop), (O.Nadam, O.nadam)]


@pytest.mark.parametrize("setting, clip", CLIPS, ids=[c[0] for c in CLIPS])
@pytest.mark.parametrize("cls, rule", RULES, ids=[r[0].__name__ for r in RULES])
def test_keras_step_is_clip_then_decay_then_rule(setting, clip, cls, rule):
    lr = O.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)  # read at each step by both paths
    wd, limit = 0.05, 0.4
    rng = np.random.default_rng(7)
    w, b = tg.Variable(rng.normal(size=3), name="w"), tg.Variable(np.float64(0.5), name="bias")
    opt = cls(lr, weight_decay=wd, **{setting: limit})
    opt.exclude_from_weight_decay(var_names=["bias"])
    params = [w.numpy(), b.numpy()]
    tx, decay = O.chain(clip(limit), rule(lr)), O.add_decayed_weights(wd, lr)
    state, count = tx.init(params), decay.init(params[0])
    for _ in range(5):
        grads = [rng.normal(size=3) * 3, np.float64(rng.normal())]
        opt.apply_gradients(zip(grads, [w, b]))
        shrink, count = decay.update(np.zeros(3), count, params[0])
        params[0] = O.apply_updates(params[0], shrink)  # only w decays: bias is excluded
        updates, state = tx.update(grads, state, params)
        params = O.apply_updates(params, updates)
        np.testing.assert_array_equal(w.numpy(), params[0])
        np.testing.assert_array_equal(b.numpy(), params[1])
    assert int(opt.iterations) == 5


def test_keras_and_transform_settings_share_their_checks():
    # One check per setting: the object's error is the transformation's, under Keras's name.
    with pytest.raises(ValueError, match="global_clipnorm must be > 0, got -2.0"):
        O.Adam(global_clipnorm=-2)
    with pytest.raises(TypeError, match="weight_decay must be a number, got list"):
        O.add_decayed_weights([0.1])
    with pytest.raises(TypeError, match="weight_decay must be a number, got list"):
        O.SGD(weight_decay=[0.1])


KERAS_CLASSES = [O.SGD, O.Adam, O.AdamW, O.RMSprop, O.Adagrad, O.Adadelta, O.Adamax, O.Nadam, O.Lion]
SHELL = ["weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "name", "kwargs"]


@pytest.mark.parametrize("cls", KERAS_CLASSES, ids=lambda c: c.__name__)
def test_each_class_spells_out_kerass_signature_and_every_rule_setting_reaches_the_rule(cls):
    # The classes repeat the shell's settings on purpose, as Keras does (positional order, help(), completion);
    # this keeps the repetition honest: Keras's order, and nothing taken that the rule does not get.
    params = list(inspect.signature(cls).parameters)
    assert params[0] == "learning_rate" and params[-5:] == SHELL[1:]
    own = [p for p in params[1:] if p not in SHELL]
    assert own == list(cls()._rule.config())
    assert params.index("weight_decay") == (1 if cls is O.AdamW else len(own) + 1)
