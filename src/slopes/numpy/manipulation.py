"""Reordering and repeating entries: flip, roll, tile, repeat, split, pad, sort, take, prod.

Most of these are exact compositions of the shape primitives (slices, integer
index arrays, concatenation, broadcasting), so their derivatives of every
order come for free. Three need primitives of their own
(:mod:`slopes.core.ops.reorder`): ``cumprod`` (a derivative that stays exact
where entries are zero), ``argsort``, and a gather along an axis whose
indices may differ per example under ``vmap``.

Integer indices (``take``, ``take_along_axis``, the result of ``argsort``)
carry no derivative; the derivative with respect to the array follows the
entries to where they were moved.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops import reorder as ro
from ..core.ops import shape as sh
from ..core.ops.reduce import keepdims_shape
from ..core.trace import Tracer, concrete, shape_of
from ._axes import normalize_axes, normalize_axis
from .creation import asarray
from .shapes import broadcast_to, concatenate, ravel, reshape, transpose

__all__ = [
    "prod",
    "cumprod",
    "split",
    "array_split",
    "tile",
    "repeat",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "pad",
    "sort",
    "argsort",
    "take",
    "take_along_axis",
    "diff",
]


# -- helpers -----------------------------------------------------------------------------------
def _one(x):
    return x if isinstance(x, Tracer) else asarray(x)


def _along(axis, item):
    """An index applying ``item`` to axis ``axis`` and leaving the others whole."""
    return (slice(None),) * axis + (item,)


def _flat_or(x, axis):
    """``(x, axis)`` with ``axis=None`` meaning the flattened array along axis 0."""
    return (ravel(x), 0) if axis is None else (x, axis)


def _static_int(v, fn, what):
    if isinstance(v, Tracer):
        raise TypeError(f"{fn}(): {what} must be known before tracing (a Python int), not a traced value")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{fn}(): {what} must be an integer, got {v!r}") from None


def _static_ints(v, fn, what):
    if isinstance(v, Tracer):
        raise TypeError(f"{fn}(): {what} must be known before tracing, not a traced value")
    a = np.asarray(v)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{fn}(): {what} must be integers, got {v!r}")
    return a.astype(np.intp)


def _indices(indices, fn):
    """Integer indices: a NumPy array, or a traced (e.g. batched) integer array."""
    value = concrete(indices) if isinstance(indices, Tracer) else np.asarray(indices)
    if value.size == 0 and not isinstance(indices, Tracer):
        return value.astype(np.intp)
    if not np.issubdtype(value.dtype, np.integer):
        raise TypeError(
            f"{fn}(): indices must be integers, got dtype {value.dtype}. Indices carry no "
            "derivative; convert them with .astype(int) (or snp.rint(i).astype(int))."
        )
    return indices if isinstance(indices, Tracer) else value


def _check_bounds(indices, n, fn, axis):
    v = concrete(indices)
    if v.size and (v.min() < -n or v.max() >= n):
        bad = v.min() if v.min() < -n else v.max()
        raise IndexError(
            f"{fn}(): index {bad} is out of bounds for axis {axis} with size {n} "
            f"(valid: -{n} to {n - 1}); use mode='wrap' or 'clip' in take to fold them in"
        )


# -- products --------------------------------------------------------------------------------------
def prod(x, axis=None, keepdims=False):
    """Differentiable ``numpy.prod``, exact also where entries are zero.

    The derivative with respect to one factor is the product of the other
    factors, computed without division: with exactly one zero, that entry's
    gradient is the product of the rest (the others get 0); with two or more
    zeros the gradient is 0. No NaN arises at any order.

    Parameters
    ----------
    x : array_like
    axis : int or tuple of ints, optional
        Axes to multiply over; all by default.
    keepdims : bool
        Keep reduced axes with length 1.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.prod(np.array([2.0, 3.0, 4.0])))
    24.0
    >>> sl.grad(snp.prod)(np.array([2.0, 0.0, 4.0]))
    array([0., 8., 0.])
    """
    x = _one(x)
    shape = shape_of(x)
    nd = len(shape)
    axes = normalize_axes(axis, nd)
    axes = tuple(range(nd)) if axes is None else axes
    kept = tuple(a for a in range(nd) if a not in axes)
    n = math.prod([shape[a] for a in axes])
    out_shape = keepdims_shape(shape, axes) if keepdims else tuple(shape[a] for a in kept)
    if n == 0:
        return np.ones(out_shape, dtype=x.dtype)
    if len(axes) == 1:
        (a,) = axes
        out = sh.getitem(ro.cumprod(x, axis=a), index=_along(a, -1))
    else:  # the reduced axes, last and merged into one
        merged = reshape(transpose(x, kept + axes), tuple(shape[a] for a in kept) + (n,))
        out = sh.getitem(ro.cumprod(merged, axis=len(kept)), index=(Ellipsis, -1))
    return reshape(out, out_shape)


def cumprod(x, axis=None):
    """Differentiable ``numpy.cumprod`` (flattened when ``axis`` is None).

    Exact where entries are zero: the derivative of each partial product with
    respect to a factor is the product of the other factors in it.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.cumprod(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 6.])
    >>> sl.jacobian(snp.cumprod)(np.array([2.0, 0.0, 3.0]))
    array([[1., 0., 0.],
           [0., 2., 0.],
           [0., 6., 0.]])
    """
    x, axis = _flat_or(_one(x), axis)
    return ro.cumprod(x, axis=normalize_axis(axis, len(shape_of(x))))


# -- splitting ----------------------------------------------------------------------------------------
def _split(x, spec, axis, fn, equal):
    x = _one(x)
    shape = shape_of(x)
    axis = normalize_axis(axis, len(shape))
    n = shape[axis]
    if isinstance(spec, (int, np.integer)) or (np.ndim(spec) == 0 and not isinstance(spec, Tracer)):
        k = _static_int(spec, fn, "the number of sections")
        if k <= 0:
            raise ValueError(f"{fn}(): the number of sections must be positive, got {k}")
        if equal and n % k:
            raise ValueError(
                f"{fn}(): axis {axis} of length {n} does not divide into {k} equal sections; "
                "give split points instead, or use snp.array_split for unequal sections"
            )
        q, r = divmod(n, k)
        bounds = np.cumsum([q + 1] * r + [q] * (k - r))[:-1].tolist()
    else:
        bounds = _static_ints(spec, fn, "the split points").ravel().tolist()
    starts, stops = [0] + bounds, bounds + [n]
    return [sh.getitem(x, index=_along(axis, slice(a, b))) for a, b in zip(starts, stops)]


def split(x, indices_or_sections, axis=0):
    """Differentiable ``numpy.split``: equal sections, or pieces between split points.

    Parameters
    ----------
    x : array_like
    indices_or_sections : int or sequence of ints
        ``k`` equal sections (the axis length must divide by ``k``), or the
        positions where the pieces start.
    axis : int

    Returns
    -------
    list of arrays

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> [p.tolist() for p in snp.split(np.arange(6.0), [1, 4])]
    [[0.0], [1.0, 2.0, 3.0], [4.0, 5.0]]
    >>> sl.grad(lambda x: snp.sum(snp.split(x, 2)[1] ** 2))(np.ones(4))
    array([0., 0., 2., 2.])
    """
    return _split(x, indices_or_sections, axis, "split", equal=True)


def array_split(x, indices_or_sections, axis=0):
    """Differentiable ``numpy.array_split``: like :func:`split`, allowing unequal sections.

    With ``k`` sections of an axis of length ``n``, the first ``n % k`` have
    one entry more.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [p.shape for p in snp.array_split(np.ones(5), 3)]
    [(2,), (2,), (1,)]
    """
    return _split(x, indices_or_sections, axis, "array_split", equal=False)


# -- repeating ---------------------------------------------------------------------------------------
def tile(x, reps):
    """Differentiable ``numpy.tile``: repeat the whole array ``reps`` times along each axis.

    The gradient of each entry sums the cotangents of all of its copies.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.tile(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    >>> sl.grad(lambda x: snp.sum(snp.tile(x, 3)))(np.ones(2))
    array([3., 3.])
    """
    x = _one(x)
    reps = tuple(_static_ints(reps, "tile", "reps").reshape(-1).tolist())
    if any(r < 0 for r in reps):
        raise ValueError(f"tile(): reps must be non-negative, got {reps}")
    shape = shape_of(x)
    d = max(len(reps), len(shape))
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - len(shape)) + tuple(shape)
    if all(r == 1 for r in reps):
        return reshape(x, shape)
    spread = reshape(x, sum(((1, s) for s in shape), ()))
    spread = broadcast_to(spread, sum(zip(reps, shape), ()))
    return reshape(spread, tuple(r * s for r, s in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    """Differentiable ``numpy.repeat``: repeat each entry (flattened when ``axis`` is None).

    Parameters
    ----------
    x : array_like
    repeats : int or sequence of ints
        How often each entry is repeated: one count for all, or one per entry
        along ``axis``.
    axis : int, optional

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.repeat(np.array([1.0, 2.0]), [1, 3])
    array([1., 2., 2., 2.])
    >>> sl.grad(lambda x: snp.sum(snp.repeat(x, [1, 3])))(np.ones(2))
    array([1., 3.])
    """
    x, axis = _flat_or(_one(x), axis)
    shape = shape_of(x)
    axis = normalize_axis(axis, len(shape))
    n = shape[axis]
    reps = _static_ints(repeats, "repeat", "repeats")
    if np.any(reps < 0):
        raise ValueError(f"repeat(): repeats must be non-negative, got {repeats!r}")
    if reps.ndim > 1 or reps.size not in (1, n):
        raise ValueError(
            f"repeat(): repeats must be one count or {n} counts (one per entry along axis {axis}), "
            f"got shape {reps.shape}"
        )
    if reps.size == 1:
        r = int(reps.reshape(()))
        spread = broadcast_to(reshape(x, shape[: axis + 1] + (1,) + shape[axis + 1 :]),
                              shape[: axis + 1] + (r,) + shape[axis + 1 :])
        return reshape(spread, shape[:axis] + (n * r,) + shape[axis + 1 :])
    return sh.getitem(x, index=_along(axis, np.repeat(np.arange(n), reps)))


# -- reversing and rotating -------------------------------------------------------------------
def flip(x, axis=None):
    """Differentiable ``numpy.flip``: reverse the order of entries along axes (all by default).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.flip(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    array([[2., 1.],
           [4., 3.]])
    """
    x = _one(x)
    nd = len(shape_of(x))
    axes = normalize_axes(axis, nd)
    axes = range(nd) if axes is None else axes
    if not nd or not axes:
        return x
    rev = slice(None, None, -1)
    return sh.getitem(x, index=tuple(rev if a in axes else slice(None) for a in range(nd)))


def fliplr(x):
    """Differentiable ``numpy.fliplr``: reverse axis 1 (left/right).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fliplr(np.array([[1.0, 2.0, 3.0]]))
    array([[3., 2., 1.]])
    """
    x = _one(x)
    if len(shape_of(x)) < 2:
        raise ValueError(f"fliplr() needs an array with at least 2 axes, got shape {shape_of(x)}; use snp.flip")
    return flip(x, 1)


def flipud(x):
    """Differentiable ``numpy.flipud``: reverse axis 0 (up/down).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.flipud(np.array([1.0, 2.0, 3.0]))
    array([3., 2., 1.])
    """
    x = _one(x)
    if len(shape_of(x)) < 1:
        raise ValueError("flipud() needs an array with at least 1 axis, got a 0-d array")
    return flip(x, 0)


def roll(x, shift, axis=None):
    """Differentiable ``numpy.roll``: shift entries cyclically along axes.

    Parameters
    ----------
    x : array_like
    shift : int or tuple of ints
        Positions to shift by (negative: towards the start).
    axis : int or tuple of ints, optional
        Axes to shift along, paired with ``shift``; without it the flattened
        array is shifted and the shape restored.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.roll(np.array([1.0, 2.0, 3.0, 4.0]), 1)
    array([4., 1., 2., 3.])
    >>> snp.roll(np.arange(4.0).reshape(2, 2), (1, 1), axis=(0, 1))
    array([[3., 2.],
           [1., 0.]])
    """
    x = _one(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), shape_of(x))
    shifts = _static_ints(shift, "roll", "shift")
    axes = _static_ints(axis, "roll", "axis")
    try:
        shifts, axes = np.broadcast_arrays(shifts, axes)
    except ValueError:
        raise ValueError(f"roll(): shift {shift!r} and axis {axis!r} do not pair up") from None
    if shifts.ndim > 1:
        raise ValueError("roll(): shift and axis must be ints or flat sequences of ints")
    shape = shape_of(x)
    total = {}
    for s, a in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        a = normalize_axis(a, len(shape))
        total[a] = total.get(a, 0) + s
    for a, s in total.items():
        n = shape[a]
        s = s % n if n else 0
        if s:
            x = concatenate([sh.getitem(x, index=_along(a, slice(n - s, None))),
                             sh.getitem(x, index=_along(a, slice(None, n - s)))], axis=a)
    return x


# -- padding ------------------------------------------------------------------------------------------
_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad_pairs(pad_width, nd):
    widths = _static_ints(pad_width, "pad", "pad_width")
    try:
        widths = np.broadcast_to(widths, (nd, 2))
    except ValueError:
        raise ValueError(
            f"pad(): pad_width {pad_width!r} does not fit an array with {nd} axes; give an int, "
            "(before, after), or one (before, after) pair per axis"
        ) from None
    if np.any(widths < 0):
        raise ValueError(f"pad(): pad_width must be non-negative, got {pad_width!r}")
    return [tuple(p) for p in widths.tolist()]


def pad(x, pad_width, mode="constant", constant_values=0):
    """Differentiable ``numpy.pad``.

    Parameters
    ----------
    x : array_like
    pad_width : int or sequence
        ``n`` (all sides), ``(before, after)`` (every axis), or one
        ``(before, after)`` pair per axis, as in NumPy.
    mode : {'constant', 'edge', 'reflect', 'symmetric', 'wrap'}
    constant_values : scalar or sequence, optional
        For ``mode='constant'``: the fill value(s), in NumPy's forms. A traced
        scalar is allowed and receives the derivative of the padding.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.pad(np.array([1.0, 2.0]), (1, 2), constant_values=9.0)
    array([9., 1., 2., 9., 9.])
    >>> snp.pad(np.array([1.0, 2.0, 3.0]), 2, mode="reflect")
    array([3., 2., 1., 2., 3., 2., 1.])
    >>> sl.grad(lambda x: snp.sum(snp.pad(x, 1, mode="edge")))(np.ones(3))
    array([2., 1., 2.])
    """
    x = _one(x)
    shape = shape_of(x)
    widths = _pad_pairs(pad_width, len(shape))
    if mode in _INDEX_MODES:
        for a, ((b, e), n) in enumerate(zip(widths, shape)):
            if b or e:
                x = sh.getitem(x, index=_along(a, np.pad(np.arange(n), (b, e), mode=mode)))
        return x
    if mode != "constant":
        raise ValueError(f"pad(): mode {mode!r} is not supported; use 'constant' or one of {_INDEX_MODES}")
    if not any(b or e for b, e in widths):
        return x
    new_shape = tuple(n + b + e for (b, e), n in zip(widths, shape))
    if isinstance(constant_values, Tracer):
        if shape_of(constant_values) != ():
            raise ValueError("pad(): a traced constant_values must be a scalar")
        base = broadcast_to(constant_values, new_shape)
    else:
        base = np.pad(np.zeros(shape, dtype=x.dtype), widths, constant_values=constant_values)
    inner = tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))
    return sh.index_update(base, x, index=inner)


# -- sorting and indexing ------------------------------------------------------------------------------
def _kind(kind, stable):
    return "stable" if stable else kind


def _sort_axis(x, axis, fn):
    x, axis = _flat_or(_one(x), axis)
    nd = len(shape_of(x))
    if nd == 0:
        raise ValueError(f"{fn}() of a 0-d array: give axis=None, or an array with at least 1 axis")
    return x, normalize_axis(axis, nd)


def argsort(x, axis=-1, kind=None, *, stable=None):
    """``numpy.argsort``: the indices that sort ``x`` along ``axis`` (no derivative).

    Flattened when ``axis`` is None. Works under ``vmap`` (per-example orders).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.argsort(np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    x, axis = _sort_axis(x, axis, "argsort")
    return ro.argsort(x, axis=axis, kind=_kind(kind, stable))


def sort(x, axis=-1, kind=None, *, stable=None):
    """Differentiable ``numpy.sort`` along ``axis`` (flattened when ``axis`` is None).

    The derivative follows the sorting permutation: each output entry's
    derivative is that of the input entry that landed there. Tied entries are
    ordered stably (``kind='stable'`` unless given).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.sort(np.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.])
    >>> w = np.array([1.0, 10.0, 100.0])
    >>> sl.grad(lambda x: snp.sum(w * snp.sort(x)))(np.array([3.0, 1.0, 2.0]))
    array([100.,   1.,  10.])
    """
    x, axis = _sort_axis(x, axis, "sort")
    order = ro.argsort(x, axis=axis, kind=_kind(kind, stable) or "stable")
    return ro.gather(x, order, axis=axis)


def take(x, indices, axis=None, mode=None):
    """Differentiable ``numpy.take``: entries at integer ``indices`` along ``axis``.

    Parameters
    ----------
    x : array_like
    indices : array_like of ints
        Any shape; it replaces ``axis`` in the result's shape. Negative
        indices count from the end. May be batched under ``vmap``.
    axis : int, optional
        Without it, ``x`` is flattened first.
    mode : {None, 'raise', 'wrap', 'clip'}
        What to do with indices out of range (default: raise an error).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.take(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=1)
    array([[2., 2., 1.],
           [4., 4., 3.]])
    >>> sl.grad(lambda x: snp.sum(snp.take(x, [0, 0, 2])))(np.ones(3))
    array([2., 0., 1.])
    """
    x, axis = _flat_or(_one(x), axis)
    shape = shape_of(x)
    axis = normalize_axis(axis, len(shape))
    n = shape[axis]
    idx = _indices(indices, "take")
    if n == 0 and concrete(idx).size:
        raise IndexError(f"take(): cannot take entries from axis {axis}, which has length 0")
    if mode == "wrap":
        idx = ew.sub(idx, ew.mul(ew.floor_divide(idx, n), n))
    elif mode == "clip":
        idx = ew.clip(idx, 0, n - 1)
    elif mode in (None, "raise"):
        _check_bounds(idx, n, "take", axis)
    else:
        raise ValueError(f"take(): mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    ishape = shape_of(idx)
    flat = reshape(idx, (1,) * axis + (-1,) + (1,) * (len(shape) - axis - 1))
    out = ro.gather(x, flat, axis=axis)
    return reshape(out, shape[:axis] + tuple(ishape) + shape[axis + 1 :])


def take_along_axis(x, indices, axis=-1):
    """Differentiable ``numpy.take_along_axis``: pick entries along ``axis`` per position.

    ``indices`` has as many axes as ``x`` and broadcasts against it on the
    other axes; ``axis=None`` works on the flattened array with 1-D indices.
    The result of :func:`argsort` (also per example under ``vmap``) fits here.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> x = np.array([[1.0, 5.0], [7.0, 3.0]])
    >>> snp.take_along_axis(x, snp.argsort(x, axis=1), axis=1)
    array([[1., 5.],
           [3., 7.]])
    >>> sl.grad(lambda x: snp.sum(snp.take_along_axis(x, np.array([[1], [1]]), 1)))(x)
    array([[0., 1.],
           [0., 1.]])
    """
    x, axis = _flat_or(_one(x), axis)
    idx = _indices(indices, "take_along_axis")
    shape, ishape = shape_of(x), shape_of(idx)
    if len(ishape) != len(shape):
        raise ValueError(
            f"take_along_axis(): indices need as many axes as the array ({len(shape)}), got "
            f"shape {ishape}; add axes with snp.expand_dims or use snp.take"
        )
    axis = normalize_axis(axis, len(shape))
    for d, (n, m) in enumerate(zip(shape, ishape)):
        if d != axis and n != m and 1 not in (n, m):
            raise ValueError(
                f"take_along_axis(): indices of shape {ishape} do not broadcast against the "
                f"array of shape {shape} on axis {d}"
            )
    _check_bounds(idx, shape[axis], "take_along_axis", axis)
    return ro.gather(x, idx, axis=axis)


# -- differences ----------------------------------------------------------------------------------------
def _edge(v, shape, axis):
    """``prepend``/``append`` as a block of ``shape`` with length 1 along ``axis`` if scalar."""
    v = _one(v)
    if len(shape_of(v)) == 0:
        return broadcast_to(v, shape[:axis] + (1,) + shape[axis + 1 :])
    return v


def diff(x, n=1, axis=-1, prepend=None, append=None):
    """Differentiable ``numpy.diff``: the ``n``-th forward difference along ``axis``.

    Parameters
    ----------
    x : array_like
    n : int
        How often to difference (0 returns ``x``).
    axis : int
    prepend, append : array_like, optional
        Values joined to ``x`` along ``axis`` first (a scalar fills one slice).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.diff(np.array([1.0, 4.0, 9.0, 16.0]))
    array([3., 5., 7.])
    >>> snp.diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2)
    array([2., 2.])
    """
    n = _static_int(n, "diff", "n")
    if n < 0:
        raise ValueError(f"diff(): order n must be non-negative, got {n}")
    x = _one(x)
    if n == 0:
        return x
    shape = shape_of(x)
    if not shape:
        raise ValueError("diff() needs an array with at least 1 axis, got a 0-d array")
    axis = normalize_axis(axis, len(shape))
    if prepend is not None or append is not None:
        parts = [_edge(v, shape, axis) for v in (prepend,) if v is not None] + [x]
        parts += [_edge(append, shape, axis)] if append is not None else []
        x = concatenate(parts, axis=axis)
    for _ in range(n):
        x = ew.sub(sh.getitem(x, index=_along(axis, slice(1, None))),
                   sh.getitem(x, index=_along(axis, slice(None, -1))))
    return x
