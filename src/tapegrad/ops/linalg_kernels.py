"""Forward kernels of the matrix primitives (``table.matrix``, ``table.decomp``): ``xp.linalg`` on the last two axes.

Decompositions with several results return them packed in one array (see ``pack``), so that each stays
one primitive with one rule; the public functions unpack them with recorded ops.
"""
from __future__ import annotations

from typing import Any

from tapegrad._core.backend import BackendError, xp
from tapegrad._core.errors import InvalidArgumentError

from .kernels import NUMPY, astype, reshape

_HALF = xp.dtype(xp.float16)
_LINALG_ERROR = xp.linalg.LinAlgError  # NumPy's: array_api_strict raises it too, and CuPy uses NumPy's


def _lapack(op: str, fn: Any, *arrays: Any) -> Any:
    """``fn(*arrays)``, float16 worked in float32 (LAPACK has no half precision), failures said in TF's words."""
    half = arrays[0].dtype == _HALF
    if half:
        arrays = tuple(astype(a, xp.float32) for a in arrays)
    try:
        out = fn(*arrays)
    except _LINALG_ERROR as e:
        why = ("the matrix is not positive definite (Cholesky decomposition was not successful); check that it "
               "is symmetric with positive eigenvalues, e.g. add a multiple of the identity"
               if op == "cholesky" else "the matrix is not invertible (it is singular); check its rank, or solve in "
               "the least-squares sense with tg.linalg.lstsq (l2_regularizer > 0 for a rank-deficient one)")
        raise InvalidArgumentError(f"{op}: {why} ({e})") from None
    if half:
        out = tuple(astype(o, _HALF) for o in out) if isinstance(out, tuple) else astype(out, _HALF)
    return out


def mT(a: Any) -> Any:
    return xp.swapaxes(a, -1, -2)


def band_mask(m: int, n: int, lower: int, upper: int, dtype: Any) -> Any:
    """Ones where ``j - i <= upper`` and ``i - j <= lower`` (a negative bound: no limit), zeros elsewhere."""
    d = xp.arange(n)[None, :] - xp.arange(m)[:, None]
    keep = xp.ones((m, n), dtype=xp.bool_)
    if lower >= 0:
        keep &= d >= -lower
    if upper >= 0:
        keep &= d <= upper
    return astype(keep, dtype)


def inverse(a: Any) -> Any:
    return _lapack("inv", xp.linalg.inv, a)


def det(a: Any) -> Any:
    return _lapack("det", xp.linalg.det, a)


def slogdet(a: Any) -> Any:
    """sign and log|det| stacked on a last axis of 2."""
    sign, logabs = _lapack("slogdet", xp.linalg.slogdet, a)
    return xp.stack([sign, logabs], axis=-1)


def solve(a: Any, b: Any, adjoint: bool) -> Any:
    return _lapack("solve", xp.linalg.solve, mT(a) if adjoint else a, b)


def triangular_solve(a: Any, b: Any, lower: bool, adjoint: bool) -> Any:
    # Only the triangle named by ``lower`` is read, as in TensorFlow; batch axes broadcast.
    m = band_mask(a.shape[-1], a.shape[-1], -1, 0, a.dtype) if lower else band_mask(a.shape[-1], a.shape[-1], 0, -1,
                                                                                     a.dtype)
    tri = a * m
    return _lapack("triangular_solve", xp.linalg.solve, mT(tri) if adjoint else tri, b)


def cholesky(a: Any) -> Any:
    # NumPy reads the lower triangle only, as TensorFlow does.
    return _lapack("cholesky", xp.linalg.cholesky, a)


def eigh(a: Any) -> Any:
    """Eigenvalues (ascending) in row 0, eigenvectors (columns) below: shape (..., n + 1, n)."""
    w, v = _lapack("eigh", xp.linalg.eigh, a)
    return xp.concatenate([w[..., None, :], v], axis=-2)


def svd(a: Any, full_matrices: bool) -> Any:
    """s, u and v (not v^H, as in TensorFlow), flattened and joined on the last axis."""
    u, s, vh = _lapack("svd", lambda x: xp.linalg.svd(x, full_matrices=full_matrices), a)
    return pack(s, u, mT(vh))


def qr(a: Any, full_matrices: bool) -> Any:
    q, r = _lapack("qr", lambda x: xp.linalg.qr(x, mode="complete" if full_matrices else "reduced"), a)
    return pack(q, r)


def pack(*parts: Any) -> Any:
    """Arrays with the same batch axes, each flattened past them and joined along one last axis."""
    first = parts[0]
    nb = first.ndim - (1 if len(parts) == 3 else 2)  # svd starts with the vector s
    batch = first.shape[:nb]
    return xp.concatenate([reshape(p, batch + (-1,)) for p in parts], axis=-1)


def einsum(*xs: Any, equation: str) -> Any:
    if not all(isinstance(x, NUMPY) for x in xs):
        try:
            found = xp.einsum  # Dask's, CuPy's
        except BackendError:
            return _einsum_standard(equation, xs)
        return found(equation, *xs)
    # Contraction order matters only past two operands or on large ones, where NumPy's optimizer pays back.
    big = len(xs) > 2 or any(x.size > 4096 for x in xs)
    return xp.einsum(equation, *xs, optimize=big)


def _diagonal(x: Any, labels: str) -> tuple:
    """``x`` taken along the diagonal of each label it repeats ("ii" -> "i"), and its labels then."""
    while len(set(labels)) != len(labels):
        label = next(c for c in labels if labels.count(c) > 1)
        same = [i for i, c in enumerate(labels) if c == label]
        rest = [i for i in range(len(labels)) if i not in same]
        x = xp.permute_dims(x, tuple(rest + same))
        n = x.shape[-1]
        x = xp.reshape(x, tuple(x.shape[:len(rest)]) + (n ** len(same),))
        x = xp.take(x, xp.arange(n) * sum(n ** j for j in range(len(same))), axis=-1)
        labels = "".join(labels[i] for i in rest) + label
    return x, labels


def _einsum_standard(equation: str, xs: tuple) -> Any:
    """einsum in standard calls, for a library without one: every operand broadcast over all the labels, their
    product summed over the labels not in the output (memory: the product of all the labels' sizes)."""
    ins, out = equation.split("->")
    order = list(out) + sorted(set(ins.replace(",", "")) - set(out))
    prod = None
    for x, labels in zip(xs, ins.split(",")):
        x, labels = _diagonal(x, labels)
        x = xp.permute_dims(x, tuple(sorted(range(len(labels)), key=lambda i: order.index(labels[i]))))
        ordered = sorted(labels, key=order.index)
        x = xp.reshape(x, tuple(x.shape[ordered.index(c)] if c in labels else 1 for c in order))
        prod = x if prod is None else prod * x
    summed = tuple(range(len(out), len(order)))
    return xp.sum(prod, axis=summed) if summed else prod
