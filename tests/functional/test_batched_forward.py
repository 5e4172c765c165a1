"""jacfwd's batched tangents and hessian's routes: every route gives the same numbers.

``jacfwd`` pushes all basis tangents through one forward pass (each op's batched JVP rule, or its
rule once per row); it must agree with one pass per input element and with ``jacrev``, on every op
of the table (inputs from ``tests/ops/specs.py``) and on programs mixing them. ``hessian`` (reverse
over reverse) must agree with forward over reverse, batched and per element, and with finite
differences of the gradient.
"""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._core.record import REGISTRY
from tapegrad.functional import _hessian, _jacfwd
from tapegrad.ops.table._helpers import BATCHED_JVPS

from ..ops.specs import SPECS
from .inputs import spec_inputs

DIFFERENTIABLE = sorted(n for n, p in REGISTRY.items() if p.differentiable)
ROUTES = ("reverse", "forward", "per_element")


def _flat(tree) -> list:
    return [np.asarray(t.numpy() if hasattr(t, "numpy") else t) for t in tg.nest.flatten(tree)]


def _agree(trees: dict, rtol: float, atol: float) -> None:
    names = list(trees)
    ref = _flat(trees[names[0]])
    for name in names[1:]:
        got = _flat(trees[name])
        assert len(got) == len(ref), f"{name}: {len(got)} blocks, {names[0]}: {len(ref)}"
        for a, b in zip(got, ref):
            assert a.shape == b.shape, f"{name}: block shape {a.shape}, {names[0]}: {b.shape}"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{name} vs {names[0]}")


def _jacobians(f, args, argnums, has_aux=False) -> dict:
    return {"jacrev": tg.jacrev(f, argnums, has_aux)(*args),
            "jacfwd": tg.jacfwd(f, argnums, has_aux)(*args),
            "per element": _jacfwd(f, argnums, has_aux, "jacfwd", batched=False)(*args)}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_batched_jacfwd_agrees_on_every_op(name):
    spec = SPECS[name]
    args = spec_inputs(spec, seed=len(name) + 3)
    argnums = tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f")
    if not argnums:
        pytest.skip(f"{name}: no floating-point input")
    consts = [tg.constant(a) for a in args]
    _agree(_jacobians(lambda *xs: spec.call(*xs), consts, argnums), rtol=1e-9, atol=1e-10)


def test_the_common_ops_have_batched_rules():
    # The ops a Rosenbrock, an MLP or a least-squares fit is made of must not fall back to one row at a time.
    for name in ("add", "subtract", "multiply", "divide", "pow", "negative", "identity", "exp", "log", "tanh",
                 "sigmoid", "relu", "matmul", "reduce_sum", "getitem", "scatter_index", "reshape", "transpose",
                 "broadcast_to", "sum_to", "concat", "where", "maximum", "softmax", "log_softmax", "cast"):
        assert REGISTRY[name] in BATCHED_JVPS, name


PROGRAMS = {
    "rosenbrock": (lambda x: tg.reduce_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2), [(6,)]),
    "vector output": (lambda x: tg.concat([tg.sin(x) * x[::-1], tg.reduce_max(x, keepdims=True)], 0), [(4,)]),
    "matmul shapes": (lambda a, b, v: tg.reduce_sum(tg.matmul(a, b) ** 2, 0) + v @ b + tg.linalg.matvec(a, v)
                      + tg.reduce_sum(tg.matmul(tg.stack([a, a * a]), b), (0, 1)), [(3, 2), (2, 3), (2,)]),
    "broadcasting": (lambda a, b: tg.tile(tg.exp(a[:, None] * b), (1, 2, 1)) - tg.broadcast_to(b, (2, 6, 4)),
                     [(3,), (2, 1, 4)]),
    "indexing": (lambda x: tg.transpose(tg.reshape(x, (2, 3))[:, [2, 0, 2]]) * tg.cumsum(x[1:5], 0)[::2],
                 [(6,)]),
    "selection": (lambda x, y: tg.where(x > y, tg.maximum(x, 0.5 * y), tg.nn.softmax(x * y)), [(2, 3), (3,)]),
    "reductions": (lambda x: tg.reduce_prod(x, 1) + tg.math.cumprod(x, 1)[:, -1] + tg.reduce_min(x, axis=1),
                   [(3, 4)]),
    "per-row fallback": (lambda x: tg.linalg.det(tg.reshape(x, (2, 2)) + 3.0 * tg.eye(2, dtype=tg.float64))
                         * tg.math.polygamma(1.0, x + 2.0), [(4,)]),
}


