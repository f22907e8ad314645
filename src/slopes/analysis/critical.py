"""Critical points: the second-derivative test and a multi-start search for all of them.

:func:`classify` applies the Hessian test at one point; :func:`critical_points`
solves ``grad f(x) = 0`` by Newton's method from many space-filling starts in a box,
so it finds saddles and maxima as well as minima, and classifies each.

>>> import numpy as np, slopes as sl
>>> [p.kind for p in sl.analysis.critical_points(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)])]
['saddle']
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._display import Card, brief_repr, card_html
from ._common import Derivatives, as_bounds, as_point, positive_int
from ._sampling import box_samples

__all__ = ["CriticalPoint", "classify", "critical_points"]

KINDS = ("minimum", "maximum", "saddle", "degenerate", "not critical", "not differentiable")


class CriticalPoint(NamedTuple):
    """What the first and second derivatives say about ``f`` at ``x``.

    Attributes
    ----------
    kind : str
        ``'minimum'``, ``'maximum'``, ``'saddle'``, ``'degenerate'``, ``'not critical'`` or
        ``'not differentiable'``.
    x : ndarray
        The point.
    value : float
        ``f(x)``.
    grad_norm : float
        ``||grad f(x)||_2``.
    eigenvalues : ndarray
        Eigenvalues of the Hessian, ascending (NaN when the Hessian is not finite).
    hessian : ndarray
        The Hessian at ``x``.
    tol : float
        The eigenvalue tolerance used: ``|lambda| <= tol`` counts as zero.
    gtol : float
        The gradient tolerance used: ``grad_norm > gtol`` means not critical.
    """

    kind: str
    x: np.ndarray
    value: float
    grad_norm: float
    eigenvalues: np.ndarray
    hessian: np.ndarray
    tol: float
    gtol: float

    __repr__ = brief_repr

    def _card(self) -> Card:
        status = {"minimum": "good", "not differentiable": "bad", "degenerate": "warn"}.get(self.kind, "info")
        rows = [("x", self.x), ("f(x)", self.value), ("||grad f(x)||", self.grad_norm),
                ("Hessian eigenvalues", self.eigenvalues), ("tolerances (eigenvalue, gradient)", (self.tol, self.gtol))]
        return Card(self.kind, status, "classify: the second-derivative test", rows)

    _repr_html_ = card_html


def _kind(eig: np.ndarray, tol: float) -> str:
    if eig[0] < -tol and eig[-1] > tol:
        return "saddle"  # indefinite: a saddle whatever the zero eigenvalues do
    if eig[0] > tol:
        return "minimum"
    if eig[-1] < -tol:
        return "maximum"
    return "degenerate"


def _classify(d: Derivatives, x: np.ndarray, tol, gtol) -> CriticalPoint:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a pole gives inf: reported below
        g = d.grad(x)
        H = d.hess(x)
        value = d.value(x)
    H = 0.5 * (H + H.T)  # AD Hessians are symmetric up to rounding
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        # a pole, a branch point, a cusp: an infinite gradient would pass a tolerance scaled by
        # an infinite eigenvalue, so the test is not run at all
        nan = np.full(x.size, np.nan, dtype=x.dtype)
        return CriticalPoint("not differentiable", x, value, float(np.linalg.norm(g)), nan, H, np.nan, np.nan)
    eig = np.linalg.eigvalsh(H)
    eps = np.finfo(x.dtype).eps
    scale = max(1.0, float(np.max(np.abs(eig))))
    tol_abs = (np.sqrt(eps) if tol is None else float(tol)) * scale
    gtol_abs = np.sqrt(eps) * scale if gtol is None else float(gtol)
    gn = float(np.linalg.norm(g))
    kind = "not critical" if not gn <= gtol_abs else _kind(eig, tol_abs)
    return CriticalPoint(kind, x, value, gn, eig.astype(x.dtype), H, tol_abs, gtol_abs)


def _check_tols(tol, gtol):
    for name, v in (("tol", tol), ("gtol", gtol)):
        if v is not None and not (np.isscalar(v) and np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0 or None for the default (got {v!r})")


def classify(f, x, *, tol=None, gtol=None) -> CriticalPoint:
    """Classify the point ``x`` of ``f`` by the gradient and the Hessian's eigenvalues.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` written with :mod:`slopes.numpy` (derivatives come from AD).
    x : array_like
        The point (a vector, or a scalar for a function of one variable).
    tol : float, optional
        Relative eigenvalue tolerance: an eigenvalue counts as zero when
        ``|lambda| <= tol * max(1, max|lambda_i|)``. Default ``sqrt(eps)`` of the dtype
        (about 1.5e-8 in float64).
    gtol : float, optional
        Absolute gradient tolerance: ``x`` is ``'not critical'`` when
        ``||grad f(x)|| > gtol``. Default ``sqrt(eps) * max(1, max|lambda_i|)`` (the
        gradient a rounding-level displacement makes); pass a larger one for a point known
        to a few digits only.

    Returns
    -------
    CriticalPoint
        ``kind`` is ``'minimum'`` (all eigenvalues > tol), ``'maximum'`` (all < -tol),
        ``'saddle'`` (some of each sign: the Hessian is indefinite), ``'degenerate'``
        (the test is inconclusive: zero eigenvalues and no two of opposite sign),
        ``'not critical'`` (gradient above ``gtol``; the eigenvalues are still given) or
        ``'not differentiable'`` (the gradient or the Hessian is not finite at ``x``: a pole
        such as ``1/x`` at 0, a branch point such as ``sqrt`` or ``log`` at 0, a cusp; the
        second-derivative test does not apply, so the eigenvalues and tolerances are NaN).

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> c = sl.analysis.classify(lambda x: x[0] ** 2 - 3 * x[1] ** 2, np.zeros(2))
    >>> c.kind, c.eigenvalues
    ('saddle', array([-6.,  2.]))
    >>> sl.analysis.classify(lambda x: x[0] ** 2 * x[1] ** 2, np.zeros(2)).kind
    'degenerate'
    >>> sl.analysis.classify(lambda x: 1 / x[0], np.zeros(1)).kind
    'not differentiable'
    """
    _check_tols(tol, gtol)
    return _classify(Derivatives(f), as_point(x), tol, gtol)


def _newton_root(d: Derivatives, x, lo, hi, maxiter, step_cap):
    """Damped Newton on ``grad f = 0`` with merit ``|g|^2 / 2``; None when it fails or leaves the box."""
    slack = 0.1 * (hi - lo)  # iterates may wander a little outside, the answer may not
    g = d.grad(x)
    phi = 0.5 * float(g @ g)
    for _ in range(maxiter):
        if phi == 0.0:
            return x
        H = d.hess(x)
        p = -np.linalg.lstsq(H, g, rcond=None)[0]  # least squares: a singular H still gives a step
        norm_p = float(np.linalg.norm(p))
        if not np.isfinite(norm_p):
            return None
        if norm_p > step_cap:
            p *= step_cap / norm_p
        # Newton's direction descends the merit (its slope is -|g|^2 for a regular H): Armijo backtracking
        t = 1.0
        for _ in range(40):
            xn = x + t * p
            gn = d.grad(xn)
            phin = 0.5 * float(gn @ gn)
            if np.isfinite(phin) and phin <= (1.0 - 1e-4 * t) * phi:
                break
            t *= 0.5
        else:
            return None  # stuck at a local minimum of |g| that is not a root
        x, g, phi = xn, gn, phin
        if np.any(x < lo - slack) or np.any(x > hi + slack):
            return None
        if t == 1.0 and norm_p <= 1e-10 * (1.0 + float(np.linalg.norm(x))):
            return x
    return None


def critical_points(f, bounds, *, n_starts=128, seed=0, tol=None, gtol=None, xtol=None, maxiter=100):
    """All the critical points of ``f`` that Newton's method on ``grad f = 0`` finds in a box.

    From ``n_starts`` scrambled-Halton starts, Newton's method solves the system
    ``grad f(x) = 0`` with the Hessian as its Jacobian (a root finder, not a minimizer:
    it converges to saddles and maxima as readily as to minima). Steps are damped by
    backtracking on ``||grad f||^2`` and capped at half the box's diagonal. A start is
    dropped when its iterates leave the box by more than 10% of its width, when it
    does not converge in ``maxiter`` steps, or when its limit lies outside the box.
    Roots closer than ``xtol`` are merged, and each is classified with :func:`classify`.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` written with :mod:`slopes.numpy`.
    bounds : sequence of (low, high) pairs
        The box, one pair per coordinate (the :mod:`scipy.optimize` convention).
    n_starts : int
        Number of starts (scrambled Halton points, :class:`scipy.stats.qmc.Halton`).
    seed : int
        Seed of the scrambling; same seed, same result.
    tol, gtol : float, optional
        Passed to :func:`classify`.
    xtol : float, optional
        Merge distance; default ``1e-6`` times the box's diagonal.
    maxiter : int
        Newton iterations per start.

    Returns
    -------
    list of CriticalPoint
        Sorted by ``value``, then by ``x``. Sampling, so a point whose basin of
        attraction no start hits is missed: raise ``n_starts`` to be more thorough. A
        curve of critical points (a degenerate case) shows up as several points on it.

    Examples
    --------
    >>> import slopes as sl
    >>> f = lambda x: x[0] ** 3 - 3 * x[0] + x[1] ** 2   # min at (1, 0), saddle at (-1, 0)
    >>> [(p.kind, p.x.round(6).tolist(), p.value) for p in sl.analysis.critical_points(f, [(-2, 2), (-2, 2)])]
    [('minimum', [1.0, 0.0], -2.0), ('saddle', [-1.0, 0.0], 2.0)]
    """
    _check_tols(tol, gtol)
    lo, hi = as_bounds(bounds)
    n_starts = positive_int(n_starts, "n_starts")
    maxiter = positive_int(maxiter, "maxiter")
    diag = float(np.linalg.norm(hi - lo))
    xtol = 1e-6 * diag if xtol is None else float(xtol)
    if not (np.isfinite(xtol) and xtol >= 0):
        raise ValueError(f"xtol must be a finite number >= 0 (got {xtol!r})")
    d = Derivatives(f)
    starts = box_samples(lo, hi, n_starts, seed)
    roots: list[np.ndarray] = []
    for x0 in starts:
        x = _newton_root(d, x0, lo, hi, maxiter, 0.5 * diag)
        if x is None or np.any(x < lo) or np.any(x > hi):
            continue
        if all(np.linalg.norm(x - r) > xtol for r in roots):
            roots.append(x)
    found = [_classify(d, r, tol, gtol) for r in roots]
    return sorted(found, key=lambda c: (c.value, tuple(c.x)))
