"""Reductions with NumPy's ``axis`` and ``keepdims``: sum, mean, max, var, logsumexp, ..."""

from __future__ import annotations

import math

from ..core.ops import elementwise as ew
from ..core.ops import logsumexp as lse
from ..core.ops import reduce as rd
from ..core.ops.shape import broadcast_to, getitem, reshape
from ..core.trace import shape_of
from ._axes import normalize_axes
from .complex_parts import squared_magnitude
from ._safe import root_or_zero
from ._wrap import asarray_args

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "var",
    "std",
    "cumsum",
    "argmax",
    "argmin",
    "logsumexp",
    "average",
    "all",
    "any",
]

_builtin_sum = sum


def _prep(x, axis):
    (x,) = asarray_args((x,))
    return x, normalize_axes(axis, len(shape_of(x)))


def _count(x, axis):
    s = shape_of(x)
    if axis is None:
        return math.prod(s)
    return math.prod([s[a] for a in axis])


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Differentiable ``numpy.sum``.

    Parameters
    ----------
    x : array_like
    axis : int or tuple of ints, optional
        Axes to sum over; all by default.
    keepdims : bool
        Keep reduced axes with length 1.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: snp.sum(x ** 2))(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    x, axis = _prep(x, axis)
    return rd.reduce_sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Differentiable ``numpy.mean``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: snp.mean(x))(np.array([1.0, 2.0]))
    array([0.5, 0.5])
    """
    x, axis = _prep(x, axis)
    n = _count(x, axis)
    return ew.div(rd.reduce_sum(x, axis=axis, keepdims=keepdims), float(n))


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Differentiable ``numpy.max``.

    Tied maxima share the derivative equally (each gets 1/k of it).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: snp.max(x))(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    x, axis = _prep(x, axis)
    return rd.reduce_max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Differentiable ``numpy.min``; tied minima share the derivative equally.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: snp.min(x))(np.array([1.0, 3.0]))
    array([1., 0.])
    """
    x, axis = _prep(x, axis)
    return rd.reduce_min(x, axis=axis, keepdims=keepdims)


amax = max
amin = min


def _centered(x, axes):
    """``x - mean(x)`` over ``axes``, computed after shifting by one sample along them.

    Any constant shift leaves the deviations, and so every derivative, unchanged; this one
    makes equal samples centre to exact zeros (not rounding noise) and keeps the digits a
    large common offset would cancel.
    """
    s = shape_of(x)
    if math.prod(s):
        first = tuple(slice(0, 1) if axes is None or i in axes else slice(None) for i in range(len(s)))
        x = ew.sub(x, ew.stop_gradient(getitem(x, index=first)))
    return ew.sub(x, mean(x, axis=axes, keepdims=True))


def var(x, axis=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.var``: mean squared deviation, divided by ``N - ddof``.

    The derivative at a constant input is exactly 0.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.var(np.array([1.0, 3.0])))
    1.0
    >>> sl.grad(snp.var)(np.array([1.0, 3.0]))
    array([-1.,  1.])
    """
    x, axis = _prep(x, axis)
    n = _count(x, axis)
    centered = _centered(x, axis)
    ss = rd.reduce_sum(squared_magnitude(centered), axis=axis, keepdims=keepdims)
    return ew.div(ss, float(n - ddof))


def std(x, axis=None, ddof=0, keepdims=False):
    """Differentiable ``numpy.std`` (the square root of :func:`var`).

    Where the samples are all equal (``std == 0``) the derivative is 0, not NaN: a valid
    subgradient, as for ``norm`` at 0, and PyTorch's and autograd's answer.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.std(np.array([1.0, 3.0])))
    1.0
    >>> sl.grad(snp.std)(np.array([2.0, 2.0]))
    array([0., 0.])
    """
    return root_or_zero(ew.sqrt, var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def cumsum(x, axis=None):
    """Differentiable ``numpy.cumsum`` (flattened when ``axis`` is None).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.grad(lambda x: snp.sum(snp.cumsum(x)))(np.array([1.0, 1.0, 1.0]))
    array([3., 2., 1.])
    """
    (x,) = asarray_args((x,))
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    (axis,) = normalize_axes(axis, len(shape_of(x)))
    return rd.cumsum(x, axis=axis)


def _arg(prim, x, axis, keepdims):
    (x,) = asarray_args((x,))
    axes = normalize_axes(axis, len(shape_of(x)))
    return prim(x, axis=None if axes is None else axes[0], keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """``numpy.argmax`` (an integer result: it carries no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.argmax(np.array([1.0, 5.0, 2.0])))
    1
    """
    return _arg(rd.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """``numpy.argmin`` (an integer result: it carries no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.argmin(np.array([1.0, 5.0, 2.0])))
    0
    """
    return _arg(rd.argmin, x, axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` computed without overflow.

    The largest entry is factored out (``m + log(sum(exp(x - m)))``). It is one
    primitive: its gradient is ``softmax(x) = exp(x - logsumexp(x))``, read from
    the output, so a staged gradient program holds a few equations instead of
    the dozen of the composed form. A row of all ``-inf`` gives ``-inf`` (with a
    NaN gradient), a ``+inf`` entry gives ``+inf`` (with a zero gradient).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> round(float(snp.logsumexp(np.array([1000.0, 1000.0]))) - 1000.0, 6)
    0.693147
    >>> sl.grad(snp.logsumexp)(np.array([0.0, 0.0]))
    array([0.5, 0.5])
    """
    x, axes = _prep(x, axis)
    return lse.logsumexp(x, axis=axes, keepdims=bool(keepdims))


def average(x, axis=None, weights=None, keepdims=False):
    """Differentiable ``numpy.average``: the weighted mean (weights may be traced).

    ``weights`` must broadcast against ``x``, or, as in NumPy, be 1-D with
    the length of the one averaged ``axis``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.average(np.array([1.0, 3.0]), weights=np.array([3.0, 1.0])))
    1.5
    """
    if weights is None:
        return mean(x, axis=axis, keepdims=keepdims)
    x, w = asarray_args((x, weights))
    xs, ws = shape_of(x), shape_of(w)
    if ws != xs and len(ws) == 1 and axis is not None and len(xs) > 1:
        # NumPy: 1-D weights run along the (single) averaged axis
        axes = normalize_axes(axis, len(xs))
        if len(axes) != 1 or xs[axes[0]] != ws[0]:
            raise ValueError(
                f"average(): 1-D weights of length {ws[0]} do not match axis {axis!r} of an "
                f"array of shape {xs}"
            )
        w = reshape(w, tuple(ws[0] if i == axes[0] else 1 for i in range(len(xs))))
    w = broadcast_to(w, xs)
    return ew.div(sum(ew.mul(x, w), axis=axis, keepdims=keepdims), sum(w, axis=axis, keepdims=keepdims))


def all(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """``numpy.all`` on the values (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> bool(snp.all(np.array([1.0, 2.0]) > 0))
    True
    """
    x, axis = _prep(x, axis)
    return rd.reduce_all(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """``numpy.any`` on the values (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> bool(snp.any(np.array([1.0, -2.0]) < 0))
    True
    """
    x, axis = _prep(x, axis)
    return rd.reduce_any(x, axis=axis, keepdims=keepdims)
