"""from_config(get_config()) rebuilds every optimizer and schedule: same settings, same steps."""
import inspect

import numpy as np
import pytest

import tapegrad as tg

O = tg.optimizers
S = O.schedules

# Settings away from the defaults, so that a setting the round trip dropped would show.
OPTIMIZERS = {
    O.SGD: dict(learning_rate=0.05, momentum=0.5, nesterov=True, clipvalue=0.5),
    O.Adam: dict(learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True, weight_decay=0.01),
    O.AdamW: dict(learning_rate=0.05, weight_decay=0.1, beta_1=0.7, global_clipnorm=1.0),
    O.RMSprop: dict(learning_rate=0.05, rho=0.8, momentum=0.3, centered=True, clipnorm=2.0),
    O.Adagrad: dict(learning_rate=0.05, initial_accumulator_value=0.5, epsilon=1e-5),
    O.Adadelta: dict(learning_rate=0.5, rho=0.9, epsilon=1e-5),
    O.Adamax: dict(learning_rate=0.05, beta_1=0.8, beta_2=0.9),
    O.Nadam: dict(learning_rate=0.05, beta_1=0.8, beta_2=0.9, name="n"),
    O.Lion: dict(learning_rate=0.05, beta_1=0.8, beta_2=0.9),
    O.LineSearchGD: dict(learning_rate=0.5, c1=0.1, shrink=0.3, max_backtracks=7),
    O.LBFGS: dict(learning_rate=0.5, memory=3, c1=0.1),
    O.Newton: dict(learning_rate=0.5, shrink=0.25),
}
SCHEDULES = {
    S.ExponentialDecay: dict(initial_learning_rate=0.2, decay_steps=3, decay_rate=0.5, staircase=True),
    S.InverseTimeDecay: dict(initial_learning_rate=0.2, decay_steps=3, decay_rate=0.5, name="inv"),
    S.PiecewiseConstantDecay: dict(boundaries=[1, 2], values=[0.3, 0.2, 0.1]),
    S.PolynomialDecay: dict(initial_learning_rate=0.2, decay_steps=4, end_learning_rate=0.01, power=2.0, cycle=True),
    S.CosineDecay: dict(initial_learning_rate=0.1, decay_steps=4, alpha=0.1, warmup_target=0.2, warmup_steps=2),
}


def _exported(module, base):
    return {obj for obj in vars(module).values() if inspect.isclass(obj) and issubclass(obj, base) and obj is not base}


def test_every_class_is_covered():
    assert _exported(O, O.Optimizer) - {O.TransformOptimizer} == set(OPTIMIZERS)
    assert _exported(S, S.LearningRateSchedule) == set(SCHEDULES)


def _run(opt, steps=4):
    w = tg.Variable(np.array([1.5, -0.5]))
    for _ in range(steps):
        opt.minimize(lambda: tg.reduce_sum(w**2) + tg.reduce_sum(w**4), [w])
    return w.numpy()


@pytest.mark.parametrize("cls", list(OPTIMIZERS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("scheduled", [False, True])
def test_optimizers_round_trip(cls, scheduled):
    kwargs = dict(OPTIMIZERS[cls])
    if scheduled:
        kwargs["learning_rate"] = S.ExponentialDecay(kwargs["learning_rate"], 2, 0.5)
    opt = cls(**kwargs)
    again = cls.from_config(opt.get_config())
    assert type(again) is cls and again.get_config() == opt.get_config()
    if scheduled:
        assert again._lr.schedule is not opt._lr.schedule  # a schedule of its own, not the old one shared
    np.testing.assert_array_equal(_run(again), _run(cls(**kwargs)))


@pytest.mark.parametrize("cls", list(SCHEDULES), ids=lambda c: c.__name__)
def test_schedules_round_trip(cls):
    s = cls(**SCHEDULES[cls])
    again = cls.from_config(s.get_config())
    assert type(again) is cls and again.get_config() == s.get_config()
    assert [again(k) for k in range(8)] == [s(k) for k in range(8)]


def test_a_schedule_of_your_own_comes_back_through_custom_objects():
    class Halving(S.LearningRateSchedule):
        def __init__(self, start):
            self.start = start

        def __call__(self, step):
            return self.start / 2**step

    config = O.SGD(Halving(0.5)).get_config()
    with pytest.raises(ValueError, match=r"unknown learning-rate schedule 'Halving'.*custom_objects="):
        O.SGD.from_config(config)
    assert O.SGD.from_config(config, custom_objects={"Halving": Halving}).learning_rate == 0.5


def test_what_a_config_cannot_hold_is_an_error_that_says_what_to_do():
    with pytest.raises(ValueError, match="a function's repr.*pass the function again"):
        O.SGD.from_config(O.SGD(lambda step: 0.1).get_config())
    with pytest.raises(TypeError, match=r"make it again: TransformOptimizer\("):
        O.TransformOptimizer.from_config(O.TransformOptimizer(O.sgd(0.1)).get_config())
