"""Inverses, determinants, solves and decompositions of square matrices.

Every primitive here acts on a matrix ``(n, n)`` or a stack ``(..., n, n)``,
like ``numpy.linalg``; its forward, reverse and batching rules are written
with slopes primitives only (``matmul``, elementwise arithmetic, shape ops and
these primitives themselves), so derivatives of any order work.

Derivatives used (``A`` invertible, ``X`` the result, ``dA`` a tangent):

- ``inv``: ``dX = -X dA X``.
- ``det``: ``d det = det * tr(A^-1 dA)`` (Jacobi's formula).
- ``logabsdet``: ``d log|det A| = tr(A^-1 dA)``; the sign is piecewise constant
  and computed by the non-differentiable ``slogdet_sign``.
- ``solve(A, B)`` (``B`` a stack of matrices ``(..., n, k)``; the NumPy layer
  turns a vector right-hand side into one column): ``dX = A^-1 (dB - dA X)``.
- ``cholesky``: with ``S = L^-1 dA L^-T``, ``dL = L Phi(S)`` where ``Phi`` keeps
  the lower triangle and halves the diagonal.
- ``eigh`` (distinct eigenvalues): with ``P = V^T dA V``, ``dw = diag(P)`` and
  ``dV = V (F o P)``, ``F_ij = 1 / (w_j - w_i)`` off the diagonal and 0 on it.

``cholesky`` and ``eigh`` treat their input as symmetric: they compute the
decomposition of ``(A + A^T) / 2``, which is ``A`` itself for a symmetric
matrix (NumPy reads one triangle instead). Values and derivatives then belong
to one well-defined function of all entries, and gradients come out symmetric.
Complex matrices are read as Hermitian, ``(A + A^H) / 2``, and every ``^T`` of
``V`` or ``L`` above becomes ``^H``; reverse rules transpose complex values as
JAX does (no conjugation of the cotangent), and ``log|det|``'s tangent is the
real part of ``tr(A^-1 dA)``.

A primitive has one output array (a tracer, a tape entry and a batch rule each
carry one value), so ``eigh`` returns the eigenvalues and the eigenvectors
packed into one array of shape ``(..., n + 1, n)``: row 0 holds the
eigenvalues, rows ``1..n`` the eigenvector matrix. ``unpack_eigh`` (two
``getitem``) splits it, and the NumPy layer does this for users. An unused part
gets a zero cotangent, which the rules turn into zero (never NaN), so
``eigvalsh`` is differentiable even where eigenvalues repeat.

Triangular systems are solved with the general LU ``solve`` (NumPy has no
triangular solver); ``L`` is exactly triangular, so the result is the same.
Under ``vmap`` (and so in ``jacfwd``/``jacrev``), a batch of right-hand sides
for unbatched matrices is folded into extra columns: one factorization, not
one per example. Derivatives need ``A`` invertible (``cholesky``: positive
definite); a singular matrix raises ``LinAlgError`` saying so (the gradient
of ``det`` there, ``adj(A)^T``, is not available).
"""

from __future__ import annotations

import numpy as np

from ..dtypes import complex_valued
from ..trace import Primitive, bind, shape_of
from .elementwise import add, conj, div, equal, mul, neg, real, sub, unbroadcast, where
from .linalg import matmul, swap_last
from .reduce import reduce_sum
from .rules import defjvp, make_nondiff
from .shape import align, broadcast_to, concatenate, getitem, reshape, transpose

__all__ = [
    "inv",
    "det",
    "logabsdet",
    "slogdet_sign",
    "solve",
    "cholesky",
    "pd_logdet",
    "eigh",
    "unpack_eigh",
    "symmetrize",
]


# -- helpers, all made of primitives ----------------------------------------------------
def adjoint(x):
    """``x^T`` over the last two axes, conjugated when ``x`` is complex (``x^H``)."""
    return swap_last(conj(x) if complex_valued(x) else x)


def _real_part(x):
    return real(x) if complex_valued(x) else x


def symmetrize(x):
    """``(x + x^H) / 2`` over the last two axes (``(x + x^T) / 2`` for real ``x``)."""
    return mul(add(x, adjoint(x)), 0.5)


def _sym_np(a):
    a = np.asarray(a)
    at = np.swapaxes(a, -1, -2)
    return 0.5 * (a + (at.conj() if a.dtype.kind == "c" else at))


def _last_two(x):
    nd = len(shape_of(x))
    return (nd - 2, nd - 1)


def _as_matrix_scalar(s):
    """A stack of scalars ``(...)`` as ``(..., 1, 1)``, to scale a stack of matrices."""
    return reshape(s, tuple(shape_of(s)) + (1, 1))


def _trace_of_product(x, y):
    """``tr(x @ y)`` for stacks, without forming the product."""
    return reduce_sum(mul(swap_last(x), y), axis=_last_two(y), keepdims=False)


