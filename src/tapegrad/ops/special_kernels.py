"""Forward kernels of the special functions NumPy lacks (erf, erfc, erfinv, lgamma, digamma, polygamma)
and of the segment reductions.

Every function computes in float64 and returns the input's dtype (float32 results are rounded once).
Accuracy: erf, erfc and lgamma are the C library's (``math.erf``..., per element); digamma and polygamma are
the asymptotic series after the recurrence has moved x past a threshold; erfinv is Giles' single
precision approximation polished by Newton steps on erf / erfc.
The special functions run on NumPy arrays only (they call Python's math module element by element);
the segment reductions and the rest run on every array library.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np  # host-side arithmetic on segment ids (a NumPy param on every library)

from tapegrad._core.backend import BackendError, xp
from tapegrad._core.errors import InvalidArgumentError

from .kernels import NUMPY, astype, gather_reduce


def _f64(x: Any) -> Any:
    if not isinstance(x, NUMPY):
        raise BackendError("it computes element by element with Python's math module, on NumPy arrays only")
    return xp.asarray(x, dtype=xp.float64)


# ---- erf, erfc, lgamma: the C library's, element by element ----------------------------------------
# (Cody's rational approximations written in NumPy passes measured no quicker: ~70 ns an element on
# 1e5 elements, as the C calls through map; these are within an ulp or two.)


def _each(fn: Any, v: Any) -> Any:
    """``fn`` (a float function) on every element of the float64 array ``v``."""
    if v.ndim == 0:
        return xp.float64(fn(float(v)))
    return xp.fromiter(map(fn, v.reshape(-1).tolist()), xp.float64, v.size).reshape(v.shape)


def erf(x: Any) -> Any:
    return _each(math.erf, _f64(x)).astype(x.dtype, copy=False)


def erfc(x: Any) -> Any:
    return _each(math.erfc, _f64(x)).astype(x.dtype, copy=False)


# ---- erfinv (M. Giles, "Approximating the erfinv function", GPU Computing Gems, 2011) -----------
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
               0.00943887047, 1.00167406, 2.83297682)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _horner(coeffs: tuple, w: Any) -> Any:
    p = xp.full_like(w, coeffs[0])
    for c in coeffs[1:]:
        p = p * w + c
    return p


def erfinv(x: Any) -> Any:
    v = _f64(x).reshape(-1)
    a = xp.abs(v)
    inside = a < 1.0
    s = xp.where(inside, a, 0.0)
    # 1 - |x| is exact for |x| >= 0.5 (Sterbenz): the tail is computed from it, not from a rounded 1 - x*x.
    c = 1.0 - s
    w = -xp.log(c * (1.0 + s))
    central = w < 5.0
    y = s * xp.where(central, _horner(_GILES_CENTRAL, w - 2.5), _horner(_GILES_TAIL, xp.sqrt(xp.maximum(w, 5.0)) - 3))
    near_one = s > 0.5
    tail, log_c = y[near_one], xp.log(c[near_one])
    for _ in range(4):
        # Newton on log(erfc(y)) = log(1 - |x|): nearly linear in y*y, so it converges from Giles' start
        # even past the range his tail polynomial was fitted on (|x| > 1 - 1e-7)
        e = _each(math.erfc, tail)
        tail = tail + (xp.log(e) - log_c) * e * _HALF_SQRT_PI * xp.exp(tail * tail)
    y[near_one] = tail
    mid, target = y[~near_one], s[~near_one]
    for _ in range(3):  # each step doubles the correct digits of Giles' ~7
        mid = mid - (_each(math.erf, mid) - target) * _HALF_SQRT_PI * xp.exp(mid * mid)
    y[~near_one] = mid
    out = xp.where(inside, y, xp.where(a == 1.0, xp.inf, xp.nan))
    return xp.copysign(out, v).reshape(x.shape).astype(x.dtype, copy=False)


# ---- lgamma, digamma, polygamma -----------------------------------------------------------------


def _poles(v: Any) -> Any:
    """Where Gamma has a pole: 0 and the negative integers."""
    return (v <= 0) & (v == xp.floor(v))


def _lgamma_float(x: float) -> float:
    if x == math.inf or x == -math.inf or (x <= 0 and x == math.floor(x)):
        return math.inf
    return math.lgamma(x)


def lgamma(x: Any) -> Any:
    v = _f64(x)
    if v.size <= 8:  # a descent's scalars: no array passes
        return _each(_lgamma_float, v).astype(x.dtype, copy=False)
    bad = _poles(v) | xp.isinf(v)
    out = _each(math.lgamma, xp.where(bad, 1.0, v))
    return xp.where(bad, xp.inf, out).astype(x.dtype, copy=False)


# B_2k / (2k): the coefficients of digamma's asymptotic series in 1 / x**(2k)
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)
_SHIFT = 10.0  # the series is summed at x >= this; each term is then below 1e-16 of the first


def _digamma_positive(v: Any) -> Any:
    """digamma for v >= 0.5 (recurrence psi(x) = psi(x + 1) - 1/x, then the series)."""
    acc = xp.zeros_like(v)
    for _ in range(int(_SHIFT)):
        low = v < _SHIFT
        if not low.any():
            break
        acc = acc - xp.where(low, 1.0 / v, 0.0)
        v = xp.where(low, v + 1.0, v)
    z = 1.0 / (v * v)
    series = _horner(tuple(reversed(_DIGAMMA_SERIES)), z) * z
    return acc + xp.log(v) - 0.5 / v - series


def _digamma_float(x: float) -> float:
    """digamma of one Python float: the same steps as the array version, without NumPy's per-call cost."""
    if x != x or x == -math.inf or (x <= 0 and x == math.floor(x)):
        return math.nan
    acc = 0.0
    if x < 0.5:
        acc, x = -math.pi / math.tan(math.pi * (x - round(x))), 1.0 - x
    while x < _SHIFT:
        acc, x = acc - 1.0 / x, x + 1.0
    z = 1.0 / (x * x)
    series = 0.0
    for c in reversed(_DIGAMMA_SERIES):
        series = series * z + c
    return acc + math.log(x) - 0.5 / x - series * z


