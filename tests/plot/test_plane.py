"""Landscapes of many parameters: the plane of the path (PCA), random and given directions, the grid's
evaluation in batches, the slice along the path; and a History read back from JSON drawing them."""
import json
import re

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import PLOTS

pytestmark = PLOTS

RNG = np.random.default_rng(1)
X = RNG.uniform(-1, 1, (16, 2))
Y = np.sin(2 * X[:, :1]) * X[:, 1:]


def mlp(p):
    return tg.reduce_mean((tg.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] - Y) ** 2)


def _mlp_run(record=("full",)):
    x0 = {"W1": RNG.normal(0, 1, (2, 4)), "b1": np.zeros(4), "W2": RNG.normal(0, 0.5, (4, 1))}
    return tg.minimize(mlp, x0, optimizer="adam", learning_rate=0.05, steps=60, record=record, progress=False)


def _flat_path(h):
    from tapegrad.plot.plane import Flat

    flat = Flat(h)
    return flat, flat.path


def test_the_pca_plane_contains_the_paths_first_two_principal_components():
    from tapegrad.plot.plane import directions_for

    r = _mlp_run()
    flat, path = _flat_path(r.history)
    m = path - flat.theta
    # The principal directions about the final point, found another way: the eigenvectors of M^T M.
    values, vectors = np.linalg.eigh(m.T @ m)
    top = vectors[:, np.argsort(values)[::-1][:2]]
    d, _ = directions_for(flat, "pca", None, 0)
    q, _ = np.linalg.qr(d.T)
    residual = top - q @ (q.T @ top)
    assert np.abs(residual).max() < 1e-6
    p = tg.plot.landscape(r, projection="pca", resolution=8, progress=False)
    trail = p.data[p.data["kind"] == "path"]
    # The path drawn is its projection: the coordinates' squares hold the two largest eigenvalues.
    held = float((trail["x"] ** 2 + trail["y"] ** 2).sum())
    top2 = float(np.sort(values)[-2:].sum())
    assert held == pytest.approx(top2, rel=1e-6)
    share = float(re.search(r"holds\s+([\d.]+)%", p.labels.subtitle).group(1))
    assert share == pytest.approx(100 * top2 / values.sum(), abs=0.06)
    assert trail["x"].iloc[-1] == pytest.approx(0, abs=1e-9) and trail["y"].iloc[-1] == pytest.approx(0, abs=1e-9)


def test_random_directions_are_normalised_per_parameter_and_seeded():
    from tapegrad.plot.plane import directions_for

    r = _mlp_run()
    flat, _ = _flat_path(r.history)
    d, how = directions_for(flat, "random", None, 3)
    again, _ = directions_for(flat, "random", None, 3)
    other, _ = directions_for(flat, "random", None, 4)
    assert np.array_equal(d, again) and not np.array_equal(d, other) and "seed 3" in how
    for row in d:
        for part, value in zip(flat.split(row), flat.final.values()):
            assert np.linalg.norm(part) == pytest.approx(np.linalg.norm(value), rel=1e-12)
    p = tg.plot.landscape(r, projection="random", seed=3, resolution=6, progress=False)
    assert p.coordinates.limits.x[0] <= -1 and p.coordinates.limits.x[1] >= 1


def test_your_own_directions_as_vectors_or_dicts():
    f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2 + p["z"] ** 2  # noqa: E731
    r = tg.minimize(f, {"x": -1.0, "y": 1.0, "z": 0.5}, optimizer="adam", learning_rate=0.02, steps=200)
    names = list(r.history.final)
    d1 = {n: float(n == "x") for n in names}
    d2 = {n: float(n == "y") for n in names}
    p = tg.plot.landscape(r, directions=(d1, d2), resolution=10, progress=False)
    trail = p.data[p.data["kind"] == "path"]
    # Along the x and y axes, the coordinates are the moves of x and y from the end.
    np.testing.assert_allclose(trail["x"], r.history["x"] - r.x["x"], atol=1e-6)
    np.testing.assert_allclose(trail["y"], r.history["y"] - r.x["y"], atol=1e-6)
    with pytest.raises(ValueError, match="a direction needs 3 numbers"):
        tg.plot.landscape(r, directions=(np.ones(2), np.ones(2)))
    with pytest.raises(ValueError, match="not parallel"):
        tg.plot.landscape(r, directions=(np.ones(3), 2 * np.ones(3)))
    with pytest.raises(ValueError, match="projection must be 'pca' or 'random'"):
        tg.plot.landscape(r, projection="tsne")
    with pytest.raises(ValueError, match="give one"):
        tg.plot.landscape(r, params=["x", "y"], projection="pca")


