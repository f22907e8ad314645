"""The Moré–Thuente line search: strong Wolfe steps with guaranteed sufficient decrease.

J. J. Moré and D. J. Thuente, *Line search algorithms with guaranteed sufficient
decrease*, ACM TOMS 20(3), 1994. With ``phi(t) = f(x + t d)`` and
``phi'(0) = g . d < 0`` the search looks for a step satisfying

* ``phi(t) <= phi(0) + c1 t phi'(0)`` (sufficient decrease) and
* ``|phi'(t)| <= c2 |phi'(0)|`` (curvature).

Each trial evaluates ``f`` and its gradient together. The next trial comes from
a safeguarded cubic or quadratic (secant) model of ``phi`` on an interval of
uncertainty ``[stx, sty]`` (the paper's four cases, section 4); while no step with
``phi(t) <= phi(0) + c1 t phi'(0)`` and ``phi'(t) >= 0`` has been seen, the model
is built on the auxiliary ``psi(t) = phi(t) - phi(0) - c1 t phi'(0)``, which is
what makes sufficient decrease certain. The interval is bisected when two trials
did not shrink it to 2/3 of its width, and steps grow by at most 4x while nothing
is bracketed. The search ends early (accepting the current step) when the interval
is narrower than ``xtol`` relative to its right end, or when rounding leaves no
room between the bracket's ends.

This is the search of L-BFGS-B (with ``c1 = 1e-3, c2 = 0.9, xtol = 0.1``) and of
scipy's BFGS (``c1 = 1e-4, c2 = 0.9, xtol = 1e-14``), so slopes' ``lbfgs`` and
``bfgs`` take the iterations those take on the same problem.

>>> import numpy as np
>>> f = lambda x: float(x @ x)
>>> r = more_thuente(f, lambda x: 2 * x, np.array([1.0, 2.0]), np.array([-1.0, -2.0]))
>>> r.success, r.step, r.trials
(True, 1.0, 1)
"""

from __future__ import annotations

import math

import numpy as np

from .linesearch import LineSearchResult, _check_common, _fmt, _precheck, _start

__all__ = ["MoreThuente", "more_thuente", "search"]

# extrapolation limits while nothing is bracketed: the next step lies in
# [t + 1.1 (t - stx), t + 4 (t - stx)]
_XTRAP_LO = 1.1
_XTRAP_HI = 4.0
# a bracket that did not shrink below this fraction of its width two trials ago is bisected
_SHRINK = 0.66

CONTINUE, CONVERGED, ROUNDING, XTOL, AT_MAX, AT_MIN = range(6)

# sufficient decrease is judged up to this many units of f's rounding (eps |f0|)
_ROUNDING = 4.0
_EPS_64 = float(np.finfo(np.float64).eps)
_EPS = {np.dtype(np.float64): _EPS_64, np.dtype(np.float32): float(np.finfo(np.float32).eps),
        np.dtype(np.float16): float(np.finfo(np.float16).eps)}
_WHY = {ROUNDING: "rounding errors prevent progress inside the bracket",
        XTOL: "the bracket is narrower than xtol", AT_MAX: "the step is at max_step",
        AT_MIN: "the step is at its lower bound"}


def _cubic(a, fa, da, b, fb, db):
    """``(r, gamma)``: the cubic through ``(a, fa, da)``, ``(b, fb, db)`` has its minimizer
    at ``a + r (b - a)``; written as the paper's cancellation-free root of the derivative."""
    theta = 3.0 * (fa - fb) / (b - a) + da + db
    s = max(abs(theta), abs(da), abs(db))
    if s == 0.0:
        return math.nan, 0.0
    gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (da / s) * (db / s)))
    if b < a:
        gamma = -gamma
    q = ((gamma - da) + gamma) + db
    return ((gamma - da) + theta) / q if q != 0.0 else math.nan, gamma


def _safe(t, lo, hi):
    """``t`` if it is a number, else the midpoint of ``lo`` and ``hi`` (a degenerate model)."""
    return t if t == t else 0.5 * (lo + hi)


