"""Non-differentiable helpers that accept traced values: ``allclose``, ``isclose``,
``searchsorted``, ``argpartition``, ``unique``, ``bincount``, ``nonzero``...

They answer from the value of their arguments, as autograd and JAX do: the answer
carries no derivative (indices, counts, booleans), and inside ``grad`` or ``jvp``
it is a plain NumPy result. ``bincount`` with traced ``weights`` is the exception
that stays differentiable in the weights (a sum into bins).
"""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from ..core.ops import queries as q
from ..core.trace import Tracer
from .creation import asarray
from ._static import known_value
from ._wrap import asarray_args
from .indexing import at

__all__ = [
    "allclose",
    "isclose",
    "array_equal",
    "array_equiv",
    "searchsorted",
    "argpartition",
    "unique",
    "bincount",
    "count_nonzero",
    "nonzero",
    "flatnonzero",
    "argwhere",
    "isneginf",
    "isposinf",
    "isreal",
    "iscomplex",
    "iscomplexobj",
    "isrealobj",
    "isscalar",
    "result_type",
    "fix",
]


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``numpy.isclose`` on plain or traced values: ``|a - b| <= atol + rtol * |b|``, elementwise.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isclose(np.array([1.0, 1.1]), 1.0)
    array([ True, False])
    """
    return q.isclose(asarray(a), asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``numpy.allclose`` on plain or traced values: whether every pair is close.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> bool(snp.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9]))
    True
    """
    return q.allclose(asarray(a), asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan)


def array_equal(a1, a2, equal_nan=False):
    """``numpy.array_equal`` on plain or traced values: same shape and same entries.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> bool(snp.array_equal([1.0, 2.0], [1.0, 2.0]))
    True
    """
    return q.array_equal(asarray(a1), asarray(a2), equal_nan=equal_nan)


def array_equiv(a1, a2):
    """``numpy.array_equiv`` on plain or traced values: equal after broadcasting.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> bool(snp.array_equiv([1.0, 1.0], 1.0))
    True
    """
    return q.array_equiv(asarray(a1), asarray(a2))


