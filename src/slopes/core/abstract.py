"""The shape and dtype of a primitive's result, found without computing it.

:mod:`slopes.core.staging` records a call whose result has a known shape and
dtype without running it: most of what a trace computes is never read while
tracing (the tangents of a loss whose Hessian is wanted, the values of a
backward pass) and the optimized program recomputes what is needed anyway.

A primitive takes part when it has a *shape rule* here: elementwise
primitives (:data:`~slopes.core.ops.rules.ELEMENTWISE`, NumPy broadcasting),
the reductions over ``axis``/``keepdims``, ``matmul`` of vectors and
matrices, the shape primitives and basic indexing. The dtype is NumPy's own:
the primitive is run once on arrays of one element (all axes of length 1, the
same dtypes, the same Python scalars) and the answer is cached, which also
checks the rule's number of axes. Anything else, or any doubt (an empty
array, a shape NumPy would refuse, arguments that are not arrays), gives
``None``: the caller then computes the value, and NumPy raises its own error
if there is one.
"""

from __future__ import annotations

import math

import numpy as np

from .ops import linalg, logsumexp, reduce, shape
from .ops.rules import ELEMENTWISE, mask_zero

__all__ = ["result_aval"]

_PY_SCALARS = (int, float, complex, bool)


def _broadcast(shapes, params):
    out = max(shapes, key=len)
    # the common cases first: shapes that are trailing parts of the longest (x + b, x * 2.0)
    if all(out[len(out) - len(s):] == s for s in shapes):
        return out
    return np.broadcast_shapes(*shapes)  # a ValueError for shapes NumPy refuses


def _axes(nd, axis):
    """``axis`` (None, an int or a tuple) as a set of nonnegative axes of an ``nd``-D array."""
    picked = range(nd) if axis is None else (axis,) if type(axis) is int else tuple(axis)
    if any(type(a) is not int or not -nd <= a < nd for a in picked):
        raise ValueError("axis out of range")
    return {a % nd for a in picked}


def _reduction(shapes, params):
    (s,), keepdims = shapes, params.get("keepdims", False)
    axes = _axes(len(s), params["axis"])
    return tuple(1 if i in axes else n for i, n in enumerate(s) if keepdims or i not in axes)


def _same(shapes, params):
    return shapes[0]


def _matmul(shapes, params):
    a, b = shapes
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2) or a[-1] != b[0]:
        raise ValueError("not a product of vectors and matrices with matching inner sizes")
    return a[:-1] + b[1:]


def _transpose(shapes, params):
    (s,), axes = shapes, tuple(params["axes"])
    if sorted(axes) != list(range(len(s))):
        raise ValueError("axes are not a permutation")
    return tuple(s[a] for a in axes)


