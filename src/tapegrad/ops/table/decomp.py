"""Decompositions: cholesky, eigh, svd, qr. VJPs are TensorFlow's (``linalg_grad.py``), JVPs JAX's
(``jax/_src/lax/linalg.py``), both written in tapegrad ops; real matrices only.

eigh, svd and qr return several arrays packed in one (``linalg_kernels.pack``); ``*_parts`` unpack
them with recorded ops, for the public functions and for the rules alike.
"""
from __future__ import annotations

from typing import Any

from tapegrad import ops as F
from tapegrad._core.record import Primitive

from .. import linalg_kernels as K
from .matrix import _H, _trisolve


def _diag(v: Any) -> Any:
    return F.diag(v)


def _phi(x: Any) -> Any:
    """The lower triangle of x with its diagonal halved."""
    return F.set_diag(F.band_part(x, -1, 0), 0.5 * F.diag_part(x))


def _strictly_lower(x: Any) -> Any:
    return F.band_part(x, -1, 0) - F.band_part(x, 0, 0)


def _safe_reciprocal(x: Any) -> Any:
    # TensorFlow's Lorentz broadening: 1/x, but finite (0) where x is 0 (equal eigen/singular values)
    return x / (x * x + 1e-20)


def _gaps(e: Any) -> Any:
    """f[i, j] = 1 / (e_j - e_i) off the diagonal, 0 on it."""
    d = F.expand_dims(e, -2) - F.expand_dims(e, -1)
    return F.set_diag(_safe_reciprocal(d), F.zeros_like(e))


# ---- cholesky -----------------------------------------------------------------------------------


def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    n = ans._value.shape[-1]
    eye = F.eye(n, batch_shape=ans._value.shape[:-2], dtype=ans.dtype)
    l_inv = _trisolve(ans, eye, False, True)
    grad = F.matmul(F.matmul(_H(l_inv), _phi(F.matmul(_H(ans), g))), l_inv)
    return (grad + _H(grad)) * 0.5


def _cholesky_jvp(t: tuple, ans: Any, a: Any) -> Any:
    sym = (t[0] + _H(t[0])) * 0.5  # the gradient above is with respect to a symmetric change
    y = _trisolve(ans, sym, False, True)
    return F.matmul(ans, _phi(_trisolve(ans, _H(y), False, True)))


cholesky = Primitive("cholesky", K.cholesky, (_cholesky_vjp,), jvp=_cholesky_jvp)

# ---- eigh ---------------------------------------------------------------------------------------


def eigh_parts(p: Any) -> tuple[Any, Any]:
    """Eigenvalues and eigenvectors from eigh's packed result (row 0, then the rest)."""
    return p[..., 0, :], p[..., 1:, :]


def _eigh_vjp(g: Any, ans: Any, a: Any) -> Any:
    e, v = eigh_parts(ans)
    ge, gv = eigh_parts(g)
    inner = _diag(ge) + _gaps(e) * F.matmul(_H(v), gv)
    grad = F.matmul(v, F.matmul(inner, _H(v)))
    # eigh reads only the lower triangle: the symmetric part, folded onto it
    return _phi(grad + _H(grad))


def _eigh_jvp(t: tuple, ans: Any, a: Any) -> Any:
    e, v = eigh_parts(ans)
    low = F.band_part(t[0], -1, 0)
    sym = low + _H(low) - F.band_part(t[0], 0, 0)  # the symmetric matrix eigh sees
    p = F.matmul(_H(v), F.matmul(sym, v))
    dv = F.matmul(v, _gaps(e) * p)
    return F.concat([F.expand_dims(F.diag_part(p), -2), dv], -2)


eigh = Primitive("eigh", K.eigh, (_eigh_vjp,), jvp=_eigh_jvp)

# ---- svd ----------------------------------------------------------------------------------------


def svd_parts(p: Any, m: int, n: int, full_matrices: bool) -> tuple[Any, Any, Any]:
    """s, u, v from svd's packed result, for an m x n input."""
    k = min(m, n)
    ku, kv = (m, n) if full_matrices else (k, k)
    batch = p._value.shape[:-1]
    s = p[..., :k]
    u = F.reshape(p[..., k:k + m * ku], batch + (m, ku))
    v = F.reshape(p[..., k + m * ku:], batch + (n, kv))
    return s, u, v


def _pack(*parts: Any) -> Any:
    batch = parts[0]._value.shape[:-1] if len(parts) == 3 else parts[0]._value.shape[:-2]
    return F.concat([F.reshape(x, batch + (-1,)) for x in parts], -1)


