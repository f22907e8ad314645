"""Reductions along a short last axis as compiled row loops (``kernels="numba"``).

NumPy reduces an ``(n, k)`` array along its last axis with one call of its inner loop per
row, so with few entries per row (a classifier's ``k = 10`` classes) it spends its time
per row, not per entry. With ``sl.jit(f, kernels="numba")`` (the ``slopes[fast]`` extra),
:func:`compile_narrow_rows` gives these reductions a Numba loop over the rows, for float32
and float64 arrays of two axes or more whose rows hold 2 to :data:`MAX_WIDTH` entries:

* ``sum`` over the last axis;
* the maximum, its guard and the shift ``x - max`` inside ``log_softmax`` and ``logsumexp``
  over the last axis, and their sum of exponentials. Their ``exp`` and ``log`` stay NumPy's
  vectorized calls (a compiled loop calls the C library's, one element at a time: slower).

Results: bit for bit those of the NumPy replay, up to the sign of a NaN (where a NaN of
the input meets one made by ``inf - inf``, compiled code may keep the other one) and of a
zero maximum. A maximum is exact (NaN propagates as in ``np.maximum``); of a row's zeros of
both signs, NumPy's vectorized loop over rows of more than 8 entries returns the sign its
lanes meet last, which this loop does not follow. That changes ``x - max`` inside
``log_softmax`` and ``logsumexp`` only in the sign of a zero, not their results (a row with
tied zeros sums to at least 2). Each row's sum is added in NumPy's own order for a
contiguous row (its pairwise summation: eight running sums, combined as ``((r0 + r1) + (r2
+ r3)) + ((r4 + r5) + (r6 + r7))``, then the rest one by one, all into a starting 0). An
array whose rows are not contiguous in memory when the program runs (a transposed view
passed in) takes NumPy's own reduction, whose order then depends on the layout.

Wider rows stay with NumPy: its inner loop then amortizes its cost, and the compiled
maximum, which must test each entry for NaN, does not vectorize. Measured by
``python benchmarks/narrow_rows.py`` (CPU time of a jitted call against the NumPy replay's,
float64, one run): at 10 entries, a (4096, 10) array's row sum took 0.25x the replay's 83 us
and its log-softmax 0.37x of 344 us, a (64, 10) batch's log-softmax 0.61x of 12.5 us and a
cross-entropy's value and gradient 0.78x of 21 us. With the limit raised (``--rows
64,4096,65536 --widths 16,32 --max-width 32``, taken when it was 64), the cross-entropy
took 0.57-0.79x at 16 entries and 0.85-1.05x at 32, where its gain was gone.
"""

from __future__ import annotations

import copy
import functools

import numpy as np

from .kernels import load
from .ops.logsumexp import _log_softmax_impl, _logsumexp_impl, _shifted
from .ops.reduce import _sum_impl
from .ops.rules import DOT_DTYPES
from .trace import Primitive

__all__ = ["MAX_WIDTH", "compile_narrow_rows", "row_sums", "shifted_rows"]

#: Rows of at most this many entries take the compiled loops.
MAX_WIDTH = 16

_SOURCE = """import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sum(e, i):
    # NumPy's pairwise_sum of a row (at most 128 entries: one block, no halving), in its order
    k = e.shape[1]
    if k < 8:
        t = np.{dt}(0)
        for j in range(k):
            t += e[i, j]
        return t
    r0, r1, r2, r3 = e[i, 0], e[i, 1], e[i, 2], e[i, 3]
    r4, r5, r6, r7 = e[i, 4], e[i, 5], e[i, 6], e[i, 7]
    j = 8
    while j < k - k % 8:
        r0 += e[i, j]
        r1 += e[i, j + 1]
        r2 += e[i, j + 2]
        r3 += e[i, j + 3]
        r4 += e[i, j + 4]
        r5 += e[i, j + 5]
        r6 += e[i, j + 6]
        r7 += e[i, j + 7]
        j += 8
    t = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while j < k:
        t += e[i, j]
        j += 1
    return np.{dt}(0) + t  # added into NumPy's starting 0, as its reduction does: -0.0 sums give +0.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sums(e, out):
    for i in range(e.shape[0]):
        out[i] = _sum(e, i)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def shift(x, m, d):
    # each row's maximum (NaN propagating, as np.maximum; of equal entries the last, as
    # NumPy's loop over up to 8), 0 where it is not finite, and x - it; whether every
    # maximum was finite
    finite = True
    for i in range(x.shape[0]):
        v = x[i, 0]
        for j in range(1, x.shape[1]):
            w = x[i, j]
            if w >= v or w != w:
                v = w
        if not np.isfinite(v):
            finite = False
            v = np.{dt}(0)
        m[i] = v
        for j in range(x.shape[1]):
            d[i, j] = x[i, j] - v
    return finite
"""