class MoreThuente:
    """The step choice of the Moré–Thuente search, driven by the caller (reverse communication).

    Create it with the start ``phi(0)``, ``phi'(0)`` and the first trial step ``step``;
    evaluate ``phi`` and ``phi'`` at :attr:`stp` and pass them to :meth:`tell`, which
    returns :data:`CONTINUE` (then evaluate at the new :attr:`stp`), :data:`CONVERGED`
    (``stp`` satisfies both Wolfe conditions) or a warning code (:data:`ROUNDING`,
    :data:`XTOL`, :data:`AT_MAX`, :data:`AT_MIN`: the search cannot do better than
    ``stp``). A trial where ``phi`` or ``phi'`` is not finite is backed off from:
    the next trial is halfway to the best step so far and no later trial goes as far.

    Examples
    --------
    ``phi(t) = (t - 3)^2`` from ``t = 1``: the first trial (slope still negative)
    extrapolates, the second lands on the minimizer.

    >>> mt = MoreThuente(9.0, -6.0, 1.0, c1=1e-3, c2=0.1)
    >>> mt.tell(4.0, -4.0), mt.stp
    (0, 3.0)
    >>> mt.tell(0.0, 0.0)
    1
    """

    __slots__ = ("f0", "g0", "gtest", "c2", "xtol", "step_min", "step_max", "stp", "stage", "brackt",
                 "stx", "fx", "gx", "sty", "fy", "gy", "stmin", "stmax", "width", "width1")

    def __init__(self, f0, g0, step, c1=1e-3, c2=0.9, xtol=0.1, step_min=0.0, step_max=1e10):
        self.f0, self.g0, self.gtest = f0, g0, c1 * g0
        self.c2, self.xtol, self.step_min, self.step_max = c2, xtol, step_min, step_max
        self.stp, self.stage, self.brackt = step, 1, False
        self.stx = self.sty = 0.0
        self.fx = self.fy = f0
        self.gx = self.gy = g0
        self.stmin, self.stmax = 0.0, step + _XTRAP_HI * step
        self.width = step_max - step_min
        self.width1 = 2.0 * self.width

    def tell(self, f, g) -> int:
        """Take ``phi(stp) = f`` and ``phi'(stp) = g``; return the status (see the class)."""
        stp, stx = self.stp, self.stx
        if not (math.isfinite(f) and math.isfinite(g)):  # too far: back off towards the best step
            self.step_max = stp
            self.stp = stx + 0.5 * (stp - stx)
            return CONTINUE
        gtest = self.gtest
        ftest = self.f0 + stp * gtest
        brackt, stmin, stmax = self.brackt, self.stmin, self.stmax
        if self.stage == 1 and f <= ftest and g >= 0.0:
            self.stage = 2
        if brackt and (stp <= stmin or stp >= stmax):
            return ROUNDING
        if brackt and stmax - stmin <= self.xtol * stmax:
            return XTOL
        if stp == self.step_max and f <= ftest and g <= gtest:
            return AT_MAX
        if stp == self.step_min and (f > ftest or g >= gtest):
            return AT_MIN
        if f <= ftest and abs(g) <= -self.c2 * self.g0:
            return CONVERGED
        fx, gx, sty, fy, gy = self.fx, self.gx, self.sty, self.fy, self.gy
        if self.stage == 1 and f <= fx and f > ftest:
            # psi = phi - c1 t phi'(0): its model guarantees a step with sufficient decrease
            (new, brackt, stx, fx, gx, sty, fy, gy) = _step(
                stx, fx - stx * gtest, gx - gtest, sty, fy - sty * gtest, gy - gtest,
                stp, f - stp * gtest, g - gtest, brackt, stmin, stmax)
            fx, gx, fy, gy = fx + stx * gtest, gx + gtest, fy + sty * gtest, gy + gtest
        else:
            new, brackt, stx, fx, gx, sty, fy, gy = _step(stx, fx, gx, sty, fy, gy, stp, f, g, brackt,
                                                           stmin, stmax)
        if brackt:
            if abs(sty - stx) >= _SHRINK * self.width1:
                new = stx + 0.5 * (sty - stx)
            self.width1, self.width = self.width, abs(sty - stx)
            stmin, stmax = min(stx, sty), max(stx, sty)
        else:
            stmin, stmax = new + _XTRAP_LO * (new - stx), new + _XTRAP_HI * (new - stx)
        new = min(max(new, self.step_min), self.step_max)
        if brackt and (new <= stmin or new >= stmax or stmax - stmin <= self.xtol * stmax):
            new = stx  # the search is about to end: end it at the best step
        self.stp, self.brackt, self.stmin, self.stmax = new, brackt, stmin, stmax
        self.stx, self.fx, self.gx, self.sty, self.fy, self.gy = stx, fx, gx, sty, fy, gy
        return CONTINUE


