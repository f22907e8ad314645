"""Reductions: sum, max/min (ties share the derivative equally), prod, cumsum.

``axis`` is always a tuple of non-negative axes here (``None`` for all); the
NumPy-facing layer normalises what users pass.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, bind, shape_of
from .blas_sum import add_reduce
from .elementwise import div, equal, where
from .rules import deflinear, make_nondiff
from .shape import broadcast_to, getitem, reshape

__all__ = ["reduce_sum", "reduce_max", "reduce_min", "reduce_all", "reduce_any", "argmax", "argmin", "cumsum", "keepdims_shape",
           "squares_any_order"]


def keepdims_shape(shape, axis):
    """The shape of a reduction over ``axis`` with ``keepdims=True``."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _expand(g, x, axis, keepdims):
    """Cotangent of a reduction, reshaped to broadcast against ``x``."""
    if keepdims or axis is None:  # a full reduction's scalar broadcasts as it is
        return g
    return reshape(g, keepdims_shape(shape_of(x), axis))


def _shift(axis, nd):
    """Per-example axes to batched axes (the batch axis is 0)."""
    return tuple(range(1, nd + 1)) if axis is None else tuple(a + 1 for a in axis)


def _reduce_batch(prim):
    """Batch rule of a primitive over ``axis`` of its one argument: the axes shifted past the batch axis."""

    def rule(vals, batched, axis, **params):
        v = vals[0]
        return bind(prim, [v], {"axis": _shift(axis, len(v.shape) - 1), **params})

    return rule


def _sum_impl(x, axis, keepdims):
    if type(x) is np.ndarray and x.dtype.kind == "f":  # np.add.reduce or BLAS; skips np.sum's Python wrapper
        return add_reduce(x, axis, keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)  # also counts booleans


reduce_sum = Primitive("sum", _sum_impl)
deflinear(reduce_sum)
reduce_sum.vjps = (
    lambda g, ans, x, axis, keepdims: broadcast_to(_expand(g, x, axis, keepdims), shape_of(x)),
)
reduce_sum.batch = _reduce_batch(reduce_sum)
reduce_sum.keeps = ()


def _extremum(name, impl):
    p = Primitive(name, impl)

    def winners(x, ans, axis, keepdims):
        hit = equal(x, _expand(ans, x, axis, keepdims))
        count = reduce_sum(hit, axis=axis, keepdims=True)
        return hit, count

    def jvp(primals, tangents, params):
        (x,), (t,) = primals, tangents
        ans = bind(p, primals, params)
        if t is None:
            return ans, None
        hit, count = winners(x, ans, **params)
        share = div(reduce_sum(where(hit, t, 0.0), axis=params["axis"], keepdims=True), count)
        if not params["keepdims"]:
            share = reshape(share, shape_of(ans))
        return ans, share

    def vjp(g, ans, x, axis, keepdims):
        hit, count = winners(x, ans, axis, keepdims)
        return where(hit, div(_expand(g, x, axis, keepdims), count), 0.0)

    p.jvp = jvp
    p.vjps = (vjp,)
    p.batch = _reduce_batch(p)
    p.keeps = (0, "ans")
    return p


reduce_max = _extremum("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
reduce_min = _extremum("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))


def _arg_batch(prim):
    def rule(vals, batched, axis, keepdims):
        v = vals[0]
        if axis is None:  # flat index of each example
            flat = reshape(v, (v.shape[0], -1))
            out = bind(prim, [flat], {"axis": 1, "keepdims": keepdims})
            # keepdims keeps every per-example axis, as NumPy does for axis=None
            return reshape(out, (v.shape[0],) + (1,) * (len(v.shape) - 1)) if keepdims else out
        return bind(prim, [v], {"axis": axis + 1, "keepdims": keepdims})

    return rule


reduce_all = make_nondiff("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims), batch=False)
reduce_any = make_nondiff("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims), batch=False)
reduce_all.batch = _reduce_batch(reduce_all)
reduce_any.batch = _reduce_batch(reduce_any)

argmax = make_nondiff("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims), batch=False)
argmin = make_nondiff("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims), batch=False)
argmax.batch = _arg_batch(argmax)
argmin.batch = _arg_batch(argmin)


def _flip(x, axis):
    return getitem(x, index=(slice(None),) * axis + (slice(None, None, -1),))


cumsum = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis))
deflinear(cumsum)
cumsum.vjps = (lambda g, ans, x, axis: _flip(cumsum(_flip(g, axis), axis=axis), axis),)
cumsum.keeps = ()
cumsum.batch = lambda vals, batched, axis: cumsum(vals[0], axis=axis + 1)


def _squares(*xs):
    """The sum of the squares of every entry of ``xs``, in float64, array by array in order."""
    total = np.float64(0.0)  # of no arrays; else from the first term (a sum of squares is never -0.0)
    for k, x in enumerate(xs):
        x = np.asarray(x).astype(np.float64, copy=False).ravel()
        total = x @ x if k == 0 else total + x @ x
    return total


#: ``squares_any_order(*arrays)``: the sum of the squares of every entry of the arrays, in
#: float64, in no promised order. Eagerly it is summed array by array: the bits of
#: :func:`slopes.optim.base.sum_of_squares` (``global_norm`` before its root). A replay gives
#: those bits too but for a strided 1-D array, which it sums with its stride (the last bits may
#: differ), and where the arrays are,
#: in order, all the parts of one flat buffer of :func:`slopes.core.horizontal.fuse_leaves`,
#: that pass makes it one dot product over the buffer: ``sl.ml.fit``'s norms of the gradient
#: and of the new parameters, one call each instead of a dot product a leaf and the additions.
squares_any_order = Primitive("squares_any_order", _squares, differentiable=False)
