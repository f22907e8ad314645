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
of the other factors, computed without dividing by the factor. Its rules
use ``linrec``, the first-order linear recurrence ``s_i = a_i s_{i-1} + b_i``
(the tangent of a running product obeys one), whose own rules are again
recurrences, so derivatives of every order stay exact and free of division.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, shape_of
from .elementwise import mul
from .rules import defjvp, make_nondiff
from .shape import broadcast_to, concatenate, getitem, reshape

__all__ = ["gather", "scatter", "argsort", "cumprod", "linrec", "neighbor", "along_axis_index"]


def _along(axis, item):
    return (slice(None),) * axis + (item,)


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


# -- cumulative product, through a first-order linear recurrence -------------------------------
def _linrec_impl(a, b, axis, reverse):
    """``s_i = a_i s_{i-1} + b_i`` along ``axis`` (``s_{i+1}`` if ``reverse``), from 0.

    ``a`` and ``b`` have one shape. A doubling scan: log2(n) vectorised passes, each composing the affine maps
    of neighbouring windows. Only products and sums: no division anywhere.
    """
    a = np.moveaxis(np.asarray(a), axis, -1)
    s = np.moveaxis(np.asarray(b, dtype=np.result_type(a, b)), axis, -1)
    if reverse:
        a, s = a[..., ::-1], s[..., ::-1]
    n, d = s.shape[-1], 1
    if n > 1 and not s[..., 1:].any():
        # only a start value (prod's cotangent, one-hot at the end): a running product, one C pass
        run = s[..., :1] * np.cumprod(a[..., 1:], axis=-1)
        s = np.concatenate([s[..., :1], run.astype(s.dtype, copy=False)], axis=-1)
    else:
        s = s.copy()
        while d < n:
            s[..., d:] += a[..., d:] * s[..., :-d]
            a = np.concatenate([a[..., :d], a[..., d:] * a[..., :-d]], axis=-1)
            d *= 2
    return np.moveaxis(s[..., ::-1] if reverse else s, -1, axis)


linrec = Primitive("linrec", _linrec_impl)


def neighbor(s, axis, reverse, fill=0.0):
    """The entry before each one in the order of the recurrence, ``fill`` at the start.

    Examples
    --------
    >>> neighbor(np.array([1.0, 2.0, 3.0]), 0, reverse=False)
    array([0., 1., 2.])
    >>> neighbor(np.array([1.0, 2.0, 3.0]), 0, reverse=True, fill=9.0)
    array([2., 3., 9.])
    """
    shape = shape_of(s)
    n = shape[axis]
    if n == 0:
        return s
    edge = np.full(shape[:axis] + (1,) + shape[axis + 1 :], fill, dtype=s.dtype)
    if reverse:
        return concatenate(getitem(s, index=_along(axis, slice(1, None))), edge, axis=axis)
    return concatenate(edge, getitem(s, index=_along(axis, slice(None, n - 1))), axis=axis)


def _linrec_transpose(a, g, axis, reverse):
    """The adjoint of ``b -> linrec(a, b)``: the recurrence run the other way."""
    return linrec(neighbor(a, axis, not reverse), g, axis=axis, reverse=not reverse)


# d s_i = a_i d s_{i-1} + (d a_i s_{i-1} + d b_i): again the recurrence, with a new b.
def _linrec_jvp_a(t, ans, a, b, axis, reverse):
    return linrec(a, mul(t, neighbor(ans, axis, reverse)), axis=axis, reverse=reverse)


def _linrec_vjp_a(g, ans, a, b, axis, reverse):
    return mul(_linrec_transpose(a, g, axis, reverse), neighbor(ans, axis, reverse))


defjvp(linrec, _linrec_jvp_a, lambda t, ans, a, b, axis, reverse: linrec(a, t, axis=axis, reverse=reverse))
linrec.vjps = (_linrec_vjp_a, lambda g, ans, a, b, axis, reverse: _linrec_transpose(a, g, axis, reverse))


def _linrec_batch(vals, batched, axis, reverse):
    size = next(v.shape[0] for v, b in zip(vals, batched) if b)
    a, b = (v if b else broadcast_to(v, (size,) + tuple(shape_of(v))) for v, b in zip(vals, batched))
    return linrec(a, b, axis=axis + 1, reverse=reverse)


linrec.batch = _linrec_batch


# d y_i = sum_{k <= i} t_k prod_{j <= i, j != k} x_j solves d y_i = x_i d y_{i-1} + y_{i-1} t_i.
def _exclusive(ans, axis):
    """The products of the entries before each one (1 for the first)."""
    return neighbor(ans, axis, False, fill=1.0)


cumprod = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis))
defjvp(cumprod, lambda t, ans, x, axis: linrec(x, mul(t, _exclusive(ans, axis)), axis=axis, reverse=False))
cumprod.vjps = (lambda g, ans, x, axis: mul(_linrec_transpose(x, g, axis, False), _exclusive(ans, axis)),)
cumprod.batch = lambda vals, batched, axis: cumprod(vals[0], axis=axis + 1)