def _step(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stmin, stmax):
    """The paper's four cases: the next trial step, whether a minimizer is bracketed, and the
    new interval ends ``(stx, fx, dx)`` (best so far) and ``(sty, fy, dy)``.

    Unbracketed extrapolation stays in ``[stmin, stmax]``, the range set after the previous
    trial (``[0, 5 step]`` at the start).
    """
    same_sign = dp * math.copysign(1.0, dx) > 0.0
    if fp > fx:  # 1: higher value, a minimizer is bracketed; cubic or half-way to the quadratic
        r, _ = _cubic(stx, fx, dx, stp, fp, dp)
        c = _safe(stx + r * (stp - stx), stx, stp)
        q = _safe(stx + (dx / ((fx - fp) / (stp - stx) + dx)) / 2.0 * (stp - stx), stx, stp)
        new = c if abs(c - stx) < abs(q - stx) else c + (q - c) / 2.0
        brackt = True
    elif not same_sign:  # 2: derivatives of opposite sign, bracketed; the step farther from stp
        r, _ = _cubic(stp, fp, dp, stx, fx, dx)
        c = _safe(stp + r * (stx - stp), stx, stp)
        q = _safe(stp + dp / (dp - dx) * (stx - stp), stx, stp)
        new = c if abs(c - stp) > abs(q - stp) else q
        brackt = True
    elif abs(dp) < abs(dx):  # 3: same sign, the slope shrinks in magnitude
        r, gamma = _cubic(stp, fp, dp, stx, fx, dx)
        if r == r and r < 0.0 and gamma != 0.0:
            c = stp + r * (stx - stp)
        else:  # the cubic's minimizer lies beyond stp: go to the end of the range
            c = stmax if stp > stx else stmin
        q = _safe(stp + dp / (dp - dx) * (stx - stp), stx, stp)
        if brackt:
            new = c if abs(c - stp) < abs(q - stp) else q
            lim = stp + _SHRINK * (sty - stp)
            new = min(lim, new) if stp > stx else max(lim, new)
        else:
            new = c if abs(c - stp) > abs(q - stp) else q
            new = max(stmin, min(stmax, new))
    elif brackt:  # 4: same sign, slope not shrinking: cubic on [stp, sty]
        r, _ = _cubic(stp, fp, dp, sty, fy, dy)
        new = _safe(stp + r * (sty - stp), stp, sty)
    else:
        new = stmax if stp > stx else stmin
    if fp > fx:
        return new, brackt, stx, fx, dx, stp, fp, dp
    if not same_sign:
        return new, brackt, stp, fp, dp, stx, fx, dx
    return new, brackt, stp, fp, dp, sty, fy, dy


def search(value_and_grad, x, d, f0, slope0, step, c1, c2, xtol, max_step, max_trials, s_out=None):
    """The Moré–Thuente search along ``d`` from ``x``, for callers that checked their inputs.

    ``value_and_grad(x) -> (f, g)`` is evaluated at each trial. A first trial that
    satisfies both Wolfe conditions (the common case in quasi-Newton methods) costs
    one evaluation, one vector update and one dot product. Sufficient decrease is
    judged up to f's own rounding (``4 eps |f(x)|``, eps of ``x``'s dtype): close to a
    minimum, where ``c1 t g.d`` falls below it, a step that meets the curvature
    condition is taken even when f came out an ulp above ``f(x)``. ``s_out`` (an array of
    ``x``'s shape and dtype, not ``d`` itself), when given, receives each trial's step ``t d``.

    Returns
    -------
    tuple
        ``(t, x_t, f_t, g_t, trials, why)``: ``why`` is ``""`` when ``t`` satisfies
        the Wolfe conditions, a warning sentence when the search ended early at a
        step with sufficient (and strict) decrease, and ``None`` (with ``t = 0``) when
        no such step was found.

    Examples
    --------
    >>> vg = lambda x: (float(x @ x), 2 * x)
    >>> x = np.array([1.0, 1.0])
    >>> t, x_t, f_t, g_t, trials, why = search(vg, x, -x, 2.0, -4.0, 4.0, 1e-3, 0.9, 0.1, 1e10, 20)
    >>> float(t), trials, why, x_t.tolist()
    (1.0, 2, '', [0.0, 0.0])
    """
    # f's own rounding: near a minimum a decrease of c1 t g.d may lie below it, and a step
    # that satisfies the curvature condition is then refused for an f one ulp above f0
    noise = _ROUNDING * _EPS.get(x.dtype, _EPS_64) * (f0 if f0 >= 0.0 else -f0)
    # |g(t).d| <= c2 |g.d| as two comparisons (no call; a nan slope fails both, as abs(nan) does)
    curv = -c2 * slope0
    t, mt, trials = step, None, 0
    while True:
        if s_out is None:
            x_t = x + t * d
        elif t == 1.0:  # the step is d: a copy, and x + d (the same bits as x + 1.0 * d)
            s_out[...] = d
            x_t = x + d
        else:
            x_t = x + np.multiply(d, t, s_out)
        f_t, g_t = value_and_grad(x_t)
        s_t = float(g_t.dot(d))
        trials += 1
        if -curv <= s_t <= curv and f_t <= f0 + c1 * t * slope0 + noise:
            return t, x_t, f_t, g_t, trials, ""
        if mt is None:  # an accepted first trial costs no search state
            mt = MoreThuente(f0, slope0, t, c1, c2, xtol, 0.0, max_step)
        status = mt.tell(f_t, s_t)
        if status == CONVERGED:
            return t, x_t, f_t, g_t, trials, ""
        if status != CONTINUE:
            # ended early: the step stands if it decreased f (sufficiently, and at all: with a
            # step below rounding, f0 + c1 t g.d == f0 and a step that changes nothing would pass)
            if t > 0.0 and f_t < f0 and f_t <= f0 + c1 * t * slope0:
                return t, x_t, f_t, g_t, trials, f"line search ended early: {_WHY[status]}"
            break
        if trials >= max_trials:
            break
        t = mt.stp
    return 0.0, x, f0, None, trials, None


