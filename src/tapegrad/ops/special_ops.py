"""tf.math's special functions and the element-wise ops built on them, under TensorFlow's names.

Dtypes as in TensorFlow: the special functions take floating-point tensors only; ``complex`` takes
two float32 (or two float64) tensors and gives complex64 (complex128).
"""
from __future__ import annotations

from typing import Any

from tapegrad._core.dtypes import refusal
from tapegrad._core.errors import DTypeError
from tapegrad._core.record import apply
from tapegrad._core.tensor import Tensor

from . import table as T
from ._args import pair, typed
from .array_ops import where
from .constructors import zeros_like
from .math_ops import _binary, _unary, conj, equal, log, log1p, real, reduce_mean, softplus, sqrt

TensorLike = Any

erf = _unary(T.erf, "Gauss error function (2/sqrt(pi)) * integral of exp(-t**2) from 0 to x", "0.0",
             "np.float32(0.0)", "f")
erfc = _unary(T.erfc, "complementary error function 1 - erf(x), accurate where erf(x) is near 1", "0.0",
              "np.float32(1.0)", "f")
erfinv = _unary(T.erfinv, "inverse error function: erf(erfinv(x)) == x on (-1, 1); +-inf at +-1, NaN outside",
                "0.0", "np.float32(0.0)", "f")
lgamma = _unary(T.lgamma, "log |Gamma(x)|; inf at 0 and the negative integers", "1.0", "np.float32(0.0)", "f")
digamma = _unary(T.digamma, "digamma function, the derivative of lgamma; NaN at 0 and the negative integers",
                 "1.0", "np.float32(-0.5772157)", "f")
truncatemod = _binary(T.truncatemod, "remainder of truncated division, with the sign of x (C's fmod)", "-7.0, 3.0",
                      "np.float32(-1.0)", "fiu", "")


def polygamma(a: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """The a-th derivative of digamma at x (``a`` a whole number >= 0, NaN otherwise); no gradient in ``a``.

    >>> import tapegrad as tg
    >>> round(float(tg.math.polygamma(1.0, 1.0)), 6)  # pi**2 / 6
    1.644934
    """
    a, x = pair(a, x, "polygamma")
    if x._value.dtype.kind != "f":
        raise DTypeError(refusal("polygamma", x._value.dtype, "f"))
    return apply(T.polygamma, (a, x))


def atan2(y: TensorLike, x: TensorLike, name: str | None = None) -> Tensor:
    """Element-wise angle of the point (x, y), in [-pi, pi]: ``y`` comes first, as in TensorFlow.

    >>> import tapegrad as tg
    >>> round(float(tg.math.atan2(1.0, -1.0)), 6)  # 3 pi / 4
    2.356194
    """
    y, x = pair(y, x, "atan2")
    if y._value.dtype.kind != "f":
        raise DTypeError(refusal("atan2", y._value.dtype, "f"))
    return apply(T.atan2, (y, x))


def rint(x: TensorLike, name: str | None = None) -> Tensor:
    """Element-wise rounding to the nearest integer, halves to even (not differentiable); floats only.

    >>> import tapegrad as tg
    >>> tg.math.rint([0.5, 1.5, -2.5]).numpy()
    array([ 0.,  2., -2.], dtype=float32)
    """
    return apply(T.round, (typed(x, "rint", "f"),))


def _where_x_zero(x: Tensor, y: Tensor, fn: Any, neutral: float) -> Tensor:
    """x * fn(y), but 0 wherever x is 0 (even where fn(y) is inf or NaN), with gradients 0 there too."""
    zero = equal(x, 0)
    safe = where(zero, neutral, y)  # the branch not taken stays finite: no NaN in the rules
    return where(zero, 0, x * fn(safe))


def xlogy(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x * log(y), and 0 where x is 0 (even where y is 0).

    >>> import tapegrad as tg
    >>> tg.math.xlogy(0.0, 0.0).numpy()
    np.float32(0.0)
    """
    x, y = pair(x, y, "xlogy")
    if x._value.dtype.kind not in "fc":
        raise DTypeError(refusal("xlogy", x._value.dtype, "f"))
    return _where_x_zero(x, y, log, 1.0)


def xlog1py(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x * log1p(y), and 0 where x is 0 (even where y is -1).

    >>> import tapegrad as tg
    >>> tg.math.xlog1py(0.0, -1.0).numpy()
    np.float32(0.0)
    """
    x, y = pair(x, y, "xlog1py")
    if x._value.dtype.kind not in "fc":
        raise DTypeError(refusal("xlog1py", x._value.dtype, "f"))
    return _where_x_zero(x, y, log1p, 0.0)


def log_sigmoid(x: TensorLike, name: str | None = None) -> Tensor:
    """log(1 / (1 + exp(-x))), stable for large |x|.

    >>> import tapegrad as tg
    >>> round(float(tg.math.log_sigmoid(0.0)), 6)
    -0.693147
    """
    x = typed(x, "log_sigmoid", "f")
    return -softplus(-x)


def complex(real: TensorLike, imag: TensorLike, name: str | None = None) -> Tensor:
    """The complex tensor real + i imag: float32 parts give complex64, float64 parts complex128.

    >>> import tapegrad as tg
    >>> tg.complex(1.0, 2.0).numpy()
    np.complex64(1+2j)
    """
    re, im = pair(real, imag, "complex")
    if re._value.dtype.kind != "f" or re._value.dtype.itemsize < 4:
        raise DTypeError(f"complex: the real and imag parts must both be float32 or both float64, got "
                         f"{re._value.dtype} (as in TensorFlow); cast them first: tg.cast(x, tg.float32)")
    return apply(T.complex, (re, im))


def reduce_variance(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                    name: str | None = None) -> Tensor:
    """The variance (mean squared deviation from the mean) across ``axis``; of a complex tensor, real.

    >>> import tapegrad as tg
    >>> tg.math.reduce_variance([1.0, 2.0, 3.0, 4.0]).numpy()
    np.float32(1.25)
    """
    x = typed(input_tensor, "reduce_variance", "fc")
    d = x - reduce_mean(x, axis, keepdims=True)
    sq = real(d * conj(d)) if d._value.dtype.kind == "c" else d * d
    return reduce_mean(sq, axis, keepdims=keepdims)


def reduce_std(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The standard deviation across ``axis``: sqrt(reduce_variance).

    >>> import tapegrad as tg
    >>> tg.math.reduce_std([1.0, 3.0]).numpy()
    np.float32(1.0)
    """
    return sqrt(reduce_variance(input_tensor, axis, keepdims))


def polyval(coeffs: list, x: TensorLike, name: str | None = None) -> Tensor:
    """coeffs[0] * x**(n-1) + ... + coeffs[n-1], by Horner's rule (0 for no coefficients).

    >>> import tapegrad as tg
    >>> tg.math.polyval([1.0, 2.0, 3.0], 2.0).numpy()
    np.float32(11.0)
    """
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"polyval: coeffs must be a list of tensors (highest power first), got "
                         f"{type(coeffs).__name__}")
    x = typed(x, "polyval", "fciu")
    if not coeffs:
        return zeros_like(x)
    p = pair(coeffs[0], x, "polyval")[0]
    for c in coeffs[1:]:
        p = c + p * x
    return p
