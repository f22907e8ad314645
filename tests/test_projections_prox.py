"""Projections onto convex sets, proximal operators and the fixed-point residual.

Every claim is checked against an independent reference: closed forms written here,
scipy.optimize (SLSQP / bounded scalar minimization / L-BFGS-B), a bisection solver
for the simplex threshold, and the defining inequalities (variational inequality,
firm non-expansiveness, Moreau identity, KKT conditions).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize, minimize_scalar

from slopes.optim.projections import (
    Projection,
    box,
    halfspace,
    l2_ball,
    nonnegative,
    project_box,
    project_halfspace,
    project_l2_ball,
    project_nonnegative,
    project_simplex,
    simplex,
)
from slopes.optim.prox import (
    Prox,
    box_indicator,
    elastic_net,
    fixed_point_residual,
    indicator,
    l1,
    soft_threshold,
    squared_l2,
    zero,
)

FAST = settings(max_examples=40, deadline=None)
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def vec(n_min=1, n_max=6):
    return st.integers(n_min, n_max).flatmap(lambda n: arrays(np.float64, n, elements=finite))


# ----------------------------------------------------------------------------- sampling points in sets


def sample_in(name, params, n, rng, k=20):
    """k random points of the set (interior and boundary), drawn independently of the projection code."""
    pts = []
    for i in range(k):
        if name == "box":
            lo, hi = params
            lo_f = np.where(np.isfinite(lo), lo, -20.0)
            hi_f = np.where(np.isfinite(hi), hi, 20.0)
            lo_f = np.minimum(lo_f, hi_f)
            y = lo_f + rng.uniform(size=n) * (hi_f - lo_f)
            if i % 3 == 0:  # push some coordinates onto the boundary
                mask = rng.uniform(size=n) < 0.5
                y = np.where(mask & np.isfinite(lo), lo, y)
        elif name == "ball":
            r, c = params
            d = rng.normal(size=n)
            d /= np.linalg.norm(d)
            rad = r if i % 3 == 0 else r * rng.uniform() ** (1 / n)
            y = c + rad * d
        elif name == "simplex":
            (s,) = params
            y = s * rng.dirichlet(np.ones(n))
            if i % 3 == 0:  # a face: zero some entries
                y[rng.uniform(size=n) < 0.5] = 0.0
                y = s * y / y.sum() if y.sum() > 0 else s * np.eye(n)[0]
        elif name == "halfspace":
            a, b = params
            z = rng.normal(scale=5, size=n)
            viol = a @ z - b
            shift = max(viol, 0.0) / (a @ a) + (0.0 if i % 3 == 0 else rng.uniform())
            y = z - shift * a
        elif name == "nonnegative":
            y = np.abs(rng.normal(size=n))
            y[rng.uniform(size=n) < 0.3] = 0.0
        pts.append(y)
    return pts


@st.composite
def set_and_point(draw):
    n = draw(st.integers(1, 6))
    x = draw(arrays(np.float64, n, elements=finite))
    kind = draw(st.sampled_from(["box", "ball", "simplex", "halfspace", "nonnegative"]))
    if kind == "box":
        a = draw(arrays(np.float64, n, elements=finite))
        b = draw(arrays(np.float64, n, elements=finite))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        lo = np.where(draw(arrays(np.bool_, n)), -np.inf, lo)
        hi = np.where(draw(arrays(np.bool_, n)), np.inf, hi)
        params, P = (lo, hi), box(lo, hi)
    elif kind == "ball":
        r = draw(st.floats(0, 10))
        c = draw(arrays(np.float64, n, elements=finite))
        params, P = (r, c), l2_ball(r, c)
    elif kind == "simplex":
        s = draw(st.floats(0.1, 10))
        params, P = (s,), simplex(s)
    elif kind == "halfspace":
        a = draw(arrays(np.float64, n, elements=finite).filter(lambda a: np.linalg.norm(a) > 0.1))
        b = draw(finite)
        params, P = (a, b), halfspace(a, b)
    else:
        params, P = (), nonnegative()
    return kind, params, P, x


# ----------------------------------------------------------------------------- projections: properties


@FAST
@given(set_and_point(), st.integers(0, 2**31 - 1))
def test_projection_variational_inequality_and_idempotence(case, seed):
    kind, params, P, x = case
    p = P(x)
    assert p.shape == x.shape
    assert P.contains(p)
    # idempotence
    np.testing.assert_allclose(P(p), p, rtol=0, atol=1e-12 * max(1.0, np.abs(p).max()))
    # variational inequality: (x - P x).(y - P x) <= 0 for all y in C
    rng = np.random.default_rng(seed)
    for y in sample_in(kind, params, x.size, rng):
        assert P.contains(y, tol=1e-9)
        lhs = (x - p) @ (y - p)
        assert lhs <= 1e-12 * max(1.0, np.linalg.norm(x - p) * np.linalg.norm(y - p))


@FAST
@given(set_and_point(), st.integers(0, 2**31 - 1))
def test_projection_firmly_nonexpansive(case, seed):
    _, _, P, x = case
    y = x + np.random.default_rng(seed).normal(scale=5, size=x.shape)
    px, py = P(x), P(y)
    d = px - py
    # firm non-expansiveness  ||Px - Py||^2 <= (Px - Py).(x - y)  implies  ||Px - Py|| <= ||x - y||
    assert d @ d <= d @ (x - y) + 1e-10
    assert np.linalg.norm(d) <= np.linalg.norm(x - y) + 1e-12


@FAST
@given(set_and_point())
def test_projection_is_nearest_point_among_samples(case):
    kind, params, P, x = case
    p = P(x)
    dist = np.linalg.norm(x - p)
    for y in sample_in(kind, params, x.size, np.random.default_rng(0), k=30):
        assert dist <= np.linalg.norm(x - y) + 1e-9


# ----------------------------------------------------------------------------- projections: closed forms


def test_box_is_clip_with_broadcast_and_missing_bounds():
    rng = np.random.default_rng(1)
    X = rng.normal(scale=3, size=(4, 3))
    lo = np.array([-1.0, -np.inf, 0.0])
    hi = 2.0
    np.testing.assert_array_equal(box(lo, hi)(X), np.clip(X, lo, hi))
    np.testing.assert_array_equal(project_box(X, None, 1.0), np.minimum(X, 1.0))
    np.testing.assert_array_equal(project_box(X, -1.0), np.maximum(X, -1.0))
    np.testing.assert_array_equal(box()(X), X)
    np.testing.assert_array_equal(nonnegative()(X), np.maximum(X, 0))
    np.testing.assert_array_equal(project_nonnegative(X), np.maximum(X, 0))
    assert box(-np.inf, np.inf).contains(X)
    assert box(lo, hi).contains(np.clip(X, lo, hi)) and not box(lo, hi).contains(X)


def test_box_degenerate_and_integer_input_not_mutated():
    x = np.array([1, 5, -3])
    out = box(2, 2)(x)
    np.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(x, [1, 5, -3])
    y = np.array([3.0, -4.0])
    for P in (box(-1, 1), l2_ball(1.0), simplex(), halfspace(np.ones(2), 0.0), nonnegative()):
        P(y)
        np.testing.assert_array_equal(y, [3.0, -4.0])
    for P in (box(0, 1), l2_ball(1.0), simplex(), halfspace([1.0], 0.0), nonnegative()):
        assert P(np.float32([2.0])).dtype == np.float32
    for h in (l1(0.1), squared_l2(1.0), elastic_net(0.1, 0.1), box_indicator(0, 1), zero()):
        assert h(np.float32([2.0]), 0.5).dtype == np.float32


def test_ball_scaling_closed_form():
    rng = np.random.default_rng(2)
    c = np.array([1.0, -2.0, 0.5])
    for _ in range(20):
        x = c + rng.normal(scale=4, size=3)
        r = rng.uniform(0, 5)
        p = project_l2_ball(x, r, c)
        d = np.linalg.norm(x - c)
        expected = x if d <= r else c + r * (x - c) / d
        np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-14)
        if d > r:
            assert np.linalg.norm(p - c) == pytest.approx(r, rel=1e-14)
    np.testing.assert_array_equal(l2_ball(0.0, c)(np.zeros(3)), c)  # radius 0: the point
    np.testing.assert_array_equal(l2_ball(np.inf)(np.array([1e300])), [1e300])
    M = np.full((2, 2), 1.0)  # the whole matrix is one vector (Frobenius ball)
    np.testing.assert_allclose(l2_ball(1.0)(M), M / 2)


def test_halfspace_formula_and_boundary():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.normal(size=4)
        b = rng.normal()
        x = rng.normal(scale=3, size=4)
        p = project_halfspace(x, a, b)
        if a @ x <= b:
            np.testing.assert_array_equal(p, x)
        else:
            np.testing.assert_allclose(p, x - (a @ x - b) / (a @ a) * a, atol=1e-13)
            assert a @ p == pytest.approx(b, abs=1e-12)  # lands on the hyperplane
            # displacement is along the normal
            np.testing.assert_allclose(np.cross(np.r_[(x - p)[:3]], np.r_[a[:3]]), 0, atol=1e-12)
    P = halfspace([1.0, 1.0], 2.0)
    np.testing.assert_allclose(P(np.array([3.0, 1.0])), [2.0, 0.0])
    assert P.contains([1.0, 1.0]) and not P.contains([1.0, 1.1])


# ----------------------------------------------------------------------------- simplex vs references


def simplex_bisection(x, s, iters=200):
    """Independent reference: theta solving sum(max(x - theta, 0)) = s by bisection."""
    lo, hi = x.min() - s, x.max()
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if np.maximum(x - mid, 0).sum() > s:
            lo = mid
        else:
            hi = mid
    return np.maximum(x - 0.5 * (lo + hi), 0)


def simplex_slsqp(x, s):
    n = x.size
    res = minimize(
        lambda y: 0.5 * np.sum((y - x) ** 2),
        np.full(n, s / n),
        jac=lambda y: y - x,
        method="SLSQP",
        bounds=[(0, None)] * n,
        constraints=[{"type": "eq", "fun": lambda y: y.sum() - s, "jac": lambda y: np.ones(n)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert res.success, res.message
    return res.x


SIMPLEX_CASES = [
    np.array([1.0, 1.0, 1.0]),  # all tied
    np.array([0.5, 0.5, -1.0]),  # tie on top, negative entry
    np.array([2.0, 2.0, -3.0, -3.0]),
    np.array([-1.0, -2.0, -3.0]),  # all negative
    np.array([0.0, 0.0, 0.0, 0.0]),
    np.array([5.0]),
    np.array([0.2, 0.3, 0.5]),  # already on the simplex
    np.array([10.0, -10.0, 10.0, 0.0, 9.99]),
    np.array([1e-9, -1e-9, 3.0, 3.0, 3.0]),
]


@pytest.mark.parametrize(
    "x", SIMPLEX_CASES + [np.random.default_rng(k).normal(scale=2, size=6) for k in range(4)]
)
@pytest.mark.parametrize("s", [1.0, 2.5])
def test_simplex_matches_slsqp_and_bisection(x, s):
    p = project_simplex(x, s)
    assert p.min() >= 0 and p.sum() == pytest.approx(s, abs=1e-12)
    np.testing.assert_allclose(p, simplex_bisection(x, s), atol=1e-12)
    np.testing.assert_allclose(p, simplex_slsqp(x, s), atol=1e-6)


@FAST
@given(vec(1, 30), st.floats(0.01, 100))
def test_simplex_matches_bisection_property(x, s):
    p = project_simplex(x, s)
    np.testing.assert_allclose(p, simplex_bisection(x, s), atol=1e-10 * max(1.0, s, np.abs(x).max()))
    assert simplex(s).contains(p)


def test_simplex_ties_are_symmetric_and_shape_kept():
    p = project_simplex(np.array([3.0, 3.0, 3.0, 0.0]))
    np.testing.assert_allclose(p, [1 / 3, 1 / 3, 1 / 3, 0.0], atol=1e-15)
    M = np.array([[1.0, 2.0], [3.0, 4.0]])
    q = simplex()(M)
    assert q.shape == (2, 2) and q.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(q, [[0, 0], [0, 1]])


# ----------------------------------------------------------------------------- validation and face


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: box(1.0, 0.0), "lower > upper"),
        (lambda: box(np.array([0.0, 2.0]), np.array([1.0, 1.0])), r"lower > upper at index \(1,\)"),
        (lambda: project_box(np.zeros(2), 1.0, 0.0), "lower > upper"),
        (lambda: box(np.nan, 1.0), "NaN"),
        (lambda: l2_ball(-1.0), "radius must be >= 0"),
        (lambda: l2_ball(np.nan), "radius"),
        (lambda: project_l2_ball(np.zeros(2), -0.5), "radius"),
        (lambda: halfspace(np.zeros(3), 1.0), "nonzero"),
        (lambda: project_halfspace(np.zeros(2), [0.0, 0.0], 1.0), "nonzero"),
        (lambda: simplex(0.0), "total must be"),
        (lambda: simplex(-1.0), "total must be"),
        (lambda: project_simplex(np.zeros(0)), "empty"),
        (lambda: project_simplex(np.array([np.nan, 1.0])), "non-finite"),
        (lambda: l1(-0.1), "lam"),
        (lambda: squared_l2(np.inf), "lam"),
        (lambda: elastic_net(1.0, -1.0), "l2"),
        (lambda: l1(1.0)(np.ones(2), 0.0), "step t"),
        (lambda: l1(1.0)(np.ones(2), -1.0), "step t"),
        (lambda: box_indicator(2, 1), "lower > upper"),
        (lambda: fixed_point_residual(np.ones(2), np.ones(3), 1.0), "shape"),
        (lambda: fixed_point_residual(np.ones(2), np.ones(2), 0.0), "step"),
    ],
)
def test_invalid_inputs_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_type_errors():
    with pytest.raises(TypeError, match="Projection"):
        indicator(lambda x: x)
    with pytest.raises(TypeError, match="projection_or_prox"):
        fixed_point_residual(np.ones(2), np.ones(2), 1.0, 3.0)


def test_names_and_reprs():
    assert box(0, 1).name == "box(lower=0.0, upper=1.0)"
    assert box(None, 1).name == "box(lower=-inf, upper=1.0)"
    assert l2_ball(2.0).name == "l2_ball(radius=2.0, center=0.0)"
    assert simplex().name == "simplex(total=1.0)"
    assert halfspace([1.0, 0.0], 3.0).name == "halfspace(a=[1., 0.], b=3.0)"
    assert nonnegative().name == "nonnegative()"
    assert isinstance(box(0, 1), Projection) and "box" in repr(box(0, 1))
    for h, name in [
        (l1(0.1), "l1(lam=0.1)"),
        (squared_l2(2.0), "squared_l2(lam=2.0)"),
        (elastic_net(1.0, 0.5), "elastic_net(l1=1.0, l2=0.5)"),
        (box_indicator(0, 1), "indicator(box(lower=0.0, upper=1.0))"),
        (zero(), "zero()"),
    ]:
        assert isinstance(h, Prox) and h.name == name and name in repr(h)


# ----------------------------------------------------------------------------- prox: against brute force


def brute_prox_elementwise(h_scalar, v, t, lo=None, hi=None):
    """argmin_x h(x) + (x - v)^2 / (2t), coordinate by coordinate, by bounded scalar minimization."""
    out = np.empty_like(v)
    for i, vi in enumerate(v):
        a = min(vi, 0.0) - 1.0 if lo is None else lo
        b = max(vi, 0.0) + 1.0 if hi is None else hi
        res = minimize_scalar(
            lambda z, vi=vi: h_scalar(z) + (z - vi) ** 2 / (2 * t),
            bounds=(a, b),
            method="bounded",
            options={"xatol": 1e-12},
        )
        out[i] = res.x
    return out


PROX_CASES = [
    (l1(0.7), lambda z: 0.7 * abs(z)),
    (squared_l2(1.3), lambda z: 0.65 * z * z),
    (elastic_net(0.4, 2.0), lambda z: 0.4 * abs(z) + z * z),
    (l1(0.0), lambda z: 0.0),
]


@pytest.mark.parametrize("h, h_scalar", PROX_CASES, ids=lambda c: getattr(c, "name", ""))
@pytest.mark.parametrize("t", [0.1, 1.0, 3.0])
def test_prox_matches_scalar_minimization(h, h_scalar, t):
    v = np.array([-3.0, -0.5, -0.1, 0.0, 0.05, 0.3, 2.0, 7.5])
    p = h(v, t)
    ref = brute_prox_elementwise(h_scalar, v, t)
    np.testing.assert_allclose(p, ref, atol=1e-7)
    # optimality certificate: our point is no worse than the numerical one
    obj = lambda x: h.value(x) + np.sum((x - v) ** 2) / (2 * t)
    assert obj(p) <= obj(ref) + 1e-12
    assert h.value(v) == pytest.approx(sum(h_scalar(z) for z in v), abs=1e-12)


def test_box_indicator_prox_matches_constrained_minimization():
    v = np.array([-3.0, -0.5, 0.2, 1.0, 4.0])
    lo, hi = -1.0, 0.5
    h = box_indicator(lo, hi)
    for t in (0.01, 1.0, 10.0):
        ref = brute_prox_elementwise(lambda z: 0.0, v, t, lo, hi)
        np.testing.assert_allclose(h(v, t), ref, atol=1e-7)
        np.testing.assert_array_equal(h(v, t), np.clip(v, lo, hi))
    assert h.value(np.array([0.0, 0.5])) == 0.0 and h.value(np.array([0.6])) == np.inf


def test_elastic_net_prox_nonseparable_check_with_scipy():
    """Full-vector check (not elementwise) via Nelder-free smooth reformulation x = u - w, u, w >= 0."""
    rng = np.random.default_rng(5)
    v = rng.normal(scale=2, size=5)
    a, b, t = 0.6, 0.8, 0.7
    n = v.size

    def obj(z):
        u, w = z[:n], z[n:]
        x = u - w
        return a * np.sum(u + w) + 0.5 * b * np.sum(x * x) + np.sum((x - v) ** 2) / (2 * t)

    def jac(z):
        x = z[:n] - z[n:]
        gx = b * x + (x - v) / t
        return np.r_[a + gx, a - gx]

    res = minimize(
        obj,
        np.ones(2 * n),
        jac=jac,
        method="L-BFGS-B",
        bounds=[(0, None)] * (2 * n),
        options={"ftol": 1e-15, "gtol": 1e-12},
    )
    np.testing.assert_allclose(elastic_net(a, b)(v, t), res.x[:n] - res.x[n:], atol=1e-6)


def test_prox_indicator_of_simplex_and_ball():
    v = np.array([0.9, 0.4, -0.2])
    np.testing.assert_array_equal(indicator(simplex())(v, 5.0), project_simplex(v))
    np.testing.assert_array_equal(indicator(l2_ball(0.5))(v, 0.1), project_l2_ball(v, 0.5))


@FAST
@given(vec(), st.floats(0, 5), st.floats(0.01, 10))
def test_moreau_identity_l1(v, lam, t):
    """v = prox_{t h}(v) + t prox_{h*/t}(v/t); for h = lam||.||_1, h* = indicator of the inf-ball of radius lam."""
    conj = box_indicator(-lam, lam)
    recon = l1(lam)(v, t) + t * conj(v / t, 1.0 / t)
    np.testing.assert_allclose(recon, v, rtol=1e-12, atol=1e-12)


@FAST
@given(vec(), st.integers(0, 2**31 - 1), st.floats(0.01, 10))
def test_prox_firmly_nonexpansive(x, seed, t):
    y = x + np.random.default_rng(seed).normal(scale=3, size=x.shape)
    for h in (l1(0.8), squared_l2(1.5), elastic_net(0.3, 0.7), box_indicator(-1, 2), zero()):
        d = h(x, t) - h(y, t)
        assert d @ d <= d @ (x - y) + 1e-10
        assert np.linalg.norm(d) <= np.linalg.norm(x - y) + 1e-12


def test_soft_threshold_has_no_negative_zero():
    out = soft_threshold(np.array([-0.5, 0.5, -2.0]), 1.0)
    np.testing.assert_array_equal(out, [0.0, 0.0, -1.0])
    assert not np.signbit(out[0])


# ----------------------------------------------------------------------------- fixed-point residual

Q = np.array([[3.0, 1.0], [1.0, 2.0]])
BOX = box(-2.0, 2.0)


def grad_quad(x, c):
    return Q @ x + c


def kkt_box(x, g, lo, hi, tol=1e-12):
    """KKT for min f on a box: g_i = 0 if lo<x_i<hi, g_i >= 0 at lo, g_i <= 0 at hi."""
    for xi, gi in zip(x, g):
        if xi <= lo:
            assert gi >= -tol
        elif xi >= hi:
            assert gi <= tol
        else:
            assert abs(gi) <= tol


def scipy_box_min(c):
    res = minimize(
        lambda x: 0.5 * x @ Q @ x + c @ x,
        np.zeros(2),
        jac=lambda x: Q @ x + c,
        method="L-BFGS-B",
        bounds=[(-2, 2)] * 2,
        options={"gtol": 1e-12, "ftol": 1e-15},
    )
    return res.x


def test_residual_zero_at_interior_minimizer_of_course_quadratic():
    c = np.array([-2.0, 1.0])
    xs = np.array([1.0, -1.0])
    np.testing.assert_allclose(scipy_box_min(c), xs, atol=1e-7)
    g = grad_quad(xs, c)
    np.testing.assert_array_equal(g, [0.0, 0.0])
    kkt_box(xs, g, -2, 2)
    for step in (0.01, 0.1, 0.25, 1.0):
        assert fixed_point_residual(xs, g, step, BOX) == 0.0
    # elsewhere it is positive
    y = np.array([0.0, 0.0])
    assert fixed_point_residual(y, grad_quad(y, c), 0.25, BOX) > 0.1


def test_residual_zero_at_boundary_minimizer_where_gradient_is_not():
    c = np.array([-8.0, 1.0])  # unconstrained minimizer Q^{-1}(8, -1) = (3.4, -2.2) is outside the box
    np.testing.assert_allclose(np.linalg.solve(Q, -c), [3.4, -2.2])
    xs = np.array([2.0, -1.5])  # x1 = 2 active; x2 from d/dx2 = x1 + 2 x2 + 1 = 0
    g = grad_quad(xs, c)
    np.testing.assert_array_equal(g, [-3.5, 0.0])
    kkt_box(xs, g, -2, 2)  # multiplier of the upper bound on x1 is 3.5 >= 0
    np.testing.assert_allclose(scipy_box_min(c), xs, atol=1e-7)
    assert np.linalg.norm(g) == 3.5  # the gradient norm is not an optimality measure here ...
    for step in (0.01, 0.1, 0.25, 1.0):
        assert fixed_point_residual(xs, g, step, BOX) == 0.0  # ... the residual is
        assert fixed_point_residual(xs, g, step, box_indicator(-2, 2)) == 0.0  # prox form agrees
    # clipping the unconstrained minimizer is NOT the constrained minimizer, and the residual says so
    clipped = np.clip([3.4, -2.2], -2, 2)
    assert fixed_point_residual(clipped, grad_quad(clipped, c), 0.25, BOX) > 0.1


def test_residual_with_prox_lasso_and_unconstrained():
    b = np.array([3.0, -0.25, -2.0])
    lam = 0.5
    xs = np.array([2.5, 0.0, -1.5])  # argmin 1/2||x-b||^2 + lam||x||_1 = soft(b, lam)
    np.testing.assert_array_equal(soft_threshold(b, lam), xs)
    g = xs - b
    for step in (0.5, 1.0):
        assert fixed_point_residual(xs, g, step, l1(lam)) == 0.0
    assert fixed_point_residual(b, np.zeros(3), 1.0, l1(lam)) > 0  # b is not the lasso solution
    # no constraint: step*||g||, normalized: ||g||
    g = np.array([3.0, 4.0])
    assert fixed_point_residual(np.zeros(2), g, 0.1) == pytest.approx(0.5)
    assert fixed_point_residual(np.zeros(2), g, 0.1, normalized=True) == pytest.approx(5.0)
    assert fixed_point_residual(np.zeros(2), g, 0.1, zero()) == pytest.approx(0.5)
    # plain callables work as projections
    assert fixed_point_residual(np.zeros(2), g, 1.0, lambda v: np.clip(v, 0, 1)) == 0.0
