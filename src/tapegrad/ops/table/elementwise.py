"""Element-wise ops: arithmetic, functions of one input, complex parts, where, and the non-differentiable ones."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import READ, Primitive
from tapegrad._core.state import STATE
from tapegrad._core.tensor import wrap

from .. import kernels as K
from ._helpers import (
    _COMPLEX,
    BATCHED_JVPS,
    _c,
    _lead,
    _tan_or_zero,
    _times,
    _unbroadcast,
    _unseen,
    binary,
    guarded,
    lifted,
    linear,
    nondiff,
    unary,
)

# ---- arithmetic ---------------------------------------------------------------------------------
# Python's operators give NumPy's results on arrays and NumPy scalars, and on scalars they take
# NumPy's fast scalar path instead of the ufunc machinery (several times quicker on the 0-d
# values descent loops are made of).
add = binary("add", operator.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g,
             tx=lambda t, ans, x, y: t, ty=lambda t, ans, x, y: t)
subtract = binary("subtract", operator.sub, lambda g, ans, x, y: g, lambda g, ans, x, y: -g,
                  tx=lambda t, ans, x, y: t, ty=lambda t, ans, x, y: -t)
# (_c inlined: the commonest rule of all)
multiply = binary("multiply", operator.mul,
                  lambda g, ans, x, y: g * (F.conj(y) if y._value.dtype in _COMPLEX else y),
                  lambda g, ans, x, y: g * (F.conj(x) if x._value.dtype in _COMPLEX else x),
                  tx=lambda t, ans, x, y: t * y, ty=lambda t, ans, x, y: x * t)
divide = binary("divide", K.truediv, lambda g, ans, x, y: g / _c(y), lambda g, ans, x, y: -g * _c(ans) / _c(y),
                tx=lambda t, ans, x, y: t / y, ty=lambda t, ans, x, y: -t * ans / y)


def _log_or_zero(x: Any) -> Any:
    pos = x > 0
    return F.where(pos, F.log(F.where(pos, x, F.ones_like(x))), F.zeros_like(x))


def _pow_dx(g: Any, ans: Any, x: Any, y: Any) -> Any:
    v = y._value
    # x ** 2, the commonest power by far, gets a two-op rule instead of four. The choice reads y's
    # value, so under tg.function it is made only for a constant y (a traced y may change).
    if v.ndim == 0 and v == 2 and (STATE.trace is None or not STATE.trace.tracks(y)):
        return _times(g, x + x, ans)
    return g * y * x ** (y - 1)


pow = binary("pow", K.power, _pow_dx, lambda g, ans, x, y: g * ans * _log_or_zero(x),
             tx=lambda t, ans, x, y: t * y * x ** (y - 1), ty=lambda t, ans, x, y: t * ans * _log_or_zero(x))
floormod = binary("floormod", K.floormod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * F.floordiv(x, y),
                  tx=lambda t, ans, x, y: t, ty=lambda t, ans, x, y: -t * F.floordiv(x, y))
maximum = binary("maximum", xp.maximum,
                 lambda g, ans, x, y: F.where(x >= y, g, 0),
                 lambda g, ans, x, y: F.where(x >= y, 0, g),
                 jvp=lambda t, ans, x, y: F.where(x >= y, _tan_or_zero(t[0], ans), _tan_or_zero(t[1], ans)))
minimum = binary("minimum", xp.minimum,
                 lambda g, ans, x, y: F.where(x <= y, g, 0),
                 lambda g, ans, x, y: F.where(x <= y, 0, g),
                 jvp=lambda t, ans, x, y: F.where(x <= y, _tan_or_zero(t[0], ans), _tan_or_zero(t[1], ans)))
negative = linear("negative", operator.neg, (lambda g, ans, x: -g,), elementwise=True)
identity = linear("identity", lambda x: x, (lambda g, ans, x: g,), elementwise=True)
BATCHED_JVPS[READ] = READ.jvp  # type: ignore[assignment]
# TensorFlow's guarded products: 0 wherever y is 0, even where x is inf or NaN.
multiply_no_nan = binary("multiply_no_nan", K.mul_no_nan,
                         lambda g, ans, x, y: F.multiply_no_nan(g, y), lambda g, ans, x, y: F.multiply_no_nan(x, g),
                         tx=lambda t, ans, x, y: F.multiply_no_nan(t, y),
                         ty=lambda t, ans, x, y: F.multiply_no_nan(x, t))
divide_no_nan = binary("divide_no_nan", K.div_no_nan,
                       lambda g, ans, x, y: F.divide_no_nan(g, y),
                       lambda g, ans, x, y: g * F.divide_no_nan(F.divide_no_nan(-x, y), y),
                       tx=lambda t, ans, x, y: F.divide_no_nan(t, y),
                       ty=lambda t, ans, x, y: t * F.divide_no_nan(F.divide_no_nan(-x, y), y))

# ---- element-wise functions ---------------------------------------------------------------------
square = unary("square", lambda x: x * x, lambda x, ans: x + x)  # x + x: 2x exactly, no constant to convert
sqrt = guarded("sqrt", xp.sqrt, lambda x, ans: 0.5 / ans)
rsqrt = guarded("rsqrt", lambda x: 1 / xp.sqrt(x), lambda x, ans: -0.5 * ans * ans * ans)
exp = unary("exp", xp.exp, lambda x, ans: ans)
expm1 = unary("expm1", xp.expm1, lambda x, ans: ans + 1)
log = unary("log", xp.log, over=lambda x, ans: x)
log1p = unary("log1p", xp.log1p, over=lambda x, ans: 1 + x)
reciprocal = guarded("reciprocal", xp.reciprocal, lambda x, ans: -ans * ans)
sin = unary("sin", xp.sin, lambda x, ans: F.cos(x))
cos = unary("cos", xp.cos, lambda x, ans: -F.sin(x))
tan = unary("tan", xp.tan, lambda x, ans: 1 + ans * ans)
asin = unary("asin", xp.arcsin, lambda x, ans: F.rsqrt(1 - x * x))
acos = unary("acos", xp.arccos, lambda x, ans: -F.rsqrt(1 - x * x))
atan = unary("atan", xp.arctan, over=lambda x, ans: 1 + x * x)
sinh = unary("sinh", xp.sinh, lambda x, ans: F.cosh(x))
cosh = unary("cosh", xp.cosh, lambda x, ans: F.sinh(x))
tanh = unary("tanh", xp.tanh, lambda x, ans: 1 - ans * ans)
sigmoid = unary("sigmoid", K.sigmoid, lambda x, ans: ans * (1 - ans))
# sigmoid(x) = 1 - exp(-softplus(x)): written with the answer, expm1 keeps it exact where it is tiny.
softplus = unary("softplus", K.softplus, lambda x, ans: -F.expm1(-ans))
sign = Primitive("sign", xp.sign, (lambda g, ans, x: F.zeros_like(g),),
                 jvp=lambda t, ans, x: F.zeros_like(ans), batched=True)


def _relu_vjp(g: Any, ans: Any, x: Any) -> Any:
    # TensorFlow's ReluGrad, g * (x > 0): a NaN or inf in g gives NaN where x <= 0 too (inf * 0).
    if _unseen(g, ans) and type(x._value) is xp.ndarray:  # one multiply by the mask, no op dispatch
        v = g._value
        with xp.errstate(invalid="ignore"):  # (TensorFlow is silent about inf * 0 here)
            return wrap(xp.multiply(v, x._value > 0, dtype=v.dtype))
    return g * F.cast(x > 0, g.dtype)


relu = Primitive("relu", K.relu, (_relu_vjp,), jvp=lambda t, ans, x: t[0] * F.cast(x > 0, t[0].dtype),
                 batched=True)
BATCHED_JVPS[sign] = sign.jvp  # type: ignore[assignment]
BATCHED_JVPS[relu] = relu.jvp  # type: ignore[assignment]


def _direction(x: Any, ans: Any) -> Any:
    """x / |x| for a complex x (0 at 0), given ans = |x|."""
    return x / F.cast(F.where(F.equal(ans, 0), F.ones_like(ans), ans), x.dtype)


def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    if x._value.dtype in _COMPLEX:  # d|z| = Re(conj(z/|z|) dz): the cotangent is g z/|z|
        return F.cast(g, x.dtype) * _direction(x, ans)
    return _times(g, F.sign(x), ans)


def _abs_jvp(t: tuple, ans: Any, x: Any) -> Any:
    if x._value.dtype in _COMPLEX:
        return F.real(F.conj(_direction(x, ans)) * t[0])
    return t[0] * F.sign(x)


abs = Primitive("abs", xp.abs, (_abs_vjp,), jvp=_abs_jvp, batched=True)
BATCHED_JVPS[abs] = _abs_jvp

# ---- complex parts ------------------------------------------------------------------------------


def _complex_part(g: Any, x: Any, unit: complex) -> Any:
    """The cotangent of x from a real cotangent g of Re(conj(unit) x): g * unit."""
    return F.cast(g, x.dtype) * unit


def _zero_if_real(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A rule for a complex x; for a real x the op is constant in x (imag, angle), so its cotangent is 0."""
    return lambda g, ans, x: fn(g, ans, x) if x._value.dtype in _COMPLEX else F.zeros_like(g)


