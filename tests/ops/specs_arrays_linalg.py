"""Specs of tf.linalg's primitives (``ops/table/matrix.py``, ``decomp.py``) and of the array and linalg
functions built on primitives; ``specs.py`` merges them into SPECS and COMPOSITES.

Linear-algebra inputs are made well-conditioned by each call: a shifted diagonal, A A^T + I, gaps of
about 3 between eigen/singular values; eigen/singular vectors have their arbitrary sign fixed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import tapegrad as tg

from .specs import AWAY_FROM_ZERO, REALS, UNIT, Domain, Spec

C = {"complex": True}

_I3 = 3.0 * np.eye(3)
_SPREAD = np.diag([0.0, 3.0, 6.0])  # eigen/singular values about 3 apart


def _gram(a: Any) -> Any:
    return tg.matmul(a, a, transpose_b=True) + _I3


def _np_gram(a: np.ndarray) -> np.ndarray:
    return a @ np.swapaxes(a, -1, -2) + _I3


def _eigh_fixed(a: Any) -> Any:
    """Eigenvalues over eigenvectors, each vector's sign fixed (its first entry positive): an eigenvector's
    sign is arbitrary, and this keeps it constant under the checks' small steps."""
    e, v = tg.linalg.eigh(a)
    return tg.concat([tg.expand_dims(e, -2), v * tg.sign(v[..., :1, :])], -2)


def _np_eigh(a: np.ndarray) -> np.ndarray:
    e, v = np.linalg.eigh(a)
    return np.concatenate([e[..., None, :], v * np.sign(v[..., :1, :])], -2)


def _svd_fixed(a: Any) -> Any:
    s, u, v = tg.linalg.svd(a)
    sign = tg.sign(u[..., :1, :])
    return tg.concat([s, tg.reshape(u * sign, s.shape[:-1] + (-1,)), tg.reshape(v * sign, s.shape[:-1] + (-1,))], -1)


def _np_svd(a: np.ndarray) -> np.ndarray:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    sign = np.sign(u[..., :1, :])
    v = np.swapaxes(vh, -1, -2)
    return np.concatenate([s, (u * sign).reshape(s.shape[:-1] + (-1,)), (v * sign).reshape(s.shape[:-1] + (-1,))], -1)


