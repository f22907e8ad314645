"""Differences and cross products: ``gradient``, ``ediff1d``, ``trapezoid``, ``cross``, and ``partition``.

``gradient`` is NumPy's second-order finite-difference derivative of sampled values
(central inside, one-sided at the edges), written with slices so that it is
differentiable in the values and in traced spacings. ``cross`` is one primitive;
``partition`` gathers along NumPy's own ``argpartition``.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops.cross import cross as cross_op
from ..core.ops import queries as q
from ..core.ops import reorder as ro
from ..core.trace import shape_of
from ._axes import normalize_axis
from .creation import asarray
from .reductions import sum as _sum
from .shapes import concatenate, moveaxis, ravel, reshape

__all__ = ["gradient", "ediff1d", "trapezoid", "cross", "partition"]


def _slice(f, axis, start, stop):
    return f[(slice(None),) * axis + (slice(start, stop),)]


def _along(v, axis, nd):
    """A 1-d array ``v`` shaped to broadcast along ``axis`` of an ``nd``-d array."""
    return reshape(v, (1,) * axis + (-1,) + (1,) * (nd - axis - 1))


def _gradient_uniform(f, h, axis, edge_order):
    n = shape_of(f)[axis]
    inner = ew.div(ew.sub(_slice(f, axis, 2, None), _slice(f, axis, None, -2)), ew.mul(2.0, h))
    if edge_order == 1:
        first = ew.div(ew.sub(_slice(f, axis, 1, 2), _slice(f, axis, 0, 1)), h)
        last = ew.div(ew.sub(_slice(f, axis, n - 1, n), _slice(f, axis, n - 2, n - 1)), h)
    else:  # one-sided second-order stencils (-3, 4, -1) / 2h and (1, -4, 3) / 2h
        a, b, c = (_slice(f, axis, i, i + 1) for i in range(3))
        first = ew.div(ew.add(ew.sub(ew.mul(4.0, b), ew.mul(3.0, a)), ew.neg(c)), ew.mul(2.0, h))
        a, b, c = (_slice(f, axis, n - 3 + i, n - 2 + i) for i in range(3))
        last = ew.div(ew.add(ew.sub(a, ew.mul(4.0, b)), ew.mul(3.0, c)), ew.mul(2.0, h))
    return concatenate([first, inner, last], axis=axis)


def _gradient_coordinates(f, x, axis, edge_order):
    nd = len(shape_of(f))
    d = x[1:] - x[:-1]
    d1, d2 = _along(d[:-1], axis, nd), _along(d[1:], axis, nd)
    # the second-order stencil on an uneven grid (NumPy's, from Fornberg's weights)
    a = ew.neg(ew.div(d2, ew.mul(d1, ew.add(d1, d2))))
    b = ew.div(ew.sub(d2, d1), ew.mul(d1, d2))
    c = ew.div(d1, ew.mul(d2, ew.add(d1, d2)))
    inner = ew.add(
        ew.add(ew.mul(a, _slice(f, axis, None, -2)), ew.mul(b, _slice(f, axis, 1, -1))),
        ew.mul(c, _slice(f, axis, 2, None)),
    )
    n = shape_of(f)[axis]
    if edge_order == 1:
        first = ew.div(ew.sub(_slice(f, axis, 1, 2), _slice(f, axis, 0, 1)), d[0])
        last = ew.div(ew.sub(_slice(f, axis, n - 1, n), _slice(f, axis, n - 2, n - 1)), d[-1])
    else:
        def edge(f0, f1, f2, h1, h2, sign):
            # derivative at the first of three points at distances h1, h1 + h2 (sign -1: mirrored)
            w0 = ew.neg(ew.div(ew.add(ew.mul(2.0, h1), h2), ew.mul(h1, ew.add(h1, h2))))
            w1 = ew.div(ew.add(h1, h2), ew.mul(h1, h2))
            w2 = ew.neg(ew.div(h1, ew.mul(h2, ew.add(h1, h2))))
            return ew.mul(sign, ew.add(ew.add(ew.mul(w0, f0), ew.mul(w1, f1)), ew.mul(w2, f2)))

        s = [_slice(f, axis, i, i + 1) for i in (0, 1, 2)]
        first = edge(s[0], s[1], s[2], d[0], d[1], 1.0)
        s = [_slice(f, axis, n - 1 - i, n - i) for i in (0, 1, 2)]
        last = edge(s[0], s[1], s[2], d[-1], d[-2], -1.0)
    return concatenate([first, inner, last], axis=axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """Differentiable ``numpy.gradient``: the derivative of sampled values by finite differences.

    Second-order central differences inside, first- or second-order
    (``edge_order``) one-sided differences at the edges, with a uniform spacing
    (a scalar per axis) or sample coordinates (a 1-d array per axis), as NumPy.
    Differentiable in ``f`` and in traced spacings or coordinates.

    Parameters
    ----------
    f : array_like
        Samples of a function.
    *varargs : scalars or 1-d arrays, optional
        One spacing for all axes, or one spacing or coordinate array per axis.
    axis : int or tuple of ints, optional
        The axes to differentiate along; all by default.
    edge_order : {1, 2}

    Returns
    -------
    array, or a list of arrays (one per axis) when there are several axes.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.gradient(np.array([1.0, 4.0, 9.0, 16.0]))
    array([3., 4., 6., 7.])
    >>> sl.grad(lambda f: snp.gradient(f)[1])(np.zeros(4))
    array([-0.5,  0. ,  0.5,  0. ])
    """
    f = asarray(f)
    nd = len(shape_of(f))
    axes = tuple(range(nd)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(normalize_axis(a, nd) for a in axes)
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError(f"gradient(): give one spacing, or one per axis ({len(axes)}), not {len(varargs)}")
    if edge_order not in (1, 2):
        raise ValueError(f"gradient(): edge_order must be 1 or 2, got {edge_order!r}")
    out = []
    for ax, h in zip(axes, spacings):
        n = shape_of(f)[ax]
        if n < edge_order + 1:
            raise ValueError(
                f"gradient(): axis {ax} has {n} sample(s); "
                f"edge_order={edge_order} needs at least {edge_order + 1}"
            )
        h = asarray(h)
        if len(shape_of(h)) == 0:
            out.append(_gradient_uniform(f, h, ax, edge_order))
        elif shape_of(h) == (n,):
            out.append(_gradient_coordinates(f, h, ax, edge_order))
        else:
            raise ValueError(
                f"gradient(): the coordinates along axis {ax} must be a 1-d array of its length {n}, "
                f"got shape {tuple(shape_of(h))}"
            )
    return out[0] if len(out) == 1 else out


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Differentiable ``numpy.cross``: the cross product of 3-vectors (or the z-part for 2-vectors).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    >>> sl.jacobian(lambda a: snp.cross(a, np.array([0.0, 0.0, 1.0])))(np.ones(3))
    array([[ 0.,  1.,  0.],
           [-1.,  0.,  0.],
           [ 0.,  0.,  0.]])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(asarray(a), axisa, -1)
    b = moveaxis(asarray(b), axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross(): the vectors must have 2 or 3 components, got {na} and {nb}")
    c = cross_op(a, b)  # one primitive: its rules are cross products
    return c if na == 2 and nb == 2 else moveaxis(c, -1, axisc)  # two 2-vectors: the z-part alone


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """Differentiable ``numpy.partition``: the ``kth`` entry in its sorted place, the rest around it.

    The entries are gathered along NumPy's ``argpartition`` of the values, so the
    result equals NumPy's and the derivative follows each entry to its place.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.partition(np.array([3.0, 1.0, 2.0]), 1)[1])
    2.0
    >>> sl.grad(lambda x: snp.partition(x, 1)[1])(np.array([3.0, 1.0, 2.0]))
    array([0., 0., 1.])
    """
    a = asarray(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    axis = normalize_axis(axis, len(shape_of(a)))
    order_ = q.argpartition(a, kth=kth, axis=axis, kind=kind, order=order)
    return ro.gather(a, order_, axis=axis)


def ediff1d(ary, to_end=None, to_begin=None):
    """Differentiable ``numpy.ediff1d``: differences of the flattened array, with optional ends.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.ediff1d(np.array([1.0, 4.0, 9.0]), to_begin=0.0)
    array([0., 3., 5.])
    """
    flat = ravel(asarray(ary))
    parts = [ew.sub(flat[1:], flat[:-1])]
    if to_begin is not None:
        parts.insert(0, ravel(asarray(to_begin)))
    if to_end is not None:
        parts.append(ravel(asarray(to_end)))
    return concatenate(parts)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Differentiable ``numpy.trapezoid``: the integral of samples ``y`` by the trapezoidal rule.

    With sample points ``x`` (1-d along ``axis``, or ``y``'s shape) or a spacing
    ``dx``; differentiable in ``y``, ``x`` and ``dx``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.trapezoid(np.array([0.0, 1.0, 4.0]), x=np.array([0.0, 1.0, 2.0])))
    3.0
    >>> sl.grad(lambda y: snp.trapezoid(y, dx=0.5))(np.ones(3))
    array([0.25, 0.5 , 0.25])
    """
    y = asarray(y)
    nd = len(shape_of(y))
    axis = normalize_axis(axis, nd)
    n = shape_of(y)[axis]
    if x is None:
        d = asarray(dx)
    else:
        x = asarray(x)
        if len(shape_of(x)) == 1:
            d = _along(ew.sub(x[1:], x[:-1]), axis, nd)
        else:
            d = ew.sub(_slice(x, axis, 1, n), _slice(x, axis, 0, n - 1))
    mids = ew.mul(ew.add(_slice(y, axis, 1, n), _slice(y, axis, 0, n - 1)), 0.5)
    return _sum(ew.mul(d, mids), axis=axis)
