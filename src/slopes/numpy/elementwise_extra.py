"""More elementwise functions: angle units, ``logaddexp2``, ``sinc``, ``fmax``/``fmin``,
``nan_to_num``, ``copysign``, ``fmod``, ``float_power``, ``heaviside``, ``divmod``, ``modf``,
``ldexp``, ``frexp``, ``i0``, ``real_if_close``.

All but ``sinc`` and ``fmod`` are exact compositions of existing primitives, so every
derivative order, ``vmap``, ``jit`` and Taylor mode come with them.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.dtypes import complex_valued, refuse_complex
from ..core.ops import elementwise as ew
from ..core.ops import elementwise_extra as ewx
from ..core.ops import queries as q
from ..core.ops import special as sp
from ..core.ops.elementwise_extra import sinc_derivative
from ..core.trace import Tracer
from ._masks import never
from ._static import known_value
from .complex_parts import real
from ._wrap import asarray_args

__all__ = [
    "deg2rad",
    "radians",
    "rad2deg",
    "degrees",
    "logaddexp2",
    "sinc",
    "fmax",
    "fmin",
    "nan_to_num",
    "astype",
    "copysign",
    "fmod",
    "float_power",
    "heaviside",
    "divmod",
    "modf",
    "ldexp",
    "frexp",
    "i0",
    "real_if_close",
]


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def deg2rad(x):
    """Differentiable ``numpy.deg2rad``: degrees to radians, ``x * pi / 180``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.deg2rad(180.0))
    3.141592653589793
    """
    (x,) = asarray_args((x,))
    refuse_complex("deg2rad", (x,), "convert the real and imaginary parts (snp.real, snp.imag) separately")
    return ew.mul(x, math.pi / 180.0)


def rad2deg(x):
    """Differentiable ``numpy.rad2deg``: radians to degrees, ``x * 180 / pi``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> float(snp.rad2deg(snp.pi))
    180.0
    """
    (x,) = asarray_args((x,))
    refuse_complex("rad2deg", (x,), "for the argument of a complex number use snp.angle(z, deg=True)")
    return ew.mul(x, 180.0 / math.pi)


radians = deg2rad
degrees = rad2deg


def logaddexp2(x, y):
    """Differentiable ``numpy.logaddexp2``: ``log2(2**x + 2**y)`` without overflow.

    Computed as ``logaddexp(x ln 2, y ln 2) / ln 2``, which keeps ``logaddexp``'s
    stability; the partial derivatives are ``2**x / (2**x + 2**y)`` and its mirror.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.logaddexp2(1.0, 1.0))
    2.0
    >>> float(sl.grad(snp.logaddexp2)(1.0, 1.0))
    0.5
    """
    x, y = asarray_args((x, y))
    return ew.div(ew.logaddexp(ew.mul(x, math.log(2.0)), ew.mul(y, math.log(2.0))), math.log(2.0))


def sinc(x):
    """Differentiable ``numpy.sinc``: ``sin(pi x) / (pi x)``, and 1 at 0.

    Smooth everywhere: derivatives of every order at ``x = 0`` are the limits
    (``sinc'(0) = 0``, ``sinc''(0) = -pi**2 / 3``), as JAX gives them.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.sinc(0.0)), float(sl.grad(snp.sinc)(0.0))
    (1.0, 0.0)
    >>> round(float(sl.grad(sl.grad(snp.sinc))(0.0)), 6)
    -3.289868
    """
    (x,) = asarray_args((x,))
    return sinc_derivative(x, order=0)


def _fpick(pick, x, y):
    # NaN-ignoring choice: the other argument where one is NaN, else ``pick``. The
    # derivative follows the argument chosen (ties split as ``maximum``/``minimum`` do).
    x, y = asarray_args((x, y))
    return ew.where(ew.isnan(y), x, ew.where(ew.isnan(x), y, pick(x, y)))


def fmax(x, y):
    """Differentiable ``numpy.fmax``: the elementwise maximum, ignoring NaN.

    Where one argument is NaN the other is returned, and the derivative is that
    argument's; where both tie, each receives half of it (as ``maximum``).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.fmax(np.array([1.0, np.nan]), np.array([2.0, 3.0]))
    array([2., 3.])
    >>> sl.grad(lambda y: snp.fmax(np.nan, y))(3.0)
    array(1.)
    """
    return _fpick(ew.maximum, x, y)


def fmin(x, y):
    """Differentiable ``numpy.fmin``: the elementwise minimum, ignoring NaN.

    Where one argument is NaN the other is returned, and the derivative is that
    argument's; where both tie, each receives half of it (as ``minimum``).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fmin(np.array([1.0, np.nan]), np.array([2.0, 3.0]))
    array([1., 3.])
    """
    return _fpick(ew.minimum, x, y)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Differentiable ``numpy.nan_to_num``: NaN and infinities replaced by finite numbers.

    The derivative is 1 where ``x`` is finite and 0 where an entry was replaced
    (autograd's and JAX's convention); a traced replacement value receives the
    derivative where it was used. ``posinf``/``neginf`` default to the largest
    finite numbers of ``x``'s dtype.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.nan_to_num(np.array([np.nan, 1.0, -np.inf]), neginf=-9.0)
    array([ 0.,  1., -9.])
    >>> sl.grad(lambda x: snp.nan_to_num(x).sum())(np.array([np.nan, 2.0]))
    array([0., 1.])
    """
    (x,) = asarray_args((x,))
    dtype = _dtype(x)
    if not np.issubdtype(dtype, np.inexact):  # integers and booleans hold no NaN: NumPy returns them
        return x
    big = np.finfo(dtype).max
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    if never(ew.logical_not(ew.isfinite(x))) is None and isinstance(x, Tracer):
        return x  # nothing to replace: no recorded where (a plain array is copied below, as NumPy)
    out = ew.where(ew.isnan(x), nan, x)
    out = ew.where(ew.logical_and(ew.isinf(x), ew.greater(x, 0)), posinf, out)
    return ew.where(ew.logical_and(ew.isinf(x), ew.less(x, 0)), neginf, out)


def astype(x, dtype, /, *, copy=True):
    """Differentiable ``numpy.astype``: ``x`` converted to ``dtype``.

    Between floating types the derivative passes through (converted back to
    ``x``'s dtype); to an integer or boolean type the result carries none.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.astype(np.array([1.5, 2.5]), np.float32)
    array([1.5, 2.5], dtype=float32)
    >>> float(sl.grad(lambda x: snp.astype(x, np.float32) * 2)(1.0))
    2.0
    """
    (x,) = asarray_args((x,))
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.inexact):  # integer values: constant almost everywhere
        return ew.astype(ew.stop_gradient(x), dtype=dtype)
    return ew.astype(x, dtype=dtype)


