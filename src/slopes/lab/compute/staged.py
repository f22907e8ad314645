"""A formula's value, gradient and Hessian compiled once by :func:`slopes.jit`, kept for recent formulas.

People race again and again on the same few formulas. :func:`slopes.minimize` traces its
objective anew on every call (about a tenth of a race's time); handing it these compiled
functions (``jac=True``, ``hess=``) makes the trace once per formula instead, for the
:data:`STAGED_FORMULAS` formulas used last.

Examples
--------
>>> import numpy as np
>>> import slopes as sl
>>> s = staged(sl.parse("x^2 + 10*y^2", variables=("x", "y")))
>>> value, g = s.value_and_grad(np.array([1.0, 1.0]))
>>> float(value), g.tolist(), s.hessian(np.array([1.0, 1.0])).tolist()
(11.0, [2.0, 20.0], [[2.0, 0.0], [0.0, 20.0]])
>>> staged(sl.parse("x^2 + 10*y^2", variables=("x", "y"))) is s
True
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

from ...transforms import hessian, jit, value_and_grad

__all__ = ["STAGED_FORMULAS", "Staged", "staged"]

#: Formulas whose compiled derivatives are kept (the least recently used is dropped first).
STAGED_FORMULAS = 64


class Staged(NamedTuple):
    """Compiled ``x -> (f(x), grad f(x))`` and ``x -> Hessian of f at x``."""

    value_and_grad: Callable
    hessian: Callable


@functools.lru_cache(maxsize=STAGED_FORMULAS)
def staged(f) -> Staged:
    """The compiled value-and-gradient and Hessian of the :class:`slopes.Expression` ``f``.

    Equal formulas (same tree, same variables) share one entry, whatever their spelling.

    Examples
    --------
    >>> import slopes as sl
    >>> staged(sl.parse("x*x", variables=("x",))) is staged(sl.parse("x * x", variables=("x",)))
    True
    """
    return Staged(jit(value_and_grad(f)), jit(hessian(f)))
