"""Statistics: NaN-ignoring reductions, ``quantile``/``percentile``/``median``, ``ptp``, ``cov``, ``corrcoef``.

The ``nan*`` reductions replace NaN entries with the operation's neutral value
through ``where``, so a NaN entry has derivative 0 and never leaks NaN into the
others' derivatives (as in JAX). Quantiles interpolate between sorted entries:
the derivative goes to the one or two entries the quantile is read from, and to
a traced ``q`` through the interpolation weight.
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.trace import concrete, shape_of
from ._axes import normalize_axes
from ._safe import root_or_zero
from .creation import asarray
from .manipulation import cumprod, prod, sort, take_along_axis
from .reductions import argmax, argmin, cumsum, max, mean, min, sum
from .shapes import atleast_2d, broadcast_to, concatenate, moveaxis, reshape, squeeze, transpose

__all__ = [
    "nansum",
    "nanmean",
    "nanmax",
    "nanmin",
    "nanprod",
    "nanvar",
    "nanstd",
    "nanargmax",
    "nanargmin",
    "nancumsum",
    "nancumprod",
    "quantile",
    "percentile",
    "median",
    "nanquantile",
    "nanpercentile",
    "nanmedian",
    "ptp",
    "cov",
    "corrcoef",
]


def _without_nan(x, neutral):
    x = asarray(x)
    return x, ew.isnan(x), ew.where(ew.isnan(x), neutral, x)


def nansum(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nansum``: the sum with NaN entries counted as 0 (derivative 0 there).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.nansum(np.array([1.0, np.nan, 2.0])))
    3.0
    >>> sl.grad(snp.nansum)(np.array([1.0, np.nan]))
    array([1., 0.])
    """
    return sum(_without_nan(a, 0.0)[2], axis=axis, keepdims=keepdims)


def nanmean(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nanmean``: the mean of the entries that are not NaN.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanmean(np.array([1.0, np.nan, 2.0])))
    1.5
    """
    x, nan, clean = _without_nan(a, 0.0)
    count = sum(ew.logical_not(nan).astype(np.float64), axis=axis, keepdims=keepdims)
    return ew.div(sum(clean, axis=axis, keepdims=keepdims), count)


def _nan_extreme(reduce, fill, a, axis, keepdims):
    x, nan, clean = _without_nan(a, fill)
    out = reduce(clean, axis=axis, keepdims=keepdims)
    all_nan = min(nan, axis=axis, keepdims=keepdims)  # NumPy gives NaN for an all-NaN slice
    return ew.where(all_nan, np.nan, out)


def nanmax(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nanmax``: the maximum ignoring NaN (NaN for an all-NaN slice).

    Tied maxima share the derivative equally, as in :func:`max`.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanmax(np.array([1.0, np.nan, 2.0])))
    2.0
    """
    return _nan_extreme(max, -np.inf, a, axis, keepdims)


def nanmin(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nanmin``: the minimum ignoring NaN (NaN for an all-NaN slice).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanmin(np.array([1.0, np.nan, 2.0])))
    1.0
    """
    return _nan_extreme(min, np.inf, a, axis, keepdims)


def nanprod(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nanprod``: the product with NaN entries counted as 1.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanprod(np.array([3.0, np.nan, 2.0])))
    6.0
    """
    return prod(_without_nan(a, 1.0)[2], axis=axis, keepdims=keepdims)


def nanvar(a, axis=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.nanvar``: the variance of the entries that are not NaN.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanvar(np.array([1.0, np.nan, 3.0])))
    1.0
    """
    x, nan, clean = _without_nan(a, 0.0)
    centered = ew.where(nan, 0.0, ew.sub(clean, nanmean(x, axis=axis, keepdims=True)))
    count = sum(ew.logical_not(nan).astype(np.float64), axis=axis, keepdims=keepdims)
    return ew.div(sum(ew.mul(centered, centered), axis=axis, keepdims=keepdims), ew.sub(count, float(ddof)))


def nanstd(a, axis=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.nanstd``: the square root of :func:`nanvar` (derivative 0 where it is 0).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanstd(np.array([1.0, np.nan, 3.0])))
    1.0
    """
    return root_or_zero(ew.sqrt, nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims))


def nanargmax(a, axis=None, keepdims=False):
    """``numpy.nanargmax``: the index of the maximum ignoring NaN (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.nanargmax(np.array([1.0, np.nan, 2.0])))
    2
    """
    x, nan, clean = _without_nan(a, -np.inf)
    if np.any(concrete(min(nan, axis=axis))):  # a primitive: under vmap, per example
        raise ValueError("nanargmax(): an all-NaN slice has no maximum")
    return argmax(clean, axis=axis, keepdims=keepdims)


