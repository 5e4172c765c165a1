"""One test spec per primitive in the op table: how to call it and where its inputs live.

``tests/ops/test_gradients.py`` iterates the registry and fails for a primitive with no
spec here, so a new op is tested the moment it exists.
"""
from __future__ import annotations

import math
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
    "reduce_mean": Spec(lambda x: tg.reduce_mean(x, axis=(0, 2), keepdims=True), (REALS,), [(2, 3, 2)],
                        reference=lambda x: x.mean(axis=(0, 2), keepdims=True), **C),
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
    "matmul_2d": Spec(tg.matmul, (REALS, REALS), [(3, 4), (4, 2)], reference=np.matmul, **C),  # (the rules' fast path)
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
}


# ---- ops13a: special functions, segment sums, tf.complex, the fused cross entropies ----------------
def _np_each(fn: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.vectorize(fn, otypes=[np.float64])(x)


def _scipy(name: str, *args: Any) -> Callable[..., Any] | None:
    """scipy.special's function as an independent reference, when scipy is installed."""
    try:
        import scipy.special
    except ImportError:
        return None
    fn = getattr(scipy.special, name)
    return lambda x: fn(*args, x)


def _sq(z: Any) -> Any:
    return z * z


_SEG = np.array([0, 3, -1, 0, 2])  # unsorted, a gap (segment 1) and a dropped row (-1)
_LABELS = np.array([2, 0])


def _np_segment_sum(x: np.ndarray) -> np.ndarray:
    out = np.zeros((4,) + x.shape[1:])
    np.add.at(out, _SEG[_SEG >= 0], x[_SEG >= 0])
    return out


def _np_xent(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    return -(_stable_softmax(labels) * np.log(_stable_softmax(logits))).sum(-1)


SPECS.update({
    "erf": _u(tg.math.erf, _np_each(math.erf), Domain(-3, 3)),
    "erfc": _u(tg.math.erfc, _np_each(math.erfc), Domain(-3, 3)),
    "erfinv": _u(tg.math.erfinv, _scipy("erfinv"), UNIT),
    "lgamma": _u(tg.math.lgamma, _np_each(math.lgamma), Domain(0.2, 6.0)),
    "digamma": _u(tg.math.digamma, _scipy("digamma"), Domain(0.3, 6.0)),
    "polygamma": _u(lambda x: tg.math.polygamma(2.0, x), _scipy("polygamma", 2), Domain(0.5, 4.0)),
    "atan2": _b(tg.math.atan2, np.arctan2, dx=AWAY_FROM_ZERO, dy=REALS),  # y away from the cut at y = 0, x < 0
    "truncatemod": _b(tg.truncatemod, np.fmod, dx=Domain(2.1, 2.9, signed=True), dy=Domain(1.5, 2.0)),
    # tf.complex takes reals and gives a complex tensor: checked through real-valued functions of it
    "complex": _b(lambda r, i: tg.math.real(tg.complex(r, i) * (0.5 + 2j)) + tg.math.imag(_sq(tg.complex(r, i))),
                  lambda r, i: np.real((r + 1j * i) * (0.5 + 2j)) + np.imag((r + 1j * i) ** 2)),
    "unsorted_segment_sum": Spec(lambda x: tg.math.unsorted_segment_sum(x, _SEG, 4), (REALS,), [(5, 2)],
                                 reference=_np_segment_sum),
    "unsorted_segment_max": Spec(lambda x: tg.math.segment_max(_ints(x), [0, 0]), (REALS,), [(2, 3)],
                                 differentiable=False, reference=lambda x: _np_ints(x).max(0, keepdims=True)),
    # labels through softmax: rows that sum to 1, where TensorFlow's rule (softmax - labels) is the gradient
    "softmax_cross_entropy_with_logits": Spec(
        lambda lab, lg: tg.nn.softmax_cross_entropy_with_logits(tg.nn.softmax(lab), lg), (REALS, REALS),
        [(2, 3), (2, 3)], reference=_np_xent),
    "sparse_softmax_cross_entropy_with_logits": Spec(
        lambda lg: tg.nn.sparse_softmax_cross_entropy_with_logits(_LABELS, lg), (REALS,), [(2, 3)],
        reference=lambda lg: -np.log(_stable_softmax(lg))[[0, 1], _LABELS]),
    # both inputs move: labels in [0, 1] and beyond (TensorFlow's composite differentiates in them too)
    "sigmoid_cross_entropy_with_logits": _b(
        lambda z, x: tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
        lambda z, x: np.logaddexp(0, x) - x * z, dx=Domain(-0.5, 1.5), dy=Domain(-4, 4)),
})

_TOPK_W = np.array([1.0, 10.0])
COMPOSITES.update({
    "xlogy": _b(tg.math.xlogy, lambda x, y: x * np.log(y), dy=POSITIVE, **C),
    "xlog1py": _b(tg.math.xlog1py, lambda x, y: x * np.log1p(y), dy=POSITIVE, **C),
    "log_sigmoid": _u(tg.math.log_sigmoid, lambda x: -np.logaddexp(0, -x), Domain(-30, 30)),
    "reduce_variance": Spec(lambda x: tg.math.reduce_variance(x, axis=1), (REALS,), [(2, 3)],
                            reference=lambda x: x.var(axis=1), **C),
    "reduce_std": Spec(lambda x: tg.math.reduce_std(x, axis=0, keepdims=True), (REALS,), [(3, 2)],
                       reference=lambda x: x.std(axis=0, keepdims=True), **C),
    "polyval": _u(lambda x: tg.math.polyval([0.5, -1.0, 2.0], x), lambda x: 0.5 * x * x - x + 2, **C),
    "segment_sum": Spec(lambda x: tg.math.segment_sum(x, [0, 0, 2]), (REALS,), [(3, 2)],
                        reference=lambda x: np.stack([x[0] + x[1], 0 * x[0], x[2]])),
    "segment_mean": Spec(lambda x: tg.math.segment_mean(x, [0, 0, 2]), (REALS,), [(3, 2)],
                         reference=lambda x: np.stack([(x[0] + x[1]) / 2, 0 * x[0], x[2]])),
    "segment_max": Spec(lambda x: tg.math.segment_max(x, [0, 0, 1]), (REALS,), [(3,)],
                        reference=lambda x: np.array([max(x[0], x[1]), x[2]])),
    "top_k": Spec(lambda x: tg.math.top_k(x, 2).values * _TOPK_W, (REALS,), [(2, 4)],
                  reference=lambda x: -np.sort(-x, axis=-1)[..., :2] * _TOPK_W),
    "gelu": _u(tg.nn.gelu, lambda x: 0.5 * x * np.vectorize(math.erfc)(-x / np.sqrt(2))),
    "gelu_tanh": _u(lambda x: tg.nn.gelu(x, approximate=True),
                    lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "silu": _u(lambda x: tg.nn.silu(x, beta=1.5), lambda x: x / (1 + np.exp(-1.5 * x))),
    "selu": _u(tg.nn.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
               AWAY_FROM_ZERO),
    "softsign": _u(tg.nn.softsign, lambda x: x / (1 + np.abs(x)), AWAY_FROM_ZERO),
    "l2_normalize": Spec(lambda x: tg.nn.l2_normalize(x, axis=1), (AWAY_FROM_ZERO,), [(2, 3)],
                         reference=lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)),
    "moments_mean": Spec(lambda x: tg.nn.moments(x, axes=[0])[0], (REALS,), [(3, 2)],
                         reference=lambda x: x.mean(axis=0)),
    # the variance's rule holds the mean constant, as TensorFlow's: exact to first order only
    "moments_variance": Spec(lambda x: tg.nn.moments(x, axes=[0])[1], (REALS,), [(3, 2)],
                             reference=lambda x: x.var(axis=0), second_order=False),
    "weighted_ce": _b(lambda z, x: tg.nn.weighted_cross_entropy_with_logits(z, x, 2.5),
                      lambda z, x: (1 - z) * x + (1 + 1.5 * z) * np.logaddexp(0, -x), dx=Domain(0, 1)),
    "bias_add": Spec(lambda v, b: tg.nn.bias_add(v, b, data_format="NCHW"), (REALS, REALS), [(2, 3, 2), (3,)],
                     reference=lambda v, b: v + b[:, None], **C),
})

# ops13b: tf.linalg primitives, and the array and linalg composites, live in their own module
from .specs_arrays_linalg import ARRAYS_LINALG_COMPOSITES, LINALG_SPECS  # noqa: E402

SPECS.update(LINALG_SPECS)
COMPOSITES.update(ARRAYS_LINALG_COMPOSITES)
