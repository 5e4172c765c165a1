"""tape.explain names every cause of a None gradient; tape.graph draws the recorded computation."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg


def _only(explanation):
    (reason,) = explanation.reasons
    return reason


def test_connected_gradient_has_value_and_path():
    x, b = tg.Variable(20.0), tg.Variable(10.0)
    with tg.GradientTape() as tape:
        y = x ** 2 + b ** 2
    e = tape.explain(y, [x, b])
    assert e.causes == ["connected", "connected"]
    assert e[0].gradient.numpy() == 40.0 and e[1].gradient.numpy() == 20.0
    assert "x: 40 (float32): the target depends on x through pow -> add" in str(e)
    assert tape.gradient(y, x).numpy() == 40.0  # explain did not use the tape up


def test_never_watched_constant():
    x = tg.constant(3.0)
    with tg.GradientTape() as tape:
        y = x * x
    r = _only(tape.explain(y, x))
    assert r.cause == "not_watched" and r.gradient is None
    assert "never watched" in r.message and "tape.watch(x)" in r.message and "tg.Variable" in r.message


def test_integer_dtype():
    x = tg.Variable(3)
    with tg.GradientTape() as tape:
        y = x * x
    r = _only(tape.explain(y, x))
    assert r.cause == "integer_dtype" and "int32" in r.message and "tg.Variable(3.0)" in r.message


def test_computed_before_the_tape_started():
    x = tg.Variable(3.0)
    y = x * x
    with tg.GradientTape() as tape:
        z = y + 1.0
    r = _only(tape.explain(z, x))
    assert r.cause == "outside_tape" and "before the tape started" in r.message


def test_computed_after_the_tape_stopped():
    x = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = x * x
    z = y + 1.0
    r = _only(tape.explain(z, x))
    assert r.cause == "outside_tape" and "after it stopped" in r.message


def test_left_the_tape_through_numpy():
    x = tg.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape() as tape:
        y = tg.reduce_mean(np.asarray(x ** 2).mean(axis=0))
    r = _only(tape.explain(y, x))
    assert r.cause == "outside_tape" and "np.asarray" in r.message


def test_cut_by_stop_gradient():
    x = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = tg.stop_gradient(x * x) + 1.0
        z = tg.stop_gradient(x) * tg.constant(2.0)
    assert _only(tape.explain(y, x)).cause == "stop_gradient"
    r = _only(tape.explain(z, x))
    assert r.cause == "stop_gradient" and "tg.stop_gradient" in r.message


def test_cut_by_stop_gradient_while_another_path_is_recorded():
    x, w = tg.Variable(3.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = tg.stop_gradient(x) * w
    assert tape.explain(y, [x, w]).causes == ["stop_gradient", "connected"]


def test_cut_by_other_non_differentiable_ops():
    x = tg.Variable([1.4, -2.6])
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_sum(tg.round(x) * 2.0)
        k = tg.argmax(x)
        z = tg.cast(tg.cast(x, tg.int32), tg.float32)
    r = _only(tape.explain(y, x))
    assert r.cause == "not_differentiable" and "round" in r.message
    r = _only(tape.explain(k, x))
    assert r.cause == "integer_target" and "argmax" in r.message
    assert _only(tape.explain(z, x)).cause == "not_differentiable"


def test_cut_by_stop_recording():
    x = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        with tape.stop_recording():
            y = x * x
    r = _only(tape.explain(y, x))
    assert r.cause == "stop_recording" and "stop_recording()" in r.message

    w = tg.constant(2.0)
    with tg.GradientTape() as tape:
        tape.watch(w)
        a = w * 3.0
        with tape.stop_recording():
            b = a * a
    assert _only(tape.explain(b, w)).cause == "stop_recording"


def test_trainable_false_variable():
    w = tg.Variable(3.0, trainable=False)
    with tg.GradientTape() as tape:
        y = w * w
    r = _only(tape.explain(y, w))
    assert r.cause == "not_trainable" and "trainable=False" in r.message and "tape.watch(w)" in r.message


def test_watch_accessed_variables_false():
    w = tg.Variable(3.0)
    with tg.GradientTape(watch_accessed_variables=False) as tape:
        y = w * w
    assert _only(tape.explain(y, w)).cause == "not_watched_accessed"


def test_variable_replaced_by_a_tensor():
    x = tg.Variable(3.0)
    x = x + 1
    with tg.GradientTape() as tape:
        y = x * x
    r = _only(tape.explain(y, x))
    assert r.cause == "variable_replaced"
    assert "`x = x + 1`" in r.message and "assign_sub" in r.message


def test_variable_replaced_in_a_descent_loop():
    w = tg.Variable(1.0)
    causes = []
    for _ in range(2):
        with tg.GradientTape() as tape:
            y = w * w
        causes.append(_only(tape.explain(y, w)).cause)
        if causes[-1] != "connected":
            break
        w = w - 0.1 * tape.gradient(y, w)
    assert causes == ["connected", "variable_replaced"]


def test_gradient_taken_outside_the_outer_tape_the_seeds_wrong_indentation():
    x = tg.Variable(20.0)
    b = tg.Variable(10.0)
    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = x ** 2 + b ** 2
    dy_dx = tape1.gradient(y, x)
    assert tape2.gradient(dy_dx, x) is None
    r = _only(tape2.explain(dy_dx, x))
    assert r.cause == "gradient_outside_tape" and "another tape's gradient()" in r.message
    assert "indent" in r.message

    # the right indentation: connected, with the second derivative
    with tg.GradientTape(persistent=True) as tape2:
        with tg.GradientTape(persistent=True) as tape1:
            y = x ** 2 + b ** 2
        dy_dx = tape1.gradient(y, x)
    r = _only(tape2.explain(dy_dx, x))
    assert r.cause == "connected" and r.gradient.numpy() == 2.0


def test_unused_source():
    x, a = tg.Variable(1.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        tape.watch(a)
        y = x * 2.0
    assert tape.explain(y, [x, a]).causes == ["connected", "unused"]


def test_custom_gradient_returning_none():
    @tg.custom_gradient
    def f(a, b):
        return a * b, lambda g: (g * b, None)

    x, w = tg.Variable(2.0), tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = f(x, w)
    e = tape.explain(y, [x, w])
    assert e.causes == ["connected", "no_gradient"] and "grad_fn" in e[1].message


def test_used_up_tape():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x)
    assert _only(tape.explain(y, x)).cause == "tape_used"


def test_explain_works_inside_the_tape_and_records_nothing():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = x ** 3
        n = len(tape._state.entries)
        assert _only(tape.explain(y, x)).gradient.numpy() == 12.0
        assert len(tape._state.entries) == n


def test_explain_rejects_non_tensor_sources():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * 2.0
    with pytest.raises(TypeError, match="Tensors or Variables"):
        tape.explain(y, 1.0)


# ---- graph ----------------------------------------------------------------------------------------
def _seed_graph():
    x = tg.Variable(20.0)
    b = tg.Variable(10.0)
    with tg.GradientTape() as tape:
        y = x ** 2 + b ** 2
    return tape.graph(y), tape, y, x


def test_graph_of_the_seed_shows_ops_values_and_gradients():
    g, tape, y, x = _seed_graph()
    dot = g.source
    assert dot.startswith("digraph tape {") and dot.rstrip().endswith("}")
    for label in ("{x|value 20|grad 40}", "{b|value 10|grad 20}", "{y|value 500|grad 1}",
                  "{value 400|grad 1}", "{value 100|grad 1}", "{const|value 2}"):
        assert label in dot
    assert dot.count("shape=ellipse") == 3 and '"3: add"' in dot
    assert dot.count(" -> ") == 9  # two inputs and one output per op
    assert str(g) == g.text()  # print(g): the text tree; DOT is g.source
    assert tape.gradient(y, x).numpy() == 40.0  # drawing did not use the tape up


def test_graph_of_arrays_and_unrecorded_targets():
    x = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_sum(x * x)
    dot = tape.graph(y).source
    assert "{x|value [1., 2., 3.]|grad [2., 4., 6.]}" in dot
    with pytest.raises(ValueError, match="explain"):
        tape.graph(tg.constant(1.0))
    tape.gradient(y, x)
    with tg.GradientTape() as t2:
        z = x * 2.0
    t2.gradient(z, x)
    with pytest.raises(RuntimeError, match="persistent"):
        t2.graph(z)


def test_graph_escapes_dot_specials():
    x = tg.Variable(np.arange(8.0).reshape(2, 4))
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(x)
    dot = tape.graph(y).source
    assert "shape (2, 4), mean 3.5" in dot


def test_graph_renders_with_graphviz(tmp_path):
    import shutil

    g = _seed_graph()[0]
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="apt-get install graphviz"):
            g.pipe("svg", engine="dot")
        return
    svg = g.render(tmp_path / "seed.svg", engine="dot")
    assert svg.read_bytes().startswith(b"<svg") and b"grad 40" in svg.read_bytes()
    assert g.render(tmp_path / "seed.png", engine="dot").read_bytes()[:4] == b"\x89PNG"


def test_graph_to_graphviz_object():
    graphviz = pytest.importorskip("graphviz")
    g = _seed_graph()[0]
    assert isinstance(g.to_graphviz(), graphviz.Source)


# ---- a target that never touched the cut, and explain after gradient() --------------------------------
def test_a_target_that_left_the_tape_is_not_blamed_on_an_unrelated_cut():
    import math

    x = tg.Variable(0.5)
    with tg.GradientTape() as tape:
        r = tg.round(x)  # cuts another path; the target never touches it
        y = tg.math.sin(float(x))
    reason = _only(tape.explain(y, x))
    assert reason.cause == "outside_tape"
    assert "round" not in reason.message and "float(t)" in reason.message
    with tg.GradientTape() as tape:
        r = tg.round(x)
        y = tg.constant(math.sin(x.numpy()))
    reason = _only(tape.explain(y, x))
    assert reason.cause == "outside_tape" and "round" not in reason.message
    del r


def test_a_target_computed_from_a_cut_names_it_through_unrecorded_ops():
    x = tg.Variable([1.4, -2.6])
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_sum(tg.exp(tg.round(x) * 2.0))  # mul, exp, sum: never recorded, all after round
        other = tg.floor(x)
        z = tg.reduce_sum(x * 3.0) + tg.reduce_sum(other)  # recorded through x; floor's branch is cut
    assert "round" in _only(tape.explain(y, x)).message
    assert tape.explain(z, x).causes == ["connected"]


def test_explain_after_gradient_returned_none_on_a_non_persistent_tape():
    x, w = tg.Variable(3.0), tg.Variable(2.0)
    c = tg.constant(1.0)
    with tg.GradientTape() as tape:
        y = tg.stop_gradient(x) * w + c * 2.0
    grads = tape.gradient(y, [x, w, c])
    assert grads[0] is None and grads[2] is None and grads[1] is not None
    e = tape.explain(y, [x, w, c])
    assert e.causes == ["stop_gradient", "connected", "not_watched"]
    assert e[1].gradient.numpy() == 3.0


def test_explain_after_gradient_names_the_cause_for_each_none():
    x = tg.Variable([1.4, -2.6])
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(tg.round(x) * 2.0)
    assert tape.gradient(y, x) is None
    r = _only(tape.explain(y, x))
    assert r.cause == "not_differentiable" and "round" in r.message

    a, b = tg.Variable(1.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = tg.round(a) * b  # b is connected, a only through round: the walk reaches y through b
    assert tape.gradient(y, [a, b])[0] is None
    assert tape.explain(y, [a, b]).causes == ["not_differentiable", "connected"]

    with tg.GradientTape() as tape:
        y = b * 2.0
    assert tape.gradient(y, [a, b])[0] is None
    assert tape.explain(y, [a, b]).causes == ["unused", "connected"]

    with tg.GradientTape() as tape:
        y = tg.math.sin(float(a))
    assert tape.gradient(y, a) is None
    assert _only(tape.explain(y, a)).cause == "outside_tape"


def test_explain_after_gradient_a_rule_that_returned_none():
    @tg.custom_gradient
    def f(u):
        return u * 2.0, lambda g: None

    x, w = tg.Variable(2.0), tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = f(x * 1.5) + w
    assert tape.gradient(y, [x, w])[0] is None
    assert tape.explain(y, [x, w]).causes == ["no_gradient", "connected"]


def test_the_record_kept_for_explain_holds_no_values():
    import gc
    import weakref

    x = tg.Variable(np.ones(1000))
    with tg.GradientTape() as tape:
        big = tg.exp(x)
        y = tg.reduce_sum(tg.round(big))
    ref = weakref.ref(big)
    del big
    assert tape.gradient(y, x) is None
    gc.collect()
    assert ref() is None  # the spent tape keeps ids and op names only
    assert _only(tape.explain(y, x)).cause == "not_differentiable"


def test_explain_after_a_connected_gradient_on_a_spent_tape():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x)
    assert _only(tape.explain(y, x)).cause == "tape_used"  # nothing was kept: the gradient was not None
