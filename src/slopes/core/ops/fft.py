"""Discrete Fourier transforms as primitives: complex, real-to-complex, complex-to-real.

Every transform is linear, so its forward rule applies it to the tangent. Its
reverse rule is its transpose (JAX's convention for complex values, no
conjugation): the DFT matrix is symmetric, so ``fftn`` and ``ifftn`` are their
own transposes with the same ``norm``. ``rfftn`` keeps the first ``n//2 + 1``
frequencies of a real signal: its transpose zero-pads the cotangent back to
``n``, transforms, and keeps the real part. ``irfftn`` reads each frequency
strictly inside the half-spectrum twice (it stands for its Hermitian mirror
too): its transpose is the inverse transform of the cotangent, cut to the
half-spectrum, times 2 there. Lengths change only through :data:`resize`
(zero-pad or truncate, whose transpose is the resize back), so the transforms
themselves keep their input's lengths.

Axes are negative indices, so a batch axis added in front changes nothing.
"""

from __future__ import annotations

import numpy as np

from ..trace import Primitive, bind, shape_of
from .elementwise import mul, real
from .rules import deflinear

__all__ = ["fftn", "rfftn", "irfftn", "resize", "half_spectrum_weights"]


def _linear(name, impl):
    p = Primitive(name, impl)
    deflinear(p)
    p.keeps = ()  # linear: the reverse rule needs only shapes
    p.batch = lambda vals, batched, **params: bind(p, vals, params)  # axes count from the end
    return p


def _resize_impl(x, sizes, axes):
    x = np.asarray(x)
    index = [slice(None)] * x.ndim
    pad = [(0, 0)] * x.ndim
    for n, a in zip(sizes, axes):
        index[a] = slice(0, n)
        pad[a] = (0, max(0, n - x.shape[a]))
    x = x[tuple(index)]
    return np.pad(x, pad) if any(p[1] for p in pad) else x


resize = _linear("resize", _resize_impl)
resize.vjps = (lambda g, ans, x, sizes, axes: resize(g, sizes=tuple(shape_of(x)[a] for a in axes), axes=axes),)


def _fftn_impl(x, axes, norm, inverse):
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, axes=axes, norm=norm)


fftn = _linear("fftn", _fftn_impl)
fftn.vjps = (lambda g, ans, x, axes, norm, inverse: fftn(g, axes=axes, norm=norm, inverse=inverse),)


def half_spectrum_weights(n, axis):
    """How many times ``irfft`` counts each of the ``n//2 + 1`` stored frequencies, along ``axis``.

    Examples
    --------
    >>> from slopes.core.ops.fft import half_spectrum_weights
    >>> half_spectrum_weights(6, -1), half_spectrum_weights(5, -1)
    (array([1., 2., 2., 1.]), array([1., 2., 2.]))
    """
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0  # the Nyquist frequency is its own mirror
    return w.reshape((-1,) + (1,) * (-axis - 1))


def _rfftn_vjp(g, ans, x, axes, norm):
    n = shape_of(x)[axes[-1]]
    full = resize(g, sizes=(n,), axes=(axes[-1],))
    return real(fftn(full, axes=axes, norm=norm, inverse=False))


rfftn = _linear("rfftn", lambda x, axes, norm: np.fft.rfftn(x, axes=axes, norm=norm))
rfftn.vjps = (_rfftn_vjp,)


def _irfftn_impl(x, axes, norm, n):
    s = [np.shape(x)[a] for a in axes[:-1]] + [n]
    return np.fft.irfftn(x, s=s, axes=axes, norm=norm)


def _irfftn_vjp(g, ans, x, axes, norm, n):
    spectrum = fftn(g, axes=axes, norm=norm, inverse=True)
    half = resize(spectrum, sizes=(n // 2 + 1,), axes=(axes[-1],))
    weights = half_spectrum_weights(n, axes[-1]).astype(np.real(np.zeros((), half.dtype)).dtype)
    return mul(half, weights)  # in the cotangent's precision (complex64 stays complex64)


irfftn = _linear("irfftn", _irfftn_impl)
irfftn.vjps = (_irfftn_vjp,)
