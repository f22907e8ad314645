"""Shape primitives: reshape, transpose, broadcasting, stacking, indexing.

All are linear, so their forward rule applies the same operation to the
tangent and their reverse rule is the adjoint operation (reshape back,
transpose back, sum out broadcast axes, slice back, scatter back).
"""

from __future__ import annotations

import math

import numpy as np

from ..trace import Primitive, Tracer, bind, shape_of
from .blas_sum import add_reduce
from .rules import PerArg, deflinear

__all__ = [
    "reshape",
    "transpose",
    "broadcast_to",
    "sum_to",
    "stack",
    "concatenate",
    "getitem",
    "scatter_add",
    "index_update",
    "zeros_like_value",
    "align",
]


def zeros_like_value(x):
    """A constant zero array with the (per-example) shape and dtype of ``x``."""
    return np.zeros(shape_of(x), dtype=getattr(x, "dtype", np.float64))


def _linear(name, impl, params=()):
    p = Primitive(name, impl, params=params)
    deflinear(p)
    p.keeps = ()  # linear: the reverse rule needs only shapes
    return p


# -- reshape and transpose ----------------------------------------------------------
reshape = _linear("reshape", lambda x, shape: np.reshape(x, shape), ("shape",))
reshape.vjps = (lambda g, ans, x, shape: reshape(g, shape_of(x)),)
reshape.batch = lambda vals, batched, shape: reshape(vals[0], (vals[0].shape[0],) + tuple(shape))

transpose = _linear("transpose", lambda x, axes: np.transpose(x, axes), ("axes",))
transpose.vjps = (lambda g, ans, x, axes: transpose(g, tuple(np.argsort(axes))),)
transpose.batch = lambda vals, batched, axes: transpose(vals[0], (0,) + tuple(a + 1 for a in axes))


def align(vals, batched, ndim):
    """Reshape batched values (B, *s) to (B, 1, ..., *s) with ``ndim`` example axes.

    After this, NumPy broadcasting lines unbatched operands up against the
    per-example axes, as elementwise operations need.
    """
    out = []
    for v, b in zip(vals, batched):
        if b:
            s = v.shape
            pad = ndim - (len(s) - 1)
            if pad > 0:
                v = reshape(v, (s[0],) + (1,) * pad + tuple(s[1:]))
        out.append(v)
    return out


# -- broadcasting and its adjoint ------------------------------------------------------
def sum_to_axes(xs, shape):
    """The axes summing an array of shape ``xs`` down to ``shape`` (which it broadcasts to):
    the leading axes ``shape`` lacks, then those where ``shape`` has 1 and ``xs`` more.

    >>> sum_to_axes((64, 3, 5), (3, 1))
    (0, 2)
    """
    lead = len(xs) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and xs[lead + i] != 1)


def _sum_to_impl(x, shape):
    xs = np.shape(x)
    if xs == tuple(shape):
        return x
    axes = sum_to_axes(xs, shape)
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the sum primitive's own (BLAS where as accurate)
        return add_reduce(x, axes, True).reshape(shape)
    return np.reshape(np.sum(x, axis=axes, keepdims=True), shape)


def _broadcast_impl(x, shape):
    if not shape_of(x) and math.prod(shape) <= 4096:
        return np.full(shape, x)  # several times faster than a broadcast view when small
    return np.broadcast_to(x, shape)


broadcast_to = _linear("broadcast_to", _broadcast_impl, ("shape",))
sum_to = _linear("sum_to", _sum_to_impl, ("shape",))
broadcast_to.vjps = (lambda g, ans, x, shape: sum_to(g, shape_of(x)),)
sum_to.vjps = (lambda g, ans, x, shape: broadcast_to(g, shape_of(x)),)


def _broadcast_batch(vals, batched, shape):
    (v,) = align(vals, batched, len(shape))
    return broadcast_to(v, (v.shape[0],) + tuple(shape))


