"""Matrix functions and triangular solves from ``scipy.linalg``, as primitives.

Every primitive acts on a matrix ``(n, n)`` or a stack ``(..., n, n)``; its
rules are written with slopes primitives only, so derivatives of any order
work. Derivatives used (``dA`` a tangent, ``G`` an output cotangent):

- ``expm``, ``logm`` (primary matrix functions ``f``): the Frechet
  derivative ``L_f(A, dA)``, read off the block-matrix identity
  ``f([[A, E], [0, A]]) = [[f(A), L_f(A, E)], [0, f(A)]]`` (Higham, *Functions
  of Matrices*, thm. 3.6). It is made of ``f`` itself, so every higher
  derivative follows from the same rule (on matrices twice as large per
  order). The reverse rule is ``L_f(A^T, G)``: ``<G, L_f(A, E)> =
  <L_f(A^T, G), E>``.
- ``sqrtm``: ``S = sqrtm(A)`` gives ``S dS + dS S = dA``, one Sylvester solve
  (below); the cotangent is ``Z`` with ``S^T Z + Z S^T = G``.
- ``solve_sylvester(A, B, Q)``, ``X`` with ``AX + XB = Q``: ``dX`` solves the
  same equation with ``dQ - dA X - X dB``; the cotangent of ``Q`` is ``Z``
  with ``A^T Z + Z B^T = G``, that of ``A`` is ``-Z X^T`` and of ``B`` ``-X^T Z``.
- ``lu`` (``A = P L U``, ``L`` unit lower, ``U`` upper): with
  ``F = L^-1 P^T dA U^-1``, ``dL = L stril(F)`` and ``dU = triu(F) U``; in
  reverse, ``M = stril(L^T G_L) + triu(G_U U^T)`` gives ``gA = P L^-T M U^-T``.
  The pivots are piecewise constant and carry no derivative.
- ``solve_triangular(A, B, lower)``: reads one triangle ``T`` of ``A``;
  ``dX = T^-1 (dB - tri(dA) X)``, ``gB = T^-T G``, ``gA = -tri(gB X^T)``, where
  ``tri`` keeps the triangle read, so the other one gets exactly zero.

Taylor mode runs through the exact fallback on these forward rules.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..trace import Primitive, shape_of
from .decompositions import _explained, _stack_batch
from .elementwise import add, mul, neg, stop_gradient, sub, unbroadcast
from .linalg import matmul, swap_last
from .shape import align, concatenate, getitem, reshape

__all__ = [
    "expm", "logm", "sqrtm", "frechet", "solve_sylvester", "solve_triangular", "triangle",
    "lu", "split_lu", "lu_triangles", "permute_rows",
]


# -- primary matrix functions: expm, logm, sqrtm --------------------------------------------------
def frechet(fn, a, e):
    """``L_f(A, E)``, the Frechet derivative of the matrix function ``fn`` at ``A`` along ``E``.

    Read off ``fn`` of the 2n x 2n block ``[[A, E], [0, A]]``; ``a`` and ``e``
    have the same shape ``(..., n, n)``.
    """
    s = tuple(shape_of(a))
    n, nd = s[-1], len(s)
    zero = np.zeros(s, dtype=np.result_type(a.dtype, e.dtype))
    block = concatenate(
        concatenate(a, e, axis=nd - 1), concatenate(zero, a, axis=nd - 1), axis=nd - 2
    )
    return getitem(fn(block), index=(Ellipsis, slice(0, n), slice(n, None)))


def _real_valued(name, impl):
    """``impl`` for real matrices whose result is real; a clear error where it would be complex."""

    def run(a):
        out = impl(a)
        if np.iscomplexobj(out) and not np.iscomplexobj(a):
            if np.any(np.abs(out.imag) > 1e3 * np.finfo(out.real.dtype).eps * (1.0 + np.abs(out.real))):
                raise np.linalg.LinAlgError(
                    f"{name}() of shape {np.shape(a)}: the matrix has eigenvalues on the closed negative "
                    "real axis, so its principal value is complex; slopes differentiates real results only"
                )
            out = out.real
        return out

    return run


def _primary(name, impl):
    """A primary matrix function as a primitive, differentiated through :func:`frechet`.

    Its forward rule is ``L_f(A, dA)`` and its reverse rule ``L_f(A^T, G)``
    (the adjoint of ``L_f(A, .)`` for a function with real Taylor
    coefficients). Both are made of the primitive itself, so every order works.
    """
    prim = Primitive(name, _explained(name, "the matrix is singular", _real_valued(name, impl)))
    prim.jvp = lambda primals, tangents, params: (
        prim(primals[0]),
        None if tangents[0] is None else frechet(prim, primals[0], tangents[0]),
    )
    prim.vjps = (lambda g, ans, a: frechet(prim, swap_last(a), g),)
    prim.keeps = (0,)
    _stack_batch(prim)
    return prim


expm = _primary("expm", scipy.linalg.expm)
logm = _primary("logm", scipy.linalg.logm)


# -- Sylvester equations ----------------------------------------------------------------------------
def _sylvester_2d(a, b, q):
    """SciPy's Bartels-Stewart steps, keeping the flag LAPACK's ``trsyl`` raises when ``A`` and
    ``-B`` have (nearly) common eigenvalues, which ``scipy.linalg.solve_sylvester`` drops: the
    check then costs nothing, where reading the two spectra cost two eigendecompositions."""
    r, u = scipy.linalg.schur(a, output="real")
    s, v = scipy.linalg.schur(b.conj().T, output="real")
    f = u.conj().T @ q @ v
    (trsyl,) = scipy.linalg.get_lapack_funcs(("trsyl",), (r, s, f))
    y, scale, info = trsyl(r, s, f, tranb="C")
    if info == 1:
        raise np.linalg.LinAlgError("A and -B share an eigenvalue")
    return u @ (scale * y) @ v.conj().T


def _sylvester_impl(a, b, q):
    lead = np.broadcast_shapes(np.shape(a)[:-2], np.shape(b)[:-2], np.shape(q)[:-2])
    a, b, q = (np.broadcast_to(x, lead + np.shape(x)[-2:]) for x in (a, b, q))
    if not lead:
        return _sylvester_2d(a, b, q)
    out = [_sylvester_2d(a[i], b[i], q[i]) for i in np.ndindex(lead)]
    return np.stack(out).reshape(lead + out[0].shape)


solve_sylvester = Primitive(
    "solve_sylvester",
    _explained(
        "solve_sylvester",
        "A and -B share an eigenvalue, so AX + XB = Q has no unique solution",
        _sylvester_impl,
    ),
)


def _sylvester_jvp(primals, tangents, params):
    (a, b, q), (ta, tb, tq) = primals, tangents
    x = solve_sylvester(a, b, q)
    rhs = tq
    for t, term in ((ta, lambda t: matmul(t, x)), (tb, lambda t: matmul(x, t))):
        if t is not None:
            rhs = neg(term(t)) if rhs is None else sub(rhs, term(t))
    return x, None if rhs is None else solve_sylvester(a, b, rhs)


def _sylvester_adjoint(g, a, b):
    """``Z`` with ``A^T Z + Z B^T = G``: the cotangent of ``Q``."""
    return solve_sylvester(swap_last(a), swap_last(b), g)


solve_sylvester.jvp = _sylvester_jvp
solve_sylvester.vjps = (
    lambda g, x, a, b, q: unbroadcast(neg(matmul(_sylvester_adjoint(g, a, b), swap_last(x))), shape_of(a)),
    lambda g, x, a, b, q: unbroadcast(neg(matmul(swap_last(x), _sylvester_adjoint(g, a, b))), shape_of(b)),
    lambda g, x, a, b, q: unbroadcast(_sylvester_adjoint(g, a, b), shape_of(q)),
)
solve_sylvester.keeps = (0, 1, "ans")


def _aligned_batch(prim):
    """Batch rule of a primitive whose implementation broadcasts stack axes."""

    def rule(vals, batched, **params):
        nd = max(len(shape_of(v)) - bt for v, bt in zip(vals, batched))
        return prim(*align(vals, batched, nd), **params)

    prim.batch = rule


_aligned_batch(solve_sylvester)


# -- sqrtm: its derivative solves a Sylvester equation of half the block size -------------------
sqrtm = _primary("sqrtm", scipy.linalg.sqrtm)
# S = sqrtm(A) gives S dS + dS S = dA; S's eigenvalues have positive real part, so the solution
# is unique: one n x n Sylvester solve in place of sqrtm of a 2n x 2n block. Its adjoint solves
# S^T Z + Z S^T = G. Both are made of primitives, so every order works.


def _sqrtm_jvp(primals, tangents, params):
    s = sqrtm(primals[0])
    return s, None if tangents[0] is None else solve_sylvester(s, s, tangents[0])


sqrtm.jvp = _sqrtm_jvp
sqrtm.vjps = (lambda g, s, a: solve_sylvester(swap_last(s), swap_last(s), g),)
sqrtm.keeps = ("ans",)


# -- triangular solves ---------------------------------------------------------------------
def triangle(x, lower, strict=False):
    """The lower (or upper) triangle of the square last two axes of ``x``, the rest zero.

    ``strict`` leaves out the diagonal.
    """
    n = shape_of(x)[-1]
    mask = np.tri(n, n, k=-1 if strict else 0, dtype=bool)
    return mul(x, mask if lower else mask.T)


_LAPACK_TYPES = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128)}


def _trtrs(a, b, lower):
    """LAPACK's triangular solve as ``scipy.linalg.solve_triangular`` calls it (the same bits),
    without its argument checks (some 25 us a call, more than a 32 x 32 solve)."""
    trtrs = scipy.linalg.get_lapack_funcs("trtrs", (a, b))
    if a.flags.f_contiguous:
        x, info = trtrs(a, b, lower=lower)
    else:  # the transposed system, as SciPy: trtrs wants Fortran order
        x, info = trtrs(a.T, b, lower=not lower, trans=1)
    if info > 0:
        raise np.linalg.LinAlgError(f"singular matrix: resolution failed at diagonal {info - 1}")
    return x


def _solve_triangular_impl(a, b, lower):
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim in (1, 2)
            and a.dtype == b.dtype and a.dtype in _LAPACK_TYPES and a.size and b.size):
        return _trtrs(a, b, lower)
    lead = np.broadcast_shapes(np.shape(a)[:-2], np.shape(b)[:-2])
    a = np.broadcast_to(a, lead + np.shape(a)[-2:])
    b = np.broadcast_to(b, lead + np.shape(b)[-2:])
    return scipy.linalg.solve_triangular(a, b, lower=lower, check_finite=False)


solve_triangular = Primitive(
    "solve_triangular",
    _explained(
        "solve_triangular",
        "the triangular matrix is singular (a zero on its diagonal)",
        _solve_triangular_impl,
    ),
)


def _solve_triangular_jvp(primals, tangents, params):
    (a, b), (ta, tb), lower = primals, tangents, params["lower"]
    x = solve_triangular(a, b, lower=lower)
    rhs = tb
    if ta is not None:
        tx = matmul(triangle(ta, lower), x)
        rhs = neg(tx) if rhs is None else sub(rhs, tx)
    if rhs is None:
        return x, None
    dx = solve_triangular(a, rhs, lower=lower)
    return x, dx


def _back(g, a, lower):
    return solve_triangular(swap_last(a), g, lower=not lower)


solve_triangular.jvp = _solve_triangular_jvp
solve_triangular.vjps = (
    lambda g, x, a, b, lower: unbroadcast(
        neg(triangle(matmul(_back(g, a, lower), swap_last(x)), lower)), shape_of(a)
    ),
    lambda g, x, a, b, lower: unbroadcast(_back(g, a, lower), shape_of(b)),
)
solve_triangular.keeps = (0, "ans")


_aligned_batch(solve_triangular)


# -- LU factorization with partial pivoting ----------------------------------------------------------
def _row_order(piv):
    """LAPACK's interchanges (row ``i`` swapped with row ``piv[i]``, in turn) as one row order."""
    piv = np.asarray(piv).astype(np.intp)
    order = np.broadcast_to(np.arange(piv.shape[-1]), piv.shape).copy()
    for i in range(piv.shape[-1]):
        j = piv[..., i : i + 1]
        here = order[..., i : i + 1].copy()
        order[..., i : i + 1] = np.take_along_axis(order, j, -1)
        np.put_along_axis(order, j, here, -1)
    return order


