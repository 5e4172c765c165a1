"""Plots: the data behind each figure, its labels, and that files are written (headless too)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad as tg

pytest.importorskip("plotnine", reason="plots need the plot extra: pip install 'tapegrad[plot]'")

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
    assert "scale_y_log10" not in [type(s).__name__ for s in q.scales] and q.labels.y == "loss"


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
    with pytest.raises(ValueError, match="at least one run; got an empty dict"):
        tg.plot.compare({})
    with pytest.raises(ValueError, match="run 'off': this run was made with record=False"):
        tg.plot.compare({"on": runs["sgd"], "off": tg.minimize(f, 0.0, steps=5, record=False)})


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
    columns_only = tg.History(h.to_dict())
    with pytest.raises(ValueError, match="does not know how fn takes its parameters"):
        tg.plot.landscape(lambda w: w**2, columns_only)


def test_a_landscape_from_a_history_read_back_from_json(tmp_path):
    # The JSON keeps the final point and x0's structure: the picture is the one the live History draws.
    pd = pytest.importorskip("pandas")
    f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2  # noqa: E731
    r = tg.minimize(f, {"x": -1.2, "y": 1.0}, optimizer="adam", learning_rate=0.05, steps=200)
    r.history.to_json(tmp_path / "run.json")
    back = tg.History.from_json(tmp_path / "run.json")
    pd.testing.assert_frame_equal(tg.plot.landscape(f, back).data, tg.plot.landscape(f, r.history).data)
    # An array parameter (float32) drawn through two elements, the third held at its final value.
    g = lambda w: tg.reduce_sum((w - [1.0, 2.0, 3.0]) ** 2)  # noqa: E731
    w = tg.minimize(g, np.zeros(3, np.float32), learning_rate=0.1, steps=20).history
    again = tg.History.from_json(w.to_json())
    p = tg.plot.landscape(g, again, params=["w[0]", "w[2]"], resolution=20)
    q = tg.plot.landscape(g, w, params=["w[0]", "w[2]"], resolution=20)
    pd.testing.assert_frame_equal(p.data, q.data)
    assert p.labels.subtitle == "slice through w[0], w[2]; the rest of w at its final value"
    assert again.plot("landscape", fn=g, params="w[1]").labels.x == "w[1]"


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


@pytest.fixture(scope="module")
def rosen():
    f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
    return f, tg.minimize(f, {"x": -1.2, "y": 1.0}, optimizer="adam", steps=200)


def test_landscape_takes_one_parameter_name_as_a_string():
    f = lambda p: p["w0"] ** 2 + p["w1"] ** 2 + p["b"] ** 2
    h = tg.minimize(f, {"w0": 1.0, "w1": 2.0, "b": 3.0}, steps=20).history
    p = tg.plot.landscape(f, h, params="w0")
    assert p.labels.x == "w0"
    np.testing.assert_array_equal(p.data.loc[p.data["kind"] == "path", "x"], h["w0"])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"bounds": (0, 1)}, ValueError, r"one \(low, high\) pair per drawn parameter.*\(x_low, x_high\), \(y_low"),
    ({"bounds": [(0, 1)]}, ValueError, r"1 pair\(s\) for 2 parameter"),
    ({"bounds": [(0, float("nan")), (0, 1)]}, ValueError, "finite"),
    ({"bounds": [(1, 0), (0, 1)]}, ValueError, "low < high"),
    ({"bounds": [(0, 1, 2), (0, 1)]}, ValueError, "pair per drawn parameter"),
    ({"resolution": 10.5}, TypeError, "resolution must be an int >= 2"),
    ({"resolution": 1}, ValueError, "resolution must be an int >= 2"),
    ({"levels": 0}, ValueError, "levels must be an int >= 1"),
    ({"levels": True}, TypeError, "levels must be an int"),
    ({"params": ["x", "x"]}, ValueError, "'x' twice"),
])
def test_landscape_argument_errors(rosen, kwargs, error, match):
    f, r = rosen
    with pytest.raises(error, match=match):
        tg.plot.landscape(f, r.history, **kwargs)


def test_landscape_says_fn_must_return_a_scalar_and_the_argument_order(rosen):
    f, r = rosen
    with pytest.raises(TypeError, match=r"fn must return a scalar.*shape \(2,\)"):
        tg.plot.landscape(lambda p: tg.stack([p["x"], p["y"]]), r.history)
    with pytest.raises(TypeError, match="fn must return a scalar.*NoneType"):
        tg.plot.landscape(lambda p: None, r.history)
    with pytest.raises(TypeError, match=r"wrong way round: call landscape\(fn, history\)"):
        tg.plot.landscape(r.history, f)
    np.testing.assert_array_equal(tg.plot.landscape(f, r, resolution=np.int64(10)).data.query("kind == 'path'")["x"],
                                  r.history["x"])  # a result works as the history


def test_landscape_view_is_cut_to_the_bounds(rosen):
    f, r = rosen
    p = tg.plot.landscape(f, r.history, bounds=[(-2, 0), (0.5, 2)], resolution=20)
    assert (p.coordinates.limits.x, p.coordinates.limits.y) == ((-2, 0), (0.5, 2))


def test_landscape_of_a_diverged_run_shows_where_it_left():
    f = lambda p: p["x"] ** 2 + p["y"] ** 2
    r = tg.minimize(f, {"x": 1.0, "y": 1.0}, learning_rate=1.5, steps=500)  # x_k = (-2)^k until overflow
    assert r.status == "diverged" and np.nanmax(np.abs(r.history["x"])) > 1e15
    p = tg.plot.landscape(f, r.history)
    loss = r.history["loss"]
    out = int(np.argmax(loss > 101 * loss[0]))  # the first step out of the default rule's limit
    path = p.data[p.data["kind"] == "path"]
    np.testing.assert_array_equal(path["x"], r.history["x"][:out + 1])
    before = r.history["x"][:out]
    lo, hi = before.min(), before.max()
    np.testing.assert_allclose(p.coordinates.limits.x, (lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo)))
    lines = p.data[p.data["kind"] == "contour"]
    assert lines["x"].between(*p.coordinates.limits.x).all() and len(lines)
    one = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=500)
    q = tg.plot.landscape(one.fn, one.history)
    curve = q.data[q.data["kind"] == "curve"]
    assert q.coordinates.limits.x == (curve["x"].min(), curve["x"].max()) and curve["x"].max() < 100
    assert q.coordinates.limits.y == (curve["y"].min(), curve["y"].max())


def test_landscape_default_bounds_cover_a_converging_path(rosen):
    f, r = rosen
    p = tg.plot.landscape(f, r.history, resolution=10)
    path = p.data[p.data["kind"] == "path"]
    np.testing.assert_array_equal(path["y"], r.history["y"])
    (x0, x1), (y0, y1) = p.coordinates.limits.x, p.coordinates.limits.y
    assert x0 < r.history["x"].min() and r.history["x"].max() < x1
    assert y0 < r.history["y"].min() and r.history["y"].max() < y1


@pytest.mark.parametrize("plot", ["trajectory", "loss", "compare", "landscape"])
def test_every_plot_takes_a_result_or_its_history(rosen, plot):
    f, r = rosen
    draw = {"trajectory": tg.plot.trajectory, "loss": tg.plot.loss, "compare": lambda h: tg.plot.compare({"a": h}),
            "landscape": lambda h: tg.plot.landscape(f, h, resolution=10)}[plot]
    from_result, from_history = draw(r), draw(r.history)
    assert len(from_result.data) > 0
    assert from_result.data.equals(from_history.data) and from_result.labels == from_history.labels


@pytest.mark.parametrize("plot", ["trajectory", "loss", "landscape"])
def test_a_run_without_history_says_so_instead_of_drawing_nothing(plot):
    f = lambda w: w**2
    r = tg.minimize(f, 1.0, steps=5, record=False)
    assert len(r.history) == 0
    message = r"made with record=False, so there is no history to plot; run minimize with record=True"
    with pytest.raises(ValueError, match=message):
        r.plot(plot)
    with pytest.raises(ValueError, match=message):
        r.history.plot(plot, **({"fn": f} if plot == "landscape" else {}))
    with pytest.raises(ValueError, match=message):
        (tg.plot.landscape(f, r) if plot == "landscape" else getattr(tg.plot, plot)(r))
    assert "record=False" in r.history.summary()
    empty = tg.History({c: [] for c in ["loss", "w", "grad_norm", "lr", "elapsed"]})
    with pytest.raises(ValueError, match="this history has no rows to plot"):
        empty.plot(plot, **({"fn": f} if plot == "landscape" else {}))


def test_trajectory_of_an_array_parameter_draws_each_element(monkeypatch):
    monkeypatch.setattr(tg.History, "max_elements", 3)
    target = np.array([1.0, 2.0, 3.0, 4.0])
    x0 = {"w": np.zeros(4), "b": np.float64(0.5)}
    h = tg.minimize(lambda p: tg.reduce_sum((p["w"] - target) ** 2) + p["b"] ** 2, x0, steps=10).history
    p = tg.plot.trajectory(h, param="w")
    elements = ["w[0]", "w[1]", "w[2]"]  # the recorded ones; norm(w) is not an element
    assert list(p.data["parameter"].cat.categories) == elements and p.mapping["color"] == "parameter"
    for c in elements:
        np.testing.assert_array_equal(p.data.loc[p.data["parameter"] == c, "value"], h[c])
    assert p.labels.title == "w over epochs"
    both = tg.plot.trajectory(h, ["b", "w", "w[1]"])
    assert list(both.data["parameter"].cat.categories) == ["b", *elements]
    with pytest.raises(ValueError, match="no parameter column 'v'.*array parameter's name"):
        tg.plot.trajectory(h, "v")


def test_landscape_says_which_parameters_it_holds_at_their_final_values():
    f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2 + p["z"] ** 2
    r = tg.minimize(f, {"x": -1.2, "y": 1.0, "z": 1.0}, optimizer="adam", steps=50)
    assert tg.plot.landscape(f, r, resolution=10).labels.subtitle == "slice through x, y; z at its final value"
    assert tg.plot.landscape(f, r, params="z").labels.subtitle == "slice along z; x, y at their final values"
    g = lambda v: tg.reduce_sum((v - np.array([1.0, 2.0, 3.0])) ** 2)
    v = tg.minimize(g, np.zeros(3), steps=5)
    assert tg.plot.landscape(g, v, resolution=10).labels.subtitle == \
        "slice through v[0], v[1]; the rest of v at its final value"
    two = tg.minimize(lambda p: p["x"] ** 2 + p["y"] ** 2, {"x": 1.0, "y": 1.0}, steps=5)
    assert tg.plot.landscape(two.fn, two, resolution=10).labels.subtitle is None  # nothing held: no slice


def _marks(p):
    return p.data[p.data["kind"] == "marker"]


def test_a_diverged_landscape_marks_the_last_point_in_view():
    f = lambda p: p["x"] ** 2 + p["y"] ** 2
    r = tg.minimize(f, {"x": 1.0, "y": 1.0}, learning_rate=1.5, steps=500)  # x_k = (-2)^k until overflow
    p = tg.plot.landscape(f, r)
    (x0, x1), (y0, y1) = p.coordinates.limits.x, p.coordinates.limits.y
    path, marks = p.data[p.data["kind"] == "path"], _marks(p)
    assert not (x0 <= path["x"].iloc[-1] <= x1)  # the path's last point, its first step out, is out of view
    assert list(marks["label"]) == ["start", "diverged after this"]
    end = marks.iloc[-1]
    assert x0 <= end["x"] <= x1 and y0 <= end["y"] <= y1
    assert end["step"] == path["step"].iloc[-2]  # the point the runaway step left from
    one = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=500)
    q = tg.plot.landscape(one.fn, one)
    end = _marks(q).iloc[-1]
    assert end["label"] == "diverged after this"
    assert q.coordinates.limits.x[0] <= end["x"] <= q.coordinates.limits.x[1]
    assert q.coordinates.limits.y[0] <= end["y"] <= q.coordinates.limits.y[1]


def test_landscape_end_marker_when_the_bounds_leave_the_end_out():
    f = lambda p: (p["x"] - 1) ** 2 + (p["y"] - 1) ** 2
    r = tg.minimize(f, {"x": -1.0, "y": -1.0}, learning_rate=0.1, steps=40)
    p = tg.plot.landscape(f, r, bounds=[(-1.5, 0.0), (-1.5, 0.0)], resolution=10)
    marks = _marks(p)
    inside = (r.history["x"] <= 0.0) & (r.history["y"] <= 0.0)
    assert not inside[-1] and list(marks["label"]) == ["start", "left the view after this"]
    assert marks["step"].iloc[-1] == np.flatnonzero(inside)[-1]
    whole = _marks(tg.plot.landscape(f, r, resolution=10))
    assert list(whole["label"]) == ["start", "end"] and whole["step"].iloc[-1] == len(r.history) - 1


def test_a_loss_that_underflows_to_zero_says_so_and_keeps_the_whole_x_axis(seed):
    loss = seed.history["loss"]
    first_zero = int(np.flatnonzero(loss == 0)[0])
    assert (loss[first_zero:] == 0).all() and (loss[:first_zero] > 0).all()  # float32 underflow, for good
    p = tg.plot.loss(seed)
    np.testing.assert_array_equal(p.data["step"], np.arange(first_zero))
    assert p.labels.caption == f"not drawn: loss 0 from step {first_zero} on (a log scale has no 0)"
    assert p.coordinates.limits.x == (0, len(loss) - 1)  # the axis does not stop where the line does
    linear = tg.History({"loss": [1.0, 0.0, -1.0], "w": [1.0, 0.0, -1.0], "grad_norm": [1.0] * 3,
                         "lr": [0.1] * 3, "elapsed": [0.0] * 3})
    q = tg.plot.loss(linear)  # a negative loss: linear scale, and 0 is drawn like any number
    np.testing.assert_array_equal(q.data["loss"], linear["loss"])
    assert "scale_y_log10" not in [type(s).__name__ for s in q.scales] and q.labels.caption is None
    scattered = tg.History({"loss": [1.0, 0.0, 0.5, 0.0, 0.25], "w": [1.0] * 5, "grad_norm": [1.0] * 5,
                            "lr": [0.1] * 5, "elapsed": [0.0] * 5})
    assert tg.plot.loss(scattered).labels.caption == "not drawn: loss 0 at 2 steps from step 1 (a log scale has no 0)"


def test_the_caption_names_the_rows_left_out_of_each_run(seed):
    d = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=100)
    k = len(d.history) - 1
    assert np.isinf(d.history["loss"][k]) and np.isfinite(d.history["loss"][:k]).all()
    assert tg.plot.loss(d).labels.caption == f"not drawn: loss inf at step {k} (dashed line)"
    first_zero = int(np.flatnonzero(seed.history["loss"] == 0)[0])
    p = tg.plot.compare({"seed": seed, "too big": d})
    assert p.labels.caption.replace("\n", " ") == (
        f"not drawn: seed's loss 0 from step {first_zero} on (a log scale has no 0); too big's loss inf at step {k} "
        "(dashed line)")
    assert p.coordinates.limits.x == (0, len(seed.history) - 1)
    np.testing.assert_array_equal(p.data.loc[p.data["run"] == "too big", "step"], np.arange(k))


# -- readable for any history: short ticks, finite views, divergence marked, few colours, wrapped captions ----

def _history(loss, **params):
    n = len(loss)
    return tg.History({"loss": loss, **params, "grad_norm": [1.0] * n, "lr": [0.1] * n, "elapsed": [0.0] * n})


def _drawn(p):
    """What matplotlib drew on the (first) panel: y tick labels and their positions in data space, the y view."""
    import matplotlib.pyplot as plt

    fig = p.draw()
    try:
        ax = fig.axes[0]
        log = any(type(s).__name__ == "scale_y_log10" for s in p.scales)
        ticks = 10.0 ** ax.get_yticks() if log else ax.get_yticks()
        view = tuple(10.0 ** np.array(ax.get_ylim())) if log else ax.get_ylim()
        return [t.get_text() for t in ax.get_yticklabels()], ticks, view
    finally:
        plt.close(fig)


def _dashed(p):
    """The steps the dashed vertical lines mark."""
    return [int(step) for layer in p.layers if type(layer.geom).__name__ == "geom_vline"
            for step in layer.geom.data["step"]]


def _diverged(dtype):
    return tg.minimize(lambda w: w**2, dtype(1.0), learning_rate=1.5, steps=10_000)  # w_k = (-2)^k until overflow


HUGE_AND_TINY = {
    "float64 diverged w": lambda: tg.plot.trajectory(_diverged(np.float64)),  # |w| to 6.7e153
    "float32 diverged w": lambda: tg.plot.trajectory(_diverged(np.float32)),  # |w| to 1.8e19
    "float64 diverged loss": lambda: tg.plot.loss(_diverged(np.float64)),  # loss to 4.5e307
    "loss to 1e307": lambda: tg.plot.loss(_history([1.0, 1e100, 1e200, 1e300, 1e307], w=[1.0] * 5)),
    "tiny w": lambda: tg.plot.trajectory(_history([1.0] * 3, w=[1e-15, 1e-17, 1e-20])),
    "w at the float limits": lambda: tg.plot.trajectory(_history([1.0] * 3, w=[-1.7e308, 0.0, 1.7e308])),
    "loss falling to -1e308": lambda: tg.plot.loss(_history([-1e300, -1e308, -np.inf], w=[1.0] * 3)),
}


@pytest.mark.parametrize("case", HUGE_AND_TINY)
def test_tick_labels_are_short_and_true_for_huge_and_tiny_values(case):
    labels, ticks, view = _drawn(HUGE_AND_TINY[case]())
    assert len(labels) >= 2 and all(len(t) <= 8 for t in labels), labels  # 1e150, not 150 digits
    assert len(set(labels)) == len(labels), labels  # 1e-15 and 1e-20 are not both "0"
    assert np.isfinite(view).all()
    gap = np.min(np.diff(np.sort(ticks)))
    for text, at in zip(labels, ticks):  # each label reads back as its tick's position
        assert abs(float(text.replace("\u2212", "-")) - at) <= 1e-3 * gap, (text, at)


def test_the_axes_span_the_finite_values_and_a_dashed_line_marks_where_the_run_left_them():
    r = _diverged(np.float64)
    loss, w = r.history["loss"], r.history["w"]
    out = int(np.flatnonzero(~np.isfinite(loss))[0])
    for p, values, space in ((tg.plot.trajectory(r), w, float), (tg.plot.loss(r), loss, np.log10)):
        lo, hi = p.coordinates.limits.y
        finite = values[np.isfinite(values)]
        assert np.isfinite([lo, hi]).all() and lo <= finite.min() and finite.max() <= hi
        assert space(hi) - space(lo) <= 1.2 * (space(finite.max()) - space(finite.min()))  # no more than padding
        assert _dashed(p) == [out]
        assert f"step {out}" in p.labels.caption.replace("\n", " ")
        assert np.isfinite(p.data.drop(columns=["parameter"], errors="ignore").select_dtypes("number")).all().all()
    assert "loss became inf" in tg.plot.trajectory(r).labels.caption.replace("\n", " ")


def test_a_run_that_went_nan_is_marked_where_it_did():
    h = _history([1.0, 0.5, np.nan, np.nan], w=[1.0, 0.7, np.nan, np.nan])
    p = tg.plot.trajectory(h)
    assert [type(layer.geom).__name__ for layer in p.layers] == ["geom_line", "geom_vline"] and _dashed(p) == [2]
    assert "at step 2 (the loss became NaN)" in p.labels.caption
    assert p.coordinates.limits.y[0] <= 0.7 and 1.0 <= p.coordinates.limits.y[1]
    q = tg.plot.loss(h)
    assert _dashed(q) == [2]
    assert q.labels.caption == "not drawn: loss NaN from step 2 on (dashed line)"
    unbounded = _history([1.0, -5.0, -np.inf], w=[1.0, 2.0, 3.0])  # no minimum: the loss fell to -inf
    assert "at step 2 (the loss became -inf)" in tg.plot.trajectory(unbounded).labels.caption
    assert tg.plot.loss(unbounded).labels.caption == "not drawn: loss -inf at step 2 (dashed line)"


def test_a_loss_of_exactly_zero_everywhere_is_drawn_in_view():
    h = _history([0.0, 0.0, 0.0], w=[0.0, 0.0, 0.0])
    p = tg.plot.loss(h)
    lo, hi = p.coordinates.limits.y
    assert lo < 0 < hi and p.labels.y == "loss" and len(p.data) == 3
    labels, _, _ = _drawn(p)
    assert "0" in labels


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 37))
    y = x @ rng.normal(size=37)
    return x, y, tg.minimize(lambda w: tg.reduce_mean((tg.matmul(x, w) - y) ** 2), np.zeros(37), learning_rate=0.05,
                             steps=50)


def test_a_models_many_parameters_are_drawn_as_their_norm(model):
    x, y, r = model
    p = tg.plot.trajectory(r)
    assert list(p.data.columns) == ["step", "norm(w)"] and p.labels.title == "norm(w) over epochs"
    np.testing.assert_allclose(p.data["norm(w)"].iloc[-1], np.linalg.norm(r.x), rtol=1e-12)
    assert "w (37 elements) drawn as its L2 norm" in p.labels.caption.replace("\n", " ")
    several = tg.minimize(lambda q: tg.reduce_mean((tg.matmul(x[:, :30], q["W"]) + tg.matmul(x[:, 30:], q["V"])
                                                    + q["b"] - y) ** 2),
                          {"W": np.zeros(30), "V": np.zeros(7), "b": np.float64(0.0)}, learning_rate=0.05, steps=20)
    s = tg.plot.trajectory(several)
    assert s.mapping["color"] == "parameter" and set(s.data["parameter"]) == {"norm(W)", "norm(V)", "b"}
    np.testing.assert_allclose(s.data.loc[s.data["parameter"] == "norm(V)", "value"].iloc[-1],
                               np.linalg.norm(several.x["V"]), rtol=1e-12)  # V has all its 7 elements recorded


def test_more_series_than_colours_get_a_panel_each(model):
    _, _, r = model
    p = tg.plot.trajectory(r, "w")  # asked for: the 10 recorded elements, one panel each
    assert type(p.facet).__name__ == "facet_wrap" and "color" not in p.mapping
    assert list(p.data["parameter"].cat.categories) == [f"w[{i}]" for i in range(10)]
    many = {f"p{i}": float(i) for i in range(20)}
    q = tg.plot.trajectory(tg.minimize(lambda d: tg.add_n([(v - 1.0) ** 2 for v in d.values()]), many, steps=5))
    assert type(q.facet).__name__ == "facet_wrap" and q.data["parameter"].nunique() == 16
    assert "the first 16 of 20" in q.labels.caption


def test_captions_and_subtitles_are_wrapped_to_the_figure(seed):
    d = _diverged(np.float32)
    long_names = {f"a run with a rather long and descriptive name number {i}": d for i in range(3)}
    captions = [tg.plot.compare({"the seed's float32 run": seed, **long_names}).labels.caption]
    f = lambda p: sum((p[k] - 1.0) ** 2 for k in p)
    r = tg.minimize(f, {f"parameter_with_a_long_name_{i}": 0.0 for i in range(4)}, steps=5)
    captions.append(tg.plot.landscape(f, r, resolution=5).labels.subtitle)
    for text in captions:
        lines = text.split("\n")
        assert len(lines) > 1 and max(map(len, lines)) <= 80, text


def test_a_converged_1d_landscape_shows_its_end():
    r = tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, learning_rate=0.1, steps=200)
    p = tg.plot.landscape(r.fn, r)
    end = _marks(p).iloc[-1]
    assert end["label"] == "end" and end["step"] == len(r.history) - 1
    (x0, x1), (y0, y1) = p.coordinates.limits.x, p.coordinates.limits.y
    assert x0 <= end["x"] <= x1 and y0 <= end["y"] <= y1


def test_a_landscape_of_a_run_that_ended_in_nan_marks_its_last_finite_point():
    f = lambda p: (p["x"] + 1) ** 2 + p["y"] ** 2 + tg.sqrt(p["x"])  # x steps below 0: the loss is NaN
    r = tg.minimize(f, {"x": 1.0, "y": 1.0}, learning_rate=0.1, steps=100)
    assert r.status == "diverged" and np.isnan(r.history["loss"][-1])
    for p in (tg.plot.landscape(f, r, resolution=10), tg.plot.landscape(f, r, params="x")):
        end = _marks(p).iloc[-1]
        last = int(np.flatnonzero(np.isfinite(r.history["loss"]))[-1])
        assert end["label"] == "diverged after this" and end["step"] == last
        (x0, x1), y = p.coordinates.limits.x, p.coordinates.limits.y
        assert x0 <= end["x"] <= x1 and y[0] <= end["y"] <= y[1]
