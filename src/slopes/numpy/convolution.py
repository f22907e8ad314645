"""Convolution in every mode, from the one primitive ``convolve_full``: ``snp.convolve``.

``convolve_mode`` serves ``snp.convolve`` (NumPy's 1-D semantics) and
``slopes.scipy.signal.convolve/correlate`` (SciPy's N-D semantics): the
``valid`` and ``same`` results are slices of the full convolution, centred as
NumPy and SciPy centre them.
"""

from __future__ import annotations

import numpy as np

from ..core.ops.convolve import convolve_full
from ..core.ops.shape import getitem
from ..core.trace import Tracer, shape_of
from ._wrap import asarray_args

__all__ = ["convolve"]

_MODES = ("full", "valid", "same")
_METHODS = ("auto", "direct", "fft")


def _operand(x):
    (x,) = asarray_args((x,))
    if isinstance(x, Tracer):
        return x
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)


def convolve_mode(in1, in2, mode, method, name):
    """SciPy's ``convolve(in1, in2, mode, method)`` for arrays of equal rank, as slopes ops."""
    if mode not in _MODES:
        raise ValueError(f"{name}(): mode must be 'full', 'valid' or 'same'; got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"{name}(): method must be 'auto', 'direct' or 'fft'; got {method!r}")
    in1, in2 = _operand(in1), _operand(in2)
    s1, s2 = tuple(shape_of(in1)), tuple(shape_of(in2))
    if len(s1) != len(s2):
        raise ValueError(
            f"{name}(): in1 and in2 need the same number of dimensions; got shapes {s1} and {s2} "
            "(add axes of length 1 with reshape)"
        )
    if 0 in s1 or 0 in s2:
        raise ValueError(f"{name}(): in1 and in2 must not be empty; got shapes {s1} and {s2}")
    if mode == "valid" and not (
        all(n >= m for n, m in zip(s1, s2)) or all(m >= n for n, m in zip(s1, s2))
    ):
        raise ValueError(
            f"{name}(): in 'valid' mode one input must be at least as large as the other in every "
            f"dimension; got shapes {s1} and {s2}"
        )
    full = convolve_full(in1, in2, method=method)
    if mode == "full":
        return full
    if mode == "valid":
        index = tuple(slice(min(n, m) - 1, max(n, m)) for n, m in zip(s1, s2))
    else:  # same: the length of in1, centred in the full result
        index = tuple(slice((m - 1) // 2, (m - 1) // 2 + n) for n, m in zip(s1, s2))
    return getitem(full, index=index)


def convolve(a, v, mode="full"):
    """Differentiable ``numpy.convolve``: the discrete linear convolution of two 1-D arrays.

    As NumPy, the longer array is taken first, so ``same`` returns
    ``max(len(a), len(v))`` values. Differentiable in both arrays (the
    derivatives are correlations).

    Parameters
    ----------
    a, v : array_like, 1-D, not empty
    mode : {'full', 'valid', 'same'}

    Returns
    -------
    ndarray, 1-D, or a traced array inside a transform.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> diff = lambda a: snp.convolve(a, np.array([1.0, -1.0]), "valid")  # a[i+1] - a[i]
    >>> sl.grad(lambda a: snp.sum(diff(a) ** 2))(np.array([0.0, 1.0, 3.0]))
    array([-2., -2.,  4.])
    """
    a, v = _operand(a), _operand(v)
    for x in (a, v):
        if len(shape_of(x)) != 1:
            raise ValueError(f"convolve(): a and v must be 1-D; got shapes {shape_of(a)} and {shape_of(v)}")
    if shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    return convolve_mode(a, v, mode, "auto", "convolve")
