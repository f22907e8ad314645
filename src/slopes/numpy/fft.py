"""``snp.fft``: NumPy's discrete Fourier transforms, differentiable.

Same names and arguments as :mod:`numpy.fft` (``n``/``s``, ``axis``/``axes``,
``norm``), same values. Derivatives follow JAX's convention for complex values
(see ``sl.grad``): ``sl.grad`` of a real-valued function of a spectrum, such as
a power spectrum ``snp.sum(snp.abs(snp.fft.rfft(x)) ** 2)``, is the gradient
with respect to the real signal. ``fftshift``/``ifftshift`` are differentiable
reorderings; ``fftfreq``/``rfftfreq`` are NumPy's own (they depend on sizes only).
"""

from __future__ import annotations

import numpy as np

from ..core.dtypes import complex_valued
from ..core.ops import elementwise as ew
from ..core.ops import fft as ops
from ..core.trace import Tracer, shape_of
from .manipulation import roll

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
    "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn",
    "fftshift", "ifftshift", "fftfreq", "rfftfreq",
]  # fmt: skip

fftfreq = np.fft.fftfreq
rfftfreq = np.fft.rfftfreq

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _array(a):
    return a if isinstance(a, (Tracer, np.ndarray)) else np.asarray(a)


def _norm(norm, name):
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise ValueError(f"{name}(): norm={norm!r} is not one of None, 'backward', 'ortho', 'forward'")
    return norm


def _plan(a, s, axes, name):
    """Negative axes and their lengths after padding/truncation, as NumPy reads ``s`` and ``axes``."""
    ndim = len(shape_of(a))
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = tuple(int(ax) for ax in np.atleast_1d(axes))
    if not axes or ndim == 0:
        raise ValueError(f"{name}(): needs an array with at least one axis to transform")
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{name}(): axis {ax} is out of range for an array of {ndim} dimension(s)")
    axes = tuple(ax % ndim - ndim for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}(): axes {axes} repeat an axis; transform it once")
    shape = shape_of(a)
    sizes = tuple(shape[ax] for ax in axes) if s is None else tuple(int(n) for n in s)
    if len(sizes) != len(axes):
        raise ValueError(f"{name}(): s={tuple(s)} and axes={axes} must have the same length")
    for n in sizes:
        if n < 1:
            raise ValueError(f"{name}(): {n} is not a valid number of points; pass n (or s) >= 1")
    return sizes, axes


def _resized(a, sizes, axes):
    if all(shape_of(a)[ax] == n for n, ax in zip(sizes, axes)):
        return a
    return ops.resize(a, sizes=sizes, axes=axes)


def _complex_transform(a, s, axes, norm, inverse, name):
    a = _array(a)
    sizes, axes = _plan(a, s, axes, name)
    return ops.fftn(_resized(a, sizes, axes), axes=axes, norm=_norm(norm, name), inverse=inverse)


def _real_to_complex(a, s, axes, norm, name):
    a = _array(a)
    if complex_valued(a):
        raise TypeError(f"{name}() transforms a real signal, got a complex one; use fft/fftn for complex input")
    sizes, axes = _plan(a, s, axes, name)
    return ops.rfftn(_resized(a, sizes, axes), axes=axes, norm=_norm(norm, name))