def nanargmin(a, axis=None, keepdims=False):
    """``numpy.nanargmin``: the index of the minimum ignoring NaN (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.nanargmin(np.array([1.0, np.nan, 0.5])))
    2
    """
    x, nan, clean = _without_nan(a, np.inf)
    if np.any(concrete(min(nan, axis=axis))):  # a primitive: under vmap, per example
        raise ValueError("nanargmin(): an all-NaN slice has no minimum")
    return argmin(clean, axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None):
    """Differentiable ``numpy.nancumsum``: the running sum with NaN counted as 0.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.nancumsum(np.array([1.0, np.nan, 2.0]))
    array([1., 1., 3.])
    """
    return cumsum(_without_nan(a, 0.0)[2], axis=axis)


def nancumprod(a, axis=None):
    """Differentiable ``numpy.nancumprod``: the running product with NaN counted as 1.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.nancumprod(np.array([2.0, np.nan, 3.0]))
    array([2., 2., 6.])
    """
    return cumprod(_without_nan(a, 1.0)[2], axis=axis)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(a, q, axis=None, method="linear", keepdims=False):
    """Differentiable ``numpy.quantile``: the ``q``-th quantile(s) of the entries along ``axis``.

    With ``method="linear"`` (NumPy's default) the quantile interpolates between
    the two sorted entries around position ``q * (n - 1)``: the derivative goes
    to those two, weighted by their interpolation weights, and to a traced ``q``
    as their difference times ``n - 1``. Also ``"lower"``, ``"higher"``,
    ``"midpoint"`` and ``"nearest"``.

    Parameters
    ----------
    a : array_like
    q : float or array_like of floats in [0, 1]
        Its axes come first in the result, as in NumPy.
    axis : int or tuple of ints, optional
        All axes by default.
    method : str
    keepdims : bool

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.quantile(np.array([1.0, 2.0, 4.0, 8.0]), 0.5))
    3.0
    >>> sl.grad(lambda x: snp.quantile(x, 0.5))(np.array([8.0, 1.0, 4.0, 2.0]))
    array([0. , 0. , 0.5, 0.5])
    """
    return _quantile(a, q, axis, method, keepdims, "quantile", skip_nan=False)


def _quantile(a, q, axis, method, keepdims, fn, skip_nan):
    if method not in _METHODS:
        raise ValueError(f"{fn}(): method must be one of {_METHODS}, got {method!r}")
    x = asarray(a)
    nd = len(shape_of(x))
    axes = normalize_axes(axis, nd)
    axes = tuple(range(nd)) if axes is None else axes
    rest = [i for i in range(nd) if i not in axes]
    rest_shape = tuple(shape_of(x)[i] for i in rest)
    # the reduced axes moved last and merged into one
    merged = reshape(transpose(x, tuple(rest) + axes), rest_shape + (-1,))
    n = shape_of(merged)[-1]
    if n == 0:
        raise ValueError(f"{fn}(): there are no entries to take a quantile of")
    q = asarray(q)
    qv = concrete(q)
    if np.any((qv < 0) | (qv > 1)):
        raise ValueError(f"{fn}(): q must lie in [0, 1] (percentiles take 0 to 100)")
    qshape = tuple(shape_of(q))
    ordered = sort(merged, axis=-1)  # NaN sorts last
    # positions, one per slice and q: shape rest_shape + qshape
    q_b = reshape(q, (1,) * len(rest) + qshape)
    if skip_nan:
        count = sum(ew.logical_not(ew.isnan(merged)), axis=-1)
        last = reshape(ew.sub(count, 1), rest_shape + (1,) * len(qshape))
    else:
        last = float(n - 1)
    pos = ew.mul(q_b, ew.maximum(last, 0))
    # integer positions carry no derivative; computed with primitives so they follow a batched q
    lo_f = ew.floor(pos)

    def pick(f):
        index = ew.astype(ew.minimum(f, ew.maximum(last, 0)), dtype=np.dtype(np.intp))
        flat = reshape(broadcast_to(index, rest_shape + qshape), rest_shape + (-1,))
        return reshape(take_along_axis(ordered, flat, axis=-1), rest_shape + qshape)

    if method == "higher":
        out = pick(ew.ceil(pos))
    elif method == "nearest":  # NumPy rounds half to even, as rint
        out = pick(ew.rint(pos))
    else:
        below = pick(lo_f)
        if method == "lower":
            out = below
        else:
            above = pick(ew.add(lo_f, 1.0))
            if method == "midpoint":
                out = ew.where(ew.equal(lo_f, pos), below, ew.mul(0.5, ew.add(below, above)))
            else:
                frac = ew.sub(pos, lo_f)  # a traced q's derivative flows through here
                out = ew.add(below, ew.mul(frac, ew.sub(above, below)))
    if skip_nan:  # an all-NaN slice has no quantile: NaN, as NumPy
        out = ew.where(ew.less(last, 0), np.nan, out)
    out = moveaxis(out, tuple(range(len(rest), len(rest) + len(qshape))), tuple(range(len(qshape))))
    if keepdims:
        shape = tuple(1 if i in axes else s for i, s in enumerate(shape_of(x)))
        out = reshape(out, qshape + shape)
    return out


