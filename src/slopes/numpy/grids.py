"""Grids: ``linspace`` and ``meshgrid`` differentiable in their traced inputs; ``arange``."""

from __future__ import annotations

import operator

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import Tracer, concrete, shape_of
from .creation import _has_tracer, _traced_cast, asarray
from .shapes import broadcast_arrays, moveaxis, ravel, reshape

__all__ = ["arange", "linspace", "meshgrid"]


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``numpy.linspace``, differentiable in ``start`` and ``stop``.

    With traced endpoints the points are ``start * (1 - t) + stop * t`` for
    ``t = k / (num - 1)`` (``k / num`` without the endpoint), which hits both ends
    exactly; so ``d/dstart = 1 - t`` and ``d/dstop = t``. Plain endpoints give
    NumPy's own result.

    Parameters
    ----------
    start, stop : array_like or traced array
        The ends (arrays broadcast; the new axis is ``axis``).
    num : int
        Number of points (>= 0).
    endpoint, retstep, dtype, axis :
        As in NumPy (``dtype`` must be a float type when an end is traced).

    Returns
    -------
    ndarray or traced array, and the step when ``retstep``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.linspace(0.0, 1.0, 3)
    array([0. , 0.5, 1. ])
    >>> float(sl.grad(lambda a: snp.sum(snp.linspace(a, 3.4, 5)))(1.2))   # sum(1 - t) = 5/2
    2.5
    """
    if not _has_tracer((start, stop)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace(): num must be >= 0, got {num}")
    start, stop = asarray(start), asarray(stop)
    ends = np.broadcast_shapes(shape_of(start), shape_of(stop))
    real = np.result_type(concrete(start), concrete(stop), float)
    div = num - 1 if endpoint else num
    t = (np.arange(num) / div if div > 0 else np.zeros(num)).astype(real)
    t = t.reshape((num,) + (1,) * len(ends))
    points = ew.add(ew.mul(start, 1.0 - t), ew.mul(stop, t))
    if axis != 0:
        points = moveaxis(points, 0, axis)
    points = _traced_cast(points, dtype, "linspace")
    if not retstep:
        return points
    step = ew.div(ew.sub(stop, start), float(div)) if div > 0 else np.nan
    return points, step


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """``numpy.meshgrid``, differentiable in its traced inputs.

    Each output repeats one (flattened) input along the other axes, so its
    derivative sums over the copies. ``indexing='xy'`` (the default) swaps the
    first two axes, as in NumPy.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> [g.shape for g in snp.meshgrid(np.zeros(2), np.zeros(3))]
    [(3, 2), (3, 2)]
    >>> sl.grad(lambda a: snp.sum(snp.meshgrid(a, np.zeros(3))[0]))(np.array([1.0, 2.0]))
    array([3., 3.])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid(): indexing must be 'xy' or 'ij', got {indexing!r}")
    if not _has_tracer(xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    nd = len(xi)
    axes = list(range(nd))
    if indexing == "xy" and nd > 1:
        axes[0], axes[1] = 1, 0
    grids = []
    for x, ax in zip(xi, axes):
        shape = [1] * nd
        shape[ax] = -1
        grids.append(reshape(ravel(asarray(x)), tuple(shape)))
    return tuple(grids if sparse else broadcast_arrays(*grids))


def arange(*args, dtype=None, **kwargs):
    """``numpy.arange``: evenly spaced values in a half-open interval (a constant).

    How many values there are depends on the values of the ends, so traced ends
    are refused with the two ways to write such a grid differentiably.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.arange(3.0)
    array([0., 1., 2.])
    """
    if _has_tracer(args) or any(isinstance(v, Tracer) for v in kwargs.values()):
        raise TypeError(
            "arange() with a traced start, stop or step: its length would depend on their "
            "values. Use snp.linspace(start, stop, num) (differentiable in both ends), or "
            "start + step * snp.arange(n) with a fixed n"
        )
    return np.arange(*args, dtype=dtype, **kwargs)
