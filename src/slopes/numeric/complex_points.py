"""Complex points for the numeric differentiators, with the convention of ``sl.grad``.

A real-valued ``f(z)`` of complex ``z = x + iy`` is differenced along the real
and the imaginary direction of every entry (the point seen as the real pairs
``(x, y)``), and the two partials are combined as JAX and :func:`slopes.grad`
do: ``grad f = df/dx - i df/dy``. For a holomorphic ``g``, ``grad real(g)`` is
then ``g'(z)``.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core.dtypes import complex_valued
from ._common import fun_name

__all__ = ["on_complex"]


def on_complex(impl, name):
    """``impl(f, x, **options)`` extended to complex points ``x`` (real ones go straight through).

    Examples
    --------
    >>> import slopes as sl
    >>> g = sl.numeric.grad(lambda z: np.abs(z) ** 2, 3.0 + 4.0j)   # 2x - 2iy = 2 conj(z)
    >>> complex(np.round(g, 8))
    (6-8j)
    """

    def run(f, x, **options):
        if not complex_valued(np.asarray(x) if isinstance(x, (list, tuple)) else x):
            return impl(f, x, **options)
        if options.get("method") == "complex":
            raise ValueError(
                f"numeric.{name}(): method='complex' (the complex step) needs a real point; "
                f"at a complex point use method='central'."
            )
        z = np.asarray(x)
        pairs = np.stack([z.real, z.imag], axis=-1)  # shape z.shape + (2,)

        @functools.wraps(f)
        def on_pairs(v):
            out = f(v[..., 0] + 1j * v[..., 1])
            if complex_valued(np.asarray(out)):
                raise TypeError(
                    f"numeric.{name}() of a complex point needs a real-valued function, but "
                    f"{fun_name(f)} returned {np.asarray(out).dtype}. Differentiate a real function "
                    f"of it, such as real(f(z)), imag(f(z)) or abs(f(z)) (the convention of sl.grad)."
                )
            return out

        out = impl(on_pairs, pairs, **options)
        if isinstance(out, tuple):  # an Estimate: an entry is as uncertain as its worse partial
            value, error, step, kink = out
            return type(out)(
                _combine(value, z.dtype), error.max(axis=-1), step.min(axis=-1), np.any(kink, axis=-1)
            )
        return _combine(out, z.dtype)

    return run


def _combine(partials, dtype):
    """``(..., 2)`` partials along x and y -> ``df/dx - i df/dy`` in the point's complex dtype."""
    partials = np.asarray(partials, dtype=np.float64)
    return (partials[..., 0] - 1j * partials[..., 1]).astype(dtype, copy=False)
