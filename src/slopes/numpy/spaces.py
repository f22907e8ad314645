"""Grids on a logarithmic scale: ``logspace`` and ``geomspace``, differentiable in their ends.

Built on :func:`linspace`: plain ends give NumPy's own result, traced ends the
same points written with ``power``/``exp``, so the derivative flows to the ends.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import Tracer, concrete, shape_of
from .creation import asarray
from .grids import linspace
from .shapes import moveaxis

__all__ = ["logspace", "geomspace"]


def _traced(*values):
    return any(isinstance(v, Tracer) for v in values)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """Differentiable ``numpy.logspace``: ``base ** linspace(start, stop)``.

    Differentiable in ``start``, ``stop`` and ``base``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    >>> float(sl.grad(lambda b: snp.logspace(0.0, 2.0, 3, base=b)[2])(10.0))   # d b**2 / db
    20.0
    """
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype, axis=axis)
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    out = ew.power(asarray(base), exponents)
    return out if dtype is None else ew.astype(out, dtype=np.dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Differentiable ``numpy.geomspace``: a geometric progression from ``start`` to ``stop``.

    The ends are exactly ``start`` and ``stop`` (as NumPy); the points between are
    ``start * (stop / start) ** t`` (NumPy's up to rounding). Both ends must have the
    same sign and be non-zero.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.geomspace(1.0, 1000.0, 4)
    array([   1.,   10.,  100., 1000.])
    >>> float(sl.grad(lambda s: snp.geomspace(s, 1000.0, 4)[1])(1.0))   # d (s**2 * 10) ** (1/3) / ds
    6.666666666666667
    """
    if not _traced(start, stop):
        return np.geomspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)
    start, stop = asarray(start), asarray(stop)
    # checked with primitives, so that under vmap the ends of each example are compared
    if np.any(concrete(ew.logical_or(ew.equal(start, 0), ew.equal(stop, 0)))):
        raise ValueError("geomspace(): the ends must be non-zero (a geometric sequence cannot include 0)")
    if np.any(concrete(ew.not_equal(ew.sign(start), ew.sign(stop)))):
        raise ValueError("geomspace(): both ends must have the same sign")
    nd = max(len(shape_of(start)), len(shape_of(stop)))
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint).reshape((num,) + (1,) * nd)
    points = ew.mul(start, ew.power(ew.div(stop, start), t))
    # the ends exactly, as NumPy sets them
    row = np.arange(num).reshape(t.shape)
    if endpoint:
        points = ew.where(row == num - 1, stop, points)
    points = ew.where(row == 0, start, points)  # a single point is start, as in NumPy
    if axis != 0:
        points = moveaxis(points, 0, axis)
    return points if dtype is None else ew.astype(points, dtype=np.dtype(dtype))
