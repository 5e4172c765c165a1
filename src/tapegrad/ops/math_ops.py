"""Element-wise math, comparisons and reductions, under TensorFlow's names and signatures.

Each op names the dtype kinds it takes (``dtypes.KINDS``: what TensorFlow's kernels take, less
"c" where tapegrad's rule does not follow TensorFlow's complex convention, ``table.COMPLEX``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tapegrad._core.dtypes import as_dtype, int64, refusal
from tapegrad._core.errors import DTypeError
from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import accepts, axis_param, operand, pair, typed
from .array_ops import cast, reshape, where
from .constructors import zeros_like

TensorLike = Any


def _takes(prim: Any, takes: str) -> str:
    """The kinds ``prim`` takes: TensorFlow's, less complex where its rule does not follow TensorFlow's convention."""
    if prim.differentiable and prim.name not in T.COMPLEX:
        return takes.replace("c", "")
    return takes


def _document(op: Callable[..., Tensor], name: str, text: str, path: str, example: str,
              result: str) -> Callable[..., Tensor]:
    """``op`` named ``name``, its docstring ``text`` and the example ``tg.<path>(<example>)`` giving ``result``."""
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{text}\n\n    >>> import tapegrad as tg\n    >>> tg.{path}({example}).numpy()\n    {result}\n    "
    return op


def _unary(prim: Any, doc_expr: str, example: str, result: str, takes: str = "fc",
           ns: str = "math") -> Callable[..., Tensor]:
    name = prim.name
    takes = _takes(prim, takes)
    ok = accepts(takes)

    def op(x: TensorLike, name: str | None = None) -> Tensor:
        x = operand(x)
        if x._value.dtype not in ok:
            raise DTypeError(refusal(prim.name, x._value.dtype, takes))
        return apply(prim, (x,))

    return _document(op, prim.name, f"Element-wise {doc_expr}.", f"{ns + '.' if ns else ''}{name}", example, result)


square = _unary(T.square, "x * x", "3.0", "np.float32(9.0)", "fciu")
sqrt = _unary(T.sqrt, "square root; its gradient at 0 is inf, as in TensorFlow", "4.0", "np.float32(2.0)")
rsqrt = _unary(T.rsqrt, "1 / sqrt(x)", "4.0", "np.float32(0.5)")
exp = _unary(T.exp, "e ** x", "0.0", "np.float32(1.0)")
expm1 = _unary(T.expm1, "exp(x) - 1, accurate near 0", "0.0", "np.float32(0.0)")
log = _unary(T.log, "natural logarithm", "1.0", "np.float32(0.0)")
log1p = _unary(T.log1p, "log(1 + x), accurate near 0", "0.0", "np.float32(0.0)")
reciprocal = _unary(T.reciprocal, "1 / x", "4.0", "np.float32(0.25)")
sin = _unary(T.sin, "sine", "0.0", "np.float32(0.0)")
cos = _unary(T.cos, "cosine", "0.0", "np.float32(1.0)")
tan = _unary(T.tan, "tangent", "0.0", "np.float32(0.0)")
asin = _unary(T.asin, "arcsine", "0.0", "np.float32(0.0)")
acos = _unary(T.acos, "arccosine", "1.0", "np.float32(0.0)")
atan = _unary(T.atan, "arctangent", "0.0", "np.float32(0.0)")
sinh = _unary(T.sinh, "hyperbolic sine", "0.0", "np.float32(0.0)")
cosh = _unary(T.cosh, "hyperbolic cosine", "0.0", "np.float32(1.0)")
tanh = _unary(T.tanh, "hyperbolic tangent", "0.0", "np.float32(0.0)")
sigmoid = _unary(T.sigmoid, "logistic function 1 / (1 + exp(-x)), stable for large |x|", "0.0",
                 "np.float32(0.5)")
softplus = _unary(T.softplus, "log(1 + exp(x)), stable for large |x|", "0.0", "np.float32(0.6931472)", "f")
abs = _unary(T.abs, "absolute value (gradient sign(x), 0 at 0; |z| of a complex z is real)", "-2.0",
             "np.float32(2.0)", "fci")
sign = _unary(T.sign, "sign: -1, 0 or 1 (zero gradient)", "-2.0", "np.float32(-1.0)", "fci")
negative = _unary(T.negative, "negation", "2.0", "np.float32(-2.0)", "fci")
floor = _unary(T.floor, "floor (not differentiable)", "1.5", "np.float32(1.0)", "f")
ceil = _unary(T.ceil, "ceiling (not differentiable)", "1.5", "np.float32(2.0)", "f")
round = _unary(T.round, "round half to even (not differentiable)", "2.5", "np.float32(2.0)", "fiu")
is_nan = _unary(T.is_nan, "test for NaN", "1.0", "np.False_", "f")
is_inf = _unary(T.is_inf, "test for +-inf", "1.0", "np.False_", "f")
is_finite = _unary(T.is_finite, "test for a finite value", "1.0", "np.True_", "f")
logical_not = _unary(T.logical_not, "logical not", "True", "np.False_", "b")
invert = _unary(T.invert, "bitwise not of an integer tensor (``~x``)", "tg.constant(5)", "np.int32(-6)", "iu",
                "bitwise")
real = _unary(T.real, "real part (a real x is its own real part)", "3.0 + 4.0j", "np.float64(3.0)", "fciu")
imag = _unary(T.imag, "imaginary part (0 for a real x)", "3.0 + 4.0j", "np.float64(4.0)", "fciub")
conj = _unary(T.conj, "complex conjugate (a real x is its own)", "3.0 + 4.0j", "np.complex128(3-4j)", "fciu")
angle = _unary(T.angle, "argument of a complex number, in (-pi, pi]", "1.0j", "np.float64(1.5707963267948966)",
               "fc")


def _binary(prim: Any, doc_expr: str, example: str, result: str, takes: str = "fciu",
            ns: str = "math") -> Callable[..., Tensor]:
    takes = _takes(prim, takes)
    ok = accepts(takes)

    def op(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        if type(x) is Tensor and type(y) is Tensor:
            dtype = x._value.dtype
            if dtype is y._value.dtype and dtype in ok:
                return apply(prim, (x, y))  # the backward pass's case: nothing to convert
        a, b = pair(x, y, prim.name)
        if a._value.dtype not in ok:
            raise DTypeError(refusal(prim.name, a._value.dtype, takes))
        return apply(prim, (a, b))

    return _document(op, prim.name, f"Element-wise {doc_expr}, broadcasting like NumPy.",
                     f"{ns + '.' if ns else ''}{prim.name}", example, result)


add = _binary(T.add, "x + y", "1.0, 2.0", "np.float32(3.0)")
subtract = _binary(T.subtract, "x - y", "1.0, 2.0", "np.float32(-1.0)")
multiply = _binary(T.multiply, "x * y", "2.0, 3.0", "np.float32(6.0)")
divide = _binary(T.divide, "x / y (true division; int8/16 and uint8 give float32, int32/64 float64, as in "
                 "TensorFlow)", "1.0, 4.0", "np.float32(0.25)")
pow = _binary(T.pow, "x ** y (an integer to a negative power is an error)", "2.0, 3.0", "np.float32(8.0)", "fci")
multiply_no_nan = _binary(T.multiply_no_nan, "x * y, but 0 wherever y is 0 (even where x is inf or NaN)",
                          "float('inf'), 0.0", "np.float32(0.0)", "fc")
divide_no_nan = _binary(T.divide_no_nan, "x / y, but 0 wherever y is 0", "1.0, 0.0", "np.float32(0.0)", "fciu")


floordiv = _binary(T.floordiv, "floor(x / y) (not differentiable)", "7.0, 2.0", "np.float32(3.0)", "fiu")
floormod = _binary(T.floormod, "x - floor(x / y) * y", "7.0, 2.0", "np.float32(1.0)", "fiu")
truncatediv = _binary(T.truncatediv, "x / y rounded toward zero (not differentiable)", "-7, 2", "np.int32(-3)",
                      "fiu", "")
maximum = _binary(T.maximum, "maximum (a tie sends the gradient to x)", "1.0, 2.0", "np.float32(2.0)", "fiu")
minimum = _binary(T.minimum, "minimum (a tie sends the gradient to x)", "1.0, 2.0", "np.float32(1.0)", "fiu")
equal = _binary(T.equal, "x == y", "1.0, 1.0", "np.True_", "fciub")
not_equal = _binary(T.not_equal, "x != y", "1.0, 1.0", "np.False_", "fciub")
less = _binary(T.less, "x < y", "1.0, 2.0", "np.True_", "fiu")
less_equal = _binary(T.less_equal, "x <= y", "1.0, 2.0", "np.True_", "fiu")
greater = _binary(T.greater, "x > y", "1.0, 2.0", "np.False_", "fiu")
greater_equal = _binary(T.greater_equal, "x >= y", "1.0, 2.0", "np.False_", "fiu")
logical_and = _binary(T.logical_and, "logical and", "True, False", "np.False_", "b")
logical_or = _binary(T.logical_or, "logical or", "True, False", "np.True_", "b")
logical_xor = _binary(T.logical_xor, "logical exclusive or", "True, False", "np.True_", "b")
bitwise_and = _binary(T.bitwise_and, "bitwise and of integer tensors (``x & y``)", "tg.constant(6), 3", "np.int32(2)",
                      "iu", "bitwise")
bitwise_or = _binary(T.bitwise_or, "bitwise or of integer tensors (``x | y``)", "tg.constant(6), 3", "np.int32(7)",
                     "iu", "bitwise")
bitwise_xor = _binary(T.bitwise_xor, "bitwise exclusive or of integer tensors (``x ^ y``)", "tg.constant(6), 3",
                      "np.int32(5)", "iu", "bitwise")
truediv = divide
mod = floormod


def squared_difference(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """Element-wise (x - y) ** 2.

    >>> import tapegrad as tg
    >>> tg.math.squared_difference(3.0, 1.0).numpy()
    np.float32(4.0)
    """
    d = subtract(x, y)
    if d._value.dtype.kind == "c":  # TensorFlow's: |x - y|**2, still complex
        return d * conj(d)
    _wide(d, "squared_difference")
    return d * d


def _wide(x: Tensor, op: str) -> None:
    """Refuse what TensorFlow's matmul and squared_difference kernels do not take: bool, uint8, int8, int16."""
    dtype = x._value.dtype
    if dtype.kind not in "fci" or (dtype.kind == "i" and dtype.itemsize < 4):
        raise DTypeError(refusal(op, dtype, "fci").replace("signed integer", "int32, int64"))


