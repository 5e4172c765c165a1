"""Cases of every public op on integer, boolean (and, for reference, float32) inputs.

Each case is ``fn(tf, *tensors)`` written against TensorFlow's API, so the same function runs
under real TensorFlow (``tf_dtype_reference.py`` records what it gives) and under tapegrad
(``test_dtypes_match_tf.py`` compares). This module imports neither: it runs in either venv.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Values chosen so signs, truncation and rounding all show: means of -11/3 and -1/2, divisions by
# negatives, remainders of negatives.
X = [[-7, -3, -1], [0, 2, 5]]
Y = [[2, -2, 3], [-3, 5, -4]]
X_U = [[7, 3, 1], [0, 2, 5]]
Y_U = [[2, 2, 3], [3, 5, 4]]
X_B = [[True, False, True], [False, True, False]]
X_C = [[-7 + 1j, -3 - 2j, -1 + 0.25j], [0j, 2 + 0.5j, 5 - 5j]]
Y_C = [[2 - 1j, -2 + 3j, 3 + 0j], [-3 + 1j, 5 - 2j, -4 - 4j]]
Y_B = [[True, True, False], [False, True, False]]
EXPONENT = [[0, 1, 2], [3, 1, 2]]

DTYPES = ("int32", "int64", "uint8", "int8", "int16", "bool", "float32", "complex128")


def inputs(dtype: str, n: int) -> list:
    """The first ``n`` of (x, y) as NumPy arrays of ``dtype``."""
    if dtype == "bool":
        xs = (X_B, Y_B)
    elif dtype == "uint8":
        xs = (X_U, Y_U)
    elif dtype.startswith("complex"):
        xs = (X_C, Y_C)
    else:
        xs = (X, Y)
    return [np.array(v, dtype=dtype) for v in xs[:n]]


UNARY: dict[str, Callable[..., Any]] = {
    "abs": lambda tf, x: tf.abs(x),
    "abs_op": lambda tf, x: abs(x),
    "negative": lambda tf, x: tf.negative(x),
    "neg_op": lambda tf, x: -x,
    "invert_op": lambda tf, x: ~x,
    "sign": lambda tf, x: tf.sign(x),
    "square": lambda tf, x: tf.square(x),
    "sqrt": lambda tf, x: tf.sqrt(x),
    "rsqrt": lambda tf, x: tf.math.rsqrt(x),
    "exp": lambda tf, x: tf.exp(x),
    "expm1": lambda tf, x: tf.math.expm1(x),
    "log": lambda tf, x: tf.math.log(x),
    "log1p": lambda tf, x: tf.math.log1p(x),
    "reciprocal": lambda tf, x: tf.math.reciprocal(x + tf.cast(10, x.dtype)),
    "sin": lambda tf, x: tf.sin(x),
    "cos": lambda tf, x: tf.cos(x),
    "tan": lambda tf, x: tf.math.tan(x),
    "asin": lambda tf, x: tf.math.asin(x),
    "acos": lambda tf, x: tf.math.acos(x),
    "atan": lambda tf, x: tf.math.atan(x),
    "sinh": lambda tf, x: tf.math.sinh(x),
    "cosh": lambda tf, x: tf.math.cosh(x),
    "tanh": lambda tf, x: tf.tanh(x),
    "sigmoid": lambda tf, x: tf.sigmoid(x),
    "softplus": lambda tf, x: tf.math.softplus(x),
    "floor": lambda tf, x: tf.floor(x),
    "ceil": lambda tf, x: tf.math.ceil(x),
    "round": lambda tf, x: tf.round(x),
    "is_nan": lambda tf, x: tf.math.is_nan(x),
    "is_inf": lambda tf, x: tf.math.is_inf(x),
    "is_finite": lambda tf, x: tf.math.is_finite(x),
    "logical_not": lambda tf, x: tf.logical_not(x),
    "bitwise_invert": lambda tf, x: tf.bitwise.invert(x),
    "real": lambda tf, x: tf.math.real(x),
    "imag": lambda tf, x: tf.math.imag(x),
    "conj": lambda tf, x: tf.math.conj(x),
    "angle": lambda tf, x: tf.math.angle(x),
    "relu": lambda tf, x: tf.nn.relu(x),
    "relu6": lambda tf, x: tf.nn.relu6(x),
    "leaky_relu": lambda tf, x: tf.nn.leaky_relu(x),
    "elu": lambda tf, x: tf.nn.elu(x),
    "softmax": lambda tf, x: tf.nn.softmax(x),
    "log_softmax": lambda tf, x: tf.nn.log_softmax(x),
    "l2_loss": lambda tf, x: tf.nn.l2_loss(x),
    "sigmoid_ce": lambda tf, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=x),
    "identity": lambda tf, x: tf.identity(x),
    "stop_gradient": lambda tf, x: tf.stop_gradient(x),
    "cumsum": lambda tf, x: tf.math.cumsum(x, axis=1),
    "cumprod": lambda tf, x: tf.math.cumprod(x, axis=1),
    "cumsum_exclusive_reverse": lambda tf, x: tf.math.cumsum(x, axis=0, exclusive=True, reverse=True),
    "reduce_sum": lambda tf, x: tf.reduce_sum(x),
    "reduce_sum_axis": lambda tf, x: tf.reduce_sum(x, axis=1),
    "reduce_mean": lambda tf, x: tf.reduce_mean(x),
    "reduce_mean_axis0": lambda tf, x: tf.reduce_mean(x, axis=0),
    "reduce_mean_axis1": lambda tf, x: tf.reduce_mean(x, axis=1, keepdims=True),
    "reduce_prod": lambda tf, x: tf.reduce_prod(x),
    "reduce_prod_axis": lambda tf, x: tf.reduce_prod(x, axis=0),
    "reduce_max": lambda tf, x: tf.reduce_max(x, axis=1),
    "reduce_min": lambda tf, x: tf.reduce_min(x),
    "reduce_logsumexp": lambda tf, x: tf.reduce_logsumexp(x),
    "reduce_all": lambda tf, x: tf.reduce_all(x),
    "reduce_any": lambda tf, x: tf.reduce_any(x, axis=0),
    "argmax": lambda tf, x: tf.argmax(x, axis=1),
    "argmin": lambda tf, x: tf.argmin(x),
    "argmax_int32": lambda tf, x: tf.math.argmax(x, axis=1, output_type=tf.int32),
    "norm": lambda tf, x: tf.norm(x),
    "norm_1": lambda tf, x: tf.norm(x, ord=1),
    "clip_by_value": lambda tf, x: tf.clip_by_value(x, tf.cast(1, x.dtype), tf.cast(4, x.dtype)),
    "clip_by_norm": lambda tf, x: tf.clip_by_norm(x, 1.0),
    "cast_float32": lambda tf, x: tf.cast(x, tf.float32),
    "cast_int32": lambda tf, x: tf.cast(x, tf.int32),
    "cast_bool": lambda tf, x: tf.cast(x, tf.bool),
    "add_n": lambda tf, x: tf.add_n([x, x, x]),
    "getitem": lambda tf, x: x[1, ::-1],
    "reshape": lambda tf, x: tf.reshape(x, (3, 2)),
    "transpose": lambda tf, x: tf.transpose(x),
    "tile": lambda tf, x: tf.tile(x, (1, 2)),
    "concat": lambda tf, x: tf.concat([x, x], axis=0),
    "stack": lambda tf, x: tf.stack([x, x], axis=1),
    "gather": lambda tf, x: tf.gather(x, [2, 0], axis=1),
    "broadcast_to": lambda tf, x: tf.broadcast_to(x, (2, 2, 3)),
    "expand_squeeze": lambda tf, x: tf.squeeze(tf.expand_dims(x, 0)),
    "zeros_like": lambda tf, x: tf.zeros_like(x),
    "ones_like": lambda tf, x: tf.ones_like(x),
    "where_x": lambda tf, x: tf.where(tf.constant([[True, False, True], [False, True, True]]), x, tf.zeros_like(x)),
    # Python numbers on either side take the tensor's dtype
    "add_py": lambda tf, x: x + 1,
    "radd_py": lambda tf, x: 1 + x,
    "rsub_py": lambda tf, x: 1 - x,
    "mul_py": lambda tf, x: x * 2,
    "div_py": lambda tf, x: x / 2,
    "rdiv_py": lambda tf, x: 60 / (x + tf.cast(10, x.dtype)),
    "floordiv_py": lambda tf, x: x // 2,
    "floordiv_py_negative": lambda tf, x: x // -2,
    "mod_py": lambda tf, x: x % 3,
    "mod_py_negative": lambda tf, x: x % -3,
    "pow_py": lambda tf, x: x ** 2,
    "rpow_py": lambda tf, x: 2 ** tf.abs(x),
    "pow_py_negative": lambda tf, x: x ** -1,
    "lt_py": lambda tf, x: x < 1,
    "eq_py": lambda tf, x: x == 2,
    "maximum_py": lambda tf, x: tf.maximum(x, 1),
}

BINARY: dict[str, Callable[..., Any]] = {
    "add": lambda tf, x, y: tf.add(x, y),
    "subtract": lambda tf, x, y: tf.subtract(x, y),
    "multiply": lambda tf, x, y: tf.multiply(x, y),
    "divide": lambda tf, x, y: tf.divide(x, y),
    "truediv": lambda tf, x, y: tf.math.truediv(x, y),
    "floordiv": lambda tf, x, y: tf.math.floordiv(x, y),
    "floormod": lambda tf, x, y: tf.math.floormod(x, y),
    "mod": lambda tf, x, y: tf.math.mod(x, y),
    "truncatediv": lambda tf, x, y: tf.truncatediv(x, y),
    "multiply_no_nan": lambda tf, x, y: tf.math.multiply_no_nan(x, y),
    "divide_no_nan": lambda tf, x, y: tf.math.divide_no_nan(x, y),
    "bitwise_and": lambda tf, x, y: tf.bitwise.bitwise_and(x, y),
    "bitwise_or": lambda tf, x, y: tf.bitwise.bitwise_or(x, y),
    "bitwise_xor": lambda tf, x, y: tf.bitwise.bitwise_xor(x, y),
    "pow": lambda tf, x, y: tf.pow(x, tf.cast(tf.constant([[0, 1, 2], [3, 1, 2]]), y.dtype)),
    "pow_negative_exponent": lambda tf, x, y: tf.pow(x, y),
    "maximum": lambda tf, x, y: tf.maximum(x, y),
    "minimum": lambda tf, x, y: tf.minimum(x, y),
    "equal": lambda tf, x, y: tf.equal(x, y),
    "not_equal": lambda tf, x, y: tf.not_equal(x, y),
    "less": lambda tf, x, y: tf.less(x, y),
    "less_equal": lambda tf, x, y: tf.less_equal(x, y),
    "greater": lambda tf, x, y: tf.greater(x, y),
    "greater_equal": lambda tf, x, y: tf.greater_equal(x, y),
    "logical_and": lambda tf, x, y: tf.logical_and(x, y),
    "logical_or": lambda tf, x, y: tf.logical_or(x, y),
    "logical_xor": lambda tf, x, y: tf.math.logical_xor(x, y),
    "squared_difference": lambda tf, x, y: tf.math.squared_difference(x, y),
    "add_op": lambda tf, x, y: x + y,
    "sub_op": lambda tf, x, y: x - y,
    "mul_op": lambda tf, x, y: x * y,
    "truediv_op": lambda tf, x, y: x / y,
    "floordiv_op": lambda tf, x, y: x // y,
    "mod_op": lambda tf, x, y: x % y,
    "pow_op": lambda tf, x, y: x ** tf.abs(y),
    "and_op": lambda tf, x, y: x & y,
    "or_op": lambda tf, x, y: x | y,
    "xor_op": lambda tf, x, y: x ^ y,
    "lt_op": lambda tf, x, y: x < y,
    "ge_op": lambda tf, x, y: x >= y,
    "eq_op": lambda tf, x, y: x == y,
    "ne_op": lambda tf, x, y: x != y,
    "matmul": lambda tf, x, y: tf.matmul(x, y, transpose_b=True),
    "matmul_op": lambda tf, x, y: x @ tf.transpose(y),
    "matvec": lambda tf, x, y: tf.linalg.matvec(x, y[0]),
    "tensordot": lambda tf, x, y: tf.tensordot(x, y, axes=[[1], [1]]),
    "where": lambda tf, x, y: tf.where(tf.constant([[True, False, True], [False, True, True]]), x, y),
    "floordiv_by_zero": lambda tf, x, y: tf.math.floordiv(x, tf.zeros_like(y)),
    "floormod_by_zero": lambda tf, x, y: tf.math.floormod(x, tf.zeros_like(y)),
    "truediv_by_zero": lambda tf, x, y: tf.math.truediv(x, tf.zeros_like(y)),
    "truncatediv_by_zero": lambda tf, x, y: tf.truncatediv(x, tf.zeros_like(y)),
}

# Calls on Python values only: TensorFlow's conversion rules decide the dtype.
PLAIN: dict[str, Callable[..., Any]] = {
    "constant_int": lambda tf: tf.constant(3),
    "constant_big_int": lambda tf: tf.constant(2**40),
    "constant_bool": lambda tf: tf.constant([True, False]),
    "constant_mixed": lambda tf: tf.constant([1, 2.5]),
    "reduce_sum_list": lambda tf: tf.reduce_sum([1, 2, 3]),
    "reduce_mean_list": lambda tf: tf.reduce_mean([-1, -2]),
    "add_ints": lambda tf: tf.add(1, 2),
    "divide_ints": lambda tf: tf.divide(7, 2),
    "floordiv_ints": lambda tf: tf.math.floordiv(-7, 2),
    "floormod_ints": lambda tf: tf.math.floormod(-7, 2),
    "range": lambda tf: tf.range(3),
    "range_float": lambda tf: tf.range(0.0, 1.0, 0.5),
    "fill_int": lambda tf: tf.fill((2,), 7),
    "reduce_mean_uint8_overflow": lambda tf: tf.reduce_mean(tf.constant([200, 200], tf.uint8)),
    "reduce_sum_uint8_overflow": lambda tf: tf.reduce_sum(tf.constant([200, 200], tf.uint8)),
    "reduce_mean_int8": lambda tf: tf.reduce_mean(tf.constant([-100, -101], tf.int8)),
    "reduce_mean_int32_big": lambda tf: tf.reduce_mean(tf.constant([2**30, 2**30, 2**30], tf.int32)),
    "reduce_mean_int64_negative": lambda tf: tf.reduce_mean(tf.constant([-3, -4], tf.int64)),
    "eq_mixed_dtypes": lambda tf: tf.constant(1) == tf.constant(1.0),
    "eq_none": lambda tf: tf.constant(1) == None,  # noqa: E711  (what == None gives is the point)
    "ne_none": lambda tf: tf.constant(1) != None,  # noqa: E711
    "mul_int_by_float": lambda tf: tf.constant([1, 2]) * 2.5,
    "lt_int_float": lambda tf: tf.constant(1) < 1.5,
    "add_uint8_negative_int": lambda tf: tf.constant([7], tf.uint8) + (-2),
    "add_int32_too_big": lambda tf: tf.constant([7]) + 2**40,
    "pow_zero_negative": lambda tf: tf.pow(tf.constant(2), tf.constant(-1)),
    "pow_one_negative": lambda tf: tf.pow(tf.constant([1, -1]), tf.constant(-3)),
}


# Cases whose error, where the op itself takes the dtype, is about the values (division by zero,
# an integer to a negative power): the op's well-defined twin tells the two apart.
VALUE_TWIN = {"floordiv_by_zero": "floordiv", "floormod_by_zero": "floormod", "truncatediv_by_zero": "truncatediv",
              "pow_negative_exponent": "pow",
              "pow_py_negative": "pow_py", "pow_zero_negative": None, "pow_one_negative": None}


def _cases() -> dict[str, tuple[Callable[..., Any], list]]:
    """Every case, keyed ``op[dtype]``: (function, NumPy inputs)."""
    out: dict[str, tuple[Callable[..., Any], list]] = {}
    for dtype in DTYPES:
        for name, fn in UNARY.items():
            out[f"{name}[{dtype}]"] = (fn, inputs(dtype, 1))
        for name, fn in BINARY.items():
            out[f"{name}[{dtype}]"] = (fn, inputs(dtype, 2))
    for name, fn in PLAIN.items():
        out[name] = (fn, [])
    return out


CASES = _cases()

# Gradients of a real loss of f(z, w) for complex z, w: TensorFlow's convention, recorded per op.
Z_G = [[-0.7 + 0.1j, -0.3 - 0.2j, 0.4 + 0.25j], [0.5 - 0.3j, 0.2 + 0.5j, 0.6 - 0.5j]]
W_G = [[0.4 - 0.2j, -0.4 + 0.6j, 0.6 + 0.1j], [-0.6 + 0.2j, 1.0 - 0.4j, -0.8 - 0.8j]]
GRADS: dict[str, Callable[..., Any]] = {
    "add": lambda tf, z, w: z + w,
    "subtract": lambda tf, z, w: z - w,
    "multiply": lambda tf, z, w: z * w,
    "divide": lambda tf, z, w: z / w,
    "negative": lambda tf, z, w: -z,
    "square": lambda tf, z, w: tf.square(z),
    "pow_2": lambda tf, z, w: z * z * w,
    "exp": lambda tf, z, w: tf.exp(z),
    "expm1": lambda tf, z, w: tf.math.expm1(z),
    "log": lambda tf, z, w: tf.math.log(z),
    "log1p": lambda tf, z, w: tf.math.log1p(z),
    "sin": lambda tf, z, w: tf.sin(z),
    "cos": lambda tf, z, w: tf.cos(z),
    "tan": lambda tf, z, w: tf.math.tan(z),
    "sinh": lambda tf, z, w: tf.math.sinh(z),
    "cosh": lambda tf, z, w: tf.math.cosh(z),
    "tanh": lambda tf, z, w: tf.tanh(z),
    "abs": lambda tf, z, w: tf.abs(z),
    "abs_times_abs": lambda tf, z, w: tf.abs(z) * tf.abs(z),
    "abs_of_product": lambda tf, z, w: tf.abs(z * w),
    "real_z_conj_z": lambda tf, z, w: tf.math.real(z * tf.math.conj(z)),
    "real": lambda tf, z, w: tf.math.real(z * w),
    "imag": lambda tf, z, w: tf.math.imag(z * w),
    "conj": lambda tf, z, w: tf.math.conj(z) * w,
    "angle": lambda tf, z, w: tf.math.angle(z),
    "reduce_sum": lambda tf, z, w: tf.reduce_sum(z * w, axis=1),
    "reduce_mean": lambda tf, z, w: tf.reduce_mean(z * w, axis=0),
    "cumsum": lambda tf, z, w: tf.math.cumsum(z * w, axis=1),
    "matmul": lambda tf, z, w: tf.matmul(z, w, transpose_b=True),
    "matvec": lambda tf, z, w: tf.linalg.matvec(z, w[0]),
    "tensordot": lambda tf, z, w: tf.tensordot(z, w, axes=[[1], [1]]),
    "squared_difference": lambda tf, z, w: tf.math.squared_difference(z, w),
    "norm_1": lambda tf, z, w: tf.norm(z * w, ord=1),
    "cast_real": lambda tf, z, w: tf.cast(z * w, tf.float64),
    "getitem": lambda tf, z, w: (z * w)[1, ::-1],
    "where": lambda tf, z, w: tf.where(tf.constant([[True, False, True], [False, True, True]]), z, w),
    "concat_reshape_transpose": lambda tf, z, w: tf.transpose(tf.reshape(tf.concat([z, w], 0), (3, 4))),
}


def _loss(tf: Any, out: Any) -> Any:
    """A real loss weighting every part of ``out`` differently."""
    v = tf.reshape(out, [-1])
    n = int(v.shape[0])
    a, b = tf.constant(np.linspace(1.0, 2.0, n)), tf.constant(np.linspace(-1.0, 0.5, n))
    if v.dtype.is_complex:
        return tf.reduce_sum(tf.math.real(v) * a + tf.math.imag(v) * b)
    return tf.reduce_sum(v * a)


def run_gradient(tf: Any, name: str) -> list:
    """The gradients of the loss of ``GRADS[name]`` with respect to z and w (None where unconnected)."""
    z, w = tf.constant(np.array(Z_G)), tf.constant(np.array(W_G))
    with tf.GradientTape() as tape:
        tape.watch(z)
        tape.watch(w)
        loss = _loss(tf, GRADS[name](tf, z, w))
    return [None if g is None else np.asarray(g.numpy()).tolist() for g in tape.gradient(loss, [z, w])]


def _call(tf: Any, fn: Callable[..., Any], arrays: list) -> Any:
    return fn(tf, *[tf.constant(a) for a in arrays])


def run(tf: Any, key: str) -> dict:
    """What case ``key`` gives under module ``tf``: its dtype and values, or the kind of error it raised.

    An error is a "value" error (division by zero and the like) when the case's well-defined twin
    (``VALUE_TWIN``) runs on the same dtype; any other error is a "dtype" refusal.
    """
    fn, arrays = CASES[key]
    try:
        out = _call(tf, fn, arrays)
    except Exception as e:  # noqa: BLE001  (any refusal is recorded, its class name too)
        name, _, dtype = key.partition("[")
        kind = "dtype"
        if name in VALUE_TWIN:
            twin = VALUE_TWIN[name]
            kind = "value"
            if twin is not None:
                try:
                    _call(tf, *CASES[f"{twin}[{dtype}"])
                except Exception:  # noqa: BLE001
                    kind = "dtype"
        return {"error": kind, "type": type(e).__name__}
    if not hasattr(out, "dtype"):
        return {"python": out}
    return {"dtype": out.dtype.name, "value": np.asarray(out.numpy()).tolist()}