@functools.cache
def _kernels(dtype):
    """``(sums, shift)`` compiled for ``dtype`` (from the disk cache after the first time)."""
    return load(_SOURCE.format(dt=dtype.name) + "\n\nkernel = (sums, shift)\n")


def _narrow(x, axis):
    """Whether ``x`` is an array the loops take: float32 or float64, C-contiguous, of two axes or
    more, reduced over its last axis only, with rows of 2 to :data:`MAX_WIDTH` entries (a row
    of one is a copy to NumPy, faster than a loop; a vector's sum is NumPy's scalar) and at
    least one row."""
    return (type(x) is np.ndarray and x.dtype in DOT_DTYPES and x.ndim >= 2 and axis == (x.ndim - 1,)
            and 2 <= x.shape[-1] <= MAX_WIDTH and x.size and x.flags.c_contiguous)


def row_sums(x, axis, keepdims):
    """``np.add.reduce(x, axis, keepdims=keepdims)``, the same bits, by a compiled loop over the
    rows when ``x`` is narrow (see the module docstring); else that call itself.

    Examples
    --------
    >>> from slopes.core.kernels import numba_available
    >>> x = np.arange(12.0).reshape(4, 3)
    >>> not numba_available() or bool(np.array_equal(row_sums(x, (1,), True), x.sum(1, keepdims=True)))
    True
    """
    if not _narrow(x, axis):
        return _sum_impl(x, axis, keepdims)
    k = x.shape[-1]
    out = np.empty(x.shape[:-1] + ((1,) if keepdims else ()), x.dtype)
    _kernels(x.dtype)[0](x.reshape(-1, k), out.reshape(-1))
    return out


def shifted_rows(x, axis):
    """:func:`~slopes.core.ops.logsumexp._shifted` (each row's maximum, ``x`` minus it, the
    sum of its exponentials, whether every maximum was finite), with the maximum, shift and
    sum as compiled loops over narrow rows; the same bits.

    Examples
    --------
    >>> from slopes.core.kernels import numba_available
    >>> from slopes.core.ops.logsumexp import _shifted
    >>> x = np.array([[1.0, 3.0, 2.0], [0.0, -np.inf, 5.0]])
    >>> not numba_available() or all(np.array_equal(a, b) for a, b in zip(shifted_rows(x, (1,)), _shifted(x, (1,))))
    True
    """
    if not _narrow(x, axis):
        return _shifted(x, axis)
    k = x.shape[-1]
    sums, shift = _kernels(x.dtype)
    m = np.empty(x.shape[:-1] + (1,), x.dtype)
    d = np.empty_like(x)
    finite = shift(x.reshape(-1, k), m.reshape(-1), d.reshape(-1, k))
    e = np.exp(d)
    s = np.empty_like(m)
    sums(e.reshape(-1, k), s.reshape(-1))
    return m, d, s, finite


def _rewritten(e):
    """The equation ``e`` calling the compiled rows, or None if it has none."""
    name = e.prim.name
    if name == "sum":
        impl = functools.partial(row_sums, **e.params)
    elif name in ("log_softmax", "logsumexp"):
        base = _log_softmax_impl if name == "log_softmax" else _logsumexp_impl
        impl = functools.partial(base, shifted=shifted_rows, **e.params)
    else:
        return None
    return e._replace(prim=Primitive(f"{name}_rows", impl), params={})


def compile_narrow_rows(program):
    """``program`` with each ``sum``, ``log_softmax`` and ``logsumexp`` over the last axis of a
    float32 or float64 array with rows of 2 to :data:`MAX_WIDTH` entries calling the
    compiled row loops (which check the layout at each call); ``program`` itself when there
    is none.

    Examples
    --------
    >>> import slopes as sl, slopes.ml as ml
    >>> from slopes.core.kernels import numba_available
    >>> prog = sl.jit(lambda z: ml.log_softmax(z)).trace(np.zeros((64, 10)))
    >>> not numba_available() or [e.prim.name for e in compile_narrow_rows(prog).equations]
    ['log_softmax_rows']
    """
    new, changed = [], False
    for e in program.equations:
        shape, dtype = program._aval_of(e.ins[0]) if e.ins else ((), None)
        params = e.params
        if (dtype in DOT_DTYPES and len(shape) >= 2 and params.get("axis") == (len(shape) - 1,)
                and 2 <= shape[-1] <= MAX_WIDTH and (r := _rewritten(e)) is not None):
            e, changed = r, True
        new.append(e)
    if not changed:
        return program
    out = copy.copy(program)
    out.equations = new
    return out