def add_n(inputs: list, name: str | None = None) -> Tensor:
    """The sum of a list of tensors of one shape.

    >>> import tapegrad as tg
    >>> tg.add_n([1.0, 2.0, 3.0]).numpy()
    np.float32(6.0)
    """
    if not inputs:
        raise ValueError("add_n() needs at least one tensor")
    total = typed(inputs[0], "add_n", "fciu")
    for x in inputs[1:]:
        total = add(total, x)
    return apply(T.identity, (total,))


def _reduction(prim: Any, what: str, example: str, result: str, takes: str = "fciu") -> Callable[..., Tensor]:
    takes = _takes(prim, takes)

    def op(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
        x = typed(input_tensor, prim.name, takes)
        return apply(prim, (x,), {"axis": axis_param(axis, x._value.ndim, prim.name), "keepdims": bool(keepdims)})

    return _document(op, prim.name, f"The {what} of elements across ``axis`` (all axes when None).", prim.name,
                     example, result)


reduce_sum = _reduction(T.reduce_sum, "sum", "[1.0, 2.0, 3.0]", "np.float32(6.0)")
reduce_max = _reduction(T.reduce_max, "maximum (ties share the gradient)", "[1.0, 3.0]", "np.float32(3.0)", "fiu")
reduce_min = _reduction(T.reduce_min, "minimum (ties share the gradient)", "[1.0, 3.0]", "np.float32(1.0)", "fiu")
reduce_prod = _reduction(T.reduce_prod, "product", "[2.0, 3.0]", "np.float32(6.0)")
reduce_all = _reduction(T.reduce_all, "logical and", "[True, False]", "np.False_", "b")
reduce_any = _reduction(T.reduce_any, "logical or", "[True, False]", "np.True_", "b")


def reduce_mean(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """The mean of elements across ``axis`` (all axes when None); of integers, rounded toward zero.

    >>> import tapegrad as tg
    >>> tg.reduce_mean([1.0, 2.0, 3.0]).numpy()
    np.float32(2.0)
    >>> tg.reduce_mean([-1, -2]).numpy()
    np.int32(-1)
    """
    x = typed(input_tensor, "reduce_mean", "fciu")
    axes = axis_param(axis, x._value.ndim, "reduce_mean")
    if x._value.dtype.kind in "iu":  # TensorFlow's: the exact sum's quotient, rounded toward zero, in x's dtype
        n = 1
        for i, s in enumerate(x._value.shape):
            if axes is None or i in axes:
                n *= s
        total = apply(T.reduce_sum, (cast(x, int64),), {"axis": axes, "keepdims": bool(keepdims)})
        return cast(truncatediv(total, n), x.dtype)
    return apply(T.reduce_mean, (x,), {"axis": axes, "keepdims": bool(keepdims)})


def reduce_logsumexp(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                     name: str | None = None) -> Tensor:
    """log(sum(exp(x))) across ``axis``, computed without overflow for large inputs.

    >>> import tapegrad as tg
    >>> round(float(tg.reduce_logsumexp([1000.0, 1000.0])), 3)
    1000.693
    """
    x = typed(input_tensor, "reduce_logsumexp", "f")
    axes = axis_param(axis, x._value.ndim, "reduce_logsumexp")
    m = stop_gradient(reduce_max(x, axes, keepdims=True))
    m = where(is_finite(m), m, zeros_like(m))
    out = log(reduce_sum(exp(x - m), axes, keepdims=True)) + m
    return out if keepdims else reshape(out, tuple(s for i, s in enumerate(out.shape)
                                                   if axes is not None and i not in axes))


def _arg_index(prim: Any, input: TensorLike, axis: int | None, output_type: Any) -> Tensor:
    x = typed(input, prim.name, "fiub")
    axes = axis_param(0 if axis is None else axis, x._value.ndim, prim.name)
    return apply(prim, (x,), {"axis": axes[0] if axes else None, "output_type": as_dtype(output_type)._np})


def argmax(input: TensorLike, axis: int | None = None, output_type: Any = "int64", name: str | None = None) -> Tensor:
    """Index of the largest value along ``axis`` (default 0); int64 like TensorFlow.

    >>> import tapegrad as tg
    >>> tg.argmax([1.0, 3.0, 2.0]).numpy()
    np.int64(1)
    """
    return _arg_index(T.argmax, input, axis, output_type)


def argmin(input: TensorLike, axis: int | None = None, output_type: Any = "int64", name: str | None = None) -> Tensor:
    """Index of the smallest value along ``axis`` (default 0).

    >>> import tapegrad as tg
    >>> tg.argmin([1.0, 3.0, 2.0]).numpy()
    np.int64(0)
    """
    return _arg_index(T.argmin, input, axis, output_type)


def cumsum(x: TensorLike, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> Tensor:
    """Cumulative sum along ``axis``.

    >>> import tapegrad as tg
    >>> tg.math.cumsum([1.0, 2.0, 3.0]).numpy()
    array([1., 3., 6.], dtype=float32)
    """
    x = typed(x, "cumsum", "fciu")
    axes = axis_param(axis, x._value.ndim, "cumsum")
    return apply(T.cumsum, (x,), {"axis": axes[0] if axes else 0, "exclusive": bool(exclusive),
                                  "reverse": bool(reverse)})


def cumprod(x: TensorLike, axis: int = 0, exclusive: bool = False, reverse: bool = False,
            name: str | None = None) -> Tensor:
    """Cumulative product along ``axis``; ``exclusive`` leaves each element out, ``reverse`` runs from the end.

    Its gradient is TensorFlow's (it divides by x: where x is 0 it gives 0); ``reduce_prod``'s does not
    divide, and is exact at zeros.

    >>> import tapegrad as tg
    >>> tg.math.cumprod([1.0, 2.0, 3.0]).numpy()
    array([1., 2., 6.], dtype=float32)
    """
    x = typed(x, "cumprod", _takes(T.cumprod, "fciu"))
    axes = axis_param(axis, x._value.ndim, "cumprod")
    return apply(T.cumprod, (x,), {"axis": axes[0] if axes else 0, "exclusive": bool(exclusive),
                                   "reverse": bool(reverse)})


def stop_gradient(input: TensorLike, name: str | None = None) -> Tensor:
    """The same value, with no gradient flowing through it.

    >>> import tapegrad as tg
    >>> x = tg.Variable(3.0)
    >>> with tg.GradientTape() as tape:
    ...     y = x * tg.stop_gradient(x)
    >>> tape.gradient(y, x).numpy()
    np.float32(3.0)
    """
    return apply(T.stop_gradient, (operand(input),))


def clip_by_value(t: TensorLike, clip_value_min: TensorLike, clip_value_max: TensorLike,
                  name: str | None = None) -> Tensor:
    """Values limited to [clip_value_min, clip_value_max]; the gradient passes where not clipped.

    >>> import tapegrad as tg
    >>> tg.clip_by_value([-2.0, 0.5, 2.0], -1.0, 1.0).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    return maximum(minimum(t, clip_value_max), clip_value_min)
