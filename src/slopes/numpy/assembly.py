"""Putting arrays together and turning them around: ``append``, ``column_stack``,
``dstack``, ``atleast_3d``, ``hsplit``/``vsplit``/``dsplit``, ``rot90``, ``rollaxis``,
``permute_dims``, ``select``, ``r_``/``c_``.

Each is NumPy's definition written with the differentiable shape functions, so the
derivative follows every entry to where it went.
"""

from __future__ import annotations

import numpy as np

from ..core.trace import Tracer, shape_of
from ._axes import normalize_axis
from .creation import asarray
from .manipulation import flip, split
from .shapes import atleast_1d, atleast_2d, concatenate, moveaxis, ravel, reshape, swapaxes, transpose
from .ufuncs import where

__all__ = [
    "append",
    "column_stack",
    "row_stack",
    "dstack",
    "atleast_3d",
    "hsplit",
    "vsplit",
    "dsplit",
    "rot90",
    "rollaxis",
    "permute_dims",
    "select",
    "r_",
    "c_",
]


def _ndim(x):
    return len(shape_of(x))


def append(arr, values, axis=None):
    """Differentiable ``numpy.append``: ``values`` added at the end of ``arr``.

    Without ``axis`` both are flattened first, as in NumPy.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.append(np.array([1.0, 2.0]), [[3.0]])
    array([1., 2., 3.])
    >>> sl.grad(lambda v: snp.append(np.ones(2), v).sum())(np.zeros(3))
    array([1., 1., 1.])
    """
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def atleast_3d(x):
    """Differentiable ``numpy.atleast_3d``: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` becomes ``(m, n, 1)``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.atleast_3d(np.ones(4)).shape, snp.atleast_3d(np.ones((2, 3))).shape
    ((1, 4, 1), (2, 3, 1))
    """
    x = asarray(x)
    s = tuple(shape_of(x))
    if len(s) >= 3:
        return x
    return reshape(x, {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def column_stack(arrays):
    """Differentiable ``numpy.column_stack``: 1-d arrays become columns of a 2-d array.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.column_stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    array([[1., 3.],
           [2., 4.]])
    """
    cols = [asarray(a) for a in arrays]
    cols = [reshape(a, (-1, 1)) if _ndim(a) < 2 else a for a in cols]
    return concatenate(cols, axis=1)


def row_stack(arrays):
    """Differentiable ``numpy.row_stack`` (NumPy's older name of ``vstack``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.row_stack([np.ones(2), np.zeros(2)]).shape
    (2, 2)
    """
    return concatenate([atleast_2d(asarray(a)) for a in arrays], axis=0)


def dstack(arrays):
    """Differentiable ``numpy.dstack``: arrays stacked along a third axis.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.dstack([np.ones((2, 2)), np.zeros((2, 2))]).shape
    (2, 2, 2)
    """
    return concatenate([atleast_3d(a) for a in arrays], axis=2)


def _split_along(x, spec, axis, fn, least):
    x = asarray(x)
    if _ndim(x) < least:
        raise ValueError(
            f"{fn}() needs an array of at least {least} dimension(s), got shape {tuple(shape_of(x))}"
        )
    return split(x, spec, axis=axis)


def hsplit(x, indices_or_sections):
    """Differentiable ``numpy.hsplit``: split along axis 1 (axis 0 for 1-d arrays).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [p.shape for p in snp.hsplit(np.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split_along(x, indices_or_sections, 1 if _ndim(asarray(x)) > 1 else 0, "hsplit", 1)


def vsplit(x, indices_or_sections):
    """Differentiable ``numpy.vsplit``: split along axis 0 of an array of 2 or more dimensions.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [p.shape for p in snp.vsplit(np.ones((4, 2)), [1])]
    [(1, 2), (3, 2)]
    """
    return _split_along(x, indices_or_sections, 0, "vsplit", 2)


def dsplit(x, indices_or_sections):
    """Differentiable ``numpy.dsplit``: split along axis 2 of an array of 3 or more dimensions.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [p.shape for p in snp.dsplit(np.ones((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return _split_along(x, indices_or_sections, 2, "dsplit", 3)


def rot90(m, k=1, axes=(0, 1)):
    """Differentiable ``numpy.rot90``: rotate by 90 degrees ``k`` times in the plane of ``axes``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.rot90(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]])
    """
    m = asarray(m)
    nd = _ndim(m)
    if len(axes) != 2:
        raise ValueError(f"rot90(): axes must name 2 axes, got {axes!r}")
    a, b = (normalize_axis(ax, nd) for ax in axes)
    if a == b:
        raise ValueError(f"rot90(): the two axes must differ, got {axes!r}")
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a), b)
    if k == 1:
        return swapaxes(flip(m, b), a, b)
    return flip(swapaxes(m, a, b), b)


def rollaxis(a, axis, start=0):
    """Differentiable ``numpy.rollaxis``: move ``axis`` to sit before position ``start``.

    Prefer :func:`moveaxis`, as NumPy does; this keeps NumPy's older meaning of ``start``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.rollaxis(np.ones((3, 4, 5)), 2).shape
    (5, 3, 4)
    """
    a = asarray(a)
    nd = _ndim(a)
    axis = normalize_axis(axis, nd)
    if not -nd <= start <= nd:
        raise np.exceptions.AxisError(
            f"rollaxis(): start={start} is out of range for {nd} dimensions (-{nd} to {nd})"
        )
    start = start + nd if start < 0 else start
    if axis < start:
        start -= 1  # the axis is taken out before it is put back
    return moveaxis(a, axis, start)


def permute_dims(a, axes=None):
    """Differentiable ``numpy.permute_dims`` (the array API's name of ``transpose``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.permute_dims(np.ones((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return transpose(asarray(a), axes)


def select(condlist, choicelist, default=0):
    """Differentiable ``numpy.select``: from each choice where its condition first holds.

    The derivative follows the chosen entries; a choice not taken gets none, and
    never leaks NaN or inf from where it was not chosen (as :func:`where`).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> snp.select([x < 0, x < 1], [-x, x ** 2], default=1.0)
    array([2.  , 0.25, 1.  ])
    >>> sl.grad(lambda x: snp.select([x < 0, x < 1], [-x, x ** 2], 1.0).sum())(x)
    array([-1.,  1.,  0.])
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select(): {len(condlist)} conditions and {len(choicelist)} choices; "
            "give one choice per condition"
        )
    out = asarray(default)
    for cond, choice in reversed(list(zip(condlist, choicelist))):  # the first true condition wins
        out = where(cond, choice, out)
    return out


class _Concatenator:
    """``r_[...]`` and ``c_[...]``: NumPy's index-expression builders, traced entries allowed."""

    def __init__(self, numpy_version, columns):
        self._numpy = numpy_version
        self._columns = columns

    def __getitem__(self, items):
        items = items if isinstance(items, tuple) else (items,)
        if not any(isinstance(i, Tracer) for i in items):
            return self._numpy[items]
        if any(isinstance(i, str) for i in items):
            raise TypeError(
                "r_/c_ with traced entries take arrays, numbers and slices; for the string "
                "directives use snp.concatenate / snp.stack with the axis you want"
            )
        parts = [self._numpy[i] if isinstance(i, slice) else asarray(i) for i in items]
        if self._columns:  # c_: 1-d pieces become columns, joined along the last axis
            return concatenate([reshape(p, (-1, 1)) if _ndim(p) < 2 else p for p in parts], axis=-1)
        return concatenate([atleast_1d(p) for p in parts], axis=0)


r_ = _Concatenator(np.r_, columns=False)
c_ = _Concatenator(np.c_, columns=True)