def _permute_rows_impl(m, piv, inverse=False):
    order = _row_order(piv)
    if inverse:
        order = np.argsort(order, axis=-1)
    lead = np.broadcast_shapes(np.shape(m)[:-2], order.shape[:-1])
    m = np.broadcast_to(m, lead + np.shape(m)[-2:])
    order = np.broadcast_to(order, lead + order.shape[-1:])
    return np.take_along_axis(m, order[..., None], axis=-2)


# permute_rows(M, piv): P^T M for A = P L U (the rows in the factorization's order);
# inverse=True gives P M. Linear in M; the pivots carry no derivative.
permute_rows = Primitive("permute_rows", _permute_rows_impl)
permute_rows.jvp = lambda primals, tangents, params: (
    permute_rows(*primals, **params),
    None if tangents[0] is None else permute_rows(tangents[0], primals[1], **params),
)
permute_rows.vjps = (
    lambda g, ans, m, piv, inverse=False: unbroadcast(permute_rows(g, piv, inverse=not inverse), shape_of(m)),
    None,
)
permute_rows.keeps = (1,)


def _permute_rows_batch(vals, batched, inverse=False):
    # the stack axes of M (..., n, k) and of piv (..., n) line up after the batch axis
    cores = (2, 1)
    stack = max(len(shape_of(v)) - b - c for v, b, c in zip(vals, batched, cores))
    m, piv = (
        reshape(v, (v.shape[0],) + (1,) * (stack - (len(v.shape) - 1 - c)) + tuple(v.shape[1:])) if b else v
        for v, b, c in zip(vals, batched, cores)
    )
    return permute_rows(m, piv, inverse=inverse)