def digamma(x: Any) -> Any:
    v = _f64(x)
    if v.size <= 8:  # a descent's scalars: ~1 us each instead of ~80
        return _each(_digamma_float, v).astype(x.dtype, copy=False)
    bad = _poles(v) | (v == -xp.inf)
    safe = xp.where(bad, 1.0, v)
    left = safe < 0.5
    with xp.errstate(divide="ignore", invalid="ignore"):
        # reflection psi(x) = psi(1 - x) - pi / tan(pi x); tan has period pi, so reduce x first
        frac = safe - xp.round(safe)
        out = _digamma_positive(xp.where(left, 1.0 - safe, safe))
        out = xp.where(left, out - math.pi / xp.tan(math.pi * frac), out)
    return xp.where(bad, xp.nan, out).astype(x.dtype, copy=False)


def _polygamma_n(n: int, v: Any) -> Any:
    """polygamma(n, v) for one integer n >= 1 (recurrence upward, then the asymptotic series)."""
    fact = math.factorial(n)
    start = n + _SHIFT
    acc = xp.zeros_like(v)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        steps = int(xp.max(xp.ceil(start - v[xp.isfinite(v)]), initial=0))
        for _ in range(steps):
            low = v < start
            acc = acc + xp.where(low, fact / v ** (n + 1), 0.0)
            v = xp.where(low, v + 1.0, v)
        z = 1.0 / v
        series = math.factorial(n - 1) * z ** n + 0.5 * fact * z ** (n + 1)
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * z ** (2 * k + n)
        out = (acc + series) * (1.0 if n % 2 else -1.0)
    return out


