"""record="state": the optimizer's state per step, in documented columns, checked against the optimizer itself."""
import math

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import PLOTS


def _rows(h, column):
    return h[column][:-1]  # the last row: no step was taken from it


def test_step_norm_is_the_distance_each_step_moved():
    x0 = {"a": np.float64(1.0), "w": np.array([1.0, -2.0, 3.0])}
    h = tg.minimize(lambda p: p["a"] ** 2 + tg.reduce_sum(p["w"] ** 2), x0, optimizer="rmsprop", steps=20,
                    record="state").history
    moved = np.sqrt(np.diff(h["a"]) ** 2 + np.diff(h.param("w"), axis=0).__pow__(2).sum(axis=1))
    np.testing.assert_allclose(_rows(h, "step_norm"), moved, rtol=1e-12)
    assert math.isnan(h["step_norm"][-1]) and h.state_columns == ["step_norm", "velocity_norm"]


@pytest.mark.parametrize("name, slots", [("momentum", ["momentum"]), ("adam", ["momentum", "velocity"]),
                                         ("rmsprop", ["velocity"]), ("adagrad", ["accumulator"])])
def test_the_slots_norms_are_those_the_optimizer_holds(name, slots):
    opt = tg.optimizers.get(name, learning_rate=0.05)
    w = tg.Variable(np.array([1.0, -2.0]))
    h = tg.minimize(lambda w: tg.reduce_sum(w ** 4), w, optimizer=opt, steps=7, record="state").history
    for slot in slots:
        assert f"{slot}_norm" in h.state_columns
        assert h[f"{slot}_norm"][-2] == pytest.approx(np.linalg.norm(opt.get_slot(w, slot)), rel=1e-12)


def test_adams_alpha_is_its_bias_corrected_step_size():
    h = tg.minimize(lambda w: w ** 2, np.float64(1.0), optimizer=tg.optimizers.Adam(0.1, beta_1=0.8, beta_2=0.99),
                    steps=5, record="state").history
    t = np.arange(1, 6)
    np.testing.assert_allclose(_rows(h, "alpha"), 0.1 * np.sqrt(1 - 0.99 ** t) / (1 - 0.8 ** t), rtol=1e-12)


def test_lbfgs_counts_its_curvature_pairs_and_a_schedule_shows_in_lr():
    f = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2  # noqa: E731
    h = tg.minimize(f, np.array([-1.2, 1.0]), optimizer=tg.optimizers.LBFGS(memory=4), steps=30, gtol=1e-9,
                    record="state").history
    pairs = _rows(h, "pairs")
    assert pairs[0] == 0 and pairs.max() == 4 and set(np.unique(pairs)) <= {0, 1, 2, 3, 4}
    schedule = tg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    h = tg.minimize(lambda w: w ** 2, 1.0, optimizer=tg.optimizers.SGD(schedule), steps=4, record="state").history
    np.testing.assert_allclose(_rows(h, "lr"), 0.1 * 0.5 ** np.arange(4), rtol=1e-6)


def test_state_and_full_together_and_bad_record_values():
    h = tg.minimize(lambda w: tg.reduce_sum(w ** 2), np.ones(12), optimizer="momentum", steps=3,
                    record=["full", "state"]).history
    assert h.array_columns("w") == ([f"w[{i}]" for i in range(12)], None) and "momentum_norm" in h.columns
    assert h.columns[-1] == "elapsed" and h.columns.index("lr") < h.columns.index("step_norm")
    for bad in ("everything", ["state", 3], [], 1):
        with pytest.raises(TypeError, match="record must be True, False, 'state', 'full'"):
            tg.minimize(lambda w: w ** 2, 1.0, steps=1, record=bad)
    with pytest.raises(ValueError, match="rename those parameters"):
        tg.minimize(lambda p: p["step_norm"] ** 2, {"step_norm": 1.0}, steps=1, record="state")


def test_a_long_run_keeps_its_state_when_the_buffer_grows():
    h = tg.minimize(lambda w: w ** 2, np.float64(1.0), optimizer="momentum", learning_rate=1e-4, steps=70_000,
                    record="state", progress=False).history
    v = h["momentum_norm"][:-1]
    assert len(h) == 70_001 and np.isfinite(v).all() and (v > 0).all()


@PLOTS
def test_history_plot_state_draws_every_state_column_and_a_varying_lr():
    schedule = tg.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9)
    r = tg.minimize(lambda w: w ** 2, 1.0, optimizer=tg.optimizers.Adam(schedule), steps=10, record="state")
    p = r.history.plot("state")
    assert list(p.data["column"].cat.categories) == ["lr", "step_norm", "momentum_norm", "velocity_norm", "alpha"]
    assert set(p.data["step"]) == set(range(10))
    with pytest.raises(ValueError, match="record='state'"):
        tg.minimize(lambda w: w ** 2, 1.0, steps=3).history.plot("state")
    with pytest.raises(ValueError, match="no state column 'm'"):
        tg.plot.state(r, "m")