def _explained(name, problem, impl):
    """``impl`` with NumPy's terse ``LinAlgError`` replaced by one that says what is needed."""

    def run(*args, **params):
        try:
            return impl(*args, **params)
        except np.linalg.LinAlgError as err:
            shapes = " and ".join(str(np.shape(a)) for a in args)
            msg = f"{name}() on shape {shapes}: {problem} (NumPy: {err})"
            raise np.linalg.LinAlgError(msg) from None

    return run


_SINGULAR = (
    "the matrix is singular. inv and solve, and the derivatives of det and slogdet "
    "(which use the inverse), need an invertible matrix"
)


def _stack_batch(prim):
    """Batch rule of a one-operand primitive that already maps over leading axes."""

    def rule(vals, batched, **params):
        return bind(prim, vals, params)

    prim.batch = rule


# -- inverse, determinant, log |determinant| -------------------------------------------
inv = Primitive("inv", _explained("inv", _SINGULAR, np.linalg.inv))
defjvp(inv, lambda t, x, a: neg(matmul(x, matmul(t, x))))
inv.vjps = (lambda g, x, a: neg(matmul(swap_last(x), matmul(g, swap_last(x)))),)
_stack_batch(inv)

det = Primitive("det", np.linalg.det)
defjvp(det, lambda t, d, a: mul(d, _trace_of_product(inv(a), t)))
det.vjps = (lambda g, d, a: mul(_as_matrix_scalar(mul(g, d)), swap_last(inv(a))),)
_stack_batch(det)

logabsdet = Primitive("logabsdet", lambda a: np.linalg.slogdet(a)[1])
defjvp(logabsdet, lambda t, ld, a: _real_part(_trace_of_product(inv(a), t)))
logabsdet.vjps = (lambda g, ld, a: mul(_as_matrix_scalar(g), swap_last(inv(a))),)
_stack_batch(logabsdet)

slogdet_sign = make_nondiff("slogdet_sign", lambda a: np.linalg.slogdet(a)[0], batch=False)
_stack_batch(slogdet_sign)


# -- solve -------------------------------------------------------------------------------
def _solve_impl(a, b):
    # Broadcast the stack axes ourselves, so that NumPy always sees matrix right-hand
    # sides (NumPy 1.x reads b of ndim a.ndim - 1 as a stack of vectors).
    lead = np.broadcast_shapes(np.shape(a)[:-2], np.shape(b)[:-2])
    a = np.broadcast_to(a, lead + np.shape(a)[-2:])
    b = np.broadcast_to(b, lead + np.shape(b)[-2:])
    return np.linalg.solve(a, b)


solve = Primitive("solve", _explained("solve", _SINGULAR, _solve_impl))


def _solve_jvp(primals, tangents, params):
    a, b = primals
    ta, tb = tangents
    x = solve(a, b)
    rhs = tb
    if ta is not None:
        ax = matmul(ta, x)
        rhs = neg(ax) if rhs is None else sub(rhs, ax)
    if rhs is None:
        return x, None
    dx = solve(a, rhs)  # one solve for both contributions
    if shape_of(dx) != shape_of(x):
        dx = broadcast_to(dx, shape_of(x))
    return x, dx


def _solve_vjp_b(g, x, a, b):
    return unbroadcast(solve(swap_last(a), g), shape_of(b))


def _solve_vjp_a(g, x, a, b):
    gb = solve(swap_last(a), g)
    return unbroadcast(neg(matmul(gb, swap_last(x))), shape_of(a))


def _solve_batch(vals, batched):
    a, b = vals
    ba, bb = batched
    if bb and not ba:
        # Many right-hand sides for the same matrices (the common case in Jacobians):
        # fold the batch into the columns, so each matrix is factorized once.
        s = tuple(shape_of(b))  # (B, ..., n, k)
        nd = len(s)
        cols = transpose(b, tuple(range(1, nd)) + (0,))  # (..., n, k, B)
        x = solve(a, reshape(cols, s[1:-1] + (s[-1] * s[0],)))
        xs = tuple(shape_of(x))
        x = reshape(x, xs[:-1] + (s[-1], s[0]))  # (..., n, k, B)
        return transpose(x, (len(xs),) + tuple(range(len(xs))))
    nd = max(len(shape_of(v)) - bt for v, bt in zip(vals, batched))
    a, b = align(vals, batched, nd)
    return solve(a, b)


solve.jvp = _solve_jvp
solve.vjps = (_solve_vjp_a, _solve_vjp_b)
solve.batch = _solve_batch


# -- Cholesky ----------------------------------------------------------------------------
def _phi_mask(n, dtype):
    """Lower triangle with a halved diagonal, as a multiplier."""
    return np.tril(np.ones((n, n), dtype=dtype), -1) + 0.5 * np.eye(n, dtype=dtype)


def _phi(x):
    n = shape_of(x)[-1]
    return mul(x, _phi_mask(n, x.dtype))


