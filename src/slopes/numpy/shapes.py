"""Shape manipulation: reshape, transpose, axes, broadcasting, joining."""

from __future__ import annotations

import math

import numpy as np

from ..core.ops import shape as sh
from ..core.trace import shape_of
from ._axes import normalize_axes, normalize_axis
from ._wrap import asarray_args

__all__ = [
    "reshape",
    "ravel",
    "transpose",
    "swapaxes",
    "moveaxis",
    "expand_dims",
    "squeeze",
    "broadcast_to",
    "broadcast_arrays",
    "atleast_1d",
    "atleast_2d",
    "concatenate",
    "stack",
    "hstack",
    "vstack",
    "shape",
    "ndim",
    "size",
]


def _one(x):
    return asarray_args((x,))[0]


def reshape(x, newshape):
    """Differentiable ``numpy.reshape`` (one entry of ``newshape`` may be -1).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    x = _one(x)
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    newshape = tuple(int(n) for n in newshape)
    old = shape_of(x)
    if -1 in newshape:
        known = math.prod([n for n in newshape if n != -1])
        total = math.prod(old)
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape an array of shape {old} into {newshape}")
        newshape = tuple(total // known if n == -1 else n for n in newshape)
    if math.prod(newshape) != math.prod(old):
        raise ValueError(f"cannot reshape an array of shape {old} into {newshape}")
    if newshape == old:
        return x
    return sh.reshape(x, shape=newshape)


def ravel(x):
    """Differentiable ``numpy.ravel``: a 1-D view of all entries.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.ravel(np.ones((2, 2))).shape
    (4,)
    """
    return reshape(x, (-1,))


def transpose(x, axes=None):
    """Differentiable ``numpy.transpose`` (reverses the axes by default).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.transpose(np.ones((2, 3))).shape
    (3, 2)
    """
    x = _one(x)
    nd = len(shape_of(x))
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    else:
        axes = tuple(normalize_axis(a, nd) for a in axes)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"axes {axes} are not a permutation of the {nd} axes")
    if axes == tuple(range(nd)):
        return x
    return sh.transpose(x, axes=axes)


def swapaxes(x, axis1, axis2):
    """Differentiable ``numpy.swapaxes``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.swapaxes(np.ones((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = _one(x)
    nd = len(shape_of(x))
    a, b = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def moveaxis(x, source, destination):
    """Differentiable ``numpy.moveaxis``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.moveaxis(np.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = _one(x)
    nd = len(shape_of(x))
    src = [normalize_axis(a, nd) for a in np.atleast_1d(source)]
    dst = [normalize_axis(a, nd) for a in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination need the same number of axes")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def expand_dims(x, axis):
    """Differentiable ``numpy.expand_dims``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.expand_dims(np.ones(3), 0).shape
    (1, 3)
    """
    x = _one(x)
    s = shape_of(x)
    axes = normalize_axes(axis, len(s) + len(np.atleast_1d(axis)))
    out = list(s)
    for a in axes:
        out.insert(a, 1)
    return reshape(x, tuple(out))


def squeeze(x, axis=None):
    """Differentiable ``numpy.squeeze``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.squeeze(np.ones((1, 3, 1))).shape
    (3,)
    """
    x = _one(x)
    s = shape_of(x)
    axes = normalize_axes(axis, len(s))
    if axes is None:
        axes = tuple(i for i, n in enumerate(s) if n == 1)
    for a in axes:
        if s[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of length {s[a]} (shape {s})")
    return reshape(x, tuple(n for i, n in enumerate(s) if i not in axes))


def broadcast_to(x, shape):
    """Differentiable ``numpy.broadcast_to``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.broadcast_to(np.ones(3), (2, 3)).shape
    (2, 3)
    """
    x = _one(x)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if np.broadcast_shapes(shape_of(x), shape) != shape:  # NumPy's own error when incompatible
        raise ValueError(
            f"cannot broadcast an array of shape {shape_of(x)} to shape {shape}: broadcasting only "
            "adds leading axes and stretches axes of length 1"
        )
    if shape_of(x) == shape:
        return x
    return sh.broadcast_to(x, shape=shape)


def broadcast_arrays(*args):
    """Differentiable ``numpy.broadcast_arrays``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> [a.shape for a in snp.broadcast_arrays(np.ones(3), np.ones((2, 1)))]
    [(2, 3), (2, 3)]
    """
    args = asarray_args(args)
    target = np.broadcast_shapes(*(shape_of(a) for a in args))
    return [broadcast_to(a, target) for a in args]


def atleast_1d(x):
    """Differentiable ``numpy.atleast_1d`` (one array).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.atleast_1d(2.0).shape
    (1,)
    """
    x = _one(x)
    return reshape(x, (1,)) if len(shape_of(x)) == 0 else x


def atleast_2d(x):
    """Differentiable ``numpy.atleast_2d`` (one array).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.atleast_2d(np.ones(3)).shape
    (1, 3)
    """
    x = _one(x)
    s = shape_of(x)
    return reshape(x, (1,) * (2 - len(s)) + s) if len(s) < 2 else x


def concatenate(arrays, axis=0):
    """Differentiable ``numpy.concatenate`` (``axis=None`` flattens first).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.concatenate([np.ones(2), np.zeros(1)])
    array([1., 1., 0.])
    """
    arrays = list(asarray_args(tuple(arrays)))
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    nd = len(shape_of(arrays[0]))
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, nd)
    if len(arrays) == 1:
        return arrays[0]
    return sh.concatenate(*arrays, axis=axis)


def stack(arrays, axis=0):
    """Differentiable ``numpy.stack``: join arrays of one shape along a new axis.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.stack([np.ones(2), np.zeros(2)], axis=1).shape
    (2, 2)
    """
    arrays = list(asarray_args(tuple(arrays)))
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis(axis, len(shape_of(arrays[0])) + 1)
    return sh.stack(*arrays, axis=axis)


def hstack(arrays):
    """Differentiable ``numpy.hstack``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.hstack([np.ones(2), np.zeros(2)]).shape
    (4,)
    """
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if len(shape_of(arrays[0])) == 1 else 1)


def vstack(arrays):
    """Differentiable ``numpy.vstack``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.vstack([np.ones(2), np.zeros(2)]).shape
    (2, 2)
    """
    return concatenate([atleast_2d(a) for a in arrays], axis=0)


def shape(x):
    """The shape of an array or traced value.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.shape(np.ones((2, 3)))
    (2, 3)
    """
    return tuple(shape_of(x)) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    """The number of dimensions of an array or traced value.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.ndim(np.ones((2, 3)))
    2
    """
    return len(shape(x))


def size(x):
    """The number of entries of an array or traced value.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.size(np.ones((2, 3)))
    6
    """
    return math.prod(shape(x))
