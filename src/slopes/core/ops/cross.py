"""The cross product of vectors along the last axis as one primitive, ``cross``.

``cross(a, b)`` is ``numpy.cross`` over the last axis (2 or 3 components; the
other axes broadcast like a stack, which is how ``vmap`` batches it). It is
bilinear and its rules are cross products too, so every order works:

- forward: ``d(a x b) = da x b + a x db``;
- reverse: ``<G, a x b> = <b x G, a> = <G x a, b>``, so ``ga = b x G`` and
  ``gb = G x a``, cut to the operand's number of components. Two 2-vectors
  give the z-component alone; its cotangent ``G`` is read as ``(0, 0, G)``.
"""

from __future__ import annotations

import numpy as np

from ..trace import ALL_ARGS, Primitive, shape_of
from .elementwise import unbroadcast
from .rules import defjvp
from .shape import align, concatenate, getitem, reshape

__all__ = ["cross"]



def _three(v):
    """2-vectors as 3-vectors with a zero z-component (NumPy deprecates 2-vectors in ``cross``)."""
    return v if v.shape[-1] == 3 else np.concatenate([v, np.zeros_like(v[..., :1])], axis=-1)


def _cross_impl(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[-1] == 2 and b.shape[-1] == 2:  # the z-component alone, as NumPy
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return np.cross(_three(a), _three(b))


cross = Primitive("cross", _cross_impl)


def _as_vectors(g, a, b):
    """The cotangent ``g`` as 3-vectors: ``(0, 0, g)`` when ``a x b`` is a z-component alone."""
    if shape_of(a)[-1] == 3 or shape_of(b)[-1] == 3:
        return g
    s = tuple(shape_of(g))
    column = reshape(g, s + (1,))
    return concatenate(np.zeros(s + (2,), dtype=np.result_type(g.dtype)), column, axis=len(s))


def _back(product, own):
    """``product`` (3-vectors) cut to the components of ``own`` and summed over its broadcast axes."""
    n = shape_of(own)[-1]
    if n == 2:
        product = getitem(product, index=(Ellipsis, slice(0, 2)))
    return unbroadcast(product, tuple(shape_of(own)))


defjvp(
    cross,
    lambda t, ans, a, b: cross(t, b),
    lambda t, ans, a, b: cross(a, t),
)
cross.vjps = (
    lambda g, ans, a, b: _back(cross(b, _as_vectors(g, a, b)), a),
    lambda g, ans, a, b: _back(cross(_as_vectors(g, a, b), a), b),
)
cross.keeps = ALL_ARGS


def _cross_batch(vals, batched):
    # the stack axes broadcast; the batch axis leads, the vector axis stays last
    nd = max(len(shape_of(v)) - b for v, b in zip(vals, batched))
    return cross(*align(vals, batched, nd))


cross.batch = _cross_batch