def searchsorted(a, v, side="left", sorter=None):
    """``numpy.searchsorted`` on plain or traced values: where ``v`` would go in sorted ``a``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.5]))
    array([0, 2])
    """
    return q.searchsorted(asarray(a), asarray(v), side=side, sorter=sorter)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.argpartition`` on plain or traced values: indices that partition ``a`` around ``kth``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.argpartition(np.array([3.0, 1.0, 2.0]), 0)[0])
    1
    """
    return q.argpartition(asarray(a), kth=kth, axis=axis, kind=kind, order=order)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True):
    """``numpy.unique`` on plain or traced values: the sorted distinct values (no derivative).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.unique(np.array([2.0, 1.0, 2.0]))
    array([1., 2.])
    """
    return q.unique(
        asarray(ar),
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=equal_nan,
    )


def bincount(x, weights=None, minlength=0):
    """``numpy.bincount``: how often each non-negative integer occurs, or the sum of its weights.

    The counts carry no derivative; with ``weights``, the result is differentiable
    in the weights (each bin's derivative is 1 for the weights that fall in it).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.bincount(np.array([0, 2, 2]))
    array([1, 0, 2])
    >>> sl.grad(lambda w: snp.bincount(np.array([0, 2, 2]), w)[2])(np.ones(3))
    array([0., 1., 1.])
    """
    x = asarray(x)
    if not isinstance(weights, Tracer):
        return q.bincount(x, weights=weights, minlength=minlength)
    index = known_value(x, "bincount", "the bin numbers (with traced weights)")
    n = max(int(index.max()) + 1 if index.size else 0, minlength)
    return at(np.zeros(n, dtype=weights.dtype))[index].add(weights)


def count_nonzero(a, axis=None, *, keepdims=False):
    """``numpy.count_nonzero`` on plain or traced values.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> int(snp.count_nonzero(np.array([0.0, 1.0, 2.0])))
    2
    """
    return q.count_nonzero(asarray(a), axis=axis, keepdims=keepdims)


def nonzero(a):
    """``numpy.nonzero`` on plain or traced values: the indices of the non-zero entries, per axis.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.nonzero(np.array([0.0, 3.0, 0.0, 4.0]))
    (array([1, 3]),)
    """
    rows = q.argwhere(asarray(a))  # one row per non-zero entry; its columns are the axes
    return tuple(rows[:, i] for i in range(rows.shape[1]))


def flatnonzero(a):
    """``numpy.flatnonzero`` on plain or traced values: the flat indices of the non-zero entries.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.flatnonzero(np.array([[0.0, 3.0], [4.0, 0.0]]))
    array([1, 2])
    """
    return q.flatnonzero(asarray(a))


def argwhere(a):
    """``numpy.argwhere`` on plain or traced values: the indices of the non-zero entries, one row each.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.argwhere(np.array([0.0, 3.0]))
    array([[1]])
    """
    return q.argwhere(asarray(a))


def isneginf(x):
    """``numpy.isneginf`` on plain or traced values.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isneginf(np.array([-np.inf, np.inf, 0.0]))
    array([ True, False, False])
    """
    x = asarray(x)
    return ew.logical_and(ew.isinf(x), ew.signbit(x))


def isposinf(x):
    """``numpy.isposinf`` on plain or traced values.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isposinf(np.array([-np.inf, np.inf, 0.0]))
    array([False,  True, False])
    """
    x = asarray(x)
    return ew.logical_and(ew.isinf(x), ew.logical_not(ew.signbit(x)))


def isreal(x):
    """``numpy.isreal`` on plain or traced values: entries with no imaginary part.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isreal(np.array([1.0, 2.0]))
    array([ True,  True])
    """
    return q.isreal(asarray(x))


def iscomplex(x):
    """``numpy.iscomplex`` on plain or traced values: entries with a non-zero imaginary part.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.iscomplex(np.array([1.0, 2.0]))
    array([False, False])
    """
    return q.iscomplex(asarray(x))


def _dtype(x):
    return x.dtype if isinstance(x, Tracer) else np.asarray(x).dtype


def iscomplexobj(x):
    """``numpy.iscomplexobj`` on plain or traced values: whether the dtype is complex.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.iscomplexobj(np.ones(2))
    False
    """
    return np.issubdtype(_dtype(x), np.complexfloating)


def isrealobj(x):
    """``numpy.isrealobj`` on plain or traced values: whether the dtype is not complex.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isrealobj(np.ones(2))
    True
    """
    return not iscomplexobj(x)


def isscalar(element):
    """``numpy.isscalar``: true for Python and NumPy scalars, false for arrays (traced ones too).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.isscalar(3.0), snp.isscalar(np.ones(2))
    (True, False)
    """
    return False if isinstance(element, Tracer) else np.isscalar(element)


def result_type(*arrays_and_dtypes):
    """``numpy.result_type`` on plain or traced values: the dtype NumPy's promotion gives.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.result_type(np.ones(2, np.float32), 1.0)
    dtype('float32')
    """
    return np.result_type(*(a.dtype if isinstance(a, Tracer) else a for a in arrays_and_dtypes))


def fix(x):
    """``numpy.fix``: round toward zero (derivative 0 almost everywhere, as ``trunc``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fix(np.array([-2.5, 2.5]))
    array([-2.,  2.])
    """
    return ew.trunc(asarray(x))


def _answer_from_value(name, prim, example):
    """``numpy.<name>`` on plain or traced values, answered by NumPy's own function (no derivative)."""

    def fn(*args, **options):
        return prim(*asarray_args(args), **options)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__  # doctest finds the example here
    fn.__doc__ = (
        f"``numpy.{name}`` on plain or traced values: NumPy's answer, with no derivative.\n\n"
        f"Takes NumPy's arguments and keywords; inside ``grad`` or ``jvp`` the answer is a "
        f"plain NumPy result.\n\n"
        f"Examples\n--------\n>>> import slopes.numpy as snp\n{example}\n"
    )
    return fn


_FROM_VALUE = {
    "digitize": (q.digitize, ">>> snp.digitize(np.array([0.5, 1.5]), np.array([0.0, 1.0, 2.0]))\narray([1, 2])"),
    "isin": (q.isin, ">>> snp.isin(np.array([1.0, 3.0]), [1.0, 2.0])\narray([ True, False])"),
    "lexsort": (q.lexsort, ">>> snp.lexsort((np.array([2.0, 1.0]), np.array([0.0, 0.0])))\narray([1, 0])"),
    "union1d": (q.union1d, ">>> snp.union1d(np.array([2.0, 1.0]), np.array([3.0]))\narray([1., 2., 3.])"),
    "intersect1d": (q.intersect1d, ">>> snp.intersect1d(np.array([2.0, 1.0]), np.array([2.0]))\narray([2.])"),
    "setdiff1d": (q.setdiff1d, ">>> snp.setdiff1d(np.array([2.0, 1.0]), np.array([2.0]))\narray([1.])"),
    "setxor1d": (q.setxor1d, ">>> snp.setxor1d(np.array([2.0, 1.0]), np.array([2.0, 3.0]))\narray([1., 3.])"),
    "histogram": (q.histogram, ">>> snp.histogram(np.array([0.1, 0.2, 0.9]), bins=2, range=(0, 1))[0]\narray([2, 1])"),
    "histogram_bin_edges": (q.histogram_bin_edges, ">>> snp.histogram_bin_edges(np.array([0.0, 1.0]), bins=2)\narray([0. , 0.5, 1. ])"),
    "histogram2d": (q.histogram2d, ">>> snp.histogram2d(np.array([0.1, 0.9]), np.array([0.1, 0.2]), bins=2)[0]\narray([[1., 0.],\n       [1., 0.]])"),
    "histogramdd": (q.histogramdd, ">>> snp.histogramdd(np.array([[0.1], [0.9]]), bins=2)[0]\narray([1., 1.])"),
    "packbits": (q.packbits, ">>> snp.packbits(np.array([1, 0, 1], dtype=np.uint8))\narray([160], dtype=uint8)"),
    "unpackbits": (q.unpackbits, ">>> snp.unpackbits(np.array([160], dtype=np.uint8))[:3]\narray([1, 0, 1], dtype=uint8)"),
    "unravel_index": (q.unravel_index, ">>> snp.unravel_index(np.array([5]), (2, 3))\n(array([1]), array([2]))"),
    "ravel_multi_index": (q.ravel_multi_index, ">>> int(snp.ravel_multi_index((1, 2), (2, 3)))\n5"),
    "bitwise_and": (q.bitwise_and, ">>> int(snp.bitwise_and(6, 3))\n2"),
    "bitwise_or": (q.bitwise_or, ">>> int(snp.bitwise_or(6, 3))\n7"),
    "bitwise_xor": (q.bitwise_xor, ">>> int(snp.bitwise_xor(6, 3))\n5"),
    "bitwise_count": (q.bitwise_count, ">>> int(snp.bitwise_count(7))\n3"),
    "invert": (q.invert, ">>> snp.invert(np.array([True, False]))\narray([False,  True])"),
    "left_shift": (q.left_shift, ">>> int(snp.left_shift(1, 3))\n8"),
    "right_shift": (q.right_shift, ">>> int(snp.right_shift(8, 3))\n1"),
    "gcd": (q.gcd, ">>> int(snp.gcd(12, 18))\n6"),
    "lcm": (q.lcm, ">>> int(snp.lcm(4, 6))\n12"),
    "nextafter": (q.nextafter, ">>> bool(snp.nextafter(1.0, 2.0) > 1.0)\nTrue"),
    "spacing": (q.spacing, ">>> bool(snp.spacing(1.0) == np.finfo(float).eps)\nTrue"),
}
for _name, (_prim, _example) in _FROM_VALUE.items():
    globals()[_name] = _answer_from_value(_name, _prim, _example)
bitwise_not = bitwise_invert = globals()["invert"]
bitwise_left_shift, bitwise_right_shift = globals()["left_shift"], globals()["right_shift"]
__all__ += list(_FROM_VALUE) + ["bitwise_not", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift"]
