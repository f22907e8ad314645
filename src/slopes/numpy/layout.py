"""Functions that only move entries, differentiable by asking NumPy where each entry goes:
``insert``, ``put_along_axis``, ``put``, ``place``, ``fill_diagonal``, ``resize``.

NumPy runs the function on *labels* (each entry of each input replaced by its
position in the inputs laid end to end); the result's labels say which input entry
lands where, and the traced result gathers exactly those entries. So every keyword
and corner case is NumPy's own, and the derivative follows each entry. The functions
that write in place in NumPy return a new array here (traced arrays are immutable),
leaving their input unchanged, as JAX's do.
"""

from __future__ import annotations

import numpy as np

from ..core.trace import shape_of
from ._static import known_value
from .creation import asarray
from .manipulation import take
from .shapes import concatenate, ravel

__all__ = ["insert", "put_along_axis", "put", "place", "fill_diagonal", "resize"]


def follow_layout(rearrange, *arrays):
    """``rearrange(*arrays)`` for a NumPy function that only moves, repeats or drops entries.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.grad(lambda x: follow_layout(lambda a: np.tile(a, 3), x).sum())(np.ones(2))
    array([3., 3.])
    """
    arrays = [asarray(a) for a in arrays]
    labels, start = [], 0
    for a in arrays:
        size = int(np.prod(shape_of(a)))
        labels.append(np.arange(start, start + size).reshape(shape_of(a)))
        start += size
    where_from = np.asarray(rearrange(*labels))
    pool = concatenate([ravel(a) for a in arrays]) if len(arrays) > 1 else ravel(arrays[0])
    return take(pool, where_from)


def _plain(v, fn):
    # positions and masks carry no derivative, and decide the layout: known before tracing
    return v if isinstance(v, slice) else known_value(v, fn, "the positions or mask")


def insert(arr, obj, values, axis=None):
    """Differentiable ``numpy.insert``: ``values`` inserted before the positions ``obj``.

    Differentiable in ``arr`` and ``values``; the result has their common dtype.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.insert(np.array([1.0, 2.0, 3.0]), [1, 3], [9.0, 8.0])
    array([1., 9., 2., 3., 8.])
    >>> sl.grad(lambda v: snp.insert(np.zeros(2), 1, v).sum())(np.ones(3))
    array([1., 1., 1.])
    """
    obj = _plain(obj, "insert")
    return follow_layout(lambda a, v: np.insert(a, obj, v, axis=axis), arr, values)


def _written(np_inplace):
    """A NumPy function that writes into its first argument, as one returning a new array."""

    def rearrange(a, v):
        out = a.copy()
        np_inplace(out, v)
        return out

    return rearrange


def put_along_axis(arr, indices, values, axis):
    """Differentiable ``numpy.put_along_axis``, returning the updated array (the input is unchanged).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.put_along_axis(np.zeros((2, 2)), np.array([[1], [0]]), 5.0, axis=1)
    array([[0., 5.],
           [5., 0.]])
    """
    indices = _plain(indices, "put_along_axis")
    return follow_layout(_written(lambda out, v: np.put_along_axis(out, indices, v, axis)), arr, values)


def put(a, ind, v, mode="raise"):
    """Differentiable ``numpy.put``: entries of the flattened array replaced, returning a new array.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.put(np.zeros(3), [0, 2], [1.0, 2.0])
    array([1., 0., 2.])
    """
    ind = _plain(ind, "put")
    return follow_layout(_written(lambda out, vals: np.put(out, ind, vals, mode=mode)), a, v)


def place(arr, mask, vals):
    """Differentiable ``numpy.place``: entries where ``mask`` holds replaced by ``vals`` (repeated), as a new array.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.place(np.zeros(4), np.array([True, False, True, True]), [1.0, 2.0])
    array([1., 0., 2., 1.])
    """
    mask = _plain(mask, "place")
    return follow_layout(_written(lambda out, v: np.place(out, mask, v)), arr, vals)


def fill_diagonal(a, val, wrap=False):
    """Differentiable ``numpy.fill_diagonal``, returning a new array with the diagonal set to ``val``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.fill_diagonal(np.zeros((2, 2)), 3.0)
    array([[3., 0.],
           [0., 3.]])
    >>> sl.grad(lambda A: snp.fill_diagonal(A, 0.0).sum())(np.ones((2, 2)))
    array([[0., 1.],
           [1., 0.]])
    """
    return follow_layout(_written(lambda out, v: np.fill_diagonal(out, v, wrap=wrap)), a, val)


def resize(a, new_shape):
    """Differentiable ``numpy.resize``: the entries of ``a`` repeated (or cut) to fill ``new_shape``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.resize(np.array([1.0, 2.0, 3.0]), (2, 2))
    array([[1., 2.],
           [3., 1.]])
    """
    return follow_layout(lambda x: np.resize(x, new_shape), a)
