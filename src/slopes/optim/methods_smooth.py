"""Smooth unconstrained methods for :func:`slopes.minimize`.

``gd`` (fixed step / schedule, ``1/L``, or a line search); ``momentum``,
``nesterov``, ``adagrad``, ``rmsprop``, ``adam``, ``adamw`` (the gradient
transformations of :mod:`slopes.optim` used deterministically); ``newton``
(damped, with a Hessian modification); ``bfgs`` (dense inverse Hessian) and
``lbfgs`` (compact limited memory), both with the Moré–Thuente line search.

>>> from slopes.optim.methods_base import METHODS
>>> {"gd", "adam", "newton", "bfgs", "lbfgs"} <= set(METHODS)
True
"""

from __future__ import annotations

import math

import numpy as np

from . import transforms as _tr
from .base import apply_updates
from .base import learning_rate as _read_lr
from .linesearch import _precheck, backtracking, strong_wolfe
from .methods_base import Method, StepInfo, _norm, register_method
from .more_thuente import search
from .newton import NonFiniteDerivative, newton_step
from .quasi_newton import LBFGSMemory, bfgs_update
from .schedules import as_schedule

__all__ = ["GD", "TransformMethod", "Newton", "BFGS", "LBFGS"]

_NAN = float("nan")


def _failed(shape, x, f, g, state, why):
    """The step that stays at ``x`` (flat, as are ``g``'s) because its search failed for ``why``."""
    return StepInfo(x.reshape(shape), f, g.reshape(shape), 0.0, _NAN, state, {"failed": why})


def _no_search(x, d, f, g, slope):
    """Why no search can start from ``x`` along ``d``, where ``slope = g.d`` is not negative
    and finite (``g`` zero or not finite, ``d`` not finite, or ``g.d`` overflowing): a search
    from a non-finite slope would take a first step of 0 or nan."""
    why = None if math.isfinite(slope) else _precheck(x, d, f, g)[0]
    return "line search: " + (why or f"not a descent direction: g.d = {slope:.3g}")


def _line_search(problem, kind, x, d, f, g, step, c1, c2):
    if kind == "backtracking":
        ls = backtracking(problem.f, x, d, fx=f, gx=g, step=step, c1=c1)
        if ls.success:
            return ls, ls.x_new, ls.f_new, problem.grad(ls.x_new)
        return ls, None, None, None
    ls = strong_wolfe(problem.f, problem.grad, x, d, fx=f, gx=g, step=step, c1=c1, c2=c2,
                      value_and_grad=problem.value_and_grad if problem.joint else None)
    if ls.success:
        gn = ls.g_new if ls.g_new is not None else problem.grad(ls.x_new)
        return ls, ls.x_new, ls.f_new, gn
    return ls, None, None, None


@register_method
class GD(Method):
    """Gradient descent ``x <- x - t g``.

    The step ``t`` is ``learning_rate`` (a float or a schedule of the iteration),
    else ``1/L`` when ``L`` is given, else found by a line search
    (``line_search='backtracking'`` by default when no step is given, or
    ``'strong_wolfe'``). With a line search the first trial step of each
    iteration is twice the previous accepted step (1 at the start).

    Options: ``c1`` (1e-4), ``c2`` (0.9), ``shrink`` (0.5).

    Examples
    --------
    >>> import slopes as sl
    >>> p = sl.problems.get("quadratic_2x2")
    >>> r = sl.minimize(p.fun, p.x0, method="gd", L=20.1)
    >>> r.success, np.allclose(r.x, p.x_min, atol=1e-5), bool(np.isclose(r.history.lr[-1], 1 / 20.1))
    (True, True, True)
    """

    name = "gd"
    needs = frozenset({"grad"})
    options = {"c1": 1e-4, "c2": 0.9, "shrink": 0.5}
    default_maxiter = 10000
    supports_data = True

    def __init__(self, problem, options):
        super().__init__(problem, options)
        p = problem
        ls = p.line_search
        if ls not in (None, "backtracking", "strong_wolfe"):
            raise ValueError(f"line_search must be 'backtracking' or 'strong_wolfe' (got {ls!r})")
        if p.learning_rate is not None:
            self.mode, self.sched = ("fixed", as_schedule(p.learning_rate))
        elif p.L is not None:  # checked finite and > 0 by minimize
            self.mode, self.sched = ("fixed", as_schedule(1.0 / float(p.L)))
        else:
            self.mode, self.sched = ("search", None)
        if ls is not None:
            self.mode = "search"
        self.ls_kind = ls or "backtracking"
        if self.mode == "search" and p.data is not None:
            raise ValueError("gd with data= (mini-batches) needs a learning_rate or L, not a line search")

    def init(self, x, f, g):
        return {"x": x, "f": f, "g": g, "t": 1.0}

    def step(self, state, k):
        p, x, f, g = self.problem, state["x"], state["f"], state["g"]
        if self.mode == "fixed":
            lr = float(self.sched(k))
            xn = x - lr * g
            fn, gn = p.value_and_grad(xn)
            return StepInfo(xn, fn, gn, lr * float(np.linalg.norm(g)), lr,
                            {"x": xn, "f": fn, "g": gn, "t": lr})
        ls, xn, fn, gn = _line_search(p, self.ls_kind, x, -g, f, g, min(2.0 * state["t"], 1e10),
                                      self.opts["c1"], self.opts["c2"])
        if xn is None:
            return StepInfo(x, f, g, 0.0, _NAN, state, {"failed": f"line search: {ls.reason}"})
        t = float(ls.step)
        return StepInfo(xn, fn, gn, t * float(np.linalg.norm(g)), t,
                        {"x": xn, "f": fn, "g": gn, "t": t})


