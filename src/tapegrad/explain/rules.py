"""The chain rule of each primitive, as short formula text: what ``replay`` says each rule computed.

``g`` is the cotangent of the op's result, ``a``, ``b``, ``c`` its inputs in order, ``out`` its result.
One entry per input; a primitive missing here is described by the fallback.
"""
from __future__ import annotations

import re

__all__ = ["formula"]

_UNARY = {
    "negative": "-g", "identity": "g", "read_variable": "g", "exp": "g * out", "expm1": "g * (out + 1)",
    "log": "g / a", "log1p": "g / (1 + a)", "sqrt": "g / (2 * out)", "rsqrt": "-g * out**3 / 2",
    "square": "g * 2 * a", "reciprocal": "-g * out**2", "abs": "g * sign(a)", "sin": "g * cos(a)",
    "cos": "-g * sin(a)", "tan": "g * (1 + out**2)", "sinh": "g * cosh(a)", "cosh": "g * sinh(a)",
    "tanh": "g * (1 - out**2)", "asin": "g / sqrt(1 - a**2)", "acos": "-g / sqrt(1 - a**2)",
    "atan": "g / (1 + a**2)", "sigmoid": "g * out * (1 - out)", "softplus": "g * sigmoid(a)",
    "relu": "g * (a > 0)", "softmax": "out * (g - sum(g * out))", "log_softmax": "g - exp(out) * sum(g)",
    "reduce_sum": "g broadcast back to a's shape", "reduce_max": "g where a is the max (shared on ties)",
    "reduce_min": "g where a is the min (shared on ties)", "reduce_prod": "g * out / a",
    "reshape": "g reshaped to a's shape", "transpose": "g transposed back", "broadcast_to": "g summed to a's shape",
    "sum_to": "g broadcast to a's shape", "tile": "g's tiles summed", "cast": "g cast to a's dtype",
    "getitem": "g scattered into zeros of a's shape", "cumsum": "reverse cumsum of g", "conj": "conj(g)",
    "real": "g as a complex number", "imag": "i * g", "concat": "g's slice for this input",
}
_BINARY = {
    "add": ("g", "g"), "subtract": ("g", "-g"), "multiply": ("g * b", "g * a"),
    "divide": ("g / b", "-g * a / b**2"), "pow": ("g * b * a**(b - 1)", "g * log(a) * out"),
    "matmul": ("g @ bᵀ", "aᵀ @ g"), "maximum": ("g * (a >= b)", "g * (a < b)"),
    "minimum": ("g * (a <= b)", "g * (a > b)"), "divide_no_nan": ("g / b (0 where b == 0)", "-g * a / b**2"),
    "multiply_no_nan": ("g * b (0 where b == 0)", "g * a"), "where": ("-", "g where a, else 0", "0 where a, else g"),
}
_BROADCASTS = {"add", "subtract", "multiply", "divide", "pow", "maximum", "minimum", "divide_no_nan",
               "multiply_no_nan", "where"}


def formula(name: str, k: int, n_inputs: int, shape_in: tuple = (), shape_out: tuple = (),
            labels: dict[str, str] | None = None) -> str:
    """The rule op ``name`` applies for its input ``k`` (of ``n_inputs``), as text.

    ``labels`` names the inputs ``a``, ``b``, ``c`` and the result ``out`` in the text.

    >>> from tapegrad.explain.rules import formula
    >>> formula("multiply", 0, 2), formula("multiply", 1, 2)
    ('g * b', 'g * a')
    >>> formula("pow", 0, 2, labels={"a": "x", "b": "2"})
    'g * 2 * x**(2 - 1)'
    >>> formula("add", 1, 2, shape_in=(3,), shape_out=(4, 3))
    'g, summed to shape (3,)'
    """
    if name in _BINARY and k < len(_BINARY[name]):
        text = _BINARY[name][k]
    elif name in _UNARY and (k == 0 or name == "concat"):
        text = _UNARY[name]
    else:
        return f"vjp of {name} for input {'abc'[k] if k < 3 else k}"
    if labels:
        text = re.sub(r"\b(a|b|c|out)\b", lambda mt: labels.get(mt.group(1), mt.group(1)), text)
    if name in _BROADCASTS and tuple(shape_in) != tuple(shape_out):
        text += f", summed to shape {tuple(shape_in)}"  # the input was broadcast in the forward
    return text
