"""tf.math's special functions: identities that hold for any correct kernel, edge values as TensorFlow
gives them, scipy as an independent reference where installed, and TensorFlow's dtypes and errors.

Gradients against finite differences (first and second order) are in test_gradients.py via specs.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad as tg
from tests.optional import needs

RNG = np.random.default_rng(1234)
EULER = 0.57721566490153286


def _f64(fn, x):
    return fn(tg.constant(np.asarray(x, dtype=np.float64))).numpy()


def test_erf_and_erfc_identities():
    x = np.concatenate([RNG.normal(size=200) * 3, [0.0, 1e-300, 6.0, 30.0]])
    erf, erfc = _f64(tg.math.erf, x), _f64(tg.math.erfc, x)
    np.testing.assert_allclose(_f64(tg.math.erf, -x), -erf, rtol=0, atol=0)
    np.testing.assert_allclose(erf + erfc, 1.0, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(erf, [math.erf(v) for v in x], rtol=1e-15)
    # erfc keeps its relative accuracy far in the tail, where 1 - erf(x) would be 0
    assert 0 < _f64(tg.math.erfc, 26.0) < 1e-290


def test_erfinv_inverts_erf_to_the_last_digits_even_near_one():
    x = np.concatenate([RNG.uniform(-3, 3, 300), [1e-300, 5.0, 5.8]])
    y = _f64(tg.math.erfinv, _f64(tg.math.erf, x))
    ok = np.abs(x) < 5.0  # beyond, erf(x) rounds to a float whose erfinv is a neighbour
    np.testing.assert_allclose(y[ok], x[ok], rtol=1e-12)
    p = 1.0 - 10.0 ** -np.arange(1, 16)  # erfc(erfinv(p)) must give back 1 - p
    np.testing.assert_allclose(_f64(tg.math.erfc, _f64(tg.math.erfinv, p)), 1.0 - p, rtol=1e-10)


def test_edge_values_as_tensorflow_gives_them():
    # recorded with TensorFlow 2.21 (CPU): tf.math.lgamma / digamma / erfinv / polygamma on these inputs
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(_f64(tg.math.lgamma, [0.0, -1.0, inf, -inf, nan]), [inf, inf, inf, inf, nan])
    np.testing.assert_array_equal(_f64(tg.math.digamma, [0.0, -1.0, inf, -inf]), [nan, nan, inf, nan])
    np.testing.assert_array_equal(_f64(tg.math.erfinv, [1.0, -1.0, 1.5, -2.0]), [inf, -inf, nan, nan])
    pg = tg.math.polygamma(tg.constant([2.0, 2.0, 1.0, 3.0, 1.5, -1.0], tg.float64),
                           tg.constant([0.0, -2.0, -1.0, 0.0, 2.0, 2.0], tg.float64)).numpy()
    np.testing.assert_array_equal(pg, [nan, nan, inf, inf, nan, nan])  # poles: inf for odd orders, NaN for even


def test_lgamma_digamma_polygamma_identities():
    x = np.concatenate([RNG.uniform(0.05, 30, 300), RNG.uniform(-20, 0, 100)])
    x = x[np.abs(x - np.round(x)) > 1e-3]  # away from the poles, where the conditioning is poor
    lg = _f64(tg.math.lgamma, x)
    np.testing.assert_allclose(lg, [math.lgamma(v) for v in x], rtol=1e-14, atol=1e-14)
    pos = x[x > 0]
    np.testing.assert_allclose(_f64(tg.math.digamma, pos + 1) - _f64(tg.math.digamma, pos), 1 / pos, rtol=1e-11)
    neg = x[x < 0]  # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
    np.testing.assert_allclose(_f64(tg.math.digamma, 1 - neg) - _f64(tg.math.digamma, neg),
                               np.pi / np.tan(np.pi * neg), rtol=1e-9, atol=1e-9)
    assert abs(float(tg.math.digamma(tg.constant(1.0, tg.float64))) + EULER) < 1e-15
    assert abs(float(tg.math.polygamma(1.0, tg.constant(1.0, tg.float64))) - np.pi ** 2 / 6) < 1e-14
    for n in (1, 2, 3, 5):  # psi_n(x + 1) - psi_n(x) = (-1)^n n! / x^(n+1)
        a, b = (tg.math.polygamma(float(n), tg.constant(v, tg.float64)).numpy() for v in (pos + 1, pos))
        np.testing.assert_allclose(a - b, (-1) ** n * math.factorial(n) / pos ** (n + 1), rtol=1e-9,
                                   atol=1e-12 * np.abs(b).max())
    # polygamma(0, x) is digamma; small arrays and large ones take different paths but agree
    big = RNG.uniform(-5, 5, 50)
    np.testing.assert_allclose(_f64(lambda t: tg.math.polygamma(0.0, t), big), _f64(tg.math.digamma, big),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([_f64(tg.math.digamma, v) for v in big], _f64(tg.math.digamma, big),
                               rtol=1e-10, atol=1e-12)


@needs("scipy")
def test_against_scipy_over_wide_ranges():
    import scipy.special as sp

    x = np.concatenate([RNG.normal(size=500) * 10, RNG.uniform(0, 3, 200)])
    away = x[np.abs(x - np.round(x)) > 1e-2]
    np.testing.assert_allclose(_f64(tg.math.erf, x), sp.erf(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(_f64(tg.math.lgamma, away), sp.gammaln(away), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(_f64(tg.math.digamma, away), sp.digamma(away), rtol=1e-11, atol=1e-13)
    for n in (1, 2, 4):
        np.testing.assert_allclose(_f64(lambda t, n=n: tg.math.polygamma(float(n), t), away), sp.polygamma(n, away),
                                   rtol=1e-10)
    u = np.concatenate([RNG.uniform(-1, 1, 500), 1 - 10.0 ** -np.arange(1, 16)])
    np.testing.assert_allclose(_f64(tg.math.erfinv, u), sp.erfinv(u), rtol=1e-13)


def test_float32_in_float32_out_and_integers_refused():
    for fn in (tg.math.erf, tg.math.erfc, tg.math.erfinv, tg.math.lgamma, tg.math.digamma):
        assert fn(tg.constant([0.25, 0.5])).dtype == tg.float32
        with pytest.raises(TypeError, match="int32"):
            fn(tg.constant([1, 2]))
    assert tg.math.polygamma(1.0, tg.constant([0.5])).dtype == tg.float32


def test_derivatives_are_tensorflows():
    # recorded with TensorFlow 2.21 (CPU), float32, at x = 0.3: first and second derivatives
    want = {"erf": (1.031261, -0.6187566), "erfc": (-1.031261, 0.6187566), "lgamma": (-3.502524, 12.245363),
            "digamma": (12.245363, -75.27252), "erfinv": (0.95452034, 0.49648643)}
    for name, (d1, d2) in want.items():
        x = tg.Variable(0.3)
        with tg.GradientTape() as t2:
            with tg.GradientTape() as t1:
                y = getattr(tg.math, name)(x)
            g = t1.gradient(y, x)
        np.testing.assert_allclose([float(g), float(t2.gradient(g, x))], [d1, d2], rtol=2e-6, err_msg=name)
    a, x = tg.Variable(1.0), tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = tg.math.polygamma(a, x)
    ga, gx = tape.gradient(y, [a, x])
    assert ga is None  # no gradient in the order, as in TensorFlow
    np.testing.assert_allclose(float(gx), -0.4041138, rtol=1e-6)

