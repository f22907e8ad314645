"""Smoothness and strong convexity on a box: L, mu, kappa, and what they promise gradient descent.

``grad f`` is ``L``-Lipschitz when ``||grad f(x) - grad f(y)|| <= L ||x - y||``, i.e.
``||H(x)||_2 <= L``; with ``H(x) >= mu I`` as well, gradient descent with step ``1/L``
satisfies ``f(x_k) - f* <= (1 - mu/L)^k (f(x_0) - f*)``. :func:`smoothness` estimates
``L`` and ``mu`` on samples; :func:`gd_rate` runs that descent and compares.

>>> import slopes as sl
>>> s = sl.analysis.smoothness(lambda x: x[0] ** 2 + 10 * x[1] ** 2, [(-1, 1), (-1, 1)])
>>> s.L, s.mu, s.kappa, s.rate
(20.0, 2.0, 10.0, 0.9)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..optim import minimize
from .._display import Card, brief_repr, card_html
from ._common import Derivatives, as_bounds, as_point, hessian_extremes, positive_int, relative_tol
from ._sampling import box_pairs, box_samples

__all__ = ["GDRate", "SmoothnessReport", "gd_rate", "smoothness"]


class SmoothnessReport(NamedTuple):
    """Outcome of :func:`smoothness` (sample-based estimates: lower bounds of the true ``L``).

    Attributes
    ----------
    L : float
        ``max(L_hessian, L_secant)``.
    L_hessian : float
        The largest ``||H(x)||_2 = max |lambda|`` over the samples.
    L_secant : float
        The largest ``||grad f(x) - grad f(y)|| / ||x - y||`` over the pairs.
    mu : float
        The smallest Hessian eigenvalue over the samples when it is above the tolerance,
        else 0 (not strongly convex on the samples).
    kappa : float
        ``L / mu`` (inf when ``mu`` is 0).
    step : float
        The gradient-descent step ``1 / L``.
    rate : float
        ``1 - mu / L``: the guaranteed contraction of ``f - f*`` per step of size ``1/L``.
    """

    L: float
    L_hessian: float
    L_secant: float
    mu: float
    kappa: float
    step: float
    rate: float

    __repr__ = brief_repr

    def _card(self) -> Card:
        strongly = self.mu > 0
        verdict = f"L = {self.L:.4g}, " + (f"kappa = {self.kappa:.4g}" if strongly else "not strongly convex (mu = 0)")
        rows = [("L (Hessian, secant)", (self.L_hessian, self.L_secant)), ("mu", self.mu), ("kappa = L / mu", self.kappa),
                ("gradient-descent step 1 / L", self.step), ("contraction per step 1 - mu / L", self.rate)]
        return Card(verdict, "info", "smoothness: sample estimates (lower bounds of L)", rows)

    _repr_html_ = card_html


def smoothness(f, bounds, *, n_samples=256, n_pairs=None, seed=0, tol=None) -> SmoothnessReport:
    """Estimate the gradient's Lipschitz constant ``L``, ``mu``, ``kappa = L/mu`` on a box.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` written with :mod:`slopes.numpy`.
    bounds : sequence of (low, high) pairs
        The box, one pair per coordinate.
    n_samples : int
        Scrambled-Halton points where the Hessian spectrum is computed.
    n_pairs : int, optional
        Uniform random pairs for the secant ratios; default ``n_samples``.
    seed : int
        Seed of the samples and pairs.
    tol : float, optional
        Relative tolerance below which the smallest eigenvalue counts as 0 (times
        ``max(1, L_hessian)``); default ``sqrt(eps)``.

    Returns
    -------
    SmoothnessReport
        Estimates from samples: the true ``L`` on the box may be larger, the true ``mu``
        smaller. For a quadratic both are exact.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> s = sl.analysis.smoothness(lambda x: snp.sum(snp.log(snp.cosh(x))), [(-3, 3)])
    >>> bool(0.99 < s.L <= 1.0), s.mu > 0   # f'' = 1 - tanh^2 <= 1, largest at 0
    (True, True)
    """
    lo, hi = as_bounds(bounds)
    n_samples = positive_int(n_samples, "n_samples")
    n_pairs = n_samples if n_pairs is None else positive_int(n_pairs, "n_pairs")
    rtol = relative_tol(tol)
    d = Derivatives(f)
    min_eig, _, _, L_h = hessian_extremes(d, box_samples(lo, hi, n_samples, seed))
    L_s = 0.0
    xs, ys = box_pairs(lo, hi, n_pairs, seed)
    for x, y in zip(xs, ys):
        dist = float(np.linalg.norm(x - y))
        if dist > 0:
            L_s = max(L_s, float(np.linalg.norm(d.grad(x) - d.grad(y))) / dist)
    L = max(L_h, L_s)
    if not L > 0:
        raise ValueError("f has a zero Hessian on every sample (affine): no smoothness constant to estimate")
    mu = min_eig if min_eig > rtol * max(1.0, L_h) else 0.0
    kappa = L / mu if mu > 0 else np.inf
    return SmoothnessReport(L, L_h, L_s, mu, kappa, 1.0 / L, 1.0 - mu / L)


class GDRate(NamedTuple):
    """Outcome of :func:`gd_rate`.

    Attributes
    ----------
    predicted : float
        ``1 - mu/L``, the guaranteed contraction factor of ``f - f*`` per step.
    observed : float
        The fitted factor: ``exp`` of the least-squares slope of ``log(f_k - f*)`` over
        the second half of the usable iterations (nan when fewer than 3 are usable).
    ratios : ndarray
        The successive ratios ``(f_{k+1} - f*) / (f_k - f*)`` over the usable iterations.
    gaps : ndarray
        ``f_k - f*`` for every recorded iteration.
    result : Result
        The :func:`slopes.minimize` run.
    """

    predicted: float
    observed: float
    ratios: np.ndarray
    gaps: np.ndarray
    result: object

    __repr__ = brief_repr


def gd_rate(f, x0, *, L, mu, f_star, maxiter=200) -> GDRate:
    """Run gradient descent with step ``1/L`` and compare its rate with ``1 - mu/L``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    x0 : array_like
        Start.
    L, mu : float
        Smoothness and strong-convexity constants (e.g. from :func:`smoothness`).
    f_star : float
        The minimum value of ``f``.
    maxiter : int
        Iterations of ``sl.minimize(f, x0, method="gd", learning_rate=1/L)``.

    Returns
    -------
    GDRate
        Gaps that fall below ``1e-10`` of the first (or to the rounding level of
        ``f_star``) are left out of the fit. On a quadratic the gap along the eigenvector of
        ``mu`` contracts by exactly ``(1 - mu/L)^2`` (its iterate by ``1 - mu/L``), so
        the bound on ``f - f*`` is not tight there: expect ``observed <= predicted``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)
    >>> r = sl.analysis.gd_rate(f, np.array([1.0, 0.0]), L=10.0, mu=1.0, f_star=0.0)
    >>> r.predicted, round(r.observed, 12)   # (1 - 1/10)^2 along the slow direction
    (0.9, 0.81)
    """
    x0 = as_point(x0, "x0")
    maxiter = positive_int(maxiter, "maxiter")
    L, mu, f_star = float(L), float(mu), float(f_star)
    if not (np.isfinite(L) and L > 0 and np.isfinite(mu) and 0 <= mu <= L):
        raise ValueError(f"need finite 0 <= mu <= L with L > 0 (got L={L}, mu={mu})")
    if not np.isfinite(f_star):
        raise ValueError(f"f_star must be finite (got {f_star})")
    res = minimize(f, x0, method="gd", learning_rate=1.0 / L, maxiter=maxiter, gtol=0.0)
    gaps = res.history.f - f_star
    floor = max(1e-10 * gaps[0], 100 * np.finfo(np.float64).eps * max(1.0, abs(f_star)))
    usable = int(np.argmax(gaps <= floor)) if np.any(gaps <= floor) else gaps.size
    g = gaps[:usable]
    ratios = g[1:] / g[:-1]
    observed = np.nan
    if g.size >= 3:
        k0 = g.size // 2 - 1 if g.size >= 6 else 0
        k = np.arange(k0, g.size)
        observed = float(np.exp(np.polyfit(k, np.log(g[k0:]), 1)[0]))
    return GDRate(1.0 - mu / L, observed, ratios, gaps, res)
