"""Constrained and nonsmooth methods for :func:`slopes.minimize`.

Three methods, each a small class following the protocol of
:mod:`slopes.optim.methods_base` and registered in :data:`~slopes.optim.methods_base.METHODS`:

``projected_gradient``
    ``x <- P(x - t grad f(x))`` for ``min f`` over a closed convex set given by
    ``problem.projection`` (a :class:`~slopes.optim.projections.Projection`; the driver
    turns ``bounds=`` into a :func:`~slopes.optim.projections.box`). The step ``t`` is
    ``1/L`` when ``L`` is given, else ``learning_rate``, else a backtracking (Armijo)
    search along the projected arc ``t -> P(x - t g)``.
``proximal_gradient``
    ISTA ``x <- prox_{t h}(x - t grad f(x))`` for ``min f + h`` with ``h`` given by
    ``problem.prox`` (a :class:`~slopes.optim.prox.Prox`), and FISTA
    (``accelerate=True``) with function-value adaptive restart (O'Donoghue & Candes
    2015): the momentum is reset whenever the composite objective goes up. The value
    reported as ``f`` is the composite ``f(x) + h(x)``. The step is chosen as for
    ``projected_gradient`` (backtracking on the quadratic upper bound of Beck & Teboulle).
``subgradient``
    ``x <- x - t_k g_k`` with ``g_k`` any subgradient (what AD returns for ``abs`` and
    friends) and either diminishing steps ``t_k = learning_rate / sqrt(k + 1)``
    (``step="diminishing"``) or Polyak steps ``t_k = (f(x_k) - f_star) / ||g_k||^2``
    (``step="polyak"``, needs ``f_star``). The method is not a descent method: the best
    iterate is kept in the state and reported in ``extra`` (``"x_best"``, ``"f_best"``).

The projected and proximal methods report the fixed-point residual
``||x - P(x - eta grad f(x))||`` (:func:`~slopes.optim.prox.fixed_point_residual`) at the
new iterate in ``StepInfo.extra["measure"]``, with one fixed ``eta`` for the whole run
(``1/L`` when ``L`` is given, else the learning rate of iteration 0, else ``t0``), so that
a step that shrinks (backtracking, a decaying schedule) cannot shrink the measure and fake
convergence; the subgradient method reports no
measure (``extra["measure"] = nan``): its success is decided by the driver from ``f_star``.

Examples
--------
>>> from slopes.optim.methods_base import Problem
>>> from slopes.optim.methods_constrained import ProjectedGradient
>>> from slopes.optim.projections import box
>>> p = Problem(lambda x: float(np.sum((x - 3) ** 2)), lambda x: 2 * (x - 3),
...             projection=box(-1.0, 1.0), L=2.0)
>>> m = ProjectedGradient(p, {})
>>> x = np.zeros(2); state = m.init(x, p.f(x), p.grad(x))
>>> info = m.step(state, 0)
>>> info.x, info.extra["measure"]
(array([1., 1.]), 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .methods_base import Method, StepInfo, register_method
from .prox import fixed_point_residual
from ._validate import check_learning_rate, check_number
from .schedules import as_schedule

__all__ = ["ProjectedGradient", "ProximalGradient", "Subgradient"]


def _sq(d) -> float:
    return float(np.sum(np.asarray(d) * np.asarray(d)))


def _lr_at(lr, k) -> float:
    """The learning rate at iteration ``k``: a float or a schedule ``k -> lr``."""
    if lr is None:
        return math.nan
    return float(as_schedule(lr)(k)) if callable(lr) else float(lr)


def _resolve_step(problem, opts):
    """Fixed step ``1/L`` / ``learning_rate`` (possibly a schedule), or None for backtracking."""
    L = getattr(problem, "L", None)
    lr = opts.get("learning_rate")
    if lr is None:
        lr = getattr(problem, "learning_rate", None)
    ls = opts.get("line_search")
    if ls is None:
        ls = getattr(problem, "line_search", None)
    if ls not in (None, False, "backtracking", "armijo"):
        raise ValueError(f"line_search must be None or 'backtracking' for this method, got {ls!r}")
    L = check_number(L, "L", low=0, low_open=True, allow_none=True)
    if ls in ("backtracking", "armijo"):
        return None
    if L is not None:
        return 1.0 / L
    if lr is not None:
        return lr if callable(lr) else check_learning_rate(lr, "learning_rate", positive=True)
    return None


# ----------------------------------------------------------------------------- projected gradient


@dataclass
class PGState:
    """State of :class:`ProjectedGradient`: the iterate, ``f``, ``grad f`` and the last step."""

    x: np.ndarray
    f: float
    g: np.ndarray
    t: float


@register_method
class ProjectedGradient(Method):
    """Projected gradient ``x <- P(x - t grad f(x))`` (method ``"projected_gradient"``).

    Options
    -------
    learning_rate : float or schedule, optional
        Fixed step (ignored when ``L`` is given: the step is then ``1/L``).
    line_search : None or "backtracking"
        Force the Armijo search along the projected arc even when a step is given.
    t0 : float
        First trial step of the backtracking search (default 1; later searches start at
        twice the last accepted step).
    sigma, shrink : float
        Armijo constant (``f(x_t) <= f(x) - sigma/t ||x_t - x||^2``) and step reduction
        factor of the backtracking search.
    max_trials : int
        Backtracking trials before the step is reported failed.

    Examples
    --------
    The course's box-constrained quadratic with the step ``1/L``:

    >>> import slopes as sl
    >>> from slopes.optim.methods_base import Problem
    >>> from slopes.optim.methods_constrained import ProjectedGradient
    >>> from slopes.optim.projections import box
    >>> bq = sl.problems.get("box_quadratic")
    >>> p = Problem(bq.fun, bq.grad, projection=box(*bq.bounds), L=sl.problems.course.BOX_QUADRATIC_L)
    >>> m = ProjectedGradient(p, {}); x = bq.x0
    >>> s = m.init(x, p.f(x), p.grad(x))
    >>> for k in range(100):
    ...     info = m.step(s, k); s = info.state
    >>> np.round(info.x, 8), info.extra["measure"] < 1e-8
    (array([ 1., -1.]), True)
    """

    name = "projected_gradient"
    needs = frozenset({"grad"})
    constraints = frozenset({"projection"})  # bounds= arrives as a box projection
    options = {"learning_rate": None, "line_search": None, "t0": 1.0, "sigma": 1e-4, "shrink": 0.5,
               "max_trials": 60}
    default_maxiter = 10000
    supports_data = True  # projected SGD: a fixed step on each mini-batch's gradient

    def __init__(self, problem, options):
        super().__init__(problem, options)
        P = getattr(problem, "projection", None)
        if P is None:
            raise ValueError(
                "projected_gradient needs a constraint: pass bounds= (a list of (min, max) pairs, "
                "scipy.optimize.Bounds(lower, upper), or (lo, hi) for one box) or projection= "
                "(slopes.optim.projections.box, l2_ball, simplex, halfspace, nonnegative)"
            )
        if not callable(P):
            raise TypeError(f"projection must be a callable Projection, got {type(P).__name__}")
        self.P = P
        self.fixed = _resolve_step(problem, self.opts)
        if self.fixed is None and getattr(problem, "data", None) is not None:
            raise ValueError(
                "projected_gradient with data= (mini-batches) needs a learning_rate or L: a line search "
                "on one batch's values does not decrease the full objective"
            )
        self.t0 = check_number(self.opts["t0"], "t0", low=0, low_open=True)
        self.sigma = check_number(self.opts["sigma"], "sigma", low=0, low_open=True)
        self.shrink = float(self.opts["shrink"])
        if not 0 < self.shrink < 1:
            raise ValueError(f"shrink must be in (0, 1), got {self.shrink!r}")

    def init(self, x, f, g):
        """Start from ``P(x0)`` when ``x0`` is infeasible (one extra evaluation)."""
        x = np.asarray(x)
        px = self.P(x)
        if not np.array_equal(px, x):
            x = px
            f, g = self.problem.value_and_grad(x)
        return PGState(x, float(f), np.asarray(g), self.t0)

    def _measure(self, x, g, t):
        return fixed_point_residual(x, g, t, self.P)

    def _eta0(self):
        return _lr_at(self.fixed, 0) if self.fixed is not None else self.t0

    def optimality(self, x, f, g) -> float:
        """Fixed-point residual ``||x - P(x - eta g)||`` with the run's fixed ``eta``."""
        if g is None:
            return math.nan
        return self._measure(np.asarray(x), np.asarray(g), self._eta0())

    def step(self, state, k):
        x, f, g = state.x, state.f, state.g
        if self.fixed is not None:
            t = _lr_at(self.fixed, k)
            x_new = self.P(x - t * g)
            f_new, g_new = self.problem.value_and_grad(x_new)
            lr, failed = t, None
        else:
            t = min(2.0 * state.t, 1e10) if k > 0 else state.t
            failed = "backtracking on the projected arc found no sufficient decrease"
            for _ in range(int(self.opts["max_trials"])):
                x_new = self.P(x - t * g)
                d = _sq(x_new - x)
                if d == 0.0:
                    failed = None  # x is a fixed point
                    f_new = f
                    break
                f_new = self.problem.f(x_new)
                if np.isfinite(f_new) and f_new <= f - self.sigma / t * d:
                    failed = None
                    break
                t *= self.shrink
            if failed is not None or d == 0.0:
                x_new, f_new = x, f
                g_new = g
            else:
                g_new = self.problem.grad(x_new)
            lr = t
        extra = {"measure": self._measure(x_new, g_new, self._eta0()), "eta": self._eta0()}
        if failed is not None:
            extra["failed"] = failed
        step_size = float(np.sqrt(_sq(x_new - x)))
        return StepInfo(x_new, float(f_new), g_new, step_size, float(lr), PGState(x_new, float(f_new), g_new, t),
                        extra)