def more_thuente(f, grad_f, x, d, *, fx=None, gx=None, step=1.0, c1=1e-3, c2=0.9, xtol=0.1,
                 max_step=1e10, max_trials=20, value_and_grad=None) -> LineSearchResult:
    """Line search for the strong Wolfe conditions by the Moré–Thuente algorithm.

    Parameters
    ----------
    f, grad_f : callable
        The objective and its gradient (``grad_f=None``: :func:`slopes.grad` of ``f``).
    x, d : array_like, 1-D
        The current point and a descent direction.
    fx, gx : optional
        ``f(x)`` and the gradient at ``x`` (evaluated, not counted, when omitted).
    step : float
        The first trial step.
    c1, c2 : float
        Sufficient decrease and curvature constants, ``0 < c1 < c2 < 1`` (L-BFGS-B's
        1e-3 and 0.9 by default).
    xtol : float
        The search ends when the bracket is narrower than ``xtol`` times its right end.
    max_step : float
        The largest step tried.
    max_trials : int
        Evaluations allowed away from ``x``.
    value_and_grad : callable, optional
        ``(f, g)`` in one call, used for every trial when given.

    Returns
    -------
    LineSearchResult
        ``success`` when the step satisfies both conditions; a search that ends early
        at a step with sufficient decrease (a narrow bracket, rounding) returns that step
        with ``success=False`` and the reason.

    Examples
    --------
    The exact minimizing step along ``-g`` of ``x.A x / 2`` is ``g.g / g.A g``; with a
    tight ``c2`` the search finds it to the tolerance:

    >>> A = np.diag([1.0, 10.0])
    >>> f = lambda x: 0.5 * float(x @ A @ x)
    >>> x = np.array([1.0, 1.0]); g = A @ x
    >>> r = more_thuente(f, lambda x: A @ x, x, -g, c2=0.01)
    >>> r.success, abs(r.step - float(g @ g / (g @ A @ g))) < 1e-3
    (True, True)
    >>> more_thuente(f, lambda x: A @ x, x, g).reason
    'not a descent direction: g.d = 101 >= 0'
    """
    x, d, fx, gx, step = _check_common(x, d, fx, gx, step, c1, max_trials)
    if not 0.0 < c2 < 1.0 or not c1 < c2:
        raise ValueError(f"c1 and c2 must satisfy 0 < c1 < c2 < 1 (got c1 = {c1}, c2 = {c2}); e.g. 1e-3 and 0.9")
    if not (math.isfinite(xtol) and xtol >= 0.0):
        raise ValueError(f"xtol must be a finite number >= 0, e.g. 0.1 (got {xtol})")
    max_step = float(max_step)
    if not max_step >= step:
        raise ValueError(f"max_step must be at least step (got max_step = {max_step}, step = {step})")
    if grad_f is None:
        from .linesearch import _autodiff_grad

        grad_f = _autodiff_grad(f)
    fx, gx = _start(f, grad_f, x, fx, gx)
    why, slope = _precheck(x, d, fx, gx)
    if why is not None:
        return LineSearchResult(0.0, x.copy(), fx, gx, 0, 0, False, why)

    def both(z):
        if value_and_grad is not None:
            fz, gz = value_and_grad(z)
        else:
            fz, gz = f(z), grad_f(z)
        gz = np.asarray(gz, dtype=x.dtype)
        if gz.shape != x.shape:
            raise ValueError(f"the gradient must have the shape of x {x.shape} (got {gz.shape})")
        return float(np.asarray(fz).reshape(())), gz

    t, x_t, f_t, g_t, trials, reason = search(both, x, d, fx, slope, step, c1, c2, xtol, max_step,
                                              int(max_trials))
    if reason is None:
        reason = (f"no step satisfying the strong Wolfe conditions in {trials} trials "
                  f"(g.d = {_fmt(slope)})")
        return LineSearchResult(0.0, x.copy(), fx, gx, trials, trials, False, reason)
    return LineSearchResult(t, x_t, f_t, g_t, trials, trials, not reason, reason)
