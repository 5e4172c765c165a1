"""tg.race: each runner is exactly a minimize run; the leaderboard ranks and marks them; notebooks show it all."""
import csv
import io
import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.descent.notebook import loss_svg

T = tg.testfunctions


def assert_same_run(a, b):
    assert a.status == b.status and a.steps == b.steps and a.nfev == b.nfev
    assert a.history.columns == b.history.columns
    for c in a.history.columns:
        if c != "elapsed":
            np.testing.assert_array_equal(a.history[c], b.history[c], err_msg=c)
    np.testing.assert_array_equal(a.x, b.x)


def test_each_runner_equals_a_separate_minimize_run():
    f = T.rosenbrock()
    r = tg.race(f, ["sgd", "adam", ("momentum", 5e-4), ("adam", {"beta_1": 0.5}), tg.optimizers.LBFGS()], steps=150)
    assert r.labels == ["sgd", "adam", "momentum(lr=0.0005)", "adam(beta_1=0.5)", "lbfgs"]
    alone = {
        "sgd": tg.minimize(f, f.start, "sgd", learning_rate=f.learning_rates["sgd"], steps=150),
        "adam": tg.minimize(f, f.start, "adam", learning_rate=f.learning_rates["adam"], steps=150),
        "momentum(lr=0.0005)": tg.minimize(f, f.start, "momentum", learning_rate=5e-4, steps=150),
        "adam(beta_1=0.5)": tg.minimize(f, f.start, tg.optimizers.Adam(f.learning_rates["adam"], beta_1=0.5),
                                        steps=150),
        "lbfgs": tg.minimize(f, f.start, tg.optimizers.LBFGS(), steps=150),
    }
    for label, result in alone.items():
        assert_same_run(r[label], result)
    assert [runner.learning_rate for runner in r.runners] == [1e-3, 0.1, 5e-4, 0.1, 1.0]


def test_a_custom_function_with_its_own_start_which_is_left_where_it_was():
    f = lambda p: (p["x"] - 1.0) ** 2 + 10.0 * (p["y"] + 0.5) ** 2
    start = {"x": tg.Variable(np.float64(-1.0)), "y": tg.Variable(np.float64(1.0))}
    r = tg.race(f, ["sgd", "adam"], x0=start, steps=50)
    assert float(start["x"].numpy()) == -1.0 and float(start["y"].numpy()) == 1.0
    assert_same_run(r["adam"], tg.minimize(f, {"x": np.float64(-1.0), "y": np.float64(1.0)}, "adam", steps=50))
    # No known minimum: tol is measured from the best loss any runner found.
    best = min(float(np.min(x.result.history["loss"])) for x in r.runners)
    assert r.reference == "best loss found" and r.f_min == best
    assert tg.race(f, ["sgd"], x0=start, steps=5, f_min=0.0).reference == "given"


def test_steps_to_tol_is_the_first_step_within_tol_of_the_minimum():
    r = tg.race("booth", ["sgd", "momentum", "adam", "lbfgs"], steps=200, tol=1e-6)
    for runner in r.runners:
        loss = runner.result.history["loss"]
        within = np.flatnonzero(loss - 0.0 <= 1e-6)
        assert runner.steps_to_tol == (int(within[0]) if within.size else None)
        if runner.steps_to_tol is not None:
            assert runner.time_to_tol == runner.result.history["elapsed"][runner.steps_to_tol]
    board = r.leaderboard
    arrived = [row["steps_to_tol"] for row in board if row["steps_to_tol"] is not None]
    assert arrived == sorted(arrived) and board[0]["steps_to_tol"] is not None
    assert [row["rank"] for row in board] == list(range(1, 5))


def test_a_diverged_runner_is_marked_and_ranked_last_not_hidden():
    r = tg.race("booth", ["sgd", ("sgd", 1.0), "adam"], steps=300)
    board = r.leaderboard
    assert board[-1]["optimizer"] == "sgd(lr=1)" and board[-1]["status"] == "diverged"
    assert r.runners[1].diverged and math.isfinite(board[-1]["final_loss"])
    last = r.table().splitlines()[-1]
    assert "sgd(lr=1)" in last and f"DIVERGED after step {r['sgd(lr=1)'].steps}" in last
    assert "diverged" in r._repr_html_()