# real, imag, conj and angle of a real x are x, 0, x and 0 or pi, as in TensorFlow. The first three
# are linear over the reals.
real = linear("real", xp.real, (lambda g, ans, x: _complex_part(g, x, 1) if x._value.dtype in _COMPLEX else g,),
              elementwise=True)
imag = linear("imag", xp.imag, (_zero_if_real(lambda g, ans, x: _complex_part(g, x, 1j)),), elementwise=True)
conj = linear("conj", xp.conj, (lambda g, ans, x: F.conj(g),), elementwise=True)
# d angle(z) = Im(dz / z): the cotangent is g i / conj(z) (TensorFlow's; NaN at 0, as there).
angle = Primitive("angle", K.angle, (_zero_if_real(lambda g, ans, x: _complex_part(g, x, 1j) / F.conj(x)),),
                  jvp=lambda t, ans, x: F.imag(t[0] / x) if x._value.dtype in _COMPLEX else F.zeros_like(ans),
                  batched=True)
BATCHED_JVPS[angle] = angle.jvp  # type: ignore[assignment]

# ---- selection ----------------------------------------------------------------------------------
where = Primitive(
    "where", K.where,
    (None,
     lambda g, ans, c, x, y: _unbroadcast(F.where(c, g, 0), x._value.shape, _lead(g, ans)),
     lambda g, ans, c, x, y: _unbroadcast(F.where(c, 0, g), y._value.shape, _lead(g, ans))),
    jvp=lambda t, ans, c, x, y: F.where(c, _tan_or_zero(t[1], ans), _tan_or_zero(t[2], ans)), batched=True)
