"""Step sizes and momenta from theory: the tuned parameters of GD, heavy ball and Nesterov.

On a quadratic whose Hessian eigenvalues lie in ``[mu, L]`` (condition number
``kappa = L / mu``) each method has a step and momentum that minimize its worst
contraction per iteration, and that contraction has a closed form:

======================  ===============================  ===================================  ==========================
method                  learning_rate                    beta                                 rate
======================  ===============================  ===================================  ==========================
``gradient_descent``    ``1 / L``                        (none)                               ``1 - 1/kappa``
``heavy_ball``          ``4 / (sqrt L + sqrt mu)^2``     ``((sqrt k - 1) / (sqrt k + 1))^2``  ``(sqrt k - 1)/(sqrt k + 1)``
``nesterov``            ``1 / L``                        ``(sqrt k - 1) / (sqrt k + 1)``      ``1 - 1/sqrt k``
======================  ===============================  ===================================  ==========================

``rate`` is the factor by which the distance to the minimizer shrinks per iteration once
the transient has passed (``f - f*`` shrinks by its square). The momenta are those of
:func:`slopes.optim.momentum` and :func:`slopes.optim.nesterov` (``v <- beta v + g``), whose
iterates are Polyak's and Nesterov's, so :attr:`Preset.options` can go straight to
:func:`slopes.minimize`. :func:`for_problem` reads ``L`` and ``mu`` off the Hessian of ``f``.

>>> import slopes as sl
>>> p = sl.optim.presets.heavy_ball(L=20.0, mu=2.0)
>>> round(p.learning_rate, 4), round(p.beta, 4), round(p.rate, 4)
(0.1154, 0.2699, 0.5195)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import check_number

__all__ = ["Preset", "for_problem", "gradient_descent", "heavy_ball", "nesterov", "observed_rate"]


@dataclass(frozen=True)
class Preset:
    """Tuned parameters of one method for gradients with constants ``L`` and ``mu``.

    Attributes
    ----------
    method : str
        The :func:`slopes.minimize` method they are for: ``"gd"``, ``"momentum"`` or ``"nesterov"``.
    L, mu : float
        The smoothness and strong-convexity constants used.
    learning_rate : float
    beta : float or None
        The momentum (None for gradient descent).
    rate : float
        The predicted contraction of ``||x_k - x*||`` per iteration on a quadratic with
        Hessian spectrum in ``[mu, L]`` (1.0 when ``mu = 0``: no linear rate).
    rule : str
        One sentence stating the formulas with the numbers, for a page.
    """

    method: str
    L: float
    mu: float
    learning_rate: float
    beta: float | None
    rate: float
    rule: str

    @property
    def kappa(self) -> float:
        """The condition number ``L / mu`` (inf when ``mu = 0``)."""
        return self.L / self.mu if self.mu > 0 else math.inf

    @property
    def options(self) -> dict:
        """Keyword arguments for :func:`slopes.minimize`: ``method``, ``learning_rate`` and ``beta``.

        Examples
        --------
        >>> nesterov(L=4.0, mu=1.0).options
        {'method': 'nesterov', 'learning_rate': 0.25, 'beta': 0.3333333333333333}
        """
        out = {"method": self.method, "learning_rate": self.learning_rate}
        if self.beta is not None:
            out["beta"] = self.beta
        return out


def _constants(who, L, mu, *, strongly_convex):
    L = check_number(L, f"{who}: L", low=0.0, low_open=True)
    mu = check_number(mu, f"{who}: mu", low=0.0, high=L)
    if strongly_convex and mu == 0:
        raise ValueError(
            f"{who}: needs mu > 0 (its momentum is tuned to the condition number L/mu); "
            "for a function that is not strongly convex use gradient_descent(L) (step 1/L)"
        )
    return float(L), float(mu)


def _g(x: float) -> str:
    return f"{x:.4g}"


def _accelerated(who, L, mu):
    """Checked ``L, mu > 0`` and ``(sqrt k - 1)/(sqrt k + 1)``, written without forming ``kappa``."""
    L, mu = _constants(who, L, mu, strongly_convex=True)
    sL, smu = math.sqrt(L), math.sqrt(mu)
    return L, mu, (sL - smu) / (sL + smu)


def _tuned(method, name, constants, lr, beta, rate):
    """The Preset of a momentum method from its ``(formula, value)`` pairs, the rule written from them."""
    L, mu = constants
    rule = (
        f"{name} for kappa = L/mu = {_g(L / mu)}: learning rate {lr[0]} = {_g(lr[1])}, "
        f"beta = {beta[0]} = {_g(beta[1])}; predicted rate {rate[0]} = {_g(rate[1])} per iteration"
    )
    return Preset(method, L, mu, lr[1], beta[1], rate[1], rule)


def gradient_descent(L, mu=0.0) -> Preset:
    """Gradient descent with the step ``1/L``: contraction ``1 - mu/L`` per iteration.

    The step ``1/L`` (not ``2/(L + mu)``, whose rate ``(kappa - 1)/(kappa + 1)`` is better) is
    chosen because it needs no ``mu`` and stays safe when ``L`` is only an estimate: it is
    half-way inside the stability limit ``2/L``, and it is the step of the guarantee
    ``f(x_k) - f* <= (1 - mu/L)^k (f(x_0) - f*)``.

    Parameters
    ----------
    L : float
        Lipschitz constant of the gradient (largest Hessian eigenvalue), ``> 0``.
    mu : float, default 0
        Strong-convexity constant (smallest Hessian eigenvalue), ``0 <= mu <= L``.

    Returns
    -------
    Preset
        ``method="gd"``, ``beta=None``, ``rate = 1 - mu/L``.

    Examples
    --------
    >>> p = gradient_descent(L=20.0, mu=2.0)
    >>> p.learning_rate, p.beta, p.rate
    (0.05, None, 0.9)
    >>> p.rule
    'gradient descent with step 1/L = 0.05: the error shrinks by 1 - mu/L = 1 - 1/kappa = 0.9 per iteration (kappa = 10)'
    """
    L, mu = _constants("gradient_descent", L, mu, strongly_convex=False)
    rate = 1.0 - mu / L
    if mu > 0:
        rule = (
            f"gradient descent with step 1/L = {_g(1 / L)}: the error shrinks by 1 - mu/L = 1 - 1/kappa = "
            f"{_g(rate)} per iteration (kappa = {_g(L / mu)})"
        )
    else:
        rule = f"gradient descent with step 1/L = {_g(1 / L)}: with mu = 0 no linear rate is promised, only f - f* = O(1/k)"
    return Preset("gd", L, mu, 1.0 / L, None, rate, rule)


def heavy_ball(L, mu) -> Preset:
    """Polyak's heavy ball tuned for ``kappa = L/mu``: the rate ``(sqrt k - 1)/(sqrt k + 1)``.

    Parameters
    ----------
    L, mu : float
        Largest and smallest Hessian eigenvalues, ``0 < mu <= L``.

    Returns
    -------
    Preset
        ``method="momentum"``, ``learning_rate = 4/(sqrt L + sqrt mu)^2``,
        ``beta = ((sqrt k - 1)/(sqrt k + 1))^2``, ``rate = sqrt(beta)``.

    Examples
    --------
    >>> p = heavy_ball(L=100.0, mu=1.0)   # kappa = 100: (10 - 1)/(10 + 1)
    >>> round(p.learning_rate, 6), round(p.beta, 6), round(p.rate, 6)
    (0.033058, 0.669421, 0.818182)
    """
    L, mu, root = _accelerated("heavy_ball", L, mu)
    return _tuned(
        "momentum",
        "heavy ball",
        (L, mu),
        ("4/(sqrt L + sqrt mu)^2", 4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2),
        ("((sqrt kappa - 1)/(sqrt kappa + 1))^2", root**2),
        ("(sqrt kappa - 1)/(sqrt kappa + 1)", root),
    )


def nesterov(L, mu) -> Preset:
    """Nesterov's accelerated gradient tuned for ``kappa = L/mu``: the rate ``1 - 1/sqrt k``.

    Parameters
    ----------
    L, mu : float
        Largest and smallest Hessian eigenvalues, ``0 < mu <= L``.

    Returns
    -------
    Preset
        ``method="nesterov"``, ``learning_rate = 1/L``, ``beta = (sqrt k - 1)/(sqrt k + 1)``,
        ``rate = 1 - 1/sqrt k``.

    Examples
    --------
    >>> p = nesterov(L=100.0, mu=1.0)
    >>> p.learning_rate, round(p.beta, 6), p.rate
    (0.01, 0.818182, 0.9)
    """
    L, mu, root = _accelerated("nesterov", L, mu)
    return _tuned(
        "nesterov",
        "Nesterov",
        (L, mu),
        ("1/L", 1.0 / L),
        ("(sqrt kappa - 1)/(sqrt kappa + 1)", root),
        ("1 - 1/sqrt kappa", 1.0 - math.sqrt(mu / L)),
    )


#: The presets by the :func:`slopes.minimize` method they tune.
PRESETS = {"gd": gradient_descent, "momentum": heavy_ball, "nesterov": nesterov}


def for_problem(f, x, method="momentum", *, bounds=None) -> Preset:
    """The preset of ``method`` with ``L`` and ``mu`` read off the Hessian of ``f``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` written with :mod:`slopes.numpy`.
    x : array_like, 1-D
        Where the Hessian is taken (exact for a quadratic, a local model otherwise).
    method : {"gd", "momentum", "nesterov"}
        The :func:`slopes.minimize` method to tune (``"momentum"`` is the heavy ball).
    bounds : sequence of (low, high) pairs, optional
        Instead of one point, estimate ``L`` and ``mu`` over this box with
        :func:`slopes.analysis.smoothness` (safer away from a quadratic).

    Returns
    -------
    Preset
        ``L`` is the largest ``|eigenvalue|``; ``mu`` the smallest eigenvalue, counted as 0
        below ``sqrt(eps) * max(1, L)`` (the convention of :func:`~slopes.analysis.smoothness`).

    Examples
    --------
    >>> f = lambda x: x[0] ** 2 + 10 * x[1] ** 2     # Hessian diag(2, 20)
    >>> p = for_problem(f, [-8.0, 2.0], "nesterov")
    >>> p.L, p.mu, p.method
    (20.0, 2.0, 'nesterov')
    """
    if method not in PRESETS:
        raise ValueError(f"for_problem: method must be one of {sorted(PRESETS)}, got {method!r}")
    from .. import analysis  # analysis builds on optim: import it when called
    from ..analysis._common import Derivatives, as_point, hessian_extremes, relative_tol

    if bounds is not None:
        s = analysis.smoothness(f, bounds)
        L, mu = s.L, s.mu
    else:
        point = as_point(x, "x").astype(np.float64)
        min_eig, _, _, L = hessian_extremes(Derivatives(f), point.reshape(1, -1))
        if not L > 0:
            raise ValueError("for_problem: the Hessian of f at x is zero (f is affine there): no L to tune for")
        mu = min_eig if min_eig > relative_tol(None) * max(1.0, L) else 0.0
        if mu == 0 and method != "gd":
            raise ValueError(
                f"for_problem: the Hessian of f at x has smallest eigenvalue {min_eig:.3g} (not > 0), so "
                f"{method!r} has no condition number to be tuned for; use method='gd' (step 1/L), "
                "or a point x where f is strongly convex"
            )
    return PRESETS[method](L, mu)


def observed_rate(path, x_star, *, floor=None) -> float:
    """The contraction per iteration seen in a run: fitted over the second half of its iterates.

    ``exp`` of the least-squares slope of ``log ||x_k - x*||`` against ``k`` over the second
    half of the iterates that are above the rounding floor; compare with :attr:`Preset.rate`.

    Parameters
    ----------
    path : Result or array_like, shape (n, d)
        A :func:`slopes.minimize` result with ``record_x=True``, or its iterates.
    x_star : array_like, shape (d,)
        The minimizer.
    floor : float, optional
        Distances at or below it are rounding noise and left out (default
        ``100 eps max(1, ||x*||)``).

    Returns
    -------
    float
        nan when fewer than 4 iterates are usable.

    Examples
    --------
    >>> import numpy as np
    >>> path = np.outer(0.5 ** np.arange(30), [3.0, -1.0]) + [1.0, 2.0]
    >>> round(observed_rate(path, [1.0, 2.0]), 12)
    0.5
    """
    history = getattr(path, "history", None)
    if history is not None:
        if not history.record_x:
            raise ValueError("observed_rate: the run has no iterates; call sl.minimize(..., record_x=True)")
        path = history.x
    xs = np.asarray(path, dtype=np.float64)
    x_star = np.asarray(x_star, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1:] != x_star.shape:
        raise ValueError(
            f"observed_rate: need iterates of shape (n, {x_star.size}) for x_star of shape {x_star.shape}, "
            f"got {xs.shape} (a Result needs record_x=True)"
        )
    err = np.linalg.norm(xs - x_star, axis=1)
    if floor is None:
        floor = 100 * np.finfo(np.float64).eps * max(1.0, float(np.linalg.norm(x_star)))
    low = np.flatnonzero(~(err > floor))  # NaN counts as unusable too
    usable = err[: low[0]] if low.size else err
    if usable.size < 4:
        return math.nan
    k0 = usable.size // 2
    k = np.arange(k0, usable.size)
    return float(np.exp(np.polyfit(k, np.log(usable[k0:]), 1)[0]))
