"""`tapegrad demo`: the seed's numbers, derived here from the math, and the files it writes."""
import csv
import sys

import numpy as np

import tapegrad as tg
from tapegrad.cli import demo, main


def seed_descent(flush_denormals):
    """The blog's loop in NumPy float32: w <- w - lr * (2 w), optionally flushing denormals as TensorFlow's CPU does."""
    tiny = np.finfo(np.float32).tiny

    def flush(v):
        return np.float32(0) if flush_denormals and abs(v) < tiny else v

    w, lr = np.float32(1.0), np.float32(demo.LEARNING_RATE)
    for _ in range(demo.EPOCHS):
        w = flush(w - flush(lr * (np.float32(2) * w)))
    return w


def test_derivative_sections_follow_the_math():
    s = {sec.title.split()[0]: dict(sec.results) for sec in demo.derivatives()}
    f32 = np.float32
    # y = x**2 + b: dy/dx = 2x, dy/db = 2b for y = x**2 + b**2; d2y/dx2 = 2.
    assert s["1.1"]["dy/dx"].numpy() == f32(2 * 100)
    assert (s["1.2"]["dy/dx"].numpy(), s["1.2"]["dy/db"].numpy()) == (f32(2 * 20), f32(2 * 10))
    assert s["1.3.1"] == {"dy/dx": None, "dy/db": None}
    assert (s["1.3.2"]["dy/dx"].numpy(), s["1.3.2"]["dy/db"].numpy()) == (f32(40), f32(20))
    assert s["2.1"]["dy/dx"].numpy() == f32(40) and s["2.1"]["d2y/dx2"] is None
    assert (s["2.2"]["dy/dx"].numpy(), s["2.2"]["d2y/dx2"].numpy()) == (f32(40), f32(2))
    x = np.arange(-3, 4, dtype=np.float32)
    np.testing.assert_array_equal(s["2.3"]["dy/dx"].numpy(), 2 * x)
    np.testing.assert_array_equal(s["2.3"]["d2y/dx2"].numpy(), np.full(7, 2, np.float32))
    assert all(v is None or v.dtype == tg.float32 for sec in s.values() for v in sec.values())


def test_every_none_is_explained():
    for sec in demo.derivatives():
        has_none = any(v is None for _, v in sec.results)
        assert has_none == (sec.why is not None), sec.title
        text = "\n".join(sec.lines())
        assert f"y = {sec.expression}" in text and sec.point in text


def test_the_seeds_last_number_is_tensorflow_flushing_denormals():
    assert f"{seed_descent(flush_denormals=True):.6e}" == demo.TF_FINAL_W0
    exact = seed_descent(flush_denormals=False)
    assert 0 < exact < np.finfo(np.float32).tiny  # exact IEEE float32 goes on into the denormals


def test_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("mine")
    assert main(["demo", "--out", str(f)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert f.read_text() == "mine"


def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "seed"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for sec in demo.derivatives():
        assert "\n".join(sec.lines()) in text
    exact = seed_descent(flush_denormals=False)
    assert f"w0 after {demo.EPOCHS:,} epochs = {exact:.6e}" in text
    assert demo.TF_FINAL_W0 in text and "denormal" in text
    csv_path, png_path = out / "w0_over_epochs.csv", out / "w0_over_epochs.png"
    assert f"wrote {csv_path}" in text and f"wrote {png_path}" in text
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert np.float32(rows[-1]["w0"]) == exact
    assert np.float32(rows[1]["w0"]) == np.float32(1) - np.float32(0.01) * np.float32(2)
    assert png_path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_demo_without_the_plotting_extras(tmp_path, capsys, monkeypatch):
    for name in ("tapegrad.plot", "plotnine", "matplotlib"):  # as if the plotting extras were not installed
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delattr(tg, "plot", raising=False)
    assert main(["demo", "--out", str(tmp_path)]) == 1
    assert "pip install 'tapegrad[plot]'" in capsys.readouterr().err
    assert (tmp_path / "w0_over_epochs.csv").exists()
