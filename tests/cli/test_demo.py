"""`tapegrad demo`: the seed's numbers, derived here from the math, and the files it writes."""
import csv
import importlib
import os
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.cli import demo, main
from tests.optional import PLOTS


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


@PLOTS
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


def _no_descent(monkeypatch):
    monkeypatch.setattr(demo, "descent", lambda: pytest.fail("the descent ran; --out should have been refused first"))


def test_out_that_cannot_be_created_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    _no_descent(monkeypatch)
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    for out in [str(blocker / "sub")] + (["/proc/x"] if os.path.isdir("/proc/self") else []):
        assert main(["demo", "--out", out]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "Traceback" not in captured.err
        assert captured.err.startswith(f"tapegrad demo: error: --out {out}: could not create this folder (")
    assert os.listdir(tmp_path) == ["file"]


def test_out_empty_is_refused(capsys, monkeypatch):
    _no_descent(monkeypatch)
    assert main(["demo", "--out", ""]) == 2
    assert "--out was given an empty folder name" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_where_a_file_goes_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    _no_descent(monkeypatch)
    os.mkfifo(tmp_path / "w0_over_epochs.csv")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert f"{tmp_path / 'w0_over_epochs.csv'} is a FIFO (named pipe)" in capsys.readouterr().err


def test_ctrl_c_while_writing_leaves_the_files_whole_or_absent_and_says_which(tmp_path, capsys, monkeypatch):
    history = importlib.import_module("tapegrad.descent.codec")

    class HalfThenCtrlC:  # the csv module as the History's codec sees it: half the rows, then Ctrl-C
        def writer(self, f, **kwargs):
            real = csv.writer(f, **kwargs)

            class Writer:
                writerow = real.writerow

                def writerows(self, rows):
                    rows = list(rows)
                    real.writerows(rows[: len(rows) // 2])
                    f.flush()
                    raise KeyboardInterrupt

            return Writer()

    monkeypatch.setattr(history, "csv", HalfThenCtrlC())
    assert main(["demo", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("tapegrad demo: interrupted (Ctrl-C) while writing the files; not written: ")
    assert os.listdir(tmp_path) == []


def test_ctrl_c_during_the_descent_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted():  # a callback asking to stop ends the run as Ctrl-C does: status interrupted
        return tg.minimize(lambda w: w**2, tg.Variable(1.0), steps=3, callbacks=lambda step: True)

    monkeypatch.setattr(demo, "descent", interrupted)
    assert main(["demo", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted (Ctrl-C) during the descent; not written: " in err and os.listdir(tmp_path) == []
