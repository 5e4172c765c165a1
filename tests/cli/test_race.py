"""`tapegrad race`: checks before the race, the leaderboard printed, files written whole."""
import csv

import pytest

import tapegrad as tg
from tapegrad.cli import main
from tests.optional import PLOTS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, words", [
    (["rosenbrok"], "'rosenbrok' is not a test function (rosenbrock, beale"),
    (["x**2 + y"], "it needs its start: --init x=1 y=-1"),
    (["x**2 + y", "--init", "x=1"], "unknown name 'y'"),
    (["rosenbrock", "--init", "x=1"], "rosenbrock starts from its own start"),
    (["beale", "--dim", "3"], "beale has 2 variables"),
    (["rosenbrock", "--dim", "1"], "--dim 1: n, the number of coordinates, must be a whole number >= 2"),
    (["x**2", "--init", "x=1", "--dim", "3"], "--dim goes with a test function"),
    (["booth", "--optimizers", "sgd,adamm"], "unknown optimizer 'adamm'"),
    (["booth", "--optimizers", "sgd:fast"], "--optimizers sgd:fast: the learning rate 'fast' is not a number"),
    (["booth", "--optimizers", "sgd:-1"], "must be a positive, finite number"),
    (["booth", "--gif", "race.png"], ".png is not an image format that can be written"),
    (["booth", "--plot", "."], "names a folder"),
    (["booth", "--csv", "no/such/folder/board.csv"], "does not exist"),
    (["booth", "--csv", "same.png", "--plot", "same.png"], "--csv and --plot both name same.png"),
    (["x**2", "--init", "x=1", "--gif", "race.gif"], "--gif shows the paths over two variables"),
    (["booth", "--steps", "-3"], "-3 is negative"),
])
def test_bad_usage_exits_2_before_racing(capsys, tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    assert main(["race", *argv]) == 2
    out, err = capsys.readouterr()
    assert words in err and "Traceback" not in err and "racing" not in out
    assert list(tmp_path.iterdir()) == []


def test_a_test_function_raced_and_ranked(capsys):
    assert main(["race", "booth", "--optimizers", "sgd,adam:0.05,lbfgs", "--steps", "100"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "racing sgd, adam, lbfgs on booth from x[0] = -6, x[1] = -4, 100 steps each"
    expected = tg.race("booth", ["sgd", ("adam", 0.05), "lbfgs"], steps=100)
    assert out[1] == expected.caption()
    ranked = [line.split()[1] for line in out[3:6]]
    assert ranked == [row["optimizer"] for row in expected.leaderboard]


def test_an_expression_with_its_start(capsys):
    assert main(["race", "(x - 1)**2 + 4*y**2", "--init", "x=0", "y=1", "--optimizers", "sgd,adam",
                 "--steps", "50"]) == 0
    out = capsys.readouterr().out
    assert "racing sgd, adam on (x - 1)**2 + 4*y**2 from x = 0, y = 1, 50 steps each" in out
    assert "the best loss found" in out


def test_a_diverged_optimizer_is_a_result_not_a_failure(capsys):
    assert main(["race", "booth", "--optimizers", "sgd:1,adam", "--steps", "300"]) == 0
    assert "DIVERGED after step" in capsys.readouterr().out


def test_the_leaderboard_as_csv(tmp_path, capsys):
    path = tmp_path / "board.csv"
    assert main(["race", "himmelblau", "--optimizers", "sgd,lbfgs", "--steps", "40", "--csv", str(path)]) == 0
    rows = list(csv.DictReader(path.open()))
    assert [r["optimizer"] for r in rows] == ["lbfgs", "sgd"] and rows[0]["rank"] == "1"
    assert f"wrote {path} (the leaderboard)" in capsys.readouterr().out


@PLOTS
def test_the_plot_and_the_gif(tmp_path, capsys):
    png, gif = tmp_path / "race.png", tmp_path / "race.gif"
    assert main(["race", "beale", "--optimizers", "sgd,adam", "--steps", "30", "--plot", str(png),
                 "--gif", str(gif)]) == 0
    assert png.read_bytes()[:8] == PNG and gif.read_bytes()[:6] == b"GIF89a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.gif", "race.png"]  # no temporaries left


@PLOTS
def test_one_variable_plots_the_loss_curves(tmp_path):
    png = tmp_path / "loss.png"
    assert main(["race", "(w - 2)**2", "--init", "w=0", "--optimizers", "sgd", "--steps", "5", "--plot",
                 str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
