"""NumPy functions on tensors, from one table: recorded inside a tape with NumPy's values and the tapegrad op's
gradient, plain NumPy outside, and a warning that names the function when NumPy has no tapegrad counterpart.

Each row: the NumPy function (the key in ``FUNCTIONS``), the shapes of its float64 inputs, how it is called
(``call(f, *xs)`` with f the NumPy function), and the same computation written with tapegrad ops.
"""
from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import numpy_dispatch
from tapegrad.ops.numpy_functions import FUNCTIONS
from tapegrad.testing import check_grads


class Row(NamedTuple):
    func: Any
    shapes: tuple
    call: Any
    tapegrad: Any
    differentiable: bool = True


_MASK = np.array([[True, False, True, False], [False, True, True, False], [True, True, False, False]])
_IDX = np.array([2, 0, 2])
_SQ = ((3, 3),)


def _near_eye(x: Any) -> Any:
    return x * 0.2 + np.eye(x.shape[-1])


def _spd(x: Any) -> Any:
    c = _near_eye(x)
    return c @ np.transpose(c)  # symmetric positive definite, with distinct eigenvalues for these inputs


def _diag(x: Any, offset: int = 0) -> Any:
    n = min(x.shape[0], x.shape[1] - offset)
    return tg.stack([x[i, i + offset] for i in range(n)])


