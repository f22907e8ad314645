"""``slopes.scipy.linalg``: differentiable ``scipy.linalg``, with SciPy's names and signatures.

Every function returns SciPy's values on plain arrays and is differentiable to
any order by every slopes transform (see :mod:`slopes.core.ops.scipy_linalg`
for the derivative formulas). Matrices may be stacks ``(..., n, n)``.
Conventions, as in ``jax.scipy.linalg``:

- ``cholesky`` and ``cho_factor`` factor the symmetric part ``(A + A^T) / 2``
  (``A`` itself when ``A`` is symmetric), so gradients are symmetric; the
  factor's other triangle is zero (SciPy leaves arbitrary values there).
- ``solve_triangular`` and ``cho_solve`` read one triangle of their matrix;
  the other triangle gets a zero gradient.
- ``overwrite_*`` and ``check_finite`` are accepted for compatibility and
  ignored: inputs are never modified.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import banded as _banded
from ..core.ops import scipy_linalg as ops
from ..core.ops.elementwise import add
from ..core.ops.linalg import swap_last
from ..core.trace import Tracer, shape_of
from ..numpy import linalg as _nla
from ..numpy.linalg import LinAlgError
from ..numpy.shapes import concatenate, reshape
from ._float_args import floating

__all__ = [
    "LinAlgError",
    "expm",
    "expm_frechet",
    "solve_triangular",
    "solve_banded",
    "cholesky",
    "cho_factor",
    "cho_solve",
    "block_diag",
    "logm",
    "sqrtm",
    "solve_sylvester",
    "lu_factor",
    "lu_solve",
]


def _square(a, name):
    return floating(_nla._square(a, name))


def expm(A):
    """Differentiable ``scipy.linalg.expm``: the matrix exponential (of each matrix in a stack).

    Its derivative is the Frechet derivative :func:`expm_frechet`, computed
    from ``expm`` of a block matrix twice the size, so derivatives of every
    order are exact.

    Parameters
    ----------
    A : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (..., n, n), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.linalg import expm
    >>> expm(np.array([[0.0, 1.0], [0.0, 0.0]]))
    array([[1., 1.],
           [0., 1.]])
    >>> float(sl.grad(lambda t: expm(t * np.eye(2))[0, 0])(1.0))  # d/dt e^t
    2.718281828459045
    """
    return ops.expm(_square(A, "expm"))


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """Differentiable ``scipy.linalg.expm_frechet``: the Frechet derivative ``L(A, E)`` of ``expm``.

    ``L(A, E) = d/dt expm(A + t E)`` at ``t = 0``, read off the identity
    ``expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]]`` (SciPy's
    ``method="blockEnlarge"``; ``method`` is accepted and this is always used).

    Parameters
    ----------
    A, E : array_like, shape (..., n, n)
    compute_expm : bool
        Return ``(expm(A), L(A, E))`` when True (SciPy's default), else ``L(A, E)``.

    Returns
    -------
    expm_A, expm_frechet_AE : ndarrays, shape (..., n, n)

    Examples
    --------
    >>> from slopes.scipy.linalg import expm_frechet
    >>> A = np.diag([0.0, 1.0])
    >>> expm_frechet(A, np.eye(2), compute_expm=False)  # commuting E: expm(A) E
    array([[1.        , 0.        ],
           [0.        , 2.71828183]])
    """
    A, E = _square(A, "expm_frechet"), _square(E, "expm_frechet")
    if tuple(shape_of(A)) != tuple(shape_of(E)):
        raise ValueError(
            f"expm_frechet(): A and E need the same shape; got {tuple(shape_of(A))} and {tuple(shape_of(E))}"
        )
    frechet = ops.frechet(ops.expm, A, E)
    return (ops.expm(A), frechet) if compute_expm else frechet


def logm(A, disp=True):
    """Differentiable ``scipy.linalg.logm``: the principal matrix logarithm (of each matrix in a stack).

    For real matrices with no eigenvalue on the closed negative real axis (the
    logarithm is then real); others raise ``LinAlgError``. Derivatives of
    every order come from the block identity, as for :func:`expm`. ``disp`` is
    accepted for SciPy's signature.

    Parameters
    ----------
    A : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (..., n, n)

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy.linalg import logm
    >>> logm(np.diag([1.0, np.e]))
    array([[0., 0.],
           [0., 1.]])
    >>> sl.grad(lambda A: logm(A)[1, 1])(np.diag([1.0, 2.0]))  # d log(a) = 1 / a
    array([[0. , 0. ],
           [0. , 0.5]])
    """
    return ops.logm(_square(A, "logm"))


def sqrtm(A, disp=True, blocksize=64):
    """Differentiable ``scipy.linalg.sqrtm``: the principal square root ``X``, ``X @ X = A``.

    For real matrices with no eigenvalue on the closed negative real axis (the
    root is then real); others raise ``LinAlgError``. The derivative solves the
    Sylvester equation ``X dX + dX X = dA`` (:func:`solve_sylvester`).
    ``disp`` and ``blocksize`` are accepted for SciPy's signature.

    Parameters
    ----------
    A : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (..., n, n)

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy.linalg import sqrtm
    >>> sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    >>> float(sl.grad(lambda a: sqrtm(a * np.eye(2))[0, 0])(4.0))  # 1 / (2 sqrt(a))
    0.25
    """
    return ops.sqrtm(_square(A, "sqrtm"))


def solve_sylvester(a, b, q):
    """Differentiable ``scipy.linalg.solve_sylvester``: ``X`` with ``a X + X b = q``.

    Differentiable in all three; the derivatives solve Sylvester equations
    too. Needs ``a`` and ``-b`` without a common eigenvalue.

    Parameters
    ----------
    a : array_like, shape (..., m, m)
    b : array_like, shape (..., n, n)
    q : array_like, shape (..., m, n)

    Returns
    -------
    ndarray, shape (..., m, n)

    Examples
    --------
    >>> from slopes.scipy.linalg import solve_sylvester
    >>> solve_sylvester(np.eye(2), 2.0 * np.eye(2), np.ones((2, 2)))  # 3 X = Q
    array([[0.33333333, 0.33333333],
           [0.33333333, 0.33333333]])
    """
    a, b, q = _square(a, "solve_sylvester"), _square(b, "solve_sylvester"), floating(q)
    m, n, sq = shape_of(a)[-1], shape_of(b)[-1], tuple(shape_of(q))
    if len(sq) < 2 or sq[-2:] != (m, n):
        raise ValueError(
            f"solve_sylvester(): a ({m}, {m}) and b ({n}, {n}) need q of shape (..., {m}, {n}); got {sq}"
        )
    return ops.solve_sylvester(a, b, q)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """Differentiable ``scipy.linalg.lu_factor``: ``(lu, piv)`` with ``a = P L U``, for :func:`lu_solve`.

    ``lu`` holds ``U`` and the strictly lower part of ``L`` (unit diagonal),
    and is differentiable; ``piv`` holds LAPACK's row interchanges (integers,
    as SciPy's, outside transforms) and carries no derivative. The derivative
    needs ``a`` invertible.

    Parameters
    ----------
    a : array_like, shape (..., n, n)

    Returns
    -------
    lu : ndarray, shape (..., n, n)
    piv : ndarray, shape (..., n)

    Examples
    --------
    >>> from slopes.scipy.linalg import lu_factor
    >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [4.0, 4.0]]))
    >>> lu
    array([[4.  , 4.  ],
           [0.25, 1.  ]])
    >>> piv
    array([1, 1], dtype=int32)
    """
    a = _square(a, "lu_factor")
    factors, piv = ops.split_lu(ops.lu(a))
    return factors, piv if isinstance(piv, Tracer) else piv.astype(np.int32)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Differentiable ``scipy.linalg.lu_solve``: ``x`` with ``a x = b`` (or ``a^T x = b``), a from lu_factor.

    Differentiable in ``lu`` and ``b``.

    Parameters
    ----------
    lu_and_piv : tuple (lu, piv)
        The output of :func:`lu_factor`.
    b : array_like, shape (n,) or (..., n, k)
    trans : {0, 1, 2}
        Solve ``a x = b`` (0) or ``a^T x = b`` (1; 2 for real ``a``).

    Returns
    -------
    ndarray, the shape of ``b`` (broadcast)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.linalg import lu_factor, lu_solve
    >>> A = np.array([[1.0, 2.0], [4.0, 4.0]])
    >>> lu_solve(lu_factor(A), np.array([3.0, 8.0]))
    array([1., 1.])
    >>> sl.grad(lambda b: snp.sum(lu_solve(lu_factor(A), b)))(np.array([3.0, 8.0]))  # A^-T 1
    array([1.  , 0.25])
    """
    if not (isinstance(lu_and_piv, (tuple, list)) and len(lu_and_piv) == 2):
        raise TypeError("lu_solve(): pass the pair (lu, piv) returned by lu_factor")
    if trans not in _TRANS:
        raise ValueError(f"lu_solve(): trans must be 0, 1 or 2; got {trans!r}")
    factors, piv = lu_and_piv
    factors = _square(factors, "lu_solve")
    b, restore = _rhs(factors, b, "lu_solve")
    L, U = ops.lu_triangles(factors)
    if not _TRANS[trans]:  # x = U^-1 L^-1 P^T b
        y = ops.solve_triangular(L, ops.permute_rows(b, piv), lower=True)
        return restore(ops.solve_triangular(U, y, lower=False))
    # a^T = U^T L^T P^T: x = P L^-T U^-T b
    y = ops.solve_triangular(swap_last(U), b, lower=True)
    return restore(ops.permute_rows(ops.solve_triangular(swap_last(L), y, lower=False), piv, inverse=True))


