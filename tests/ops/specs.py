"""One test spec per primitive in the op table: how to call it and where its inputs live.

``tests/ops/test_gradients.py`` iterates the registry and fails for a primitive with no
spec here, so a new op is tested the moment it exists.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tapegrad as tg


@dataclass(frozen=True)
class Domain:
    """Inputs drawn uniformly from [low, high], with a random sign when ``signed`` (keeps |x| >= low)."""

    low: float = -2.0
    high: float = 2.0
    signed: bool = False

    def sample(self, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        x = rng.uniform(self.low, self.high, size=shape)
        if self.signed:
            x = x * rng.choice([-1.0, 1.0], size=shape)
        return np.asarray(x, dtype=np.float64)


REALS = Domain()
POSITIVE = Domain(0.5, 2.0)
AWAY_FROM_ZERO = Domain(0.3, 2.0, signed=True)
UNIT = Domain(-0.8, 0.8)


@dataclass(frozen=True)
class Spec:
    """``call(*tensors)`` runs the op; ``domains`` give one input each; ``shapes`` how to size them.

    shapes: "unary" (any shape), "broadcast" (mutually broadcastable), or a fixed list of shapes.
    """

    call: Callable[..., Any]
    domains: tuple = (REALS,)
    shapes: Any = "unary"
    differentiable: bool = True
    reference: Callable[..., Any] | None = None  # NumPy forward, checked on the same inputs
    eps: float = 1e-6
    rtol: float = 1e-5
    atol: float = 1e-6
    second_order: bool = True
    notes: str = field(default="")
    # Complex-capable: checked in complex mode too (each input's real and imaginary parts drawn from
    # its domain, or from ``complex_domains``); otherwise complex inputs must be refused.
    complex: bool = False
    complex_domains: tuple | None = None


def _u(fn: Callable[..., Any], ref: Callable[..., Any], domain: Domain = REALS, **kw: Any) -> Spec:
    return Spec(fn, (domain,), "unary", reference=ref, **kw)


def _b(fn: Callable[..., Any], ref: Callable[..., Any], dx: Domain = REALS, dy: Domain = REALS, **kw: Any) -> Spec:
    return Spec(fn, (dx, dy), "broadcast", reference=ref, **kw)


def _nondiff(fn: Callable[..., Any], ref: Callable[..., Any], n: int = 1, domain: Domain = REALS) -> Spec:
    return Spec(fn, (domain,) * n, "unary" if n == 1 else "broadcast", differentiable=False, reference=ref)


def _ints(x: Any) -> Any:
    """Integers from a float input (bitwise ops take only integers)."""
    return tg.cast(x * 10.0, tg.int32)


def _np_ints(x: np.ndarray) -> np.ndarray:
    return (x * 10.0).astype(np.int32)


C = {"complex": True}


# Indices used by the indexing specs; shapes are fixed so the index always fits.
_IDX = (np.array([0, 2, 2, 1]), slice(None, None, -1))
_COND = np.array([[True, False, True], [False, False, True]])

SPECS: dict[str, Spec] = {
    # arithmetic
    "add": _b(tg.add, np.add, **C),
    "subtract": _b(tg.subtract, np.subtract, **C),
    "multiply": _b(tg.multiply, np.multiply, **C),
    "divide": _b(tg.divide, np.divide, dy=AWAY_FROM_ZERO, **C),
    "multiply_no_nan": _b(tg.math.multiply_no_nan, np.multiply, dy=AWAY_FROM_ZERO),
    "divide_no_nan": _b(tg.math.divide_no_nan, np.divide, dy=AWAY_FROM_ZERO),
    "pow": _b(tg.pow, np.power, dx=POSITIVE, dy=REALS),
    "floormod": _b(tg.math.floormod, np.mod, dx=Domain(0.1, 0.9), dy=Domain(1.5, 2.0)),
    "maximum": _b(tg.maximum, np.maximum),
    "minimum": _b(tg.minimum, np.minimum),
    "negative": _u(tg.negative, np.negative, **C),
    "identity": _u(tg.identity, lambda x: x, **C),
    # element-wise
    "square": _u(tg.square, np.square, **C),
    "sqrt": _u(tg.sqrt, np.sqrt, POSITIVE),
    "rsqrt": _u(tg.math.rsqrt, lambda x: 1 / np.sqrt(x), POSITIVE),
    "exp": _u(tg.exp, np.exp, **C),
    "expm1": _u(tg.math.expm1, np.expm1, **C),
    "log": _u(tg.math.log, np.log, POSITIVE, **C),
    "log1p": _u(tg.math.log1p, np.log1p, Domain(-0.5, 2.0), **C),
    "reciprocal": _u(tg.math.reciprocal, np.reciprocal, AWAY_FROM_ZERO),
    "sin": _u(tg.sin, np.sin, **C),
    "cos": _u(tg.cos, np.cos, **C),
    "tan": _u(tg.math.tan, np.tan, Domain(-1.2, 1.2), **C),
    "asin": _u(tg.math.asin, np.arcsin, UNIT),
    "acos": _u(tg.math.acos, np.arccos, UNIT),
    "atan": _u(tg.math.atan, np.arctan),
    "sinh": _u(tg.math.sinh, np.sinh, **C),
    "cosh": _u(tg.math.cosh, np.cosh, **C),
    "tanh": _u(tg.tanh, np.tanh, complex_domains=(UNIT,), **C),  # poles at +-i pi/2
    "abs": _u(tg.abs, np.abs, AWAY_FROM_ZERO, **C),
    "real": _u(tg.math.real, np.real, **C),
    "imag": _u(tg.math.imag, np.imag, **C),
    "conj": _u(tg.math.conj, np.conj, **C),
    "angle": _u(tg.math.angle, np.angle, POSITIVE, **C),  # away from the cut along the negative reals
    "sigmoid": _u(tg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), Domain(-4, 4)),
    "softplus": _u(tg.math.softplus, lambda x: np.log1p(np.exp(x)), Domain(-4, 4)),
    "sign": _u(tg.sign, np.sign, AWAY_FROM_ZERO),
    "relu": _u(tg.nn.relu, lambda x: np.maximum(x, 0), AWAY_FROM_ZERO),
    "where": Spec(lambda x, y: tg.where(_COND, x, y), (REALS, REALS), [(2, 3), (3,)],
                  reference=lambda x, y: np.where(_COND, x, y), **C),
    # reductions (axis variants are exercised through the composites below too)
    "reduce_sum": Spec(lambda x: tg.reduce_sum(x, axis=1), (REALS,), [(2, 3, 2)],
                       reference=lambda x: x.sum(axis=1), **C),
    "reduce_max": Spec(lambda x: tg.reduce_max(x, axis=(0, 2), keepdims=True), (REALS,), [(2, 3, 2)],
                       reference=lambda x: x.max(axis=(0, 2), keepdims=True)),
    "reduce_min": Spec(lambda x: tg.reduce_min(x, axis=-1), (REALS,), [(3, 4)],
                       reference=lambda x: x.min(axis=-1)),
    "reduce_prod": Spec(lambda x: tg.reduce_prod(x, axis=0), (AWAY_FROM_ZERO,), [(3, 2)],
                        reference=lambda x: x.prod(axis=0)),
    "cumprod": Spec(lambda x: tg.math.cumprod(x, axis=1, exclusive=True, reverse=True), (AWAY_FROM_ZERO,), [(2, 4)],
                    reference=lambda x: np.flip(np.cumprod(np.flip(x, 1), 1), 1) / x),
    "cumsum": Spec(lambda x: tg.math.cumsum(x, axis=1, exclusive=True, reverse=True), (REALS,), [(2, 4)],
                   reference=lambda x: np.flip(np.cumsum(np.flip(x, 1), 1), 1) - x, **C),
    # shapes
    "broadcast_to": Spec(lambda x: tg.broadcast_to(x, (2, 3, 4)), (REALS,), [(3, 1)],
                         reference=lambda x: np.broadcast_to(x, (2, 3, 4)), **C),
    "sum_to": Spec(lambda x: tg.sum_to(x, (3, 1)), (REALS,), [(2, 3, 4)],
                   reference=lambda x: x.sum(axis=(0, 2)).reshape(3, 1), **C),
    "reshape": Spec(lambda x: tg.reshape(x, (3, -1)), (REALS,), [(2, 3, 2)],
                    reference=lambda x: x.reshape(3, -1), **C),
    "transpose": Spec(lambda x: tg.transpose(x, (2, 0, 1)), (REALS,), [(2, 3, 4)],
                      reference=lambda x: x.transpose(2, 0, 1), **C),
    "tile": Spec(lambda x: tg.tile(x, (2, 3)), (REALS,), [(2, 2)], reference=lambda x: np.tile(x, (2, 3)), **C),
    "concat": Spec(lambda x, y, z: tg.concat([x, y, z], axis=1), (REALS, REALS, REALS), [(2, 1), (2, 3), (2, 2)],
                   reference=lambda x, y, z: np.concatenate([x, y, z], axis=1), **C),
    "getitem": Spec(lambda x: x[_IDX], (REALS,), [(3, 4)], reference=lambda x: x[_IDX], **C),
    "scatter_index": Spec(lambda g: tg.scatter_index(g, _IDX, (3, 4)), (REALS,), [(4, 4)],
                          reference=lambda g: _np_scatter(g), **C),
    "cast": Spec(lambda x: tg.cast(tg.cast(x, tg.float32), tg.float64), (REALS,), "unary",
                 reference=lambda x: np.real(x).astype(np.float32).astype(np.float64), eps=1e-2, rtol=1e-4, atol=1e-4,
                 **C),
    # linear algebra
    "matmul": Spec(tg.matmul, (REALS, REALS), [(2, 1, 3, 4), (3, 4, 2)], reference=np.matmul, **C),
    # ops13b: tf.linalg (inputs made well-conditioned by each call: a shifted diagonal, A A^T + n I, gaps
    # between eigen/singular values) and einsum (a diagonal 'ii', a label summed in one operand only 'l')
    "matrix_inverse": Spec(lambda a: tg.linalg.inv(a + _I3), (UNIT,), [(2, 3, 3)],
                           reference=lambda a: np.linalg.inv(a + _I3)),
    "matrix_determinant": Spec(lambda a: tg.linalg.det(a + _I3), (UNIT,), [(2, 3, 3)],
                               reference=lambda a: np.linalg.det(a + _I3)),
    "slogdet": Spec(lambda a: tg.stack(tg.linalg.slogdet(a - _I3), -1), (UNIT,), [(2, 3, 3)],
                    reference=lambda a: np.stack(np.linalg.slogdet(a - _I3), -1)),
    "matrix_solve": Spec(lambda a, b: tg.linalg.solve(a + _I3, b, adjoint=True), (UNIT, REALS), [(2, 3, 3), (2, 3, 2)],
                         reference=lambda a, b: np.linalg.solve(np.swapaxes(a + _I3, -1, -2), b)),
    "triangular_solve": Spec(lambda a, b: tg.linalg.triangular_solve(a + _I3, b, lower=False), (UNIT, REALS),
                             [(2, 3, 3), (3, 2)], reference=lambda a, b: np.linalg.solve(np.triu(a + _I3), b)),
    "cholesky": Spec(lambda a: tg.linalg.cholesky(_gram(a)), (REALS,), [(2, 3, 3)],
                     reference=lambda a: np.linalg.cholesky(_np_gram(a))),
    "eigh": Spec(lambda a: _eigh_fixed(a + _SPREAD), (UNIT,), [(2, 3, 3)], reference=lambda a: _np_eigh(a + _SPREAD)),
    "svd": Spec(lambda a: _svd_fixed(a + _SPREAD[:, :2]), (Domain(-0.3, 0.3),), [(2, 3, 2)],
                reference=lambda a: _np_svd(a + _SPREAD[:, :2])),
    "qr": Spec(lambda a: tg.concat([tg.reshape(p, (-1,)) for p in tg.linalg.qr(a + _SPREAD[:, :2])], 0), (UNIT,),
               [(3, 2)], reference=lambda a: np.concatenate([p.ravel() for p in np.linalg.qr(a + _SPREAD[:, :2])])),
    "einsum": Spec(lambda a, b: tg.einsum("iij,jkl->ik", a, b), (REALS, REALS), [(2, 2, 3), (3, 4, 2)],
                   reference=lambda a, b: np.einsum("iij,jkl->ik", a, b), **C),
    # not differentiable
    "floordiv": _nondiff(tg.math.floordiv, np.floor_divide, 2, AWAY_FROM_ZERO),
    "truncatediv": _nondiff(tg.truncatediv, lambda x, y: np.trunc(x / y), 2, AWAY_FROM_ZERO),
    "bitwise_and": _nondiff(lambda x, y: tg.bitwise.bitwise_and(_ints(x), _ints(y)),
                            lambda x, y: np.bitwise_and(_np_ints(x), _np_ints(y)), 2),
    "bitwise_or": _nondiff(lambda x, y: _ints(x) | _ints(y), lambda x, y: np.bitwise_or(_np_ints(x), _np_ints(y)), 2),
    "bitwise_xor": _nondiff(lambda x, y: _ints(x) ^ _ints(y), lambda x, y: np.bitwise_xor(_np_ints(x), _np_ints(y)),
                            2),
    "invert": _nondiff(lambda x: ~_ints(x), lambda x: np.invert(_np_ints(x))),
    "equal": _nondiff(tg.equal, np.equal, 2),
    "not_equal": _nondiff(tg.not_equal, np.not_equal, 2),
    "less": _nondiff(tg.less, np.less, 2),
    "less_equal": _nondiff(tg.less_equal, np.less_equal, 2),
    "greater": _nondiff(tg.greater, np.greater, 2),
    "greater_equal": _nondiff(tg.greater_equal, np.greater_equal, 2),
    "logical_and": _nondiff(lambda x, y: tg.logical_and(x > 0, y > 0), lambda x, y: (x > 0) & (y > 0), 2),
    "logical_or": _nondiff(lambda x, y: tg.logical_or(x > 0, y > 0), lambda x, y: (x > 0) | (y > 0), 2),
    "logical_xor": _nondiff(lambda x, y: tg.logical_xor(x > 0, y > 0), lambda x, y: (x > 0) ^ (y > 0), 2),
    "logical_not": _nondiff(lambda x: tg.logical_not(x > 0), lambda x: ~(x > 0)),
    "floor": _nondiff(tg.floor, np.floor),
    "ceil": _nondiff(tg.math.ceil, np.ceil),
    "round": _nondiff(tg.round, np.rint),
    "is_nan": _nondiff(tg.math.is_nan, np.isnan),
    "is_inf": _nondiff(tg.math.is_inf, np.isinf),
    "is_finite": _nondiff(tg.math.is_finite, np.isfinite),
    "argmax": Spec(lambda x: tg.argmax(x, axis=1), (REALS,), [(3, 4)], differentiable=False,
                   reference=lambda x: np.argmax(x, axis=1)),
    "argmin": Spec(lambda x: tg.argmin(x, axis=0), (REALS,), [(3, 4)], differentiable=False,
                   reference=lambda x: np.argmin(x, axis=0)),
    "reduce_all": _nondiff(lambda x: tg.reduce_all(x > 0), lambda x: np.all(x > 0)),
    "reduce_any": _nondiff(lambda x: tg.reduce_any(x > 0), lambda x: np.any(x > 0)),
    "stop_gradient": _nondiff(tg.stop_gradient, lambda x: x),
    "softmax": Spec(tg.nn.softmax, (REALS,), [(2, 3)], reference=lambda x: _stable_softmax(x)),
    "log_softmax": Spec(lambda x: tg.nn.log_softmax(x, axis=0), (REALS,), [(2, 3)],
                        reference=lambda x: np.log(_stable_softmax(x, axis=0))),
}


_I3 = 3.0 * np.eye(3)
_SPREAD = np.diag([0.0, 3.0, 6.0])  # eigen/singular values about 3 apart


def _gram(a: Any) -> Any:
    return tg.matmul(a, a, transpose_b=True) + _I3


def _np_gram(a: np.ndarray) -> np.ndarray:
    return a @ np.swapaxes(a, -1, -2) + _I3


def _eigh_fixed(a: Any) -> Any:
    """Eigenvalues over eigenvectors, each vector's sign fixed (its first entry positive): an eigenvector's
    sign is arbitrary, and this keeps it constant under the checks' small steps."""
    e, v = tg.linalg.eigh(a)
    return tg.concat([tg.expand_dims(e, -2), v * tg.sign(v[..., :1, :])], -2)


