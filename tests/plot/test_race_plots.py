"""A race drawn: paths over the landscape, loss curves, and the animation written whole or not at all."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.plot import races

pytest.importorskip("plotnine", reason="plots need the plot extra: pip install 'tapegrad[plot]'")
Image = pytest.importorskip("PIL.Image")

T = tg.testfunctions


@pytest.fixture(scope="module")
def race():
    return tg.race("rosenbrock", ["sgd", ("sgd", 0.1), "adam", "lbfgs"], steps=300)


def test_the_paths_over_the_landscape(race):
    p = race.plot()
    data = p.data
    assert set(data["kind"]) == {"contour", "path", "start", "end"}
    for runner in race.runners:
        path = data[(data["kind"] == "path") & (data["runner"] == runner.label)]
        h = runner.result.history
        finite = np.isfinite(h["loss"])
        np.testing.assert_array_equal(path["x"], h["x[0]"][finite])
        np.testing.assert_array_equal(path["y"], h["x[1]"][finite])
    ends = data[data["kind"] == "end"].set_index("runner")["label"]
    assert ends["sgd(lr=0.1)"] == "diverged" and ends["adam"] == "end"  # the runner that blew up is marked
    assert (tuple(p.coordinates.limits.x), tuple(p.coordinates.limits.y)) == T.rosenbrock().window
    assert p.labels.title == "rosenbrock: sgd, sgd(lr=0.1), adam, lbfgs" and "known minimum 0" in p.labels.caption


def test_the_loss_curves(race):
    p = race.plot("loss")
    assert list(p.data["run"].cat.categories) == race.labels
    assert any(type(layer.geom).__name__ == "geom_hline" for layer in p.layers)  # the target, f* + tol
    with pytest.raises(ValueError, match="use 'paths' or 'loss'"):
        race.plot("landscape")


def test_more_than_two_parameters_are_a_slice_through_the_known_minimum():
    r = tg.race(T.rosenbrock(4), ["adam"], steps=20)
    p = r.plot()
    assert "slice through x[0], x[1]; the other parameters at the known minimum" in p.labels.subtitle.replace(
        "\n", " ")


def test_one_parameter_has_no_paths_to_draw():
    r = tg.race(lambda w: (w - 1.0) ** 2, ["sgd"], x0=0.0, steps=5)
    with pytest.raises(ValueError, match=r"race.plot\('loss'\)"):
        r.plot()
    assert r.plot("loss") is not None


def test_the_grid_is_vectorised_only_where_that_gives_each_points_value():
    xs, ys = np.linspace(-1, 1, 5), np.linspace(0, 2, 4)
    where = [("w", 0), ("w", 1)]
    base = {"w": np.zeros(2)}
    expected = np.array([[(x - 0.5) ** 2 + 3 * y ** 2 for x in xs] for y in ys])
    elementwise = lambda w: (w[0] - 0.5) ** 2 + 3 * w[1] ** 2
    np.testing.assert_allclose(races._grid(elementwise, "w", base, where, xs, ys), expected)
    # A sum over all elements: given a grid it would add the whole grid up; each point is evaluated alone instead.
    total = lambda w: tg.reduce_sum(w * w * np.array([1.0, 3.0]))
    np.testing.assert_allclose(races._grid(total, "w", base, where, xs, ys),
                               np.array([[x * x + 3 * y * y for x in xs] for y in ys]))


def test_the_animation_is_a_gif_of_at_most_the_frames_asked_for(race, tmp_path):
    out = race.animate(tmp_path / "race.gif")
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames <= 120
        assert gif.n_frames == 120  # 301 rows thinned to 120 frames
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert (first != last).any()  # the paths moved
    short = tg.race("booth", ["adam"], steps=10)
    with Image.open(short.animate(tmp_path / "short.gif")) as gif:
        assert gif.n_frames == 11  # a short race shows every step


def test_the_animation_is_written_whole_or_not_at_all(race, tmp_path, monkeypatch):
    path = tmp_path / "race.gif"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        race.animate(path, frames=3)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["race.gif"]


def test_an_mp4_needs_ffmpeg_and_other_names_are_refused_before_drawing(race, tmp_path, monkeypatch):
    monkeypatch.setattr(races.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs ffmpeg"):
        race.animate(tmp_path / "race.mp4")
    with pytest.raises(ValueError, match="writes .gif or .mp4"):
        race.animate(tmp_path / "race.png")
    with pytest.raises(ValueError, match="frames must be a whole number >= 2"):
        race.animate(tmp_path / "race.gif", frames=1)
    assert list(tmp_path.iterdir()) == []
