"""tape.replay walks the backward pass one rule at a time and gets tape.gradient's answer."""
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import REGISTRY
from tapegrad.explain.rules import formula
from tests.explain.test_drawing import SVG, mlp, overlaps, seed
from tests.optional import needs


def close(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * scale)


def test_replay_gets_the_gradients_of_the_seed():
    tape, y, x, b = seed()
    r = tape.replay(y, [x, b])
    for got, want in zip(r.gradients, tape.gradient(y, [x, b])):
        close(got, want.numpy())
    assert [s.name for s in r] == ["add", "pow", "pow"]


def test_replay_gets_the_gradients_of_an_mlp_for_every_parameter_and_a_hidden_layer():
    tape, loss, params, h = mlp()
    r = tape.replay(loss, [*params, h])
    for got, want in zip(r.gradients, tape.gradient(loss, [*params, h])):
        close(got, want.numpy())


def test_steps_run_in_reverse_order_from_the_op_that_made_the_target():
    tape, loss, params, _ = mlp()
    r = tape.replay(loss, params)
    ops = [s.op for s in r]
    assert ops == sorted(ops, reverse=True) and len(set(ops)) == len(ops)
    assert [s.number for s in r] == list(range(1, len(r) + 1))
    assert r[0].op == len(r.model.ops)  # the target's own op is walked first
    close(r[0].g, np.ones_like(loss.numpy()))


def test_each_step_sends_what_its_rule_computes():
    x = tg.Variable(3.0)
    w = tg.Variable(5.0)
    with tg.GradientTape(persistent=True) as tape:
        y = tg.sin(x * w)
    r = tape.replay(y, [x, w])
    sin_step, mul_step = r
    close(sin_step.sends[0].cotangent, np.cos(15.0))
    assert sin_step.sends[0].rule == "g * cos(t1)"
    assert [s.rule for s in mul_step.sends] == ["g * w", "g * x"]
    close(mul_step.sends[0].cotangent, np.cos(15.0) * 5.0)
    close(mul_step.sends[1].cotangent, np.cos(15.0) * 3.0)


def test_nested_tapes_second_derivative():
    x = tg.Variable(20.0)
    b = tg.Variable(10.0)
    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = x ** 2 + b ** 2
        dy_dx = tape1.gradient(y, x)
    r = tape2.replay(dy_dx, x)
    close(r.gradients[0], tape2.gradient(dy_dx, x).numpy())


def test_elementwise_second_derivative():
    x = tg.Variable([-3, -2, -1, 0, 1, 2, 3], dtype=tg.float32)
    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = tg.math.square(x)
        dy_dx = tape1.gradient(y, x)
    close(tape1.replay(y, x).gradients[0], dy_dx.numpy())
    close(tape2.replay(dy_dx, x).gradients[0], tape2.gradient(dy_dx, x).numpy())


def test_replay_inside_the_with_block_records_nothing_and_uses_nothing_up():
    x = tg.constant(100.0)
    b = tg.constant(10.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x ** 2 + b
        before = len(tape._state.entries)
        r = tape.replay(y, x)
        assert len(tape._state.entries) == before
    close(r.gradients[0], tape.gradient(y, x).numpy())  # the non-persistent tape still has its gradient
    with pytest.raises(RuntimeError, match="persistent"):
        tape.replay(y, x)


def test_unconnected_sources_and_bad_arguments():
    tape, y, x, b = seed()
    z = tg.Variable(1.0)
    r = tape.replay(y, [x, z])
    assert r.gradients[1] is None
    assert "z = None" in r.text()
    with pytest.raises(TypeError, match="Tensors or Variables"):
        tape.replay(y, [x, 1.0])
    with pytest.raises(ValueError, match="not recorded"):
        tape.replay(tg.constant(1.0), x)


def test_text_table_names_every_step_and_the_gradients():
    tape, y, x, b = seed()
    text = tape.replay(y, [x, b]).text()
    lines = text.splitlines()
    assert lines[0].startswith("Backward pass of y with respect to x, b: 3 steps")
    assert lines[1].split() == ["step", "op", "g", "(of", "result)", "input", "rule", "sends"]
    assert "3: add" in lines[2] and "2: pow" in lines[4] and "1: pow" in lines[6]
    assert "g * 2 * x**(2 - 1)" in text and "leads to no source" in text
    assert lines[-1] == "gradients: x = 40, b = 20"
    assert str(tape.replay(y, x)) == repr(tape.replay(y, x))


@needs("pandas")
def test_to_pandas_has_one_row_per_input_of_each_step():
    tape, y, x, b = seed()
    r = tape.replay(y, [x, b])
    df = r.to_pandas()
    assert len(df) == sum(len(s.sends) for s in r)
    assert list(df.columns) == ["step", "op", "name", "line", "output", "g", "input", "rule", "cotangent"]
    sent = df.dropna(subset=["cotangent"])
    assert sorted(sent[sent["input"].isin(["x", "b"])]["cotangent"]) == [20.0, 40.0]


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    tape, y, x, _ = seed()
    with pytest.raises(ImportError, match="print"):
        tape.replay(y, x).to_pandas()


def test_each_step_drawn_on_the_graph():
    tape, y, x, b = seed()
    r = tape.replay(y, [x, b])
    for k in range(len(r) + 1):
        root = ET.fromstring(r.draw(k).svg())
        hot = [e for e in root.iter(SVG + "ellipse") if e.get("fill") == "#ffd54f"]
        assert len(hot) == (1 if k else 0)
        texts = [t.text for t in root.iter(SVG + "text")]
        assert any(t.startswith(f"step {k} of 3") for t in texts)
    last = [t.text for t in ET.fromstring(r.draw(3).svg()).iter(SVG + "text")]
    assert "grad 40" in last and "grad 20" in last
    first = [t.text for t in ET.fromstring(r.draw(1).svg()).iter(SVG + "text")]
    assert "grad 40" not in first  # x has not been reached after the first step
    with pytest.raises(IndexError, match="0"):
        r.draw(4)
    assert r.draw(0).placed().lay.centers == r.draw(3).placed().lay.centers  # one layout for all frames
    assert overlaps(r.draw(2).placed().lay) == []


def test_a_value_used_twice_shows_its_gradient_so_far():
    x = tg.Variable(3.0)
    with tg.GradientTape(persistent=True) as tape:
        s = tg.sin(x)
        y = s * x + s
    r = tape.replay(y, x)
    texts = [t.text for t in ET.fromstring(r.draw(1).svg()).iter(SVG + "text")]
    assert any(t.startswith("grad so far") for t in texts)


@needs("matplotlib", "PIL")
def test_animated_gif_has_a_frame_per_step(tmp_path):
    from PIL import Image

    tape, y, x, b = seed()
    r = tape.replay(y, [x, b])
    path = r.animate(tmp_path / "walk.gif")
    with Image.open(path) as im:
        assert im.n_frames == len(r) + 1
    assert r.draw(2).render(tmp_path / "step2.png").read_bytes()[:4] == b"\x89PNG"


def test_every_differentiable_primitive_has_a_rule_text():
    for name, prim in REGISTRY.items():
        if prim.differentiable:
            for k in range(3):
                text = formula(name, k, 3)
                assert text and isinstance(text, str)
    assert formula("no_such_op", 0, 1) == "vjp of no_such_op for input a"
