"""Matrix functions and triangular solves from ``scipy.linalg``, as primitives.

Every primitive acts on a matrix ``(n, n)`` or a stack ``(..., n, n)``; its
rules are written with slopes primitives only, so derivatives of any order
work. Derivatives used (``dA`` a tangent, ``G`` an output cotangent):

- ``expm``: the Frechet derivative ``L(A, dA)``, read off the block-matrix
  identity ``expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]]``
  (Higham, *Functions of Matrices*, thm. 3.6). It is made of ``expm`` itself,
  so every higher derivative follows from the same rule (on matrices twice as
  large per order). The reverse rule is ``L(A^T, G)``: ``<G, L(A, E)> =
  <L(A^T, G), E>``.
- ``solve_triangular(A, B, lower)``: reads one triangle ``T`` of ``A``;
  ``dX = T^-1 (dB - tri(dA) X)``, ``gB = T^-T G``, ``gA = -tri(gB X^T)``, where
  ``tri`` keeps the triangle read, so the other one gets exactly zero.

Taylor mode runs through the exact fallback on these forward rules.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..trace import Primitive, shape_of
from .decompositions import _explained, _stack_batch
from .elementwise import mul, neg, sub, unbroadcast
from .linalg import matmul, swap_last
from .shape import align, concatenate, getitem

__all__ = ["expm", "frechet", "solve_triangular", "triangle"]


# -- matrix exponential -------------------------------------------------------------------
expm = Primitive("expm", scipy.linalg.expm)


def frechet(a, e):
    """``L(A, E)``, the Frechet derivative of ``expm`` at ``A`` along ``E``, from the 2n x 2n block.

    ``a`` and ``e`` have the same shape ``(..., n, n)``.
    """
    s = tuple(shape_of(a))
    n, nd = s[-1], len(s)
    zero = np.zeros(s, dtype=np.result_type(a.dtype, e.dtype))
    block = concatenate(
        concatenate(a, e, axis=nd - 1), concatenate(zero, a, axis=nd - 1), axis=nd - 2
    )
    return getitem(expm(block), index=(Ellipsis, slice(0, n), slice(n, None)))


expm.jvp = lambda primals, tangents, params: (
    expm(primals[0]),
    None if tangents[0] is None else frechet(primals[0], tangents[0]),
)
expm.vjps = (lambda g, ans, a: frechet(swap_last(a), g),)
expm.keeps = (0,)
_stack_batch(expm)


# -- triangular solves ---------------------------------------------------------------------
def triangle(x, lower, strict=False):
    """The lower (or upper) triangle of the square last two axes of ``x``, the rest zero.

    ``strict`` leaves out the diagonal.
    """
    n = shape_of(x)[-1]
    mask = np.tri(n, n, k=-1 if strict else 0, dtype=bool)
    return mul(x, mask if lower else mask.T)


def _solve_triangular_impl(a, b, lower):
    lead = np.broadcast_shapes(np.shape(a)[:-2], np.shape(b)[:-2])
    a = np.broadcast_to(a, lead + np.shape(a)[-2:])
    b = np.broadcast_to(b, lead + np.shape(b)[-2:])
    return scipy.linalg.solve_triangular(a, b, lower=lower, check_finite=False)


solve_triangular = Primitive(
    "solve_triangular",
    _explained(
        "solve_triangular",
        "the triangular matrix is singular (a zero on its diagonal)",
        _solve_triangular_impl,
    ),
)


def _solve_triangular_jvp(primals, tangents, params):
    (a, b), (ta, tb), lower = primals, tangents, params["lower"]
    x = solve_triangular(a, b, lower=lower)
    rhs = tb
    if ta is not None:
        tx = matmul(triangle(ta, lower), x)
        rhs = neg(tx) if rhs is None else sub(rhs, tx)
    if rhs is None:
        return x, None
    dx = solve_triangular(a, rhs, lower=lower)
    return x, dx


def _back(g, a, lower):
    return solve_triangular(swap_last(a), g, lower=not lower)


solve_triangular.jvp = _solve_triangular_jvp
solve_triangular.vjps = (
    lambda g, x, a, b, lower: unbroadcast(
        neg(triangle(matmul(_back(g, a, lower), swap_last(x)), lower)), shape_of(a)
    ),
    lambda g, x, a, b, lower: unbroadcast(_back(g, a, lower), shape_of(b)),
)
solve_triangular.keeps = (0, "ans")


def _solve_triangular_batch(vals, batched, lower):
    nd = max(len(shape_of(v)) - bt for v, bt in zip(vals, batched))
    return solve_triangular(*align(vals, batched, nd), lower=lower)


solve_triangular.batch = _solve_triangular_batch
