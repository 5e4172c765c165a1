"""Complex inputs: TensorFlow's gradient convention (dL/dx + i dL/dy for a real loss L of z = x + iy)
everywhere, or a clear refusal. Op-by-op finite-difference checks are generated in test_gradients.py."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as tg

Z = 1 + 2j


def _grad(f, z=Z, dtype=tg.complex128):
    v = tg.Variable(tg.constant(z, dtype))
    with tg.GradientTape() as tape:
        y = f(v)
    return y, tape.gradient(y, v)


@pytest.mark.parametrize("f", [
    lambda z: tg.abs(z * z),
    lambda z: tg.abs(z) * tg.abs(z),
    lambda z: tg.math.real(z * tg.math.conj(z)),
    lambda z: tg.math.real(z) ** 2 + tg.math.imag(z) ** 2,
], ids=["abs_of_square", "abs_times_abs", "real_z_conj_z", "re2_plus_im2"])
def test_gradient_of_squared_modulus_is_2z(f):
    # |z|^2 = x^2 + y^2: dL/dx + i dL/dy = 2x + 2iy = 2z (TensorFlow gives 2+4j at 1+2j).
    y, g = _grad(f)
    assert y.dtype == tg.float64 and g.dtype == tg.complex128
    np.testing.assert_allclose(g.numpy(), 2 * Z, rtol=1e-12)


def test_real_part_of_a_holomorphic_function_gives_conj_of_its_derivative():
    # Re(f(z)) with f holomorphic: dL/dx + i dL/dy = conj(f'(z)) (Cauchy-Riemann).
    _, g = _grad(lambda z: tg.math.real(tg.exp(z) * z))
    np.testing.assert_allclose(g.numpy(), np.conj(np.exp(Z) * (1 + Z)), rtol=1e-12)


def test_a_complex_target_is_differentiated_through_its_real_part():
    _, g = _grad(lambda z: z * z)
    np.testing.assert_allclose(g.numpy(), np.conj(2 * Z), rtol=1e-12)


def test_imag_and_angle_gradients():
    _, g = _grad(tg.math.imag)
    np.testing.assert_allclose(g.numpy(), 1j)
    _, g = _grad(tg.math.angle)  # angle = atan2(y, x): (-y + ix) / |z|^2
    np.testing.assert_allclose(g.numpy(), (-Z.imag + 1j * Z.real) / abs(Z) ** 2, rtol=1e-12)


@pytest.mark.parametrize("dtype, real", [(tg.complex64, tg.float32), (tg.complex128, tg.float64)])
def test_real_imag_abs_angle_give_the_real_dtype(dtype, real):
    z = tg.constant([1 + 2j, -3 + 0.5j], dtype)
    for f in (tg.math.real, tg.math.imag, tg.abs, tg.math.angle):
        assert f(z).dtype == real, f
    assert tg.math.conj(z).dtype == dtype
    np.testing.assert_array_equal(tg.math.imag(z).numpy(), np.array([2, 0.5], real.as_numpy_dtype))


def test_on_real_tensors_real_imag_conj_are_tensorflows():
    x = tg.constant([1.5, -2.0])
    np.testing.assert_array_equal(tg.math.real(x).numpy(), x.numpy())
    np.testing.assert_array_equal(tg.math.conj(x).numpy(), x.numpy())
    np.testing.assert_array_equal(tg.math.imag(x).numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(tg.math.angle(x).numpy(), np.float32([0.0, np.pi]))
    assert tg.math.imag(x).dtype == tg.float32


def test_gradient_crosses_from_real_to_complex_and_back():
    x = tg.Variable(0.7, dtype=tg.float64)
    with tg.GradientTape() as tape:
        z = tg.cast(x, tg.complex128) * tg.constant(1 + 1j)
        y = tg.abs(z)  # sqrt(2) |x|
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.sqrt(2), rtol=1e-12)


def test_cast_of_complex_to_real_keeps_the_real_part_quietly():
    with np.testing.assert_no_warnings():
        out = tg.cast(tg.constant([1 + 2j]), tg.float32)
    np.testing.assert_array_equal(out.numpy(), [1.0])


@pytest.mark.parametrize("f, tangent", [
    (tg.abs, lambda z, t: np.real(np.conj(z / abs(z)) * t)),
    (tg.math.real, lambda z, t: t.real),
    (tg.math.imag, lambda z, t: t.imag),
    (tg.math.conj, lambda z, t: np.conj(t)),
    (tg.math.angle, lambda z, t: np.imag(t / z)),
    (lambda z: z * tg.exp(z), lambda z, t: (1 + z) * np.exp(z) * t),
], ids=["abs", "real", "imag", "conj", "angle", "holomorphic"])
def test_forward_mode_along_complex_tangents(f, tangent):
    z, t = np.complex128(0.6 - 1.3j), np.complex128(-0.4 + 0.9j)
    _, dy = tg.jvp(f, (tg.constant(z),), (tg.constant(t),))
    np.testing.assert_allclose(dy.numpy(), tangent(z, t), rtol=1e-12)


@pytest.mark.parametrize("f", [tg.sqrt, tg.math.rsqrt, tg.sigmoid, tg.sign, tg.nn.relu, tg.reduce_prod,
                               lambda z: z ** 2.0, tg.norm, tg.nn.l2_loss, lambda z: tg.maximum(z, z)])
def test_ops_without_tensorflows_convention_refuse_complex_with_a_fix(f):
    with pytest.raises(TypeError, match=r"complex.*(tg\.math\.real|tg\.abs)|complex128 tensors"):
        f(tg.constant([1 + 2j]))


def test_squared_difference_of_complex_is_tensorflows():
    x, y = tg.constant([1 + 2j]), tg.constant([0.5 - 1j])
    np.testing.assert_allclose(tg.math.squared_difference(x, y).numpy(), [abs(0.5 + 3j) ** 2], rtol=1e-12)
