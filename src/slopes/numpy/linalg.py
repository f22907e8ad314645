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
- ``norm`` has gradient 0 at 0 (a valid subgradient) and never produces NaN.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..core.ops import decompositions as dec
from ..core.ops import elementwise as ew
from ..core.ops import reduce as rd
from ..core.ops.linalg import matmul as _matmul
from ..core.ops.linalg import swap_last as _swap_last
from ..core.ops.shape import getitem as _getitem
from ..core.ops.shape import reshape as _reshape
from ..core.ops.shape import transpose as _transpose
from ..core.trace import shape_of
from ._axes import normalize_axis
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
    "eig",
    "eigvals",
    "norm",
    "matrix_power",
    "multi_dot",
]

LinAlgError = np.linalg.LinAlgError

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])


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


# -- norms ------------------------------------------------------------------------------
def _safe_sqrt(s):
    """``sqrt(s)`` with derivative 0 (not infinity) where ``s == 0``."""
    return root_or_zero(ew.sqrt, s)


def _sum(x, axes):
    return rd.reduce_sum(x, axis=axes, keepdims=True)


def _euclidean(x, axes):
    return _safe_sqrt(_sum(ew.mul(x, x), axes))


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
    """Singular values over ``axes`` (ascending, last axis), from the smaller Gram matrix."""
    nd = len(shape_of(x))
    r, c = axes
    rest = tuple(i for i in range(nd) if i not in axes)
    order = rest + (r, c)
    m = x if order == tuple(range(nd)) else _transpose(x, order)
    mt = _swap_last(m)
    gram = _matmul(mt, m) if shape_of(x)[c] <= shape_of(x)[r] else _matmul(m, mt)
    return _safe_sqrt(ew.maximum(eigvalsh(gram), 0.0))


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
        sv = _singular_values(x, axes)
        if ord == "nuc":
            out = rd.reduce_sum(sv, axis=(len(shape_of(sv)) - 1,), keepdims=False)
        else:
            out = _getitem(sv, index=(Ellipsis, -1 if ord == 2 else 0))
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
    ``'nuc'`` (from the eigenvalues of the Gram matrix ``x^T x``: accurate for
    well-conditioned matrices, and differentiable where the singular value
    used is simple and non-zero). Without ``ord`` and ``axis``, any input is
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
    (x,) = asarray_args((x,))
    s = tuple(shape_of(x))
    axes, kind = _norm_axes(ord, axis, s)
    if kind == "flat":
        out = _euclidean(x, axes)
    elif kind == "vector":
        out = _vector_norm(x, ord, axes)
    else:
        out = _matrix_norm(x, ord, axes)
    shape = _kept_shape(s, axes) if keepdims else tuple(n for i, n in enumerate(s) if i not in axes)
    out = out if shape_of(out) == shape else _reshape(out, shape)
    return out[()] if isinstance(out, np.ndarray) and not shape else out  # a NumPy scalar


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
