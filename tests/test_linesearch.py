"""Tests for slopes.optim.linesearch: backtracking Armijo and strong Wolfe.

Every successful result is checked independently: f and the gradient are
re-evaluated here at x + step * d and the Armijo / curvature inequalities are
asserted directly, never taken from the result's own flags.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slopes.optim.linesearch import LineSearchResult, backtracking, strong_wolfe

# ----------------------------------------------------------------------------- problems


def quadratic(A, b):
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    return (lambda x: float(0.5 * x @ A @ x - b @ x)), (lambda x: A @ x - b)


def rosen(x):
    return float(100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2)


def rosen_grad(x):
    return np.array([-400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0]), 200.0 * (x[1] - x[0] ** 2)])


def rosen_hess(x):
    return np.array([[1200.0 * x[0] ** 2 - 400.0 * x[1] + 2.0, -400.0 * x[0]], [-400.0 * x[0], 200.0]])


ROSEN_POINTS = [(-1.2, 1.0), (0.0, 0.0), (2.0, 2.0), (-0.5, 1.5), (1.5, -0.5)]


# ----------------------------------------------------------------------------- independent checks


def assert_armijo(f, x, d, g, r, c1=1e-4):
    assert r.success, r.reason
    assert r.step > 0
    x_new = x + r.step * d
    np.testing.assert_array_equal(r.x_new, x_new)
    f_new = f(x_new)
    assert r.f_new == f_new
    assert f_new <= f(x) + c1 * r.step * float(g @ d)


def assert_strong_wolfe(f, grad_f, x, d, r, c1=1e-4, c2=0.9):
    g = grad_f(x)
    assert_armijo(f, x, d, g, r, c1)
    g_new = grad_f(x + r.step * d)
    np.testing.assert_array_equal(r.g_new, g_new)
    assert abs(float(g_new @ d)) <= c2 * abs(float(g @ d))


# ----------------------------------------------------------------------------- quadratics


A2 = np.array([[3.0, 1.0], [1.0, 2.0]])
B2 = np.array([1.0, -1.0])


def test_newton_direction_on_quadratic_takes_one_trial():
    f, g = quadratic(A2, B2)
    x = np.array([2.0, -3.0])
    d = -np.linalg.solve(A2, g(x))
    x_star = np.linalg.solve(A2, B2)

    r = backtracking(f, x, d, fx=f(x), gx=g(x))
    assert isinstance(r, LineSearchResult)
    assert (r.step, r.trials, r.grad_evals, r.g_new) == (1.0, 1, 0, None)
    assert_armijo(f, x, d, g(x), r)
    np.testing.assert_allclose(r.x_new, x_star, atol=1e-12)

    r = strong_wolfe(f, g, x, d, fx=f(x), gx=g(x))
    assert (r.step, r.trials, r.grad_evals) == (1.0, 1, 1)
    assert_strong_wolfe(f, g, x, d, r)
    np.testing.assert_allclose(r.x_new, x_star, atol=1e-12)


@pytest.mark.parametrize("step", [1.0, 0.01, 3.0, 100.0])
@pytest.mark.parametrize("c2", [0.9, 0.1, 1e-3])
def test_strong_wolfe_on_quadratic_steepest_descent(step, c2):
    A = np.diag([1.0, 4.0, 25.0])
    f, g = quadratic(A, np.zeros(3))
    x = np.array([1.0, -1.0, 0.5])
    d = -g(x)
    t_star = float(g(x) @ g(x) / (g(x) @ A @ g(x)))  # exact minimizing step along d
    r = strong_wolfe(f, g, x, d, step=step, c2=c2)
    assert_strong_wolfe(f, g, x, d, r, c2=c2)
    # on a quadratic, |phi'(t)| <= c2 |phi'(0)|  <=>  |t - t*| <= c2 t*
    assert abs(r.step - t_star) <= c2 * t_star * (1 + 1e-12)
    assert r.trials <= 12


def test_strong_wolfe_interpolation_is_exact_on_a_quadratic_when_overshooting():
    # one overshooting trial, then the quadratic model through phi(0), phi'(0), phi(1)
    # is phi itself: the second trial is the exact minimizer
    A = np.diag([2.0, 8.0])
    f, g = quadratic(A, np.zeros(2))
    x = np.array([1.0, 1.0])
    d = -g(x)
    t_star = float(g(x) @ g(x) / (g(x) @ A @ g(x)))
    r = strong_wolfe(f, g, x, d, c2=1e-3)
    assert_strong_wolfe(f, g, x, d, r, c2=1e-3)
    assert r.step == pytest.approx(t_star, rel=1e-10)
    assert (r.trials, r.grad_evals) == (2, 1)


@pytest.mark.parametrize("shrink", [0.5, 0.3, 0.9])
@pytest.mark.parametrize("c1", [1e-4, 0.3, 0.7])
def test_backtracking_on_quadratic_matches_closed_form(shrink, c1):
    # phi(t) = phi0 + s t + q t^2 / 2 satisfies Armijo iff t <= 2 (1 - c1) t*, t* = -s / q
    A = np.diag([1.0, 10.0])
    f, g = quadratic(A, np.zeros(2))
    x = np.array([1.0, 1.0])
    d = -g(x)
    s, q = float(g(x) @ d), float(d @ A @ d)
    limit = 2 * (1 - c1) * (-s / q)
    k = math.ceil(math.log(limit) / math.log(shrink)) if limit < 1 else 0
    while shrink**k > limit:  # guard the float log against an off-by-one
        k += 1
    while k > 0 and shrink ** (k - 1) <= limit:
        k -= 1
    r = backtracking(f, x, d, gx=g(x), c1=c1, shrink=shrink)
    assert_armijo(f, x, d, g(x), r, c1)
    assert r.step == pytest.approx(shrink**k, rel=1e-12)
    assert r.trials == k + 1


# ----------------------------------------------------------------------------- non-quadratic problems


@pytest.mark.parametrize("point", ROSEN_POINTS)
@pytest.mark.parametrize("direction", ["steepest", "newton"])
def test_rosenbrock_from_standard_points(point, direction):
    x = np.array(point)
    g = rosen_grad(x)
    d = -g if direction == "steepest" else -np.linalg.solve(rosen_hess(x), g)
    if g @ d >= 0:  # Newton on an indefinite Hessian: not a descent direction; use -g
        d = -g
    r = backtracking(rosen, x, d, gx=g)
    assert_armijo(rosen, x, d, g, r)
    assert r.trials <= 20
    for c2 in (0.9, 0.1):
        r = strong_wolfe(rosen, rosen_grad, x, d, c2=c2)
        assert_strong_wolfe(rosen, rosen_grad, x, d, r, c2=c2)
        assert r.trials <= 20
        assert r.grad_evals <= r.trials


def test_one_dimensional_minimum_along_the_ray():
    # phi(t) = exp(t) - 3 t from x = 0 along d = 1: minimum at t = log 3
    f = lambda x: float(np.exp(x[0]) - 3 * x[0])
    g = lambda x: np.array([np.exp(x[0]) - 3.0])
    x, d = np.array([0.0]), np.array([1.0])
    for step in (1e-3, 0.5, 1.0, 5.0):
        r = strong_wolfe(f, g, x, d, step=step, c2=1e-3)
        assert_strong_wolfe(f, g, x, d, r, c2=1e-3)
        # |phi'(t)| = |e^t - 3| <= 2e-3 puts t within 1e-3 of log 3
        assert abs(r.step - math.log(3)) < 1e-3
        assert r.trials <= 15


def test_strong_wolfe_expands_towards_a_far_minimum():
    f, g = quadratic(np.array([[1e-3]]), np.array([0.0]))
    x, d = np.array([-100.0]), np.array([1.0])  # minimum along the ray at t = 100
    r = strong_wolfe(f, g, x, d, c2=0.5)
    assert_strong_wolfe(f, g, x, d, r, c2=0.5)
    assert 50 <= r.step <= 150
    assert r.trials <= 12


def test_trial_count_is_small_for_newton_steps_near_the_rosenbrock_minimum():
    x = np.array([0.95, 0.9])
    g = rosen_grad(x)
    d = -np.linalg.solve(rosen_hess(x), g)
    assert strong_wolfe(rosen, rosen_grad, x, d).trials == 1
    assert backtracking(rosen, x, d, gx=g).trials == 1


# ----------------------------------------------------------------------------- failures, reported


@pytest.mark.parametrize("search", ["backtracking", "strong_wolfe"])
def test_ascent_direction_is_reported(search):
    f, g = quadratic(np.eye(2), np.zeros(2))
    x = np.array([1.0, 2.0])
    for d in (g(x), np.zeros(2), np.array([2.0, -1.0])):  # g.d = 5, 0, 0
        if search == "backtracking":
            r = backtracking(f, x, d, gx=g(x))
        else:
            r = strong_wolfe(f, g, x, d)
        assert not r.success
        assert r.reason.startswith("not a descent direction: g.d = ")
        assert r.reason.endswith(">= 0")
        assert (r.step, r.trials, r.grad_evals) == (0.0, 0, 0)
        np.testing.assert_array_equal(r.x_new, x)
        assert r.f_new == f(x)
    r = backtracking(f, x, g(x), gx=g(x))
    assert r.reason == "not a descent direction: g.d = 5 >= 0"


def nan_beyond(limit):
    """(x0 - 1)^2 for x0 < limit, nan beyond (like a log barrier evaluated outside its domain)."""
    f = lambda x: float((x[0] - 1.0) ** 2) if x[0] < limit else math.nan
    g = lambda x: np.array([2.0 * (x[0] - 1.0)]) if x[0] < limit else np.array([math.nan])
    return f, g


def test_backtracking_backs_off_from_nan():
    f, g = nan_beyond(1.5)
    x, d = np.array([0.0]), np.array([1.0])
    r = backtracking(f, x, d, gx=g(x), step=4.0)
    assert_armijo(f, x, d, g(x), r)
    assert (r.step, r.trials) == (1.0, 3)  # 4 (nan), 2 (nan), 1


def test_strong_wolfe_backs_off_from_nan():
    f, g = nan_beyond(1.5)
    x, d = np.array([0.0]), np.array([1.0])
    for step in (4.0, 1.7, 1e3):
        r = strong_wolfe(f, g, x, d, step=step)
        assert_strong_wolfe(f, g, x, d, r)
        assert r.step < 1.5


def test_strong_wolfe_backs_off_from_nan_in_the_bracketing_phase():
    f, g = nan_beyond(5.0)
    f2 = lambda x: f(x - 9.0)  # minimum at x0 = 10, nan from x0 = 14: expansions 1, 2, 4, 8, 16 (nan)
    g2 = lambda x: g(x - 9.0)
    x, d = np.array([0.0]), np.array([1.0])
    r = strong_wolfe(f2, g2, x, d, c2=0.1)
    assert_strong_wolfe(f2, g2, x, d, r, c2=0.1)
    assert r.step < 14


@pytest.mark.parametrize("search", ["backtracking", "strong_wolfe"])
def test_nan_everywhere_along_d_is_reported(search):
    f = lambda x: float(-x[0]) if x[0] == 0.0 else math.nan
    g = lambda x: np.array([-1.0])
    x, d = np.array([0.0]), np.array([1.0])
    if search == "backtracking":
        r = backtracking(f, x, d, gx=g(x), max_trials=20)
        assert "no step satisfying the Armijo condition in 20 trials" in r.reason
    else:
        r = strong_wolfe(f, g, x, d, max_trials=20)
    assert not r.success
    assert "f is nan at step 1" in r.reason
    assert r.step == 0.0
    np.testing.assert_array_equal(r.x_new, x)


def test_unbounded_below_reports_max_step():
    f = lambda x: float(-x[0] - x[1])
    g = lambda x: np.array([-1.0, -1.0])
    x, d = np.zeros(2), np.array([1.0, 1.0])
    r = strong_wolfe(f, g, x, d, max_step=1e6)
    assert not r.success
    assert "max_step = 1e+06" in r.reason and "unbounded below" in r.reason
    assert r.step == 1e6 and r.f_new == -2e6  # the best Armijo point found is returned
    assert r.trials == 10  # 1, 5, 25, ..., 5**8 (f is linear: no cubic minimizer), then 1e6
    # default max_step: still reported, within the default trial budget
    r = strong_wolfe(f, g, x, d)
    assert not r.success and "max_step" in r.reason


def test_minus_infinity_is_reported_as_unbounded():
    f = lambda x: float(-x[0]) if x[0] < 10 else -math.inf
    g = lambda x: np.array([-1.0])
    r = strong_wolfe(f, g, np.array([0.0]), np.array([1.0]))
    assert not r.success
    assert r.reason == "f is -inf at step 25: f is unbounded below along d"  # steps 1, 5, 25
    assert r.step == 5.0  # best finite Armijo point


def test_backtracking_max_trials_exhausted():
    # a wrong gradient: claims descent along d, but f increases along d
    f = lambda x: float(x[0])
    x, d = np.array([0.0]), np.array([1.0])
    r = backtracking(f, x, d, gx=np.array([-1.0]), max_trials=10)
    assert not r.success
    assert r.reason == "no step satisfying the Armijo condition in 10 trials (last step 0.00195)"
    assert (r.step, r.trials) == (0.0, 10)
    np.testing.assert_array_equal(r.x_new, x)


def test_backtracking_stops_when_the_step_no_longer_changes_x():
    f = lambda x: float(x[0])
    x, d = np.array([1.0]), np.array([1.0])
    r = backtracking(f, x, d, gx=np.array([-1.0]), max_trials=200)
    assert not r.success
    assert "too small to change x" in r.reason
    assert r.trials < 60


def test_strong_wolfe_max_trials_exhausted():
    x = np.array([-1.2, 1.0])
    d = -rosen_grad(x)  # |d| ~ 230: the unit step is far too long
    r = strong_wolfe(rosen, rosen_grad, x, d, max_trials=1)
    assert not r.success
    assert r.trials == 1
    assert "no step satisfying the strong Wolfe conditions in 1 trials" in r.reason
    # what comes back is still a point of sufficient decrease (or x itself)
    assert r.f_new <= rosen(x) + 1e-4 * r.step * float(rosen_grad(x) @ d)
    np.testing.assert_array_equal(r.x_new, x + r.step * d)


def test_strong_wolfe_with_an_inconsistent_gradient_reports_failure():
    # the gradient does not match f: the curvature condition can never be met
    f = lambda x: float((x[0] - 1.0) ** 2)
    g = lambda x: np.array([-1.0])
    r = strong_wolfe(f, g, np.array([0.0]), np.array([1.0]), c2=0.5)
    assert not r.success
    assert r.reason
    assert r.trials <= 50


def test_non_finite_start_is_reported():
    f = lambda x: math.nan
    r = strong_wolfe(f, lambda x: np.ones(1), np.array([0.0]), np.array([-1.0]))
    assert not r.success and r.reason.startswith("f is nan at x")
    r = backtracking(lambda x: 0.0, np.array([0.0]), np.array([-1.0]), gx=np.array([math.inf]))
    assert not r.success and "gradient at x" in r.reason


# ----------------------------------------------------------------------------- arguments


def test_bad_arguments_raise_value_error():
    f, g = quadratic(np.eye(2), np.zeros(2))
    x, d = np.ones(2), -np.ones(2)
    with pytest.raises(ValueError, match="c1 must be smaller than c2"):
        strong_wolfe(f, g, x, d, c1=0.5, c2=0.5)
    with pytest.raises(ValueError, match="c1 must lie in"):
        backtracking(f, x, d, gx=g(x), c1=0.0)
    with pytest.raises(ValueError, match="c2 must lie in"):
        strong_wolfe(f, g, x, d, c2=1.0)
    with pytest.raises(ValueError, match="shrink must lie in"):
        backtracking(f, x, d, gx=g(x), shrink=1.0)
    with pytest.raises(ValueError, match="step must be a finite positive"):
        backtracking(f, x, d, gx=g(x), step=0.0)
    with pytest.raises(ValueError, match="x must be a 1-D array"):
        backtracking(f, np.ones((2, 1)), d, gx=g(x))
    with pytest.raises(ValueError, match="d must have the shape of x"):
        strong_wolfe(f, g, x, np.ones(3))
    with pytest.raises(ValueError, match="gx must be the gradient at x"):
        strong_wolfe(f, g, x, d, gx=np.ones(3))
    with pytest.raises(ValueError, match="max_step must be at least step"):
        strong_wolfe(f, g, x, d, step=2.0, max_step=1.0)
    with pytest.raises(ValueError, match="expand must be"):
        strong_wolfe(f, g, x, d, expand=1.0)
    with pytest.raises(ValueError, match="max_trials must be a positive integer"):
        backtracking(f, x, d, gx=g(x), max_trials=0)
    with pytest.raises(ValueError, match="f must return a scalar"):
        backtracking(lambda x: x, x, d, gx=g(x))
    with pytest.raises(ValueError, match="real float array"):
        backtracking(f, np.array(["a", "b"]), d, gx=g(x))


def test_integer_inputs_and_array_valued_f_are_accepted():
    f = lambda x: np.array([float(x @ x)])  # a size-1 array is a scalar
    r = backtracking(f, np.array([1, 2]), np.array([-1, -2]), gx=np.array([2.0, 4.0]))
    assert r.success and r.x_new.dtype == np.float64
    np.testing.assert_array_equal(r.x_new, [0.0, 0.0])


def test_gradient_defaults_to_slopes_autodiff():
    import slopes.numpy as snp

    f = lambda x: x[0] ** 2 + 2 * x[1] ** 2 + snp.exp(-x[0] - x[1])
    x = np.array([1.0, 2.0])
    exact = lambda x: np.array([2 * x[0] - np.exp(-x[0] - x[1]), 4 * x[1] - np.exp(-x[0] - x[1])])
    fval = lambda x: float(x[0] ** 2 + 2 * x[1] ** 2 + np.exp(-x[0] - x[1]))
    d = -exact(x)
    r = backtracking(f, x, d)
    assert_armijo(fval, x, d, exact(x), r)
    r = strong_wolfe(f, None, x, d)
    assert r.success
    assert_armijo(fval, x, d, exact(x), r)
    np.testing.assert_allclose(r.g_new, exact(r.x_new), rtol=1e-12)
    assert abs(float(exact(r.x_new) @ d)) <= 0.9 * abs(float(exact(x) @ d))


# ----------------------------------------------------------------------------- scipy as a reference


def _problems():
    yield "rosenbrock", rosen, rosen_grad, np.array([-1.2, 1.0]), None
    yield "rosenbrock", rosen, rosen_grad, np.array([0.0, 0.0]), None
    yield "rosenbrock-newton", rosen, rosen_grad, np.array([2.0, 2.0]), rosen_hess
    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]])
    f, g = quadratic(A, np.array([1.0, 0.0, -1.0]))
    yield "quadratic", f, g, np.array([3.0, -2.0, 1.0]), None
    h = lambda x: float(np.sum(np.exp(x)) + 0.5 * x @ x - x[0])
    hg = lambda x: np.exp(x) + x - np.array([1.0, 0.0, 0.0, 0.0])
    yield "exp-sum", h, hg, np.array([1.0, -0.5, 2.0, 0.3]), None


@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("case", list(_problems()), ids=lambda c: c[0])
def test_agrees_with_scipy_line_search(case, c2):
    from scipy.optimize import line_search

    _, f, g, x, hess = case
    d = -g(x) if hess is None else -np.linalg.solve(hess(x), g(x))
    assert g(x) @ d < 0
    ref = line_search(f, g, x, d, gfk=g(x), old_fval=f(x), c1=1e-4, c2=c2)
    assert ref[0] is not None, "scipy's reference search failed"
    r = strong_wolfe(f, g, x, d, c2=c2)
    assert_strong_wolfe(f, g, x, d, r, c2=c2)
    # scipy's step satisfies the same conditions (checked the same way) ...
    t_ref = ref[0]
    f_ref = f(x + t_ref * d)
    assert f_ref <= f(x) + 1e-4 * t_ref * float(g(x) @ d)
    assert abs(float(g(x + t_ref * d) @ d)) <= c2 * abs(float(g(x) @ d)) * (1 + 1e-12)
    # ... and the decreases are of the same size (steps may differ)
    ours, theirs = f(x) - r.f_new, f(x) - f_ref
    assert ours > 0 and theirs > 0
    assert 0.2 <= ours / theirs <= 5.0


# ----------------------------------------------------------------------------- property-based


@st.composite
def convex_quadratic_and_direction(draw):
    n = draw(st.integers(1, 6))
    floats = st.floats(-3.0, 3.0, allow_nan=False)
    q = np.linalg.qr(draw(hnp.arrays(np.float64, (n, n), elements=floats)) + 5 * np.eye(n))[0]
    eig = draw(hnp.arrays(np.float64, n, elements=st.floats(0.05, 20.0)))
    A = (q * eig) @ q.T
    A = 0.5 * (A + A.T)
    b = draw(hnp.arrays(np.float64, n, elements=floats))
    x = draw(hnp.arrays(np.float64, n, elements=floats))
    d = draw(hnp.arrays(np.float64, n, elements=floats))
    step = draw(st.sampled_from([1e-3, 1.0, 10.0]))
    c2 = draw(st.sampled_from([0.9, 0.5, 0.1]))
    return A, b, x, d, step, c2


@settings(max_examples=150, deadline=None)
@given(convex_quadratic_and_direction())
def test_strong_wolfe_always_succeeds_on_convex_quadratics(problem):
    A, b, x, d, step, c2 = problem
    f, g = quadratic(A, b)
    gx = g(x)
    slope = float(gx @ d)
    # a descent direction, not numerically orthogonal to the gradient
    assume(np.linalg.norm(d) > 0.1 and np.linalg.norm(gx) > 1e-3)
    assume(abs(slope) > 1e-3 * np.linalg.norm(gx) * np.linalg.norm(d))
    if slope > 0:
        d = -d
    r = strong_wolfe(f, g, x, d, step=step, c2=c2)
    assert_strong_wolfe(f, g, x, d, r, c2=c2)
    rb = backtracking(f, x, d, gx=gx, step=step)
    assert_armijo(f, x, d, gx, rb)


# ----------------------------------------------------------------------------- the interpolation model


def test_cubic_models_are_exact_on_a_cubic():
    from slopes.optim.linesearch import _interpolate

    # phi(t) = t^3 - 6 t^2 - t + 1: phi'(t) = 3 t^2 - 12 t - 1, local minimum at (6 + sqrt(39)) / 3
    phi = lambda t: t**3 - 6 * t**2 - t + 1
    dphi = lambda t: 3 * t**2 - 12 * t - 1
    t_min = (6 + math.sqrt(39)) / 3
    lo, hi = 1.0, 6.0
    hermite = _interpolate(lo, phi(lo), dphi(lo), hi, phi(hi), dphi(hi), None)
    three_point = _interpolate(lo, phi(lo), dphi(lo), hi, phi(hi), None, (2.5, phi(2.5)))
    assert hermite == pytest.approx(t_min, rel=1e-12)
    assert three_point == pytest.approx(t_min, rel=1e-12)
    # quadratic model (no second slope, no third point) is exact on a parabola
    assert _interpolate(0.0, 4.0, -4.0, 3.0, 1.0, None, None) == pytest.approx(2.0)
    # no finite value at hi: no model (the search bisects)
    assert _interpolate(0.0, 4.0, -4.0, 3.0, math.nan, None, None) is None
    # a concave model has no minimizer
    assert _interpolate(0.0, 0.0, -1.0, 1.0, -5.0, None, None) is None


def test_strong_wolfe_backs_off_from_a_nan_gradient():
    f = lambda x: float((x[0] - 1.0) ** 2)
    g = lambda x: np.array([2.0 * (x[0] - 1.0)]) if x[0] < 1.5 else np.array([math.nan])
    x, d = np.array([0.0]), np.array([1.0])
    r = strong_wolfe(f, g, x, d, step=1.8, c2=0.5)  # f(1.8) passes Armijo, its gradient is nan
    assert_strong_wolfe(f, g, x, d, r, c2=0.5)
    assert r.step < 1.5


def test_float32_inputs_stay_float32():
    f = lambda x: float(np.sum(x.astype(np.float64) ** 2))
    g = lambda x: 2 * x
    x = np.array([1.0, -2.0], dtype=np.float32)
    r = strong_wolfe(f, g, x, -g(x), c2=0.1)
    assert r.success and r.x_new.dtype == np.float32
    assert_strong_wolfe(f, g, x, -g(x), r, c2=0.1)
