"""Reordering primitives: cumulative product, argsort, and gather/scatter along an axis.

``gather(x, idx, axis=k)`` is ``numpy.take_along_axis``: it picks entries of
``x`` along axis ``k`` at the integer positions ``idx`` (an array with the
same number of axes, broadcasting against ``x`` on the others). The indices
are an *argument*, not a parameter, so they may be batched under ``vmap``
(indices computed per example, as ``argsort`` does); they carry no
derivative. ``scatter(g, idx, axis=k, shape=s)`` is its adjoint: it adds the
entries of ``g`` into zeros of shape ``s`` at those positions.

``cumprod`` has an exact derivative also where entries are zero: the
derivative of a partial product with respect to one factor is the product
of the other factors, computed without dividing by the factor.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, concrete, shape_of
from .elementwise import add, div, equal, logical_and, mul, where
from .reduce import cumsum
from .rules import defjvp, make_nondiff
from .shape import broadcast_to, getitem, reshape

__all__ = ["gather", "scatter", "argsort", "cumprod", "along_axis_index"]


# -- gather / scatter along an axis ------------------------------------------------------
def along_axis_index(shape, idx, axis):
    """The advanced index that ``take_along_axis`` applies to an array of ``shape``.

    Examples
    --------
    >>> x = np.array([[10, 20], [30, 40]])
    >>> x[along_axis_index(x.shape, np.array([[1], [0]]), 1)]
    array([[20],
           [30]])
    """
    nd = len(shape)
    return tuple(
        idx if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
        for d, n in enumerate(shape)
    )


def _gather_impl(x, idx, axis):
    return x[along_axis_index(np.shape(x), idx, axis)]


def _scatter_impl(g, idx, axis, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, along_axis_index(shape, idx, axis), g)
    return out


gather = Primitive("gather", _gather_impl)
scatter = Primitive("scatter", _scatter_impl)
defjvp(gather, lambda t, ans, x, idx, axis: gather(t, idx, axis=axis), None)
defjvp(scatter, lambda t, ans, g, idx, axis, shape: scatter(t, idx, axis=axis, shape=shape), None)
gather.vjps = (lambda g, ans, x, idx, axis: scatter(g, idx, axis=axis, shape=shape_of(x)), None)
scatter.vjps = (lambda ct, ans, g, idx, axis, shape: gather(ct, idx, axis=axis), None)


def _lead_one(v):
    """An unbatched operand with a length-1 batch axis, broadcasting against the batch."""
    return reshape(v, (1,) + tuple(shape_of(v)))


def _gather_batch(vals, batched, axis):
    x, idx = (v if b else _lead_one(v) for v, b in zip(vals, batched))
    return gather(x, idx, axis=axis + 1)


def _scatter_batch(vals, batched, axis, shape):
    g, idx = vals
    if not batched[1]:
        idx = _lead_one(idx)
    size = (g if batched[0] else idx).shape[0]
    if not batched[0]:  # the values must fill the whole index (see scatter's adjoint)
        g = broadcast_to(g, (size,) + tuple(shape_of(g)))
    return scatter(g, idx, axis=axis + 1, shape=(size,) + tuple(shape))


gather.batch = _gather_batch
scatter.batch = _scatter_batch


# -- argsort (no derivative) -----------------------------------------------------------------
argsort = make_nondiff(
    "argsort", lambda x, axis, kind: np.argsort(x, axis=axis, kind=kind), batch=False
)
argsort.batch = lambda vals, batched, axis, kind: argsort(vals[0], axis=axis + 1, kind=kind)


# -- cumulative product ----------------------------------------------------------------------
def _reverse_cumsum(x, axis):
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return getitem(cumsum(getitem(x, index=flip), axis=axis), index=flip)


def _zero_split(x, ans, axis):
    """What the derivative of ``cumprod`` needs, safe where entries of ``x`` are zero.

    Returns ``(y, before, first, safe)``: ``y`` is the cumulative product with
    the first zero along the axis replaced by 1, ``before`` marks positions
    before that zero, ``first`` marks the zero itself, and ``safe`` is ``x``
    with every zero replaced by 1 (a divisor). Without zeros the masks are ``None``.
    Then d y_i / d x_k is ``y_i / x_k`` for ``k <= i`` before the first zero,
    ``y_i`` for the first zero ``k <= i``, and 0 otherwise: a product of the
    other factors either way, and never a division by zero.
    """
    zero = equal(x, 0)
    if not np.any(concrete(zero)):
        return ans, None, None, x
    count = cumsum(zero, axis=axis)
    first = logical_and(zero, equal(count, 1))
    y = cumprod(where(first, 1.0, x), axis=axis)
    return y, equal(count, 0), first, where(zero, 1.0, x)


def _cumprod_jvp(t, ans, x, axis):
    y, before, first, safe = _zero_split(x, ans, axis)
    ratio = cumsum(div(t, safe), axis=axis)
    if before is None:
        return mul(y, ratio)
    return mul(y, add(where(before, ratio, 0.0), cumsum(where(first, t, 0.0), axis=axis)))


def _cumprod_vjp(g, ans, x, axis):
    y, before, first, safe = _zero_split(x, ans, axis)
    h = mul(g, y)
    if before is None:
        return div(_reverse_cumsum(h, axis), safe)
    part = div(_reverse_cumsum(where(before, h, 0.0), axis), safe)
    return add(part, where(first, _reverse_cumsum(h, axis), 0.0))


cumprod = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis))
defjvp(cumprod, _cumprod_jvp)
cumprod.vjps = (_cumprod_vjp,)
cumprod.batch = lambda vals, batched, axis: cumprod(vals[0], axis=axis + 1)