permute_rows.batch = _permute_rows_batch


def _lu_impl(a):
    lu, piv = scipy.linalg.lu_factor(a, check_finite=False)
    return np.concatenate([piv[..., None, :].astype(lu.dtype), lu], axis=-2)


# lu(A): scipy's lu_factor packed in one array (..., n + 1, n): row 0 the pivots, rows 1..n the
# factors (L strictly below the diagonal, its unit diagonal implied; U on and above it).
lu = Primitive("lu", _lu_impl)
_PIVOTS = (Ellipsis, slice(0, 1), slice(None))
_FACTORS = (Ellipsis, slice(1, None), slice(None))


def split_lu(packed):
    """``(factors, piv)`` from the output of :data:`lu`: SciPy's ``lu_factor`` pair."""
    piv = stop_gradient(getitem(packed, index=_PIVOTS))  # piecewise constant
    return getitem(packed, index=_FACTORS), reshape(piv, tuple(shape_of(piv))[:-2] + (shape_of(piv)[-1],))


def lu_triangles(factors):
    """``(L, U)`` from the packed factors: ``L`` with its unit diagonal, ``U`` upper."""
    n = shape_of(factors)[-1]
    unit_lower = add(triangle(factors, True, strict=True), np.eye(n, dtype=factors.dtype))
    return unit_lower, triangle(factors, False)


