"""Polynomials as coefficient arrays, highest power first (NumPy's ``poly*`` convention):
``vander``, ``polyadd``, ``polysub``, ``polymul``, ``polyder``, ``polyint``, ``poly``.

Differentiable in the coefficients (and in ``vander``'s points, ``poly``'s roots).
``polyval`` lives with the other functions of sequences; ``polyfit`` and ``roots``
need least squares and eigenvalues (``slopes.numpy.linalg``).
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import shape_of
from .creation import asarray
from .convolution import convolve
from .shapes import concatenate, stack

__all__ = ["vander", "polyadd", "polysub", "polymul", "polyder", "polyint", "poly"]


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