# ----------------------------------------------------------------------------- proximal gradient


@dataclass
class ProxState:
    """State of :class:`ProximalGradient`.

    ``x`` the iterate with smooth value ``fs`` and gradient ``g``, ``F`` the composite
    value ``f(x) + h(x)``; ``x_prev`` the previous iterate, ``theta`` the FISTA momentum
    parameter, ``t`` the last step, ``restarts`` the number of adaptive restarts so far.
    """

    x: np.ndarray
    fs: float
    g: np.ndarray
    F: float
    x_prev: np.ndarray
    theta: float
    t: float
    restarts: int = 0


@register_method
class ProximalGradient(Method):
    """ISTA / FISTA for ``min f(x) + h(x)`` (method ``"proximal_gradient"``).

    ``f`` is the smooth objective given to :func:`slopes.minimize`; ``h`` is
    ``prox=`` (a :class:`~slopes.optim.prox.Prox` with ``.value``). Reported ``f`` values are
    the composite ``f + h``; ``g`` is the gradient of the smooth part at the iterate.

    Options
    -------
    accelerate : bool
        FISTA (Beck & Teboulle 2009) instead of ISTA.
    restart : bool
        Function-value adaptive restart for FISTA (default True): when ``F(x_{k+1}) > F(x_k)``
        the momentum is reset (``theta = 1``) and the step is redone from ``x_k``.
    learning_rate, line_search, t0, shrink, max_trials :
        As for ``projected_gradient``; the backtracking test is Beck & Teboulle's
        ``f(x+) <= f(y) + g.(x+ - y) + ||x+ - y||^2 / (2 t)``.

    Examples
    --------
    Lasso in one variable, ``(x - 3)^2 / 2 + |x|``: the minimizer is 2.

    >>> from slopes.optim.methods_base import Problem
    >>> from slopes.optim.methods_constrained import ProximalGradient
    >>> from slopes.optim.prox import l1
    >>> p = Problem(lambda x: float(0.5 * np.sum((x - 3) ** 2)), lambda x: x - 3, prox=l1(1.0), L=1.0)
    >>> m = ProximalGradient(p, {"accelerate": True}); x = np.zeros(1)
    >>> s = m.init(x, p.f(x), p.grad(x))
    >>> info = m.step(s, 0)
    >>> info.x, info.f, info.extra["measure"]
    (array([2.]), 2.5, 0.0)
    """

    name = "proximal_gradient"
    constraints = frozenset({"prox"})
    needs = frozenset({"grad"})
    options = {"accelerate": False, "restart": True, "learning_rate": None, "line_search": None, "t0": 1.0,
               "shrink": 0.5, "max_trials": 60}
    default_maxiter = 10000
    supports_data = True  # stochastic proximal gradient: a fixed step on each mini-batch's gradient

    def __init__(self, problem, options):
        super().__init__(problem, options)
        h = getattr(problem, "prox", None)
        if h is None:
            raise ValueError(
                "proximal_gradient needs prox= (slopes.optim.prox.l1, squared_l2, elastic_net, box_indicator)"
            )
        if not (callable(h) and hasattr(h, "value")):
            raise TypeError(f"prox must be a slopes.optim.prox.Prox (callable with .value), got {type(h).__name__}")
        self.h = h
        self.fixed = _resolve_step(problem, self.opts)
        self.t0 = check_number(self.opts["t0"], "t0", low=0, low_open=True)
        self.shrink = float(self.opts["shrink"])
        if not 0 < self.shrink < 1:
            raise ValueError(f"shrink must be in (0, 1), got {self.shrink!r}")
        self.accelerate = bool(self.opts["accelerate"])
        self.restart = bool(self.opts["restart"])
        if getattr(problem, "data", None) is not None and (self.fixed is None or self.accelerate):
            raise ValueError(
                "proximal_gradient with data= (mini-batches) needs a learning_rate or L and "
                "accelerate=False: line searches and FISTA's momentum restarts compare one batch's values"
            )

    def initial_f(self, x, f) -> float:
        """The composite value ``f(x0) + h(x0)`` from the smooth value ``f`` (the driver's row 0).

        :meth:`init` accepts either the smooth value or the value returned here.
        """
        F = float(f) + self.h.value(x)
        self._initial = (float(f), F)
        return F

    def optimality(self, x, f, g) -> float:
        """Fixed-point residual ``||x - prox_{eta h}(x - eta g)||`` with the run's fixed ``eta``."""
        if g is None:
            return math.nan
        return fixed_point_residual(np.asarray(x), np.asarray(g), self._eta0(), self.h)

    def _eta0(self):
        return _lr_at(self.fixed, 0) if self.fixed is not None else self.t0

    def init(self, x, f, g):
        """Composite value at ``x0``; the smooth ``f`` and ``g`` come from the driver."""
        x = np.asarray(x)
        initial = getattr(self, "_initial", None)
        if initial is not None and float(f) == initial[1]:
            f = initial[0]  # the driver passed the composite value from initial_f
        F = float(f) + self.h.value(x)
        return ProxState(x, float(f), np.asarray(g), F, x, 1.0, self.t0)

    def _prox_step(self, y, fy, gy, k, t_start):
        """One (backtracked) prox step from ``y``: returns ``(x_new, t, failed)``."""
        if self.fixed is not None:
            t = _lr_at(self.fixed, k)
            return self.h(y - t * gy, t), t, None
        t = t_start
        for _ in range(int(self.opts["max_trials"])):
            x_new = self.h(y - t * gy, t)
            d = x_new - y
            f_new = self.problem.f(x_new)
            if np.isfinite(f_new) and f_new <= fy + float(np.sum(gy * d)) + _sq(d) / (2 * t) * (1 + 1e-12) + 1e-15:
                return x_new, t, None
            t *= self.shrink
        return y, t, "backtracking found no step satisfying the quadratic upper bound"

    def step(self, state, k):
        s = state
        t_start = min(2.0 * s.t, 1e10) if k > 0 else s.t
        theta_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * s.theta**2)) if self.accelerate else 1.0
        restarted = False
        beta = (s.theta - 1.0) / theta_new if self.accelerate else 0.0
        if beta != 0.0:
            y = s.x + beta * (s.x - s.x_prev)
            fy, gy = self.problem.value_and_grad(y)
        else:
            y, fy, gy = s.x, s.fs, s.g
        x_new, t, failed = self._prox_step(y, fy, gy, k, t_start)
        fs_new, g_new = self.problem.value_and_grad(x_new)
        F_new = fs_new + self.h.value(x_new)
        if self.accelerate and self.restart and beta != 0.0 and F_new > s.F:
            # function-value restart: drop the momentum and redo the step from x_k
            restarted = True
            theta_new = 1.0
            x_new, t, failed = self._prox_step(s.x, s.fs, s.g, k, t)
            fs_new, g_new = self.problem.value_and_grad(x_new)
            F_new = fs_new + self.h.value(x_new)
        new = ProxState(x_new, float(fs_new), g_new, float(F_new), s.x, theta_new, t,
                        s.restarts + int(restarted))
        extra = {"measure": fixed_point_residual(x_new, g_new, self._eta0(), self.h), "eta": self._eta0(),
                 "step": t, "smooth_f": float(fs_new),
                 "restarted": restarted, "restarts": new.restarts}
        if failed is not None:
            extra["failed"] = failed
        step_size = float(np.sqrt(_sq(x_new - s.x)))
        return StepInfo(x_new, float(F_new), g_new, step_size, float(t), new, extra)


