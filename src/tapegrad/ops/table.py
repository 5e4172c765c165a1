"""THE derivative table: one Primitive per operation.

Conventions in every rule: ``g`` is the incoming cotangent, ``ans`` the op's output,
``x``/``y`` its inputs (Tensors), ``t`` the tuple of input tangents (None where an
input has none). Rules call public ops through ``F`` (looked up at call time), never
NumPy, so a rule run under an outer tape is itself recorded: higher orders for free.
Binary rules return the cotangent at the broadcast shape; ``binary`` sums it back
down to each input's shape, the one place broadcasting is undone.
Forwards reach arrays only through ``xp`` (see ``_core.backend``).

Complex inputs follow TensorFlow's convention: the gradient of a real loss L with respect to
z = x + iy is dL/dx + i dL/dy, so a holomorphic f's rule is ``g * conj(f'(z))``. Only the ops in
``COMPLEX`` take complex tensors (their wrappers refuse them elsewhere): no rule may answer in
another convention.

Every rule here is ``batched``: ``g`` may carry leading batch axes (``_lead(g, ans)``, one
Jacobian row each), and a rule that names a shape or an axis puts them in front. Element-wise
rules need nothing: broadcasting aligns shapes from the right.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.backward import Seed
from tapegrad._core.errors import InvalidArgumentError
from tapegrad._core.record import Primitive
from tapegrad._core.state import STATE


def _lead(g: Any, ans: Any) -> tuple:
    """The batch axes ``g`` carries in front of the output's shape (none outside ``jacobian``)."""
    n = g._value.ndim - ans._value.ndim
    return g._value.shape[:n] if n > 0 else ()


def _times(g: Any, d: Any, ans: Any) -> Any:
    """``g * d``; just ``d`` when g is backward's seed (ones of ans's shape) and d has ans's shape too."""
    if type(g) is Seed and d._value.shape == ans._value.shape:
        return d  # 1 * d == d exactly: one op fewer on the first rule of every walk
    return g * d


def _unbroadcast(r: Any, shape: tuple, lead: tuple) -> Any:
    """``r`` (lead + a broadcast shape) summed down to lead + ``shape``."""
    if not lead:
        return F.sum_to(r, shape)
    extra = r._value.ndim - len(lead) - len(shape)
    full = lead + (1,) * extra + tuple(shape)
    out = F.sum_to(r, full)
    return F.reshape(out, lead + tuple(shape)) if extra else out


def _add_tangents(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


_COMPLEX = frozenset({xp.dtype(xp.complex64), xp.dtype(xp.complex128)})  # (a set lookup: quicker than .kind)
_INTS = frozenset(xp.dtype(t) for t in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8))


def _c(x: Any) -> Any:
    """conj(x) for a complex x, x itself otherwise: a cotangent is ``g * conj(derivative)``."""
    return F.conj(x) if x._value.dtype in _COMPLEX else x


def unary(name: str, forward: Callable[..., Any], d: Callable[[Any, Any], Any] | None = None,
          over: Callable[[Any, Any], Any] | None = None) -> Primitive:
    """An element-wise op of one input, given its derivative ``d(x, ans)`` or as ``1 / over(x, ans)``.

    The second form divides instead of multiplying by a reciprocal: one pass over the data fewer.
    Both hold for a holomorphic op on complex inputs (the derivative conjugated in the cotangent).
    """
    if over is not None:
        return Primitive(name, forward, (lambda g, ans, x: g / _c(over(x, ans)),),
                         jvp=lambda t, ans, x: t[0] / over(x, ans), kind="elementwise", batched=True)
    return Primitive(name, forward, (lambda g, ans, x: _times(g, _c(d(x, ans)), ans),),
                     jvp=lambda t, ans, x: t[0] * d(x, ans), kind="elementwise", batched=True)