def test_the_plane_needs_every_element_and_says_how_to_get_them():
    old = tg.History.max_elements
    try:
        tg.History.max_elements = 3
        r = _mlp_run(record=True)
    finally:
        tg.History.max_elements = old
    with pytest.raises(ValueError, match="record='full'"):
        tg.plot.landscape(r, projection="pca")


def test_the_grid_is_evaluated_in_batches_when_fn_broadcasts_and_point_by_point_when_not(capsys):
    from tapegrad.plot.plane import evaluate_many

    calls = []

    def rosen(p):  # elementwise: broadcasts over a batch of points
        calls.append(np.shape(p["x"]))
        return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2

    def summed(w):  # reduce_sum over all axes: a batch would be summed into one number
        calls.append(np.shape(w))
        return tg.reduce_sum((w - 1.0) ** 2)

    r = tg.minimize(rosen, {"x": -1.0, "y": 1.0}, optimizer="adam", learning_rate=0.05, steps=30)
    s = tg.minimize(summed, np.zeros(3), learning_rate=0.1, steps=30)
    for run, fn, size in ((r, rosen, 2), (s, summed, 3)):
        flat, _ = _flat_path(run.history)
        points = flat.theta + np.random.default_rng(0).normal(size=(1500, size))
        calls.clear()
        got = evaluate_many(fn, flat, points, progress=True)
        one_by_one = np.array([float(flat.call(fn, q)) for q in points[:50]])
        np.testing.assert_allclose(got[:50], one_by_one, rtol=1e-12)
        batched = [c for c in calls if len(c) and c[0] > 3 and (fn is rosen or len(c) == 2)]
        assert bool(batched) == (fn is rosen), calls[:5]
    assert "point" in capsys.readouterr().err  # progress=True: the bar shows however quick it is


def test_the_slice_along_the_path_passes_through_every_point_visited():
    r = _mlp_run()
    p = tg.plot.path_slice(r, points=50, progress=False)
    curve = p.data[p.data["kind"] == "curve"]
    steps = p.data[p.data["kind"] == "step"]
    assert len(steps) == len(r.history) and steps["x"].is_monotonic_increasing
    at = curve.set_index("x")["y"]
    np.testing.assert_allclose(at.loc[steps["x"]].to_numpy(), r.history["loss"], rtol=1e-9)
    assert p.labels.x == "distance travelled"


def test_a_history_read_back_from_json_draws_every_plot_and_the_landscapes_with_fn_again(tmp_path):
    r = _mlp_run(record=("full", "state"))
    path = tmp_path / "run.json"
    r.history.to_json(str(path))
    back = tg.History.from_json(str(path))
    assert back.state_columns == r.history.state_columns and back.columns == r.history.columns
    assert json.loads(path.read_text())["meta"]["reason"] == "steps"
    for kind in ("trajectory", "loss", "state"):
        assert back.plot(kind).data is not None
    with pytest.raises(ValueError, match="needs the function"):
        back.plot("landscape", projection="pca")
    with pytest.raises(ValueError, match="give it again"):
        tg.plot.landscape(back, projection="pca")
    mine = tg.plot.landscape(mlp, back, projection="pca", resolution=6, progress=False)
    theirs = tg.plot.landscape(r, projection="pca", resolution=6, progress=False)
    np.testing.assert_allclose(mine.data["x"], theirs.data["x"], rtol=1e-9, atol=1e-12)
    assert back.plot("slice", fn=mlp, points=20).labels.title == "loss along the path"


def test_the_command_line_draws_a_landscape_of_three_variables_with_projection(tmp_path, capsys):
    from tapegrad.cli import main

    out = tmp_path / "plane.png"
    args = ["minimize", "(1-x)**2 + 100*(y-x**2)**2 + z**2", "--init", "x=-1", "y=1", "z=1", "--optimizer", "adam",
            "--lr", "0.02", "--steps", "100", "--quiet", "--landscape", str(out)]
    assert main(args) == 2 and "--projection pca" in capsys.readouterr().err
    assert main([*args, "--projection", "pca"]) == 0 and out.stat().st_size > 0