def test_labels_are_unique_and_a_dict_names_them():
    assert tg.race("booth", ["adam", "adam"], steps=3).labels == ["adam", "adam#2"]
    r = tg.race("booth", {"slow": ("sgd", 1e-4), "fast": "lbfgs"}, steps=3)
    assert r.labels == ["slow", "fast"] and r.runners[0].learning_rate == 1e-4


def test_the_saddle_has_no_minimum_to_reach():
    r = tg.race("saddle", ["sgd", "adam"], steps=50)
    assert r.f_min is None and all(x.steps_to_tol is None for x in r.runners)
    assert "unbounded below" in r.caption()


def test_the_leaderboard_as_csv(tmp_path):
    r = tg.race("himmelblau", ["sgd", "lbfgs"], steps=50)
    path = tmp_path / "board.csv"
    assert r.to_csv(path) is None
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows == list(csv.DictReader(io.StringIO(r.to_csv())))
    assert [row["optimizer"] for row in rows] == [row["optimizer"] for row in r.leaderboard]
    assert float(rows[0]["final_loss"]) == r.leaderboard[0]["final_loss"]


@pytest.mark.parametrize("kwargs, error, words", [
    ({"fn": "rosenbrok"}, ValueError, "no test function 'rosenbrok'"),
    ({"fn": lambda w: w ** 2}, ValueError, "needs x0"),
    ({"optimizers": ["adamm"]}, ValueError, "unknown optimizer 'adamm'"),
    ({"optimizers": []}, ValueError, "at least one optimizer"),
    ({"optimizers": [("adam", "fast")]}, TypeError, "settings of 'adam' are str"),
    ({"optimizers": [("adam", {"betta": 1})]}, TypeError, "adam:"),
    ({"optimizers": [3]}, TypeError, "each optimizer is a name"),
    ({"tol": -1.0}, ValueError, "tol must be a number >= 0"),
])
def test_bad_input_says_what_to_do(kwargs, error, words):
    args = {"fn": "booth", "steps": 3, **kwargs}
    with pytest.raises(error, match=words):
        tg.race(**args)


def test_one_optimizer_object_twice_is_refused():
    opt = tg.optimizers.Adam(0.1)
    with pytest.raises(ValueError, match="given twice"):
        tg.race("booth", [opt, opt], steps=3)


def test_notebooks_show_the_result_the_history_and_the_race():
    r = tg.race("rosenbrock", ["sgd", "lbfgs"], steps=30)
    race_html = r._repr_html_()
    assert race_html.count("<tr>") == 3 and race_html.count("<polyline") == 2 and "lbfgs" in race_html
    result = r["sgd"]
    html = result._repr_html_()
    assert "max_steps" in html and "ran the 30 steps asked for" in html and "<svg" in html
    h = result.history._repr_html_()
    assert "History: 31 rows" in h and "<polyline" in h
    # A run made without a history shows no curve, and says so in its summary.
    bare = tg.minimize(lambda w: w ** 2, 1.0, steps=3, record=False)
    assert "<svg" not in bare._repr_html_() and "record=False" in bare.history._repr_html_()
    # Text from the user's function is escaped.
    assert "<b>" not in tg.minimize(lambda w: w ** 2, 1.0, steps=1).history._repr_html_().replace(
        "<b>History</b>", "")


def test_the_svg_loss_curve():
    svg = loss_svg([[1e3, 1.0, 1e-3]])
    ys = [float(p.split(",")[1]) for p in svg.split('points="')[1].split('"')[0].split()]
    assert ys[0] < ys[1] < ys[2] and ys[1] - ys[0] == pytest.approx(ys[2] - ys[1])  # log scale: even steps
    assert loss_svg([[float("nan")]]) == ""
    assert "linear" in loss_svg([[1.0, -1.0]])
    both = loss_svg([[1.0, 0.5], [1.0, 1e300, float("inf")]])  # the blow-up runs along the top, not off it
    top = [float(p.split(",")[1]) for p in both.split('points="')[2].split('"')[0].split()]
    assert both.count("<polyline") == 2 and min(top) >= 0