class TransformMethod(Method):
    """A gradient transformation of :mod:`slopes.optim` used as a deterministic method.

    ``learning_rate`` (float or schedule) defaults to ``default_lr``; the other
    options are the transformation's own (e.g. ``beta``, ``b1``, ``weight_decay``).
    """

    needs = frozenset({"grad"})
    default_maxiter = 10000
    default_lr = 0.01
    factory = None
    supports_data = True

    def __init__(self, problem, options):
        super().__init__(problem, options)
        lr = problem.learning_rate if problem.learning_rate is not None else self.default_lr
        self.tx = type(self).factory(lr, **self.opts)

    def init(self, x, f, g):
        return (x, f, g, self.tx.init(x))

    def step(self, state, k):
        x, f, g, s = state
        lr = _read_lr(s)
        upd, s = self.tx.update(g, s, x, loss=f)  # loss=: for transformations that read it (reduce_on_plateau)
        xn = apply_updates(x, upd)
        fn, gn = self.problem.value_and_grad(xn)
        return StepInfo(xn, fn, gn, float(np.linalg.norm(np.asarray(upd))), lr, (xn, fn, gn, s))


def _transform(name, fac, opts, lr):
    cls = type(name, (TransformMethod,), {
        "name": name, "options": opts, "default_lr": lr, "factory": staticmethod(fac),
        "__doc__": f"``{name}``: :func:`slopes.optim.{name}` applied to the full gradient each "
                   f"iteration. Options: {', '.join(sorted(opts)) or 'none'}; default learning_rate {lr}.",
    })
    return register_method(cls)


Momentum = _transform("momentum", _tr.momentum, {"beta": 0.9}, 0.01)
Nesterov = _transform("nesterov", _tr.nesterov, {"beta": 0.9}, 0.01)
Adagrad = _transform("adagrad", _tr.adagrad, {"eps": 1e-10, "initial_accumulator_value": 0.0, "lr_decay": 0.0},
                     0.1)
RMSprop = _transform("rmsprop", _tr.rmsprop, {"decay": 0.99, "eps": 1e-8, "momentum": 0.0, "centered": False},
                     0.01)