def copysign(x, y):
    """Differentiable ``numpy.copysign``: the magnitude of ``x`` with the sign of ``y``.

    The derivative in ``x`` is ``+-1`` (0 at ``x = 0``, as ``abs``); ``y`` only
    chooses a sign, so its derivative is 0 (JAX's convention).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.copysign(np.array([1.0, -2.0]), -1.0)
    array([-1., -2.])
    >>> float(sl.grad(lambda x: snp.copysign(x, -1.0))(3.0))
    -1.0
    """
    x, y = asarray_args((x, y))
    magnitude = ew.absolute(x)
    return ew.where(ew.signbit(y), ew.neg(magnitude), magnitude)


def fmod(x, y):
    """Differentiable ``numpy.fmod``: the remainder of ``x / y`` with the sign of ``x`` (C's fmod).

    The value is NumPy's, exactly; the partial derivatives are 1 and
    ``-trunc(x / y)`` (constant between the jumps).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.fmod(-7.0, 3.0))
    -1.0
    >>> float(sl.grad(snp.fmod, argnums=1)(7.0, 3.0))
    -2.0
    """
    return ewx.fmod(*asarray_args((x, y)))


def float_power(x, y):
    """Differentiable ``numpy.float_power``: ``x ** y`` computed in float64.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.float_power(np.float32(2.0), 3)
    np.float64(8.0)
    """
    x, y = asarray_args((x, y))
    # NumPy computes in float64, or complex128 when an input is complex
    wide = np.dtype(np.complex128 if complex_valued(x) or complex_valued(y) else np.float64)
    return ew.power(ew.astype(x, dtype=wide), ew.astype(y, dtype=wide))


