"""History: columns, exports and their round trips, summary."""
import copy
import csv
import importlib
import io
import json
import math
import os
import pickle

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import needs

loop_module = importlib.import_module("tapegrad.descent.loop")


@pytest.fixture
def run():
    # w_k = 0.5^k under lr 0.25 on w^2; loss 0.25^k; |g| = 2 * 0.5^k.
    return tg.minimize(lambda w: w**2, np.float64(1.0), learning_rate=0.25, steps=8)


def test_columns_and_values(run):
    h = run.history
    assert h.columns == ["step", "loss", "w", "grad_norm", "lr", "elapsed"] and len(h) == 9
    k = np.arange(9)
    np.testing.assert_array_equal(h["step"], k)
    np.testing.assert_array_equal(h["w"], 0.5**k)
    np.testing.assert_array_equal(h.loss, 0.25**k)
    np.testing.assert_array_equal(h.grad_norm, 2 * 0.5**k)
    assert np.all(h.lr[:-1] == 0.25) and math.isnan(h.lr[-1])
    assert h.elapsed[0] >= 0 and np.all(np.diff(h.elapsed) >= 0)
    with pytest.raises(ValueError):
        h["w"][0] = 3.0  # read-only views of the buffers
    with pytest.raises(KeyError, match="its columns are"):
        h["v"]


@needs("pandas")
def test_to_pandas(run):
    df = run.history.to_pandas()
    assert list(df.columns) == run.history.columns and df["step"].dtype.kind == "i"
    np.testing.assert_array_equal(df["w"], run.history["w"])


@needs("pandas")
def test_csv_round_trip_is_exact(run, tmp_path):
    path = tmp_path / "h.csv"
    run.history.to_csv(path)
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == run.history.columns and len(rows) == 10
    import pandas as pd

    back = pd.read_csv(path)
    for c in run.history.columns:
        np.testing.assert_array_equal(back[c], run.history[c])


def _strict_json(text):
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_round_trip_keeps_nan_inf_and_minus_inf(tmp_path):
    r = tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=100)  # diverges: the last loss is inf
    assert r.history["loss"][-1] == math.inf
    obj = _strict_json(r.history.to_json())
    assert obj["columns"]["loss"][-1] == "inf" and obj["columns"]["lr"][-1] is None
    assert obj["meta"]["status"] == "diverged" and obj["meta"]["optimizer"] == "SGD"
    path = tmp_path / "h.json"
    r.history.to_json(path)
    back = tg.History.from_json(path)
    assert back.columns == r.history.columns and back.meta["message"] == r.message
    for c in r.history.columns:
        np.testing.assert_array_equal(back[c], r.history[c])  # equal_nan: NaN where NaN, inf where inf
    assert back.summary().splitlines()[1] == r.history.summary().splitlines()[1]
    assert back["loss"][-1] == math.inf and "-> inf" in back.summary()
    special = [0.5, math.nan, math.inf, -math.inf]
    h = tg.History({"loss": special, "x": special[::-1], "grad_norm": special, "lr": special, "elapsed": special})
    assert _strict_json(h.to_json())["columns"]["x"] == ["-inf", "inf", None, 0.5]
    again = tg.History.from_json(h.to_json())
    for c in h.columns:
        np.testing.assert_array_equal(again[c], h[c])
    with pytest.raises(ValueError, match="not a tapegrad History"):
        tg.History.from_json('{"a": 1}')
    with pytest.raises(ValueError, match=r"column 'loss' holds the string 'lots'.*\"inf\" / \"-inf\""):
        tg.History({"loss": ["lots"], "grad_norm": [1.0], "lr": [1.0], "elapsed": [0.0]})


