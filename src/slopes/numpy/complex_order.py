"""``sort_complex``: complex numbers in NumPy's order, real part first, then imaginary part."""

from __future__ import annotations

import numpy as np

from ..core.ops import elementwise as ew
from .complex_parts import imag, real
from .creation import asarray
from .manipulation import argsort, take_along_axis

__all__ = ["sort_complex"]


def sort_complex(a):
    """Differentiable ``numpy.sort_complex``: sorted along the last axis by real, then imaginary part.

    The result is complex, of NumPy's dtype: a complex input keeps its own,
    8- and 16-bit integers give ``complex64``, ``longdouble`` gives ``clongdouble``,
    and everything else ``complex128`` (``float32`` included). As :func:`sort`, each output entry's
    derivative is that of the input entry that landed there.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.sort_complex(np.array([2.0 + 1j, 1.0 + 3j, 2.0 - 1j]))
    array([1.+3.j, 2.-1.j, 2.+1.j])
    """
    a = asarray(a)
    # two stable sorts, the secondary key first: the order of a lexicographic sort
    a = take_along_axis(a, argsort(imag(a), stable=True), axis=-1)
    a = take_along_axis(a, argsort(real(a), stable=True), axis=-1)
    if np.issubdtype(a.dtype, np.complexfloating):
        return a
    # a complex zero added rather than astype: this derivative keeps the real part of a complex cotangent
    return ew.add(a, np.zeros((), dtype=_complex_result(a.dtype)))


def _complex_result(dtype):
    if dtype.char in "bhBH":
        return np.dtype(np.complex64)
    return np.dtype(np.clongdouble if dtype.char == "g" else np.complex128)