def _svd_vjp(g: Any, ans: Any, a: Any, full_matrices: bool) -> Any:
    m, n = a._value.shape[-2:]
    s, u, v = svd_parts(ans, m, n, full_matrices)
    gs, gu, gv = svd_parts(g, m, n, full_matrices)
    wide = m <= n
    if not wide:  # the rule for a^H = v s u^H, transposed at the end
        m, n, u, v, gu, gv = n, m, v, u, gv, gu
    if full_matrices and n - m > 1:
        raise NotImplementedError(f"svd: no gradient with full_matrices=True for a {m}x{n} matrix, as in "
                                  "TensorFlow (only |rows - columns| <= 1); use full_matrices=False")
    s_mat = _diag(s)
    f = _gaps(s * s)
    v1, gv1 = v[..., :, :m], gv[..., :, :m]
    f_u = f * F.matmul(_H(u), gu)
    f_v = f * F.matmul(_H(v1), gv1)
    inner = _diag(gs) + F.matmul(f_u + _H(f_u), s_mat) + F.matmul(s_mat, f_v + _H(f_v))
    grad = F.matmul(u, F.matmul(inner, _H(v1)))
    if m != n:
        gv1t = _H(gv1)
        rest = gv1t - F.matmul(F.matmul(gv1t, v1), _H(v1))
        if full_matrices:
            rest = rest - F.matmul(F.matmul(_H(v1), gv[..., :, m:]), _H(v[..., :, m:]))
        grad = grad + F.matmul(u * F.expand_dims(_safe_reciprocal(s), -2), rest)
    return grad if wide else _H(grad)


def _svd_jvp(t: tuple, ans: Any, a: Any, full_matrices: bool) -> Any:
    m, n = a._value.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError("svd: no forward-mode derivative with full_matrices=True for a non-square "
                                  "matrix; use full_matrices=False")
    s, u, v = svd_parts(ans, m, n, full_matrices)
    da = t[0]
    dp = F.matmul(_H(u), F.matmul(da, v))
    row = F.expand_dims(s, -2)  # s_j along each row: x * row scales column j by s_j
    col = F.expand_dims(s, -1)
    f = _gaps(s * s)
    du = F.matmul(u, f * (dp * row + col * _H(dp)))
    dv = F.matmul(v, f * (col * dp + _H(dp) * row))
    s_inv = F.expand_dims(_safe_reciprocal(s), -2)
    if m > n:
        dav = F.matmul(da, v)
        du = du + (dav - F.matmul(u, F.matmul(_H(u), dav))) * s_inv
    if n > m:
        dau = F.matmul(_H(da), u)
        dv = dv + (dau - F.matmul(v, F.matmul(_H(v), dau))) * s_inv
    return _pack(F.diag_part(dp), du, dv)


svd = Primitive("svd", K.svd, (_svd_vjp,), jvp=_svd_jvp)

# ---- qr -----------------------------------------------------------------------------------------


def qr_parts(p: Any, m: int, n: int, full_matrices: bool) -> tuple[Any, Any]:
    """q, r from qr's packed result, for an m x n input."""
    k = m if full_matrices else min(m, n)
    batch = p._value.shape[:-1]
    return F.reshape(p[..., :m * k], batch + (m, k)), F.reshape(p[..., m * k:], batch + (k, n))


def _right_solve(x: Any, r: Any) -> Any:
    """x @ inv(r)^T for an upper triangular r."""
    return _H(_trisolve(r, _H(x), False, False))


def _qr_square_vjp(q: Any, r: Any, dq: Any, dr: Any) -> Any:
    qdq = F.matmul(_H(q), dq)
    rdr = F.matmul(r, _H(dr))
    tril = F.band_part(qdq - _H(qdq) + rdr - _H(rdr), -1, 0)
    return F.matmul(q, dr + _right_solve(tril, r)) + _right_solve(dq - F.matmul(q, qdq), r)


def _no_deep_full(m: int, n: int, full_matrices: bool) -> None:
    if full_matrices and m > n:
        raise NotImplementedError(f"qr: no gradient with full_matrices=True for a {m}x{n} matrix (more rows than "
                                  "columns), as in TensorFlow; use full_matrices=False")


def _qr_vjp(g: Any, ans: Any, a: Any, full_matrices: bool) -> Any:
    m, n = a._value.shape[-2:]
    _no_deep_full(m, n, full_matrices)
    q, r = qr_parts(ans, m, n, full_matrices)
    dq, dr = qr_parts(g, m, n, full_matrices)
    if m >= n:
        return _qr_square_vjp(q, r, dq, dr)
    # a = [x, y], r = [u, v]: x = q u is square, v = q^T y
    y, dv = a[..., :, m:], dr[..., :, m:]
    dx = _qr_square_vjp(q, r[..., :, :m], dq + F.matmul(y, _H(dv)), dr[..., :, :m])
    return F.concat([dx, F.matmul(q, dv)], -1)


def _qr_square_jvp(q: Any, r: Any, da: Any) -> tuple[Any, Any]:
    da_rinv = _H(_trisolve(r, _H(da), True, False))  # da @ inv(r)
    qt = F.matmul(_H(q), da_rinv)
    low = _strictly_lower(qt)
    do = low - _H(low)  # skew-symmetric
    return F.matmul(q, do - qt) + da_rinv, F.matmul(qt - do, r)


def _qr_jvp(t: tuple, ans: Any, a: Any, full_matrices: bool) -> Any:
    m, n = a._value.shape[-2:]
    _no_deep_full(m, n, full_matrices)
    q, r = qr_parts(ans, m, n, full_matrices)
    if m >= n:
        return _pack(*_qr_square_jvp(q, r, t[0]))
    dq, du = _qr_square_jvp(q, r[..., :, :m], t[0][..., :, :m])
    dv = F.matmul(_H(dq), a[..., :, m:]) + F.matmul(_H(q), t[0][..., :, m:])
    return _pack(dq, F.concat([du, dv], -1))


qr = Primitive("qr", K.qr, (_qr_vjp,), jvp=_qr_jvp)