def binary(name: str, forward: Callable[..., Any], dx: Callable[..., Any] | None, dy: Callable[..., Any] | None,
           jvp: Callable[..., Any] | None = None) -> Primitive:
    """An element-wise op of two broadcasting inputs; ``dx``/``dy`` give cotangents at the output's shape."""
    def wrap_rule(rule: Callable[..., Any] | None, which: int) -> Callable[..., Any] | None:
        if rule is None:
            return None

        def vjp(g: Any, ans: Any, x: Any, y: Any) -> Any:
            r = rule(g, ans, x, y)
            shape = (x, y)[which]._value.shape
            if r._value.shape == shape:
                return r
            return _unbroadcast(r, shape, _lead(g, ans))
        return vjp
    return Primitive(name, forward, (wrap_rule(dx, 0), wrap_rule(dy, 1)), jvp=jvp, kind="binary", batched=True)


def nondiff(name: str, forward: Callable[..., Any]) -> Primitive:
    """Integer, boolean or piecewise-constant results: not differentiable by declaration."""
    return Primitive(name, forward, None, kind="nondifferentiable")


class _Each:
    """The rule of input k of a variadic op (concat)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __getitem__(self, k: int) -> Callable[..., Any]:
        return lambda g, ans, *xs, **p: self.fn(k, g, ans, *xs, **p)


# ---- arithmetic ---------------------------------------------------------------------------------
# Python's operators give NumPy's results on arrays and NumPy scalars, and on scalars they take
# NumPy's fast scalar path instead of the ufunc machinery (several times quicker on the 0-d
# values descent loops are made of).
add = binary("add", operator.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g,
             jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(t[0], t[1]), ans._value.shape))
subtract = binary("subtract", operator.sub, lambda g, ans, x, y: g, lambda g, ans, x, y: -g,
                  jvp=lambda t, ans, x, y: F.broadcast_to(
                      _add_tangents(t[0], None if t[1] is None else -t[1]), ans._value.shape))
# (_c inlined: the commonest rule of all)
multiply = binary("multiply", operator.mul,
                  lambda g, ans, x, y: g * (F.conj(y) if y._value.dtype in _COMPLEX else y),
                  lambda g, ans, x, y: g * (F.conj(x) if x._value.dtype in _COMPLEX else x),
                  jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                      None if t[0] is None else t[0] * y, None if t[1] is None else x * t[1]), ans._value.shape))


def _truediv(x: Any, y: Any) -> Any:
    if x.dtype in _INTS:  # TensorFlow: 8- and 16-bit integers divide in float32, wider ones in float64
        return xp.true_divide(x, y, dtype=xp.float32 if x.dtype.itemsize <= 2 else xp.float64)
    return x / y


divide = binary("divide", _truediv, lambda g, ans, x, y: g / _c(y), lambda g, ans, x, y: -g * _c(ans) / _c(y),
                jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                    None if t[0] is None else t[0] / y, None if t[1] is None else -t[1] * ans / y),
                    ans._value.shape))


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


def _power(x: Any, y: Any) -> Any:
    if x.dtype in _INTS and (y < 0).any():
        raise InvalidArgumentError("pow: integers to negative integer powers are not allowed (as in TensorFlow); "
                                   "cast to float first: tg.cast(x, tg.float32)")
    if y.ndim == 0 and y == 2 and x.dtype.kind in "fiu":
        return x * x  # the same values as xp.power(x, 2), ten times quicker on the scalars of a descent
    return xp.power(x, y)


pow = binary("pow", _power,
             _pow_dx,
             lambda g, ans, x, y: g * ans * _log_or_zero(x),
             jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                 None if t[0] is None else t[0] * y * x ** (y - 1),
                 None if t[1] is None else t[1] * ans * _log_or_zero(x)), ans._value.shape))
def _nonzero_divisor(op: str, x: Any, y: Any) -> None:
    if x.dtype in _INTS and not y.all():
        raise InvalidArgumentError(f"{op}: integer division by zero (as in TensorFlow); make the divisor nonzero "
                                   "or divide in floating point: tg.cast(x, tg.float32)")


def _floormod(x: Any, y: Any) -> Any:
    _nonzero_divisor("floormod", x, y)
    return xp.mod(x, y)


def _floordiv(x: Any, y: Any) -> Any:
    _nonzero_divisor("floordiv", x, y)
    return xp.floor_divide(x, y)


def _truncatediv(x: Any, y: Any) -> Any:
    _nonzero_divisor("truncatediv", x, y)
    if x.dtype.kind == "f":
        return xp.trunc(x / y)
    return (x - xp.fmod(x, y)) // y  # fmod keeps x's sign: what is left divides exactly


floormod = binary("floormod", _floormod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * F.floordiv(x, y),
                  jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                      t[0], None if t[1] is None else -t[1] * F.floordiv(x, y)), ans._value.shape))
maximum = binary("maximum", xp.maximum,
                 lambda g, ans, x, y: F.where(x >= y, g, 0),
                 lambda g, ans, x, y: F.where(x >= y, 0, g),
                 jvp=lambda t, ans, x, y: F.where(x >= y, _tan_or_zero(t[0], ans), _tan_or_zero(t[1], ans)))
minimum = binary("minimum", xp.minimum,
                 lambda g, ans, x, y: F.where(x <= y, g, 0),
                 lambda g, ans, x, y: F.where(x <= y, 0, g),
                 jvp=lambda t, ans, x, y: F.where(x <= y, _tan_or_zero(t[0], ans), _tan_or_zero(t[1], ans)))


def _tan_or_zero(t: Any, ans: Any) -> Any:
    return F.broadcast_to(t, ans._value.shape) if t is not None else F.zeros_like(ans)


negative = Primitive("negative", operator.neg, (lambda g, ans, x: -g,), jvp=lambda t, ans, x: -t[0], kind="linear",
                     batched=True)
identity = Primitive("identity", lambda x: x, (lambda g, ans, x: g,), jvp=lambda t, ans, x: t[0], kind="linear",
                     batched=True)



def _mul_no_nan(x: Any, y: Any) -> Any:
    with xp.errstate(invalid="ignore"):  # inf * 0, which the where then replaces
        return xp.where(y == 0, xp.zeros((), xp.result_type(x, y)), x * y)


def _div_no_nan(x: Any, y: Any) -> Any:
    zero = y == 0
    with xp.errstate(divide="ignore", invalid="ignore"):
        q = _truediv(x, xp.where(zero, xp.ones((), y.dtype), y))  # integers divide as in divide
        return xp.where(zero, xp.zeros((), q.dtype), q)


# TensorFlow's guarded products: 0 wherever y is 0, even where x is inf or NaN.
multiply_no_nan = binary("multiply_no_nan", _mul_no_nan,
                         lambda g, ans, x, y: F.multiply_no_nan(g, y), lambda g, ans, x, y: F.multiply_no_nan(x, g),
                         jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                             None if t[0] is None else F.multiply_no_nan(t[0], y),
                             None if t[1] is None else F.multiply_no_nan(x, t[1])), ans._value.shape))
divide_no_nan = binary("divide_no_nan", _div_no_nan,
                       lambda g, ans, x, y: F.divide_no_nan(g, y),
                       lambda g, ans, x, y: g * F.divide_no_nan(F.divide_no_nan(-x, y), y),
                       jvp=lambda t, ans, x, y: F.broadcast_to(_add_tangents(
                           None if t[0] is None else F.divide_no_nan(t[0], y),
                           None if t[1] is None else t[1] * F.divide_no_nan(F.divide_no_nan(-x, y), y)),
                           ans._value.shape))


def guarded(name: str, forward: Callable[..., Any], d: Callable[[Any, Any], Any]) -> Primitive:
    """An element-wise op whose derivative ``d`` is infinite somewhere: where the incoming gradient is 0, so is
    the outgoing one (TensorFlow's sqrt, rsqrt and reciprocal kernels), so ``where(x > 0, sqrt(x), 0)`` and
    ``sqrt(x) * 0`` have gradient 0 at x = 0, not NaN."""
    def vjp(g: Any, ans: Any, x: Any) -> Any:
        if type(g) is Seed and g._value.shape == ans._value.shape:
            return d(x, ans)  # the seed is all ones: nothing to guard
        return F.multiply_no_nan(d(x, ans), g)
    return Primitive(name, forward, (vjp,), jvp=lambda t, ans, x: F.multiply_no_nan(d(x, ans), t[0]),
                     kind="elementwise", batched=True)


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


abs = Primitive("abs", xp.abs, (_abs_vjp,), jvp=_abs_jvp, kind="elementwise", batched=True)


def _complex_part(g: Any, x: Any, unit: complex) -> Any:
    """The cotangent of x from a real cotangent g of Re(conj(unit) x): g * unit."""
    return F.cast(g, x.dtype) * unit


def _zero_if_real(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A rule for a complex x; for a real x the op is constant in x (imag, angle), so its cotangent is 0."""
    return lambda g, ans, x: fn(g, ans, x) if x._value.dtype in _COMPLEX else F.zeros_like(g)


def _angle(x: Any) -> Any:
    out = xp.angle(x)
    real = x.real.dtype if x.dtype.kind in "fc" else out.dtype
    return out.astype(real, copy=False)


# real, imag, conj and angle of a real x are x, 0, x and 0 or pi, as in TensorFlow.
real = Primitive("real", xp.real, (lambda g, ans, x: _complex_part(g, x, 1) if x._value.dtype in _COMPLEX else g,),
                 jvp=lambda t, ans, x: F.real(t[0]), kind="linear", batched=True)
imag = Primitive("imag", xp.imag, (_zero_if_real(lambda g, ans, x: _complex_part(g, x, 1j)),),
                 jvp=lambda t, ans, x: F.imag(t[0]), kind="linear", batched=True)
conj = Primitive("conj", xp.conj, (lambda g, ans, x: F.conj(g),), jvp=lambda t, ans, x: F.conj(t[0]),
                 kind="linear", batched=True)
# d angle(z) = Im(dz / z): the cotangent is g i / conj(z) (TensorFlow's; NaN at 0, as there).
angle = Primitive("angle", _angle, (_zero_if_real(lambda g, ans, x: _complex_part(g, x, 1j) / F.conj(x)),),
                  jvp=lambda t, ans, x: F.imag(t[0] / x) if x._value.dtype in _COMPLEX else F.zeros_like(ans),
                  kind="elementwise", batched=True)


def _big_float(x: Any) -> bool:
    """An array worth working on in place (a NumPy scalar cannot be written into)."""
    return type(x) is xp.ndarray and x.ndim > 0 and x.dtype.kind == "f"


def _sigmoid(x: Any) -> Any:
    if _big_float(x):
        # 1 / (1 + exp(-x)) in one buffer; exp(-x) overflowing to inf (x < -709) gives the right 0.
        with xp.errstate(over="ignore"):
            r = xp.negative(x)
            xp.exp(r, out=r)
        r += 1
        return xp.reciprocal(r, out=r)
    # exp of -|x| never overflows: stable for large inputs of either sign.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _softplus(x: Any) -> Any:
    if _big_float(x):
        # max(x, 0) + log(1 + exp(-|x|)) in one buffer: NumPy's logaddexp is a scalar loop, 2x slower.
        t = xp.abs(x)
        xp.negative(t, out=t)
        xp.exp(t, out=t)
        xp.log1p(t, out=t)
        t += xp.maximum(x, 0)
        return t
    return xp.logaddexp(xp.zeros((), x.dtype), x)


sigmoid = unary("sigmoid", _sigmoid, lambda x, ans: ans * (1 - ans))
# sigmoid(x) = 1 - exp(-softplus(x)): written with the answer, expm1 keeps it exact where it is tiny.
softplus = unary("softplus", _softplus, lambda x, ans: -F.expm1(-ans))
sign = Primitive("sign", xp.sign, (lambda g, ans, x: F.zeros_like(g),),
                 jvp=lambda t, ans, x: F.zeros_like(ans), kind="elementwise", batched=True)
relu = Primitive("relu", lambda x: xp.maximum(x, xp.zeros((), x.dtype)),
                 (lambda g, ans, x: F.where(x > 0, g, 0),),
                 jvp=lambda t, ans, x: F.where(x > 0, t[0], F.zeros_like(t[0])), kind="elementwise", batched=True)
_BITS = {4: xp.dtype(xp.uint32), 8: xp.dtype(xp.uint64)}


def _where(c: Any, x: Any, y: Any) -> Any:
    """xp.where; on large arrays of one 4- or 8-byte dtype, as a bitwise select.

    NumPy's where branches on every element, so a random mask (a ReLU's, say) costs ~10x
    an arithmetic pass; ``(x & m) | (y & ~m)`` with an all-ones mask selects the same bits.
    """
    dtype = x.dtype
    if c.size < 4096 or y.dtype != dtype or dtype.itemsize not in _BITS or dtype.kind not in "fiu":
        return xp.where(c, x, y)
    bits = _BITS[dtype.itemsize]
    m = c.astype(bits)
    xp.negative(m, out=m)  # 1 -> all ones
    xb = xp.asarray(x).view(bits)
    if y.ndim or y != 0 or xp.signbit(y):
        out = xp.bitwise_and(xb, m) | xp.bitwise_and(xp.asarray(y).view(bits), xp.invert(m, out=m))
    else:  # selecting +0.0 is all-zero bits; into the mask's buffer when the shapes allow
        out = xp.bitwise_and(xb, m, out=m if m.shape == xp.broadcast_shapes(m.shape, xb.shape) else None)
    return out.view(dtype)


where = Primitive(
    "where", _where,
    (None,
     lambda g, ans, c, x, y: _unbroadcast(F.where(c, g, 0), x._value.shape, _lead(g, ans)),
     lambda g, ans, c, x, y: _unbroadcast(F.where(c, 0, g), y._value.shape, _lead(g, ans))),
    jvp=lambda t, ans, c, x, y: F.where(c, _tan_or_zero(t[1], ans), _tan_or_zero(t[2], ans)), kind="select",
    batched=True)

# ---- not differentiable -------------------------------------------------------------------------
floordiv = nondiff("floordiv", _floordiv)
truncatediv = nondiff("truncatediv", _truncatediv)
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
round = nondiff("round", lambda x: x if x.dtype.kind in "iu" else xp.rint(x))  # integers are round already
is_nan = nondiff("is_nan", xp.isnan)
is_inf = nondiff("is_inf", xp.isinf)
is_finite = nondiff("is_finite", xp.isfinite)
argmax = nondiff("argmax", lambda x, axis, output_type: xp.argmax(x, axis=axis).astype(output_type))
argmin = nondiff("argmin", lambda x, axis, output_type: xp.argmin(x, axis=axis).astype(output_type))
reduce_all = nondiff("reduce_all", lambda x, axis, keepdims: xp.all(x, axis=axis, keepdims=keepdims))
reduce_any = nondiff("reduce_any", lambda x, axis, keepdims: xp.any(x, axis=axis, keepdims=keepdims))
stop_gradient = nondiff("stop_gradient", lambda x: x)

# ---- reductions ---------------------------------------------------------------------------------


def kept_shape(shape: tuple, axis: tuple | None) -> tuple:
    """``shape`` with the reduced axes kept as 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _restore(g: Any, x: Any, axis: tuple | None, lead: tuple = ()) -> Any:
    return F.reshape(g, lead + kept_shape(x._value.shape, axis))


def _max_vjp(g: Any, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    # Ties share the gradient equally, as in TensorFlow.
    mask = F.cast(F.equal(x, _restore(ans, x, axis)), g.dtype)
    return _restore(g, x, axis, _lead(g, ans)) * mask / F.reduce_sum(mask, axis, keepdims=True)


def _max_jvp(t: tuple, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    mask = F.cast(F.equal(x, _restore(ans, x, axis)), ans.dtype)
    s = F.reduce_sum(mask * t[0], axis, keepdims=keepdims)
    return s / F.reduce_sum(mask, axis, keepdims=keepdims)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
    lead = _lead(g, ans)
    if axis is not None or lead:  # (a scalar broadcasts as it is)
        g = _restore(g, x, axis, lead)
    return F.broadcast_to(g, lead + x._value.shape)


def _keep_int(x: Any) -> Any:
    """The dtype to reduce integers in: their own, as TensorFlow does (NumPy widens them to int64)."""
    return x.dtype if x.dtype in _INTS else None


reduce_sum = Primitive(
    "reduce_sum", lambda x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims, dtype=_keep_int(x)),
    (_sum_vjp,),
    jvp=lambda t, ans, x, axis, keepdims: F.reduce_sum(t[0], axis, keepdims), kind="linear", batched=True)
reduce_max = Primitive("reduce_max", lambda x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                       (_max_vjp,), jvp=_max_jvp, kind="reduction", batched=True)
reduce_min = Primitive("reduce_min", lambda x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
                       (_max_vjp,), jvp=_max_jvp, kind="reduction", batched=True)


def _others(x: Any, axis: tuple | None) -> Any:
    """d prod / d x_i: the product of the other elements along ``axis``, exact where x has zeros.

    TensorFlow's rule: the reduced axes moved to the front and flattened, then the products to the left
    and to the right of each element (two exclusive cumprods), never ``prod / x_i``.
    """
    shape = x._value.shape
    reduced = tuple(range(len(shape))) if axis is None else tuple(axis)
    kept = tuple(i for i in range(len(shape)) if i not in reduced)
    perm = reduced + kept
    m = 1
    for i in reduced:
        m *= shape[i]
    flat = F.reshape(F.transpose(x, perm), (m, -1))
    both = F.cumprod(flat, 0, True, False) * F.cumprod(flat, 0, True, True)
    back = F.reshape(both, tuple(shape[i] for i in perm))
    return F.transpose(back, tuple(int(i) for i in xp.argsort(perm)))


reduce_prod = Primitive(
    "reduce_prod", lambda x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims, dtype=_keep_int(x)),
    (lambda g, ans, x, axis, keepdims: _restore(g, x, axis, _lead(g, ans)) * _others(x, axis),),
    jvp=lambda t, ans, x, axis, keepdims: F.reduce_sum(_others(x, axis) * t[0], axis, keepdims),
    kind="reduction", batched=True)


def _cumprod(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    if reverse:
        x = xp.flip(x, axis)
    out = xp.cumprod(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = xp.concatenate([xp.ones_like(xp.take(out, [0], axis=axis)),
                              xp.take(out, xp.arange(out.shape[axis] - 1), axis=axis)], axis=axis)
    return xp.flip(out, axis) if reverse else out


# TensorFlow's rule, division by x included: exact except where x is 0 (where it gives 0).
cumprod = Primitive(
    "cumprod", _cumprod,
    (lambda g, ans, x, axis, exclusive, reverse: F.divide_no_nan(
        F.cumsum(ans * g, axis + len(_lead(g, ans)), exclusive, not reverse), x),),
    jvp=lambda t, ans, x, axis, exclusive, reverse: ans * F.cumsum(F.divide_no_nan(t[0], x), axis, exclusive,
                                                                   reverse),
    kind="reduction", batched=True)


def _cumsum(x: Any, axis: int, exclusive: bool, reverse: bool) -> Any:
    if reverse:
        x = xp.flip(x, axis)
    out = xp.cumsum(x, axis=axis, dtype=x.dtype)
    if exclusive:
        out = xp.concatenate([xp.zeros_like(xp.take(out, [0], axis=axis)),
                              xp.take(out, xp.arange(out.shape[axis] - 1), axis=axis)], axis=axis)
    return xp.flip(out, axis) if reverse else out


cumsum = Primitive("cumsum", _cumsum,
                   (lambda g, ans, x, axis, exclusive, reverse: F.cumsum(g, axis + len(_lead(g, ans)), exclusive,
                                                                         not reverse),),
                   jvp=lambda t, ans, x, axis, exclusive, reverse: F.cumsum(t[0], axis, exclusive, reverse),
                   kind="linear", batched=True)

# ---- softmax (TensorFlow's kernels: one op each, rules on the answer) ------------------------------


def _shift(x: Any, axis: tuple) -> Any:
    """x minus its max along ``axis``: exp of it cannot overflow."""
    return x - xp.max(x, axis=axis, keepdims=True)


def _softmax(x: Any, axis: tuple) -> Any:
    e = xp.exp(_shift(x, axis))
    e /= xp.sum(e, axis=axis, keepdims=True)
    return e


def _log_softmax(x: Any, axis: tuple) -> Any:
    s = _shift(x, axis)
    s -= xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))
    return s


def _axes(axis: tuple, g: Any, ans: Any) -> tuple:
    n = len(_lead(g, ans))
    return tuple(a + n for a in axis)


softmax = Primitive(
    "softmax", _softmax,
    (lambda g, ans, x, axis: (g - F.reduce_sum(g * ans, _axes(axis, g, ans), keepdims=True)) * ans,),
    jvp=lambda t, ans, x, axis: ans * (t[0] - F.reduce_sum(ans * t[0], axis, keepdims=True)),
    kind="reduction", batched=True)
log_softmax = Primitive(
    "log_softmax", _log_softmax,
    (lambda g, ans, x, axis: g - F.exp(ans) * F.reduce_sum(g, _axes(axis, g, ans), keepdims=True),),
    jvp=lambda t, ans, x, axis: t[0] - F.reduce_sum(F.exp(ans) * t[0], axis, keepdims=True),
    kind="reduction", batched=True)

# ---- shapes -------------------------------------------------------------------------------------


def _sum_to(x: Any, shape: tuple) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    out = xp.sum(x, axis=axes, keepdims=True) if axes else x
    return out.reshape(shape)


def _sum_to_vjp(g: Any, ans: Any, x: Any, shape: tuple) -> Any:
    lead = _lead(g, ans)
    if lead:  # line the summed-away axes up again before broadcasting past the batch axes
        g = F.reshape(g, lead + (1,) * (x._value.ndim - len(shape)) + tuple(shape))
    return F.broadcast_to(g, lead + x._value.shape)


def _transpose_vjp(g: Any, ans: Any, x: Any, perm: tuple) -> Any:
    n = len(_lead(g, ans))
    return F.transpose(g, tuple(range(n)) + tuple(n + int(i) for i in xp.argsort(perm)))


broadcast_to = Primitive("broadcast_to", lambda x, shape: xp.broadcast_to(x, shape),
                         (lambda g, ans, x, shape: _unbroadcast(g, x._value.shape, _lead(g, ans)),),
                         jvp=lambda t, ans, x, shape: F.broadcast_to(t[0], shape), kind="linear", batched=True)
sum_to = Primitive("sum_to", _sum_to, (_sum_to_vjp,),
                   jvp=lambda t, ans, x, shape: F.sum_to(t[0], shape), kind="linear", batched=True)
reshape = Primitive("reshape", lambda x, shape: xp.reshape(x, shape),
                    (lambda g, ans, x, shape: F.reshape(g, _lead(g, ans) + x._value.shape),),
                    jvp=lambda t, ans, x, shape: F.reshape(t[0], shape), kind="linear", batched=True)
transpose = Primitive("transpose", lambda x, perm: xp.transpose(x, perm), (_transpose_vjp,),
                      jvp=lambda t, ans, x, perm: F.transpose(t[0], perm), kind="linear", batched=True)


def _tile_vjp(g: Any, ans: Any, x: Any, multiples: tuple) -> Any:
    lead = _lead(g, ans)
    shape = x._value.shape
    split = []
    for m, s in zip(multiples, shape):
        split += [m, s]
    return F.reduce_sum(F.reshape(g, lead + tuple(split)), tuple(range(len(lead), len(lead) + 2 * len(shape), 2)))


tile = Primitive("tile", lambda x, multiples: xp.tile(x, multiples), (_tile_vjp,),
                 jvp=lambda t, ans, x, multiples: F.tile(t[0], multiples), kind="linear", batched=True)


def _concat_vjp(k: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    start = 0
    for x in xs[:k]:
        start += x._value.shape[axis]
    index = (slice(None),) * (axis + len(_lead(g, ans))) + (slice(start, start + xs[k]._value.shape[axis]),)
    return F.getitem(g, index)


concat = Primitive("concat", lambda *xs, axis: xp.concatenate(xs, axis=axis), _Each(_concat_vjp),
                   jvp=lambda t, ans, *xs, axis: F.concat(
                       [ti if ti is not None else F.zeros_like(x) for ti, x in zip(t, xs)], axis),
                   kind="linear", batched=True)


def _scatter(g: Any, index: tuple, shape: tuple) -> Any:
    out = xp.zeros(shape, dtype=g.dtype)
    if any(isinstance(k, xp.ndarray) for k in index):
        xp.add.at(out, index, g)
    else:
        out[index] = g
    return out


def _lead_index(index: tuple, n: int, ndim: int) -> tuple:
    """``index`` for an array with ``n`` batch axes in front, and the permutation its result needs.

    Advanced indices that slices separate put their broadcast axes first, in front of the
    batch axes: the permutation (None when not needed) moves the batch axes back to the front.
    """
    full = (slice(None),) * n + index
    arrays = [k for k in index if isinstance(k, xp.ndarray)]
    if not arrays:
        return full, None
    adv = [i for i, k in enumerate(index) if isinstance(k, (xp.ndarray, int, xp.integer)) and k is not True
           and k is not False]
    if adv == list(range(adv[0], adv[0] + len(adv))):
        return full, None
    nb = len(xp.broadcast_shapes(*[k.shape for k in arrays]))
    return full, tuple(range(nb, nb + n)) + tuple(range(nb)) + tuple(range(n + nb, ndim))


def _getitem_vjp(g: Any, ans: Any, x: Any, index: tuple) -> Any:
    lead = _lead(g, ans)
    if not lead:
        return F.scatter_index(g, index, x._value.shape)
    full, perm = _lead_index(index, len(lead), g._value.ndim)
    if perm is not None:  # g is lead + broadcast + rest; the indexed batch array wants broadcast + lead + rest
        g = F.transpose(g, tuple(int(i) for i in xp.argsort(perm)))
    return F.scatter_index(g, full, lead + x._value.shape)


def _scatter_vjp(g: Any, ans: Any, x: Any, index: tuple, shape: tuple) -> Any:
    lead = _lead(g, ans)
    if not lead:
        return F.getitem(g, index)
    full, perm = _lead_index(index, len(lead), len(lead) + x._value.ndim)
    r = F.getitem(g, full)
    return F.transpose(r, perm) if perm is not None else r


getitem = Primitive("getitem", lambda x, index: x[index], (_getitem_vjp,),
                    jvp=lambda t, ans, x, index: F.getitem(t[0], index), kind="linear", batched=True)
# The transpose of getitem: g added into zeros of ``shape`` at ``index`` (repeated indices add up).
scatter_index = Primitive("scatter_index", _scatter, (_scatter_vjp,),
                          jvp=lambda t, ans, x, index, shape: F.scatter_index(t[0], index, shape), kind="linear",
                          batched=True)


def _cast_vjp(g: Any, ans: Any, x: Any, dtype: Any) -> Any:
    return F.cast(g, x.dtype) if x._value.dtype.kind in "fc" else None


def _cast(x: Any, dtype: Any) -> Any:
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real  # TensorFlow keeps the real part (NumPy does too, with a warning)
    return x.astype(dtype, copy=False)


# Between real and complex dtypes the rule is TensorFlow's: real(g) one way, complex(g, 0) the other.
cast = Primitive("cast", _cast, (_cast_vjp,),
                 jvp=lambda t, ans, x, dtype: F.cast(t[0], ans.dtype), kind="linear", batched=True)

# ---- linear algebra -----------------------------------------------------------------------------


def _mT(x: Any) -> Any:
    n = x._value.ndim
    return F.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


matmul = Primitive(
    "matmul", xp.matmul,
    (lambda g, ans, a, b: _unbroadcast(F.matmul(g, _mT(_c(b))), a._value.shape, _lead(g, ans)),
     lambda g, ans, a, b: _unbroadcast(F.matmul(_mT(_c(a)), g), b._value.shape, _lead(g, ans))),
    jvp=lambda t, ans, a, b: _add_tangents(None if t[0] is None else F.matmul(t[0], b),
                                           None if t[1] is None else F.matmul(a, t[1])),
    kind="bilinear", batched=True)

# The differentiable ops whose rules follow TensorFlow's complex convention (checked against finite
# differences along the real and imaginary directions in tests/ops/test_gradients.py). Every other
# differentiable op refuses complex tensors when called.
COMPLEX = frozenset({
    "add", "subtract", "multiply", "divide", "negative", "identity", "square", "exp", "expm1", "log", "log1p",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "abs", "real", "imag", "conj", "angle",
    "reduce_sum", "cumsum", "broadcast_to", "sum_to", "reshape", "transpose", "tile", "concat", "getitem",
    "scatter_index", "where", "cast", "matmul",
})