Adam = _transform("adam", _tr.adam, {"b1": 0.9, "b2": 0.999, "eps": 1e-8}, 0.001)
AdamW = _transform("adamw", _tr.adamw, {"b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}, 0.001)


@register_method
class Newton(Method):
    """Damped Newton: solve ``H d = -g`` and search along ``d`` from ``t = 1``.

    When ``H`` is not positive definite it is modified (option ``modification``:
    ``'eigenvalue'``, the default, flips/raises eigenvalues below ``min_curvature``
    to make ``H`` positive definite; ``'cholesky'`` adds ``tau I`` until a Cholesky
    factorization succeeds; see :func:`slopes.optim.newton_direction`).
    Options: ``modification``, ``min_curvature``, ``c1``, ``c2``; ``line_search``
    ('strong_wolfe' by default, or 'backtracking') is the driver argument.

    Examples
    --------
    >>> import slopes as sl
    >>> p = sl.problems.get("rosenbrock")
    >>> r = sl.minimize(p.fun, p.x0, method="newton")
    >>> r.success, np.allclose(r.x, [1.0, 1.0]), r.nhev == r.nit
    (True, True, True)
    """

    name = "newton"
    needs = frozenset({"grad", "hess"})
    options = {"modification": "eigenvalue", "min_curvature": None, "c1": 1e-4, "c2": 0.9}
    default_maxiter = 200

    def init(self, x, f, g):
        return (x, f, g)

    def step(self, state, k):
        p = self.problem
        x, f, g = state
        try:  # newton_direction checks g and H once; no direction is a failure of the run, not a raise
            r = newton_step(p.f, x, grad_f=p.grad, hess_f=p.hess, fx=f, gx=g, Hx=p.hess(x),
                            line_search=p.line_search or "strong_wolfe",
                            value_and_grad=p.value_and_grad if p.joint else None, **self.opts)
        except NonFiniteDerivative as e:
            why = f"the {e.which} at x has non-finite entries: no Newton direction exists"
            return StepInfo(x, f, g, 0.0, _NAN, state, {"failed": why})
        if not r.success:
            return StepInfo(x, f, g, 0.0, _NAN, state, {"failed": f"line search: {r.reason}"})
        return StepInfo(r.x, r.f, r.g, float(r.step * np.linalg.norm(r.direction)), float(r.step),
                        (r.x, r.f, r.g), {"modified": r.modification.modified})


def _flat_value_and_grad(problem, shape):
    """``problem.value_and_grad`` on flat vectors, for a problem whose ``x`` has ``shape``
    (its :meth:`~slopes.optim.methods_base.Problem.evaluator` when ``x`` is flat)."""
    if len(shape) == 1:
        return problem.evaluator()

    def flat(z):
        fz, gz = problem.value_and_grad(z.reshape(shape))
        return fz, gz.reshape(-1)

    return flat


@register_method
class BFGS(Method):
    """BFGS with a dense inverse Hessian ``Hinv`` (``I`` at the start).

    Each step searches along ``d = -Hinv g`` with the Moré–Thuente line search
    (:func:`slopes.optim.more_thuente`, ``c1 = 1e-4``, ``c2 = 0.9``, ``xtol = 1e-14``, as
    scipy's BFGS), falling back to :func:`slopes.optim.strong_wolfe` when it finds no
    step satisfying both Wolfe conditions. The first trial step is ``min(1, 1.01 / |g|)`` at the start and after a reset,
    then ``min(1, 2.02 (f_k - f_{k-1}) / (g . d))`` (N&W eq. 3.60: the step that would
    repeat the last decrease, never longer than the quasi-Newton step 1). Pairs with too
    little curvature are skipped. After a failed search ``Hinv`` is reset to ``I`` once;
    a second failure stops the run. Options: ``c1`` (1e-4), ``c2`` (0.9), ``xtol``
    (1e-14), ``initial_scaling`` (False; True rescales ``Hinv`` to ``(s.y / y.y) I``
    before the first update, N&W 6.20 -- on the MGH set it cost more iterations than it
    saved, see ``benchmarks/README.md``).

    Examples
    --------
    >>> import slopes as sl
    >>> p = sl.problems.get("rosenbrock")
    >>> r = sl.minimize(p.fun, p.x0, method="bfgs")
    >>> r.success, np.allclose(r.x, [1.0, 1.0], atol=1e-5)
    (True, True)
    """

    name = "bfgs"
    needs = frozenset({"grad"})
    options = {"c1": 1e-4, "c2": 0.9, "xtol": 1e-14, "initial_scaling": False}
    default_maxiter = 1000
    wolfe_steps = True  # both searches return x + t d (a new array) and a gradient of finite slope

    def init(self, x, f, g):
        self.shape = x.shape
        self.vg = _flat_value_and_grad(self.problem, x.shape)
        return {"x": x.ravel(), "f": f, "g": g.ravel(), "H": np.eye(x.size), "first": True, "f_prev": None}

    def _search(self, x, d, f, g, slope, t0):
        c1, c2 = self.opts["c1"], self.opts["c2"]
        t, xn, fn, gn, _, why = search(self.vg, x, d, f, slope, t0, c1, c2, self.opts["xtol"], 1e10, 100)
        if why == "":  # an early end (a narrow bracket, rounding) is a failure here, as in scipy's BFGS
            return t, xn, fn, gn, ""
        p = self.problem
        ls = strong_wolfe(p.f, p.grad, x, d, fx=f, gx=g, step=t0, c1=c1, c2=c2, value_and_grad=self.vg)
        return ls.step, ls.x_new, ls.f_new, ls.g_new, "" if ls.success else ls.reason

    def step(self, state, k):
        x, f, g, H = state["x"], state["f"], state["g"], state["H"]
        first, f_prev = state["first"], state["f_prev"]
        for _attempt in range(2):
            d = -(H @ g)
            slope = float(d @ g)
            if not slope < 0:
                H, first, f_prev = np.eye(x.size), True, None
                d, slope = -g, -float(g @ g)
            if not -math.inf < slope < 0:  # -g is no direction either: g zero or not finite
                return _failed(self.shape, x, f, g, state, _no_search(x, d, f, g, slope))
            if f_prev is None:
                t0 = min(1.0, 1.01 / max(math.sqrt(-slope), 1e-300))
            else:
                t0 = min(1.0, 2.02 * (f - f_prev) / slope)
                t0 = t0 if t0 > 0 else 1.0
            t, xn, fn, gn, failure = self._search(x, d, f, g, slope, t0)
            if not failure:
                break
            if first:  # already along -g from Hinv = I: nothing left to reset
                break
            H, first, f_prev = np.eye(x.size), True, None
        if failure:
            return _failed(self.shape, x, f, g, state, f"line search: {failure}")
        s, y = xn - x, gn - g
        up = bfgs_update(H, s, y, initial_scaling=first and bool(self.opts["initial_scaling"]))
        new = {"x": xn, "f": fn, "g": gn, "H": up.Hinv, "first": first and up.skipped, "f_prev": f}
        return StepInfo(xn.reshape(self.shape), fn, gn.reshape(self.shape), _norm(s), float(t), new,
                        {"skipped": up.skipped})


@register_method
class LBFGS(Method):
    """Limited-memory BFGS, as L-BFGS-B runs without bounds.

    The direction is ``-H g`` with ``H`` the BFGS matrix of the last ``m`` pairs over
    ``H0 = gamma I``, ``gamma = s.y / y.y`` of the newest pair, applied in compact form
    (:class:`~slopes.optim.LBFGSMemory`: three matrix-vector products per direction).
    The step comes from the Moré–Thuente line search (:func:`slopes.optim.more_thuente`)
    with L-BFGS-B's constants ``c1 = 1e-3``, ``c2 = 0.9``, ``xtol = 0.1`` and at most
    ``max_trials = 20`` evaluations; the first trial is ``1 / |g|`` when the memory is
    empty (the start, or after a reset), else 1. A search that ends early at a step with
    sufficient decrease (a bracket narrower than ``xtol``) takes that step. After a
    failed search the memory is cleared and the search retried once along ``-g``.
    Options: ``m`` (10), ``c1``, ``c2``, ``xtol``, ``max_trials``.

    Examples
    --------
    >>> import slopes as sl
    >>> p = sl.problems.get("rosenbrock")
    >>> r = sl.minimize(p.fun, p.x0, method="lbfgs")
    >>> r.success, np.allclose(r.x, [1.0, 1.0], atol=1e-5)
    (True, True)
    """

    name = "lbfgs"
    needs = frozenset({"grad"})
    options = {"m": 10, "c1": 1e-3, "c2": 0.9, "xtol": 0.1, "max_trials": 20}
    default_maxiter = 1000
    wolfe_steps = True  # the search returns x + t d (a new array) and a gradient of finite slope
    MAX_STEP = 1e10

    def init(self, x, f, g):
        self.mem = LBFGSMemory(self.opts["m"])
        self.shape = x.shape
        self.shaped = x.ndim != 1  # iterates go back to the user's shape
        self.vg = _flat_value_and_grad(self.problem, x.shape)
        o = self.opts
        self.consts = (o["c1"], o["c2"], o["xtol"], self.MAX_STEP, int(o["max_trials"]))
        self.narrow = None if x.dtype == np.float64 else x.dtype  # directions come in float64
        return [x.reshape(-1), f, g.reshape(-1)]

    def step(self, state, k):
        x, f, g = state
        mem = self.mem
        c1, c2, xtol, max_step, max_trials = self.consts
        while True:  # a failed search clears the memory and is tried once more, along -g
            d, slope = mem._direction(g)
            if not slope < 0 and mem._order:  # rounding made H indefinite: restart from -g
                mem.clear()
                d, slope = mem._direction(g)
            if not -math.inf < slope < 0:  # g is zero or not finite: no direction to search
                return _failed(self.shape, x, f, g, state, _no_search(x, d, f, g, slope))
            if self.narrow is None:  # trial steps go to the memory's next s slot
                s_out = mem._rows[mem._free]  # the free slot's s row: _commit takes it as s
            else:
                d, s_out = d.astype(self.narrow), None
            t0 = 1.0 if mem._order else min(1.0 / math.sqrt(-slope), max_step)
            t, xn, fn, gn, _, why = search(self.vg, x, d, f, slope, t0, c1, c2, xtol, max_step, max_trials,
                                           s_out)
            if why is not None:
                break
            if not mem._order:
                return _failed(self.shape, x, f, g, state, "line search: no step satisfying the strong Wolfe "
                               f"conditions in {max_trials} trials along -g")
            mem.clear()
        if s_out is None:
            _, snorm = mem._commit(xn, x, gn, g)
        else:
            _, snorm = mem._commit(None, None, gn, g)
        state[0], state[1], state[2] = xn, fn, gn
        if self.shaped:
            xn, gn = xn.reshape(self.shape), gn.reshape(self.shape)
        return StepInfo(xn, fn, gn, snorm, t, state)