def _np_eigh(a: np.ndarray) -> np.ndarray:
    e, v = np.linalg.eigh(a)
    return np.concatenate([e[..., None, :], v * np.sign(v[..., :1, :])], -2)


def _svd_fixed(a: Any) -> Any:
    s, u, v = tg.linalg.svd(a)
    sign = tg.sign(u[..., :1, :])
    return tg.concat([s, tg.reshape(u * sign, s.shape[:-1] + (-1,)), tg.reshape(v * sign, s.shape[:-1] + (-1,))], -1)


def _np_svd(a: np.ndarray) -> np.ndarray:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    sign = np.sign(u[..., :1, :])
    v = np.swapaxes(vh, -1, -2)
    return np.concatenate([s, (u * sign).reshape(s.shape[:-1] + (-1,)), (v * sign).reshape(s.shape[:-1] + (-1,))], -1)


def _np_update(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[1, 2], out[0, 0] = u[1], u[2]  # the last of repeated coordinates wins
    return out


def _np_set_diag(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    out = x.copy()
    i = np.arange(3)
    out[:, i, i + 1] = d
    return out


def _np_ridge_wide(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    return a.T @ np.linalg.solve(a @ a.T + lam * np.eye(len(a)), b)


def _np_scatter(g: np.ndarray) -> np.ndarray:
    out = np.zeros((3, 4), dtype=g.dtype)
    np.add.at(out, _IDX, g)
    return out


def _stable_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_logsumexp(x: np.ndarray, axis: Any = None) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m, axis=axis)


# Functions built from primitives: no rule of their own, checked the same way.
COMPOSITES: dict[str, Spec] = {
    "reduce_mean": Spec(lambda x: tg.reduce_mean(x, axis=0), (REALS,), [(3, 2)],
                        reference=lambda x: x.mean(axis=0), **C),
    "reduce_logsumexp": Spec(lambda x: tg.reduce_logsumexp(x, axis=1), (REALS,), [(2, 3)],
                             reference=lambda x: _np_logsumexp(x, axis=1)),
    "elu": _u(tg.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), AWAY_FROM_ZERO),
    "leaky_relu": _u(tg.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), AWAY_FROM_ZERO),
    "clip_by_value": _u(lambda x: tg.clip_by_value(x, -1.0, 1.0), lambda x: np.clip(x, -1, 1),
                        Domain(0.05, 0.95, signed=True)),
    "clip_by_norm": Spec(lambda x: tg.clip_by_norm(x, 1.0), (REALS,), [(4,)],
                         reference=lambda x: x / max(np.linalg.norm(x), 1.0)),
    "norm": Spec(lambda x: tg.norm(x, axis=1), (AWAY_FROM_ZERO,), [(2, 3)],
                 reference=lambda x: np.linalg.norm(x, axis=1)),
    "norm_1": Spec(lambda x: tg.norm(x, ord=1), (AWAY_FROM_ZERO,), [(4,)], reference=lambda x: np.abs(x).sum(), **C),
    "matvec": Spec(tg.linalg.matvec, (REALS, REALS), [(2, 3), (3,)], reference=lambda a, b: a @ b, **C),
    "tensordot": Spec(lambda a, b: tg.tensordot(a, b, axes=[[1, 2], [0, 1]]), (REALS, REALS), [(2, 3, 2), (3, 2, 4)],
                      reference=lambda a, b: np.tensordot(a, b, axes=[[1, 2], [0, 1]]), **C),
    "stack": Spec(lambda x, y: tg.stack([x, y], axis=1), (REALS, REALS), [(2, 3), (2, 3)],
                  reference=lambda x, y: np.stack([x, y], axis=1), **C),
    "gather": Spec(lambda x: tg.gather(x, [2, 0, 2], axis=1), (REALS,), [(2, 3)],
                   reference=lambda x: np.take(x, [2, 0, 2], axis=1), **C),
    "expand_squeeze": Spec(lambda x: tg.squeeze(tg.expand_dims(x, 1) * 2.0), (REALS,), [(3,)],
                           reference=lambda x: 2 * x, **C),
    "matmul_vector": Spec(lambda a, b: a @ b, (REALS, REALS), [(3,), (3, 2)], reference=lambda a, b: a @ b, **C),
    "squared_difference": _b(tg.math.squared_difference, lambda x, y: (x - y) * np.conj(x - y), **C),
    "softplus_stable": _u(tg.nn.softplus, lambda x: np.logaddexp(0, x), Domain(-30, 30)),
    "sigmoid_ce": Spec(lambda x: tg.nn.sigmoid_cross_entropy_with_logits(labels=0.3, logits=x), (REALS,), "unary",
                       reference=lambda x: np.maximum(x, 0) - 0.3 * x + np.log1p(np.exp(-np.abs(x)))),
    "boolean_index": Spec(lambda x: x[x > 0] * 3.0, (AWAY_FROM_ZERO,), [(5,)], reference=lambda x: x[x > 0] * 3),
    "slice_negative_step": Spec(lambda x: x[::-2, 1:], (REALS,), [(5, 3)], reference=lambda x: x[::-2, 1:], **C),
    "abs_squared": _u(lambda z: tg.abs(z) * tg.abs(z), lambda z: np.abs(z) ** 2, **C),
    "real_z_conj_z": _u(lambda z: tg.math.real(z * tg.math.conj(z)), lambda z: np.real(z * np.conj(z)), **C),
    "abs_of_square": _u(lambda z: tg.abs(z * z), lambda z: np.abs(z * z), AWAY_FROM_ZERO, **C),
    # ops13b: array ops (indexing with positions from NumPy)
    "pad_constant": Spec(lambda x: tg.pad(x, [[1, 0], [2, 1]], constant_values=2.0), (REALS,), [(2, 3)],
                         reference=lambda x: np.pad(x, [[1, 0], [2, 1]], constant_values=2), **C),
    "pad_reflect": Spec(lambda x: tg.pad(x, [[1, 1], [2, 0]], "REFLECT"), (REALS,), [(2, 3)],
                        reference=lambda x: np.pad(x, [[1, 1], [2, 0]], "reflect"), **C),
    "pad_symmetric": Spec(lambda x: tg.pad(x, [[2, 1], [0, 3]], "SYMMETRIC"), (REALS,), [(2, 3)],
                          reference=lambda x: np.pad(x, [[2, 1], [0, 3]], "symmetric"), **C),
    "split": Spec(lambda x: tg.concat(tg.split(x, [1, -1], axis=1)[::-1], 1), (REALS,), [(2, 3)],
                  reference=lambda x: np.concatenate([x[:, 1:], x[:, :1]], 1), **C),
    "slice": Spec(lambda x: tg.slice(x, [0, 1], [-1, 2]), (REALS,), [(2, 4)], reference=lambda x: x[:, 1:3], **C),
    "strided_slice": Spec(lambda x: tg.strided_slice(x, [1, 3], [4, 0], [2, -1], end_mask=2), (REALS,), [(5, 4)],
                          reference=lambda x: x[1:4:2, 3::-1], **C),
    "strided_index": Spec(lambda x: x[1:5:2, ::-1][..., None], (REALS,), [(6, 3)],
                          reference=lambda x: x[1:5:2, ::-1][..., None], **C),
    "gather_nd": Spec(lambda x: tg.gather_nd(x, [[0, 1], [1, 2], [0, 1]]), (REALS,), [(2, 3)],
                      reference=lambda x: x[[0, 1, 0], [1, 2, 1]], **C),
    "gather_nd_batch": Spec(lambda x: tg.gather_nd(x, [[[1], [0]], [[2], [2]]], batch_dims=1), (REALS,), [(2, 3, 2)],
                            reference=lambda x: np.stack([x[0][[1, 0]], x[1][[2, 2]]]), **C),
    "gather_batch_dims": Spec(lambda x: tg.gather(x, [[0, 2], [1, 1]], axis=2, batch_dims=1), (REALS,), [(2, 2, 3)],
                              reference=lambda x: np.stack([x[0][:, [0, 2]], x[1][:, [1, 1]]]), **C),
    "boolean_mask": Spec(lambda x: tg.boolean_mask(x, [True, False, True], axis=1), (REALS,), [(2, 3)],
                         reference=lambda x: x[:, [0, 2]], **C),
    "reverse": Spec(lambda x: tg.reverse(x, [0, -1]), (REALS,), [(2, 3)], reference=lambda x: x[::-1, ::-1], **C),
    "tensor_scatter_nd_update": Spec(lambda x, u: tg.tensor_scatter_nd_update(x, [[0, 0], [1, 2], [0, 0]], u),
                                     (REALS, REALS), [(2, 3), (3,)], reference=lambda x, u: _np_update(x, u), **C),
    "tensor_scatter_nd_add": Spec(lambda x, u: tg.tensor_scatter_nd_add(x, [[1], [0], [1]], u), (REALS, REALS),
                                  [(2, 3), (3, 3)], reference=lambda x, u: x + np.stack([u[1], u[0] + u[2]]), **C),
    "repeat": Spec(lambda x: tg.repeat(x, [1, 0, 2], axis=1), (REALS,), [(2, 3)],
                   reference=lambda x: np.repeat(x, [1, 0, 2], axis=1), **C),
    "sort": Spec(lambda x: tg.sort(x, axis=0, direction="DESCENDING"), (REALS,), [(4, 2)],
                 reference=lambda x: -np.sort(-x, axis=0)),
    # ops13b: tf.linalg composites
    "trace": Spec(tg.linalg.trace, (REALS,), [(2, 3, 3)], reference=lambda x: np.trace(x, axis1=-2, axis2=-1), **C),
    "diag": Spec(lambda d: tg.linalg.diag(d, k=1), (REALS,), [(2, 3)],
                 reference=lambda d: np.stack([np.diag(r, 1) for r in d]), **C),
    "diag_part": Spec(lambda x: tg.linalg.diag_part(x, k=-1), (REALS,), [(3, 4)], reference=lambda x: np.diag(x, -1),
                      **C),
    "set_diag": Spec(lambda x, d: tg.linalg.set_diag(x, d, k=1), (REALS, REALS), [(2, 3, 4), (2, 3)],
                     reference=lambda x, d: _np_set_diag(x, d), **C),
    "band_part": Spec(lambda x: tg.linalg.band_part(x, 1, 0), (REALS,), [(3, 4)],
                      reference=lambda x: np.tril(x) - np.tril(x, -2), **C),
    "inv_adjoint": Spec(lambda a: tg.linalg.inv(a + _I3, adjoint=True), (UNIT,), [(3, 3)],
                        reference=lambda a: np.linalg.inv(a + _I3).T),
    "solve": Spec(lambda a, b: tg.linalg.solve(a + _I3, b), (UNIT, REALS), [(3, 3), (3, 2)],
                  reference=lambda a, b: np.linalg.solve(a + _I3, b)),
    "triangular_solve_lower_adjoint": Spec(
        lambda a, b: tg.linalg.triangular_solve(a + _I3, b, adjoint=True), (UNIT, REALS), [(3, 3), (2, 3, 1)],
        reference=lambda a, b: np.linalg.solve(np.tril(a + _I3).T, b)),
    "cholesky_solve": Spec(lambda a, b: tg.linalg.cholesky_solve(tg.linalg.cholesky(_gram(a)), b), (REALS, REALS),
                           [(3, 3), (3, 2)], reference=lambda a, b: np.linalg.solve(_np_gram(a), b)),
    "logdet": Spec(lambda a: tg.linalg.logdet(_gram(a)), (REALS,), [(2, 3, 3)],
                   reference=lambda a: np.linalg.slogdet(_np_gram(a))[1]),
    "lstsq": Spec(lambda a, b: tg.linalg.lstsq(a + _SPREAD[:, :2], b), (UNIT, REALS), [(3, 2), (3, 1)],
                  reference=lambda a, b: np.linalg.lstsq(a + _SPREAD[:, :2], b, rcond=None)[0]),
    "lstsq_wide_ridge": Spec(lambda a, b: tg.linalg.lstsq(a + _SPREAD[:2], b, l2_regularizer=0.5), (UNIT, REALS),
                             [(2, 3), (2, 2)], reference=lambda a, b: _np_ridge_wide(a + _SPREAD[:2], b, 0.5)),
    "eigvalsh": Spec(lambda a: tg.linalg.eigvalsh(a + _SPREAD), (UNIT,), [(3, 3)],
                     reference=lambda a: np.linalg.eigvalsh(a + _SPREAD)),
    "svd_values": Spec(lambda a: tg.linalg.svd(a + _SPREAD[:2], compute_uv=False), (UNIT,), [(2, 3)],
                       reference=lambda a: np.linalg.svd(a + _SPREAD[:2], compute_uv=False)),
    "svd_wide": Spec(lambda a: _svd_fixed(a + _SPREAD[:2]), (Domain(-0.3, 0.3),), [(2, 3)],
                     reference=lambda a: _np_svd(a + _SPREAD[:2])),
    "qr_wide": Spec(lambda a: tg.concat([tg.reshape(p, (-1,)) for p in tg.linalg.qr(a + _SPREAD[:2])], 0), (UNIT,),
                    [(2, 3)], reference=lambda a: np.concatenate([p.ravel() for p in np.linalg.qr(a + _SPREAD[:2])])),
    "norm_p": Spec(lambda x: tg.norm(x, 3, axis=-1), (AWAY_FROM_ZERO,), [(2, 3)],
                   reference=lambda x: np.linalg.norm(x, 3, axis=-1)),
    "norm_p_half": Spec(lambda x: tg.norm(x, 0.5), (AWAY_FROM_ZERO,), [(4,)],
                        reference=lambda x: np.sum(np.abs(x) ** 0.5) ** 2),
    "norm_matrix_2": Spec(lambda x: tg.norm(x + _SPREAD[:, :2], 2, axis=(1, 2), keepdims=True), (UNIT,), [(2, 3, 2)],
                          reference=lambda x: np.linalg.norm(x + _SPREAD[:, :2], 2, axis=(1, 2), keepdims=True)),
    "norm_matrix_1": Spec(lambda x: tg.norm(x, 1, axis=(0, 1)), (AWAY_FROM_ZERO,), [(3, 2)],
                          reference=lambda x: np.abs(x).sum(0).max(), **C),
    "norm_matrix_inf": Spec(lambda x: tg.norm(x, np.inf, axis=[-1, 0]), (AWAY_FROM_ZERO,), [(3, 2)],
                            reference=lambda x: np.abs(x).sum(0).max(), **C),
    "norm_fro": Spec(lambda x: tg.norm(x, "fro", axis=(0, 2)), (AWAY_FROM_ZERO,), [(2, 3, 2)],
                     reference=lambda x: np.linalg.norm(x, "fro", axis=(0, 2))),
    "global_norm": Spec(lambda x, y: tg.linalg.global_norm([x, None, y]), (AWAY_FROM_ZERO, AWAY_FROM_ZERO),
                        [(2, 3), (3,)], reference=lambda x, y: np.sqrt(np.sum(x * x) + np.sum(y * y))),
    "clip_by_global_norm": Spec(lambda x, y: tg.concat([tg.reshape(t, (-1,)) for t in
                                                        tg.clip_by_global_norm([x, y], 1.0)[0]], 0),
                                (AWAY_FROM_ZERO, AWAY_FROM_ZERO), [(2, 3), (3,)],
                                reference=lambda x, y: np.concatenate([x.ravel(), y]) / np.sqrt(np.sum(x * x) +
                                                                                                np.sum(y * y))),
    "einsum_ellipsis": Spec(lambda a, b: tg.einsum("...ij,...jk->...ik", a, b), (REALS, REALS), [(2, 2, 3), (1, 3, 2)],
                            reference=lambda a, b: np.einsum("...ij,...jk->...ik", a, b), **C),
    "einsum_implicit_trace": Spec(lambda a, b: tg.einsum("ij,jk", a, b) + tg.einsum("ii", a), (REALS, REALS),
                                  [(3, 3), (3, 2)], reference=lambda a, b: a @ b + np.trace(a), **C),
    "matmul_adjoint": Spec(lambda a, b: tg.matmul(a, b, adjoint_a=True, transpose_b=True), (REALS, REALS),
                           [(3, 2), (4, 3)], reference=lambda a, b: np.conj(a).T @ b.T, **C),
}