def nanquantile(a, q, axis=None, method="linear", keepdims=False):
    """Differentiable ``numpy.nanquantile``: :func:`quantile` of the entries that are not NaN.

    NaN entries get derivative 0; an all-NaN slice gives NaN, as in NumPy.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.nanquantile(np.array([1.0, np.nan, 3.0]), 0.5))
    2.0
    >>> sl.grad(lambda x: snp.nanquantile(x, 0.5))(np.array([1.0, np.nan, 3.0]))
    array([0.5, 0. , 0.5])
    """
    return _quantile(a, q, axis, method, keepdims, "nanquantile", skip_nan=True)


def nanpercentile(a, q, axis=None, method="linear", keepdims=False):
    """Differentiable ``numpy.nanpercentile``: :func:`nanquantile` with ``q`` in percent.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanpercentile(np.array([1.0, np.nan, 3.0]), 50))
    2.0
    """
    return nanquantile(a, ew.div(asarray(q), 100.0), axis=axis, method=method, keepdims=keepdims)


def nanmedian(a, axis=None, keepdims=False):
    """Differentiable ``numpy.nanmedian``: the median of the entries that are not NaN.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.nanmedian(np.array([4.0, np.nan, 1.0, 2.0])))
    2.0
    """
    return nanquantile(a, 0.5, axis=axis, keepdims=keepdims)


def percentile(a, q, axis=None, method="linear", keepdims=False):
    """Differentiable ``numpy.percentile``: :func:`quantile` with ``q`` in percent.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.percentile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 25))
    2.0
    """
    return quantile(a, ew.div(asarray(q), 100.0), axis=axis, method=method, keepdims=keepdims)


def median(a, axis=None, keepdims=False):
    """Differentiable ``numpy.median``: the middle entry, or the mean of the two middle ones.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.median(np.array([3.0, 1.0, 2.0, 10.0])))
    2.5
    >>> sl.grad(snp.median)(np.array([3.0, 1.0, 2.0]))
    array([0., 0., 1.])
    """
    return quantile(a, 0.5, axis=axis, keepdims=keepdims)


def ptp(a, axis=None, keepdims=False):
    """Differentiable ``numpy.ptp``: the range, maximum minus minimum.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.ptp(np.array([3.0, -1.0, 2.0])))
    4.0
    """
    a = asarray(a)
    return ew.sub(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    """Differentiable ``numpy.cov``: the covariance matrix of variables observed together.

    Each row of ``m`` is a variable and each column an observation (``rowvar=False``:
    the other way round). Normalized by ``N - 1``, or ``N`` with ``bias=True``, or
    ``N - ddof``. Frequency and analytic weights are not supported.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    x = atleast_2d(asarray(m))
    if not rowvar and shape_of(x)[0] != 1:
        x = transpose(x)
    if y is not None:
        yy = atleast_2d(asarray(y))
        if not rowvar and shape_of(yy)[0] != 1:
            yy = transpose(yy)
        x = concatenate([x, yy], axis=0)
    n = shape_of(x)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    if n - ddof <= 0:
        raise ValueError(f"cov(): {n} observation(s) with ddof={ddof} leave no degrees of freedom")
    centered = ew.sub(x, mean(x, axis=1, keepdims=True))
    c = ew.div(centered @ transpose(centered), float(n - ddof))
    return squeeze(c)


def corrcoef(x, y=None, rowvar=True):
    """Differentiable ``numpy.corrcoef``: Pearson correlation coefficients, clipped to [-1, 1] as NumPy.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.corrcoef(np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.5]])).round(4)
    array([[1.    , 0.9979],
           [0.9979, 1.    ]])
    """
    c = cov(x, y, rowvar=rowvar)
    if len(shape_of(c)) == 0:
        return ew.div(c, c)
    d = ew.sqrt(c[np.arange(shape_of(c)[0]), np.arange(shape_of(c)[0])])
    r = ew.div(ew.div(c, reshape(d, (-1, 1))), reshape(d, (1, -1)))
    return ew.clip(r, -1.0, 1.0)
