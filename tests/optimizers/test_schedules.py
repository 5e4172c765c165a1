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


@pytest.mark.parametrize("rate", ["0.1", True, b"1"])
def test_a_learning_rate_that_only_float_reads_as_a_number_is_refused(rate):
    with pytest.raises(TypeError, match="learning_rate must be a number or a schedule"):
        tg.optimizers.Adam(rate)
    assert tg.optimizers.Adam(tg.constant(0.5)).learning_rate == 0.5  # a 0-d tensor is a number


@pytest.mark.parametrize("make, error, message", [
    (lambda: S.ExponentialDecay("0.1", 10, 0.5), TypeError, "ExponentialDecay: initial_learning_rate must be a number"),
    (lambda: S.ExponentialDecay(0.1, "10", 0.5), TypeError, "ExponentialDecay: decay_steps must be a number"),
    (lambda: S.ExponentialDecay(0.1, 10, -0.5), ValueError, "ExponentialDecay: decay_rate must be >= 0"),
    (lambda: S.ExponentialDecay(-0.1, 10, 0.5), ValueError, "ExponentialDecay: initial_learning_rate must be >= 0"),
    (lambda: S.ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError, "staircase must be True or False"),
    (lambda: S.InverseTimeDecay(0.1, 1, -1.0), ValueError, "InverseTimeDecay: decay_rate must be >= 0"),
    (lambda: S.PolynomialDecay(0.1, 4, power=-1.0), ValueError, "PolynomialDecay: power must be >= 0"),
    (lambda: S.PolynomialDecay(0.1, 4, end_learning_rate=-1.0), ValueError, "end_learning_rate must be >= 0"),
    (lambda: S.PiecewiseConstantDecay(5, [1, 2]), TypeError, "boundaries must be a list of numbers, got int 5"),
    (lambda: S.PiecewiseConstantDecay([5], ["a", "b"]), TypeError, "each value must be a number, got str 'a'"),
    (lambda: S.PiecewiseConstantDecay([5], [0.1, -0.1]), ValueError, "each value must be >= 0, got -0.1"),
    (lambda: S.CosineDecay(-1.0, 10), ValueError, "CosineDecay: initial_learning_rate must be >= 0"),
    (lambda: S.CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=-1), ValueError, "warmup_steps must be >= 0"),
    (lambda: S.CosineDecay(0.1, 10, warmup_target="1"), TypeError, "warmup_target must be a number"),
])
def test_schedule_arguments_are_checked_at_construction(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_cosine_decay_with_a_target_and_no_warmup_decays_from_the_target_as_keras_does():
    s = S.CosineDecay(0.1, decay_steps=4, warmup_target=1.0, warmup_steps=0)
    assert [s(k) for k in range(6)] == [0.5 * (1 + math.cos(math.pi * min(k, 4) / 4)) for k in range(6)]


@pytest.mark.parametrize("bad, error, message", [
    (float("nan"), ValueError, "gave nan at step 2"), (float("inf"), ValueError, "gave inf at step 2"),
    (-0.1, ValueError, "gave -0.1 at step 2"), (None, TypeError, "returned None at step 2"),
    ("0.1", TypeError, "returned str '0.1' at step 2"), (np.array([0.1, 0.2]), TypeError, "returned ndarray"),
])
def test_a_bad_value_from_a_schedule_is_an_error_naming_it_and_the_step(bad, error, message):
    def schedule(step):
        return bad if step == 2 else 0.1

    w = tg.Variable(np.float64(1.0))
    opt = tg.optimizers.SGD(schedule)
    opt.apply_gradients([(1.0, w)])
    opt.apply_gradients([(1.0, w)])
    with pytest.raises(error, match=f"schedule test_a_bad_value.*schedule {message}"):
        opt.apply_gradients([(1.0, w)])
    assert float(w.numpy()) == 1.0 - 0.1 - 0.1 and int(opt.iterations) == 2  # the failed step changed nothing


def test_numbers_of_other_types_from_a_schedule_are_read_as_floats():
    for rate in (np.float32(0.5), tg.constant(0.5), np.array(0.5), 1):
        assert tg.optimizers.SGD(lambda step, r=rate: r).learning_rate == float(rate)


def test_a_schedule_class_instead_of_an_instance_says_to_pass_an_instance():
    with pytest.raises(TypeError, match=r"ExponentialDecay is the schedule class; pass an instance.*"
                                        r"e\.g\. ExponentialDecay\(0\.1, decay_steps=100, decay_rate=0\.5\)"):
        tg.optimizers.Adam(learning_rate=S.ExponentialDecay)
    with pytest.raises(TypeError, match="pass an instance"):
        tg.optimizers.sgd(S.CosineDecay)


def test_a_callable_of_two_arguments_is_refused_at_construction():
    with pytest.raises(TypeError, match=r"takes the step \(one argument\) or no argument"):
        tg.optimizers.SGD(lambda a, b: 0.1)
