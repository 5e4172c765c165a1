"""Learning-rate schedules against their formulas, and how optimizers read them."""
import math

import numpy as np
import pytest

import tapegrad as tg

S = tg.optimizers.schedules
STEPS = [0, 1, 5, 10, 99, 100, 101, 250, 1000]


def test_exponential_decay():
    s = S.ExponentialDecay(0.5, decay_steps=100, decay_rate=0.3)
    assert [s(k) for k in STEPS] == pytest.approx([0.5 * 0.3 ** (k / 100) for k in STEPS], rel=1e-15)
    stairs = S.ExponentialDecay(0.5, decay_steps=100, decay_rate=0.3, staircase=True)
    assert [stairs(k) for k in STEPS] == pytest.approx([0.5 * 0.3 ** (k // 100) for k in STEPS], rel=1e-15)


def test_inverse_time_decay():
    s = S.InverseTimeDecay(0.5, decay_steps=10, decay_rate=2.0)
    assert [s(k) for k in STEPS] == pytest.approx([0.5 / (1 + 2.0 * k / 10) for k in STEPS], rel=1e-15)
    stairs = S.InverseTimeDecay(0.5, decay_steps=10, decay_rate=2.0, staircase=True)
    assert [stairs(k) for k in STEPS] == pytest.approx([0.5 / (1 + 2.0 * (k // 10)) for k in STEPS], rel=1e-15)


def test_piecewise_constant_decay_includes_each_boundary_in_the_earlier_piece():
    s = S.PiecewiseConstantDecay([100, 250], [1.0, 0.5, 0.1])
    want = [1.0 if k <= 100 else 0.5 if k <= 250 else 0.1 for k in STEPS]
    assert [s(k) for k in STEPS] == want
    with pytest.raises(ValueError, match="one more value than boundaries"):
        S.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_polynomial_decay():
    s = S.PolynomialDecay(1.0, decay_steps=100, end_learning_rate=0.1, power=2.0)
    want = [(1.0 - 0.1) * (1 - min(k, 100) / 100) ** 2 + 0.1 for k in STEPS]
    assert [s(k) for k in STEPS] == pytest.approx(want, rel=1e-15)
    cyc = S.PolynomialDecay(1.0, decay_steps=100, end_learning_rate=0.1, power=2.0, cycle=True)
    want = [(1.0 - 0.1) * (1 - k / (100 * max(1, math.ceil(k / 100)))) ** 2 + 0.1 for k in STEPS]
    assert [cyc(k) for k in STEPS] == pytest.approx(want, rel=1e-15)


def test_cosine_decay_with_and_without_warmup():
    s = S.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    want = [((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * min(k, 100) / 100)) + 0.1) for k in STEPS]
    assert [s(k) for k in STEPS] == pytest.approx(want, rel=1e-14)
    w = S.CosineDecay(0.0, decay_steps=100, warmup_target=2.0, warmup_steps=10)
    for k in STEPS:
        if k < 10:
            expected = 2.0 * k / 10
        else:
            done = min(k - 10, 100) / 100
            expected = 2.0 * 0.5 * (1 + math.cos(math.pi * done))
        assert w(k) == pytest.approx(expected, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("make", [lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.CosineDecay(0.1, -1),
                                  lambda: S.PolynomialDecay(0.1, 0), lambda: S.InverseTimeDecay(0.1, 0, 1.0)])
def test_decay_steps_must_be_positive(make):
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        make()


def test_schedule_config_rebuilds_it():
    s = S.CosineDecay(0.1, 50, alpha=0.2, warmup_target=0.5, warmup_steps=5)
    again = S.CosineDecay(**s.get_config())
    assert [again(k) for k in STEPS] == [s(k) for k in STEPS]


def test_optimizer_reads_the_schedule_at_its_step_counter():
    # Update k (counting from 0) uses schedule(k): w_{k+1} = w_k - schedule(k) * g with g = 1.
    sched = S.PiecewiseConstantDecay([1, 2], [0.5, 0.25, 0.125])
    w = tg.Variable(np.float64(0.0))
    opt = tg.optimizers.SGD(sched)
    seen = []
    for _ in range(4):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(1.0, w)])
    assert seen == [0.5, 0.5, 0.25, 0.125]
    assert float(w.numpy()) == -(0.5 + 0.5 + 0.25 + 0.125)


def test_transformation_reads_the_schedule_at_its_count():
    tx = tg.optimizers.sgd(S.ExponentialDecay(1.0, 1, 0.5))
    state = tx.init(np.zeros(1))
    steps = []
    for _ in range(3):
        u, state = tx.update(np.ones(1), state)
        steps.append(float(-u[0]))
    assert steps == [1.0, 0.5, 0.25]


def test_any_callable_of_the_step_and_keras_zero_argument_callables():
    w = tg.Variable(np.float64(0.0))
    opt = tg.optimizers.SGD(lambda step: 1.0 / (step + 1))
    opt.apply_gradients([(1.0, w)])
    opt.apply_gradients([(1.0, w)])
    assert float(w.numpy()) == -1.5
    rate = [0.25]
    opt = tg.optimizers.SGD(lambda: rate[0])
    assert opt.learning_rate == 0.25
    rate[0] = 0.5
    assert opt.learning_rate == 0.5


def test_learning_rate_is_assignable_and_checked():
    opt = tg.optimizers.Adam(0.1)
    opt.learning_rate = 0.01
    assert opt.learning_rate == 0.01
    with pytest.raises(ValueError, match="finite number >= 0"):
        tg.optimizers.SGD(-0.1)
    with pytest.raises(TypeError, match="number or a schedule"):
        tg.optimizers.SGD("fast")