def _program_args(shapes, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [tg.constant(rng.uniform(0.3, 1.2, s).astype(dtype)) for s in shapes]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_batched_jacfwd_agrees_on_programs(name):
    f, shapes = PROGRAMS[name]
    args = _program_args(shapes, seed=len(name))
    _agree(_jacobians(f, args, tuple(range(len(args)))), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_batched_jacfwd_agrees_on_random_programs(seed):
    rng = np.random.default_rng(seed)
    unary = [tg.sin, tg.exp, tg.tanh, tg.sigmoid, lambda v: v * v, lambda v: v[::-1], lambda v: tg.cumsum(v, 0),
             lambda v: tg.reshape(tg.transpose(tg.reshape(v, (2, 3))), (6,)), lambda v: tg.nn.softmax(v),
             lambda v: tg.concat([v[3:], v[:3]], 0)]
    binary = [tg.add, tg.subtract, tg.multiply, lambda a, b: a / (1.5 + b * b), tg.maximum,
              lambda a, b: tg.where(a > b, a, 2.0 * b)]
    steps = [(rng.integers(2), rng.integers(len(unary)), rng.integers(len(binary)), rng.integers(8))
             for _ in range(8)]

    def f(x, y):
        vals = [x, y]
        for kind, u, b, pick in steps:
            a = vals[int(pick) % len(vals)]
            vals.append(unary[u](a) if kind == 0 else binary[b](a, vals[-1]))
        return tg.stack([vals[-1], vals[-2]])

    args = _program_args([(6,), (6,)], seed)
    _agree(_jacobians(f, args, (0, 1)), rtol=1e-9, atol=1e-10)


def test_jacfwd_in_chunks_agrees(monkeypatch):
    from tapegrad import functional
    monkeypatch.setattr(functional, "_TANGENTS_BUDGET", 12)  # 12 // 5 elements: passes of 2 tangents
    f, shapes = PROGRAMS["vector output"]
    a, b = _program_args([(5,), (3,)], seed=1)
    g = lambda x, y: tg.concat([f(x), y * x[0]], 0)  # noqa: E731
    _agree(_jacobians(g, [a, b], (0, 1)), rtol=1e-9, atol=1e-10)


# ---- hessian --------------------------------------------------------------------------------------
def _hessians(f, args, argnums=0, has_aux=False) -> dict:
    return {route: _hessian(f, argnums, has_aux, route)(*args) for route in ROUTES}


def _fd_hessian(f, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of the (reverse-mode) gradient: the Hessian's columns, float64."""
    grad = tg.grad(f)
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        e = e.reshape(x.shape)
        cols.append((grad(x + e).numpy() - grad(x - e).numpy()).reshape(-1) / (2 * eps))
    return np.stack(cols, -1).reshape(x.shape + x.shape)


SCALARS = {
    "rosenbrock": PROGRAMS["rosenbrock"][0],
    "log-sum-exp of a product": lambda x: tg.reduce_logsumexp(x * x[::-1] + tg.sin(x)),
    "matrix quadratic": lambda x: tg.reduce_sum(tg.matmul(tg.reshape(x, (2, 3)), tg.transpose(tg.reshape(x, (2, 3))))
                                                ** 2),
}


@pytest.mark.parametrize("name", sorted(SCALARS))
def test_hessian_routes_agree_with_finite_differences(name):
    f = SCALARS[name]
    x = np.random.default_rng(len(name)).uniform(-1.0, 1.0, 6)
    hs = _hessians(f, [x])
    _agree(hs, rtol=1e-9, atol=1e-9)
    h = hs["reverse"].numpy()
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9)
    fd = _fd_hessian(f, x)
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(fd).max()))


def test_hessian_float32_matches_float64():
    f = SCALARS["rosenbrock"]
    x = np.random.default_rng(3).uniform(-1.0, 1.0, 5)
    h32 = _hessians(f, [x.astype(np.float32)])
    for h in h32.values():
        assert h.dtype == tg.float32
    _agree(h32, rtol=1e-5, atol=1e-4)
    h64 = tg.hessian(f)(x).numpy()
    np.testing.assert_allclose(h32["reverse"].numpy(), h64, rtol=1e-4, atol=1e-3)


def test_hessian_of_a_vector_output_with_several_arguments_and_aux():
    def f(x, y):
        out = tg.stack([tg.reduce_sum(x * x * y[0]), x[0] * tg.reduce_prod(y), tg.reduce_sum(tg.sin(x))])
        return out, {"aux": x[0]}

    x, y = _program_args([(3,), (2,)], seed=9)
    hs = _hessians(f, [x, y], argnums=(0, 1), has_aux=True)
    for h, aux in hs.values():
        assert [[tuple(b.shape) for b in row] for row in h] == [[(3, 3, 3), (3, 3, 2)], [(3, 2, 3), (3, 2, 2)]]
        assert float(aux["aux"]) == float(x[0])
    _agree({k: v[0] for k, v in hs.items()}, rtol=1e-9, atol=1e-10)
    # each output element's Hessian against finite differences of its gradient
    for k in range(3):
        fk = lambda v, k=k: f(v[:3], v[3:])[0][k]  # noqa: E731
        fd = _fd_hessian(fk, np.concatenate([x.numpy(), y.numpy()]))
        h = hs["reverse"][0]
        full = np.block([[h[0][0].numpy()[k], h[0][1].numpy()[k]], [h[1][0].numpy()[k], h[1][1].numpy()[k]]])
        np.testing.assert_allclose(full, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [0, 1])
def test_hessian_of_an_input_with_zero_or_one_element(size):
    f = lambda x, c: tg.reduce_sum(tg.exp(x) * c) + c * c  # noqa: E731
    x = np.full(size, 0.5)
    hs = _hessians(f, [x, np.float64(2.0)], argnums=(0, 1))
    assert [[tuple(b.shape) for b in row] for row in hs["reverse"]] == [[(size, size), (size,)], [(size,), ()]]
    _agree(hs, rtol=1e-9, atol=1e-10)
    h = hs["reverse"]
    np.testing.assert_allclose(h[0][0].numpy(), np.diag(2.0 * np.exp(x)), rtol=1e-6)
    np.testing.assert_allclose(h[1][1].numpy(), 2.0, rtol=1e-6)
    np.testing.assert_allclose(h[0][1].numpy(), np.exp(x), rtol=1e-6)