def heaviside(x1, x2):
    """Differentiable ``numpy.heaviside``: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0``.

    The derivative in ``x1`` is 0 (the step's, almost everywhere); ``x2`` receives
    the derivative where ``x1 == 0``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
    array([0. , 0.5, 1. ])
    """
    x1, x2 = asarray_args((x1, x2))
    refuse_complex("heaviside", (x1, x2), "apply it to snp.real(z)")
    step = ew.where(ew.less(x1, 0), 0.0, ew.where(ew.greater(x1, 0), 1.0, x2))
    return ew.where(ew.isnan(x1), np.nan, step)


def divmod(x, y):  # noqa: A001 - NumPy's name
    """``numpy.divmod``: ``(floor_divide(x, y), mod(x, y))``; the quotient carries no derivative.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.divmod(np.array([7.0, -7.0]), 3.0)
    (array([ 2., -3.]), array([1., 2.]))
    """
    from .ufuncs import mod

    x, y = asarray_args((x, y))
    return ew.floor_divide(x, y), mod(x, y)


def modf(x):
    """``numpy.modf``: the fractional and integral parts, with the sign of ``x``.

    The fractional part has derivative 1, the integral part 0.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.modf(np.array([2.5, -1.25]))
    (array([ 0.5 , -0.25]), array([ 2., -1.]))
    """
    (x,) = asarray_args((x,))
    whole = ew.trunc(x)
    return ew.sub(x, whole), whole


def ldexp(x1, x2):
    """Differentiable ``numpy.ldexp``: ``x1 * 2**x2`` for integer ``x2`` (exact, a change of exponent).

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.ldexp(3.0, 2))
    12.0
    >>> float(sl.grad(lambda x: snp.ldexp(x, 3))(1.0))
    8.0
    """
    x1, x2 = asarray_args((x1, x2))
    refuse_complex("ldexp", (x1, x2), "multiply by 2.0 ** x2 instead")
    return ew.mul(x1, ew.exp2(ew.astype(x2, dtype=np.dtype(np.float64))))


def frexp(x):
    """``numpy.frexp``: mantissa and exponent, ``x = m * 2**e`` with ``0.5 <= |m| < 1``.

    The mantissa is differentiable (``dm/dx = 2**-e``); the exponent, an integer, is not.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.frexp(np.array([8.0, 0.75]))
    (array([0.5 , 0.75]), array([4, 0], dtype=int32))
    """
    (x,) = asarray_args((x,))
    exponent = q.frexp_exponent(x)
    dtype = x.dtype if hasattr(x, "dtype") else np.dtype(np.float64)
    return ew.mul(x, ew.exp2(ew.neg(ew.astype(exponent, dtype=dtype)))), exponent


def i0(x):
    """Differentiable ``numpy.i0``: the modified Bessel function of the first kind, order 0.

    The same primitive as ``slopes.scipy.special.i0``; its derivative is ``I_1``
    (0 at ``x = 0``), and every higher order follows.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> float(snp.i0(0.0)), float(sl.grad(snp.i0)(0.0))
    (1.0, 0.0)
    """
    (x,) = asarray_args((x,))
    if np.issubdtype(_dtype(x), np.complexfloating):
        raise TypeError("i0(): complex arguments are not supported (as numpy.i0); pass the real array")
    return sp.i0(x)


def real_if_close(a, tol=100):
    """Differentiable ``numpy.real_if_close``: the real part when every imaginary part is negligible.

    Negligible means below ``tol`` machine epsilons of ``a``'s dtype (``tol > 1``),
    or below ``tol`` itself (``tol <= 1``), as NumPy. A real ``a`` comes back
    unchanged. The derivative passes through to the real part (autograd's rule);
    which result comes back is read from the values, so a complex ``a`` must be
    known when traced by ``sl.jit``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.real_if_close(np.array([2.0 + 1e-15j, 1.0]))
    array([2., 1.])
    >>> snp.real_if_close(np.array([2.0 + 0.1j]))
    array([2.+0.1j])
    """
    (a,) = asarray_args((a,))
    dtype = _dtype(a)
    if not np.issubdtype(dtype, np.complexfloating):
        return a
    if tol > 1:
        tol = np.finfo(dtype).eps * tol
    imag_part = np.imag(known_value(a, "real_if_close", "the imaginary parts (they decide the result's dtype)"))
    return real(a) if np.all(np.abs(imag_part) < tol) else a
