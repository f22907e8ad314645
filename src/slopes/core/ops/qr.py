"""QR decomposition of tall (or square) matrices, ``A = Q R``, as one primitive.

``qr`` acts on ``(m, n)`` or a stack ``(..., m, n)`` with ``m >= n`` and returns
NumPy's values; a wide matrix (``m < n``) is handled above, in
:func:`slopes.numpy.linalg.qr`, as the QR of its first ``m`` columns and
``R2 = Q^T A2``. Derivatives (``A`` of full column rank, ``Q1`` its first ``n``
columns, ``R`` upper triangular ``n x n``): with ``B = dA R^-1`` and
``X = Q1^T B``, let ``L`` be the strictly lower triangle of ``X`` and
``Y = X - L + L^T`` (upper triangular); then

- ``dR = Y R`` and ``dQ1 = B - Q1 Y``;
- with ``complete=True`` and ``m > n``, the extra columns ``Q2`` of ``Q`` are a
  basis of the complement of ``Q1``, unique only up to a rotation; slopes takes
  the derivative that does not rotate them within themselves (``Q2^T dQ2 = 0``):
  ``dQ2 = -Q1 B^T Q2``. Basis-independent quantities such as ``Q2 Q2^T`` get
  their exact derivatives (JAX does not differentiate this case).

Complex matrices (JAX's convention): NumPy's ``R`` has a real diagonal, so
``Q1^H dQ1`` is skew-Hermitian and ``diag(dR)`` real; the same formulas hold
with conjugate transposes and ``Y = X - L + L^H - i Im diag(X)``. The reverse
rule is the plain transpose of this real-linear map.

The output packs ``Q`` (``m x c``) above ``R^T`` (``n x c``) into one array of
shape ``(..., m + n, c)``, ``c = n`` (reduced) or ``m`` (complete);
:func:`unpack_qr` splits it.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import complex_valued
from ..trace import Primitive, shape_of
from .decompositions import _stack_batch, solve
from .elementwise import add, mul, neg, sub
from .linalg import matmul, swap_last
from .shape import concatenate, getitem
from .svd import _adjoint, _conj, imaginary_diagonal, pad_rows

__all__ = ["qr", "unpack_qr"]


def _qr_impl(a, complete=False):
    m, n = np.shape(a)[-2:]
    if m < n:
        raise ValueError(f"the qr primitive needs m >= n, got a matrix of shape {np.shape(a)[-2:]}")
    q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
    return np.concatenate([q, np.swapaxes(r, -1, -2)], axis=-2)


qr = Primitive("qr", _qr_impl)


def unpack_qr(packed, m):
    """Split the output of :data:`qr` for a matrix with ``m`` rows into ``(Q, R)``."""
    q = getitem(packed, index=(Ellipsis, slice(0, m), slice(None)))
    rt = getitem(packed, index=(Ellipsis, slice(m, None), slice(None)))
    return q, swap_last(rt)


def _split(q, r, n):
    """``Q1, Q2`` (None when reduced or square) and the square ``R1`` of a QR."""
    if shape_of(q)[-1] == n:
        return q, None, r
    q1 = getitem(q, index=(Ellipsis, slice(0, n)))
    q2 = getitem(q, index=(Ellipsis, slice(n, None)))
    return q1, q2, getitem(r, index=(Ellipsis, slice(0, n), slice(None)))


def _solve_r(r, x):
    """``R^-1 x``, or an error that says why the derivative of a QR needs ``R`` invertible."""
    try:
        return solve(r, x)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            "qr(): the derivative needs the first min(m, n) columns of the matrix linearly "
            "independent (R has a zero on its diagonal); the factors exist, but they do not "
            "depend differentiably on the matrix there"
        ) from None


def _right_solve(x, r):
    """``x R^-1``, as ``(R^-T x^T)^T``."""
    return swap_last(_solve_r(swap_last(r), swap_last(x)))


def _lower(n, dtype, k):
    return np.tril(np.ones((n, n), dtype=dtype), k)


def _qr_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    packed = qr(a, **params)
    if t is None:
        return packed, None
    m, n = shape_of(a)[-2:]
    q1, q2, r = _split(*unpack_qr(packed, m), n)
    b = _right_solve(t, r)  # dA R^-1
    x = matmul(_adjoint(q1), b)
    low = mul(x, _lower(n, np.float64, -1))
    y = add(sub(x, low), _adjoint(low))  # upper triangular
    if complex_valued(x):
        y = sub(y, imaginary_diagonal(x))
    dq = sub(b, matmul(q1, y))
    dr = matmul(y, r)
    last = len(shape_of(dq)) - 1
    if q2 is not None:
        dq = concatenate(dq, neg(matmul(q1, matmul(_adjoint(b), q2))), axis=last)
        return packed, concatenate(dq, swap_last(pad_rows(dr, m)), axis=last - 1)  # R has m - n zero rows
    return packed, concatenate(dq, swap_last(dr), axis=last - 1)


def _qr_vjp(g, packed, a, complete=False):
    m, n = shape_of(a)[-2:]
    q1, q2, r = _split(*unpack_qr(packed, m), n)
    gq1, gq2, gr = _split(*unpack_qr(g, m), n)
    # the plain transpose of the forward rule: gY, then gX, then gB = gQ1 + conj(Q1) gX (- the Q2 term)
    mm = sub(matmul(gr, swap_last(r)), matmul(swap_last(q1), gq1))
    up = mul(mm, _lower(n, np.float64, 0).T)  # upper triangle with the diagonal
    strict = mul(mm, _lower(n, np.float64, -1).T)
    gx = add(up, _adjoint(strict))
    if complex_valued(gx):
        gx = sub(gx, imaginary_diagonal(mm))
    gb = add(gq1, matmul(_conj(q1), gx))
    if q2 is not None:
        gb = sub(gb, _conj(matmul(q2, matmul(swap_last(gq2), q1))))
    return swap_last(_solve_r(r, swap_last(gb)))  # gB R^-T


qr.jvp = _qr_jvp
qr.vjps = (_qr_vjp,)
qr.keeps = ("ans",)  # of ``a`` the rule reads only its shape
_stack_batch(qr)
