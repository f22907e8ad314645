"""Floating sums over leading axes or short rows as a product with a vector of ones (BLAS gemv).

``np.add.reduce`` pays its ufunc machinery per call and per row: about 2 us to sum the rows
of a (64, 10) array, or its columns, where a product with ones reaches BLAS's gemv in 0.5 us
(one BLAS thread). A training step is full of such sums (a softmax's row sums, a bias
gradient's column sums). :func:`summer` takes the product only where its rounding was
checked to be no worse than NumPy's own order, and NumPy otherwise; the choice depends on
the shape, dtype and axes alone, so the eager primitive and a replayed program (which both
call :func:`summer`) give the same bits.

NumPy's order (checked bit for bit against NumPy 2.x, C-contiguous input):

* over **leading axes** (the column sums of an (m, n) matrix) it adds the rows one after
  another, the deepest tree there is: any order is within its worst-case bound. OpenBLAS's
  blocked gemv is also better on average from m = 32 rows (0.5-0.71x NumPy's error on random
  columns, 0.25-0.95x on columns that cancel to zero), not below (up to 1.05x on cancelling
  columns of 16 rows): sums of 32 rows or more take the product;
* over the **last axis**, of length n, it sums pairwise: one after another for n < 8, with
  eight running sums beyond. OpenBLAS's gemv keeps four running sums a row (two in the rows
  of a last pair) and rounds each entry no more often than NumPy, at most and in total, for
  n <= 7 and 10 <= n <= 15; on rows that cancel to zero, though, its average error is
  1.0-1.2x NumPy's, against 0.7-0.97x on rows of one sign. So rows take the product only
  when the caller knows every term has one sign (``same_sign``: a sum of exponentials),
  and for n of 10-15 only where gemv's order is checked bit for bit, once per dtype, on a
  probe (:func:`_rows_follow_four_sums`: float64 here; OpenBLAS's float32 kernel for AVX-512
  keeps another order).

Anything else keeps ``np.add.reduce``: other dtypes, empty arrays, full sums, axes in the
middle, and at run time any input that is not C-contiguous (a transposed or reversed view),
where NumPy's order differs again. A misaligned input is copied first, so the bits never
depend on where an array starts in memory. Only OpenBLAS is trusted with this: other BLAS
libraries may pick their order by the data's alignment.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["summer", "gemv_sums"]

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))

#: Fewest rows whose column sums gemv rounds no worse than NumPy, on average too.
_LEADING_ROWS = 32

#: Row lengths NumPy sums one entry after another: any order is within its bound.
_ANY_ORDER_ROWS = 7

#: Row lengths where gemv's four (or two) running sums round each element no more often than NumPy.
_FOUR_SUM_ROWS = range(10, 16)


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


@functools.cache
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False  # shared by every sum of this length
    return ones


def _four_sums(p, lanes):
    """Row sums of ``p`` in gemv's order: ``lanes`` running sums over the first multiple of 4
    entries, combined pairwise, then the last ``n % 4`` entries' own sum added."""
    n = p.shape[1]
    body = n - n % 4
    acc = [p[:, j] for j in range(lanes)]
    for i in range(lanes, body):
        acc[i % lanes] = acc[i % lanes] + p[:, i]
    total = (acc[0] + acc[2]) + (acc[1] + acc[3]) if lanes == 4 else acc[0] + acc[1]
    if body < n:
        tail = p[:, body]
        for i in range(body + 1, n):
            tail = tail + p[:, i]
        total = total + tail
    return total


@functools.cache
def _rows_follow_four_sums(dtype):
    """Whether gemv sums rows of length 10-15 in the order :func:`_four_sums` models, bit for bit,
    on a probe of 7 rows (a block of four, a pair with two running sums, a last row with four).

    >>> isinstance(_rows_follow_four_sums(np.dtype(np.float64)), bool)
    True
    """
    rng = np.random.default_rng(20)
    for n in _FOUR_SUM_ROWS:  # magnitudes over 2**-20 .. 2**20: any other order shows in the bits
        p = (rng.standard_normal((7, n)) * np.exp2(rng.integers(-20, 20, (7, n)))).astype(dtype)
        expected = np.concatenate([_four_sums(p[:4], 4), _four_sums(p[4:6], 2), _four_sums(p[6:], 4)])
        if not np.array_equal(p.dot(_ones(n, dtype)), expected):
            return False
    return True


def _rows_by_gemv(n, dtype):
    return 2 <= n <= _ANY_ORDER_ROWS or n in _FOUR_SUM_ROWS and _rows_follow_four_sums(dtype)


def _gemv_sum(shape, ones, leading, out_shape, fallback):
    """A sum over the leading axes (``ones @ x``) or the last one (``x @ ones``) of a
    C-contiguous array, seen as a matrix; ``fallback`` for any other layout."""
    matrix = (len(ones), math.prod(shape) // len(ones)) if leading else (-1, len(ones))
    reshape_in = len(shape) != 2
    product_shape = (matrix[1],) if leading else (math.prod(shape) // len(ones),)
    reshape_out = product_shape != out_shape

    def total(x):
        flags = x.flags
        if not flags.c_contiguous:  # NumPy's order differs with the layout: keep it
            return fallback(x)
        if not flags.aligned:  # BLAS would take another path: copy, for the same bits
            x = x.copy()
        if reshape_in:
            x = x.reshape(matrix)
        r = ones.dot(x) if leading else x.dot(ones)
        return r.reshape(out_shape) if reshape_out else r

    return total


def summer(shape, dtype, axis, keepdims, same_sign=False):
    """The function replaying ``np.add.reduce(x, axis=axis, keepdims=keepdims)`` for arrays of
    ``shape`` and ``dtype``: a product with a vector of ones where that is at least as accurate
    (see the module docstring), else NumPy's own reduction.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy.dtype
    axis : tuple of int or None
        Non-negative axes to sum over, in increasing order; None for all.
    keepdims : bool
    same_sign : bool
        Whether the caller knows every term has the same sign (a sum of exponentials): then
        short rows take the product too.

    Examples
    --------
    >>> x = np.arange(96.0).reshape(32, 3)
    >>> summer(x.shape, x.dtype, (0,), False)(x)
    array([1488., 1520., 1552.])
    >>> summer(x.shape, x.dtype, (1,), True, same_sign=True)(x)[:2]
    array([[ 3.],
           [12.]])
    """
    if type(axis) is not tuple or not axis:  # None (all axes), or an int or list NumPy reads its own way
        return functools.partial(np.add.reduce, axis=axis, keepdims=keepdims)
    return _summer(shape, dtype, axis, keepdims, same_sign)


@functools.lru_cache(maxsize=1024)
def _summer(shape, dtype, axis, keepdims, same_sign):
    fallback = functools.partial(np.add.reduce, axis=axis, keepdims=keepdims)
    nd = len(shape)
    if dtype not in _FLOATS or 0 in shape or not gemv_sums():
        return fallback
    out_shape = tuple(1 if i in axis else s for i, s in enumerate(shape) if keepdims or i not in axis)
    k = len(axis)
    if axis == tuple(range(k)) and k < nd:  # leading axes
        m, n = math.prod(shape[:k]), math.prod(shape[k:])
        if m >= _LEADING_ROWS and n >= 2:
            return _gemv_sum(shape, _ones(m, dtype), True, out_shape, fallback)
    elif same_sign and axis == (nd - 1,) and nd >= 2 and _rows_by_gemv(shape[-1], dtype):  # the last axis: one row per index before it
        return _gemv_sum(shape, _ones(shape[-1], dtype), False, out_shape, fallback)
    return fallback