def test_json_keeps_the_final_point_and_x0s_structure():
    # What a landscape needs: each parameter's final value (dtype and shape too) and how fn takes them.
    Point = __import__("collections").namedtuple("Point", "a b")
    x0 = {"m": np.arange(12.0).reshape(3, 4), "pair": (np.float64(1.0), [np.float32(2.0)]), "z": np.float64(3.0)}

    def fn(p):
        return tg.reduce_sum(p["m"] ** 2) + p["pair"][0] ** 2 + tg.cast(p["pair"][1][0], tg.float64) ** 2 + p["z"] ** 2

    r = tg.minimize(fn, x0, learning_rate=0.1, steps=3)
    h = r.history
    assert h.structure == {"m": "m", "pair": ("pair.0", ["pair.1.0"]), "z": "z"}
    assert list(h.final) == ["m", "pair.0", "pair.1.0", "z"]  # x0's leaf order
    back = tg.History.from_json(h.to_json())
    assert back.structure == h.structure and list(back.final) == list(h.final)
    for name, value in h.final.items():
        assert np.asarray(back.final[name]).dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(back.final[name], value)
    np.testing.assert_array_equal(h.final["m"], r.x["m"])
    assert h.element("m[9]") == back.element("m[9]") == ("m", 9) and back.element("norm(m)") is None
    assert back.element("pair.1.0") == ("pair.1.0", 0)
    spec = {"dict": [["m", "m"], ["pair", {"tuple": ["pair.0", ["pair.1.0"]]}], ["z", "z"]]}
    assert json.loads(h.to_json())["structure"] == spec
    # A dict with int keys; and a structure JSON cannot hold (a namedtuple): its columns still round-trip.
    ints = tg.minimize(lambda p: p[3] ** 2 + p[10] ** 2, {3: np.float64(1.0), 10: np.float64(2.0)}, steps=1)
    assert tg.History.from_json(ints.history.to_json()).structure == {3: "x3", 10: "x10"}
    named = tg.minimize(lambda p: p.a ** 2 + p.b ** 2, Point(np.float64(1.0), np.float64(2.0)), steps=1).history
    assert named.structure == Point("x0", "x1")
    again = tg.History.from_json(named.to_json())
    assert again.structure is None and again.final is None and again.columns == named.columns


def test_history_from_columns_takes_a_final_point_and_structure():
    cols = {"loss": [1.0, 0.25], "w[0]": [1.0, 0.5], "w[1]": [2.0, 1.0], "b": [0.0, 0.0], "grad_norm": [1.0, 1.0],
            "lr": [0.25, math.nan], "elapsed": [0.0, 0.1]}
    h = tg.History(cols, final={"w": [0.5, 1.0], "b": 0.0}, structure={"w": "w", "b": "b"})
    assert h.element("w[1]") == ("w", 1) and h.element("b") == ("b", 0)
    np.testing.assert_array_equal(h.final["w"], [0.5, 1.0])
    assert tg.History(cols).element("w[1]") == ("w", 1) and tg.History(cols).final is None
    with pytest.raises(ValueError, match="final and structure go together"):
        tg.History(cols, final={"w": [0.5, 1.0], "b": 0.0})
    with pytest.raises(ValueError, match=r"structure names \['v'\]"):
        tg.History(cols, final={"w": [0.5, 1.0], "b": 0.0}, structure={"w": "v", "b": "b"})
    with pytest.raises(KeyError, match="no parameter column 'loss'"):
        h.element("loss")


def test_history_from_columns_checks_them():
    with pytest.raises(ValueError, match="missing"):
        tg.History({"step": [0], "loss": [1.0]})
    with pytest.raises(ValueError, match="same length"):
        tg.History({"loss": [1.0], "grad_norm": [1.0, 2.0], "lr": [1.0], "elapsed": [0.0]})


def test_summary_states_the_run(run):
    text = run.history.summary()
    lines = text.splitlines()
    assert lines[0] == "History: 9 rows (steps 0 to 8), max_steps"
    assert f"1 -> {0.25 ** 8:.6g} (best {0.25 ** 8:.6g} at step 8)" in _line(text, "loss")
    assert any(line.split()[:4] == ["w", "1", "->", f"{0.5 ** 8:.6g}"] for line in lines)
    assert repr(text) == text  # shows as text at the prompt
    assert tg.minimize(lambda w: w**2, 1.0, steps=3, record=False).history.summary() == \
        "History: empty (this run was made with record=False, so there is no history)"
    assert tg.History({c: [] for c in ["loss", "grad_norm", "lr", "elapsed"]}).summary() == \
        "History: empty (this history has no rows)"


def _line(summary, name):
    return next(line.split(None, 1)[1] for line in summary.splitlines() if line.split()[:1] == [name])


