"""``slopes.numpy.linalg``: differentiable ``numpy.linalg``.

Every function accepts a matrix or a stack of matrices ``(..., m, n)`` like
NumPy, returns NumPy's values on plain arrays, and is differentiable to any
order by every slopes transform (see :mod:`slopes.core.ops.decompositions` for
the derivative formulas). Conventions:

- ``cholesky``, ``eigh`` and ``eigvalsh`` treat the input as symmetric: they
  decompose ``(A + A^T) / 2`` (``A`` itself when ``A`` is symmetric), so the
  upper and lower triangles count equally and gradients are symmetric.
- Eigenvector derivatives need distinct eigenvalues; where two are equal the
  coupling term is taken as 0 (no NaN), which keeps derivatives of functions of
  the eigenvalues exact.
- Singular vectors (``svd``) follow the same rule for equal singular values,
  and a zero singular value contributes 0 where ``1 / s`` appears; ``pinv`` and
  ``lstsq`` are differentiable where the rank is constant; ``matrix_rank`` has no
  derivative (see :mod:`slopes.core.ops.svd` and :mod:`slopes.core.ops.qr`).
- ``norm`` has gradient 0 at 0 (a valid subgradient) and never produces NaN.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..core.ops import decompositions as dec
from ..core.ops import elementwise as ew
from ..core.ops import qr as qrd
from ..core.ops import reduce as rd
from ..core.ops import svd as sv
from ..core.ops.linalg import matmul as _matmul
from ..core.ops.linalg import swap_last as _swap_last
from ..core.ops.shape import concatenate as _concatenate
from ..core.ops.shape import getitem as _getitem
from ..core.ops.shape import reshape as _reshape
from ..core.ops.shape import transpose as _transpose
from ..core.trace import Tracer, concrete, shape_of
from ..core.dtypes import complex_valued
from ._axes import normalize_axis
from .complex_parts import squared_magnitude
from ._safe import root_or_zero
from ._wrap import asarray_args
from .linalg_eig import eig, eigvals  # noqa: F401

__all__ = [
    "LinAlgError",
    "inv",
    "det",
    "slogdet",
    "solve",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "pinv",
    "matrix_rank",
    "cond",
    "qr",
    "lstsq",
    "eig",
    "eigvals",
    "norm",
    "vector_norm",
    "matrix_norm",
    "matrix_power",
    "multi_dot",
    "cross",
    "diagonal",
    "matmul",
    "matrix_transpose",
    "outer",
    "tensordot",
    "trace",
    "vecdot",
    "tensorinv",
    "tensorsolve",
]

LinAlgError = np.linalg.LinAlgError

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])


def _square(a, name):
    """``a`` as an array (or traced value) of shape ``(..., n, n)``, or a clear error."""
    (a,) = asarray_args((a,))
    s = shape_of(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise LinAlgError(
            f"{name}() needs a square matrix or a stack of them, shape (..., n, n); "
            f"got an array of shape {tuple(s)}"
        )
    return a


def inv(a):
    """Differentiable ``numpy.linalg.inv``: the inverse of a matrix (or of each in a stack).

    The derivative is ``d inv(A) = -inv(A) dA inv(A)``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
        Invertible matrices.

    Returns
    -------
    ndarray, shape (..., n, n), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[2.0, 1.0], [1.0, 1.0]])
    >>> snp.linalg.inv(A)
    array([[ 1., -1.],
           [-1.,  2.]])
    >>> sl.grad(lambda A: snp.linalg.inv(A)[1, 1])(A)
    array([[-1.,  2.],
           [ 2., -4.]])
    """
    return dec.inv(_square(a, "inv"))


def det(a):
    """Differentiable ``numpy.linalg.det``: the determinant of a matrix (or of each in a stack).

    The gradient is ``det(A) inv(A)^T`` (Jacobi's formula); it needs ``A``
    invertible.

    Parameters
    ----------
    a : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> round(float(snp.linalg.det(A)), 12)
    5.0
    >>> sl.grad(snp.linalg.det)(A)
    array([[ 3., -1.],
           [-1.,  2.]])
    """
    return dec.det(_square(a, "det"))


def slogdet(a):
    """Differentiable ``numpy.linalg.slogdet``: the sign and ``log|det|`` of a matrix.

    Returns ``(sign, logabsdet)`` like NumPy (a named tuple). The sign is
    piecewise constant and carries no derivative; the gradient of
    ``logabsdet`` is ``inv(A)^T``.

    Parameters
    ----------
    a : array_like, shape (..., n, n)

    Returns
    -------
    sign, logabsdet : arrays of shape (...)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 2.0], [1.0, 1.0]])
    >>> sign, logdet = snp.linalg.slogdet(A)
    >>> float(sign), round(float(logdet), 12)
    (-1.0, 0.0)
    >>> sl.grad(lambda A: snp.linalg.slogdet(A)[1])(A)
    array([[-1.,  1.],
           [ 2., -1.]])
    """
    a = _square(a, "slogdet")
    return SlogdetResult(dec.slogdet_sign(a), dec.logabsdet(a))


def solve(a, b):
    """Differentiable ``numpy.linalg.solve``: ``x`` with ``a @ x = b``.

    Like NumPy 2: a 1-D ``b`` of length ``n`` is one right-hand side (the
    result is a vector); otherwise ``b`` has shape ``(..., n, k)`` (``k``
    right-hand sides) and its stack axes broadcast against those of ``a``.
    The derivative is ``dx = inv(a) (db - da x)``, computed with solves.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    b : array_like, shape (n,) or (..., n, k)

    Returns
    -------
    ndarray of the broadcast shape of ``b``, or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> snp.linalg.solve(A, np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    >>> sl.grad(lambda b: snp.sum(snp.linalg.solve(A, b)))(np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    a = _square(a, "solve")
    (b,) = asarray_args((b,))
    n, sb = shape_of(a)[-1], tuple(shape_of(b))
    vector = len(sb) == 1
    if len(sb) == 0 or (sb[0] if vector else sb[-2]) != n:
        raise ValueError(
            f"solve(): a of shape {tuple(shape_of(a))} needs b of shape ({n},) or (..., {n}, k); "
            f"got b of shape {sb}"
        )
    try:
        np.broadcast_shapes(tuple(shape_of(a))[:-2], sb[:-2])
    except ValueError:
        raise ValueError(
            f"solve(): the stack axes of a {tuple(shape_of(a))} and b {sb} do not broadcast"
        ) from None
    if vector:
        return _reshape(dec.solve(a, _reshape(b, (n, 1))), tuple(shape_of(a))[:-2] + (n,))
    return dec.solve(a, b)


def cholesky(a, upper=False):
    """Differentiable ``numpy.linalg.cholesky``: ``L`` lower triangular with ``L @ L.T = a``.

    ``a`` is treated as symmetric: the factor is that of ``(a + a^T) / 2``
    (NumPy reads only the lower triangle; both agree on symmetric input), so
    the gradient is a symmetric matrix. ``a`` must be positive definite.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    upper : bool
        Return the upper factor ``U = L^T`` (``U.T @ U = a``) instead.

    Returns
    -------
    ndarray, shape (..., n, n), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> snp.linalg.cholesky(A)
    array([[2., 0.],
           [1., 2.]])
    >>> sl.grad(lambda A: snp.linalg.cholesky(A)[0, 0])(A)
    array([[0.25, 0.  ],
           [0.  , 0.  ]])
    """
    L = dec.cholesky(_square(a, "cholesky"))
    return _swap_last(L) if upper else L


def _symmetric_input(a, name, UPLO):
    a = _square(a, name)
    if UPLO is None:
        return a
    if UPLO not in ("L", "U"):
        raise ValueError(f"{name}(): UPLO must be None, 'L' or 'U', got {UPLO!r}")
    n = shape_of(a)[-1]
    tri = np.tril(np.ones((n, n), dtype=bool))
    part = ew.where(tri if UPLO == "L" else tri.T, a, 0.0)
    return ew.add(part, _swap_last(ew.where(np.eye(n, dtype=bool), 0.0, part)))


def eigh(a, UPLO=None):
    """Differentiable ``numpy.linalg.eigh``: eigenvalues (ascending) and eigenvectors.

    The input is treated as symmetric. With ``UPLO=None`` (the default) the
    decomposition is that of ``(a + a^T) / 2``; with ``'L'`` or ``'U'`` only
    that triangle of ``a`` is read, as in NumPy. Both agree with NumPy on
    symmetric input. Eigenvector derivatives need distinct eigenvalues (equal
    ones contribute 0 instead of infinity); eigenvectors are determined up to
    sign, so differentiate sign-invariant quantities (``V @ diag(f(w)) @ V.T``,
    ``V ** 2``) when comparing with finite differences.

    Parameters
    ----------
    a : array_like, shape (..., n, n)
    UPLO : {None, 'L', 'U'}

    Returns
    -------
    eigenvalues : array, shape (..., n)
    eigenvectors : array, shape (..., n, n)
        Column ``i`` is the unit eigenvector of eigenvalue ``i``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> w, V = snp.linalg.eigh(A)
    >>> w
    array([1., 3.])
    >>> sl.grad(lambda A: snp.linalg.eigh(A)[0][1])(A)  # v v^T for the top eigenvector
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    w, v = dec.unpack_eigh(dec.eigh(_symmetric_input(a, "eigh", UPLO)))
    return EighResult(w, v)


def eigvalsh(a, UPLO=None):
    """Differentiable ``numpy.linalg.eigvalsh``: the eigenvalues of a symmetric matrix, ascending.

    Same conventions as :func:`eigh`; the gradient of eigenvalue ``i`` is
    ``v_i v_i^T`` (for a simple eigenvalue).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> snp.linalg.eigvalsh(A)
    array([1., 2.])
    >>> sl.grad(lambda A: snp.sum(snp.linalg.eigvalsh(A)))(A)  # d trace = I
    array([[1., 0.],
           [0., 1.]])
    """
    return eigh(a, UPLO)[0]


# -- singular values, pseudo-inverse, rank, condition number, QR, least squares ---------------
def _matrix(a, name):
    """``a`` as an array (or traced value) of shape ``(..., m, n)``, or a clear error."""
    (a,) = asarray_args((a,))
    s = shape_of(a)
    if len(s) < 2:
        raise LinAlgError(
            f"{name}() needs a matrix or a stack of them, shape (..., m, n); got an array of shape {tuple(s)}"
        )
    return a


def _traced(*xs):
    return any(isinstance(x, Tracer) for x in xs)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Differentiable ``numpy.linalg.svd``: ``a = U @ diag(S) @ Vh``, singular values descending.

    Returns NumPy's values: ``(U, S, Vh)`` as a named tuple, or only ``S`` with
    ``compute_uv=False``; ``full_matrices`` chooses square ``U`` and ``Vh``
    (NumPy's default) or the reduced ``(m, k)`` and ``(k, n)`` factors,
    ``k = min(m, n)``. ``hermitian=True`` uses NumPy's path for symmetric
    input; the derivatives are those of the general SVD.

    Conventions (see :mod:`slopes.core.ops.svd` for the formulas):

    - The singular values are differentiable wherever they are simple and, for
      sums of them, everywhere (the gradient of ``S[i]`` is ``u_i v_i^T``).
    - Singular vectors need distinct singular values. Where two are equal the
      coupling term is taken as 0 instead of an infinity (JAX and autograd give
      inf or NaN there), so functions of the singular values and projectors onto
      the joint subspace keep exact derivatives; an individual vector of a
      repeated singular value has none (it is not unique).
    - A zero singular value contributes 0 where ``1 / s`` would appear.
    - With ``full_matrices=True`` and a non-square ``a``, the extra columns of
      ``U`` (or rows of ``Vh``) are a basis of a complement, unique only up to
      a rotation; their derivative is the one that does not rotate them among
      themselves, so ``U2 @ U2.T`` has its exact derivative. (JAX and
      autograd do not differentiate ``full_matrices=True`` at all.)
    - Singular vectors are determined up to sign: compare sign-invariant
      quantities (``U * Vh.T``, ``U @ U.T``) with finite differences.

    Parameters
    ----------
    a : array_like, shape (..., m, n)
    full_matrices : bool
    compute_uv : bool
    hermitian : bool

    Returns
    -------
    U : array, shape (..., m, m) or (..., m, k)
    S : array, shape (..., k)
    Vh : array, shape (..., n, n) or (..., k, n)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[3.0, 0.0], [0.0, -2.0]])
    >>> snp.linalg.svd(A, compute_uv=False)
    array([3., 2.])
    >>> sl.grad(lambda A: snp.sum(snp.linalg.svd(A).S))(A)  # the nuclear norm's: U @ Vh
    array([[ 1.,  0.],
           [ 0., -1.]])
    """
    a = _matrix(a, "svd")
    if not compute_uv:
        return sv.svdvals(a, hermitian=bool(hermitian))
    full = bool(full_matrices)
    packed = sv.svd(a, full_matrices=full, hermitian=bool(hermitian))
    return SVDResult(*sv.unpack_svd(packed, shape_of(a)[-2], full))


def svdvals(x):
    """Differentiable ``numpy.linalg.svdvals``: the singular values, descending.

    The same as ``svd(x, compute_uv=False)``; the gradient of ``S[i]`` is
    ``u_i v_i^T`` (for a simple singular value).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.linalg.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
    array([2., 1.])
    """
    x = _matrix(x, "svdvals")
    return sv.svdvals(x)


def _cutoff_ratio(rcond, rtol, default, name):
    """The relative threshold for small singular values, as one float (``default`` if unset)."""
    if rcond is not None and rtol is not None:
        raise ValueError(f"{name}(): give rcond or rtol, not both")
    ratio = rcond if rcond is not None else rtol
    if ratio is None:
        return default
    if np.ndim(ratio):
        raise ValueError(f"{name}(): the threshold must be one number for all matrices, got {ratio!r}")
    return float(ratio)


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Differentiable ``numpy.linalg.pinv``: the Moore-Penrose pseudo-inverse.

    Singular values below ``rcond * max(S)`` count as zero; without
    ``rcond`` or ``rtol`` NumPy's default ``1e-15`` is used. The derivative is
    Golub and Pereyra's ``dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X``,
    exact wherever the rank does not change (as in JAX); where it does, the
    pseudo-inverse is discontinuous and has no derivative.

    Parameters
    ----------
    a : array_like, shape (..., m, n)
    rcond, rtol : float, optional
        The relative cutoff (one number; NumPy also takes one per matrix, and
        reads an explicit ``rtol=None`` as ``max(m, n) * eps``, here the same as unset).
    hermitian : bool

    Returns
    -------
    array, shape (..., n, m)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.linalg.pinv(np.array([[2.0], [0.0]]))
    array([[0.5, 0. ]])
    >>> sl.grad(lambda a: snp.linalg.pinv(a)[0, 0])(np.array([[2.0], [0.0]]))
    array([[-0.25],
           [ 0.  ]])
    """
    a = _matrix(a, "pinv")
    ratio = _cutoff_ratio(rcond, rtol, 1e-15, "pinv")  # NumPy's default
    return sv.pinv(a, rcond=ratio, hermitian=bool(hermitian))


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """``numpy.linalg.matrix_rank``: the number of singular values above a threshold.

    An integer, so it has no derivative: inside a transform it is computed on
    the values and is a constant (``vmap`` gives one rank per matrix).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.linalg.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    (A,) = asarray_args((A,))
    if len(shape_of(A)) < 2:  # NumPy's rule for vectors and scalars: 1 unless all zero
        return int(not np.all(np.asarray(concrete(A)) == 0))
    for name, value in (("tol", tol), ("rtol", rtol)):
        if value is not None and np.ndim(value):
            raise ValueError(f"matrix_rank(): {name} must be one number for all matrices, got {value!r}")
    out = sv.matrix_rank(A, tol=tol, hermitian=bool(hermitian), rtol=rtol)
    return out[()] if isinstance(out, np.ndarray) else out


def cond(x, p=None):
    """Differentiable ``numpy.linalg.cond``: the condition number of a matrix.

    ``p`` None, 2 or -2 use the singular values (``S[0] / S[-1]``, or its
    inverse for -2; any shape, derivative where these two are simple and
    non-zero); ``'fro'``, ``'nuc'``, 1, -1, ``inf`` and ``-inf`` use
    ``norm(x, p) * norm(inv(x), p)`` and need square matrices. A singular
    matrix has condition number ``inf``, like NumPy (outside a transform;
    inside one it has no derivative and raises ``LinAlgError``).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[4.0, 0.0], [0.0, 2.0]])
    >>> float(snp.linalg.cond(A)), float(snp.linalg.cond(A, 1))
    (2.0, 2.0)
    >>> sl.grad(snp.linalg.cond)(A)  # d(s1/s2) = ds1/s2 - s1 ds2/s2**2
    array([[ 0.5,  0. ],
           [ 0. , -1. ]])
    """
    x = _matrix(x, "cond")
    if p in (None, 2, -2):
        s = sv.svdvals(x)
        hi, lo = _getitem(s, index=(Ellipsis, 0)), _getitem(s, index=(Ellipsis, -1))
        with np.errstate(divide="ignore", invalid="ignore"):  # NumPy's inf for singular matrices
            ratio = ew.div(lo, hi) if p == -2 else ew.div(hi, lo)
        return ew.where(ew.equal(hi, 0.0), np.inf, ratio)  # the zero matrix: inf, not 0 / 0
    x = _square(x, "cond")
    try:
        inverse = dec.inv(x)
    except LinAlgError:
        if _traced(x):
            raise
        return np.linalg.cond(x, p)
    return ew.mul(norm(x, p, axis=(-2, -1)), norm(inverse, p, axis=(-2, -1)))


def qr(a, mode="reduced"):
    """Differentiable ``numpy.linalg.qr``: ``a = Q @ R``, ``Q`` orthonormal, ``R`` upper triangular.

    ``mode``: ``'reduced'`` (``Q`` is ``(m, k)``, ``R`` is ``(k, n)``,
    ``k = min(m, n)``), ``'complete'`` (``Q`` square), ``'r'`` (``R`` only),
    or ``'raw'`` (NumPy's Householder form; values only, no derivative).
    Derivatives need the first ``k`` columns of ``a`` linearly independent.
    With ``'complete'`` and ``m > n``, the extra columns of ``Q`` are a basis
    unique only up to a rotation; their derivative is the one that does not
    rotate them among themselves (see :mod:`slopes.core.ops.qr`). A wide
    matrix is factored as the QR of its first ``m`` columns and ``Q^T`` times
    the rest, which is what NumPy computes.

    Parameters
    ----------
    a : array_like, shape (..., m, n)
    mode : {'reduced', 'complete', 'r', 'raw'}

    Returns
    -------
    Q, R : a named tuple of arrays (``R`` alone for ``mode='r'``)

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[3.0, 1.0], [4.0, 2.0]])
    >>> snp.linalg.qr(A).R.round(6)
    array([[-5. , -2.2],
           [ 0. ,  0.4]])
    >>> sl.grad(lambda A: snp.linalg.qr(A).R[0, 0])(A)  # R[0, 0] = -|first column|
    array([[-0.6,  0. ],
           [-0.8,  0. ]])
    """
    a = _matrix(a, "qr")
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr(): mode must be 'reduced', 'complete', 'r' or 'raw', got {mode!r}")
    if mode == "raw":
        if _traced(a):
            raise ValueError(
                "qr(): mode='raw' (Householder reflectors) has no derivative; use mode='reduced'"
            )
        return np.linalg.qr(a, mode="raw")
    m, n = shape_of(a)[-2:]
    if m >= n:
        q, r = qrd.unpack_qr(qrd.qr(a, complete=mode == "complete"), m)
    else:  # A = Q [R1, Q^H A2] with Q R1 the QR of the first m columns
        first = _getitem(a, index=(Ellipsis, slice(0, m)))
        rest = _getitem(a, index=(Ellipsis, slice(m, None)))
        q, r1 = qrd.unpack_qr(qrd.qr(first), m)
        q_adjoint = _swap_last(ew.conj(q) if complex_valued(q) else q)  # Q^H A2 (Q^T for real)
        r = _concatenate(r1, _matmul(q_adjoint, rest), axis=len(shape_of(a)) - 1)
    return r if mode == "r" else QRResult(q, r)


LstsqResult = namedtuple("LstsqResult", ["x", "residuals", "rank", "s"])


def lstsq(a, b, rcond=None):
    """Differentiable ``numpy.linalg.lstsq``: the least-squares solution of ``a @ x = b``.

    Returns ``(x, residuals, rank, s)`` like NumPy: ``x`` of least norm
    (``pinv(a, rcond) @ b``), the squared residual norm of each column when
    ``a`` has full column rank and ``m > n`` (else an empty array), the rank
    (an integer, no derivative) and the singular values. Singular values below
    ``rcond * max(s)`` count as zero (default ``max(m, n) * eps``). ``x`` is
    differentiable in ``a`` and ``b`` wherever the rank does not change. Under
    ``sl.jit`` the presence of ``residuals`` (it depends on the rank) is fixed
    by the first call's input.

    Parameters
    ----------
    a : array_like, shape (m, n)
    b : array_like, shape (m,) or (m, k)
    rcond : float, optional

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> a = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> b = np.array([1.0, 2.0, 2.0])
    >>> snp.linalg.lstsq(a, b).x.round(6)
    array([1.166667, 0.5     ])
    >>> sl.grad(lambda b: snp.linalg.lstsq(a, b).x[1])(b).round(6)
    array([-0.5,  0. ,  0.5])
    """
    a, b = asarray_args((a, b))
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    if len(sa) != 2 or len(sb) not in (1, 2) or sb[0] != sa[0]:
        raise LinAlgError(
            f"lstsq() needs a of shape (m, n) and b of shape (m,) or (m, k); got a {sa} and b {sb}"
        )
    # NumPy's default; it solves in double precision whatever the input
    ratio = _cutoff_ratio(rcond, None, max(sa) * float(np.finfo(np.float64).eps), "lstsq")
    x = _matmul(sv.pinv(a, rcond=ratio), b)
    rank = sv.matrix_rank(a, rtol=ratio)
    if np.all(np.asarray(concrete(rank)) == sa[1]) and sa[0] > sa[1]:
        r = ew.sub(b, _matmul(a, x))
        residuals = _reshape(rd.reduce_sum(squared_magnitude(r), axis=(0,), keepdims=False), sb[1:] or (1,))
    else:
        residuals = np.zeros(0)
    rank = rank[()] if isinstance(rank, np.ndarray) else rank
    return LstsqResult(x, residuals, rank, sv.svdvals(a))


# -- norms ------------------------------------------------------------------------------
def _safe_sqrt(s):
    """``sqrt(s)`` with derivative 0 (not infinity) where ``s == 0``."""
    return root_or_zero(ew.sqrt, s)


def _sum(x, axes):
    return rd.reduce_sum(x, axis=axes, keepdims=True)


def _euclidean(x, axes):
    return _safe_sqrt(_sum(squared_magnitude(x), axes))  # |x|^2: real also for complex x


def _vector_norm(x, ord, axes):
    """Vector norm over ``axes`` (one axis), keeping the axis."""
    if ord is None or ord == 2:
        return _euclidean(x, axes)
    if isinstance(ord, str):
        raise ValueError(f"norm(): invalid ord {ord!r} for a vector norm")
    a = ew.absolute(x)
    if ord == 1:
        return _sum(a, axes)
    if ord == np.inf:
        return rd.reduce_max(a, axis=axes, keepdims=True)
    if ord == -np.inf:
        return rd.reduce_min(a, axis=axes, keepdims=True)
    if ord == 0:  # the number of non-zero entries (no derivative)
        return _sum(ew.where(ew.not_equal(x, 0), 1.0, 0.0), axes)
    p = float(ord)
    s = _sum(ew.power(a, p), axes)
    if p < 1:  # NumPy's formula; not a norm, and its derivative is infinite at zeros
        return ew.power(s, 1.0 / p)
    return root_or_zero(lambda v: ew.power(v, 1.0 / p), s)


def _singular_values(x, axes):
    """Singular values over ``axes`` (descending, on the last axis)."""
    nd = len(shape_of(x))
    rest = tuple(i for i in range(nd) if i not in axes)
    order = rest + tuple(axes)
    return sv.svdvals(x if order == tuple(range(nd)) else _transpose(x, order))


def _matrix_norm(x, ord, axes):
    """Matrix norm over ``axes`` (row axis, column axis), keeping both axes."""
    r, c = axes
    if ord in (None, "fro"):
        return _euclidean(x, axes)
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum
        across, along = ((r,), (c,)) if ord in (1, -1) else ((c,), (r,))
        pick = rd.reduce_max if ord > 0 else rd.reduce_min
        return pick(_sum(ew.absolute(x), across), axis=along, keepdims=True)
    if ord in (2, -2, "nuc"):
        values = _singular_values(x, axes)
        if ord == "nuc":
            out = rd.reduce_sum(values, axis=(len(shape_of(values)) - 1,), keepdims=False)
        else:
            out = _getitem(values, index=(Ellipsis, 0 if ord == 2 else -1))
        return _reshape(out, _kept_shape(shape_of(x), axes))
    raise ValueError(f"norm(): invalid ord {ord!r} for a matrix norm")


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _norm_axes(ord, axis, shape):
    """The axes to reduce, or a clear error (NumPy's rules)."""
    nd = len(shape)
    if axis is None:
        if ord is None or (ord == "fro" and nd == 2) or (ord == 2 and nd == 1):
            return tuple(range(nd)), "flat"
        if nd in (1, 2):
            return tuple(range(nd)), "vector" if nd == 1 else "matrix"
        raise ValueError(
            f"norm(): ord={ord!r} needs a vector or a matrix (or an axis argument); "
            f"got an array of shape {tuple(shape)}"
        )
    ax = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(normalize_axis(a, nd) for a in ax)
    if len(axes) not in (1, 2) or len(set(axes)) != len(axes):
        raise ValueError(f"norm(): axis must be an int or a pair of distinct ints, got {axis!r}")
    return axes, "vector" if len(axes) == 1 else "matrix"


def norm(x, ord=None, axis=None, keepdims=False):
    """Differentiable ``numpy.linalg.norm``: vector and matrix norms.

    Vector norms (1-D input, or an int ``axis``): ``ord`` None or 2
    (Euclidean), 1, ``inf``, ``-inf``, 0 (the count of non-zeros) and any
    other number ``p`` (``sum(|x|**p)**(1/p)``). Matrix norms (2-D input, or a
    pair ``axis``): ``'fro'``/None, 1, -1, ``inf``, ``-inf``, and 2, -2,
    ``'nuc'`` (from the singular values, :func:`svd`: the 2-norms are
    differentiable where the singular value used is simple, the nuclear norm
    wherever no singular value is 0). Without ``ord`` and ``axis``, any input is
    flattened (the Euclidean norm of all entries).

    At ``x = 0`` the gradient of the Euclidean norm is 0 (a valid
    subgradient), never NaN; likewise for ``p``-norms with ``p >= 1``, and for
    the 1-norm (``abs`` has derivative 0 at 0).

    Parameters
    ----------
    x : array_like
    ord : {None, int, float, inf, -inf, 'fro', 'nuc'}
    axis : None, int or pair of ints
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    ndarray (a float for a full reduction), or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.linalg.norm(np.array([3.0, 4.0])))
    5.0
    >>> sl.grad(snp.linalg.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> sl.grad(snp.linalg.norm)(np.zeros(2))
    array([0., 0.])
    >>> float(snp.linalg.norm(np.array([[1.0, -2.0], [3.0, 4.0]]), ord=1))
    6.0
    """
    x = _inexact(x)
    s = tuple(shape_of(x))
    axes, kind = _norm_axes(ord, axis, s)
    if kind == "flat":
        out = _euclidean(x, axes)
    elif kind == "vector":
        out = _vector_norm(x, ord, axes)
    else:
        out = _matrix_norm(x, ord, axes)
    return _drop_reduced(out, s, axes, keepdims)


def _inexact(x):
    """``x`` as an array; integers and booleans become float64, as in NumPy's norms."""
    (x,) = asarray_args((x,))
    if isinstance(x, Tracer) or np.issubdtype(np.asarray(x).dtype, np.inexact):
        return x
    return np.asarray(x, dtype=np.float64)


def _drop_reduced(out, shape, axes, keepdims):
    """A norm computed with the reduced ``axes`` kept, shaped as ``keepdims`` asks."""
    target = _kept_shape(shape, axes) if keepdims else tuple(n for i, n in enumerate(shape) if i not in axes)
    out = out if shape_of(out) == target else _reshape(out, target)
    return out[()] if isinstance(out, np.ndarray) and not target else out  # a NumPy scalar


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Differentiable ``numpy.linalg.vector_norm``: a vector norm over any axes.

    ``axis=None`` takes the norm of all entries (also of a matrix, unlike
    :func:`norm` with an ``ord``); a tuple of axes takes it over those axes
    together. ``ord`` is any vector order of :func:`norm` (2, 1, ``inf``,
    ``-inf``, 0, or a number ``p``), with the same conventions at 0.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> x = np.array([[3.0, 0.0], [0.0, -4.0]])
    >>> float(snp.linalg.vector_norm(x)), float(snp.linalg.vector_norm(x, ord=1))
    (5.0, 7.0)
    >>> sl.grad(lambda x: snp.linalg.vector_norm(x, ord=np.inf))(x)
    array([[ 0.,  0.],
           [ 0., -1.]])
    """
    x = _inexact(x)
    s = tuple(shape_of(x))
    if axis is None:
        axes = tuple(range(len(s)))
    else:
        given = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(normalize_axis(a, len(s)) for a in given)
        if len(set(axes)) != len(axes):
            raise ValueError(f"vector_norm(): repeated axis in {axis!r}")
    if isinstance(ord, str):
        raise ValueError(f"vector_norm(): invalid ord {ord!r}; use matrix_norm for 'fro' and 'nuc'")
    return _drop_reduced(_vector_norm(x, 2 if ord is None else ord, axes), s, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Differentiable ``numpy.linalg.matrix_norm``: a matrix norm of each matrix in a stack.

    The same as ``norm(x, ord, axis=(-2, -1), keepdims=keepdims)``: ``ord`` is
    ``'fro'``, ``'nuc'``, 1, -1, 2, -2, ``inf`` or ``-inf``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.linalg.matrix_norm(np.stack([np.eye(2), 2 * np.eye(2)]), ord="nuc")
    array([2., 4.])
    """
    x = _matrix(x, "matrix_norm")
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# -- powers and chains of products ---------------------------------------------------------
def matrix_power(a, n):
    """Differentiable ``numpy.linalg.matrix_power``: ``a`` multiplied by itself ``n`` times.

    ``n >= 0`` by repeated squaring (``n = 0`` gives the identity, a
    constant); negative ``n`` uses ``inv(a) ** |n|``.

    Parameters
    ----------
    a : array_like, shape (..., m, m)
    n : int

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> snp.linalg.matrix_power(A, 3)
    array([[1., 3.],
           [0., 1.]])
    >>> sl.grad(lambda A: snp.linalg.matrix_power(A, 2)[0, 1])(A)
    array([[1., 1.],
           [0., 1.]])
    """
    a = _square(a, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power(): the exponent must be an integer, got {n!r}")
    n = int(n)
    if n < 0:
        a, n = dec.inv(a), -n
    if n == 0:
        s = tuple(shape_of(a))
        return np.broadcast_to(np.eye(s[-1], dtype=a.dtype), s).copy()
    result = None
    while True:
        if n & 1:
            result = a if result is None else _matmul(result, a)
        n >>= 1
        if not n:
            return result
        a = _matmul(a, a)


def _chain_order(dims):
    """Optimal parenthesisation of a matrix chain with shapes dims[i] x dims[i+1]."""
    k = len(dims) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = float("inf")
            for m in range(i, j):
                c = cost[i][m] + cost[m + 1][j] + dims[i] * dims[m + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, m
    return split


def multi_dot(arrays):
    """Differentiable ``numpy.linalg.multi_dot``: the product of a chain of matrices.

    The first array may be 1-D (a row vector) and the last 1-D (a column
    vector); the others are 2-D. The multiplication order is chosen to
    minimise the number of scalar multiplications, as NumPy does.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> A, B = np.ones((2, 3)), np.ones((3, 4))
    >>> snp.linalg.multi_dot([A, B, np.ones(4)])
    array([12., 12.])
    >>> sl.grad(lambda x: snp.linalg.multi_dot([x, A, B]).sum())(np.ones(2))
    array([12., 12.])
    """
    arrays = list(asarray_args(tuple(arrays)))
    if len(arrays) < 2:
        raise ValueError("multi_dot() needs at least two arrays")
    first_vec = len(shape_of(arrays[0])) == 1
    last_vec = len(shape_of(arrays[-1])) == 1
    if first_vec:
        arrays[0] = _reshape(arrays[0], (1,) + tuple(shape_of(arrays[0])))
    if last_vec:
        arrays[-1] = _reshape(arrays[-1], tuple(shape_of(arrays[-1])) + (1,))
    for i, m in enumerate(arrays):
        if len(shape_of(m)) != 2:
            raise ValueError(
                f"multi_dot(): array {i} has shape {tuple(shape_of(m))}; the inner arrays "
                "must be 2-D (the first and last may be 1-D)"
            )
    dims = [shape_of(arrays[0])[0]] + [shape_of(m)[1] for m in arrays]
    for i in range(len(arrays) - 1):
        if shape_of(arrays[i])[1] != shape_of(arrays[i + 1])[0]:
            raise ValueError(
                f"multi_dot(): shapes {tuple(shape_of(arrays[i]))} (array {i}) and "
                f"{tuple(shape_of(arrays[i + 1]))} (array {i + 1}) are not aligned"
            )
    split = _chain_order(dims)

    def product(i, j):
        if i == j:
            return arrays[i]
        m = split[i][j]
        return _matmul(product(i, m), product(m + 1, j))

    out = product(0, len(arrays) - 1)
    s = tuple(shape_of(out))
    s = s[1:] if first_vec else s
    s = s[:-1] if last_vec else s
    return _reshape(out, s) if s != tuple(shape_of(out)) else out


# -- NumPy 2's array-API names in numpy.linalg: the same operations over the last axes -----------

from .. import numpy as _np  # noqa: E402  (the package's own functions, looked up when called)


def cross(x1, x2, /, *, axis=-1):
    """Cross product of 3-vectors along ``axis``, as ``numpy.linalg.cross``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> snp.linalg.cross(np.array([1.0, 0, 0]), np.array([0.0, 1, 0]))
    array([0., 0., 1.])
    """
    if np.shape(x1)[axis] != 3 or np.shape(x2)[axis] != 3:
        raise ValueError(
            f"linalg.cross: both inputs need 3 entries along axis {axis}, got shapes "
            f"{np.shape(x1)} and {np.shape(x2)}; use slopes.numpy.cross for 2-vectors"
        )
    return _np.cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """The diagonal of each matrix in the last two axes, as ``numpy.linalg.diagonal``.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> snp.linalg.diagonal(np.arange(4.0).reshape(2, 2))
    array([0., 3.])
    """
    return _np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def matmul(x1, x2, /):
    """Matrix product, as ``numpy.linalg.matmul`` (``x1 @ x2``).

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> snp.linalg.matmul(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    return _np.matmul(x1, x2)


def matrix_transpose(x, /):
    """Each matrix in the last two axes transposed, as ``numpy.linalg.matrix_transpose``.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> snp.linalg.matrix_transpose(np.arange(6.0).reshape(2, 3)).shape
    (3, 2)
    """
    if np.ndim(x) < 2:
        raise ValueError(f"linalg.matrix_transpose: needs at least 2 dimensions, got shape {np.shape(x)}")
    return _np.swapaxes(x, -1, -2)


def outer(x1, x2, /):
    """Outer product of two vectors, as ``numpy.linalg.outer`` (1-D inputs only).

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> snp.linalg.outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([[3., 4.],
           [6., 8.]])
    """
    if np.ndim(x1) != 1 or np.ndim(x2) != 1:
        raise ValueError(
            f"linalg.outer: needs two vectors, got shapes {np.shape(x1)} and {np.shape(x2)}; "
            "slopes.numpy.outer flattens its inputs"
        )
    return _np.outer(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    """Tensor contraction over ``axes``, as ``numpy.linalg.tensordot``.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> float(snp.linalg.tensordot(np.eye(2), np.eye(2)))
    2.0
    """
    return _np.tensordot(x1, x2, axes=axes)


def trace(x, /, *, offset=0, dtype=None):
    """Trace of each matrix in the last two axes, as ``numpy.linalg.trace``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.numpy as snp
    >>> sl.grad(snp.linalg.trace)(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    return _np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def vecdot(x1, x2, /, *, axis=-1):
    """Dot product along ``axis``, the first argument conjugated, as ``numpy.linalg.vecdot``.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> snp.linalg.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    return _np.sum(_np.conj(x1) * x2, axis=axis)


def tensorinv(a, ind=2):
    """The inverse of ``a`` as a linear map from its last axes to its first ``ind``, as NumPy's.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> a = np.eye(6).reshape(6, 2, 3)
    >>> snp.linalg.tensorinv(a, ind=1).shape
    (2, 3, 6)
    """
    shape = np.shape(a)
    if not (isinstance(ind, (int, np.integer)) and 0 < ind < len(shape)):
        raise ValueError(f"linalg.tensorinv: ind must be an integer in 1..{len(shape) - 1}, got {ind!r}")
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise ValueError(
            f"linalg.tensorinv: the first {ind} axes {shape[:ind]} and the rest {shape[ind:]} "
            "must hold as many entries (the map must be square)"
        )
    return _np.reshape(inv(_np.reshape(a, (rows, cols))), shape[ind:] + shape[:ind])


def tensorsolve(a, b, axes=None):
    """The ``x`` with ``tensordot(a, x, axes=x.ndim) == b``, as ``numpy.linalg.tensorsolve``.

    Examples
    --------
    >>> import numpy as np, slopes.numpy as snp
    >>> a = np.eye(6).reshape(2, 3, 6)
    >>> snp.linalg.tensorsolve(a, np.arange(6.0).reshape(2, 3))
    array([0., 1., 2., 3., 4., 5.])
    """
    if axes is not None:
        axes = [normalize_axis(k, np.ndim(a), "linalg.tensorsolve") for k in np.atleast_1d(axes)]
        a = _np.moveaxis(a, axes, list(range(np.ndim(a) - len(axes), np.ndim(a))))
    shape = np.shape(a)[np.ndim(b):]
    n = math.prod(np.shape(b))
    if math.prod(shape) != n or np.shape(a)[: np.ndim(b)] != np.shape(b):
        raise ValueError(
            f"linalg.tensorsolve: a of shape {np.shape(a)} does not map a tensor onto b of shape "
            f"{np.shape(b)} (a's leading axes must be b's shape, the rest as many entries)"
        )
    return _np.reshape(solve(_np.reshape(a, (n, n)), _np.reshape(b, (n,))), shape)