ROWS = [
    Row(np.sum, ((3, 4),), lambda f, x: f(x), lambda x: tg.reduce_sum(x)),
    Row(np.sum, ((3, 4),), lambda f, x: f(x, axis=1, keepdims=True), lambda x: tg.reduce_sum(x, 1, True)),
    Row(np.prod, ((3, 4),), lambda f, x: f(x, axis=(0, 1)), lambda x: tg.reduce_prod(x)),
    Row(np.mean, ((3, 4),), lambda f, x: f(x, 0), lambda x: tg.reduce_mean(x, 0)),
    Row(np.max, ((3, 4),), lambda f, x: f(x, axis=-1), lambda x: tg.reduce_max(x, -1)),
    Row(np.amax, ((3, 4),), lambda f, x: f(x), lambda x: tg.reduce_max(x)),
    Row(np.min, ((3, 4),), lambda f, x: f(x, 0, keepdims=True), lambda x: tg.reduce_min(x, 0, True)),
    Row(np.amin, ((3, 4),), lambda f, x: f(x), lambda x: tg.reduce_min(x)),
    Row(np.all, ((3, 4),), lambda f, x: f(x > 0, axis=1), lambda x: tg.reduce_all(x > 0, 1), False),
    Row(np.any, ((3, 4),), lambda f, x: f(x > 1), lambda x: tg.reduce_any(x > 1), False),
    Row(np.argmax, ((3, 4),), lambda f, x: f(x), lambda x: tg.argmax(tg.reshape(x, -1)), False),
    Row(np.argmin, ((3, 4),), lambda f, x: f(x, axis=1, keepdims=True), lambda x: tg.argmin(x, 1)[:, None], False),
    Row(np.cumsum, ((3, 4),), lambda f, x: f(x, axis=1), lambda x: tg.cumsum(x, 1)),
    Row(np.cumsum, ((3, 4),), lambda f, x: f(x), lambda x: tg.cumsum(tg.reshape(x, -1))),
    Row(np.cumprod, ((3, 4),), lambda f, x: f(x, 0), lambda x: tg.math.cumprod(x, 0)),
    Row(np.var, ((3, 4),), lambda f, x: f(x, axis=0, ddof=1),
        lambda x: tg.reduce_sum(tg.square(x - tg.reduce_mean(x, 0)), 0) / 2.0),
    Row(np.std, ((3, 4),), lambda f, x: f(x), lambda x: tg.sqrt(tg.reduce_mean(tg.square(x - tg.reduce_mean(x))))),
    Row(np.dot, ((3, 4), (4, 2)), lambda f, a, b: f(a, b), lambda a, b: tg.matmul(a, b)),
    Row(np.dot, ((4,), (4,)), lambda f, a, b: f(a, b), lambda a, b: tg.tensordot(a, b, 1)),
    Row(np.dot, ((2, 3, 4), (5, 4, 2)), lambda f, a, b: f(a, b), lambda a, b: tg.tensordot(a, b, [[2], [1]])),
    Row(np.dot, ((3,), ()), lambda f, a, b: f(a, b), lambda a, b: a * b),
    Row(np.inner, ((3, 4), (2, 4)), lambda f, a, b: f(a, b), lambda a, b: tg.matmul(a, tg.transpose(b))),
    Row(np.vdot, ((3, 4), (3, 4)), lambda f, a, b: f(a, b), lambda a, b: tg.reduce_sum(a * b)),
    Row(np.outer, ((3,), (4,)), lambda f, a, b: f(a, b), lambda a, b: a[:, None] * b[None, :]),
    Row(np.tensordot, ((3, 4), (3, 4)), lambda f, a, b: f(a, b), lambda a, b: tg.tensordot(a, b, 2)),
    Row(np.tensordot, ((2, 3, 4), (4, 3)), lambda f, a, b: f(a, b, axes=([1, 2], [1, 0])),
        lambda a, b: tg.tensordot(a, b, [[1, 2], [1, 0]])),
    Row(np.linalg.norm, ((3, 4),), lambda f, x: f(x), lambda x: tg.norm(x)),
    Row(np.linalg.norm, ((3, 4),), lambda f, x: f(x, axis=1), lambda x: tg.norm(x, axis=1)),
    Row(np.linalg.norm, ((3, 4),), lambda f, x: f(x, ord=1, axis=0), lambda x: tg.norm(x, 1, axis=0)),
    Row(np.linalg.norm, ((4,),), lambda f, x: f(x, np.inf), lambda x: tg.norm(x, np.inf)),
    Row(np.linalg.norm, ((2, 3, 4),), lambda f, x: f(x, "fro", axis=(1, 2), keepdims=True),
        lambda x: tg.norm(x, axis=(1, 2), keepdims=True)),
    Row(np.diagonal, ((3, 4),), lambda f, x: f(x, 1), lambda x: _diag(x, 1)),
    Row(np.trace, _SQ, lambda f, x: f(x), lambda x: tg.reduce_sum(_diag(x))),
    Row(np.reshape, ((3, 4),), lambda f, x: f(x, (2, 6)), lambda x: tg.reshape(x, (2, 6))),
    Row(np.reshape, ((3, 4),), lambda f, x: f(x, shape=-1), lambda x: tg.reshape(x, -1)),
    Row(np.ravel, ((3, 4),), lambda f, x: f(x), lambda x: tg.reshape(x, -1)),
    Row(np.transpose, ((2, 3, 4),), lambda f, x: f(x, (1, 2, 0)), lambda x: tg.transpose(x, (1, 2, 0))),
    Row(np.moveaxis, ((2, 3, 4),), lambda f, x: f(x, 0, -1), lambda x: tg.transpose(x, (1, 2, 0))),
    Row(np.swapaxes, ((2, 3, 4),), lambda f, x: f(x, 0, 2), lambda x: tg.transpose(x, (2, 1, 0))),
    Row(np.squeeze, ((3, 1, 4),), lambda f, x: f(x, 1), lambda x: tg.squeeze(x, 1)),
    Row(np.expand_dims, ((3, 4),), lambda f, x: f(x, (0, 2)), lambda x: tg.reshape(x, (1, 3, 1, 4))),
    Row(np.concatenate, ((3, 4), (2, 4)), lambda f, a, b: f([a, b]), lambda a, b: tg.concat([a, b], 0)),
    Row(np.concatenate, ((3, 4), (2,)), lambda f, a, b: f((a, b), axis=None),
        lambda a, b: tg.concat([tg.reshape(a, -1), b], 0)),
    Row(np.stack, ((3, 4), (3, 4)), lambda f, a, b: f([a, b], axis=1), lambda a, b: tg.stack([a, b], 1)),
    Row(np.vstack, ((4,), (2, 4)), lambda f, a, b: f([a, b]), lambda a, b: tg.concat([a[None], b], 0)),
    Row(np.hstack, ((3, 4), (3, 1)), lambda f, a, b: f([a, b]), lambda a, b: tg.concat([a, b], 1)),
    Row(np.broadcast_to, ((4,),), lambda f, x: f(x, (3, 4)), lambda x: tg.broadcast_to(x, (3, 4))),
    Row(np.tile, ((3, 4),), lambda f, x: f(x, 2), lambda x: tg.tile(x, (1, 2))),
    Row(np.take, ((3, 4),), lambda f, x: f(x, _IDX, axis=0), lambda x: tg.gather(x, _IDX)),
    Row(np.take, ((3, 4),), lambda f, x: f(x, _IDX), lambda x: tg.gather(tg.reshape(x, -1), _IDX)),
    Row(np.flip, ((3, 4),), lambda f, x: f(x, 1), lambda x: x[:, ::-1]),
    Row(np.diff, ((3, 4),), lambda f, x: f(x, 2), lambda x: x[:, 2:] - 2.0 * x[:, 1:-1] + x[:, :-2]),
    Row(np.copy, ((3, 4),), lambda f, x: f(x), lambda x: tg.identity(x)),
    Row(np.where, ((3, 4), (3, 4)), lambda f, a, b: f(_MASK, a, b), lambda a, b: tg.where(_MASK, a, b)),
    Row(np.where, ((3, 4),), lambda f, x: f(x > 0, x, 0.0), lambda x: tg.where(x > 0, x, 0.0)),
    Row(np.clip, ((3, 4),), lambda f, x: f(x, -0.5, 0.5), lambda x: tg.clip_by_value(x, -0.5, 0.5)),
    Row(np.clip, ((3, 4),), lambda f, x: f(x, None, 0.5), lambda x: tg.minimum(x, 0.5)),
    Row(np.round, ((3, 4),), lambda f, x: f(x * 10), lambda x: tg.round(x * 10), False),
    Row(np.around, ((3, 4),), lambda f, x: f(x, 2), lambda x: tg.round(x * 100.0) / 100.0, False),
    Row(np.real, ((3, 4),), lambda f, x: f(x), lambda x: tg.math.real(x)),
    Row(np.imag, ((3, 4),), lambda f, x: f(x), lambda x: tg.math.imag(x), False),
    Row(np.angle, ((3, 4),), lambda f, x: f(x, deg=True), lambda x: tg.math.angle(x) * (180 / np.pi), False),
    Row(np.zeros_like, ((3, 4),), lambda f, x: f(x), lambda x: tg.zeros_like(x), False),
    Row(np.ones_like, ((3, 4),), lambda f, x: f(x, dtype=np.float32), lambda x: tg.ones_like(x, tg.float32), False),
    # NumPy 2's array-API spellings
    Row(np.permute_dims, ((2, 3, 4),), lambda f, x: f(x, (2, 0, 1)), lambda x: tg.transpose(x, (2, 0, 1))),
    Row(np.concat, ((3, 4), (3, 2)), lambda f, a, b: f([a, b], axis=-1), lambda a, b: tg.concat([a, b], 1)),
    Row(np.matrix_transpose, ((2, 3, 4),), lambda f, x: f(x), lambda x: tg.linalg.matrix_transpose(x)),
    Row(np.linalg.matrix_transpose, ((3, 4),), lambda f, x: f(x), lambda x: tg.transpose(x)),
    Row(np.astype, ((3, 4),), lambda f, x: f(x, np.float32), lambda x: tg.cast(x, tg.float32), False),
    Row(np.unstack, ((3, 4),), lambda f, x: f(x, axis=1)[2], lambda x: x[:, 2]),
    Row(np.cumulative_sum, ((3, 4),), lambda f, x: f(x, axis=0), lambda x: tg.cumsum(x, 0)),
    Row(np.linalg.matmul, ((2, 3, 4), (4, 2)), lambda f, a, b: f(a, b), lambda a, b: tg.matmul(a, b)),
    Row(np.linalg.tensordot, ((3, 4), (4, 2)), lambda f, a, b: f(a, b, axes=1), lambda a, b: tg.matmul(a, b)),
    Row(np.linalg.outer, ((3,), (2,)), lambda f, a, b: f(a, b), lambda a, b: a[:, None] * b),
    Row(np.linalg.diagonal, ((2, 3, 3),), lambda f, x: f(x, offset=-1),
        lambda x: tg.stack([x[:, 1, 0], x[:, 2, 1]], axis=1)),
    Row(np.linalg.trace, ((2, 3, 3),), lambda f, x: f(x), lambda x: x[:, 0, 0] + x[:, 1, 1] + x[:, 2, 2]),
    Row(np.linalg.vector_norm, ((3, 4),), lambda f, x: f(x, ord=1, keepdims=True),
        lambda x: tg.reshape(tg.reduce_sum(tg.abs(x)), (1, 1))),
    Row(np.linalg.matrix_norm, ((2, 3, 4),), lambda f, x: f(x), lambda x: tg.norm(x, axis=(1, 2))),
    Row(np.full_like, ((3, 4),), lambda f, x: f(x, 2.5), lambda x: tg.fill((3, 4), tg.constant(2.5, tg.float64)),
        False),
    # tf.linalg's solvers and decompositions, and einsum; matrices near the identity are well conditioned
    Row(np.einsum, ((3, 4), (4, 2)), lambda f, a, b: f("ij,jk->ik", a, b), lambda a, b: tg.matmul(a, b)),
    Row(np.einsum, ((3, 3),), lambda f, x: f("ii", x), lambda x: tg.linalg.trace(x)),
    Row(np.linalg.inv, _SQ, lambda f, x: f(_near_eye(x)), lambda x: tg.linalg.inv(_near_eye(x))),
    Row(np.linalg.det, _SQ, lambda f, x: f(_near_eye(x)), lambda x: tg.linalg.det(_near_eye(x))),
    Row(np.linalg.solve, ((3, 3), (3, 2)), lambda f, a, b: f(_near_eye(a), b),
        lambda a, b: tg.linalg.solve(_near_eye(a), b)),
    Row(np.linalg.solve, ((3, 3), (3,)), lambda f, a, b: f(_near_eye(a), b),
        lambda a, b: tg.reshape(tg.linalg.solve(_near_eye(a), tg.reshape(b, (3, 1))), (3,))),
    Row(np.linalg.cholesky, _SQ, lambda f, x: f(_spd(x)), lambda x: tg.linalg.cholesky(_spd(x))),
    Row(np.linalg.eigvalsh, _SQ, lambda f, x: f(_spd(x)), lambda x: tg.linalg.eigvalsh(_spd(x))),
    Row(np.sort, ((3, 4),), lambda f, x: f(x), lambda x: tg.sort(x)),
    Row(np.sort, ((3, 4),), lambda f, x: f(x, axis=0), lambda x: tg.sort(x, axis=0)),
    Row(np.repeat, ((3, 2),), lambda f, x: f(x, 2, axis=0), lambda x: tg.repeat(x, 2, axis=0)),
    Row(np.repeat, ((3, 2),), lambda f, x: f(x, [1, 0, 2], axis=0), lambda x: tg.repeat(x, [1, 0, 2], axis=0)),
    Row(np.split, ((4, 3),), lambda f, x: np.stack(f(x, 2)), lambda x: tg.stack(tg.split(x, 2))),
    Row(np.split, ((5, 2),), lambda f, x: np.concatenate([p[::-1] for p in f(x, [1, 3])], 0),
        lambda x: tg.concat([p[::-1] for p in tg.split(x, [1, 2, 2])], 0)),
    Row(np.pad, ((3, 2),), lambda f, x: f(x, 1), lambda x: tg.pad(x, [[1, 1], [1, 1]])),
    Row(np.pad, ((3, 4),), lambda f, x: f(x, ((1, 2), (2, 1)), mode="reflect"),
        lambda x: tg.pad(x, [[1, 2], [2, 1]], "REFLECT")),
    Row(np.pad, ((3, 4),), lambda f, x: f(x, (1, 2), mode="symmetric"),
        lambda x: tg.pad(x, [[1, 2], [1, 2]], "SYMMETRIC")),
]
IDS = [f"{i}-{r.func.__name__}" for i, r in enumerate(ROWS)]