def test_summary_shows_a_varying_lr_as_its_range_and_a_constant_one_as_one_number():
    f = lambda p: (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2
    h = tg.minimize(f, {"x": -1.2, "y": 1.0}, optimizer="newton", steps=20).history
    lr = h.lr[:-1]
    assert lr.min() < lr[0] == lr[-1]  # Newton's damped steps: first and last alone would look constant
    g = lambda v: f"{v:.6g}"
    assert _line(h.summary(), "lr") == f"{g(lr.min())} to {g(lr.max())} (varies; first {g(lr[0])}, last {g(lr[-1])})"
    const = tg.minimize(lambda w: w**2, 1.0, learning_rate=0.25, steps=4).history
    assert _line(const.summary(), "lr") == "0.25"


def test_summary_says_how_each_kind_of_run_stopped(monkeypatch):
    runs = {
        "converged": tg.minimize(lambda w: (w - 3.0) ** 2, 0.0, learning_rate=0.1, steps=1000, gtol=1e-6),
        "max_steps": tg.minimize(lambda w: w**2, 1.0, steps=5),
        "diverged": tg.minimize(lambda w: w**2, 1.0, learning_rate=1.5, steps=100),
        "interrupted": tg.minimize(lambda w: w**2, 1.0, steps=100, callbacks=lambda s: s.step == 7),
    }
    for status, r in runs.items():
        text = r.history.summary()
        n = len(r.history)
        assert r.status == status and text.splitlines()[0] == f"History: {n} rows (steps 0 to {n - 1}), {status}"
        stopped = _line(text, "stopped")
        assert r.message.startswith(stopped) and "; " not in stopped  # the reason, without the advice after it
        assert _line(text, "loss").startswith(f"{r.history.loss[0]:.6g} -> {r.history.loss[-1]:.6g}")
    assert _line(runs["diverged"].history.summary(), "loss").startswith("1 -> inf")
    one = tg.minimize(lambda w: w**2, 1.0, steps=0).history.summary()
    assert one.splitlines()[0] == "History: 1 row (step 0), max_steps" and "lr" not in one  # no step was taken
    monkeypatch.setattr(tg.History, "max_elements", 8)
    x0 = {"b": np.float64(1.0), "w": np.zeros(12)}
    wide = tg.minimize(lambda p: p["b"] ** 2 + tg.reduce_sum(p["w"] ** 2), x0, steps=2).history.summary()
    # grad_norm, b, w[0]..w[3] are shown; the other columns are named, w's elements as one span.
    assert "  ... and 5 more parameter columns: w[4]..w[7], norm(w)" in wide.splitlines()


def test_array_parameters_survive_staging_growth_and_reads_mid_run(monkeypatch):
    # Array parameters are staged in blocks of rows and moved into their columns later; the buffer
    # also grows (100 -> 200 -> ... rows). Every row must come out as the descent computed it.
    monkeypatch.setattr(loop_module, "HISTORY_CHUNK", 100)
    monkeypatch.setattr(tg.History, "max_elements", 3)
    x0 = {"a": np.float64(2.0), "m": np.arange(1.0, 7.0).reshape(2, 3), "v": np.array([1.0, -2.0])}
    steps, lr = 600, 0.001
    seen = {}

    def read_mid_run(info):
        if info.step in (0, 99, 100, 101, 255, 256, 257, 400):
            seen[info.step] = info.history["norm(m)"].copy()

    r = tg.minimize(lambda p: p["a"] ** 2 + tg.reduce_sum(p["m"] ** 2) + tg.reduce_sum(p["v"] ** 2), x0,
                    learning_rate=lr, steps=steps, callbacks=read_mid_run)
    h = r.history
    assert h.param_columns == ["a", "m[0]", "m[1]", "m[2]", "norm(m)", "v[0]", "v[1]"] and len(h) == steps + 1
    decay = (1 - 2 * lr) ** np.arange(steps + 1)  # SGD on x^2: x_k = (1 - 2 lr)^k x_0, every coordinate
    m = np.arange(1.0, 7.0)
    np.testing.assert_allclose(h["a"], 2.0 * decay, rtol=1e-12)
    for i in range(3):
        np.testing.assert_allclose(h[f"m[{i}]"], m[i] * decay, rtol=1e-12)
    np.testing.assert_allclose(h["norm(m)"], np.linalg.norm(m) * decay, rtol=1e-12)
    np.testing.assert_allclose(h["v[1]"], -2.0 * decay, rtol=1e-12)
    np.testing.assert_allclose(h["grad_norm"], 2 * np.sqrt(4.0 + m @ m + 5.0) * decay, rtol=1e-12)
    assert np.all(h["lr"][:-1] == lr) and math.isnan(h["lr"][-1])
    for step, col in seen.items():
        np.testing.assert_array_equal(col, h["norm(m)"][:step + 1])


def _loss(p):  # module level, so it pickles
    return tg.reduce_sum(p["v"] ** 2) + p["a"] ** 2


def test_pickle_and_copies_keep_every_column():
    x0 = {"a": np.float64(1.0), "v": np.linspace(-1.0, 1.0, 30)}  # v: staged rows, capped at 10 columns
    h = tg.minimize(_loss, x0, learning_rate=0.1, steps=20).history
    lam = tg.minimize(lambda p: _loss(p), x0, learning_rate=0.1, steps=20).history
    for other, source, fn in [(pickle.loads(pickle.dumps(h)), h, _loss), (copy.deepcopy(lam), lam, lam.fn),
                              (copy.copy(h), h, _loss),
                              (pickle.loads(pickle.dumps(lam)), lam, None)]:  # a lambda does not pickle: the data does
        assert other.columns == source.columns and len(other) == 21 and other.fn is fn
        for c in source.columns:
            np.testing.assert_array_equal(other[c], source[c])
        assert other.meta == source.meta
    twin = copy.deepcopy(h)
    twin._rows[0, 0] = -1.0
    assert h["loss"][0] != -1.0  # a copy owns its data
    r = pickle.loads(pickle.dumps(tg.minimize(lambda w: w**2, np.float64(1.0), steps=3)))
    assert r.fn is None and r.status == "max_steps" and len(r.history) == 4
    back = pickle.loads(pickle.dumps(tg.History.from_json(h.to_json())))
    np.testing.assert_array_equal(back["norm(v)"], h["norm(v)"])


@pytest.mark.parametrize("size", [50, 20_000])  # staged, and written row by row (too large to stage)
def test_float32_array_norms_are_taken_in_float64(size):
    v0 = np.full(size, 1e20, np.float32)  # its squares overflow float32
    h = tg.minimize(lambda v: tg.reduce_sum(v * 1e-20), v0, learning_rate=0.0, steps=40).history
    assert h.param_columns[-1] == "norm(v)" and len(h) == 41
    np.testing.assert_allclose(h["norm(v)"], np.linalg.norm(v0.astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(h["v[9]"], np.float64(np.float32(1e20)))


@pytest.mark.parametrize("writer", ["to_csv", "to_json"])
def test_writers_take_a_path_an_open_file_or_none(run, tmp_path, writer):
    write = getattr(run.history, writer)
    text = write()  # None: the text, as pandas' to_csv(None) gives it
    assert isinstance(text, str) and text.splitlines()[0].startswith(("step,loss,w", '{"meta"'))
    buf = io.StringIO()
    assert write(buf) is None and not buf.closed and buf.getvalue() == text  # an open file stays open
    write(tmp_path / "h.out")
    assert (tmp_path / "h.out").read_text() == text
    write(str(tmp_path / "h2.out"))
    assert (tmp_path / "h2.out").read_text() == text


@pytest.mark.parametrize("writer", ["to_csv", "to_json"])
def test_writers_refuse_ints_and_missing_folders(run, tmp_path, writer, capfd):
    write = getattr(run.history, writer)
    fd = os.open(tmp_path / "other.txt", os.O_WRONLY | os.O_CREAT)
    for bad in (True, fd, 2.5):  # open() would take True as stdout and fd as itself, and close them
        with pytest.raises(TypeError, match=f"{writer}\\(\\) takes a file name, an open text file, or None"):
            write(bad)
    os.fstat(fd)  # still open
    os.close(fd)
    assert capfd.readouterr().out == ""
    missing = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError, match="Cannot save file into a non-existent directory: '.*such'"):
        write(missing / "h.out")
    assert not missing.exists()


def test_from_json_reads_an_open_file(run):
    back = tg.History.from_json(io.StringIO(run.history.to_json()))
    np.testing.assert_array_equal(back["w"], run.history["w"])


def test_every_public_history_member_documents_itself_with_an_example():
    for name, member in vars(tg.History).items():
        if name.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if callable(target):
            assert ">>>" in (target.__doc__ or ""), f"History.{name} needs a docstring with a tiny example"


def test_array_parameters_by_flat_index_and_whole():
    target = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    x0 = np.arange(6.0).reshape(2, 3)
    lr = 0.1
    r = tg.minimize(lambda p: tg.reduce_sum((p["w"] - target) ** 2) + p["b"] ** 2, {"b": np.float64(1.0), "w": x0},
                    learning_rate=lr, steps=5)
    h = r.history
    assert h.param_columns == ["b", *[f"w[{i}]" for i in range(6)]]
    expected = target + (1 - 2 * lr) ** np.arange(6)[:, None, None] * (x0 - target)  # SGD on a quadratic
    np.testing.assert_allclose(h["w[4]"], expected[:, 1, 1], rtol=1e-6)  # flat, C order: w[4] is w[1, 1]
    np.testing.assert_allclose(h.param("w"), expected, rtol=1e-6)
    np.testing.assert_array_equal(h.param("b"), h["b"])
    np.testing.assert_array_equal(tg.History.from_json(h.to_json()).param("w"), h.param("w"))
    with pytest.raises(KeyError, match=r"'w' is an array parameter; its columns are w\[0\]..w\[5\].*param\('w'\)"):
        h["w"]
    with pytest.raises(KeyError, match="no parameter 'v'"):
        h.param("v")


def test_a_large_array_parameter_cannot_come_back_whole():
    h = tg.minimize(lambda w: tg.reduce_sum(w**2), np.ones((5, 6)), steps=2).history
    with pytest.raises(KeyError, match=r"its columns are w\[0\]..w\[9\] \(flat, C order.*\) and norm\(w\)"):
        h["w"]
    with pytest.raises(ValueError, match="only the first 10 of 30 elements of w were recorded.*max_elements"):
        h.param("w")


# -- files are written whole or not at all ---------------------------------------------------------
codec_module = importlib.import_module("tapegrad.descent.codec")


class _CtrlCHalfway:
    """Stands in for the csv and json modules: writes part of the output, then raises KeyboardInterrupt."""

    def __init__(self, exc=KeyboardInterrupt):
        self.exc = exc

    def writer(self, f, **kwargs):
        real, exc = csv.writer(f, **kwargs), self.exc

        class Writer:
            writerow = real.writerow

            def writerows(self, rows):
                rows = list(rows)
                real.writerows(rows[: len(rows) // 2])
                f.flush()  # the part written is on disk: a plain open() would leave it there
                raise exc

        return Writer()

    def dump(self, obj, f):
        text = json.dumps(obj)
        f.write(text[: len(text) // 2])
        f.flush()
        raise self.exc


@pytest.mark.parametrize("writer, module", [("to_csv", "csv"), ("to_json", "json")])
@pytest.mark.parametrize("old", ["an older file\n", None])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_leaves_the_old_file_or_none_and_no_temporary(run, tmp_path, monkeypatch, writer,
                                                                           module, old, exc):
    target = tmp_path / "h.out"
    if old is not None:
        target.write_text(old)
    monkeypatch.setattr(codec_module, module, _CtrlCHalfway(exc))
    with pytest.raises(exc):
        getattr(run.history, writer)(target)
    assert (target.read_text() if target.exists() else None) == old
    assert os.listdir(tmp_path) == ([target.name] if old is not None else [])
    monkeypatch.undo()
    getattr(run.history, writer)(target)  # and the next write is whole
    assert target.read_text() == getattr(run.history, writer)()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_file_gets_the_permissions_open_gives_it_and_an_old_one_keeps_its_own(run, tmp_path, umask):
    before = os.umask(umask)
    try:
        with open(tmp_path / "by_open", "w"):
            pass
        run.history.to_csv(tmp_path / "new.csv")
    finally:
        os.umask(before)
    mode = os.stat(tmp_path / "new.csv").st_mode & 0o7777
    assert mode == os.stat(tmp_path / "by_open").st_mode & 0o7777 == 0o666 & ~umask
    old = tmp_path / "old.csv"
    old.write_text("x")
    os.chmod(old, 0o640)
    run.history.to_json(old)
    assert os.stat(old).st_mode & 0o7777 == 0o640 and old.read_text().startswith('{"meta"')


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and /dev/null")
def test_a_link_stays_a_link_and_a_device_is_written_to_not_replaced(run, tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    run.history.to_csv(link)
    assert link.is_symlink() and real.read_text() == run.history.to_csv()
    assert sorted(os.listdir(tmp_path)) == ["link.csv", "real.csv"]
    run.history.to_csv(os.devnull)  # the library writes to it as open() would; the command line refuses it
    assert not os.path.isfile(os.devnull)
