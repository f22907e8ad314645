"""N-dimensional convolution as one primitive, ``convolve_full``; other modes are slices of it.

``convolve_full(x, y)`` is SciPy's ``convolve(x, y, mode="full")`` over the
*core* axes (all but the first ``lead``, which broadcast like a stack: this is
how ``vmap`` batches it). It is bilinear, and its rules are convolutions too,
so derivatives of every order work:

- forward: ``d(x * y) = dx * y + x * dy``;
- reverse: the cotangent ``G`` (the full output) gives
  ``gx = (G * flip(y))[m - 1 : m - 1 + n]`` on each core axis (``n``, ``m``
  the lengths of ``x`` and ``y``), a correlation of ``G`` with ``y``; ``gy``
  likewise with the roles exchanged.

The ``valid`` and ``same`` modes slice the full result (``getitem``), so they
need no rules of their own.
"""

from __future__ import annotations

import numpy as np

from ..trace import ALL_ARGS, Primitive, shape_of
from .elementwise import unbroadcast
from .rules import defjvp
from .shape import getitem, reshape

__all__ = ["convolve_full", "flip_core"]


def _convolve_full_impl(x, y, method="auto", lead=0):
    import scipy.signal  # on first use: importing it costs ~0.7 s, which `import slopes` must not pay

    if not lead:
        return scipy.signal.convolve(x, y, mode="full", method=method)
    x, y = np.asarray(x), np.asarray(y)
    stack = np.broadcast_shapes(x.shape[:lead], y.shape[:lead])
    x = np.broadcast_to(x, stack + x.shape[lead:])
    y = np.broadcast_to(y, stack + y.shape[lead:])
    core = tuple(n + m - 1 for n, m in zip(x.shape[lead:], y.shape[lead:]))
    out = np.empty(stack + core, dtype=np.result_type(x, y))
    for i in np.ndindex(stack):
        out[i] = scipy.signal.convolve(x[i], y[i], mode="full", method=method)
    return out


convolve_full = Primitive("convolve_full", _convolve_full_impl)


def flip_core(x, lead=0):
    """``x`` reversed along every axis after the first ``lead``."""
    core = len(shape_of(x)) - lead
    return getitem(x, index=(slice(None),) * lead + (slice(None, None, -1),) * core)


def _correlate_back(g, other, own_shape, method, lead):
    """The cotangent of one operand: ``g`` correlated with the other, cut to the operand's length."""
    z = convolve_full(g, flip_core(other, lead), method=method, lead=lead)
    other_core = shape_of(other)[lead:]
    own_core = own_shape[lead:]
    index = (slice(None),) * lead + tuple(slice(m - 1, m - 1 + n) for n, m in zip(own_core, other_core))
    return unbroadcast(getitem(z, index=index), own_shape)  # sums a broadcast stack axis


defjvp(
    convolve_full,
    lambda t, ans, x, y, **p: convolve_full(t, y, **p),
    lambda t, ans, x, y, **p: convolve_full(x, t, **p),
)
convolve_full.vjps = (
    lambda g, ans, x, y, method="auto", lead=0: _correlate_back(g, y, tuple(shape_of(x)), method, lead),
    lambda g, ans, x, y, method="auto", lead=0: _correlate_back(g, x, tuple(shape_of(y)), method, lead),
)
convolve_full.keeps = ALL_ARGS


def _convolve_batch(vals, batched, method="auto", lead=0):
    # an unbatched operand gets a stack axis of length 1, which broadcasts
    x, y = (v if b else reshape(v, (1,) + tuple(shape_of(v))) for v, b in zip(vals, batched))
    return convolve_full(x, y, method=method, lead=lead + 1)


convolve_full.batch = _convolve_batch
