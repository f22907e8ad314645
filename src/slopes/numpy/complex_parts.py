"""Parts of complex numbers: real, imag, conj, angle (``abs`` is in :mod:`.ufuncs`).

Derivatives follow JAX's convention for complex values (see ``sl.grad``): for a
real-valued ``f(z)`` the gradient is ``df/dx - i df/dy``. Each of these maps is
real-linear or real-smooth, so it composes with every transform.
"""

from __future__ import annotations

import numpy as np

from ..core.dtypes import complex_valued
from ..core.ops import elementwise as ew
from ._wrap import asarray_args

__all__ = ["real", "imag", "conj", "conjugate", "angle"]


def squared_magnitude(x):
    """``|x|**2`` elementwise: ``x * x`` for real ``x``, ``real(x * conj(x))`` for complex.

    The building block of variances and norms that NumPy defines for complex
    values through ``|x|``; smooth everywhere, unlike ``abs(x) ** 2`` at 0.

    Examples
    --------
    >>> from slopes.numpy.complex_parts import squared_magnitude
    >>> float(squared_magnitude(3.0 + 4.0j)), float(squared_magnitude(-2.0))
    (25.0, 4.0)
    """
    if complex_valued(x):
        return ew.real(ew.mul(x, ew.conj(x)))
    return ew.mul(x, x)


def real(x):
    """Differentiable ``numpy.real``: the real part (``x`` itself for real ``x``).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.real(3.0 + 4.0j))
    3.0
    >>> complex(sl.grad(lambda z: snp.real(z * z))(1.0 + 2.0j))   # f = x**2 - y**2: 2x + 2iy
    (2+4j)
    """
    return ew.real(*asarray_args((x,)))


def imag(x):
    """Differentiable ``numpy.imag``: the imaginary part (0 for real ``x``).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.imag(3.0 + 4.0j))
    4.0
    >>> complex(sl.grad(snp.imag)(3.0 + 4.0j))   # df/dx - i df/dy with f = y
    -1j
    """
    return ew.imag(*asarray_args((x,)))


def conj(x):
    """Differentiable ``numpy.conj``: the complex conjugate (``x`` itself for real ``x``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> complex(snp.conj(3.0 + 4.0j))
    (3-4j)
    """
    return ew.conj(*asarray_args((x,)))


conjugate = conj


def angle(z, deg=False):
    """Differentiable ``numpy.angle``: the argument of ``z``, ``arctan2(imag z, real z)``.

    At ``z = 0`` the gradient is taken to be 0 (``arctan2``'s convention; JAX
    gives NaN there). ``deg=True`` returns degrees.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.angle(1.0j))
    1.5707963267948966
    >>> complex(sl.grad(snp.angle)(1.0j))    # d angle = (x dy - y dx) / |z|**2
    (-1+0j)
    """
    (z,) = asarray_args((z,))
    a = ew.arctan2(ew.imag(z), ew.real(z))
    return ew.mul(a, 180.0 / np.pi) if deg else a
