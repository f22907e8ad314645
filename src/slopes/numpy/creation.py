"""Array creation. Constants pass straight to NumPy; ``array``/``asarray`` stack traced entries,
``full``/``full_like`` broadcast a traced fill value."""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops.shape import stack
from ..core.trace import Tracer, shape_of
from .shapes import broadcast_to

__all__ = [
    "array",
    "asarray",
    "zeros",
    "ones",
    "full",
    "empty",
    "eye",
    "identity",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
]


def _has_tracer(obj):
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_tracer(o) for o in obj)
    return False


def _build(obj, dtype):
    if isinstance(obj, (list, tuple)):
        parts = [_build(o, dtype) for o in obj]
        shapes = {shape_of(p) for p in parts}
        if len(shapes) > 1:
            raise ValueError(f"array(): nested sequences have different shapes {sorted(shapes)}")
        return stack(*parts, axis=0)
    if isinstance(obj, Tracer):
        return obj
    return np.asarray(obj, dtype=dtype)


def array(obj, dtype=None, copy=True):
    """``numpy.array`` that also accepts traced entries: ``array([x, y ** 2])``.

    Nested lists holding traced values are stacked, so derivatives flow
    through; without traced values this is ``numpy.array``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> sl.jacobian(lambda x: snp.array([x[0] * x[1], x[0]]))(np.array([2.0, 3.0]))
    array([[3., 2.],
           [1., 0.]])
    """
    if _has_tracer(obj):
        return _build(obj, dtype)
    return np.array(obj, dtype=dtype, copy=copy)


def asarray(obj, dtype=None):
    """``numpy.asarray`` that passes traced values through and stacks traced entries.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.asarray([1.0, 2.0])
    array([1., 2.])
    """
    if isinstance(obj, Tracer):
        return obj
    if _has_tracer(obj):
        return _build(obj, dtype)
    return np.asarray(obj, dtype=dtype)


def _dtype(a, dtype):
    if dtype is not None:
        return dtype
    return getattr(a, "dtype", None) or np.asarray(a).dtype


def _shape(a):
    return shape_of(a) if isinstance(a, Tracer) else np.shape(a)


def zeros_like(a, dtype=None):
    """``numpy.zeros_like`` for arrays and traced values (a constant, no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.zeros_like(np.ones(2))
    array([0., 0.])
    """
    return np.zeros(_shape(a), dtype=_dtype(a, dtype))


def ones_like(a, dtype=None):
    """``numpy.ones_like`` for arrays and traced values (a constant, no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.ones_like(np.zeros(2))
    array([1., 1.])
    """
    return np.ones(_shape(a), dtype=_dtype(a, dtype))


def _traced_cast(value, dtype, name):
    """``value`` (traced) as ``dtype``; refuses a dtype that would drop its derivative."""
    if dtype is None:
        return value
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.inexact):
        raise TypeError(
            f"{name}(): dtype {dtype} cannot carry a derivative of the traced value; use a "
            "float dtype, or sl.stop_gradient(value) for an integer constant"
        )
    return ew.astype(value, dtype=dtype)


def full(shape, fill_value, dtype=None, order="C"):
    """``numpy.full``, differentiable in ``fill_value``.

    ``fill_value`` (a scalar or an array broadcasting to ``shape``) may be traced: each
    entry of the result then has the derivative of the fill value it copies.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.full((2,), 7.0)
    array([7., 7.])
    >>> sl.grad(lambda a: snp.sum(snp.full((2, 3), a)))(1.5)    # six copies of a
    array(6.)
    """
    if not _has_tracer(fill_value):
        return np.full(shape, fill_value, dtype=dtype, order=order)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    return broadcast_to(_traced_cast(asarray(fill_value), dtype, "full"), shape)


def full_like(a, fill_value, dtype=None):
    """``numpy.full_like`` for arrays and traced values, differentiable in ``fill_value``.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.full_like(np.zeros(2), 7.0)
    array([7., 7.])
    >>> sl.grad(lambda a: snp.sum(snp.full_like(np.zeros(3), a)))(2.0)
    array(3.)
    """
    return full(_shape(a), fill_value, dtype=_dtype(a, dtype))


empty_like = zeros_like
zeros = np.zeros
ones = np.ones
empty = np.zeros
eye = np.eye
identity = np.identity