def _sum_to_batch(vals, batched, shape):
    # Put the batch axis last so that it is never summed, then back in front.
    v = vals[0]
    nd = len(v.shape)
    last = transpose(v, tuple(range(1, nd)) + (0,))
    out = sum_to(last, tuple(shape) + (v.shape[0],))
    k = len(shape)
    return transpose(out, (k,) + tuple(range(k)))


broadcast_to.batch = _broadcast_batch
sum_to.batch = _sum_to_batch


# -- stacking and concatenation -----------------------------------------------------------
def _fill_zeros(primals, tangents):
    return [zeros_like_value(p) if t is None else t for p, t in zip(primals, tangents)]


def _variadic_linear(prim):
    def jvp(primals, tangents, params):
        ans = bind(prim, primals, params)
        if all(t is None for t in tangents):
            return ans, None
        return ans, bind(prim, _fill_zeros(primals, tangents), params)

    prim.jvp = jvp


def _all_batched(vals, batched):
    size = next(v.shape[0] for v, b in zip(vals, batched) if b)
    return [v if b else broadcast_to(v, (size,) + tuple(np.shape(v))) for v, b in zip(vals, batched)]


stack = Primitive("stack", lambda *xs, axis: np.stack(xs, axis))
_variadic_linear(stack)
stack.vjps = PerArg(lambda i, g, ans, *xs, axis: getitem(g, index=(slice(None),) * axis + (i,)))
stack.batch = lambda vals, batched, axis: stack(*_all_batched(vals, batched), axis=axis + 1)

concatenate = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis))
_variadic_linear(concatenate)


def _concat_vjp(i, g, ans, *xs, axis):
    start = sum(shape_of(x)[axis] for x in xs[:i])
    stop = start + shape_of(xs[i])[axis]
    return getitem(g, index=(slice(None),) * axis + (slice(start, stop),))


concatenate.vjps = PerArg(_concat_vjp)
stack.keeps = concatenate.keeps = ()
concatenate.batch = lambda vals, batched, axis: concatenate(
    *_all_batched(vals, batched), axis=axis + 1
)


# -- indexing ------------------------------------------------------------------------------
def _is_advanced(item):
    return not (
        item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))
    )


def _has_advanced(index):
    for i in index:
        if _is_advanced(i):
            return True
    return False


def _advanced_ndim(index):
    """Axes that the advanced part of ``index`` (integer/boolean arrays, and ints among them) yields."""
    if not _has_advanced(index):
        return 0
    shapes = []
    for i in index:
        if isinstance(i, (int, np.integer)):
            shapes.append(())
        elif _is_advanced(i):
            a = np.asarray(i)
            # a boolean mask stands for its nonzero() positions: one axis of their count
            shapes.append((int(np.count_nonzero(a)),) if a.dtype == bool else a.shape)
    return len(np.broadcast_shapes(*shapes))


def _separated(index):
    """Whether NumPy moves the advanced-index axes of ``index`` to the front.

    It does when the advanced indices (arrays, or ints mixed with arrays) are
    separated by a slice, ``None`` or ``...``. Then ``(slice(None),) + index``
    puts those axes *before* the batch axis, so the batch rules below move the
    batch axis to where it belongs (``getitem``) or from there (the updates).
    """
    if not _has_advanced(index):
        return False
    pos = [k for k, i in enumerate(index) if _is_advanced(i) or isinstance(i, (int, np.integer))]
    return pos != list(range(pos[0], pos[0] + len(pos)))


def _scatter_add_impl(g, index, shape):
    out = np.zeros(shape, dtype=g.dtype if hasattr(g, "dtype") else np.result_type(g))
    if len(index) == 1 and type(index[0]) is int:
        out[index] = g
    elif _has_advanced(index) and any(np.asarray(i).dtype != bool for i in index if _is_advanced(i)):
        np.add.at(out, index, g)  # integer arrays may repeat an index
    else:
        out[index] = g
    return out