def _inputs(row: Row, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s) for s in row.shapes]


def test_every_mapped_function_has_a_row():
    missing = {f"{f.__module__}.{f.__name__}" for f in set(FUNCTIONS) - {r.func for r in ROWS}}
    assert not missing, f"NumPy functions mapped in FUNCTIONS with no row in this table: {sorted(missing)}"


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_inside_a_tape_numpy_values_and_the_tapegrad_gradient(row: Row) -> None:
    arrays = _inputs(row)
    want = row.call(row.func, *arrays)  # NumPy's own answer
    xs = [tg.Variable(a) for a in arrays]
    w = tg.constant(np.random.default_rng(1).normal(size=np.shape(want)))
    with tg.GradientTape(persistent=True) as tape:
        got = row.call(row.func, *xs)
        ref = row.tapegrad(*xs)
        if row.differentiable:
            loss_np, loss_tg = tg.reduce_sum(got * w), tg.reduce_sum(ref * w)
    assert isinstance(got, tg.Tensor), f"{row.func.__name__} was not recorded"
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    if not row.differentiable:
        return
    g_np, g_tg = tape.gradient(loss_np, xs), tape.gradient(loss_tg, xs)
    for a, b in zip(g_np, g_tg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row", [r for r in ROWS if r.differentiable], ids=[i for i, r in zip(IDS, ROWS)
                                                                            if r.differentiable])
