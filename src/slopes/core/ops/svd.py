"""Singular value decomposition: ``svd`` (with singular vectors) and ``svdvals``.

Both act on a matrix ``(m, n)`` or a stack ``(..., m, n)`` like ``numpy.linalg.svd``
and return NumPy's values. With ``k = min(m, n)``, ``A = U1 diag(s) V1^T`` where
``U1`` is ``(m, k)`` and ``V1`` is ``(n, k)``. Derivatives used (``dA`` a tangent,
``P = U1^T dA V1``, ``S = diag(s)``):

- ``ds = diag(P)``;
- ``dU1 = U1 (F o (P S + S P^T)) + (I - U1 U1^T) dA V1 S^-1``;
- ``dV1 = V1 (F o (S P + P^T S)) + (I - V1 V1^T) dA^T U1 S^-1``;

with ``F_ij = 1 / (s_j^2 - s_i^2)`` off the diagonal. Two conventions keep every
derivative finite (JAX and autograd return inf or NaN there instead):

- where two singular values are equal (within rounding: ``|s_i - s_j| <=
  max(m, n) * eps * s_max``), ``F_ij`` is 0 (as for ``eigh``): the
  individual singular vectors of a repeated singular value have no derivative,
  but symmetric functions of the singular values (the nuclear norm, the sum of
  squares) and projectors onto their joint subspace keep exact derivatives;
- where a singular value is 0, its ``S^-1`` entry is 0.

With ``full_matrices`` and a non-square matrix, ``U`` (or ``V``) has extra
columns ``U2``, an orthonormal basis of the complement of ``U1``. That basis is
not unique (JAX and autograd do not differentiate it); slopes takes the
derivative that does not rotate it within itself (``U2^T dU2 = 0``), which is
``dU2 = -U1 S^-1 V1^T dA^T U2`` (and ``dV2 = -V1 S^-1 U1^T dA V2``). Every
basis-independent quantity, such as the projector ``U2 U2^T``, then has its
exact derivative.

Complex matrices: ``svdvals`` and ``pinv`` (so ``cond``, ``lstsq`` and the
nuclear and spectral norms) follow JAX's convention, the reverse rule being the
plain transpose of the forward rule: ``ds_i = Re(u_i^H dA v_i)``, whose
cotangent is ``conj(U1 diag(g) V1^H)``; ``pinv``'s forward rule takes conjugate
transposes, and the terms in ``dA^H`` are conjugated in the reverse rule. The
singular vectors take conjugate transposes too; each pair ``(u_i, v_i)`` of a
complex matrix is fixed only up to a common phase, and ``dU`` carries JAX's
choice of it, ``U1 i Im diag(P) S^-1`` (``V1^H dV1`` has a zero diagonal), so
phase-dependent quantities match JAX and phase-free ones are exact.

A primitive has one output array, so ``svd`` packs its three results into one
array of shape ``(..., p, m + 1 + n)``: row ``i`` holds column ``i`` of ``U``,
singular value ``i`` and row ``i`` of ``V^T``, zero-padded where one of them has
fewer than ``p`` entries (``p = k``, or ``max(m, n)`` with ``full_matrices``).
:func:`unpack_svd` takes it apart.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import complex_valued
from ..trace import Primitive, shape_of
from .decompositions import _stack_batch
from .elementwise import absolute, add, conj, div, equal, imag, less_equal, mul, neg, real, sub, where
from .linalg import matmul, swap_last
from .reduce import reduce_sum
from .shape import concatenate, getitem, reshape

__all__ = ["svd", "svdvals", "unpack_svd", "pinv", "matrix_rank"]


# -- packing ------------------------------------------------------------------------------
def _layout(m, n, full_matrices):
    """``(k, columns of U, rows of V^T, packed rows)`` for an ``(m, n)`` matrix."""
    k = min(m, n)
    cu, cv = (m, n) if full_matrices else (k, k)
    return k, cu, cv, max(cu, cv)


def _svd_impl(a, full_matrices=False, hermitian=False):
    u, s, vt = np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    m, n = np.shape(a)[-2:]
    p = _layout(m, n, full_matrices)[3]
    lead = np.shape(s)[:-1]
    out = np.zeros(lead + (p, m + 1 + n), dtype=np.result_type(s, u))
    out[..., : u.shape[-1], :m] = np.swapaxes(u, -1, -2)
    out[..., : s.shape[-1], m] = s
    out[..., : vt.shape[-2], m + 1 :] = vt
    return out


svd = Primitive("svd", _svd_impl)


def unpack_svd(packed, m, full_matrices=False):
    """Split the output of :data:`svd` for a matrix with ``m`` rows into ``(U, s, Vt)``."""
    n = shape_of(packed)[-1] - 1 - m
    k, cu, cv, _ = _layout(m, n, full_matrices)
    ut = getitem(packed, index=(Ellipsis, slice(0, cu), slice(0, m)))
    s = getitem(packed, index=(Ellipsis, slice(0, k), m))
    s = real(s) if complex_valued(s) else s  # packed with complex vectors; singular values are real
    vt = getitem(packed, index=(Ellipsis, slice(0, cv), slice(m + 1, None)))
    return swap_last(ut), s, vt


def pad_rows(x, p):
    """``x`` with zero rows appended on axis -2 up to ``p`` rows."""
    s = tuple(shape_of(x))
    if s[-2] == p:
        return x
    return concatenate(x, np.zeros(s[:-2] + (p - s[-2], s[-1]), dtype=x.dtype), axis=len(s) - 2)


def _pack(u, s, vt, p):
    """The packed layout of :data:`svd` from its three parts."""
    col = reshape(s, tuple(shape_of(s)) + (1,))
    parts = [pad_rows(swap_last(u), p), pad_rows(col, p), pad_rows(vt, p)]
    return concatenate(*parts, axis=len(shape_of(vt)) - 1)


# -- the shared pieces of the rules ----------------------------------------------------------
def _coupling(s, size):
    """``F[..., i, j] = 1 / (s_j^2 - s_i^2)``, and 0 where ``s_i`` and ``s_j`` are equal.

    "Equal" means within rounding, ``|s_i - s_j| <= size * eps * max(s)`` (the
    tolerance ``matrix_rank`` uses): below it the computed singular vectors of
    the pair are not determined by the matrix at all, and ``1 / gap`` would only
    amplify rounding errors into the derivatives of quantities, such as the
    projector onto the pair, that do not depend on the split.
    """
    sh = tuple(shape_of(s))
    row, col = reshape(s, sh + (1,)), reshape(s, sh[:-1] + (1, sh[-1]))  # s_i, s_j
    diff = sub(col, row)
    top = getitem(s, index=(Ellipsis, slice(0, 1)))  # the largest, (..., 1)
    tol = mul(reshape(top, sh[:-1] + (1, 1)), size * float(np.finfo(s.dtype).eps))
    tie = less_equal(absolute(diff), tol)
    return where(tie, 0.0, div(1.0, where(tie, 1.0, mul(diff, add(col, row)))))


def _safe_reciprocal(s):
    """``1 / s``, and 0 where ``s == 0`` (a zero singular value)."""
    zero = equal(s, 0.0)
    return where(zero, 0.0, div(1.0, where(zero, 1.0, s)))


def _rows(s):
    """``s`` of shape ``(..., k)`` as a column ``(..., k, 1)``: scales the rows of a matrix."""
    return reshape(s, tuple(shape_of(s)) + (1,))


def _cols(s):
    """``s`` of shape ``(..., k)`` as a row ``(..., 1, k)``: scales the columns of a matrix."""
    sh = tuple(shape_of(s))
    return reshape(s, sh[:-1] + (1, sh[-1]))


def _split_cols(x, k):
    """The first ``k`` columns of ``x`` and the rest (None when there is none)."""
    c = shape_of(x)[-1]
    first = x if c == k else getitem(x, index=(Ellipsis, slice(0, k)))
    return first, (None if c == k else getitem(x, index=(Ellipsis, slice(k, None))))


def _conj(x):
    """``conj(x)`` for complex ``x``; real ``x`` itself (no extra operation)."""
    return conj(x) if complex_valued(x) else x


def _adjoint(x):
    """The conjugate transpose of the last two axes (the transpose for real ``x``)."""
    return _conj(swap_last(x))


def _weighted_outer(u1, w, v1):
    """``U1 diag(w) V1^T``: what a cotangent ``w`` of the singular values gives ``A``."""
    return matmul(mul(u1, _cols(w)), swap_last(v1))


def _parts(packed, m, full_matrices):
    """``U1, U2, s, V1, V2`` (``U2``/``V2`` the complements, or None) from a packed svd."""
    u, s, vt = unpack_svd(packed, m, full_matrices)
    k = shape_of(s)[-1]
    u1, u2 = _split_cols(u, k)
    v1, v2 = _split_cols(_adjoint(vt), k)  # V = Vt^H (of a cotangent: conj(gVt^T), its transpose)
    return u1, u2, s, v1, v2


def imaginary_diagonal(x):
    """``i Im diag(x)`` as a matrix (``x`` square): the phase part of a complex factor's derivative.

    Examples
    --------
    >>> from slopes.core.ops.svd import imaginary_diagonal
    >>> d = imaginary_diagonal(np.array([[1 + 2j, 5j], [3.0, 4 - 1j]]))
    >>> d.imag, bool(np.all(d.real == 0))
    (array([[ 2.,  0.],
           [ 0., -1.]]), True)
    """
    return mul(mul(imag(x), np.eye(shape_of(x)[-1])), 1j)


# -- svd -------------------------------------------------------------------------------------
def _vectors_tangent(x1, x2, tx, p, s, f, inv_s, phase=False):
    """The tangent of one side's singular vectors, ``[dX1, dX2]``.

    For ``U``: ``x1 = U1``, ``tx = dA V1``, ``p = P``; for ``V``: ``x1 = V1``,
    ``tx = dA^H U1``, ``p = P^H`` (the formulas are the same with the roles swapped):
    ``dX1 = X1 (F o (p S + S p^H)) + (tx - X1 p) S^-1`` and ``dX2 = -X1 S^-1 tx^H X2``.
    For complex matrices ``U`` (``phase=True``) also turns by ``i Im diag(P) S^-1``:
    NumPy's factors fix each pair's common phase, and this is JAX's choice of it.
    """
    rotation = mul(f, add(mul(p, _cols(s)), mul(_rows(s), _adjoint(p))))
    if phase and complex_valued(p):
        rotation = add(rotation, mul(imaginary_diagonal(p), _cols(inv_s)))
    dx = add(matmul(x1, rotation), mul(sub(tx, matmul(x1, p)), _cols(inv_s)))
    if x2 is None:
        return dx
    dx2 = neg(matmul(x1, mul(_rows(inv_s), matmul(_adjoint(tx), x2))))
    return concatenate(dx, dx2, axis=len(shape_of(dx)) - 1)


def _svd_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    packed = svd(a, **params)
    if t is None:
        return packed, None
    u1, u2, s, v1, v2 = _parts(packed, shape_of(a)[-2], params.get("full_matrices", False))
    tv = matmul(t, v1)  # dA V1
    p = matmul(_adjoint(u1), tv)  # P = U1^H dA V1
    f = _coupling(s, max(shape_of(a)[-2:]))
    inv_s = _safe_reciprocal(s)
    ds = reduce_sum(mul(_conj(u1), tv), axis=(len(shape_of(tv)) - 2,), keepdims=False)  # diag(P)
    ds = real(ds) if complex_valued(ds) else ds
    du = _vectors_tangent(u1, u2, tv, p, s, f, inv_s, phase=True)
    dv = _vectors_tangent(v1, v2, matmul(_adjoint(t), u1), _adjoint(p), s, f, inv_s)
    return packed, _pack(du, ds, _adjoint(dv), shape_of(packed)[-2])


def _vectors_cotangent(x1, x2, gx1, gx2, s, f, inv_s, phase=False):
    """What the cotangents ``gX1, gX2`` of one side's vectors give ``A`` (the plain transpose of
    :func:`_vectors_tangent`), as ``W`` with ``J = X1^T gX1`` and
    ``W = conj(X1) (F o (J - J^H)) S + (gX1 - conj(X1) J) S^-1 - conj(X2 gX2^T X1) S^-1``
    (plus ``conj(X1) i Im diag(J) S^-1`` with ``phase``): ``A`` gets ``W V1^T`` from ``U`` and
    ``conj(U1 W^T)`` from ``V``."""
    j = matmul(swap_last(x1), gx1)
    xc = _conj(x1)
    w = add(
        matmul(xc, mul(mul(f, sub(j, _adjoint(j))), _cols(s))),
        mul(sub(gx1, matmul(xc, j)), _cols(inv_s)),
    )
    if phase and complex_valued(j):
        w = add(w, matmul(xc, mul(imaginary_diagonal(j), _cols(inv_s))))
    if x2 is not None:
        w = sub(w, mul(_conj(matmul(x2, matmul(swap_last(gx2), x1))), _cols(inv_s)))
    return w


def _svd_vjp(g, packed, a, full_matrices=False, hermitian=False):
    m = shape_of(a)[-2]
    u1, u2, s, v1, v2 = _parts(packed, m, full_matrices)
    gu1, gu2, gs, gv1, gv2 = _parts(g, m, full_matrices)
    f = _coupling(s, max(shape_of(a)[-2:]))
    inv_s = _safe_reciprocal(s)
    values = _conj(_weighted_outer(u1, gs, _conj(v1)))  # conj(U1 diag(gs) V1^H)
    left = matmul(_vectors_cotangent(u1, u2, gu1, gu2, s, f, inv_s, phase=True), swap_last(v1))
    right = _adjoint(matmul(_vectors_cotangent(v1, v2, gv1, gv2, s, f, inv_s), swap_last(u1)))
    return add(values, add(left, right))


svd.jvp = _svd_jvp
svd.vjps = (_svd_vjp,)
svd.keeps = ("ans",)  # the rule reads the factors; of ``a`` only its shape
_stack_batch(svd)


# -- singular values only ------------------------------------------------------------------------
def _svdvals_impl(a, hermitian=False):
    return np.linalg.svd(a, compute_uv=False, hermitian=hermitian)


svdvals = Primitive("svdvals", _svdvals_impl)


def _singular_pairs(a):
    """``s``, ``U1`` and ``V1`` with ``A = U1 diag(s) V1^H`` (``V1`` conjugated for complex ``a``)."""
    u1, _, s, v1, _ = _parts(svd(a), shape_of(a)[-2], False)
    return s, u1, v1


def _svdvals_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    s, u1, v1 = _singular_pairs(a)
    if t is None:
        return s, None
    ds = reduce_sum(mul(_conj(u1), matmul(t, v1)), axis=(len(shape_of(v1)) - 2,), keepdims=False)
    return s, real(ds) if complex_valued(ds) else ds  # Re(u_i^H dA v_i)


def _svdvals_vjp(g, s, a, hermitian=False):
    _, u1, v1 = _singular_pairs(a)
    return _conj(_weighted_outer(u1, g, _conj(v1)))  # conj(U1 diag(g) V1^H)


svdvals.jvp = _svdvals_jvp
svdvals.vjps = (_svdvals_vjp,)
svdvals.keeps = (0,)  # the vectors are recomputed from ``a`` only when a gradient is asked for
_stack_batch(svdvals)


# -- pseudo-inverse and rank ----------------------------------------------------------------------
def _pinv_impl(a, rcond, hermitian=False):
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)


pinv = Primitive("pinv", _pinv_impl)


def _pinv_jvp(primals, tangents, params):
    # Golub & Pereyra (1973), valid where the rank is locally constant:
    # dX = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X
    (a,), (t,) = primals, tangents
    x = pinv(a, **params)
    if t is None:
        return x, None
    tt = _adjoint(t)
    xt = _adjoint(x)
    r = sub(tt, matmul(matmul(tt, a), x))  # dA^T (I - A X)
    q = matmul(tt, matmul(xt, x))  # dA^T X^T X
    dx = add(
        sub(matmul(x, matmul(xt, r)), matmul(x, matmul(t, x))),
        sub(q, matmul(x, matmul(a, q))),
    )
    return x, dx


def _pinv_vjp(g, x, a, **params):
    # the plain transpose of the forward rule; its terms in dA^H come back conjugated
    gt = swap_last(g)
    xt = swap_last(x)
    xh = _adjoint(x)
    h = matmul(gt, matmul(x, xh))  # g^T X X^H
    k = matmul(matmul(xh, x), gt)  # X^H X g^T
    return add(
        neg(matmul(xt, matmul(g, xt))),
        _conj(add(sub(h, matmul(a, matmul(x, h))), sub(k, matmul(matmul(k, x), a)))),
    )


pinv.jvp = _pinv_jvp
pinv.vjps = (_pinv_vjp,)
pinv.keeps = (0, "ans")
_stack_batch(pinv)


def _rank_impl(a, tol=None, hermitian=False, rtol=None):
    return np.asarray(np.linalg.matrix_rank(a, tol=tol, hermitian=hermitian, rtol=rtol))


matrix_rank = Primitive("matrix_rank", _rank_impl, differentiable=False)
_stack_batch(matrix_rank)
