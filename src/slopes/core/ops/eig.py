"""The general (non-symmetric) eigendecomposition as a primitive, with complex results.

``eig(A)`` returns eigenvalues and eigenvectors packed like ``eigh``
(``(..., n + 1, n)``: row 0 the eigenvalues, rows ``1..n`` the eigenvectors; see
:mod:`.decompositions`), always complex, as JAX does (NumPy returns real arrays
when every eigenvalue happens to be real: a dtype that depends on the values).

Derivatives (distinct eigenvalues), with ``P = V^-1 dA V``:
``dw = diag(P)`` and ``dV = N(V (F o P))`` where ``F_ij = 1 / (w_j - w_i)`` off
the diagonal (0 on it and between equal eigenvalues) and
``N(W) = W - V Re(diag(V^H W))`` keeps each eigenvector at unit length, as
NumPy returns them. The phase of an eigenvector is arbitrary, so only
phase-free functions of the eigenvectors (``|V|``, projectors) are well-defined;
this is JAX's convention. The reverse rule is the transpose of that map, with
complex values transposed as in JAX (no conjugation):
``ct_A = V^-T (diag(g_w) + F o (V^T N^T(g_V))) V^T`` with
``N^T(G) = G - conj(V) Re(diag(V^T G))``.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, shape_of
from .decompositions import _EIGVALS, _EIGVECS, _inverse_gaps, _pack, _stack_batch, solve
from .elementwise import add, conj, mul, real, sub
from .linalg import matmul, swap_last
from .reduce import reduce_sum
from .shape import getitem, reshape

__all__ = ["eig", "unpack_eig"]

def unpack_eig(packed):
    """Split the output of :data:`eig`, ``(..., n + 1, n)``, into ``(w, V)``, both complex."""
    return getitem(packed, index=_EIGVALS), getitem(packed, index=_EIGVECS)


def _eig_impl(a):
    w, v = np.linalg.eig(a)
    dtype = np.result_type(np.asarray(a).dtype, np.complex64)
    return np.concatenate([w[..., None, :], v], axis=-2).astype(dtype, copy=False)


eig = Primitive("eig", _eig_impl)


def _column_sums(x):
    """``diag(...)``-style sums over the rows of each column, kept as a row ``(..., 1, n)``."""
    return reduce_sum(x, axis=(len(shape_of(x)) - 2,), keepdims=True)


def _eye_like(x):
    """The identity matrix of ``x``'s last axis, in its real precision (no upcast of complex64)."""
    return np.eye(shape_of(x)[-1], dtype=np.real(np.zeros((), x.dtype)).dtype)


def _diagonal(p):
    return reduce_sum(mul(p, _eye_like(p)), axis=(len(shape_of(p)) - 1,), keepdims=False)


def _eig_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    packed = eig(a)
    if t is None:
        return packed, None
    w, v = unpack_eig(packed)
    p = solve(v, matmul(t, v))
    dv = matmul(v, mul(_inverse_gaps(w), p))
    dv = sub(dv, mul(v, real(_column_sums(mul(conj(v), dv)))))
    return packed, _pack(_diagonal(p), dv)


def _eig_vjp(g, packed, a):
    w, v = unpack_eig(packed)
    gw, gv = unpack_eig(g)
    n = shape_of(w)[-1]
    gv = sub(gv, mul(conj(v), real(_column_sums(mul(v, gv)))))
    diag_gw = mul(reshape(gw, tuple(shape_of(gw))[:-1] + (1, n)), _eye_like(gw))
    q = add(diag_gw, mul(_inverse_gaps(w), matmul(swap_last(v), gv)))
    return solve(swap_last(v), matmul(q, swap_last(v)))


eig.jvp = _eig_jvp
eig.vjps = (_eig_vjp,)
eig.keeps = ("ans",)
_stack_batch(eig)