def _complex_to_real(a, s, axes, norm, name):
    a = _array(a)
    given, axes = _plan(a, s, axes, name)
    n = 2 * (shape_of(a)[axes[-1]] - 1) if s is None else given[-1]
    if n < 1:
        raise ValueError(f"{name}(): {n} is not a valid number of output points; pass n (or s) >= 1")
    sizes = given[:-1] + (n // 2 + 1,)
    return ops.irfftn(_resized(a, sizes, axes), axes=axes, norm=_norm(norm, name), n=n)


def _one_axis(n):
    return None if n is None else (n,)


def fft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.fft``: the discrete Fourier transform along one axis.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> snp.fft.fft(np.array([1.0, 0.0, 0.0, 0.0]))
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    >>> sl.grad(lambda x: snp.sum(snp.abs(snp.fft.fft(x)) ** 2))(np.array([1.0, 2.0]))  # Parseval: 2 n x
    array([4., 8.])
    """
    return _complex_transform(a, _one_axis(n), (axis,), norm, False, "fft")


def ifft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.ifft``: the inverse discrete Fourier transform along one axis.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.ifft(np.array([4.0, 0.0, 0.0, 0.0]))
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _complex_transform(a, _one_axis(n), (axis,), norm, True, "ifft")


def rfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.rfft``: the ``n//2 + 1`` non-negative frequencies of a real signal.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.rfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([4.+0.j, 0.+0.j, 0.+0.j])
    """
    return _real_to_complex(a, _one_axis(n), (axis,), norm, "rfft")


def irfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.irfft``: the real signal of ``n`` points (default
    ``2 * (m - 1)``) with half-spectrum ``a``.

    As in NumPy, the imaginary parts of the zero frequency (and of the Nyquist
    frequency, for even ``n``) are ignored, so their derivatives are 0.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> snp.fft.irfft(snp.fft.rfft(x))
    array([1., 2., 3., 4.])
    """
    return _complex_to_real(a, _one_axis(n), (axis,), norm, "irfft")


def hfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.hfft``: the real spectrum of a signal with Hermitian symmetry.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.hfft(np.array([1.0, 0.0, 0.0]))
    array([1., 1., 1., 1.])
    """
    return _complex_to_real(ew.conj(_array(a)), _one_axis(n), (axis,), _SWAPPED[_norm(norm, "hfft")], "hfft")


def ihfft(a, n=None, axis=-1, norm=None):
    """Differentiable ``numpy.fft.ihfft``: the inverse of :func:`hfft` for a real signal.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.ihfft(np.array([1.0, 1.0, 1.0, 1.0]))
    array([1.-0.j, 0.-0.j, 0.-0.j])
    """
    return ew.conj(_real_to_complex(a, _one_axis(n), (axis,), _SWAPPED[_norm(norm, "ihfft")], "ihfft"))


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """Differentiable ``numpy.fft.fft2``: the 2-D discrete Fourier transform.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.fft2(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    return _complex_transform(a, s, axes, norm, False, "fft2")


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """Differentiable ``numpy.fft.ifft2``: the inverse 2-D discrete Fourier transform.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.ifft2(np.array([[4.0, 0.0], [0.0, 0.0]])).real
    array([[1., 1.],
           [1., 1.]])
    """
    return _complex_transform(a, s, axes, norm, True, "ifft2")


def fftn(a, s=None, axes=None, norm=None):
    """Differentiable ``numpy.fft.fftn``: the discrete Fourier transform over ``axes`` (default all).

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.fftn(np.ones((2, 2, 2)))[0, 0, 0]
    np.complex128(8+0j)
    """
    return _complex_transform(a, s, axes, norm, False, "fftn")


def ifftn(a, s=None, axes=None, norm=None):
    """Differentiable ``numpy.fft.ifftn``: the inverse discrete Fourier transform over ``axes``.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.ifftn(np.full((2, 2), 4.0))[0, 0]
    np.complex128(4+0j)
    """
    return _complex_transform(a, s, axes, norm, True, "ifftn")


def rfftn(a, s=None, axes=None, norm=None):
    """Differentiable ``numpy.fft.rfftn``: ``rfft`` over the last of ``axes``, ``fft`` over the others.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.rfftn(np.ones((2, 4))).shape
    (2, 3)
    """
    return _real_to_complex(a, s, axes, norm, "rfftn")


def irfftn(a, s=None, axes=None, norm=None):
    """Differentiable ``numpy.fft.irfftn``: the inverse of :func:`rfftn`.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> snp.fft.irfftn(snp.fft.rfftn(x), s=x.shape).round(12)
    array([[0., 1., 2.],
           [3., 4., 5.]])
    """
    return _complex_to_real(a, s, axes, norm, "irfftn")


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """Differentiable ``numpy.fft.rfft2``: :func:`rfftn` over two axes.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.rfft2(np.ones((2, 2))).real
    array([[4., 0.],
           [0., 0.]])
    """
    return _real_to_complex(a, s, axes, norm, "rfft2")


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """Differentiable ``numpy.fft.irfft2``: :func:`irfftn` over two axes.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.irfft2(np.array([[4.0, 0.0], [0.0, 0.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    return _complex_to_real(a, s, axes, norm, "irfft2")


def _shifted(x, axes, sign):
    x = _array(x)
    shape = shape_of(x)
    axes = tuple(range(len(shape))) if axes is None else tuple(np.atleast_1d(axes))
    return roll(x, tuple(sign * (shape[ax] // 2) for ax in axes), axes)


def fftshift(x, axes=None):
    """Differentiable ``numpy.fft.fftshift``: the zero frequency moved to the middle.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.fftshift(np.arange(5.0))
    array([3., 4., 0., 1., 2.])
    """
    return _shifted(x, axes, 1)


def ifftshift(x, axes=None):
    """Differentiable ``numpy.fft.ifftshift``: undoes :func:`fftshift`.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> snp.fft.ifftshift(np.array([3.0, 4.0, 0.0, 1.0, 2.0]))
    array([0., 1., 2., 3., 4.])
    """
    return _shifted(x, axes, -1)