def test_recorded_numpy_functions_match_finite_differences(row: Row) -> None:
    # The composites (np.var, np.diff, np.trace, ...) have no single op whose spec covers them: check them here.
    check_grads(lambda *xs: row.call(row.func, *xs), _inputs(row, seed=2), order=2, per_element=True)


# Outside a tape NumPy runs its own code, which gives tensors where it indexes its argument (flip) or calls a
# ufunc on it (linalg.matmul), and refuses what is not an ndarray (astype), as before tapegrad recorded NumPy.
_NUMPYS_OWN = {np.flip: tg.Tensor, np.linalg.matmul: tg.Tensor, np.astype: TypeError}


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_outside_a_tape_numpy_returns_what_it_returns_for_arrays(row: Row) -> None:
    arrays = _inputs(row)
    tensors = [tg.constant(a) for a in arrays]
    if _NUMPYS_OWN.get(row.func) is TypeError:
        with pytest.raises(TypeError):
            row.call(row.func, *tensors)
        return
    got = row.call(row.func, *tensors)
    assert isinstance(got, tg.Tensor) == (_NUMPYS_OWN.get(row.func) is tg.Tensor)
    np.testing.assert_array_equal(got, row.call(row.func, *arrays))


# ---- what is not mapped, and what is refused ------------------------------------------------------------
@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numpy_dispatch, "_WARNED", set())  # each function warns once per process


