"""Subdifferentials of the common nonsmooth functions, normal cones of a box, optimality tests.

``g`` is a subgradient of a convex ``f`` at ``x`` when ``f(y) >= f(x) + g.(y - x)`` for
all ``y``; the set of them, ``df(x)``, is the subdifferential. It is the gradient alone
where ``f`` is differentiable, and it gives the one-sided directional derivatives
``f'(x; d) = max over g in df(x) of g.d`` (:meth:`Subdifferential.support`). A convex
``f`` is minimal at ``x`` iff ``0 in df(x)``; over a closed convex set ``C`` iff
``-grad f(x) in N_C(x)``, the normal cone.

>>> import slopes as sl
>>> sd = sl.analysis.subdifferential("abs", 0.0)
>>> sd.lo, sd.hi, sl.analysis.is_optimal(sd)
(array([-1.]), array([1.]), True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._common import as_point

__all__ = [
    "NAMES",
    "Subdifferential",
    "box_optimality",
    "is_optimal",
    "normal_cone",
    "subdifferential",
]

#: The functions :func:`subdifferential` knows by name (each applied to a vector ``x``).
NAMES = {
    "abs": "sum_i |x_i|  (|t| for one variable)",
    "l1": "sum_i |x_i|, the l1 norm",
    "relu": "sum_i max(0, x_i)",
    "hinge": "sum_i max(0, 1 - x_i)",
    "max": "max_i x_i",
}


class Subdifferential(NamedTuple):
    """A convex set of (sub)gradients.

    Attributes
    ----------
    lo, hi : ndarray
        Per-coordinate bounds (may be infinite). For ``kind='box'`` the set is the product
        of the intervals ``[lo_i, hi_i]``; for ``'simplex'`` they are its bounding box.
    kind : str
        ``'box'`` or ``'simplex'``: the convex hull of the unit vectors ``e_i``,
        ``i in active`` (the subdifferential of ``max`` at a tie).
    active : tuple of int
        For ``'simplex'``, the tied indices; empty for ``'box'``.
    """

    lo: np.ndarray
    hi: np.ndarray
    kind: str = "box"
    active: tuple = ()

    def contains(self, g, tol=0.0) -> bool:
        """Whether ``g`` lies in the set (within ``tol`` per coordinate).

        Examples
        --------
        >>> import slopes as sl
        >>> sl.analysis.subdifferential("relu", [0.0, 2.0]).contains([0.3, 1.0])
        True
        """
        g = np.broadcast_to(np.asarray(g, dtype=float), self.lo.shape)
        if self.kind == "simplex":
            off = np.ones(g.shape, bool)
            off[list(self.active)] = False
            return bool(np.all(g >= -tol) and np.all(np.abs(g[off]) <= tol) and abs(g.sum() - 1.0) <= tol)
        return bool(np.all(g >= self.lo - tol) and np.all(g <= self.hi + tol))

    def support(self, d) -> float:
        """``max over g in the set of g.d``: the directional derivative ``f'(x; d)``.

        Examples
        --------
        >>> import slopes as sl
        >>> sd = sl.analysis.subdifferential("abs", 0.0)
        >>> sd.support(1.0), sd.support(-2.0)   # |t| grows at rate |d| both ways
        (1.0, 2.0)
        """
        d = np.broadcast_to(np.asarray(d, dtype=float), self.lo.shape)
        if self.kind == "simplex":
            return float(np.max(d[list(self.active)]))
        # a zero direction contributes 0 even against an infinite bound
        with np.errstate(invalid="ignore"):
            terms = np.where(d == 0, 0.0, np.maximum(self.lo * d, self.hi * d))
        return float(np.sum(terms))


def _intervals(x, tol, kink, left, at, right):
    """Per coordinate: ``left`` below the kink, ``right`` above, the interval ``at`` on it."""
    below, above = x < kink - tol, x > kink + tol
    lo = np.where(below, left, np.where(above, right, at[0]))
    hi = np.where(below, left, np.where(above, right, at[1]))
    return Subdifferential(lo.astype(float), hi.astype(float))


def _numeric(f, x, h):
    """Bounding box of the subdifferential of a convex ``f`` from one-sided differences.

    ``f'(x; e_i) = max g_i`` and ``-f'(x; -e_i) = min g_i`` over the subdifferential; each
    one-sided derivative is a forward difference with one Richardson step (error O(h^2)).
    """
    fx = float(np.asarray(f(x)))

    def one_sided(e, step):
        d1 = (float(np.asarray(f(x + step * e))) - fx) / step
        d2 = (float(np.asarray(f(x + 0.5 * step * e))) - fx) / (0.5 * step)
        return 2.0 * d2 - d1

    lo, hi = np.empty(x.size), np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        step = h * max(1.0, abs(float(x[i])))
        hi[i] = one_sided(e, step)
        lo[i] = -one_sided(-e, step)
    return Subdifferential(lo, hi)


def subdifferential(f, x, *, tol=0.0, h=1e-6) -> Subdifferential:
    """The subdifferential of a named nonsmooth function (or the bounding box of a convex ``f``'s) at ``x``.

    Parameters
    ----------
    f : str or callable
        One of :data:`NAMES` -- ``'abs'``/``'l1'`` (``sum |x_i|``), ``'relu'``
        (``sum max(0, x_i)``), ``'hinge'`` (``sum max(0, 1 - x_i)``), ``'max'``
        (``max_i x_i``) -- or a convex callable ``f(x) -> scalar`` (plain NumPy is fine).
    x : array_like
        The point (a scalar or a vector).
    tol : float
        For named functions: a coordinate within ``tol`` of a kink counts as on it (default
        0: exact). For ``'max'``, entries within ``tol`` of the maximum are tied.
    h : float
        For a callable: the relative step of the one-sided differences.

    Returns
    -------
    Subdifferential
        Per coordinate an interval ``[lo, hi]`` (a single point where ``f`` is smooth in
        that coordinate); for ``'max'`` the simplex of the tied indices. For a callable,
        ``[lo_i, hi_i] = [-f'(x; -e_i), f'(x; e_i)]``, estimated numerically: exactly the
        subdifferential's bounding box, hence the set itself for a separable ``f``.

    Examples
    --------
    >>> import slopes as sl
    >>> sd = sl.analysis.subdifferential("hinge", [1.0, 0.0, 2.0])
    >>> sd.lo.tolist(), sd.hi.tolist()
    ([-1.0, -1.0, 0.0], [0.0, -1.0, 0.0])
    >>> sl.analysis.subdifferential("max", [3.0, 1.0, 3.0]).active
    (0, 2)
    >>> sd = sl.analysis.subdifferential(lambda x: abs(x[0]) + 2 * max(x[1], 0), [0.0, 0.0])
    >>> sd.lo.round(8).tolist(), sd.hi.round(8).tolist()
    ([-1.0, 0.0], [1.0, 2.0])
    """
    x = np.atleast_1d(as_point(x)).astype(np.float64)
    tol = float(tol)
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0 (got {tol!r})")
    if callable(f):
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"h must be a positive step (got {h!r})")
        return _numeric(f, x, float(h))
    if not isinstance(f, str) or f not in NAMES:
        raise ValueError(f"unknown function {f!r}: pass a callable or one of {', '.join(NAMES)}")
    if f in ("abs", "l1"):
        return _intervals(x, tol, 0.0, -1.0, (-1.0, 1.0), 1.0)
    if f == "relu":
        return _intervals(x, tol, 0.0, 0.0, (0.0, 1.0), 1.0)
    if f == "hinge":
        return _intervals(x, tol, 1.0, -1.0, (-1.0, 0.0), 0.0)
    active = np.flatnonzero(x >= np.max(x) - tol)
    lo = np.zeros(x.size)
    hi = np.zeros(x.size)
    hi[active] = 1.0
    if active.size == 1:
        lo[active] = 1.0
    return Subdifferential(lo, hi, "simplex", tuple(int(i) for i in active))


def is_optimal(subdiff: Subdifferential, tol=0.0) -> bool:
    """Whether ``0`` is in the subdifferential: the optimality condition of a convex ``f``.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.analysis.is_optimal(sl.analysis.subdifferential("l1", [0.0, 0.0]))
    True
    >>> sl.analysis.is_optimal(sl.analysis.subdifferential("relu", [0.0, 1.0]))
    False
    """
    if not isinstance(subdiff, Subdifferential):
        raise TypeError(
            f"expected a Subdifferential (from subdifferential() or normal_cone()), "
            f"got {type(subdiff).__name__}"
        )
    return subdiff.contains(np.zeros(subdiff.lo.shape), tol)


def _box(x, lo, hi):
    x = np.atleast_1d(as_point(x)).astype(np.float64)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), x.shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=float), x.shape)
    if np.any(lo > hi):
        raise ValueError("the box needs lo <= hi in every coordinate")
    return x, lo, hi


def normal_cone(x, lo, hi, *, tol=0.0) -> Subdifferential:
    """The normal cone of the box ``C = [lo, hi]`` at a point ``x`` of it.

    ``N_C(x) = {v : v.(y - x) <= 0 for all y in C}``: per coordinate ``{0}`` inside,
    ``(-inf, 0]`` on a lower bound, ``[0, inf)`` on an upper bound, all of R where
    ``lo == hi``. It is the subdifferential of the indicator function of ``C``.

    Parameters
    ----------
    x : array_like
        A point of the box.
    lo, hi : float or array_like
        The bounds (scalars apply to every coordinate).
    tol : float
        A coordinate within ``tol`` of a bound counts as on it.

    Returns
    -------
    Subdifferential

    Examples
    --------
    >>> import slopes as sl
    >>> nc = sl.analysis.normal_cone([0.0, 0.5, 1.0], 0.0, 1.0)
    >>> nc.lo.tolist(), nc.hi.tolist()
    ([-inf, 0.0, 0.0], [0.0, 0.0, inf])
    """
    x, lo, hi = _box(x, lo, hi)
    if np.any(x < lo - tol) or np.any(x > hi + tol):
        raise ValueError(f"x = {x} is outside the box [lo, hi]: the normal cone is defined on the box only")
    at_lo, at_hi = x <= lo + tol, x >= hi - tol
    return Subdifferential(np.where(at_lo, -np.inf, 0.0), np.where(at_hi, np.inf, 0.0))


def box_optimality(grad, x, lo, hi, *, tol=0.0) -> float:
    """Residual of the optimality condition ``-grad f(x) in N_C(x)`` on the box ``[lo, hi]``.

    Parameters
    ----------
    grad : array_like or callable
        ``grad f(x)``, or a callable returning it.
    x : array_like
        A point of the box.
    lo, hi : float or array_like
        The bounds.
    tol : float
        Passed to :func:`normal_cone`.

    Returns
    -------
    float
        ``max_i dist(-grad_i, N_i)``, the largest distance per coordinate from ``-grad f(x)``
        to the normal cone: 0 exactly at a minimizer of a convex ``f`` on the box. Inside
        the box it is ``max |grad_i|``; on a lower bound only ``grad_i < 0`` counts.

    Examples
    --------
    >>> import slopes as sl
    >>> # f = (x0 - 2)^2 + x1^2 on [0, 1]^2 is minimal at (1, 0): grad (-2, 0)
    >>> sl.analysis.box_optimality([-2.0, 0.0], [1.0, 0.0], 0.0, 1.0)
    0.0
    >>> sl.analysis.box_optimality([-2.0, 0.5], [1.0, 0.5], 0.0, 1.0)
    0.5
    """
    nc = normal_cone(x, lo, hi, tol=tol)
    xv = np.atleast_1d(np.asarray(x, dtype=float))
    g = np.asarray(grad(xv) if callable(grad) else grad, dtype=float)
    if g.size != xv.size:
        raise ValueError(f"grad has {g.size} entries but x has {xv.size}: pass grad f(x) at this x")
    g = g.reshape(xv.shape)
    p = -g
    dist = np.maximum(np.maximum(nc.lo - p, p - nc.hi), 0.0)
    return float(np.max(dist))
