"""cond, while_loop, map_fn, vectorized_map, scan, foldl, foldr: TensorFlow's eager semantics, differentiable."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_grads

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


# ---- cond --------------------------------------------------------------------------------------------
def test_cond_runs_only_the_branch_taken():
    ran = []
    x = tg.constant(2.0)
    out = tg.cond(x > 1.0, lambda: ran.append("t") or x * 2.0, lambda: ran.append("f") or x * 3.0)
    assert float(out) == 4.0 and ran == ["t"]
    assert float(tg.cond(False, lambda: x, lambda: x * 3.0)) == 6.0
    # Structures come back as the branch returned them (TF 2 keeps one-item lists).
    assert isinstance(tg.cond(True, lambda: [x], lambda: [x]), list)
    assert tg.cond(tg.constant(0), lambda: 1, lambda: None) is None


def test_cond_refuses_what_tensorflow_refuses():
    with pytest.raises(TypeError, match="'true_fn' argument required"):
        tg.cond(True, None, lambda: 1)
    with pytest.raises(TypeError, match="'false_fn' must be callable"):
        tg.cond(True, lambda: 1, 3)
    with pytest.raises(ValueError, match="scalar boolean.*shape \\(2,\\)"):
        tg.cond(tg.constant([True, False]), lambda: 1, lambda: 2)


def test_gradients_flow_through_the_branch_taken():
    check_grads(lambda v: tg.cond(v[0] > 0.0, lambda: tg.sin(v) * v[1], lambda: v * 3.0),
                (np.array([0.5, -1.2]),), per_element=True)
    check_grads(lambda v: tg.cond(v[0] > 0.0, lambda: tg.sin(v) * v[1], lambda: v ** 3),
                (np.array([-0.5, 1.2]),), per_element=True)


# ---- while_loop --------------------------------------------------------------------------------------
def test_while_loop_returns_the_structure_of_loop_vars_as_tensors():
    i, s = tg.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s * 2.0), (0, 1.0))
    assert (int(i), float(s)) == (10, 1024.0) and i.dtype == tg.int32 and s.dtype == tg.float32
    out = tg.while_loop(lambda i, s: i < 10, lambda i, s: [i + 1, s * 2.0], [0, 1.0], maximum_iterations=3)
    assert isinstance(out, list) and [float(t) for t in out] == [3.0, 8.0]
    out = tg.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, (t[0] + 1.0, t[1])), (tg.constant(0), (1.0, 2)))
    assert float(out[1][0]) == 4.0 and out[1][1].dtype == tg.int32
    # The loop never runs: loop_vars come back as tensors.
    (zero,) = tg.while_loop(lambda i: i < 3, lambda i: (i + 1,), [0], maximum_iterations=-1)
    assert int(zero) == 0 and isinstance(zero, tg.Tensor)
    # shape_invariants and the other graph-mode options are accepted and change nothing.
    (grown,) = tg.while_loop(lambda s: tg.shape(s)[0] < 4, lambda s: (tg.concat([s, s], 0),), [tg.ones((1,))],
                             shape_invariants=[tg.TensorShape([None])], parallel_iterations=1, back_prop=False)
    assert grown.shape == (4,)


def test_while_loop_calls_cond_before_checking_the_count_like_tensorflow():
    calls = []

    def cond(i):
        calls.append(i)
        return True
    tg.while_loop(cond, lambda i: (i + 1,), [0], maximum_iterations=2)
    assert calls == [0, 1, 2]


def test_while_loop_refuses_what_tensorflow_refuses():
    with pytest.raises(ValueError, match="'loop_vars' must be provided"):
        tg.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="list or tuple.*`lambda i: \\(i \\+ 1,\\)`"):
        tg.while_loop(lambda i: i < 3, lambda i: i + 1, [tg.constant(0)])
    with pytest.raises(ValueError, match="same nested structure"):
        tg.while_loop(lambda i: i < 3, lambda i: (i + 1, 2), (0,))
    with pytest.raises(ValueError, match="must be a scalar"):
        tg.while_loop(lambda i: i < 3, lambda i: (i + 1,), [0], maximum_iterations=[1, 2])
    with pytest.raises(TypeError, match="'body' must be callable"):
        tg.while_loop(lambda i: i < 3, None, [0])
    with pytest.raises(TypeError, match="loop_vars must be a list or tuple"):
        tg.while_loop(lambda i: i < 3, lambda i: (i + 1,), 0)


def test_gradients_flow_through_every_iteration():
    # s -> s * v three times: s = v**3 elementwise.
    check_grads(lambda v: tg.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * v), (0, tg.ones_like(v)))[1],
                (np.array([0.7, -1.3, 2.0]),), per_element=True)
    # A data-dependent number of iterations: differentiable piecewise, like TF's eager loop.
    check_grads(lambda v: tg.while_loop(lambda s: tg.reduce_sum(s) < 50.0, lambda s: (s * v,), [v])[0],
                (np.array([1.5, 2.5]),), per_element=True)
    v = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape() as tape:
        (out,) = tg.while_loop(lambda s: tg.reduce_sum(s) < 100.0, lambda s: (s * v,), [v])
    # sum(v**4) = 98 < 100 <= sum(v**5): out = v**5, d/dv = 5 v**4 (TensorFlow gives the same).
    np.testing.assert_allclose(tape.gradient(out, v).numpy(), [5.0, 80.0, 405.0], rtol=1e-6)


# ---- map_fn and vectorized_map ----------------------------------------------------------------------
def test_map_fn_applies_fn_along_the_first_dimension():
    x = tg.constant(X, tg.float32)
    np.testing.assert_array_equal(tg.map_fn(lambda r: r * 2.0, x).numpy(), (X * 2).astype(np.float32))
    s = tg.map_fn(lambda r: tg.reduce_sum(r), x)
    assert s.shape == (3,) and s.dtype == tg.float32
    ints = tg.map_fn(lambda r: tg.cast(tg.reduce_sum(r), tg.int32), x, fn_output_signature=tg.int32)
    assert ints.numpy().tolist() == [3, 7, 11]
    assert tg.map_fn(lambda r: tg.cast(r[0], tg.int32), x, dtype=tg.int32).dtype == tg.int32
    rows, sums = tg.map_fn(lambda r: (r, tg.reduce_sum(r)), x, fn_output_signature=(tg.float32, tg.float32))
    assert rows.shape == (3, 2) and sums.shape == (3,)
    prod = tg.map_fn(lambda t: t[0] * t[1], (x, x), fn_output_signature=tg.float32)
    np.testing.assert_allclose(prod.numpy(), X * X)
    assert tg.map_fn(lambda t: t["a"] + 1.0, {"a": x}, fn_output_signature=tg.float32).shape == (3, 2)
    assert tg.map_fn(lambda t: 2, x, fn_output_signature=tg.int32).numpy().tolist() == [2, 2, 2]
    spec = tg.TensorSpec((2,), tg.float32)
    assert tg.map_fn(lambda t: t * 2.0, x, fn_output_signature=spec).shape == (3, 2)
    mixed = tg.map_fn(lambda t: (t[0] * 2.0, t[1]), (x, tg.constant([1, 2, 3])))
    assert mixed[1].numpy().tolist() == [1, 2, 3]
    empty = tg.map_fn(lambda t: t * 2.0, tg.zeros((0, 3)))
    assert empty.shape == (0,) and empty.dtype == tg.float32


def test_map_fn_refuses_what_tensorflow_refuses():
    x = tg.constant(X, tg.float32)
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tg.map_fn(lambda t: t, tg.constant(3.0))
    with pytest.raises(ValueError, match="dimensions 3 and 2 are not compatible"):
        tg.map_fn(lambda t: t, (x, tg.ones((2,))))
    with pytest.raises(ValueError, match="incompatible shape"):
        tg.map_fn(lambda t: t[: int(t[0])], x)
    with pytest.raises(ValueError, match="incompatible shape for value \\(\\(2,\\)\\), expected \\(\\(3,\\)\\)"):
        tg.map_fn(lambda t: t, x, fn_output_signature=tg.TensorSpec((3,), tg.float32))
    with pytest.raises(tg.InvalidArgumentError, match="fn_output_signature"):
        tg.map_fn(lambda t: t, x, fn_output_signature=tg.float64)
    with pytest.raises(tg.InvalidArgumentError, match="int32"):
        tg.map_fn(lambda r: tg.cast(tg.reduce_sum(r), tg.int32), x)
    with pytest.raises(ValueError, match="structure"):
        tg.map_fn(lambda r: (r, tg.reduce_sum(r)), x)


def test_vectorized_map_matches_map_fn_and_takes_fns_output_structure():
    x = tg.constant(X, tg.float32)
    f = lambda r: tg.exp(r) * tg.reduce_sum(r)  # noqa: E731
    np.testing.assert_array_equal(tg.vectorized_map(f, x).numpy(), tg.map_fn(f, x).numpy())
    assert tg.vectorized_map(lambda r: 3.0, x).numpy().tolist() == [3.0, 3.0, 3.0]
    out = tg.vectorized_map(lambda r: {"s": tg.reduce_sum(r), "m": (r * r, 1)}, x)
    assert out["s"].shape == (3,) and out["m"][0].shape == (3, 2) and out["m"][1].dtype == tg.int32


def test_map_fn_and_vectorized_map_are_differentiable():
    check_grads(lambda x: tg.map_fn(lambda r: tg.sin(r) * tg.reduce_sum(r * r), x), (X,), per_element=True)
    check_grads(lambda x, w: tg.vectorized_map(lambda r: tg.tensordot(r, w, 1), x), (X, np.array([0.3, -0.7])),
                per_element=True)


# ---- scan, foldl, foldr ------------------------------------------------------------------------------
def test_scan_stacks_every_accumulator():
    v = tg.constant([1.0, 2.0, 3.0])
    assert tg.scan(lambda a, x: a + x, v).numpy().tolist() == [1.0, 3.0, 6.0]
    assert tg.scan(lambda a, x: a + x, v, initializer=10.0).numpy().tolist() == [11.0, 13.0, 16.0]
    assert tg.scan(lambda a, x: a + x, v, reverse=True).numpy().tolist() == [6.0, 5.0, 3.0]
    s, p = tg.scan(lambda a, x: (a[0] + x, a[1] * x), v, initializer=(0.0, 1.0))
    assert s.numpy().tolist() == [1.0, 3.0, 6.0] and p.numpy().tolist() == [1.0, 2.0, 6.0]
    dots = tg.scan(lambda a, x: a + x[0] * x[1], (v, v), initializer=0.0)
    assert dots.numpy().tolist() == [1.0, 5.0, 14.0]
    assert tg.scan(lambda a, x: a + x, tg.zeros((0, 2)), initializer=tg.ones(2)).shape == (0, 2)
    rows = tg.scan(lambda a, x: a * x, tg.constant(X, tg.float32), reverse=True, initializer=tg.ones(2))
    np.testing.assert_allclose(rows.numpy(), np.cumprod(X[::-1], axis=0)[::-1])


def test_folds_return_the_last_accumulator():
    v = tg.constant([1.0, 2.0, 3.0])
    assert float(tg.foldl(lambda a, x: a + x, v)) == 6.0
    assert float(tg.foldl(lambda a, x: a - x, v, initializer=10.0)) == 4.0
    assert float(tg.foldr(lambda a, x: a - x, v, initializer=10.0)) == 4.0
    assert float(tg.foldr(lambda a, x: a - x, v)) == 0.0  # 3 - 2 - 1
    assert float(tg.foldl(lambda a, x: a - x, tg.zeros((0,)), initializer=2.0)) == 2.0
    a, n = tg.foldl(lambda a, x: (a[0] - x, a[1]), tg.constant([1.0, 2.0]), initializer=(2.0, 1))
    assert float(a) == -1.0 and n.dtype == tg.int32
    np.testing.assert_allclose(tg.foldr(lambda a, x: a * 2.0 - x, tg.constant(X)).numpy(), X[2] * 4 - X[1] * 2 - X[0])


def test_folds_of_nothing_need_an_initializer():
    for fold in (tg.foldl, tg.foldr, tg.scan):
        with pytest.raises(tg.InvalidArgumentError, match="initializer"):
            fold(lambda a, x: a + x, tg.zeros((0,)))
    with pytest.raises(ValueError, match="structure"):
        tg.foldl(lambda a, x: (a, a), tg.constant([1.0, 2.0]))


def test_scan_and_folds_are_differentiable():
    v = np.array([0.5, -1.5, 2.0, 0.8])
    check_grads(lambda v: tg.scan(lambda a, x: a * x + tg.sin(a), v), (v,), per_element=True)
    check_grads(lambda v: tg.foldl(lambda a, x: a * x + 1.0, v, initializer=v[0] * 0.0 + 0.3), (v,), per_element=True)
    check_grads(lambda v: tg.foldr(lambda a, x: tg.tanh(a) * x, v), (v,), per_element=True)


# ---- under tg.function -------------------------------------------------------------------------------
def test_control_flow_in_tg_function_gives_eager_answers():
    @tg.function
    def f(x):
        y = tg.cond(tg.reduce_sum(x) > 0.0, lambda: x * 2.0, lambda: -x)
        _, z = tg.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * x), (0, y))
        return tg.scan(lambda a, r: a + r, z)

    for data in ([1.0, 2.0], [-3.0, 1.0], [0.5, 0.25]):
        x = tg.constant(data)
        eager = f.python_function(x).numpy()
        np.testing.assert_array_equal(f(x).numpy(), eager)
        np.testing.assert_array_equal(f(x).numpy(), eager)
    # A loop counted in Python numbers needs no tensor values: it compiles.
    g = tg.function(lambda x: tg.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x), (0, x))[1])
    np.testing.assert_allclose(g(tg.constant([2.0])).numpy(), [16.0])
    assert g.get_concrete_function(tg.constant([2.0])).compiled