def _rhs(a, b, name):
    """``b`` as a stack of columns ``(..., n, k)`` and a function restoring its shape."""
    b = floating(b)
    n, sb = shape_of(a)[-1], tuple(shape_of(b))
    vector = len(sb) == 1
    if len(sb) == 0 or (sb[0] if vector else sb[-2]) != n:
        raise ValueError(
            f"{name}(): a of shape {tuple(shape_of(a))} needs b of shape ({n},) or (..., {n}, k); "
            f"got b of shape {sb}"
        )
    if not vector:
        return b, lambda x: x
    return reshape(b, (n, 1)), lambda x: reshape(x, tuple(shape_of(x))[:-1])


_TRANS = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
    """Differentiable ``scipy.linalg.solve_triangular``: ``x`` with ``a @ x = b``, ``a`` triangular.

    Only the triangle named by ``lower`` is read (with ``unit_diagonal``, only
    its strict part: the diagonal is taken as ones); the other entries of
    ``a`` get a zero gradient.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    b : array_like, shape (n,) or (..., n, k)
    trans : {0, 1, 2, 'N', 'T', 'C'}
        Solve ``a x = b`` (0, 'N') or ``a^T x = b`` (1, 'T'; 2, 'C' for real ``a``).
    lower : bool
        Use the lower triangle of ``a`` (default: the upper one).
    unit_diagonal : bool
        Assume ones on the diagonal of ``a``.

    Returns
    -------
    ndarray, the shape of ``b`` (broadcast), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.linalg import solve_triangular
    >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> solve_triangular(L, np.array([2.0, 3.0]), lower=True)
    array([1., 2.])
    >>> sl.grad(lambda b: snp.sum(solve_triangular(L, b, lower=True)))(np.array([2.0, 3.0]))
    array([0., 1.])
    """
    if trans not in _TRANS:
        raise ValueError(f"solve_triangular(): trans must be 0, 1, 2, 'N', 'T' or 'C'; got {trans!r}")
    a = _square(a, "solve_triangular")
    b, restore = _rhs(a, b, "solve_triangular")
    lower = bool(lower)
    if unit_diagonal:
        a = add(ops.triangle(a, lower, strict=True), np.eye(shape_of(a)[-1], dtype=a.dtype))
    if _TRANS[trans]:
        a, lower = swap_last(a), not lower
    return restore(ops.solve_triangular(a, b, lower=lower))


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Differentiable ``scipy.linalg.cholesky``: the upper factor ``U`` (``U^T U = a``), or the lower.

    Factors the symmetric part ``(a + a^T) / 2``, like ``jax.scipy.linalg``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Symmetric positive definite.
    lower : bool
        Return the lower factor ``L`` (``L L^T = a``) instead.

    Returns
    -------
    ndarray, shape (..., n, n)

    Examples
    --------
    >>> from slopes.scipy.linalg import cholesky
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 1.],
           [0., 1.]])
    """
    L = _nla.cholesky(_square(a, "cholesky"))
    return L if lower else swap_last(L)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """Differentiable ``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`.

    ``c`` is the Cholesky factor (upper unless ``lower``) with zeros in its
    other triangle, as ``jax.scipy.linalg.cho_factor`` (SciPy leaves arbitrary
    values there, which ``cho_solve`` never reads).

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Symmetric positive definite.
    lower : bool

    Returns
    -------
    c : ndarray, shape (..., n, n)
    lower : bool

    Examples
    --------
    >>> from slopes.scipy.linalg import cho_factor, cho_solve
    >>> A = np.array([[4.0, 2.0], [2.0, 2.0]])
    >>> cho_solve(cho_factor(A), np.array([6.0, 4.0]))
    array([1., 1.])
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Differentiable ``scipy.linalg.cho_solve``: ``x`` with ``A x = b`` from ``cho_factor(A)``.

    Two triangular solves; differentiable in the factor and in ``b``.

    Parameters
    ----------
    c_and_lower : tuple (c, lower)
        The output of :func:`cho_factor`.
    b : array_like, shape (n,) or (..., n, k)

    Returns
    -------
    ndarray, the shape of ``b`` (broadcast)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.linalg import cho_factor, cho_solve
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> cho_solve(cho_factor(A), np.ones(2))
    array([0.5 , 0.25])
    >>> sl.grad(lambda A: cho_solve(cho_factor(A), np.ones(2))[0])(A)  # symmetric
    array([[-0.25  , -0.0625],
           [-0.0625,  0.    ]])
    """
    if not (isinstance(c_and_lower, (tuple, list)) and len(c_and_lower) == 2):
        raise TypeError("cho_solve(): pass the pair (c, lower) returned by cho_factor, not the factor alone")
    c, lower = c_and_lower
    c = _square(c, "cho_solve")
    b, restore = _rhs(c, b, "cho_solve")
    lower = bool(lower)
    ct = swap_last(c)
    y = ops.solve_triangular(c if lower else ct, b, lower=True)
    return restore(ops.solve_triangular(ct if lower else c, y, lower=False))


def _band_widths(l_and_u, ab):
    """``(l, u)`` as non-negative ints matching ``ab``'s rows, or an error saying what differs."""
    try:
        lower, upper = (int(w) for w in l_and_u)
        whole = all(w == int(w) for w in l_and_u)
    except (TypeError, ValueError):
        whole = False
    if not whole or lower < 0 or upper < 0:
        raise ValueError(
            f"solve_banded(): (l, u) must be two non-negative integers (the numbers of sub- and "
            f"super-diagonals); got {l_and_u!r}"
        )
    if len(shape_of(ab)) != 2 or shape_of(ab)[0] != lower + upper + 1:
        raise ValueError(
            f"solve_banded(): ab must have l + u + 1 = {lower + upper + 1} rows, one per diagonal "
            f"(ab[u + i - j, j] = a[i, j]); got ab of shape {tuple(shape_of(ab))}"
        )
    return lower, upper


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """Differentiable ``scipy.linalg.solve_banded``: ``x`` with ``a @ x = b``, ``a`` banded.

    ``a`` is given in SciPy's banded storage: ``ab[u + i - j, j] = a[i, j]``, one row of
    ``ab`` per diagonal (``u`` super-diagonals on top, then the main one, then ``l``
    sub-diagonals). Differentiable in ``ab`` and ``b``; the unused corners of ``ab`` get a
    zero gradient. LAPACK's banded LU solves it, in ``O(n (l + u + 1)^2)``, and the
    derivatives are banded solves and products too (never the dense ``n x n`` matrix).

    Parameters
    ----------
    l_and_u : (int, int)
        The numbers of non-zero lower and upper diagonals.
    ab : array_like, shape (l + u + 1, n)
        The band of ``a``.
    b : array_like, shape (n,) or (n, k)
        The right-hand side.
    overwrite_ab, overwrite_b, check_finite : bool
        Accepted for compatibility and ignored: inputs are never modified.

    Returns
    -------
    ndarray, the shape of ``b``, or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> from slopes.scipy.linalg import solve_banded
    >>> ab = np.array([[1.0, 2.0], [1.0, 0.0]])      # a = [[1, 0], [1, 2]]: diagonal, then one below
    >>> solve_banded((1, 0), ab, np.array([1.0, 3.0]))
    array([1., 1.])
    >>> sl.grad(lambda b: snp.sum(solve_banded((1, 0), ab, b)))(np.array([1.0, 3.0]))  # a^-T 1
    array([0.5, 0.5])
    """
    ab = floating(ab)
    widths = _band_widths(l_and_u, ab)
    b = floating(b)
    n, sb = shape_of(ab)[-1], tuple(shape_of(b))
    if len(sb) not in (1, 2) or sb[0] != n:
        raise ValueError(
            f"solve_banded(): ab of shape {tuple(shape_of(ab))} holds a {n} x {n} matrix, which needs "
            f"b of shape ({n},) or ({n}, k); got b of shape {sb}"
        )
    return _banded.solve_banded(ab, b, lower=widths[0], upper=widths[1])


def block_diag(*arrs):
    """Differentiable ``scipy.linalg.block_diag``: the arrays as blocks on a diagonal.

    Scalars count as ``1 x 1`` blocks and 1-D arrays as one row, as in SciPy.

    Parameters
    ----------
    *arrs : array_like, each of at most 2 dimensions

    Returns
    -------
    ndarray, shape (sum of rows, sum of columns)

    Examples
    --------
    >>> from slopes.scipy.linalg import block_diag
    >>> block_diag(np.ones((1, 2)), 2.0)
    array([[1., 1., 0.],
           [0., 0., 2.]])
    """
    blocks = []
    for i, a in enumerate(arrs):
        a = floating(a)
        s = tuple(shape_of(a))
        if len(s) > 2:
            raise ValueError(f"block_diag(): argument {i} has shape {s}; blocks need at most 2 dimensions")
        blocks.append(reshape(a, (1,) * (2 - len(s)) + s))
    if not blocks:
        return np.empty((1, 0))
    rows = [shape_of(b)[0] for b in blocks]
    cols = [shape_of(b)[1] for b in blocks]
    total = sum(cols)
    dtype = np.result_type(*[b.dtype for b in blocks])
    padded = []
    left = 0
    for b, r, c in zip(blocks, rows, cols):
        parts = [np.zeros((r, left), dtype), b, np.zeros((r, total - left - c), dtype)]
        padded.append(concatenate(parts, axis=1))
        left += c
    return concatenate(padded, axis=0)
