"""THE derivative table: one Primitive per operation.

Conventions in every rule: ``g`` is the incoming cotangent, ``ans`` the op's output,
``x``/``y`` its inputs (Tensors), ``t`` the tuple of input tangents (None where an
input has none). Rules call public ops through ``F`` (looked up at call time), never
NumPy, so a rule run under an outer tape is itself recorded: higher orders for free.
Binary rules return the cotangent at the broadcast shape; ``binary`` sums it back
down to each input's shape, the one place broadcasting is undone.
Forwards are array functions (``ops.kernels``, or one ``xp`` call named here) and reach
arrays only through ``xp`` (see ``_core.backend``). An op linear in its inputs is made
with ``linear``: its JVP is the op itself applied to the tangents.

Complex inputs follow TensorFlow's convention: the gradient of a real loss L with respect to
z = x + iy is dL/dx + i dL/dy, so a holomorphic f's rule is ``g * conj(f'(z))``. Only the ops in
``COMPLEX`` take complex tensors (their wrappers refuse them elsewhere): no rule may answer in
another convention.

Every rule here is ``batched``: ``g`` may carry leading batch axes (``_lead(g, ans)``, one
Jacobian row each), and a rule that names a shape or an axis puts them in front. Element-wise
rules need nothing: broadcasting aligns shapes from the right.

The constructors (``unary``, ``binary``, ``guarded``, ``linear``, ``nondiff``) are in
``_helpers``; the ops, by kind, in ``elementwise``, ``reductions``, ``shapes``, ``linalg``, ``special``,
``matrix`` (inverse, determinants, solves, einsum) and ``decomp`` (cholesky, eigh, svd, qr).
"""
# ops13b: tf.linalg's primitives and einsum
from .decomp import cholesky, eigh, qr, svd
from .elementwise import (
    abs,
    acos,
    add,
    angle,
    asin,
    atan,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    ceil,
    conj,
    cos,
    cosh,
    divide,
    divide_no_nan,
    equal,
    exp,
    expm1,
    floor,
    floordiv,
    floormod,
    greater,
    greater_equal,
    identity,
    imag,
    invert,
    is_finite,
    is_inf,
    is_nan,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    multiply_no_nan,
    negative,
    not_equal,
    pow,
    real,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    truncatediv,
    where,
)
from .linalg import (
    matmul,
)
from .matrix import einsum, matrix_determinant, matrix_inverse, matrix_solve, slogdet, triangular_solve
from .reductions import (
    argmax,
    argmin,
    cumprod,
    cumsum,
    log_softmax,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    softmax,
)
from .shapes import (
    broadcast_to,
    cast,
    concat,
    getitem,
    reshape,
    scatter_index,
    sum_to,
    tile,
    transpose,
)

# ops13a: special functions, segment sums, tf.complex, the fused softmax cross entropies
from .special import (
    atan2,
    complex,
    digamma,
    erf,
    erfc,
    erfinv,
    lgamma,
    polygamma,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
    truncatemod,
    unsorted_segment_max,
    unsorted_segment_sum,
)

# The differentiable ops whose rules follow TensorFlow's complex convention (checked against finite
# differences along the real and imaginary directions in tests/ops/test_gradients.py). Every other
# differentiable op refuses complex tensors when called.
COMPLEX = frozenset({
    "add", "subtract", "multiply", "divide", "negative", "identity", "square", "exp", "expm1", "log", "log1p",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "abs", "real", "imag", "conj", "angle",
    "reduce_sum", "reduce_mean", "cumsum", "broadcast_to", "sum_to", "reshape", "transpose", "tile", "concat",
    "getitem",
    "scatter_index", "where", "cast", "matmul",
    "einsum",
})
