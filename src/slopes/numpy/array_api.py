"""NumPy 2's array-API names: ``concat``, ``unstack``, ``vecdot``, ``matvec``, ``vecmat``,
``matrix_transpose``, ``cumulative_sum``, ``cumulative_prod``, and the ``unique_*`` family.

Thin definitions over the differentiable functions already in :mod:`slopes.numpy`,
with the array API's signatures (``axis`` keywords, ``include_initial``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..core.dtypes import complex_valued
from ..core.ops import elementwise as ew
from ..core.ops import queries as q
from ..core.trace import shape_of
from ._axes import normalize_axis
from .creation import asarray
from .manipulation import cumprod, take
from .products import einsum
from .reductions import cumsum, sum
from .shapes import concatenate, swapaxes

__all__ = [
    "concat",
    "unstack",
    "vecdot",
    "matvec",
    "vecmat",
    "matrix_transpose",
    "cumulative_sum",
    "cumulative_prod",
    "unique_values",
    "unique_counts",
    "unique_inverse",
    "unique_all",
]


def concat(arrays, /, *, axis=0):
    """Differentiable ``numpy.concat`` (the array API's name of ``concatenate``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.concat([np.ones(2), np.zeros(1)])
    array([1., 1., 0.])
    """
    return concatenate(arrays, axis=axis)


def unstack(x, /, *, axis=0):
    """Differentiable ``numpy.unstack``: the slices of ``x`` along ``axis``, as a tuple.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [a.shape for a in snp.unstack(np.ones((2, 3)), axis=1)]
    [(2,), (2,), (2,)]
    """
    x = asarray(x)
    axis = normalize_axis(axis, len(shape_of(x)))
    return tuple(take(x, i, axis=axis) for i in range(shape_of(x)[axis]))


def _conj(x):
    return ew.conj(x) if complex_valued(x) else x


def vecdot(x1, x2, /, *, axis=-1):
    """Differentiable ``numpy.vecdot``: dot products of vectors along ``axis``, broadcasting.

    As in NumPy, a complex ``x1`` is conjugated: ``vecdot(z, z) = sum |z|**2``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    >>> snp.vecdot(np.array([1j, 2.0]), np.array([1j, 2.0]))
    np.complex128(5+0j)
    """
    return sum(ew.mul(_conj(asarray(x1)), asarray(x2)), axis=axis)


def matvec(x1, x2, /):
    """Differentiable ``numpy.matvec``: matrix-vector products over the last axes, broadcasting.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.matvec(np.eye(2) * 2.0, np.array([1.0, 3.0]))
    array([2., 6.])
    """
    return einsum("...ij,...j->...i", asarray(x1), asarray(x2))


def vecmat(x1, x2, /):
    """Differentiable ``numpy.vecmat``: vector-matrix products over the last axes, broadcasting.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.vecmat(np.array([1.0, 3.0]), np.array([[1.0, 2.0], [0.0, 1.0]]))
    array([1., 5.])
    """
    return einsum("...i,...ij->...j", _conj(asarray(x1)), asarray(x2))  # NumPy conjugates x1


def matrix_transpose(x, /):
    """Differentiable ``numpy.matrix_transpose``: swap the last two axes.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.matrix_transpose(np.ones((4, 2, 3))).shape
    (4, 3, 2)
    """
    x = asarray(x)
    if len(shape_of(x)) < 2:
        raise ValueError(f"matrix_transpose(): needs at least 2 dimensions, got shape {shape_of(x)}")
    return swapaxes(x, -1, -2)


def _cumulative(running, neutral, x, axis, include_initial, fn):
    x = asarray(x)
    nd = len(shape_of(x))
    if axis is None:
        if nd > 1:
            raise ValueError(f"{fn}(): give axis= for an array of {nd} dimensions")
        axis = 0
    x = x if nd else x.reshape((1,))
    axis = normalize_axis(axis, max(nd, 1))
    out = running(x, axis=axis)
    if include_initial:
        shape = list(shape_of(x))
        shape[axis] = 1
        out = concatenate([np.full(shape, neutral, dtype=out.dtype), out], axis=axis)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Differentiable ``numpy.cumulative_sum``: running sums, optionally starting with 0.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.cumulative_sum(np.array([1.0, 2.0, 3.0]), include_initial=True)
    array([0., 1., 3., 6.])
    """
    x = asarray(x) if dtype is None else ew.astype(asarray(x), dtype=np.dtype(dtype))
    return _cumulative(cumsum, 0, x, axis, include_initial, "cumulative_sum")


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Differentiable ``numpy.cumulative_prod``: running products, optionally starting with 1.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.cumulative_prod(np.array([1.0, 2.0, 3.0]), include_initial=True)
    array([1., 1., 2., 6.])
    """
    x = asarray(x) if dtype is None else ew.astype(asarray(x), dtype=np.dtype(dtype))
    return _cumulative(cumprod, 1, x, axis, include_initial, "cumulative_prod")


UniqueCounts = namedtuple("UniqueCounts", ["values", "counts"])
UniqueInverse = namedtuple("UniqueInverse", ["values", "inverse_indices"])
UniqueAll = namedtuple("UniqueAll", ["values", "indices", "inverse_indices", "counts"])


def unique_values(x, /):
    """``numpy.unique_values`` on plain or traced values (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.unique_values(np.array([2.0, 1.0, 2.0]))
    array([1., 2.])
    """
    return q.unique(asarray(x))


def unique_counts(x, /):
    """``numpy.unique_counts`` on plain or traced values: distinct values and how often each occurs.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.unique_counts(np.array([2.0, 1.0, 2.0])).counts
    array([1, 2])
    """
    return UniqueCounts(*q.unique(asarray(x), return_counts=True))


def unique_inverse(x, /):
    """``numpy.unique_inverse`` on plain or traced values: distinct values and where each entry went.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.unique_inverse(np.array([2.0, 1.0, 2.0])).inverse_indices
    array([1, 0, 1])
    """
    values, inverse = q.unique(asarray(x), return_inverse=True)
    return UniqueInverse(values, inverse.reshape(shape_of(x)))


def unique_all(x, /):
    """``numpy.unique_all`` on plain or traced values: values, first indices, inverse and counts.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.unique_all(np.array([2.0, 1.0, 2.0])).indices
    array([1, 0])
    """
    values, index, inverse, counts = q.unique(
        asarray(x), return_index=True, return_inverse=True, return_counts=True
    )
    return UniqueAll(values, index, inverse.reshape(shape_of(x)), counts)