# ----------------------------------------------------------------------------- subgradient


@dataclass
class SubgradientState:
    """State of :class:`Subgradient`: the iterate and its values, and the best iterate seen."""

    x: np.ndarray
    f: float
    g: np.ndarray
    x_best: np.ndarray
    f_best: float


@register_method
class Subgradient(Method):
    """The subgradient method (method ``"subgradient"``), keeping the best iterate.

    Options
    -------
    step : "diminishing" or "polyak"
        ``t_k = learning_rate / sqrt(k + 1)`` (default; ``learning_rate`` defaults to 1;
        ``L`` is ignored, a nonsmooth ``f`` has no Lipschitz gradient), or Polyak's ``t_k = (f(x_k) - f_star) / ||g_k||^2`` (requires ``f_star=``).
    learning_rate : float or schedule
        Base step of the diminishing rule (a schedule ``k -> lr`` is used as is, without
        the ``1/sqrt(k+1)`` factor).

    With ``bounds=`` or ``projection=`` it is the *projected* subgradient method:
    ``x <- P(x - t_k g)`` from ``P(x0)``, every iterate feasible (the same step rules and
    guarantees hold for a convex ``f`` on a closed convex set).

    ``StepInfo.x`` is the new iterate; ``extra["x_best"]`` and ``extra["f_best"]`` hold the
    best point so far. No stationarity measure exists for nonsmooth ``f``
    (``extra["measure"]`` is nan); the driver declares success only when ``f_star`` is
    given and ``f_best - f_star <= ftol``.

    Examples
    --------
    >>> from slopes.optim.methods_base import Problem
    >>> from slopes.optim.methods_constrained import Subgradient
    >>> p = Problem(lambda x: float(np.sum(np.abs(x))), lambda x: np.sign(x), f_star=0.0)
    >>> m = Subgradient(p, {"step": "polyak"}); x = np.array([1.0, -2.0])
    >>> s = m.init(x, p.f(x), p.grad(x))
    >>> info = m.step(s, 0)          # t = 3 / 2
    >>> info.x, info.extra["f_best"]
    (array([-0.5, -0.5]), 1.0)
    """

    name = "subgradient"
    needs = frozenset({"grad"})
    constraints = frozenset({"projection"})  # bounds= arrives as a box projection
    options = {"step": "diminishing", "learning_rate": None}
    default_maxiter = 10000

    def __init__(self, problem, options):
        super().__init__(problem, options)
        rule = self.opts["step"]
        if rule not in ("diminishing", "polyak"):
            raise ValueError(f"subgradient: step must be 'diminishing' or 'polyak', got {rule!r}")
        self.rule = rule
        self.f_star = getattr(problem, "f_star", None)
        if rule == "polyak" and self.f_star is None:
            raise ValueError("subgradient: step='polyak' needs f_star= (the optimal value)")
        lr = self.opts["learning_rate"]
        if lr is None:
            lr = getattr(problem, "learning_rate", None)
        if lr is None:
            lr = 1.0
        if not callable(lr):
            check_learning_rate(lr, "learning_rate", positive=True)
        self.lr = lr
        P = getattr(problem, "projection", None)
        if P is not None and not callable(P):
            raise TypeError(f"projection must be a callable Projection, got {type(P).__name__}")
        self.P = P

    def optimality(self, x, f, g) -> float:
        """None for a nonsmooth ``f``: nan (success is decided from ``f_star``)."""
        return math.nan

    def init(self, x, f, g):
        x = np.asarray(x)
        if self.P is not None:  # start feasible (one extra evaluation when x0 is not)
            px = self.P(x)
            if not np.array_equal(px, x):
                x = px
                f, g = self.problem.value_and_grad(x)
        return SubgradientState(x, float(f), np.asarray(g), x, float(f))

    def step(self, state, k):
        s = state
        gn2 = _sq(s.g)
        if self.rule == "polyak":
            gap = s.f - float(self.f_star)
            t = gap / gn2 if gn2 > 0 and gap > 0 else 0.0
            lr = t
        elif callable(self.lr):
            lr = t = _lr_at(self.lr, k)
        else:
            lr = float(self.lr)
            t = lr / math.sqrt(k + 1.0)
        x_new = s.x - t * s.g
        if self.P is not None:
            x_new = self.P(x_new)
        f_new, g_new = self.problem.value_and_grad(x_new)
        if f_new < s.f_best:
            x_best, f_best = x_new, float(f_new)
        else:
            x_best, f_best = s.x_best, s.f_best
        new = SubgradientState(x_new, float(f_new), g_new, x_best, f_best)
        extra = {"measure": math.nan, "x_best": x_best, "f_best": f_best}
        step_size = float(t * math.sqrt(gn2))
        return StepInfo(x_new, float(f_new), g_new, step_size, float(lr), new, extra)
