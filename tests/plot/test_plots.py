"""Plots: the data behind each figure, its labels, and that files are written (headless too)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad as tg

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def _geoms(p):
    return [type(layer.geom).__name__ for layer in p.layers]


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def seed():
    return tg.minimize(lambda w0: w0**2, tg.Variable(1.0), optimizer=tg.optimizers.SGD(0.01), steps=10_000)


def test_the_seeds_figure(seed, tmp_path):
    p = seed.plot()
    assert list(p.data.columns) == ["step", "w0"]
    np.testing.assert_array_equal(p.data["step"], np.arange(10_001))
    np.testing.assert_array_equal(p.data["w0"], seed.history["w0"])
    # The blog: ggplot(df, aes(x='epoch', y='w0')) + geom_line() + labs(title='w0 over epochs', x='Epoch',
    # y='w0') + theme_minimal()
    assert (p.mapping["x"], p.mapping["y"]) == ("step", "w0")
    assert _geoms(p) == ["geom_line"] and type(p.theme).__name__ == "theme_minimal"
    assert (p.labels.title, p.labels.x, p.labels.y) == ("w0 over epochs", "Epoch", "w0")
    path = tmp_path / "seed.png"
    p.save(path, verbose=False)
    assert _is_png(path)


def test_several_parameters_share_one_figure():
    h = tg.minimize(lambda p: (p["a"] - 1) ** 2 + (p["b"] + 1) ** 2, {"a": 0.0, "b": 0.0}, steps=30).history
    p = tg.plot.trajectory(h)
    assert list(p.data["parameter"].cat.categories) == ["a", "b"] and p.mapping["color"] == "parameter"
    np.testing.assert_array_equal(p.data.loc[p.data["parameter"] == "b", "value"], h["b"])
    one = tg.plot.trajectory(h, "b")
    np.testing.assert_array_equal(one.data["b"], h["b"])
    with pytest.raises(ValueError, match="no parameter column 'c'"):
        tg.plot.trajectory(h, "c")


def test_loss_plot_is_on_a_log_scale_when_it_can_be(seed, tmp_path):
    p = seed.plot("loss")
    assert "scale_y_log10" in [type(s).__name__ for s in p.scales] and p.labels.y == "loss (log scale)"
    finite = np.isfinite(seed.history["loss"]) & (seed.history["loss"] > 0)
    np.testing.assert_array_equal(p.data["loss"], seed.history["loss"][finite])
    p.save(tmp_path / "loss.png", verbose=False)
    assert _is_png(tmp_path / "loss.png")
    negative = tg.minimize(lambda w: w**2 - 1.0, 1.0, steps=20).history
    q = tg.plot.loss(negative)
    assert not q.scales and q.labels.y == "loss"


def test_diverged_rows_are_left_out_of_the_loss_plot():
    h = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=100).history
    assert len(tg.plot.loss(h).data) == len(h) - 1


def test_compare_puts_runs_on_one_figure(tmp_path):
    f = lambda w: (w - 2.0) ** 2
    runs = {"sgd": tg.minimize(f, 0.0, steps=40), "adam": tg.minimize(f, 0.0, "adam", learning_rate=0.1, steps=60)}
    p = tg.plot.compare(runs)
    assert list(p.data["run"].cat.categories) == ["sgd", "adam"] and p.mapping["color"] == "run"
    for name, r in runs.items():
        np.testing.assert_array_equal(p.data.loc[p.data["run"] == name, "loss"], r.history["loss"])
    p.save(tmp_path / "compare.png", verbose=False)
    assert _is_png(tmp_path / "compare.png")
    with pytest.raises(TypeError, match="dict of label"):
        tg.plot.compare([runs["sgd"]])


def test_landscape_draws_contours_of_fn_and_the_path(tmp_path):
    f = lambda p: (p["x"] - 1) ** 2 + 4 * (p["y"] + 0.5) ** 2
    r = tg.minimize(f, {"x": -2.0, "y": 1.0}, learning_rate=0.05, steps=60)
    p = r.plot("landscape", resolution=80)
    d = p.data
    path = d[d["kind"] == "path"]
    np.testing.assert_array_equal(path["x"], r.history["x"])
    np.testing.assert_array_equal(path["y"], r.history["y"])
    marks = d[d["kind"] == "marker"]
    assert list(marks["label"]) == ["start", "end"]
    assert (marks["x"].iloc[0], marks["y"].iloc[-1]) == (r.history["x"][0], r.history["y"][-1])
    # Each contour line lies on its level set (up to the grid's linear interpolation).
    lines = d[d["kind"] == "contour"]
    assert lines["level"].nunique() >= 10
    exact = (lines["x"] - 1) ** 2 + 4 * (lines["y"] + 0.5) ** 2
    assert np.max(np.abs(exact - lines["level"]) / lines["level"]) < 0.02
    assert (p.labels.x, p.labels.y) == ("x", "y")
    p.save(tmp_path / "landscape.png", verbose=False)
    assert _is_png(tmp_path / "landscape.png")


def test_landscape_of_array_elements_holds_the_others_at_their_final_values():
    f = lambda v: tg.reduce_sum((v - np.array([1.0, 2.0, 3.0])) ** 2)
    r = tg.minimize(f, np.zeros(3), learning_rate=0.1, steps=30)
    p = tg.plot.landscape(f, r.history, params=["v[0]", "v[2]"], bounds=[(-1, 2), (0, 4)], resolution=40)
    lines = p.data[p.data["kind"] == "contour"]
    exact = (lines["x"] - 1) ** 2 + (r.x[1] - 2) ** 2 + (lines["y"] - 3) ** 2
    assert np.max(np.abs(exact - lines["level"]) / lines["level"]) < 0.05
    assert lines["x"].between(-1, 2).all() and lines["y"].between(0, 4).all()


def test_landscape_of_one_parameter_is_the_curve_with_the_points_visited(seed):
    p = seed.plot("landscape")
    curve = p.data[p.data["kind"] == "curve"]
    np.testing.assert_allclose(curve["y"], curve["x"].astype(np.float32) ** 2, rtol=1e-6)
    np.testing.assert_array_equal(p.data[p.data["kind"] == "path"]["x"], seed.history["w0"])
    assert p.labels.x == "w0"


def test_plot_errors():
    h = tg.minimize(lambda w: w**2, 1.0, steps=3).history
    with pytest.raises(ValueError, match="unknown plot kind"):
        h.plot("pie")
    back = tg.History.from_json(h.to_json())
    with pytest.raises(ValueError, match="needs the function"):
        back.plot("landscape")
    with pytest.raises(ValueError, match="does not know how fn takes its parameters"):
        tg.plot.landscape(lambda w: w**2, back)


def test_missing_plotnine_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "plotnine", None)
    with pytest.raises(ImportError, match=r"pip install 'tapegrad\[plot\]'"):
        tg.minimize(lambda w: w**2, 1.0, steps=3).plot()


def _run(code, env_drop=("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env["PYTHONPATH"] = os.path.abspath(SRC)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300)


def test_import_tapegrad_and_minimize_load_no_plotting_or_progress_library():
    out = _run("""
        import sys
        import tapegrad as tg
        tg.minimize(lambda w: w ** 2, 1.0, steps=5).history.summary()
        print(sorted(m for m in ("pandas", "plotnine", "matplotlib", "tqdm") if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_saving_works_headless(tmp_path):
    target = tmp_path / "headless.png"
    out = _run(f"""
        import tapegrad as tg
        r = tg.minimize(lambda p: (p[0] - 1) ** 2 + (p[1] - 2) ** 2, [0.0, 0.0], steps=20)
        r.plot("landscape", resolution=20).save({str(target)!r}, verbose=False)
    """)
    assert out.returncode == 0, out.stderr
    assert _is_png(target)
