"""Euclidean projections onto closed convex sets, for projected gradient methods.

The projection of ``x`` onto a closed convex set ``C`` is the unique nearest point
``P_C(x) = argmin_{y in C} ||y - x||``; it is characterised by the variational
inequality ``(x - P(x)) . (y - P(x)) <= 0`` for every ``y`` in ``C``.

One way to use this module
--------------------------
Each set is built by a *factory* that binds the set's parameters and returns a
:class:`Projection`: a callable ``P(x) -> ndarray`` with a ``.name`` and a
``.contains(x, tol)`` membership test. That object is what a driver takes
(``constraint=box(-2, 2)``). The arithmetic lives in the plain functions
``project_box(x, lower, upper)``, ``project_l2_ball(x, radius, center)``, ...,
which the objects call; use those for a one-off projection.

===============================  ==============================  ==============================
set                              factory                         plain function
===============================  ==============================  ==============================
``{lower <= x <= upper}``        :func:`box`                     :func:`project_box`
``{x >= 0}``                     :func:`nonnegative`             :func:`project_nonnegative`
``{||x - center|| <= radius}``   :func:`l2_ball`                 :func:`project_l2_ball`
``{x >= 0, sum(x) = total}``     :func:`simplex`                 :func:`project_simplex`
``{a . x <= b}``                 :func:`halfspace`               :func:`project_halfspace`
===============================  ==============================  ==============================

Arrays of any shape are accepted; sets that couple entries (ball, simplex, halfspace)
treat the whole array as one vector (inner products and sums run over all entries).
Inputs are never modified; the result is a new array of ``x``'s shape and floating dtype
(integer input gives float64).

>>> from slopes.optim.projections import box, simplex
>>> P = box(-1.0, 1.0)
>>> P(np.array([-3.0, 0.5, 2.0])), P.name
(array([-1. ,  0.5,  1. ]), 'box(lower=-1.0, upper=1.0)')
>>> simplex()(np.array([0.6, 0.6])), simplex().contains(np.array([0.5, 0.5]))
(array([0.5, 0.5]), True)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "Projection",
    "box",
    "halfspace",
    "l2_ball",
    "nonnegative",
    "project_box",
    "project_halfspace",
    "project_l2_ball",
    "project_nonnegative",
    "project_simplex",
    "simplex",
]

DEFAULT_TOL = 1e-9


def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _fmt(v) -> str:
    a = np.asarray(v)
    if a.ndim == 0:
        return repr(float(a))
    return np.array2string(a, separator=", ", threshold=6)


def _norm(d) -> float:
    """Euclidean norm of all entries, scaled so that huge entries do not overflow."""
    m = float(np.max(np.abs(d))) if np.size(d) else 0.0
    if m == 0.0 or not np.isfinite(m):
        return m
    return m * float(np.sqrt(np.sum((d / m) ** 2)))


class Projection:
    """A Euclidean projection onto a fixed closed convex set.

    Built by the factories of this module (:func:`box`, :func:`l2_ball`, ...), not
    usually by hand. ``P(x)`` returns the nearest point of the set to ``x``.

    Attributes
    ----------
    name : str
        Human-readable description of the set, e.g. ``'l2_ball(radius=1.0, center=0.0)'``.

    Examples
    --------
    >>> from slopes.optim.projections import Projection
    >>> P = Projection("clip01", lambda x: np.clip(x, 0, 1), lambda x, tol: bool(np.all((x >= -tol) & (x <= 1 + tol))))
    >>> P(np.array([2.0, -1.0])), P.contains(np.array([0.5]))
    (array([1., 0.]), True)
    """

    __slots__ = ("name", "_project", "_contains")

    def __init__(self, name: str, project: Callable, contains: Callable):
        self.name = name
        self._project = project
        self._contains = contains

    def __call__(self, x) -> np.ndarray:
        """Project ``x`` onto the set (returns a new array of ``x``'s shape)."""
        x = _as_float(x)
        return np.asarray(self._project(x)).astype(x.dtype, copy=False)

    def contains(self, x, tol: float = DEFAULT_TOL) -> bool:
        """Whether ``x`` lies in the set, up to an absolute violation ``tol`` per constraint."""
        return bool(self._contains(_as_float(x), tol))

    def __repr__(self) -> str:
        return f"Projection({self.name})"


# ----------------------------------------------------------------------------- box


def _box_bounds(lower, upper):
    lo = -np.inf if lower is None else _as_float(lower)
    hi = np.inf if upper is None else _as_float(upper)
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise ValueError("box: bounds must not be NaN (use None or +-inf for 'no bound')")
    try:
        bad = np.asarray(lo > hi)
    except ValueError as e:  # pragma: no cover - numpy broadcasting message
        raise ValueError(f"box: lower and upper do not broadcast: {e}") from None
    if np.any(bad):
        idx = np.argwhere(bad)
        where = "" if bad.ndim == 0 else f" at index {tuple(int(i) for i in idx[0])}"
        raise ValueError(f"box: lower > upper{where}; every lower bound must be <= its upper bound")
    return lo, hi


def project_box(x, lower=None, upper=None) -> np.ndarray:
    """Project ``x`` onto the box ``{lower <= x <= upper}`` (entrywise clipping).

    Parameters
    ----------
    x : array_like
    lower, upper : array_like or None
        Bounds broadcast against ``x``; ``None`` (or ``-inf`` / ``inf``) means unbounded.

    Raises
    ------
    ValueError
        If some ``lower > upper`` or a bound is NaN.

    Examples
    --------
    >>> from slopes.optim.projections import project_box
    >>> project_box(np.array([-3.0, 0.5, 2.0]), 0.0, None)
    array([0. , 0.5, 2. ])
    >>> project_box(np.array([5.0, 5.0]), upper=np.array([1.0, 7.0]))
    array([1., 5.])
    """
    lo, hi = _box_bounds(lower, upper)
    x = _as_float(x)
    out = np.clip(x, lo, hi)
    if out.shape != x.shape:
        raise ValueError(f"box: bounds of shape {np.shape(lo)}/{np.shape(hi)} enlarge x of shape {x.shape}")
    return out.astype(x.dtype, copy=False)


def box(lower=None, upper=None) -> Projection:
    """Projection onto the box ``{x : lower <= x <= upper}``.

    Parameters
    ----------
    lower, upper : array_like or None
        Scalars or arrays broadcasting against the points projected; ``None`` or
        ``-inf`` / ``inf`` leaves that side unbounded.

    Raises
    ------
    ValueError
        If some ``lower > upper`` or a bound is NaN.

    Examples
    --------
    >>> from slopes.optim.projections import box
    >>> P = box(-2.0, 2.0)
    >>> P(np.array([3.0, -1.0])), P.contains(np.array([2.0, -2.0]))
    (array([ 2., -1.]), True)
    >>> box(lower=np.array([0.0, -np.inf]))(np.array([-1.0, -5.0]))
    array([ 0., -5.])
    """
    lo, hi = _box_bounds(lower, upper)

    def contains(x, tol):
        return np.all(x >= lo - tol) and np.all(x <= hi + tol)

    name = f"box(lower={_fmt(lo)}, upper={_fmt(hi)})"
    return Projection(name, lambda x: project_box(x, lo, hi), contains)


def project_nonnegative(x) -> np.ndarray:
    """Project onto the nonnegative orthant ``{x >= 0}``: ``max(x, 0)``.

    Examples
    --------
    >>> from slopes.optim.projections import project_nonnegative
    >>> project_nonnegative(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return np.maximum(_as_float(x), 0.0)


def nonnegative() -> Projection:
    """Projection onto the nonnegative orthant ``{x : x >= 0}``.

    Examples
    --------
    >>> from slopes.optim.projections import nonnegative
    >>> P = nonnegative()
    >>> P(np.array([-1.0, 2.0])), P.name, P.contains(np.array([-1e-12, 1.0]))
    (array([0., 2.]), 'nonnegative()', True)
    """
    return Projection("nonnegative()", project_nonnegative, lambda x, tol: np.all(x >= -tol))


# ----------------------------------------------------------------------------- l2 ball


def _check_radius(radius):
    r = float(radius)
    if not np.isfinite(r) and r != np.inf:
        raise ValueError(f"l2_ball: radius must be a number >= 0, got {radius!r}")
    if r < 0:
        raise ValueError(f"l2_ball: radius must be >= 0, got {radius!r}")
    return r


def project_l2_ball(x, radius: float = 1.0, center=0.0) -> np.ndarray:
    """Project onto the Euclidean ball ``{||x - center|| <= radius}``.

    A point outside is moved radially: ``center + radius * (x - center) / ||x - center||``.

    Raises
    ------
    ValueError
        If ``radius`` is negative or NaN.

    Examples
    --------
    >>> from slopes.optim.projections import project_l2_ball
    >>> project_l2_ball(np.array([3.0, 4.0]), 1.0)
    array([0.6, 0.8])
    >>> project_l2_ball(np.array([3.0, 4.0]), 10.0)
    array([3., 4.])
    """
    r = _check_radius(radius)
    x = _as_float(x)
    c = _as_float(center)
    d = x - c
    n = _norm(d)
    if n <= r:
        return np.array(x, copy=True)
    return (c + (r / n) * d).astype(x.dtype, copy=False)


def l2_ball(radius: float = 1.0, center=0.0) -> Projection:
    """Projection onto the Euclidean ball ``{x : ||x - center||_2 <= radius}``.

    Parameters
    ----------
    radius : float
        ``>= 0`` (0 gives the single point ``center``).
    center : array_like
        Scalar or array broadcasting against the points projected.

    Raises
    ------
    ValueError
        If ``radius`` is negative or NaN.

    Examples
    --------
    >>> from slopes.optim.projections import l2_ball
    >>> P = l2_ball(2.0, center=np.array([1.0, 1.0]))
    >>> P(np.array([1.0, 5.0])), P.contains(np.array([1.0, 3.0]))
    (array([1., 3.]), True)
    """
    r = _check_radius(radius)
    c = _as_float(center)

    def contains(x, tol):
        return _norm(x - c) <= r + tol

    return Projection(
        f"l2_ball(radius={r!r}, center={_fmt(c)})", lambda x: project_l2_ball(x, r, c), contains
    )


# ----------------------------------------------------------------------------- simplex


def _check_total(total):
    s = float(total)
    if not (s > 0 and np.isfinite(s)):
        raise ValueError(f"simplex: total must be a finite number > 0, got {total!r}")
    return s


def project_simplex(x, total: float = 1.0) -> np.ndarray:
    """Project onto the simplex ``{x >= 0, sum(x) = total}`` (all entries of ``x`` together).

    The sort-based O(n log n) algorithm (Held, Wolfe & Crowder 1974; Duchi et al. 2008):
    sort ``u = sort(x)`` descending, let ``rho`` be the largest ``j`` (1-based) with
    ``u_j - (u_1 + ... + u_j - total) / j > 0``, set
    ``theta = (u_1 + ... + u_rho - total) / rho``; then ``P(x) = max(x - theta, 0)``.

    Parameters
    ----------
    x : array_like
        Any shape; the whole array is one vector.
    total : float
        The common sum, ``> 0`` (1 gives the probability simplex).

    Raises
    ------
    ValueError
        If ``total <= 0``, ``x`` is empty, or ``x`` has non-finite entries.

    Examples
    --------
    >>> from slopes.optim.projections import project_simplex
    >>> project_simplex(np.array([0.5, 2.0, -1.0]))
    array([0., 1., 0.])
    >>> project_simplex(np.array([1.0, 1.0, 1.0]), total=6.0)
    array([2., 2., 2.])
    """
    s = _check_total(total)
    x = _as_float(x)
    if x.size == 0:
        raise ValueError("simplex: cannot project an empty array (the simplex in R^0 is empty)")
    if not np.all(np.isfinite(x)):
        raise ValueError("simplex: x has non-finite entries")
    v = x.ravel()
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - s
    j = np.arange(1, v.size + 1)
    rho = np.nonzero(u - css / j > 0)[0][-1]  # j = 1 always qualifies since total > 0
    theta = css[rho] / (rho + 1)
    return np.maximum(x - theta, 0.0).astype(x.dtype, copy=False)


def simplex(total: float = 1.0) -> Projection:
    """Projection onto the simplex ``{x : x >= 0, sum(x) = total}``.

    ``total=1`` is the probability simplex. See :func:`project_simplex` for the algorithm.

    Raises
    ------
    ValueError
        If ``total <= 0``.

    Examples
    --------
    >>> from slopes.optim.projections import simplex
    >>> P = simplex()
    >>> P(np.array([0.4, 0.4, 0.8]))
    array([0.2, 0.2, 0.6])
    >>> P.contains(np.array([0.2, 0.8])), P.contains(np.array([0.5, 0.6]))
    (True, False)
    """
    s = _check_total(total)

    def contains(x, tol):
        return x.size > 0 and np.all(x >= -tol) and abs(float(np.sum(x)) - s) <= tol * max(1.0, s)

    return Projection(f"simplex(total={s!r})", lambda x: project_simplex(x, s), contains)


# ----------------------------------------------------------------------------- halfspace


def _check_normal(a, b):
    a = _as_float(a)
    b = float(b)
    if not np.all(np.isfinite(a)) or np.isnan(b):
        raise ValueError("halfspace: a must be finite and b not NaN")
    aa = float(np.sum(a * a))
    if aa == 0.0:
        raise ValueError("halfspace: the normal vector a must be nonzero")
    return a, b, aa


def project_halfspace(x, a, b: float) -> np.ndarray:
    """Project onto the halfspace ``{x : a @ x <= b}``.

    ``P(x) = x - max(a . x - b, 0) / ||a||^2 * a`` (inner products over all entries).

    Raises
    ------
    ValueError
        If ``a`` is zero (no halfspace) or non-finite.

    Examples
    --------
    >>> from slopes.optim.projections import project_halfspace
    >>> project_halfspace(np.array([3.0, 1.0]), np.array([1.0, 1.0]), 2.0)
    array([2., 0.])
    """
    a, b, aa = _check_normal(a, b)
    x = _as_float(x)
    viol = float(np.sum(a * x)) - b
    if viol <= 0:
        return np.array(x, copy=True)
    return (x - (viol / aa) * a).astype(x.dtype, copy=False)


def halfspace(a, b: float) -> Projection:
    """Projection onto the halfspace ``{x : a @ x <= b}``.

    Parameters
    ----------
    a : array_like
        Nonzero normal vector, same shape as the points projected.
    b : float
        Offset.

    ``.contains(x, tol)`` accepts ``a . x - b <= tol * max(1, ||a||)``, i.e. a distance
    of about ``tol`` past the boundary.

    Raises
    ------
    ValueError
        If ``a`` is zero or non-finite.

    Examples
    --------
    >>> from slopes.optim.projections import halfspace
    >>> P = halfspace(np.array([0.0, 1.0]), 1.0)
    >>> P(np.array([5.0, 3.0])), P.contains(np.array([5.0, 1.0]))
    (array([5., 1.]), True)
    """
    a, b, aa = _check_normal(a, b)

    def contains(x, tol):
        return float(np.sum(a * x)) - b <= tol * max(1.0, np.sqrt(aa))

    return Projection(f"halfspace(a={_fmt(a)}, b={b!r})", lambda x: project_halfspace(x, a, b), contains)
