"""tapegrad: automatic differentiation and gradient descent for NumPy users.

The API is TensorFlow's GradientTape world, so ``import tapegrad as tf`` runs such
code unchanged:

>>> import tapegrad as tf
>>> x = tf.Variable(20.0)
>>> with tf.GradientTape() as tape:
...     y = x ** 2
>>> print(tape.gradient(y, x))
tf.Tensor(40.0, shape=(), dtype=float32)
"""
import sys

from tapegrad import ops
from tapegrad._core import nest
from tapegrad._core.dtypes import (
    DType,
    as_dtype,
    bool_,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from tapegrad._core.errors import DTypeError, InvalidArgumentError, NotDifferentiableError, TapegradError
from tapegrad._core.tensor import Tensor, TensorShape, Variable, constant, convert_to_tensor
from tapegrad.compiler import function
from tapegrad.custom import custom_gradient
from tapegrad.ops import (
    abs,
    acos,
    add,
    add_n,
    argmax,
    argmin,
    argsort,
    asin,
    atan,
    atan2,
    boolean_mask,
    broadcast_to,
    cast,
    ceil,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    complex,
    concat,
    cos,
    cosh,
    cumsum,
    divide,
    einsum,
    equal,
    exp,
    expand_dims,
    expm1,
    eye,
    fill,
    floor,
    floordiv,
    floormod,
    gather,
    gather_nd,
    greater,
    greater_equal,
    identity,
    is_finite,
    is_inf,
    is_nan,
    less,
    less_equal,
    linspace,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    matmul,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    norm,
    not_equal,
    one_hot,
    ones,
    ones_like,
    pad,
    pow,
    range,
    rank,
    reciprocal,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    repeat,
    reshape,
    reverse,
    round,
    rsqrt,
    scatter_index,
    shape,
    sigmoid,
    sign,
    sin,
    sinh,
    size,
    slice,
    softplus,
    sort,
    split,
    sqrt,
    square,
    squared_difference,
    squeeze,
    stack,
    stop_gradient,
    strided_slice,
    subtract,
    sum_to,
    tan,
    tanh,
    tensor_scatter_nd_add,
    tensor_scatter_nd_sub,
    tensor_scatter_nd_update,
    tensordot,
    tile,
    transpose,
    truediv,
    truncatediv,
    truncatemod,
    unstack,
    where,
    zeros,
    zeros_like,
)
from tapegrad.tape import GradientTape, UnconnectedGradients

# Namespaces over the ops above, transforms and optimizers; `descent` (with minimize and History), `plot` and
# `testing` load on first use (see __getattr__). tf.keras.optimizers: the same objects as tg.optimizers.
from . import (  # noqa: E402
    autodiff,
    bitwise,
    debugging,
    explain,
    functional,
    keras,
    linalg,
    math,
    nn,
    optimizers,
    random,
    testfunctions,
)
from .functional import (  # noqa: E402
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)

bool = bool_  # noqa: A001  (tf.bool)
newaxis = None
__version__ = "0.1.0"

# flow13: control flow, Module, name_scope, TensorSpec, tf.print
from ._core.spec import TensorSpec  # noqa: E402
from .control_flow import cond, foldl, foldr, map_fn, scan, vectorized_map, while_loop  # noqa: E402
from .module import Module, name_scope  # noqa: E402
from .printing import print  # noqa: E402, A004

# What is imported when first used, to keep `import tapegrad` quick (the descent is a fifth of it): name -> module.
_LAZY = {"descent": "tapegrad.descent", "History": "tapegrad.descent", "MinimizeResult": "tapegrad.descent",
         "minimize": "tapegrad.descent", "race": "tapegrad.descent", "plot": "tapegrad.plot",
         "testing": "tapegrad.testing"}

# Not `print`: `from tapegrad import *` must leave Python's print alone.
__all__ = [n for n in dir() if not n.startswith("_") and n != "print"] + list(_LAZY)


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        value = module if _LAZY[name] == f"tapegrad.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    # A name tapegrad lacks: say what TensorFlow's is and what to use (the closest name, or why it is left out),
    # among all of tapegrad's names: the lazy ones too, but for the optional plots.
    from ._missing import missing

    if not name.startswith("_"):
        for lazy in ("History", "MinimizeResult", "minimize", "race"):
            __getattr__(lazy)
    raise missing(name, sys.modules[__name__], {"math": math, "nn": nn, "linalg": linalg, "random": random,
                                               "bitwise": bitwise, "nest": nest, "autodiff": autodiff})


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
