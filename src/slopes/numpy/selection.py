"""Choosing and removing entries: ``choose``, ``compress``, ``extract``, ``delete``,
``diagflat``, ``block``, ``copy``.

Which entries are chosen is decided by integer or boolean arguments, which carry no
derivative; the derivative with respect to the array follows the chosen entries.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import Tracer, concrete, shape_of
from ._axes import normalize_axis
from ._static import known_value
from .creation import asarray
from .manipulation import take
from .products import diag
from .shapes import broadcast_arrays, concatenate, ravel, reshape

__all__ = ["choose", "compress", "extract", "delete", "trim_zeros", "diagflat", "block", "copy"]


def choose(a, choices, mode="raise"):
    """Differentiable ``numpy.choose``: entry ``i`` from ``choices[a[i]]``, broadcasting.

    The derivative goes to the chosen entry of each choice; ``mode`` is NumPy's
    (``"raise"``, ``"wrap"``, ``"clip"``) for indices out of range.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.choose(np.array([0, 1, 0]), [np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])])
    array([ 1., 20.,  3.])
    """
    choices = list(choices)
    n = len(choices)
    index = asarray(a)
    value = concrete(index)
    if mode == "raise":
        if value.size and (value.min() < 0 or value.max() >= n):
            raise ValueError(f"choose(): indices must lie in [0, {n - 1}] for {n} choices (or use mode='wrap'/'clip')")
    elif mode == "wrap":
        index = ew.sub(index, ew.mul(ew.floor_divide(index, n), n))
    elif mode == "clip":
        index = ew.clip(index, 0, n - 1)
    else:
        raise ValueError(f"choose(): mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    parts = broadcast_arrays(index, *[asarray(c) for c in choices])
    out = parts[1]
    for i, c in enumerate(parts[2:], start=1):
        out = ew.where(ew.equal(parts[0], i), c, out)
    return out


def _positions(condition, fn):
    cond = known_value(condition, fn, "the condition")
    if cond.ndim != 1:
        raise ValueError(f"{fn}(): the condition must be 1-d, got shape {cond.shape}")
    return np.flatnonzero(cond)


def compress(condition, a, axis=None):
    """Differentiable ``numpy.compress``: the slices along ``axis`` where ``condition`` is true.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.compress([True, False, True], np.array([[1.0, 2.0, 3.0]]), axis=1)
    array([[1., 3.]])
    """
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    return take(a, _positions(condition, "compress"), axis=axis)


def extract(condition, arr):
    """Differentiable ``numpy.extract``: the entries of ``arr`` where ``condition`` is true, flattened.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> x = np.array([[1.0, -2.0], [3.0, -4.0]])
    >>> snp.extract(x > 0, x)
    array([1., 3.])
    """
    return take(ravel(asarray(arr)), _positions(ravel(asarray(condition)), "extract"))


def delete(arr, obj, axis=None):
    """Differentiable ``numpy.delete``: ``arr`` without the entries (slices) ``obj`` along ``axis``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.delete(np.array([1.0, 2.0, 3.0, 4.0]), [0, 2])
    array([2., 4.])
    """
    arr = asarray(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_axis(axis, len(shape_of(arr)))
    n = shape_of(arr)[axis]
    obj = obj if isinstance(obj, slice) else known_value(obj, "delete", "the positions")
    keep = np.delete(np.arange(n), obj)  # NumPy's meaning of obj: ints, slices, boolean masks
    return take(arr, keep, axis=axis)


def trim_zeros(filt, trim="fb"):
    """Differentiable ``numpy.trim_zeros``: leading (``"f"``) and trailing (``"b"``) zeros of a 1-d array cut off.

    Where to cut is read from the values (no derivative); the entries kept carry theirs.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.trim_zeros(np.array([0.0, 1.0, 0.0, 2.0, 0.0]))
    array([1., 0., 2.])
    """
    filt = asarray(filt)
    value = known_value(filt, "trim_zeros", "the values (where the zeros are)")
    if value.ndim != 1:
        raise ValueError(f"trim_zeros(): needs a 1-d array, got shape {value.shape}")
    nonzero = np.flatnonzero(value)
    if nonzero.size == 0:
        return filt[:0]
    start = nonzero[0] if "f" in trim.lower() else 0
    stop = nonzero[-1] + 1 if "b" in trim.lower() else value.size
    return filt[int(start) : int(stop)]


def diagflat(v, k=0):
    """Differentiable ``numpy.diagflat``: the flattened input on diagonal ``k`` of a square array.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.diagflat(np.array([[1.0, 2.0]]))
    array([[1., 0.],
           [0., 2.]])
    """
    return diag(ravel(asarray(v)), k)


def _depth(item):
    return 1 + _depth(item[0]) if isinstance(item, list) and item else 0


def block(arrays):
    """Differentiable ``numpy.block``: assemble an array from nested lists of blocks.

    The innermost lists are joined along the last axis, the next ones along the
    one before, and so on, as in NumPy.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), np.ones((1, 1))]])
    array([[1., 0., 0.],
           [0., 1., 0.],
           [1., 1., 1.]])
    """
    depth = _depth(arrays)
    if depth == 0:
        return asarray(arrays)

    def leaves(item):
        if isinstance(item, list):
            if not item:
                raise ValueError("block(): lists must not be empty")
            return [leaves(i) for i in item]
        return asarray(item)

    def rank(item):
        return max(rank(i) for i in item) if isinstance(item, list) else len(shape_of(item))

    built = leaves(arrays)
    nd = max(rank(built), depth)

    def join(item, level):
        if not isinstance(item, list):
            return reshape(item, (1,) * (nd - len(shape_of(item))) + tuple(shape_of(item)))
        return concatenate([join(i, level + 1) for i in item], axis=nd - depth + level)

    return join(built, 0)


def copy(a, order="K"):
    """``numpy.copy``: a copy of a plain array; a traced value is returned as is (it is immutable).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.copy(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    if isinstance(a, Tracer):
        return a
    return np.copy(a, order=order)
