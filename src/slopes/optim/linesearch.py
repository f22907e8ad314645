"""Line searches: backtracking Armijo and strong Wolfe (bracketing + zoom).

A line search picks a step ``t > 0`` along a direction ``d`` from a point ``x`` so
that ``f(x + t d)`` decreases enough. With ``phi(t) = f(x + t d)`` and
``phi'(0) = g . d < 0`` (``g`` the gradient at ``x``):

* the **Armijo** (sufficient decrease) condition is
  ``phi(t) <= phi(0) + c1 t phi'(0)``;
* the **strong Wolfe** conditions add the curvature condition
  ``|phi'(t)| <= c2 |phi'(0)|``, with ``0 < c1 < c2 < 1``.

Both searches return a :class:`LineSearchResult`. A search that cannot succeed
(a non-descent direction, non-finite values, a function unbounded below along
``d``, the trial budget used up) returns ``success=False`` with a sentence in
``reason``; it never raises for these. Bad arguments raise :class:`ValueError`.

The strong Wolfe search follows Nocedal & Wright, *Numerical Optimization*
(2nd ed.), Algorithms 3.5 (bracketing) and 3.6 (zoom), with safeguarded cubic
interpolation in the zoom phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["LineSearchResult", "backtracking", "strong_wolfe"]

# zoom safeguards: a trial keeps these fractions of the bracket from its ends, and
# the bracket is bisected when two trials have not shrunk it below _STALL of its width
_LO_MARGIN = 1e-3
_HI_MARGIN = 0.1
_STALL = 0.66


class LineSearchResult(NamedTuple):
    """The outcome of a line search.

    Attributes
    ----------
    step : float
        The accepted step ``t``. On failure, the best step found that satisfies
        the Armijo condition, or ``0.0`` when there is none.
    x_new : np.ndarray
        ``x + step * d`` (``x`` itself, as a copy, when ``step == 0``).
    f_new : float
        ``f(x_new)``.
    g_new : np.ndarray or None
        The gradient at ``x_new`` when it was computed (always for a successful
        strong Wolfe search; never for backtracking, which evaluates no gradient
        away from ``x``), else ``None``.
    trials : int
        Number of trial steps evaluated, i.e. evaluations of ``f`` away from
        ``x``. Evaluating ``f(x)`` or the gradient at ``x`` because ``fx`` or
        ``gx`` was not given is not counted.
    grad_evals : int
        Number of gradient evaluations at trial steps (same convention).
    success : bool
        Whether the returned step satisfies the search's conditions.
    reason : str
        ``""`` on success; otherwise a sentence saying why the search failed.
    """

    step: float
    x_new: np.ndarray
    f_new: float
    g_new: np.ndarray | None
    trials: int
    grad_evals: int
    success: bool
    reason: str


# ----------------------------------------------------------------------------- helpers


def _as_vector(v, name: str) -> np.ndarray:
    a = np.asarray(v)
    if a.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array (got shape {a.shape}); flatten it first, e.g. {name}.ravel()"
        )
    if a.dtype.kind != "f":
        if a.dtype.kind not in "iu":
            raise ValueError(f"{name} must be a real float array (got dtype {a.dtype})")
        a = a.astype(np.float64)
    return a


def _scalar(value, what: str) -> float:
    if type(value) is float:  # the common case, without the array round trip
        return value
    a = np.asarray(value)
    if a.size != 1:
        raise ValueError(f"{what} must return a scalar (got an array of shape {a.shape})")
    return float(a.reshape(()))


def _check_common(x, d, fx, gx, step, c1, max_trials):
    x = _as_vector(x, "x")
    d = _as_vector(d, "d")
    if d.shape != x.shape:
        raise ValueError(f"d must have the shape of x: x has shape {x.shape}, d has shape {d.shape}")
    if gx is not None:
        gx = _as_vector(gx, "gx")
        if gx.shape != x.shape:
            raise ValueError(
                f"gx must be the gradient at x, with the shape of x {x.shape} (got shape {gx.shape})"
            )
    if fx is not None:
        fx = _scalar(fx, "fx")
    step = float(step)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a finite positive number (got {step})")
    if not 0.0 < c1 < 1.0:
        raise ValueError(f"c1 must lie in (0, 1), typically 1e-4 (got {c1})")
    if int(max_trials) != max_trials or max_trials < 1:
        raise ValueError(f"max_trials must be a positive integer (got {max_trials})")
    return x, d, fx, gx, step


def _autodiff_grad(f):
    from ..transforms import grad  # lazy: optim sits above transforms

    return grad(f)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _start(f, grad_f, x, fx, gx):
    """Value and gradient at x, evaluated only when not supplied."""
    if fx is None:
        fx = _scalar(f(x), "f")
    if gx is None:
        g = grad_f if grad_f is not None else _autodiff_grad(f)
        gx = np.asarray(g(x))
        if gx.shape != x.shape:
            raise ValueError(f"the gradient must have the shape of x {x.shape} (got shape {gx.shape})")
    return fx, gx


def _precheck(x, d, fx, gx):
    """A failure reason if the search cannot start, else None; also the slope g.d."""
    if not math.isfinite(fx):
        return f"f is {fx} at x: the search needs a finite starting value", math.nan
    slope = float(np.dot(gx, d))
    if not math.isfinite(slope):  # a dot product is finite when both vectors are (short of overflow)
        if not np.all(np.isfinite(gx)):
            return "the gradient at x has non-finite entries: the search needs a finite gradient", math.nan
        if not np.all(np.isfinite(d)):
            return "d has non-finite entries", math.nan
        return f"g.d = {slope} overflows", math.nan
    if not slope < 0:
        return f"not a descent direction: g.d = {_fmt(slope)} >= 0", slope
    return None, slope


# ----------------------------------------------------------------------------- backtracking


def backtracking(
    f: Callable[[np.ndarray], float],
    x,
    d,
    *,
    fx: float | None = None,
    gx=None,
    step: float = 1.0,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_trials: int = 50,
) -> LineSearchResult:
    """Backtracking line search for the Armijo (sufficient decrease) condition.

    Tries ``t = step, step*shrink, step*shrink**2, ...`` and accepts the first
    ``t`` with ``f(x + t d) <= f(x) + c1 t (g . d)``. A trial where ``f`` is
    nan or inf counts as a rejection, so the search backs off from it.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, the objective.
    x, d : array_like, 1-D
        The current point and the search direction (same shape, real floats).
    fx : float, optional
        ``f(x)``; evaluated (and not counted in ``trials``) when omitted.
    gx : array_like, optional
        The gradient at ``x``; when omitted it is computed with
        :func:`slopes.grad` (so ``f`` must then be written with ``slopes.numpy``).
    step : float
        The first step tried (1.0 suits Newton and quasi-Newton directions).
    c1 : float
        Sufficient-decrease constant, in ``(0, 1)``.
    shrink : float
        Factor by which a rejected step is reduced, in ``(0, 1)``.
    max_trials : int
        Maximum number of evaluations of ``f`` at trial steps.

    Returns
    -------
    LineSearchResult
        ``g_new`` is always ``None`` except when the step is 0 (failure), where
        it is the gradient at ``x``.

    Raises
    ------
    ValueError
        For bad arguments (shapes, ``c1`` or ``shrink`` outside ``(0, 1)``,
        a non-positive ``step``, ...).

    Examples
    --------
    >>> f = lambda x: float(x @ x)
    >>> x = np.array([1.0, 2.0])
    >>> r = backtracking(f, x, -2 * x, gx=2 * x)     # the full step overshoots to -x
    >>> r.step, r.x_new, r.trials, r.success
    (0.5, array([0., 0.]), 2, True)
    >>> backtracking(f, x, x, gx=2 * x).reason
    'not a descent direction: g.d = 10 >= 0'
    """
    x, d, fx, gx, step = _check_common(x, d, fx, gx, step, c1, max_trials)
    if not 0.0 < shrink < 1.0:
        raise ValueError(f"shrink must lie in (0, 1), typically 0.5 (got {shrink})")
    fx, gx = _start(f, None, x, fx, gx)

    def fail(reason, trials):
        return LineSearchResult(0.0, x.copy(), fx, gx, trials, 0, False, reason)

    why, slope = _precheck(x, d, fx, gx)
    if why is not None:
        return fail(why, 0)

    t = step
    first_bad = None  # first step where f was not finite
    for trial in range(1, int(max_trials) + 1):
        x_t = x + t * d
        if np.array_equal(x_t, x):
            return fail(
                f"no step satisfying the Armijo condition before the step ({_fmt(t)}) became too small "
                f"to change x, after {trial - 1} trials (g.d = {_fmt(slope)}; f may be noisy or the "
                f"gradient inaccurate)",
                trial - 1,
            )
        f_t = _scalar(f(x_t), "f")
        if math.isfinite(f_t) and f_t <= fx + c1 * t * slope:
            return LineSearchResult(t, x_t, f_t, None, trial, 0, True, "")
        if not math.isfinite(f_t) and first_bad is None:
            first_bad = (t, f_t)
        last = t
        t *= shrink
    reason = f"no step satisfying the Armijo condition in {int(max_trials)} trials (last step {_fmt(last)})"
    if first_bad is not None:
        reason += f"; f is {first_bad[1]} at step {_fmt(first_bad[0])}"
    return fail(reason, int(max_trials))


# ----------------------------------------------------------------------------- interpolation


def _poly_min(g0: float, b: float, c: float) -> float | None:
    """Local minimizer s of p(s) = g0 s + b s**2 + c s**3 (None if there is none).

    The root of p'(s) = g0 + 2 b s + 3 c s**2 with p'' >= 0 is
    (-b + sqrt(b**2 - 3 c g0)) / (3 c), written in the cancellation-free form
    -g0 / (b + sqrt(b**2 - 3 c g0)), which also covers c = 0 (a quadratic).
    """
    disc = b * b - 3.0 * c * g0
    if not (math.isfinite(disc) and disc >= 0):
        return None
    den = b + math.sqrt(disc)
    if not (math.isfinite(den) and den > 0):
        return None
    return -g0 / den


def _interpolate(lo, f_lo, g_lo, hi, f_hi, g_hi, third):
    """Minimizer of a cubic (or quadratic) model of phi on the bracket, or None.

    The model matches phi(lo), phi'(lo) and phi(hi), plus phi'(hi) if known (a
    Hermite cubic), else phi at a third point if known, else it is a quadratic.
    """
    if not math.isfinite(f_hi):
        return None
    h = hi - lo
    r = f_hi - f_lo - g_lo * h
    if g_hi is not None and math.isfinite(g_hi):
        # p(s) = g_lo s + b s^2 + c s^3 with p(h) = r and p'(h) = g_hi - g_lo
        q = g_hi - g_lo
        c = (q * h - 2.0 * r) / h**3
        b = (3.0 * r - q * h) / h**2
    elif third is not None and math.isfinite(third[1]) and third[0] not in (lo, hi):
        s1, s2 = h, third[0] - lo
        r2 = third[1] - f_lo - g_lo * s2
        det = s1 * s1 * s2 * s2 * (s2 - s1)
        c = (s1 * s1 * r2 - s2 * s2 * r) / det
        b = (r * s2**3 - r2 * s1**3) / det
    else:
        b, c = r / (h * h), 0.0
    s = _poly_min(g_lo, b, c)
    return None if s is None else lo + s


# ----------------------------------------------------------------------------- strong Wolfe


def strong_wolfe(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], np.ndarray] | None,
    x,
    d,
    *,
    fx: float | None = None,
    gx=None,
    step: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_step: float = 1e10,
    expand: float = 5.0,
    max_trials: int = 50,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> LineSearchResult:
    """Line search for the strong Wolfe conditions (Nocedal & Wright 3.5/3.6).

    Accepts a step ``t`` with

    * ``f(x + t d) <= f(x) + c1 t (g . d)`` (sufficient decrease), and
    * ``|grad_f(x + t d) . d| <= c2 |g . d|`` (curvature).

    The bracketing phase tries ``step`` and then longer steps (the minimizer of
    the cubic through the last two trials, kept between 2 and ``expand`` times
    the last step, capped at ``max_step``) until a trial either satisfies both
    conditions or brackets an acceptable step; the zoom phase then shrinks the
    bracket, each trial chosen as the minimizer of a cubic model of
    ``phi(t) = f(x + t d)`` (from the values and slopes at hand), kept at least
    10% of the bracket from its end that failed and 0.1% from the other (so a
    step far too long is cut by orders of magnitude in one trial), and falling
    back to bisection when the model has no minimizer inside the bracket or two
    trials did not shrink the bracket to 2/3 of its width. A trial where ``f`` or the gradient is nan or inf is
    treated as "too far": the search backs off from it.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, the objective.
    grad_f : callable or None
        ``grad_f(x) -> np.ndarray``, its gradient. ``None`` means: use
        :func:`slopes.grad` on ``f`` (which must then be written with
        ``slopes.numpy``).
    x, d : array_like, 1-D
        The current point and the search direction (same shape, real floats).
    fx : float, optional
        ``f(x)``; evaluated (and not counted in ``trials``) when omitted.
    gx : array_like, optional
        ``grad_f(x)``; evaluated (not counted in ``grad_evals``) when omitted.
    step : float
        The first step tried (1.0 suits Newton and quasi-Newton directions).
    c1, c2 : float
        The Wolfe constants, ``0 < c1 < c2 < 1``. ``c2 = 0.9`` suits
        (quasi-)Newton methods, ``c2 = 0.1`` nonlinear conjugate gradients.
    max_step : float
        Largest step tried; reaching it without success reports that ``f`` may
        be unbounded below along ``d``.
    expand : float
        Largest factor (> 2) by which the step grows per bracketing trial.
    max_trials : int
        Maximum number of evaluations of ``f`` at trial steps.
    value_and_grad : callable, optional
        ``value_and_grad(x) -> (f(x), grad_f(x))`` in one call. When given, every
        trial evaluates both at once (as reverse-mode AD does for little more
        than the cost of ``f``), so ``grad_evals == trials``; ``f`` and
        ``grad_f`` are then used only for the start point when ``fx`` / ``gx``
        are omitted.

    Returns
    -------
    LineSearchResult
        On success ``g_new`` is the gradient at ``x_new``.

    Raises
    ------
    ValueError
        For bad arguments: shapes, ``c1 >= c2``, constants outside ``(0, 1)``,
        ``max_step < step``, ``expand <= 1``, ...

    Examples
    --------
    A quadratic along the steepest-descent direction: the minimizing step along
    ``d = -g`` for ``f(x) = x.A x / 2`` is ``g.g / g.A g``.

    >>> A = np.diag([1.0, 10.0])
    >>> f = lambda x: 0.5 * float(x @ A @ x)
    >>> grad_f = lambda x: A @ x
    >>> x = np.array([1.0, 1.0])
    >>> g = grad_f(x)
    >>> r = strong_wolfe(f, grad_f, x, -g, c2=0.1)
    >>> r.success, r.trials, r.grad_evals
    (True, 2, 1)
    >>> round(r.step, 6), round(float(g @ g / (g @ A @ g)), 6)
    (0.100899, 0.100899)
    >>> abs(float(r.g_new @ -g)) <= 0.1 * abs(float(g @ -g))
    True

    Failures are reported, not raised:

    >>> strong_wolfe(lambda x: -float(x[0]), lambda x: np.array([-1.0]),
    ...              np.array([0.0]), np.array([1.0]), max_step=100.0).reason
    'step reached max_step = 100 with f still decreasing (f = -100): f may be unbounded below along d'
    """
    x, d, fx, gx, step = _check_common(x, d, fx, gx, step, c1, max_trials)
    if not 0.0 < c2 < 1.0:
        raise ValueError(f"c2 must lie in (0, 1), typically 0.9 (got {c2})")
    if not c1 < c2:
        raise ValueError(f"c1 must be smaller than c2 (got c1 = {c1}, c2 = {c2}); e.g. c1=1e-4, c2=0.9")
    max_step = float(max_step)
    if not max_step >= step:
        raise ValueError(f"max_step must be at least step (got max_step = {max_step}, step = {step})")
    if not (expand > 2.0 and math.isfinite(expand)):
        raise ValueError(f"expand must be a finite number > 2, e.g. 5.0 (got {expand})")
    max_trials = int(max_trials)
    grad_f = grad_f if grad_f is not None else _autodiff_grad(f)
    fx, gx = _start(f, grad_f, x, fx, gx)

    why, slope0 = _precheck(x, d, fx, gx)
    if why is not None:
        return LineSearchResult(0.0, x.copy(), fx, gx, 0, 0, False, why)

    counts = {"f": 0, "g": 0}
    # best point satisfying the Armijo condition so far: (t, f, grad or None)
    best = [0.0, fx, gx]
    bad = []  # (t, description) of trial steps with non-finite values

    def armijo(t, f_t):
        return f_t <= fx + c1 * t * slope0

    joint = {}  # t -> gradient computed along with f by value_and_grad

    def phi(t):
        counts["f"] += 1
        x_t = x + t * d
        if value_and_grad is None:
            f_t = _scalar(f(x_t), "f")
        else:
            counts["g"] += 1
            f_t, joint[t] = value_and_grad(x_t)
            f_t = _scalar(f_t, "f")
        if not math.isfinite(f_t):
            bad.append((t, f"f is {f_t}"))
        elif armijo(t, f_t) and f_t < best[1]:
            best[:] = [t, f_t, None]
        return x_t, f_t

    def dphi(t, x_t, f_t):
        if t in joint:
            g_t = np.asarray(joint[t])
        else:
            counts["g"] += 1
            g_t = np.asarray(grad_f(x_t))
        if g_t.shape != x.shape:
            raise ValueError(f"grad_f must return an array of the shape of x {x.shape} (got {g_t.shape})")
        s = float(np.dot(g_t, d))
        if not math.isfinite(s):
            bad.append((t, "the gradient is not finite"))
        elif best[0] == t:
            best[2] = g_t
        return g_t, s

    def done(t, x_t, f_t, g_t):
        return LineSearchResult(t, x_t, f_t, g_t, counts["f"], counts["g"], True, "")

    def failed(reason):
        t, f_t, g_t = best
        if bad:
            t_bad, what = bad[0]
            reason += f" ({what} at step {_fmt(t_bad)}; the search backed off from it)"
        x_t = x.copy() if t == 0.0 else x + t * d
        return LineSearchResult(t, x_t, f_t, g_t, counts["f"], counts["g"], False, reason)

    def out_of_trials():
        return failed(
            f"no step satisfying the strong Wolfe conditions in {max_trials} trials "
            f"(best step {_fmt(best[0])}, g.d = {_fmt(slope0)})"
        )

    def zoom(lo, f_lo, g_lo, hi, f_hi, g_hi):
        # Invariants: lo satisfies Armijo with the lowest f of the bracket's ends,
        # g_lo = phi'(lo) is known and finite, and g_lo * (hi - lo) < 0.
        third = None  # a discarded point (t, f) for the three-point cubic
        widths = [math.inf, math.inf]  # the bracket's width two and one trials ago
        while counts["f"] < max_trials:
            width = abs(hi - lo)
            t = _interpolate(lo, f_lo, g_lo, hi, f_hi, g_hi, third)
            if t is None or not (min(lo, hi) < t < max(lo, hi)) or width > _STALL * widths[0]:
                t = 0.5 * (lo + hi)  # no usable model, or the bracket stalled: bisect
            else:
                # stay clear of hi (where the model is least trusted), but let t come
                # close to lo: a step far too long is then cut by orders of magnitude
                u = (t - lo) / (hi - lo)
                t = lo + min(max(u, _LO_MARGIN), 1.0 - _HI_MARGIN) * (hi - lo)
            widths = [widths[1], width]
            x_t = x + t * d
            if np.array_equal(x_t, x + lo * d) or np.array_equal(x_t, x + hi * d):
                return failed(
                    f"the bracket [{_fmt(min(lo, hi))}, {_fmt(max(lo, hi))}] became too small to change x after "
                    f"{counts['f']} trials without satisfying the curvature condition "
                    f"(f may be noisy or the gradient inaccurate)"
                )
            x_t, f_t = phi(t)
            if not math.isfinite(f_t) or not armijo(t, f_t) or f_t >= f_lo:
                third = (hi, f_hi)
                hi, f_hi, g_hi = t, f_t, None
                continue
            g_t, s_t = dphi(t, x_t, f_t)
            if not math.isfinite(s_t):
                third = (hi, f_hi)
                hi, f_hi, g_hi = t, f_t, None
                continue
            if abs(s_t) <= -c2 * slope0:
                return done(t, x_t, f_t, g_t)
            if s_t * (hi - lo) >= 0:
                third = (hi, f_hi)
                hi, f_hi, g_hi = lo, f_lo, g_lo
            else:
                third = (lo, f_lo)
            lo, f_lo, g_lo = t, f_t, s_t
        return out_of_trials()

    # Bracketing phase (Algorithm 3.5).
    t_prev, f_prev, s_prev = 0.0, fx, slope0
    t = step
    while True:
        if counts["f"] >= max_trials:
            return out_of_trials()
        x_t, f_t = phi(t)
        if f_t == -math.inf:
            bad.pop()  # reported on its own, not as a value backed off from
            return failed(f"f is -inf at step {_fmt(t)}: f is unbounded below along d")
        if not math.isfinite(f_t) or not armijo(t, f_t) or (counts["f"] > 1 and f_t >= f_prev):
            return zoom(t_prev, f_prev, s_prev, t, f_t, None)
        g_t, s_t = dphi(t, x_t, f_t)
        if not math.isfinite(s_t):
            return zoom(t_prev, f_prev, s_prev, t, f_t, None)
        if abs(s_t) <= -c2 * slope0:
            return done(t, x_t, f_t, g_t)
        if s_t >= 0:
            return zoom(t, f_t, s_t, t_prev, f_prev, s_prev)
        if t >= max_step:
            return failed(
                f"step reached max_step = {_fmt(max_step)} with f still decreasing "
                f"(f = {_fmt(f_t)}): f may be unbounded below along d"
            )
        # extrapolate: the minimizer of the cubic through the last two trials,
        # kept within [2 t, expand t]
        t_next = _interpolate(t_prev, f_prev, s_prev, t, f_t, s_t, None)
        t_next = expand * t if t_next is None else min(max(t_next, 2.0 * t), expand * t)
        t_prev, f_prev, s_prev = t, f_t, s_t
        t = min(t_next, max_step)
