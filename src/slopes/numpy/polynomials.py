"""Polynomials as coefficient arrays, highest power first (NumPy's ``poly*`` convention):
``vander``, ``polyadd``, ``polysub``, ``polymul``, ``polyder``, ``polyint``, ``poly``,
``polyfit``, ``roots``.

Differentiable in the coefficients (and in ``vander``'s points, ``poly``'s roots,
``polyfit``'s data). ``polyval`` lives with the other functions of sequences;
``polyfit`` and ``roots`` are least squares and eigenvalues (``slopes.numpy.linalg``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import concrete, shape_of
from ._static import known_value
from .convolution import convolve
from .creation import asarray
from .linalg import lstsq
from .linalg_eig import eigvals
from .reductions import sum as _sum
from .shapes import concatenate, reshape, stack

__all__ = ["vander", "polyadd", "polysub", "polymul", "polyder", "polyint", "poly", "polyfit", "roots"]


def _coefficients(p, fn):
    p = asarray(p)
    if len(shape_of(p)) != 1:
        raise ValueError(f"{fn}(): coefficients must be a 1-d array, got shape {shape_of(p)}")
    return p


def vander(x, N=None, increasing=False):
    """Differentiable ``numpy.vander``: the Vandermonde matrix, columns ``x**(N-1), ..., x, 1``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.vander(np.array([2.0, 3.0]), 3)
    array([[4., 2., 1.],
           [9., 3., 1.]])
    """
    x = _coefficients(x, "vander")
    n = shape_of(x)[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return stack([ew.power(x, k) for k in powers], axis=1)


def _aligned(a1, a2, fn):
    a1, a2 = _coefficients(a1, fn), _coefficients(a2, fn)
    n1, n2 = shape_of(a1)[0], shape_of(a2)[0]
    if n1 < n2:  # the shorter one padded with leading zeros: same powers line up
        a1 = concatenate([np.zeros(n2 - n1), a1])
    elif n2 < n1:
        a2 = concatenate([np.zeros(n1 - n2), a2])
    return a1, a2


def polyadd(a1, a2):
    """Differentiable ``numpy.polyadd``: the sum of two polynomials.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.polyadd(np.array([1.0, 2.0]), np.array([1.0, 0.0, 1.0]))
    array([1., 1., 3.])
    """
    return ew.add(*_aligned(a1, a2, "polyadd"))


def polysub(a1, a2):
    """Differentiable ``numpy.polysub``: the difference of two polynomials.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.polysub(np.array([1.0, 2.0]), np.array([1.0, 0.0, 1.0]))
    array([-1.,  1.,  1.])
    """
    return ew.sub(*_aligned(a1, a2, "polysub"))


def polymul(a1, a2):
    """Differentiable ``numpy.polymul``: the product of two polynomials (a convolution).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.polymul(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
    array([ 1.,  0., -1.])
    """
    return convolve(_coefficients(a1, "polymul"), _coefficients(a2, "polymul"))


def polyder(p, m=1):
    """Differentiable ``numpy.polyder``: the ``m``-th derivative's coefficients.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.polyder(np.array([1.0, 1.0, 1.0, 1.0]), 2)
    array([6., 2.])
    """
    p = _coefficients(p, "polyder")
    if int(m) < 0:
        raise ValueError(f"polyder(): the order m must be >= 0, got {m}")
    for _ in range(int(m)):
        n = shape_of(p)[0] - 1
        if n == 0:  # a constant's derivative: the zero polynomial, as NumPy's [0.]
            return ew.mul(p, 0.0)
        p = ew.mul(p[:-1], np.arange(n, 0, -1, dtype=float))
    return p


def polyint(p, m=1, k=None):
    """Differentiable ``numpy.polyint``: the ``m``-th antiderivative, integration constants ``k`` (0 by default).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.polyint(np.array([3.0, 2.0, 1.0]))
    array([1., 1., 1., 0.])
    """
    p = _coefficients(p, "polyint")
    m = int(m)
    if m < 0:
        raise ValueError(f"polyint(): the order m must be >= 0, got {m}")
    ks = np.zeros(m) if k is None else asarray(k)
    ks = ew.mul(np.ones(m), ks) if len(shape_of(ks)) == 0 else ks
    if shape_of(ks)[0] != m:
        raise ValueError(f"polyint(): give one integration constant per order ({m}), got {shape_of(ks)[0]}")
    for i in range(m):
        n = shape_of(p)[0]
        p = concatenate([ew.div(p, np.arange(n, 0, -1, dtype=float)), ew.mul(ks[i : i + 1], 1.0)])
    return p


def poly(seq_of_zeros):
    """Differentiable ``numpy.poly`` of a sequence of roots: the monic polynomial with those roots.

    (NumPy's other use, the characteristic polynomial of a matrix, needs its
    eigenvalues: ``poly(snp.linalg.eigvals(A))``.)

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.poly(np.array([1.0, 2.0]))
    array([ 1., -3.,  2.])
    """
    roots = asarray(seq_of_zeros)
    if len(shape_of(roots)) != 1:
        raise ValueError(
            f"poly(): give the roots as a 1-d array, got shape {shape_of(roots)} (for a matrix, pass its eigenvalues)"
        )
    out = np.ones(1)
    for i in range(shape_of(roots)[0]):
        out = convolve(out, concatenate([np.ones(1), ew.neg(roots[i : i + 1])]))
    return out


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Differentiable ``numpy.polyfit``: least-squares polynomial coefficients, highest power first.

    NumPy's algorithm: the Vandermonde matrix's columns scaled to unit norm, then
    :func:`slopes.numpy.linalg.lstsq` with NumPy's default ``rcond``
    (``len(x) * eps``). The coefficients are differentiable in ``x``, ``y`` and
    the weights ``w`` wherever the rank does not change. ``full=True`` returns
    ``(coefficients, residuals, rank, singular_values, rcond)`` as NumPy;
    ``y`` of shape ``(M, K)`` fits ``K`` columns at once.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> snp.polyfit(x, 2 * x + 1, 1).round(12)
    array([2., 1.])
    >>> sl.grad(lambda y: snp.polyfit(x, y, 1)[0])(2 * x + 1).round(12)
    array([-0.3, -0.1,  0.1,  0.3])
    """
    if cov:
        raise NotImplementedError(
            "polyfit(): cov=True is not offered; with full=True, the covariance is "
            "inv(V.T @ V) * residuals / (len(x) - deg - 1) for V = snp.vander(x, deg + 1)"
        )
    order = int(deg) + 1
    if order < 1:
        raise ValueError(f"polyfit(): expected deg >= 0, got {deg}")
    x, y = ew.add(asarray(x), 0.0), ew.add(asarray(y), 0.0)  # integers fitted as floats, as NumPy
    sx, sy = shape_of(x), shape_of(y)
    if len(sx) != 1 or sx[0] == 0:
        raise TypeError(f"polyfit(): x must be a non-empty 1-d array, got shape {sx}")
    if len(sy) not in (1, 2) or sy[0] != sx[0]:
        raise TypeError(f"polyfit(): y must have shape ({sx[0]},) or ({sx[0]}, K) to match x, got {sy}")
    rcond = sx[0] * float(np.finfo(x.dtype).eps) if rcond is None else rcond
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = asarray(w)
        if shape_of(w) != sx:
            raise TypeError(f"polyfit(): w must have the shape of x, {sx}, got {shape_of(w)}")
        lhs = ew.mul(lhs, reshape(w, (-1, 1)))
        rhs = ew.mul(rhs, reshape(w, (-1, 1)) if len(sy) == 2 else w)
    # unit-norm columns: the Vandermonde matrix is badly scaled for large |x| or high degree
    scale = ew.sqrt(_sum(ew.mul(lhs, lhs), axis=0))
    c, residuals, rank, s = lstsq(ew.div(lhs, scale), rhs, rcond)
    c = ew.div(c, reshape(scale, (-1, 1)) if len(sy) == 2 else scale)
    if full:
        return c, residuals, rank, s, rcond
    if np.any(np.asarray(concrete(rank)) != order):  # per example under vmap
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning, stacklevel=2)
    return c