def _np_update(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[1, 2], out[0, 0] = u[1], u[2]  # the last of repeated coordinates wins
    return out


def _np_set_diag(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    out = x.copy()
    i = np.arange(3)
    out[:, i, i + 1] = d
    return out


def _np_ridge_wide(a: np.ndarray, b: np.ndarray, lam: float) -> np.ndarray:
    return a.T @ np.linalg.solve(a @ a.T + lam * np.eye(len(a)), b)


LINALG_SPECS: dict[str, Spec] = {
    "matrix_inverse": Spec(lambda a: tg.linalg.inv(a + _I3), (UNIT,), [(2, 3, 3)],
                           reference=lambda a: np.linalg.inv(a + _I3)),
    "matrix_determinant": Spec(lambda a: tg.linalg.det(a + _I3), (UNIT,), [(2, 3, 3)],
                               reference=lambda a: np.linalg.det(a + _I3)),
    "slogdet": Spec(lambda a: tg.stack(tg.linalg.slogdet(a - _I3), -1), (UNIT,), [(2, 3, 3)],
                    reference=lambda a: np.stack(np.linalg.slogdet(a - _I3), -1)),
    "matrix_solve": Spec(lambda a, b: tg.linalg.solve(a + _I3, b, adjoint=True), (UNIT, REALS), [(2, 3, 3), (2, 3, 2)],
                         reference=lambda a, b: np.linalg.solve(np.swapaxes(a + _I3, -1, -2), b)),
    "triangular_solve": Spec(lambda a, b: tg.linalg.triangular_solve(a + _I3, b, lower=False), (UNIT, REALS),
                             [(2, 3, 3), (3, 2)], reference=lambda a, b: np.linalg.solve(np.triu(a + _I3), b)),
    "cholesky": Spec(lambda a: tg.linalg.cholesky(_gram(a)), (REALS,), [(2, 3, 3)],
                     reference=lambda a: np.linalg.cholesky(_np_gram(a))),
    "eigh": Spec(lambda a: _eigh_fixed(a + _SPREAD), (UNIT,), [(2, 3, 3)], reference=lambda a: _np_eigh(a + _SPREAD)),
    "svd": Spec(lambda a: _svd_fixed(a + _SPREAD[:, :2]), (Domain(-0.3, 0.3),), [(2, 3, 2)],
                reference=lambda a: _np_svd(a + _SPREAD[:, :2])),
    "qr": Spec(lambda a: tg.concat([tg.reshape(p, (-1,)) for p in tg.linalg.qr(a + _SPREAD[:, :2])], 0), (UNIT,),
               [(3, 2)], reference=lambda a: np.concatenate([p.ravel() for p in np.linalg.qr(a + _SPREAD[:, :2])])),
    "einsum": Spec(lambda a, b: tg.einsum("iij,jkl->ik", a, b), (REALS, REALS), [(2, 2, 3), (3, 4, 2)],
                   reference=lambda a, b: np.einsum("iij,jkl->ik", a, b), **C),
}

ARRAYS_LINALG_COMPOSITES: dict[str, Spec] = {
    # ops13b: array ops (indexing with positions from NumPy)
    "pad_constant": Spec(lambda x: tg.pad(x, [[1, 0], [2, 1]], constant_values=2.0), (REALS,), [(2, 3)],
                         reference=lambda x: np.pad(x, [[1, 0], [2, 1]], constant_values=2), **C),
    "pad_reflect": Spec(lambda x: tg.pad(x, [[1, 1], [2, 0]], "REFLECT"), (REALS,), [(2, 3)],
                        reference=lambda x: np.pad(x, [[1, 1], [2, 0]], "reflect"), **C),
    "pad_symmetric": Spec(lambda x: tg.pad(x, [[2, 1], [0, 3]], "SYMMETRIC"), (REALS,), [(2, 3)],
                          reference=lambda x: np.pad(x, [[2, 1], [0, 3]], "symmetric"), **C),
    "split": Spec(lambda x: tg.concat(tg.split(x, [1, -1], axis=1)[::-1], 1), (REALS,), [(2, 3)],
                  reference=lambda x: np.concatenate([x[:, 1:], x[:, :1]], 1), **C),
    "slice": Spec(lambda x: tg.slice(x, [0, 1], [-1, 2]), (REALS,), [(2, 4)], reference=lambda x: x[:, 1:3], **C),
    "strided_slice": Spec(lambda x: tg.strided_slice(x, [1, 3], [4, 0], [2, -1], end_mask=2), (REALS,), [(5, 4)],
                          reference=lambda x: x[1:4:2, 3::-1], **C),
    "strided_index": Spec(lambda x: x[1:5:2, ::-1][..., None], (REALS,), [(6, 3)],
                          reference=lambda x: x[1:5:2, ::-1][..., None], **C),
    "gather_nd": Spec(lambda x: tg.gather_nd(x, [[0, 1], [1, 2], [0, 1]]), (REALS,), [(2, 3)],
                      reference=lambda x: x[[0, 1, 0], [1, 2, 1]], **C),
    "gather_nd_batch": Spec(lambda x: tg.gather_nd(x, [[[1], [0]], [[2], [2]]], batch_dims=1), (REALS,), [(2, 3, 2)],
                            reference=lambda x: np.stack([x[0][[1, 0]], x[1][[2, 2]]]), **C),
    "gather_batch_dims": Spec(lambda x: tg.gather(x, [[0, 2], [1, 1]], axis=2, batch_dims=1), (REALS,), [(2, 2, 3)],
                              reference=lambda x: np.stack([x[0][:, [0, 2]], x[1][:, [1, 1]]]), **C),
    "boolean_mask": Spec(lambda x: tg.boolean_mask(x, [True, False, True], axis=1), (REALS,), [(2, 3)],
                         reference=lambda x: x[:, [0, 2]], **C),
    "reverse": Spec(lambda x: tg.reverse(x, [0, -1]), (REALS,), [(2, 3)], reference=lambda x: x[::-1, ::-1], **C),
    "tensor_scatter_nd_update": Spec(lambda x, u: tg.tensor_scatter_nd_update(x, [[0, 0], [1, 2], [0, 0]], u),
                                     (REALS, REALS), [(2, 3), (3,)], reference=lambda x, u: _np_update(x, u), **C),
    "tensor_scatter_nd_add": Spec(lambda x, u: tg.tensor_scatter_nd_add(x, [[1], [0], [1]], u), (REALS, REALS),
                                  [(2, 3), (3, 3)], reference=lambda x, u: x + np.stack([u[1], u[0] + u[2]]), **C),
    "repeat": Spec(lambda x: tg.repeat(x, [1, 0, 2], axis=1), (REALS,), [(2, 3)],
                   reference=lambda x: np.repeat(x, [1, 0, 2], axis=1), **C),
    "sort": Spec(lambda x: tg.sort(x, axis=0, direction="DESCENDING"), (REALS,), [(4, 2)],
                 reference=lambda x: -np.sort(-x, axis=0)),
    # ops13b: tf.linalg composites
    "trace": Spec(tg.linalg.trace, (REALS,), [(2, 3, 3)], reference=lambda x: np.trace(x, axis1=-2, axis2=-1), **C),
    "diag": Spec(lambda d: tg.linalg.diag(d, k=1), (REALS,), [(2, 3)],
                 reference=lambda d: np.stack([np.diag(r, 1) for r in d]), **C),
    "diag_part": Spec(lambda x: tg.linalg.diag_part(x, k=-1), (REALS,), [(3, 4)], reference=lambda x: np.diag(x, -1),
                      **C),
    "set_diag": Spec(lambda x, d: tg.linalg.set_diag(x, d, k=1), (REALS, REALS), [(2, 3, 4), (2, 3)],
                     reference=lambda x, d: _np_set_diag(x, d), **C),
    "band_part": Spec(lambda x: tg.linalg.band_part(x, 1, 0), (REALS,), [(3, 4)],
                      reference=lambda x: np.tril(x) - np.tril(x, -2), **C),
    "inv_adjoint": Spec(lambda a: tg.linalg.inv(a + _I3, adjoint=True), (UNIT,), [(3, 3)],
                        reference=lambda a: np.linalg.inv(a + _I3).T),
    "solve": Spec(lambda a, b: tg.linalg.solve(a + _I3, b), (UNIT, REALS), [(3, 3), (3, 2)],
                  reference=lambda a, b: np.linalg.solve(a + _I3, b)),
    "triangular_solve_lower_adjoint": Spec(
        lambda a, b: tg.linalg.triangular_solve(a + _I3, b, adjoint=True), (UNIT, REALS), [(3, 3), (2, 3, 1)],
        reference=lambda a, b: np.linalg.solve(np.tril(a + _I3).T, b)),
    "cholesky_solve": Spec(lambda a, b: tg.linalg.cholesky_solve(tg.linalg.cholesky(_gram(a)), b), (REALS, REALS),
                           [(3, 3), (3, 2)], reference=lambda a, b: np.linalg.solve(_np_gram(a), b)),
    "logdet": Spec(lambda a: tg.linalg.logdet(_gram(a)), (REALS,), [(2, 3, 3)],
                   reference=lambda a: np.linalg.slogdet(_np_gram(a))[1]),
    "lstsq": Spec(lambda a, b: tg.linalg.lstsq(a + _SPREAD[:, :2], b), (UNIT, REALS), [(3, 2), (3, 1)],
                  reference=lambda a, b: np.linalg.lstsq(a + _SPREAD[:, :2], b, rcond=None)[0]),
    "lstsq_wide_ridge": Spec(lambda a, b: tg.linalg.lstsq(a + _SPREAD[:2], b, l2_regularizer=0.5), (UNIT, REALS),
                             [(2, 3), (2, 2)], reference=lambda a, b: _np_ridge_wide(a + _SPREAD[:2], b, 0.5)),
    "eigvalsh": Spec(lambda a: tg.linalg.eigvalsh(a + _SPREAD), (UNIT,), [(3, 3)],
                     reference=lambda a: np.linalg.eigvalsh(a + _SPREAD)),
    "svd_values": Spec(lambda a: tg.linalg.svd(a + _SPREAD[:2], compute_uv=False), (UNIT,), [(2, 3)],
                       reference=lambda a: np.linalg.svd(a + _SPREAD[:2], compute_uv=False)),
    "svd_wide": Spec(lambda a: _svd_fixed(a + _SPREAD[:2]), (Domain(-0.3, 0.3),), [(2, 3)],
                     reference=lambda a: _np_svd(a + _SPREAD[:2])),
    "qr_wide": Spec(lambda a: tg.concat([tg.reshape(p, (-1,)) for p in tg.linalg.qr(a + _SPREAD[:2])], 0), (UNIT,),
                    [(2, 3)], reference=lambda a: np.concatenate([p.ravel() for p in np.linalg.qr(a + _SPREAD[:2])])),
    "norm_p": Spec(lambda x: tg.norm(x, 3, axis=-1), (AWAY_FROM_ZERO,), [(2, 3)],
                   reference=lambda x: np.linalg.norm(x, 3, axis=-1)),
    "norm_p_half": Spec(lambda x: tg.norm(x, 0.5), (AWAY_FROM_ZERO,), [(4,)],
                        reference=lambda x: np.sum(np.abs(x) ** 0.5) ** 2),
    "norm_matrix_2": Spec(lambda x: tg.norm(x + _SPREAD[:, :2], 2, axis=(1, 2), keepdims=True), (UNIT,), [(2, 3, 2)],
                          reference=lambda x: np.linalg.norm(x + _SPREAD[:, :2], 2, axis=(1, 2), keepdims=True)),
    "norm_matrix_1": Spec(lambda x: tg.norm(x, 1, axis=(0, 1)), (AWAY_FROM_ZERO,), [(3, 2)],
                          reference=lambda x: np.abs(x).sum(0).max(), **C),
    "norm_matrix_inf": Spec(lambda x: tg.norm(x, np.inf, axis=[-1, 0]), (AWAY_FROM_ZERO,), [(3, 2)],
                            reference=lambda x: np.abs(x).sum(0).max(), **C),
    "norm_fro": Spec(lambda x: tg.norm(x, "fro", axis=(0, 2)), (AWAY_FROM_ZERO,), [(2, 3, 2)],
                     reference=lambda x: np.linalg.norm(x, "fro", axis=(0, 2))),
    "global_norm": Spec(lambda x, y: tg.linalg.global_norm([x, None, y]), (AWAY_FROM_ZERO, AWAY_FROM_ZERO),
                        [(2, 3), (3,)], reference=lambda x, y: np.sqrt(np.sum(x * x) + np.sum(y * y))),
    "clip_by_global_norm": Spec(lambda x, y: tg.concat([tg.reshape(t, (-1,)) for t in
                                                        tg.clip_by_global_norm([x, y], 1.0)[0]], 0),
                                (AWAY_FROM_ZERO, AWAY_FROM_ZERO), [(2, 3), (3,)],
                                reference=lambda x, y: np.concatenate([x.ravel(), y]) / np.sqrt(np.sum(x * x) +
                                                                                                np.sum(y * y))),
    "einsum_ellipsis": Spec(lambda a, b: tg.einsum("...ij,...jk->...ik", a, b), (REALS, REALS), [(2, 2, 3), (1, 3, 2)],
                            reference=lambda a, b: np.einsum("...ij,...jk->...ik", a, b), **C),
    "einsum_implicit_trace": Spec(lambda a, b: tg.einsum("ij,jk", a, b) + tg.einsum("ii", a), (REALS, REALS),
                                  [(3, 3), (3, 2)], reference=lambda a, b: a @ b + np.trace(a), **C),
    "matmul_adjoint": Spec(lambda a, b: tg.matmul(a, b, adjoint_a=True, transpose_b=True), (REALS, REALS),
                           [(3, 2), (4, 3)], reference=lambda a, b: np.conj(a).T @ b.T, **C),
}