cholesky = Primitive(
    "cholesky",
    _explained(
        "cholesky",
        "the matrix is not positive definite (cholesky factors the symmetric part (A + A^T) / 2)",
        lambda a: np.linalg.cholesky(_sym_np(a)),
    ),
)


def _cholesky_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    L = cholesky(a)
    if t is None:
        return L, None
    # S = L^-1 T L^-H for the Hermitian T: solve(L, (L^-1 T)^H) since T^H = T.
    S = solve(L, adjoint(solve(L, symmetrize(t))))
    return L, matmul(L, _phi(S))


def _cholesky_vjp(g, L, a):
    # <g, L Phi(S)> = <Phi(L^T g), S>  and  <P, L^-1 T L^-H> = <L^-T P conj(L)^-1, T>
    Lt = swap_last(L)
    y = solve(Lt, _phi(matmul(Lt, g)))  # L^-T P
    return symmetrize(swap_last(solve(adjoint(L), swap_last(y))))  # y conj(L)^-1


cholesky.jvp = _cholesky_jvp
cholesky.vjps = (_cholesky_vjp,)
_stack_batch(cholesky)


def _pd_logdet_impl(a):
    diagonal = np.diagonal(np.linalg.cholesky(_sym_np(a)), axis1=-2, axis2=-1)
    return 2.0 * np.add.reduce(np.log(diagonal), axis=-1)


# log det A of a symmetric positive-definite A, from its Cholesky factor; the derivative is
# A^-1 (read as symmetric), where differentiating through the factor takes two solves and
# its projection
pd_logdet = Primitive(
    "pd_logdet",
    _explained("pd_logdet", "the matrix is not positive definite (the symmetric part is factored)",
               _pd_logdet_impl),
)
defjvp(pd_logdet, lambda t, ans, a: _trace_of_product(symmetrize(inv(a)), t))
pd_logdet.vjps = (lambda g, ans, a: mul(_as_matrix_scalar(g), symmetrize(inv(a))),)
pd_logdet.keeps = (0,)
_stack_batch(pd_logdet)


# -- symmetric eigendecomposition ------------------------------------------------------------
def _eigh_impl(a):
    w, v = np.linalg.eigh(_sym_np(a))
    return np.concatenate([w[..., None, :], v], axis=-2)


eigh = Primitive("eigh", _eigh_impl)

_EIGVALS = (Ellipsis, 0, slice(None))
_EIGVECS = (Ellipsis, slice(1, None), slice(None))


def unpack_eigh(packed):
    """Split the output of :data:`eigh`, ``(..., n + 1, n)``, into ``(w, V)`` (``w`` real)."""
    return _real_part(getitem(packed, index=_EIGVALS)), getitem(packed, index=_EIGVECS)


def _pack(w, v):
    s = tuple(shape_of(v))
    return concatenate(reshape(w, s[:-2] + (1, s[-1])), v, axis=len(s) - 2)


def _inverse_gaps(w):
    """``F[..., i, j] = 1 / (w_j - w_i)``, and 0 where ``w_i == w_j`` (the diagonal).

    Equal eigenvalues get 0 instead of an infinity, so nothing turns into NaN:
    derivatives of symmetric functions of the eigenvalues (trace, sum of
    squares, log det) and of eigenspace projectors stay right, while the
    individual eigenvectors of a repeated eigenvalue have no derivative.
    """
    s = tuple(shape_of(w))
    gaps = sub(reshape(w, s[:-1] + (1, s[-1])), reshape(w, s + (1,)))
    tie = equal(gaps, 0.0)
    return where(tie, 0.0, div(1.0, where(tie, 1.0, gaps)))


def _eigh_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    packed = eigh(a)
    if t is None:
        return packed, None
    w, v = unpack_eigh(packed)
    tv = matmul(symmetrize(t), v)
    vh = conj(v) if complex_valued(v) else v
    p = matmul(swap_last(vh), tv)
    dw = _real_part(reduce_sum(mul(vh, tv), axis=(len(shape_of(v)) - 2,), keepdims=False))  # diag(V^H T V)
    dv = matmul(v, mul(_inverse_gaps(w), p))
    return packed, _pack(dw, dv)


def _eigh_vjp(g, packed, a):
    w, v = unpack_eigh(packed)
    gw, gv = unpack_eigh(g)
    n = shape_of(w)[-1]
    diag_gw = mul(reshape(gw, tuple(shape_of(gw))[:-1] + (1, n)), np.eye(n, dtype=gw.dtype))
    m = add(diag_gw, mul(_inverse_gaps(w), matmul(swap_last(v), gv)))
    vh = conj(v) if complex_valued(v) else v
    return symmetrize(matmul(vh, matmul(m, swap_last(v))))


eigh.jvp = _eigh_jvp
eigh.vjps = (_eigh_vjp,)
_stack_batch(eigh)