def _right_solve_upper(y, u):
    """``Y U^-1`` for upper triangular ``U``."""
    return swap_last(solve_triangular(swap_last(u), swap_last(y), lower=True))


def _lu_jvp(primals, tangents, params):
    (a,), (t,) = primals, tangents
    packed = lu(a)
    if t is None:
        return packed, None
    factors, piv = split_lu(packed)
    L, U = lu_triangles(factors)
    f = _right_solve_upper(solve_triangular(L, permute_rows(t, piv), lower=True), U)
    d = add(matmul(L, triangle(f, True, strict=True)), matmul(triangle(f, False), U))
    s = tuple(shape_of(d))
    return packed, concatenate(np.zeros(s[:-2] + (1, s[-1]), dtype=d.dtype), d, axis=len(s) - 2)


def _lu_vjp(g, packed, a):
    factors, piv = split_lu(packed)
    L, U = lu_triangles(factors)
    gf = getitem(g, index=_FACTORS)
    m = add(
        triangle(matmul(swap_last(L), triangle(gf, True, strict=True)), True, strict=True),
        triangle(matmul(triangle(gf, False), swap_last(U)), False),
    )
    z = swap_last(solve_triangular(U, swap_last(solve_triangular(swap_last(L), m, lower=False)), lower=False))
    return permute_rows(z, piv, inverse=True)


lu.jvp = _lu_jvp
lu.vjps = (_lu_vjp,)
lu.keeps = ("ans",)
_stack_batch(lu)
