"""Banded linear systems, as SciPy stores them, as a primitive: ``solve_banded``.

A matrix ``A`` with ``l`` sub- and ``u`` super-diagonals is held as ``ab`` of shape
``(l + u + 1, n)``, ``ab[u + i - j, j] = A[i, j]``: row ``r`` is the diagonal
``A[j + r - u, j]``. LAPACK's banded LU solves ``A x = b`` in ``O(n (l + u + 1)^2)``, and
every rule stays on the band (``G`` the cotangent of ``x``):

- ``dx = A^-1 (db - dA x)``, ``dA x`` read from the band of ``dA``;
- ``gb = A^-T G``: ``A^T`` is banded too, widths ``(u, l)``, its band a rearrangement of ``ab``;
- ``g_ab = -gb x^T`` on the band only: ``g_ab[r, j] = -sum_k gb[j + r - u, k] x[j, k]``, and 0
  in the corners of ``ab`` that hold no entry of ``A`` (they are never read).

The rules are gathers, products and sums of primitives, and the solve itself, so every
order of derivative works at the cost of banded operations.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..trace import Primitive, shape_of
from .decompositions import _explained
from .elementwise import mul, neg, sub, where
from .reduce import reduce_sum
from .shape import getitem

__all__ = ["solve_banded", "band_matvec", "band_transpose"]


def _gather_index(shape, offset):
    """For each ``[r, j]`` of a band of ``shape``: the column ``j + offset[r]``, clipped into
    ``[0, n)``, and where it was inside (elsewhere the gathered value is replaced by 0)."""
    rows, n = shape
    column = np.arange(n) + np.asarray(offset)[:, None]
    inside = (column >= 0) & (column < n)
    return np.where(inside, column, 0), inside


def _on_band(values, inside):
    """``values`` (``(m, n)`` or ``(m, n, k)``) with 0 where ``inside`` is False."""
    if len(shape_of(values)) == 3:
        inside = inside[..., None]
    return where(inside, values, 0.0)


def band_transpose(ab, lower, upper):
    """The band of ``A^T`` (widths ``(upper, lower)``) from the band ``ab`` of ``A``.

    ``A^T[j + k - l, j] = A[j, j + k - l] = ab[l + u - k, j + k - l]``: row ``k`` of the
    result is row ``l + u - k`` of ``ab``, shifted.

    Examples
    --------
    >>> band_transpose(np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]), 0, 1)   # A = [[3, 1, 0], [0, 4, 2], [0, 0, 5]]
    array([[3., 4., 5.],
           [1., 2., 0.]])
    """
    m = lower + upper + 1
    column, inside = _gather_index((m, shape_of(ab)[-1]), np.arange(m) - lower)
    return _on_band(getitem(ab, index=(np.arange(m)[::-1, None], column)), inside)


def band_matvec(ab, x, lower, upper):
    """``A @ x`` for ``A`` held in the band ``ab``; ``x`` of shape ``(n,)`` or ``(n, k)``.

    ``(A x)[i] = sum_r ab[r, i - r + u] x[i - r + u]``, the sum over the diagonals.

    Examples
    --------
    >>> band_matvec(np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([1.0, 2.0]), 0, 1)  # A = [[2, 1], [0, 3]]
    array([4., 6.])
    """
    m = lower + upper + 1
    column, inside = _gather_index((m, shape_of(ab)[-1]), upper - np.arange(m))
    rows = np.arange(m)[:, None]
    terms = getitem(ab, index=(rows, column))
    if len(shape_of(x)) == 2:
        terms = getitem(terms, index=(Ellipsis, None))
    return reduce_sum(_on_band(mul(terms, getitem(x, index=(column,))), inside), axis=(0,), keepdims=False)


def _band_outer(gb, x, lower, upper):
    """``(gb x^T)`` read on the band: ``[r, j] = sum_k gb[j + r - u, k] x[j, k]``, 0 off the matrix."""
    m = lower + upper + 1
    column, inside = _gather_index((m, shape_of(x)[0]), np.arange(m) - upper)
    products = mul(getitem(gb, index=(column,)), x)
    if len(shape_of(x)) == 2:
        products = reduce_sum(products, axis=(2,), keepdims=False)
    return _on_band(products, inside)


def _solve_banded_impl(ab, b, lower, upper):
    return scipy.linalg.solve_banded((lower, upper), ab, b, check_finite=False)


solve_banded = Primitive(
    "solve_banded",
    _explained("solve_banded", "the matrix held in ab is singular", _solve_banded_impl),
)


def _solve_banded_jvp(primals, tangents, params):
    (ab, b), (tab, tb), lower, upper = primals, tangents, params["lower"], params["upper"]
    x = solve_banded(ab, b, lower=lower, upper=upper)
    rhs = tb
    if tab is not None:
        moved = band_matvec(tab, x, lower, upper)
        rhs = neg(moved) if rhs is None else sub(rhs, moved)
    if rhs is None:
        return x, None
    return x, solve_banded(ab, rhs, lower=lower, upper=upper)


def _back(g, ab, lower, upper):
    """``A^-T g``: the banded solve with the transposed band."""
    return solve_banded(band_transpose(ab, lower, upper), g, lower=upper, upper=lower)


solve_banded.jvp = _solve_banded_jvp
solve_banded.vjps = (
    lambda g, x, ab, b, lower, upper: neg(_band_outer(_back(g, ab, lower, upper), x, lower, upper)),
    lambda g, x, ab, b, lower, upper: _back(g, ab, lower, upper),
)
solve_banded.keeps = (0, "ans")