def _index_update_impl(x, v, index):
    out = np.array(x, dtype=np.result_type(x, v), copy=True)
    out[index] = v
    return out


getitem = _linear("getitem", lambda x, index: x[index])
scatter_add = _linear("scatter_add", _scatter_add_impl)
getitem.vjps = (lambda g, ans, x, index: scatter_add(g, index=index, shape=shape_of(x)),)


def _getitem_accumulate(prev, private, g, ans, x, index):
    """Add the cotangent of ``x[index]`` into ``prev`` in place: x[0], x[1], ... cost one array."""
    if isinstance(g, Tracer) or isinstance(prev, Tracer):
        return None  # a derivative of a derivative: the general, differentiable rule
    if private:
        if _has_advanced(index):
            np.add.at(prev, index, g)
        else:
            prev[index] += g
        return prev
    out = _scatter_add_impl(g, index, shape_of(x))
    if prev is not None:
        out = out + prev if out.dtype != np.result_type(prev) else np.add(out, prev, out=out)
    return out


getitem.accumulate = _getitem_accumulate
scatter_add.vjps = (lambda g, ans, v, index, shape: getitem(g, index=index),)

index_update = Primitive("index_update", _index_update_impl)


def _index_update_jvp(primals, tangents, params):
    ans = bind(index_update, primals, params)
    if tangents[0] is None and tangents[1] is None:
        return ans, None
    tx, tv = _fill_zeros(primals, tangents)
    return ans, index_update(tx, tv, **params)


index_update.jvp = _index_update_jvp


def _selection_shape(shape, index):
    return np.broadcast_to(np.empty((), dtype=np.int8), shape)[index].shape


def _unbroadcast_to(g, shape):
    from .elementwise import unbroadcast

    return unbroadcast(g, shape)


index_update.vjps = (
    lambda g, ans, x, v, index: index_update(g, 0.0, index=index),
    lambda g, ans, x, v, index: _unbroadcast_to(getitem(g, index=index), shape_of(v)),
)


def _batch_position(index):
    """Where the batch axis lands in ``x[(slice(None),) + index]`` for a batched ``x``."""
    return _advanced_ndim(index) if _separated(index) else 0


def _getitem_batch(vals, batched, index):
    out = getitem(vals[0], index=(slice(None),) + index)
    k = _batch_position(index)
    if k:
        nd = len(out.shape)
        out = transpose(out, (k,) + tuple(i for i in range(nd) if i != k))
    return out


def _to_selection_layout(v, batched, sel, k):
    """Values for ``x[(slice(None),) + index]``: (B or 1, *sel) with the batch axis moved to ``k``."""
    if not batched:
        v = reshape(v, (1,) + tuple(shape_of(v)))
    (v,) = align([v], [True], len(sel))
    if k:
        nd = len(v.shape)
        v = transpose(v, tuple(range(1, k + 1)) + (0,) + tuple(range(k + 1, nd)))
    return v


def _scatter_batch(vals, batched, index, shape):
    g = vals[0]
    k = _batch_position(index)
    if k:
        g = _to_selection_layout(g, True, tuple(g.shape[1:]), k)
    return scatter_add(g, index=(slice(None),) + index, shape=(vals[0].shape[0],) + tuple(shape))


def _index_update_batch(vals, batched, index):
    x, v = vals
    size = (x if batched[0] else v).shape[0]
    if not batched[0]:
        x = broadcast_to(x, (size,) + tuple(np.shape(x)))
    k = _batch_position(index)
    if batched[1] or k:
        v = _to_selection_layout(v, batched[1], _selection_shape(shape_of(x)[1:], index), k)
    return index_update(x, v, index=(slice(None),) + index)


getitem.batch = _getitem_batch
scatter_add.batch = _scatter_batch
index_update.batch = _index_update_batch
