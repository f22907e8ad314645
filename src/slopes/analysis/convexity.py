"""Convexity over a box, checked on samples: Hessian eigenvalues and the first-order condition.

A twice-differentiable ``f`` is convex on a convex set iff ``H(x) >= 0`` there, iff
``f(y) >= f(x) + grad f(x).(y - x)`` for all ``x, y`` in it; ``mu``-strongly convex iff
``H(x) >= mu I``. :func:`convexity` tests both on samples, so it can prove
non-convexity (it returns a counterexample) but never convexity.

>>> import slopes as sl, slopes.numpy as snp
>>> sl.analysis.convexity(lambda x: snp.sum(x ** 2), [(-1, 1), (-1, 1)]).mu
2.0
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._display import Card, brief_repr, card_html
from ._common import Derivatives, as_bounds, hessian_extremes, positive_int, relative_tol
from ._sampling import box_pairs, box_samples

__all__ = ["ConvexityReport", "convexity", "first_order_gap"]


class ConvexityReport(NamedTuple):
    """Outcome of :func:`convexity` (sample-based: evidence, not proof).

    Attributes
    ----------
    no_counterexample : bool
        True when no sample had a Hessian eigenvalue below ``-tol`` and no pair broke the
        first-order condition. Not a proof of convexity: the samples may miss the region
        where ``f`` bends down.
    min_eigenvalue : float
        The smallest Hessian eigenvalue over the samples.
    x_min_eigenvalue : ndarray
        The sample where it occurs.
    mu : float
        Strong-convexity estimate: ``min_eigenvalue`` when it is above ``tol``, else 0.
        An upper bound of the true ``mu`` on the box (the minimum may lie between samples).
    min_gap : float
        The smallest first-order gap ``f(y) - f(x) - grad f(x).(y - x)`` over the pairs.
    counterexample : tuple of two ndarrays or None
        A pair ``(x, y)`` in the box with a negative gap beyond rounding, when one was
        found (from the random pairs, else built along the eigenvector of a negative
        eigenvalue).
    tol : float
        Eigenvalue tolerance used (absolute).
    n_samples, n_pairs : int
    """

    no_counterexample: bool
    min_eigenvalue: float
    x_min_eigenvalue: np.ndarray
    mu: float
    min_gap: float
    counterexample: tuple | None
    tol: float
    n_samples: int
    n_pairs: int

    __repr__ = brief_repr

    def _card(self) -> Card:
        if self.no_counterexample:
            verdict, status = "no counterexample (evidence, not proof)", "good"
        else:
            verdict, status = "not convex", "bad"
        rows = [("min Hessian eigenvalue", self.min_eigenvalue), ("at", self.x_min_eigenvalue),
                ("mu (strong convexity)", self.mu), ("min first-order gap", self.min_gap)]
        if self.counterexample is not None:
            rows.append(("counterexample (x, y)", self.counterexample))
        return Card(verdict, status, f"convexity: {self.n_samples} samples, {self.n_pairs} pairs", rows)

    _repr_html_ = card_html


def first_order_gap(f, x, y, *, grad=None) -> float:
    """The first-order convexity gap ``f(y) - f(x) - grad f(x).(y - x)``.

    Non-negative for every pair iff ``f`` is convex (on a convex domain).

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    x, y : array_like
        The pair.
    grad : callable, optional
        ``grad f``; by default :func:`slopes.grad` of ``f``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> sl.analysis.first_order_gap(lambda x: x[0] ** 2, np.array([1.0]), np.array([3.0]))  # (3-1)^2
    4.0
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape (got {x.shape} and {y.shape})")
    d = Derivatives(f)
    g = d.grad(x) if grad is None else np.asarray(grad(x), dtype=float).reshape(x.shape)
    return d.value(y) - d.value(x) - float(np.dot(g.ravel(), (y - x).ravel()))


def _violates(gap, fx, fy, lin, rtol):
    # a gap counts only beyond the rounding error of the three terms it subtracts
    return gap < -rtol * (1.0 + abs(fx) + abs(fy) + abs(lin))


def _eigen_counterexample(d, x, v, lo, hi, rtol):
    """A pair along the eigenvector ``v`` of a negative eigenvalue at ``x`` (gap ~ lambda h^2 / 2)."""
    fx, gx = d.value(x), d.grad(x)
    h = float(np.linalg.norm(hi - lo))
    for _ in range(60):
        for s in (h, -h):
            y = np.clip(x + s * v, lo, hi)
            lin = float(gx @ (y - x))
            fy = d.value(y)
            if _violates(fy - fx - lin, fx, fy, lin, rtol):
                return x, y
        h *= 0.5
    return None


def convexity(f, bounds, *, n_samples=256, n_pairs=None, seed=0, tol=None) -> ConvexityReport:
    """Look for evidence against the convexity of ``f`` on a box.

    Two checks on samples: the Hessian's smallest eigenvalue at ``n_samples``
    scrambled-Halton points, and the first-order condition
    ``f(y) >= f(x) + grad f(x).(y - x)`` on ``n_pairs`` uniform random pairs.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` written with :mod:`slopes.numpy`.
    bounds : sequence of (low, high) pairs
        The box, one pair per coordinate.
    n_samples : int
        Points where the Hessian is computed.
    n_pairs : int, optional
        Pairs for the first-order check; default ``n_samples``.
    seed : int
        Seed of the samples and pairs.
    tol : float, optional
        Relative tolerance: an eigenvalue counts as negative below
        ``-tol * max(1, max |lambda|)``, a gap below ``-tol * (1 + |f(x)| + |f(y)| + |lin|)``.
        Default ``sqrt(eps)`` (about 1.5e-8).

    Returns
    -------
    ConvexityReport
        ``no_counterexample=True`` means only that none was found (sampling is not a proof);
        ``False`` comes with a ``counterexample`` pair that proves non-convexity.

    Examples
    --------
    >>> import slopes as sl
    >>> rosen = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    >>> r = sl.analysis.convexity(rosen, [(-2, 2), (-1, 3)], n_samples=64)
    >>> r.no_counterexample, r.counterexample is not None, r.min_eigenvalue < 0
    (False, True, True)
    """
    lo, hi = as_bounds(bounds)
    n_samples = positive_int(n_samples, "n_samples")
    n_pairs = n_samples if n_pairs is None else positive_int(n_pairs, "n_pairs")
    rtol = relative_tol(tol)
    d = Derivatives(f)
    min_eig, x_min, v_min, max_abs = hessian_extremes(d, box_samples(lo, hi, n_samples, seed))
    tol_eig = rtol * max(1.0, max_abs)

    min_gap, counter = np.inf, None
    xs, ys = box_pairs(lo, hi, n_pairs, seed)
    for x, y in zip(xs, ys):
        fx, fy = d.value(x), d.value(y)
        lin = float(d.grad(x) @ (y - x))
        gap = fy - fx - lin
        if gap < min_gap:
            min_gap = gap
            if _violates(gap, fx, fy, lin, rtol):
                counter = (x, y)
    if counter is None and min_eig < -tol_eig:
        counter = _eigen_counterexample(d, x_min, v_min, lo, hi, rtol)
    ok = counter is None and min_eig >= -tol_eig
    mu = min_eig if min_eig > tol_eig else 0.0
    return ConvexityReport(ok, min_eig, x_min, mu, float(min_gap), counter, tol_eig, n_samples, n_pairs)