def roots(p, *, strip_zeros=True):
    """Differentiable ``numpy.roots``: the roots of the polynomial with coefficients ``p``.

    The eigenvalues of the companion matrix, as NumPy, in the same order. The
    result is always complex (JAX's convention: its dtype cannot depend on the
    values). Leading zeros of ``p`` are dropped and trailing zeros give roots at 0,
    as NumPy; where they are is read from the values, so ``sl.jit`` and ``vmap``
    need ``strip_zeros=False`` (JAX's option: ``p[0]`` must then be non-zero).
    A simple root ``r`` moves by ``-dp(r) / p'(r)``; at a multiple root the
    derivative is infinite.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.roots(np.array([0.0, 1.0, -3.0, 2.0]))
    array([2.+0.j, 1.+0.j])
    >>> sl.grad(lambda p: snp.real(snp.roots(p)[0]))(np.array([1.0, -3.0, 2.0]))
    array([-4., -2., -1.])
    """
    p = asarray(p)
    if len(shape_of(p)) != 1:
        raise ValueError(f"roots(): the coefficients must be a 1-d array, got shape {shape_of(p)}")
    trailing = 0
    if strip_zeros:
        nonzero = np.flatnonzero(known_value(p, "roots", "the coefficients (where the leading and trailing zeros are)"))
        if nonzero.size == 0:
            return np.zeros(0, dtype=complex)
        trailing = shape_of(p)[0] - int(nonzero[-1]) - 1
        p = p[int(nonzero[0]) : int(nonzero[-1]) + 1]
    n = shape_of(p)[0] - 1
    if n < 1:
        return np.zeros(trailing, dtype=complex)
    # companion matrix: first row -p[1:] / p[0], ones below the diagonal
    top = reshape(ew.div(ew.neg(p[1:]), p[0]), (1, n))
    found = eigvals(concatenate([top, np.eye(n - 1, n)], axis=0))
    return concatenate([found, np.zeros(trailing, dtype=complex)]) if trailing else found