def _reshape(shapes, params):
    (s,), new = shapes, params["shape"]
    new = (new,) if type(new) is int else tuple(new)
    known = math.prod(n for n in new if n != -1)
    if new.count(-1) == 1 and known:
        new = tuple(math.prod(s) // known if n == -1 else n for n in new)
    if math.prod(new) != math.prod(s) or any(type(n) is not int or n < 0 for n in new):
        raise ValueError("sizes differ")
    return new


def _broadcast_to(shapes, params):
    target = tuple(params["shape"])
    if np.broadcast_shapes(shapes[0], target) != target:
        raise ValueError("does not broadcast to the shape")
    return target


def _sum_to(shapes, params):
    target = tuple(params["shape"])
    if np.broadcast_shapes(shapes[0], target) != shapes[0]:
        raise ValueError("not a sum of broadcast axes")
    return target


def _getitem(shapes, params):
    index = params["index"]
    if type(index) is not tuple or not all(i is None or i is Ellipsis or type(i) in (int, slice) for i in index):
        raise ValueError("not a basic index")  # an index array: left to NumPy
    return shape._selection_shape(shapes[0], index)  # a view of one element: no copy


def _masked(shapes, params):  # mask_zero(g, r) hands back r itself where r is finite: r's shape
    if _broadcast(shapes, params) != shapes[1]:
        raise ValueError("the mask is larger than the value")
    return shapes[1]


def _scalar(shapes, params):  # one number of any arguments
    return ()


# Primitives whose result has the dtype NumPy gives on one-element arrays: {primitive: shape rule}.
_PROBED = {
    mask_zero: _masked,
    linalg.matmul: _matmul,
    logsumexp.logsumexp: _reduction,
    logsumexp.log_softmax: _same,
    **{p: _reduction for p in (reduce.reduce_sum, reduce.reduce_max, reduce.reduce_min)},
    reduce.squares_any_order: _scalar,
}

# Primitives whose result has their array argument's dtype when it is of the given kinds:
# {primitive: (shape rule, kinds)}. Summing promotes booleans and small integers (to int64).
_MOVES = {shape.reshape: (_reshape, "biufc"), shape.transpose: (_transpose, "biufc"),
          shape.broadcast_to: (_broadcast_to, "biufc"), shape.sum_to: (_sum_to, "fc"),
          shape.getitem: (_getitem, "biufc")}

_dtypes = {}  # (primitive, argument kinds, parameters) -> result dtype, or None when unknown
_MAX_CACHED = 4096
_UNKNOWN = object()


def result_aval(prim, args, params):
    """``(shape, dtype)`` of ``prim(*args, **params)``, or None when it is not known without
    computing it. ``args`` are arrays, NumPy or Python scalars, or anything with ``shape``
    and ``dtype`` (a staged value).

    >>> from slopes.core.ops.linalg import matmul
    >>> from slopes.core.ops.elementwise import mul
    >>> result_aval(matmul, [np.ones((3, 4)), np.ones(4)], {})
    ((3,), dtype('float64'))
    >>> result_aval(mul, [np.ones((2, 1), np.float32), 0.5], {})
    ((2, 1), dtype('float32'))
    >>> result_aval(matmul, [np.ones((3, 4)), np.ones(3)], {}) is None  # NumPy raises when computing it
    True
    """
    rule, moves = _MOVES.get(prim, (None, ""))
    if not moves:
        rule = _PROBED.get(prim) or (_broadcast if prim in ELEMENTWISE else None)
        if rule is None:
            return None
    shapes, kinds = [], []
    for a in args:
        if type(a) in _PY_SCALARS:
            shapes.append(())
            # NumPy's result dtype does not depend on a Python float's value; an int's may
            # (an overflow error), so ints are probed per value
            kinds.append((type(a), a if type(a) in (int, bool) else None))
            continue
        dtype, s = getattr(a, "dtype", None), getattr(a, "shape", None)
        if not isinstance(dtype, np.dtype) or dtype.hasobject or type(s) is not tuple or 0 in s:
            return None  # not an array, or empty (NumPy's errors on those come from computing)
        shapes.append(s)
        kinds.append((dtype, len(s)))
    try:
        out = rule(shapes, params)
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if moves:
        dtype = kinds[0][0]
        return (out, dtype) if isinstance(dtype, np.dtype) and dtype.kind in moves else None
    dtype = _probe(prim, args, kinds, params)
    return None if dtype is None or dtype[1] != len(out) else (out, dtype[0])


def _probe(prim, args, kinds, params):
    """``(dtype, ndim)`` of ``prim`` on one-element stand-ins of ``args`` (of ``kinds``), cached."""
    try:
        key = (prim, tuple(kinds), tuple(sorted(params.items())) if params else ())
        hash(key)
    except TypeError:  # unhashable parameters: probe every time
        key = None
    found = _dtypes.get(key, _UNKNOWN)  # one lookup: another thread may clear the cache meanwhile
    if found is not _UNKNOWN:
        return found
    stand_ins = [np.ones((1,) * k[1], k[0]) if isinstance(k[0], np.dtype) else a for a, k in zip(args, kinds)]
    try:
        with np.errstate(all="ignore"):
            out = prim.impl(*stand_ins, **params)
        found = (np.dtype(out.dtype), np.ndim(out)) if isinstance(out, (np.ndarray, np.generic)) else None
    except Exception:  # noqa: BLE001 - any failure: the caller computes the value, which raises its own
        found = None
    if key is not None:
        if len(_dtypes) >= _MAX_CACHED:  # bounded, however many signatures pass through
            _dtypes.clear()
        _dtypes[key] = found
    return found
