"""Inverse, determinants, solves and einsum: TensorFlow's rules (``linalg_grad.py``), in tapegrad ops.

Rules of the real matrix ops here and in ``decomp`` are not ``batched``: a Jacobian runs them once per
row (always correct); their inputs' own leading axes are batches of matrices, as in TensorFlow.
"""
from __future__ import annotations

import string
from typing import Any

from tapegrad import ops as F
from tapegrad._core.backend import xp
from tapegrad._core.record import Primitive, apply
from tapegrad._core.tensor import wrap

from .. import linalg_kernels as K
from ._helpers import _c, _Each, _lead, _unbroadcast


def _H(x: Any) -> Any:
    return F.matrix_transpose(x)


def _mat(v: Any) -> Any:
    """A batch of scalars as a batch of 1x1 matrices, to scale matrices with."""
    return F.reshape(v, v._value.shape + (1, 1))


def _trace_of(a: Any) -> Any:
    return F.trace(a)


matrix_inverse = Primitive(
    "matrix_inverse", K.inverse,
    (lambda g, ans, a: -F.matmul(_H(ans), F.matmul(g, _H(ans))),),
    jvp=lambda t, ans, a: -F.matmul(ans, F.matmul(t[0], ans)))
matrix_determinant = Primitive(
    "matrix_determinant", K.det,
    (lambda g, ans, a: _mat(g * ans) * _H(F.inv(a)),),
    jvp=lambda t, ans, a: ans * _trace_of(F.solve(a, t[0])))


def _slogdet_vjp(g: Any, ans: Any, a: Any) -> Any:
    return _mat(g[..., 1]) * _H(F.inv(a))  # the sign is piecewise constant


def _slogdet_jvp(t: tuple, ans: Any, a: Any) -> Any:
    d = _trace_of(F.solve(a, t[0]))
    return F.stack([F.zeros_like(d), d], axis=-1)


# sign and log|det| packed on a last axis of 2 (see linalg_kernels.slogdet)
slogdet = Primitive("slogdet", K.slogdet, (_slogdet_vjp,), jvp=_slogdet_jvp)


def _solve_vjps(solver: Any, mask: Any = None) -> tuple:
    """The cotangents of (matrix, rhs) of ``solver(a, b, adjoint=...)``: TensorFlow's MatrixSolve rules.

    ``mask(grad_a, **params)`` keeps the part of the matrix that the solve reads (a triangle);
    batch axes broadcast between a and b are summed back down.
    """
    def grad_b(g: Any, ans: Any, a: Any, b: Any, adjoint: bool, **p: Any) -> Any:
        gb = solver(a, g, adjoint=not adjoint, **p)
        return _unbroadcast(gb, b._value.shape, ()) if gb._value.shape != b._value.shape else gb

    def grad_a(g: Any, ans: Any, a: Any, b: Any, adjoint: bool, **p: Any) -> Any:
        gb = solver(a, g, adjoint=not adjoint, **p)
        ga = -F.matmul(ans, _H(gb)) if adjoint else -F.matmul(gb, _H(ans))
        if mask is not None:
            ga = mask(ga, **p)
        return _unbroadcast(ga, a._value.shape, ()) if ga._value.shape != a._value.shape else ga
    return grad_a, grad_b


def _solve_jvp(solver: Any, mask: Any = None) -> Any:
    def jvp(t: tuple, ans: Any, a: Any, b: Any, adjoint: bool, **p: Any) -> Any:
        rhs = t[1]
        if t[0] is not None:
            ta = t[0] if mask is None else mask(t[0], **p)
            da = F.matmul(_H(ta) if adjoint else ta, ans)
            rhs = -da if rhs is None else rhs - da
        return F.broadcast_to(solver(a, rhs, adjoint=adjoint, **p), ans._value.shape)
    return jvp


def _solve(a: Any, b: Any, adjoint: bool) -> Any:
    return apply(matrix_solve, (a, b), {"adjoint": adjoint})


def _trisolve(a: Any, b: Any, adjoint: bool, lower: bool) -> Any:
    return apply(triangular_solve, (a, b), {"lower": lower, "adjoint": adjoint})


def _triangle(x: Any, lower: bool) -> Any:
    return F.band_part(x, -1, 0) if lower else F.band_part(x, 0, -1)


matrix_solve = Primitive("matrix_solve", K.solve, _solve_vjps(_solve), jvp=_solve_jvp(_solve))
triangular_solve = Primitive("triangular_solve", K.triangular_solve, _solve_vjps(_trisolve, _triangle),
                             jvp=_solve_jvp(_trisolve, _triangle))

# ---- einsum: the cotangent of an operand is an einsum of the cotangent with the other operands ------

_LETTERS = string.ascii_letters


def _parse(equation: str) -> tuple[list[str], str]:
    ins, out = equation.split("->")
    return ins.split(","), out


def _grad_equation(k: int, subs: list[str], out: str, sizes: dict, lead: int) -> tuple[str, list]:
    """The equation of operand k's cotangent, and the constant operands it needs.

    A label repeated in operand k (a diagonal) comes back through an identity matrix joining it
    to a fresh label; a label only operand k has (summed away) through a vector of ones.
    """
    used = set("".join(subs) + out)
    fresh = iter(c for c in _LETTERS if c not in used)
    batch = "".join(next(fresh) for _ in range(lead))
    others = "".join(s for j, s in enumerate(subs) if j != k) + out
    target, extra, seen = "", [], set()
    for c in subs[k]:
        if c in seen:
            d = next(fresh)
            extra.append((c + d, xp.eye(sizes[c])))
            target += d
            continue
        seen.add(c)
        target += c
        if c not in others:
            extra.append((c, xp.ones(sizes[c])))
    ins = [batch + out] + [s for j, s in enumerate(subs) if j != k] + [e for e, _ in extra]
    return ",".join(ins) + "->" + batch + target, [v for _, v in extra]


def _sizes(subs: list[str], xs: tuple) -> dict:
    return {c: n for s, x in zip(subs, xs) for c, n in zip(s, x._value.shape)}


def _einsum_vjp(k: int, g: Any, ans: Any, *xs: Any, equation: str) -> Any:
    subs, out = _parse(equation)
    eq, consts = _grad_equation(k, subs, out, _sizes(subs, xs), len(_lead(g, ans)))
    dtype = g._value.dtype
    operands = (g,) + tuple(_c(x) for j, x in enumerate(xs) if j != k) + tuple(wrap(v.astype(dtype)) for v in consts)
    return apply(einsum, operands, {"equation": eq})


def _einsum_jvp(t: tuple, ans: Any, *xs: Any, equation: str) -> Any:
    out = None
    for k, tk in enumerate(t):
        if tk is not None:
            term = apply(einsum, xs[:k] + (tk,) + xs[k + 1:], {"equation": equation})
            out = term if out is None else out + term
    return out


# ``equation`` is explicit (``->``), without ellipses and with each operand's labels matching its rank
# (ops.matrix_ops.einsum writes it so); broadcast axes were broadcast before.
einsum = Primitive("einsum", K.einsum, _Each(_einsum_vjp), jvp=_einsum_jvp, batched=True)