def polygamma(a: Any, x: Any) -> Any:
    n, v = xp.broadcast_arrays(_f64(a), _f64(x))
    out = xp.full(v.shape, xp.nan)
    for k in xp.unique(n[xp.isfinite(n)]):
        if k < 0 or k != math.floor(k):
            continue  # NaN, as in TensorFlow
        sel = n == k
        vals = v[sel]
        if k == 0:
            out[sel] = digamma(vals)
            continue
        pole = _poles(vals)
        res = _polygamma_n(int(k), xp.where(pole, 1.0, vals))
        res = xp.where(vals == -xp.inf, xp.nan, res)
        out[sel] = xp.where(pole, xp.inf if k % 2 else xp.nan, res)  # TensorFlow's: inf for odd n, NaN for even
    return out.astype(xp.result_type(a, x), copy=False)


# ---- segments -----------------------------------------------------------------------------------


def _rows_by_segment(data: Any, ids: Any) -> tuple:
    """The rows of ``data`` that go to a segment and their segment ids (TensorFlow drops negative ids)."""
    ids = np.asarray(ids)
    rows = xp.reshape(data, (ids.size,) + tuple(data.shape[ids.ndim:]))
    flat = ids.reshape(-1)
    keep = np.flatnonzero(flat >= 0)
    return xp.take(rows, xp.asarray(keep), axis=0), flat[keep]


def unsorted_segment_sum(data: Any, ids: Any, num_segments: int) -> Any:
    if not isinstance(data, NUMPY):
        rows, seg = _rows_by_segment(data, ids)
        return gather_reduce(rows, seg, num_segments, xp.add, 0)
    out = xp.zeros((num_segments,) + data.shape[ids.ndim:], dtype=data.dtype)
    keep = ids >= 0  # TensorFlow drops negative ids
    xp.add.at(out, ids[keep], data[keep])
    return out


def unsorted_segment_max(data: Any, ids: Any, num_segments: int, empty: Any) -> Any:
    """The largest element of each segment; ``empty`` where a segment has none."""
    low = xp.finfo(data.dtype).min if data.dtype.kind == "f" else xp.iinfo(data.dtype).min
    if not isinstance(data, NUMPY):
        rows, seg = _rows_by_segment(data, ids)
        out = gather_reduce(rows, seg, num_segments, xp.maximum, low)
        if empty is not None:
            none = np.bincount(seg, minlength=num_segments) == 0
            out = xp.where(xp.reshape(xp.asarray(none), (-1,) + (1,) * (out.ndim - 1)), empty, out)
        return out
    out = xp.full((num_segments,) + data.shape[ids.ndim:], low, dtype=data.dtype)
    keep = ids >= 0
    xp.maximum.at(out, ids[keep], data[keep])
    if empty is not None:
        counts = xp.bincount(ids[keep].reshape(-1), minlength=num_segments)
        out[counts == 0] = empty
    return out


def truncatemod(x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu" and not xp.all(y):
        raise InvalidArgumentError("truncatemod: integer division by zero (as in TensorFlow); make the divisor "
                                   "nonzero or divide in floating point: tg.cast(x, tg.float32)")
    return xp.fmod(x, y)  # C's remainder: the sign of x, as TensorFlow's


def complex_from_parts(real: Any, imag: Any) -> Any:
    if not isinstance(real, NUMPY):  # the standard cannot assign parts (an infinite imag gives a NaN real part here)
        dtype = xp.complex64 if real.dtype == xp.float32 else xp.complex128
        return astype(real, dtype) + astype(imag, dtype) * 1j
    # assigned part by part: real + 1j * imag would turn an infinite imag into NaN + inf j
    out = xp.empty(xp.broadcast_shapes(real.shape, imag.shape), dtype=xp.complex64 if real.dtype == xp.float32
                   else xp.complex128)
    out.real = real
    out.imag = imag
    return out
