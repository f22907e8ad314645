"""Functions of sequences of samples: ``interp``, ``polyval``, ``correlate``, ``unwrap`` (``convolve`` is in convolution).

Written with gathers, products and sums, so they are differentiable in every
floating argument (the sample points, the values, the coefficients, both signals).
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops import queries as q
from ..core.trace import shape_of
from .convolution import convolve
from .creation import asarray
from .manipulation import flip, take

__all__ = ["interp", "polyval", "correlate", "unwrap"]


def interp(x, xp, fp, left=None, right=None, period=None):
    """Differentiable ``numpy.interp``: piecewise-linear interpolation of ``(xp, fp)`` at ``x``.

    Differentiable in ``x``, ``xp`` and ``fp``. At a knot ``x == xp[k]`` the
    derivative in ``x`` is the slope of the segment to its right (the left one
    at the last knot), as JAX; outside ``[xp[0], xp[-1]]`` the value is
    ``left``/``right`` (``fp[0]``/``fp[-1]`` by default) with derivative 0 in ``x``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    >>> snp.interp(np.array([0.5, 2.0, 5.0]), xp, fp)
    array([1. , 2.5, 3. ])
    >>> float(sl.grad(lambda x: snp.interp(x, xp, fp))(2.0))
    0.5
    """
    if period is not None:
        raise NotImplementedError("interp(): period= is not supported; reduce x modulo the period first")
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    n = shape_of(xp)[-1] if len(shape_of(xp)) == 1 else -1
    if n < 1 or shape_of(fp) != shape_of(xp):
        raise ValueError(
            f"interp(): xp and fp must be 1-d of the same length, got shapes {shape_of(xp)} and {shape_of(fp)}"
        )
    if n == 1:
        out = ew.add(ew.mul(x, 0.0), fp[0])
    else:
        # the segment [xp[i], xp[i+1]] holding x (the one on the right at a knot)
        i = ew.clip(ew.sub(q.searchsorted(xp, x, side="right"), 1), 0, n - 2)
        x0, x1, f0, f1 = take(xp, i), take(xp, ew.add(i, 1)), take(fp, i), take(fp, ew.add(i, 1))
        t = ew.div(ew.sub(x, x0), ew.sub(x1, x0))
        out = ew.add(f0, ew.mul(t, ew.sub(f1, f0)))
    out = ew.where(ew.less(x, xp[0]), fp[0] if left is None else left, out)
    return ew.where(ew.greater(x, xp[n - 1]), fp[n - 1] if right is None else right, out)


def polyval(p, x):
    """Differentiable ``numpy.polyval``: the polynomial with coefficients ``p`` (highest power first) at ``x``.

    Evaluated by Horner's scheme; differentiable in the coefficients and in ``x``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.polyval([1.0, 0.0, -2.0], 3.0))
    7.0
    >>> float(sl.grad(lambda x: snp.polyval([1.0, 0.0, -2.0], x))(3.0))
    6.0
    """
    p, x = asarray(p), asarray(x)
    if len(shape_of(p)) != 1:
        raise ValueError(f"polyval(): the coefficients must be a 1-d array, got shape {shape_of(p)}")
    out = ew.mul(x, 0.0)
    for k in range(shape_of(p)[0]):
        out = ew.add(ew.mul(out, x), p[k])
    return out


def correlate(a, v, mode="valid"):
    """Differentiable ``numpy.correlate``: the cross-correlation of two real 1-d signals.

    ``c[k] = sum_n a[n + k] v[n]``, with NumPy's modes and its order of lags.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), "full")
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    a, v = asarray(a), asarray(v)
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"correlate(): a and v must be 1-D; got shapes {shape_of(a)} and {shape_of(v)}")
    if shape_of(v)[0] > shape_of(a)[0]:  # NumPy swaps the signals and reverses the result
        return flip(correlate(v, a, mode))
    return convolve(a, flip(v), mode)  # correlation is convolution with the reversed kernel


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """Differentiable ``numpy.unwrap``: jumps larger than ``discont`` undone by multiples of ``period``.

    The added multiples are constant between jumps, so the derivative is 1 for
    every entry (as JAX's).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.unwrap(np.array([0.0, 3.0, -3.0])).round(4)
    array([0.    , 3.    , 3.2832])
    >>> sl.grad(lambda p: snp.unwrap(p).sum())(np.array([0.0, 3.0, -3.0]))
    array([1., 1., 1.])
    """
    p = asarray(p)
    return ew.add(p, q.unwrap_correction(p, discont=discont, axis=axis, period=period))
