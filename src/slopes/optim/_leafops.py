"""Leaf arithmetic the optimizers share: in place on plain arrays, functional on traced values.

An update is written once with these few operations. Run eagerly on NumPy arrays, each
writes into a fresh array the update made itself (no temporaries beyond those); run under
:func:`slopes.jit` (the whole training step traced as one program), the same lines record
ordinary operations, since a traced value cannot be written to. Either way a result keeps
its leaf's dtype, so a float32 state stays float32 and a traced step's signature does not
change from one step to the next.

Examples
--------
>>> from slopes.optim._leafops import fresh, into
>>> m = fresh(np.ones(2, dtype=np.float32) * 3)
>>> into(np.multiply, m, np.float64(0.5)) is m, m.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

import numpy as np

from ..core.trace import Tracer

__all__ = ["array", "fresh", "into", "like", "sum_squares"]


def array(x):
    """``x`` as an array: ``np.asarray`` of a plain value, a traced value as it is.

    Examples
    --------
    >>> from slopes.optim._leafops import array
    >>> array(2.0)
    array(2.)
    """
    return x if isinstance(x, Tracer) else np.asarray(x)


def fresh(x):
    """A new result the caller may write into: NumPy's 0-d results are scalars, made arrays.

    Examples
    --------
    >>> from slopes.optim._leafops import fresh
    >>> type(fresh(np.float64(1.0)))
    <class 'numpy.ndarray'>
    """
    return np.asarray(x) if isinstance(x, np.generic) else x


def into(ufunc, a, b, out=None):
    """``ufunc(a, b)`` in the dtype of ``out`` (default ``a``), written into ``out`` when it can be.

    ``out`` must be an array the caller made (never one a user holds): a plain array is
    overwritten and returned; when a traced value is involved a new value is returned.

    Examples
    --------
    >>> from slopes.optim._leafops import into
    >>> u = np.array([1.0, 4.0])
    >>> into(np.divide, np.array([2.0, 2.0]), u, out=u), u
    (array([2. , 0.5]), array([2. , 0.5]))
    """
    out = a if out is None else out
    if type(out) is np.ndarray and not isinstance(a, Tracer) and not isinstance(b, Tracer):
        return ufunc(a, b, out=out)
    return like(ufunc(a, b), out)


def like(x, ref):
    """``x`` in ``ref``'s dtype (a float64 learning rate must not promote a float32 leaf).

    Examples
    --------
    >>> from slopes.optim._leafops import like
    >>> like(np.ones(1), np.zeros(1, dtype=np.float32)).dtype
    dtype('float32')
    """
    dtype = getattr(ref, "dtype", None)
    if dtype is None or x.dtype == dtype:
        return x
    return x.astype(dtype)


def sum_squares(x):
    """``sum(x**2)`` in float64 (float16 / float32 squares would lose range and digits).

    One dot product (BLAS, no temporary), the same operation eagerly and in a traced program.

    Examples
    --------
    >>> from slopes.optim._leafops import sum_squares
    >>> float(sum_squares(np.array([[3.0], [4.0]], dtype=np.float32)))
    25.0
    """
    x = array(x).astype(np.float64, copy=False).ravel()
    return x @ x
