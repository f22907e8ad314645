"""Floating sums over leading axes as a product with a vector of ones (BLAS gemv).

``np.add.reduce`` pays its ufunc machinery per call and per row: about 2 us for the column
sums of a (64, 10) array, where a product with ones reaches BLAS's gemv in 0.5 us (one BLAS
thread). A training step's bias gradients are such sums, over the batch's rows.
:func:`summer` takes the product only where its rounding was checked to be no worse than
NumPy's own order, and NumPy otherwise; the choice depends on the shape, dtype and axes
alone, so the eager primitive (:func:`add_reduce`) and a replayed program (which calls
:func:`summer` once per equation) give the same bits.

Over **leading axes** (the column sums of an (m, n) matrix, C-contiguous) NumPy adds the
rows one after another, the deepest tree there is: any order is within its worst-case
bound. OpenBLAS's blocked gemv is also better on average from m = 32 rows (0.5-0.71x
NumPy's error on random columns, 0.25-0.95x on columns that cancel to zero), not below (up
to 1.05x on cancelling columns of 16 rows): sums of 32 rows or more take the product.

Anything else keeps ``np.add.reduce``: other dtypes, empty arrays, full sums, the last axis
(NumPy's pairwise order there is hard to match on average), axes in the middle, and at run
time any input that is not C-contiguous (a transposed or reversed view), where NumPy's order
differs again. Only OpenBLAS is trusted with this: other BLAS libraries may pick their order
by the data's alignment (NumPy's matrix product copies a misaligned operand before BLAS
sees it, so the bits never depend on where an array starts).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .rules import DOT_DTYPES

__all__ = ["add_reduce", "summer", "gemv_sums"]

#: Fewest rows whose column sums gemv rounds no worse than NumPy, on average too.
_LEADING_ROWS = 32


@functools.cache
def gemv_sums():
    """Whether NumPy's products call OpenBLAS, whose gemv sums in an order fixed by the shape alone.

    >>> isinstance(gemv_sums(), bool)
    True
    """
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - an older NumPy, or a build that does not say: keep NumPy's sums
        return False
    return "openblas" in str(blas.get("name", "")).lower()


def _leading_sum(shape, ones, out_shape, fallback):
    """``ones @ x`` over the leading axes of a C-contiguous ``x`` seen as a matrix (into ``out``
    if given); ``fallback`` for any other layout."""
    matrix = (len(ones), math.prod(shape) // len(ones))
    reshape_in = len(shape) != 2
    reshape_out = (matrix[1],) != out_shape

    def total(x, out=None):
        if not x.flags.c_contiguous:  # NumPy's order differs with the layout: keep it
            return fallback(x, out=out)
        x = x.reshape(matrix) if reshape_in else x
        if out is not None:  # the same gemv call, written into a C-contiguous out (a flat buffer's part)
            ones.dot(x, out=out.reshape(matrix[1]) if reshape_out else out)
            return out
        r = ones.dot(x)
        return r.reshape(out_shape) if reshape_out else r

    return total


def summer(shape, dtype, axis, keepdims):
    """The function replaying ``np.add.reduce(x, axis=axis, keepdims=keepdims)`` for arrays of
    ``shape`` and ``dtype``: a product with a vector of ones over 32 leading rows or more (see
    the module docstring), else NumPy's own reduction.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy.dtype
    axis : tuple of int, int, list or None
        Non-negative axes to sum over, in increasing order, as a tuple; any other form (None
        for all axes, an int) is passed to NumPy as given.
    keepdims : bool

    Examples
    --------
    >>> x = np.arange(96.0).reshape(32, 3)
    >>> summer(x.shape, x.dtype, (0,), False)(x)
    array([1488., 1520., 1552.])
    >>> summer(x.shape, x.dtype, (1,), True)(x)[:2]
    array([[ 3.],
           [12.]])
    """
    if type(axis) is not tuple or not axis:  # None (all axes), or an int or list NumPy reads its own way
        return functools.partial(np.add.reduce, axis=axis, keepdims=keepdims)
    return _summer(shape, dtype, axis, keepdims)


def add_reduce(x, axis, keepdims):
    """``np.add.reduce(x, axis=axis, keepdims=keepdims)`` for a floating ndarray, through
    :func:`summer` only where it may take the product (a tuple of axes, 64 entries or more):
    other calls pay no chooser.

    >>> add_reduce(np.ones((32, 2)), (0,), False)
    array([32., 32.])
    >>> add_reduce(np.ones((2, 3)), None, False)
    np.float64(6.0)
    """
    if type(axis) is not tuple or not axis or x.size < 2 * _LEADING_ROWS:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return _summer(x.shape, x.dtype, axis, keepdims)(x)


@functools.lru_cache(maxsize=256)  # each entry holds a vector of ones as long as its rows
def _summer(shape, dtype, axis, keepdims):
    fallback = functools.partial(np.add.reduce, axis=axis, keepdims=keepdims)
    k = len(axis)
    if dtype not in DOT_DTYPES or 0 in shape or axis != tuple(range(k)) or k >= len(shape) or not gemv_sums():
        return fallback
    m, n = math.prod(shape[:k]), math.prod(shape[k:])
    if m < _LEADING_ROWS or n < 2:
        return fallback
    ones = np.ones(m, dtype)  # held by this cached chooser alone: evicted with it
    ones.flags.writeable = False
    out_shape = (1,) * k + shape[k:] if keepdims else shape[k:]
    return _leading_sum(shape, ones, out_shape, fallback)
