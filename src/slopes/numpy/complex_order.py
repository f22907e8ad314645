"""``sort_complex``: complex numbers in NumPy's order, real part first, then imaginary part."""

from __future__ import annotations

import numpy as np

from .complex_parts import imag, real
from .elementwise_extra import astype
from .manipulation import argsort, take_along_axis
from .creation import asarray

__all__ = ["sort_complex"]


def sort_complex(a):
    """Differentiable ``numpy.sort_complex``: sorted along the last axis by real, then imaginary part.

    The result is complex (``complex64`` for ``float32`` and small integers,
    ``complex128`` otherwise, as NumPy). As :func:`sort`, each output entry's
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
    return astype(a, np.result_type(a.dtype, np.complex64))