def test_a_function_without_counterpart_warns_once_naming_it(fresh_warnings: None) -> None:
    x = tg.Variable([0.0, 4.0, 8.0], dtype=tg.float64)
    with tg.GradientTape() as tape:
        with pytest.warns(UserWarning, match=r"np\.unwrap has no tapegrad counterpart") as seen:
            y = np.unwrap(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.unwrap(x)  # once is enough
    assert seen[0].filename == __file__  # the user's line, not tapegrad's
    np.testing.assert_array_equal(y, np.unwrap(x.numpy()))
    assert tape.gradient(tg.constant(y), x) is None


def test_the_warning_names_a_tensorflow_counterpart_where_there_is_one(fresh_warnings: None) -> None:
    x = tg.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape(), pytest.warns(UserWarning, match=r"np\.linalg\.eigh .*use tf\.linalg\.eigh instead"):
        np.linalg.eigh(x)


def test_a_unsupported_argument_warns_naming_it_and_numpy_answers(fresh_warnings: None) -> None:
    x = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape(), pytest.warns(UserWarning, match=r"np\.sum with where= .*call np\.sum without where="):
        y = np.sum(x, where=np.array([True, False, True]))
    assert y == 4.0
    with tg.GradientTape(), pytest.warns(UserWarning, match=r"np\.linalg\.norm with ord=3"):
        np.linalg.norm(x, 3)


def test_results_that_carry_no_gradient_do_not_warn(fresh_warnings: None) -> None:
    x = tg.Variable([1.0, 2.0, 3.0])
    with tg.GradientTape(), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(x, [1.0, 2.0, 3.0]) and np.shape(x) == (3,) and np.ndim(x) == 1
        assert np.array_equal(np.nonzero(x > 1.5)[0], [1, 2])
        assert np.isclose(x, 2.0).tolist() == [False, True, False]


def test_out_is_refused_inside_a_tape() -> None:
    x, buf = tg.Variable([1.0, 2.0]), np.zeros((), np.float32)
    with tg.GradientTape():
        with pytest.raises(TypeError, match="out= cannot be used on a tensor inside a GradientTape"):
            np.sum(x, out=buf)
        with pytest.raises(TypeError, match="out="):
            np.add(x, x, out=np.zeros(2, np.float32))
    assert np.sum(x, out=buf) is buf and buf == 3.0  # outside a tape NumPy does as it always did


@pytest.mark.parametrize("call, want", [
    (lambda x: np.add.reduce(x), lambda x: tg.reduce_sum(x, 0)),
    (lambda x: np.add.reduce(x, axis=None, keepdims=True), lambda x: tg.reduce_sum(x, None, True)),
    (lambda x: np.multiply.reduce(x, 1), lambda x: tg.reduce_prod(x, 1)),
    (lambda x: np.maximum.reduce(x, 1), lambda x: tg.reduce_max(x, 1)),
    (lambda x: np.minimum.reduce(x), lambda x: tg.reduce_min(x, 0)),
    (lambda x: np.add.accumulate(x, 1), lambda x: tg.cumsum(x, 1)),
    (lambda x: np.multiply.accumulate(x), lambda x: tg.math.cumprod(x, 0)),
    (lambda x: np.add(x, 1.0, dtype=np.float64), lambda x: tg.cast(x, tg.float64) + 1.0),
])
def test_ufunc_reductions_are_recorded(call: Any, want: Any) -> None:
    a = np.random.default_rng(3).uniform(0.5, 1.5, (3, 4)).astype(np.float32)
    x = tg.Variable(a)
    with tg.GradientTape(persistent=True) as tape:
        got, ref = call(x), want(x)
        losses = tg.reduce_sum(tg.cast(got, tg.float64)), tg.reduce_sum(tg.cast(ref, tg.float64))
    np.testing.assert_allclose(got.numpy(), call(a), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(losses[0], x).numpy(), tape.gradient(losses[1], x).numpy(), rtol=1e-6)
    assert not isinstance(call(tg.constant(a)), tg.Tensor)  # outside a tape: NumPy's plain answer


def test_logical_reductions_and_integer_sums_give_numpys_values_and_dtypes() -> None:
    b, i = np.array([[True, False], [True, True]]), np.array([[1, 2], [3, 4]], np.int32)
    with tg.GradientTape():
        assert np.logical_and.reduce(tg.constant(b)).numpy().tolist() == [True, False]
        assert np.max(tg.constant(b), 1).numpy().tolist() == [True, True]
        for f in (np.sum, np.cumsum, np.mean, np.prod, np.var):
            got = f(tg.constant(i))
            assert got.dtype == tg.as_dtype(f(i).dtype), f.__name__
            np.testing.assert_allclose(got.numpy(), f(i), rtol=1e-12)


def test_forward_mode_and_compiled_functions_record_numpy_calls_too() -> None:
    x = tg.Variable([1.0, 2.0, 3.0], dtype=tg.float64)
    with tg.autodiff.ForwardAccumulator(x, tg.constant([1.0, 0.0, 0.0], tg.float64)) as acc:
        y = np.mean(np.square(x))
    np.testing.assert_allclose(acc.jvp(y).numpy(), 2.0 / 3.0)
    f = tg.function(lambda v: np.sum(np.stack([v, v * v])))
    with tg.GradientTape() as tape:
        z = f(x)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), 1.0 + 2.0 * x.numpy())


def test_another_librarys_array_keeps_its_own_dispatch() -> None:
    class Other:
        def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> str:
            return "Other's answer"

    with tg.GradientTape():
        assert np.concatenate([tg.constant([1.0]), Other()]) == "Other's answer"
    assert np.concatenate([tg.constant([1.0]), Other()]) == "Other's answer"