BATCHED_JVPS[where] = lifted(where.jvp)  # type: ignore[arg-type]

# ---- not differentiable -------------------------------------------------------------------------
floordiv = nondiff("floordiv", K.floordiv)
truncatediv = nondiff("truncatediv", K.truncatediv)
bitwise_and = nondiff("bitwise_and", xp.bitwise_and)
bitwise_or = nondiff("bitwise_or", xp.bitwise_or)
bitwise_xor = nondiff("bitwise_xor", xp.bitwise_xor)
invert = nondiff("invert", xp.invert)
equal = nondiff("equal", xp.equal)
not_equal = nondiff("not_equal", xp.not_equal)
less = nondiff("less", xp.less)
less_equal = nondiff("less_equal", xp.less_equal)
greater = nondiff("greater", xp.greater)
greater_equal = nondiff("greater_equal", xp.greater_equal)
logical_and = nondiff("logical_and", xp.logical_and)
logical_or = nondiff("logical_or", xp.logical_or)
logical_xor = nondiff("logical_xor", xp.logical_xor)
logical_not = nondiff("logical_not", xp.logical_not)
floor = nondiff("floor", xp.floor)
ceil = nondiff("ceil", xp.ceil)
round = nondiff("round", K.rint)
is_nan = nondiff("is_nan", xp.isnan)
is_inf = nondiff("is_inf", xp.isinf)
is_finite = nondiff("is_finite", xp.isfinite)
stop_gradient = nondiff("stop_gradient", lambda x: x)
