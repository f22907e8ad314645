"""Leaf arithmetic the optimizers share: in place on plain arrays, functional on traced values.

An update is written once with NumPy's ufuncs and ``out=``: eagerly, ``out`` is a fresh
array the update made itself, which each step writes into (no temporaries beyond those);
under :func:`slopes.jit` (the whole training step traced as one program) ``out`` is None,
so the same lines record ordinary operations (NumPy drops ``out=None``), since a traced
value cannot be written to. :func:`like` keeps a result in its leaf's dtype, so a float32
state stays float32 and a traced step's signature does not change from one step to the next.

Examples
--------
>>> from slopes.optim._leafops import fresh, plain
>>> m = fresh(np.ones(2, dtype=np.float32) * 3)
>>> out = m if plain(m) else None
>>> np.multiply(m, np.float64(0.5), out=out) is m, m.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

import math

import numpy as np

from ..core.trace import Tracer

__all__ = ["array", "fresh", "like", "number", "plain", "select", "sqrt", "start", "sum_squares"]


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


def plain(*xs) -> bool:
    """Whether none of ``xs`` is a traced value (then an update may write into arrays it made).

    Examples
    --------
    >>> from slopes.optim._leafops import plain
    >>> plain(np.ones(2), 0.5)
    True
    """
    for x in xs:  # a loop, not any(...): this runs once per leaf and update
        if isinstance(x, Tracer):
            return False
    return True


def number(x):
    """A NumPy scalar or 0-d array as a Python number (whose arithmetic costs a tenth of
    NumPy's); anything else, a traced value included, as it is.

    Examples
    --------
    >>> from slopes.optim._leafops import number
    >>> type(number(np.int64(3))), type(number(np.array(0.5)))
    (<class 'int'>, <class 'float'>)
    """
    if isinstance(x, np.generic) or (type(x) is np.ndarray and x.ndim == 0):
        return x.item()
    return x


def sqrt(x):
    """The square root of a number (``math.sqrt``: a Python float, correctly rounded like
    ``np.sqrt``, at a tenth of its cost on a scalar) or of a traced value.

    Examples
    --------
    >>> from slopes.optim._leafops import sqrt
    >>> sqrt(2.25)
    1.5
    """
    return np.sqrt(x) if isinstance(x, Tracer) else math.sqrt(x)


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


def start():
    """The step count of a new state: a NumPy integer, which :func:`slopes.jit` traces (a
    Python int would be a static value, a new program at every step).

    Examples
    --------
    >>> from slopes.optim._leafops import start
    >>> start() + 1
    np.int64(1)
    """
    return np.int64(0)


def select(cond, a, b):
    """``np.where(cond, a, b)`` for a traced ``cond`` (the step records the selection), else
    the plain ``a if cond else b`` (a NumPy call on scalars costs about a microsecond).

    Examples
    --------
    >>> from slopes.optim._leafops import select
    >>> select(2.0 < 3.0, "a", "b")
    'a'
    """
    return np.where(cond, a, b) if isinstance(cond, Tracer) else (a if cond else b)

