"""Newton directions with a Hessian modification, and one damped Newton step.

The Newton direction solves ``H d = -g``. It is a descent direction
(``g . d < 0``) only when ``H`` is positive definite; far from a minimizer (a
saddle, a region of negative curvature) it may point uphill. Both functions here
therefore solve with a *modified* Hessian ``H + dH`` that is positive definite,
and leave ``H`` untouched when it already is (Nocedal & Wright, *Numerical
Optimization*, 2nd ed., section 3.4):

* ``modification="eigenvalue"`` (the default): with ``H = Q diag(lam) Q^T``,
  every eigenvalue is replaced by ``max(|lam_i|, delta)``. Negative curvature is
  *flipped*, not clipped to ``delta``: clipping (N&W 3.41) gives a step of length
  about ``|g_i| / delta`` along each negative-curvature eigenvector, which is
  huge for a small ``delta``; flipping gives the step a second-order model of
  ``|lam_i|`` would give, of the natural length, still moving away from the
  saddle along that eigenvector (the "saddle-free Newton" choice).
  Eigenvalues in ``[0, delta)`` are lifted to ``delta``.
* ``modification="cholesky"``: add a multiple of the identity, ``H + tau I``,
  with ``tau`` increased (doubled) until a Cholesky factorization succeeds
  (N&W Algorithm 3.3).

Either way the direction is ``g . d < 0`` whenever ``g != 0``; if rounding ever
broke that, the steepest-descent direction ``-g`` is returned instead (and the
info says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .linesearch import backtracking, strong_wolfe

__all__ = ["HessianModification", "NewtonStepResult", "newton_direction", "newton_step"]

_SQRT_EPS = math.sqrt(np.finfo(float).eps)


class NonFiniteDerivative(ValueError):
    """The gradient or Hessian given to a Newton step has nan or inf entries (``which``:
    ``"gradient"`` or ``"Hessian"``): no Newton direction exists."""

    def __init__(self, which, message):
        super().__init__(message)
        self.which = which


class HessianModification(NamedTuple):
    """How the Hessian was modified to compute a Newton direction.

    Attributes
    ----------
    method : str
        ``"eigenvalue"`` or ``"cholesky"`` (as requested), or
        ``"steepest_descent"`` when the safeguard replaced the direction by ``-g``.
    modified : bool
        Whether ``H`` was changed at all (``False``: the plain Newton direction).
    shift : float
        The size of the change in the spectral norm, ``||dH||_2``: for
        ``"cholesky"`` the ``tau`` of ``H + tau I``; for ``"eigenvalue"`` the
        largest amount by which an eigenvalue was raised (``2 |lam|`` for a
        flipped eigenvalue ``lam < 0``). ``0.0`` when ``H`` was not modified.
    delta : float
        The curvature floor used: ``delta`` (eigenvalue) or ``beta`` (cholesky).
    min_eigenvalue : float or None
        The smallest eigenvalue of ``H`` (eigenvalue method only; the Cholesky
        method never computes it).
    n_modified : int or None
        Number of eigenvalues changed (eigenvalue method only).
    factorizations : int
        Matrix factorizations performed (one eigendecomposition, or the number
        of Cholesky attempts).
    """

    method: str
    modified: bool
    shift: float
    delta: float
    min_eigenvalue: float | None
    n_modified: int | None
    factorizations: int


class NewtonStepResult(NamedTuple):
    """The outcome of one damped Newton iteration (:func:`newton_step`).

    Attributes
    ----------
    x, f, g : np.ndarray, float, np.ndarray
        The new point, ``f`` there and the gradient there.
    step : float
        The step length ``t`` accepted by the line search (``x = x_old + t d``).
    direction : np.ndarray
        The (modified) Newton direction ``d``.
    modification : HessianModification
        How the Hessian was modified (see :func:`newton_direction`).
    nfev, ngev, nhev : int
        Evaluations of ``f``, the gradient and the Hessian made by this call,
        including those at ``x_old`` when ``fx``, ``gx`` or ``Hx`` were not given.
    success : bool
        Whether the line search succeeded.
    reason : str
        ``""`` on success, else the line search's reason for failing. On failure
        ``x`` is the best point satisfying the Armijo condition (possibly
        ``x_old`` itself).
    """

    x: np.ndarray
    f: float
    g: np.ndarray
    step: float
    direction: np.ndarray
    modification: HessianModification
    nfev: int
    ngev: int
    nhev: int
    success: bool
    reason: str


# ----------------------------------------------------------------------------- direction


def _check_g_H(g, H):
    g = np.asarray(g)
    H = np.asarray(H)
    if g.ndim != 1:
        raise ValueError(
            f"g must be a 1-D gradient vector (got shape {g.shape}); flatten it first, e.g. g.ravel()"
        )
    n = g.shape[0]
    if H.shape != (n, n):
        raise ValueError(
            f"H must be the ({n}, {n}) Hessian matching g of shape {g.shape} (got H of shape {H.shape})"
        )
    for name, which, a in (("g", "gradient", g), ("H", "Hessian", H)):
        if a.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be a real float array (got dtype {a.dtype})")
        if not np.isfinite(a).all():
            raise NonFiniteDerivative(which, f"{name} has non-finite entries (nan or inf): no Newton direction exists")
    g = g.astype(np.float64, copy=False) if g.dtype.kind != "f" else g
    H = H.astype(np.float64, copy=False) if H.dtype.kind != "f" else H
    scale = float(np.max(np.abs(H))) if H.size else 0.0
    asym = float(np.max(np.abs(H - H.T))) if H.size else 0.0
    if asym > 1e-6 * max(scale, 1.0):
        raise ValueError(
            f"H must be symmetric (got max |H - H.T| = {asym:.3g}, max |H| = {scale:.3g}); "
            "pass the Hessian of a twice-differentiable function"
        )
    return g, 0.5 * (H + H.T)


def _eigenvalue_direction(g, H, min_curvature):
    lam, Q = np.linalg.eigh(H)
    big = float(np.max(np.abs(lam))) if lam.size else 0.0
    if min_curvature is None:
        delta = _SQRT_EPS * big if big > 0 else 1.0
    else:
        delta = float(min_curvature)
    mu = np.maximum(np.abs(lam), delta)
    changed = mu != lam
    d = -(Q @ ((Q.T @ g) / mu))
    info = HessianModification(
        method="eigenvalue",
        modified=bool(np.any(changed)),
        shift=float(np.max(mu - lam)) if np.any(changed) else 0.0,
        delta=delta,
        min_eigenvalue=float(lam[0]) if lam.size else None,
        n_modified=int(np.count_nonzero(changed)),
        factorizations=1,
    )
    return d, info


def _cholesky_direction(g, H, min_curvature, max_factorizations=100):
    n = g.shape[0]
    if min_curvature is None:
        fro = float(np.linalg.norm(H))
        beta = 1e-3 * fro if fro > 0 else 1e-3
    else:
        beta = float(min_curvature)
    diag_min = float(np.min(np.diag(H))) if n else 1.0
    tau = 0.0 if diag_min > 0 else beta - diag_min
    eye = np.eye(n)
    for k in range(1, max_factorizations + 1):
        Hm = H + tau * eye if tau else H
        try:
            np.linalg.cholesky(Hm)  # the test of positive definiteness
        except np.linalg.LinAlgError:
            tau = max(2.0 * tau, beta)
            continue
        d = -np.linalg.solve(Hm, g)  # one LAPACK call; Hm is safely positive definite
        info = HessianModification("cholesky", tau > 0, float(tau), beta, None, None, k)
        return d, info
    raise RuntimeError(  # pragma: no cover - tau doubles past ||H|| long before this
        f"no Cholesky factorization of H + tau I succeeded in {max_factorizations} attempts"
    )


def newton_direction(g, H, *, modification: str = "eigenvalue", min_curvature: float | None = None):
    """A Newton direction ``d`` solving ``(H + dH) d = -g`` with ``H + dH`` positive definite.

    ``dH = 0`` when ``H`` is already (safely) positive definite; otherwise
    ``H`` is modified as documented in Nocedal & Wright, section 3.4:

    * ``"eigenvalue"`` (default): each eigenvalue ``lam_i`` of ``H`` becomes
      ``max(|lam_i|, delta)``: negative curvature is flipped, near-zero
      curvature lifted to ``delta``. ``H`` counts as unmodified when all its
      eigenvalues are at least ``delta``.
    * ``"cholesky"``: ``H + tau I`` with ``tau = 0`` if ``H`` factors (Cholesky),
      else starting at ``beta - min(diag H)`` (or ``beta``) and doubling until
      it factors (N&W Algorithm 3.3).

    For ``g != 0`` the result always satisfies ``g . d < 0``. For ``g = 0``
    (a stationary point) it is ``d = 0``.

    Parameters
    ----------
    g : array_like, shape (n,)
        The gradient.
    H : array_like, shape (n, n)
        The Hessian (symmetric; it is symmetrized as ``(H + H.T) / 2`` to wash
        out rounding, and rejected if clearly asymmetric).
    modification : {"eigenvalue", "cholesky"}
        The Hessian modification used when ``H`` is not positive definite.
    min_curvature : float, optional
        The curvature floor. Eigenvalue method: ``delta``, by default
        ``sqrt(eps) * max_i |lam_i|`` (``1.0`` for ``H = 0``, which gives
        ``d = -g``). Cholesky method: ``beta``, by default ``1e-3 * ||H||_F``
        (N&W suggest ``beta = 1e-3``; scaling by ``||H||_F`` makes it unitless).

    Returns
    -------
    d : np.ndarray, shape (n,)
        The direction.
    info : HessianModification
        Which modification was applied and how large it was.

    Raises
    ------
    ValueError
        For shape mismatches, non-finite or non-real entries, an asymmetric
        ``H``, an unknown ``modification`` or a non-positive ``min_curvature``.

    Examples
    --------
    Positive definite ``H``: the plain Newton direction.

    >>> d, info = newton_direction(np.array([1.0, 1.0]), np.diag([2.0, 4.0]))
    >>> d, info.modified
    (array([-0.5 , -0.25]), False)

    At ``(1, 0.5)`` on the saddle ``x1^2 - x2^2`` (``H = diag(2, -2)``) the
    plain Newton direction ``(-1, -0.5)`` leads to the saddle point; flipping
    the negative eigenvalue turns it downhill:

    >>> g, H = np.array([2.0, -1.0]), np.diag([2.0, -2.0])
    >>> d, info = newton_direction(g, H)
    >>> d, float(g @ d), info.shift, info.n_modified
    (array([-1. ,  0.5]), -2.5, 4.0, 1)

    The Cholesky modification adds just enough (``tau = 2 + beta``) to factor
    ``H + tau I``, which leaves a tiny curvature ``beta`` along ``x2``: a
    descent direction, but a long one there (the line search must cut it back).

    >>> d, info = newton_direction(g, H, modification="cholesky")
    >>> float(g @ d) < 0, round(info.shift, 4), info.factorizations, d.round(1)
    (True, 2.0028, 1, array([ -0.5, 353.6]))
    """
    if modification not in ("eigenvalue", "cholesky"):
        raise ValueError(f"modification must be 'eigenvalue' or 'cholesky' (got {modification!r})")
    if min_curvature is not None and not (math.isfinite(min_curvature) and min_curvature > 0):
        raise ValueError(f"min_curvature must be a finite positive number (got {min_curvature})")
    g, H = _check_g_H(g, H)
    if modification == "eigenvalue":
        d, info = _eigenvalue_direction(g, H, min_curvature)
    else:
        d, info = _cholesky_direction(g, H, min_curvature)
    if np.any(g != 0) and not (float(g @ d) < 0 and np.all(np.isfinite(d))):
        # Safeguard against rounding (e.g. a vastly ill-conditioned H): steepest descent.
        d = -g
        info = info._replace(method="steepest_descent", modified=True)
    return d, info


# ----------------------------------------------------------------------------- step


def newton_step(
    f: Callable[[np.ndarray], float],
    x,
    *,
    grad_f: Callable[[np.ndarray], np.ndarray] | None = None,
    hess_f: Callable[[np.ndarray], np.ndarray] | None = None,
    fx: float | None = None,
    gx=None,
    Hx=None,
    line_search: str = "strong_wolfe",
    modification: str = "eigenvalue",
    min_curvature: float | None = None,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_trials: int = 50,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> NewtonStepResult:
    """One damped Newton iteration: modified Newton direction, then a line search from ``t = 1``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : array_like, shape (n,)
        The current point.
    grad_f, hess_f : callable, optional
        Gradient and Hessian of ``f``; by default :func:`slopes.grad` and
        :func:`slopes.hessian` (``f`` must then be written with ``slopes.numpy``).
    fx, gx, Hx : optional
        ``f``, gradient and Hessian at ``x`` when already known (not
        re-evaluated, not counted).
    line_search : {"strong_wolfe", "backtracking"}
        :func:`~slopes.optim.strong_wolfe` (``c1``, ``c2``) or
        :func:`~slopes.optim.backtracking` (Armijo with ``c1``; the gradient at
        the new point is then evaluated once more).
    modification, min_curvature
        Passed to :func:`newton_direction`.
    c1, c2, max_trials, value_and_grad
        Passed to the line search (``value_and_grad`` to the strong Wolfe one).

    Returns
    -------
    NewtonStepResult
        The new point, value and gradient, step, direction, Hessian
        modification and evaluation counts; ``success=False`` with a reason when
        the line search fails (this function does not raise for that).

    Examples
    --------
    On a convex quadratic the full Newton step lands on the minimizer.

    >>> A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, 1.0])
    >>> f = lambda x: 0.5 * x @ A @ x - b @ x
    >>> r = newton_step(f, np.zeros(2), grad_f=lambda x: A @ x - b, hess_f=lambda x: A)
    >>> r.x, r.step, r.success, (r.nfev, r.ngev, r.nhev)
    (array([0.2, 0.4]), 1.0, True, (2, 2, 1))
    """
    if line_search not in ("strong_wolfe", "backtracking"):
        raise ValueError(f"line_search must be 'strong_wolfe' or 'backtracking' (got {line_search!r})")
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array (got shape {x.shape}); flatten it first, e.g. x.ravel()")
    x = x.astype(np.float64) if not np.issubdtype(x.dtype, np.floating) else x
    if grad_f is None or hess_f is None:
        from ..transforms import grad, hessian  # lazy: optim sits above transforms

        grad_f = grad_f if grad_f is not None else grad(f)
        hess_f = hess_f if hess_f is not None else hessian(f)
    nfev = ngev = nhev = 0
    if fx is None:
        fx, nfev = float(np.asarray(f(x)).reshape(())), 1
    if gx is None:
        gx, ngev = np.asarray(grad_f(x)), 1
    if Hx is None:
        Hx, nhev = np.asarray(hess_f(x)), 1
    d, info = newton_direction(gx, Hx, modification=modification, min_curvature=min_curvature)
    if line_search == "strong_wolfe":
        r = strong_wolfe(f, grad_f, x, d, fx=fx, gx=gx, c1=c1, c2=c2, max_trials=max_trials,
                         value_and_grad=value_and_grad)
    else:
        r = backtracking(f, x, d, fx=fx, gx=gx, c1=c1, max_trials=max_trials)
    nfev += r.trials
    ngev += r.grad_evals
    g_new = r.g_new
    if g_new is None:
        g_new, ngev = np.asarray(grad_f(r.x_new)), ngev + 1
    return NewtonStepResult(
        r.x_new, float(r.f_new), g_new, float(r.step), d, info, nfev, ngev, nhev, r.success, r.reason
    )
