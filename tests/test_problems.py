"""Tests for sl.problems: every known minimum is re-found by scipy from the standard start."""

import numpy as np
import pytest
import scipy.optimize as so

import slopes as sl
from slopes.problems import course, mgh

# --- the references -------------------------------------------------------------------------

# f(x0) where the MGH paper states it or it follows by hand from the definition.
F_X0 = {
    "rosenbrock": 24.2,  # 10^2 (1 - 1.44)^2 + 2.2^2 = 19.36 + 4.84
    "freudenstein_roth": 400.5,  # residuals (19.5, -4.5)
    "powell_badly_scaled": 1.0 + (np.exp(-1.0) - 1e-4) ** 2,  # residuals (-1, 1 + e^-1 - 1.0001)
    "brown_badly_scaled": (1.0 - 1e6) ** 2 + (1.0 - 2e-6) ** 2 + 1.0,
    "beale": 1.5**2 + 2.25**2 + 2.625**2,  # x2 = 1 kills x1 (1 - x2^i)
    "helical_valley": 2500.0,  # theta = 1/2, f1 = -50
    "powell_singular": 215.0,  # residuals^2: 49 + 5 + 1 + 160
    "wood": 19192.0,  # 10000 + 16 + 9000 + 16 + 160 + 0
    "watson": 30.0,  # 29 residuals -1, f30 = 0, f31 = -1
    "extended_rosenbrock": 5 * 24.2,  # n = 10: five Rosenbrock pairs
    "penalty_i": 1e-5 * (0 + 1 + 4 + 9) + (30.0 - 0.25) ** 2,  # x0 = (1, 2, 3, 4)
    "variably_dimensioned": float(
        np.sum((np.arange(1, 11) / 10.0) ** 2) + 38.5**2 + 38.5**4  # s = -sum j^2 / n = -38.5
    ),
    "box_3d": None,
}

# What BFGS reaches from x0, and the published value it must match.
#   target: the published value; kind: "min" (= f_min) or "local" (= a listed local minimum).
REACHED = {
    "rosenbrock": (0.0, "min"),
    "freudenstein_roth": (48.9842, "local"),
    "powell_badly_scaled": (0.0, "min"),
    "brown_badly_scaled": (0.0, "min"),
    "beale": (0.0, "min"),
    "jennrich_sampson": (124.362, "min"),
    "helical_valley": (0.0, "min"),
    "bard": (8.21487e-3, "min"),
    "gaussian": (1.12793e-8, "min"),
    "meyer": (87.9458, "min"),
    "box_3d": (0.0, "min"),
    "powell_singular": (0.0, "min"),
    "wood": (0.0, "min"),
    "kowalik_osborne": (3.07505e-4, "min"),
    "biggs_exp6": (5.65565e-3, "local"),
    "watson": (2.28767e-3, "min"),
    "extended_rosenbrock": (0.0, "min"),
    "trigonometric": (2.79506e-5, "local"),
    "variably_dimensioned": (0.0, "min"),
    "penalty_i": (2.24997e-5, "min"),
}

# Minimizers from the paper (to its printed digits) that the found point must match.
X_FOUND = {
    "freudenstein_roth": ([11.41, -0.8968], 1e-3),
    "powell_badly_scaled": ([1.098e-5, 9.106], 1e-3),
    "jennrich_sampson": ([0.2578, 0.2578], 1e-3),
    "meyer": ([0.0056096, 6181.35, 345.224], 1e-4),
}

UNIQUE_X_MIN = ["rosenbrock", "brown_badly_scaled", "beale", "helical_valley", "wood",
                "extended_rosenbrock", "variably_dimensioned", "powell_singular"]


def _bfgs(p):
    g = sl.grad(p.fun)
    return so.minimize(lambda x: float(p.fun(x)), p.x0, jac=g, method="BFGS",
                       options={"gtol": 1e-12, "maxiter": 5000})


@pytest.fixture(scope="module")
def runs():
    return {p.name: _bfgs(p) for p in sl.problems.MGH}


def _central_fd(f, x):
    g = np.empty_like(x)
    for i in range(x.size):
        h = 1e-6 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


# --- the registry ---------------------------------------------------------------------------

def test_registry():
    names = sl.problems.names()
    assert len(set(names)) == len(names)
    assert len(sl.problems.MGH) == 20 >= 18
    assert set(REACHED) == set(mgh.MGH_NAMES)
    assert [p.name for p in sl.problems.all_problems()] == list(names)
    assert sl.problems.get("Freudenstein-Roth").name == "freudenstein_roth"
    with pytest.raises(KeyError, match="unknown problem"):
        sl.problems.get("himmelblau")
    with pytest.raises(ValueError, match="even"):
        mgh.extended_rosenbrock(5)
    assert "problems" in sl.__all__
    for p in sl.problems.all_problems():
        assert p.source and p.x0.ndim == 1 and p.n == p.x0.size
        assert np.isfinite(float(p(p.x0)))
        if p.residuals is not None:
            assert float(p(p.x0)) == pytest.approx(float(np.sum(np.asarray(p.residuals(p.x0)) ** 2)))


# --- MGH: values at the start, gradients, minima ---------------------------------------------

@pytest.mark.parametrize("name", [k for k, v in F_X0.items() if v is not None])
def test_mgh_f_at_x0(name):
    p = sl.problems.get(name)
    assert float(p(p.x0)) == pytest.approx(F_X0[name], rel=1e-12)
    if p.f_x0 is not None:
        assert p.f_x0 == pytest.approx(F_X0[name], rel=1e-12)


@pytest.mark.parametrize("name", sl.problems.names())
def test_grad_matches_central_differences_at_x0(name):
    p = sl.problems.get(name)
    g = p.grad(p.x0)
    fd = _central_fd(p.fun, p.x0)
    assert g.shape == p.x0.shape
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("name", mgh.MGH_NAMES)
def test_mgh_bfgs_from_x0_reaches_published_value(name, runs):
    p = sl.problems.get(name)
    r = runs[name]
    target, kind = REACHED[name]
    if kind == "min":
        assert p.f_min == target
    else:
        assert any(v == target for v, _ in p.other_minima)
    if target == 0.0:
        assert r.fun < 1e-12
    else:
        # the paper prints six significant figures
        assert r.fun == pytest.approx(target, rel=1e-5)
    # a local minimum: the AD gradient vanishes there (relative to the size at x0)
    assert np.linalg.norm(p.grad(r.x)) <= 1e-5 * max(1.0, np.linalg.norm(p.grad(p.x0)))
    if name in X_FOUND:
        ref, rtol = X_FOUND[name]
        np.testing.assert_allclose(r.x, ref, rtol=rtol)
    if name in UNIQUE_X_MIN:
        np.testing.assert_allclose(r.x, p.x_min, atol=1e-3 if name == "powell_singular" else 1e-6)


@pytest.mark.parametrize("name", [n for n in mgh.MGH_NAMES if sl.problems.get(n).x_min is not None])
def test_mgh_x_min_is_stationary_with_value_f_min(name):
    p = sl.problems.get(name)
    assert float(p(p.x_min)) == pytest.approx(p.f_min, abs=1e-20)
    np.testing.assert_allclose(p.grad(p.x_min), 0.0, atol=1e-12)


def test_mgh_global_minima_not_reached_from_x0():
    # Freudenstein-Roth: 0 at (5, 4); Biggs EXP6: 0 at (1, 10, 1, 5, 4, 3); trigonometric: 0 at 0.
    for p, x in [(mgh.freudenstein_roth(), [5.0, 4.0]), (mgh.biggs_exp6(), [1, 10, 1, 5, 4, 3]),
                 (mgh.trigonometric(), np.zeros(10))]:
        assert float(p(np.asarray(x, float))) < 1e-28
        np.testing.assert_allclose(p.grad(np.asarray(x, float)), 0.0, atol=1e-12)


def test_box_3d_other_minimizers():
    p = mgh.box_3d()
    for x in ([10.0, 1.0, -1.0], [2.5, 2.5, 0.0]):
        assert float(p(np.array(x))) < 1e-28


def test_rosenbrock_matches_scipy():
    p = mgh.rosenbrock()
    rng = np.random.default_rng(0)
    for x in [p.x0, p.x_min, *rng.normal(size=(5, 2))]:
        # MGH's 10 (x2 - x1^2) squared is scipy's 100 (x2 - x1^2)^2
        assert float(p(x)) == pytest.approx(so.rosen(x), rel=1e-13, abs=1e-14)
        np.testing.assert_allclose(p.grad(x), so.rosen_der(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(p.hessian(x), so.rosen_hess(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, f_min", [(9, 1.39976e-6)])
def test_watson_other_sizes(n, f_min):
    p = mgh.watson(n)
    assert p.f_min == f_min
    r = _bfgs(p)
    assert r.fun == pytest.approx(f_min, rel=1e-5)


def test_penalty_i_n10():
    p = mgh.penalty_i(10)
    assert p.f_min == 7.08765e-5
    r = _bfgs(p)
    assert r.fun == pytest.approx(p.f_min, rel=1e-5)


def test_unknown_sizes_have_no_f_min():
    assert mgh.penalty_i(5).f_min is None and mgh.watson(7).f_min is None
    assert mgh.jennrich_sampson(12).f_min is None


# --- the source's own problems ---------------------------------------------------------------

def test_quadratic_2x2():
    p = course.quadratic_2x2()
    A, b = np.array([[2.0, 1.0], [1.0, 20.0]]), np.array([5.0, 3.0])
    np.testing.assert_allclose(p.x_min, [97 / 39, 1 / 39], rtol=1e-14)
    assert p.f_min == pytest.approx(-0.5 * b @ np.linalg.solve(A, b), rel=1e-14)
    np.testing.assert_allclose(p.x0, [-3.0, -1.0])
    x = np.array([0.7, -1.3])
    np.testing.assert_allclose(p.grad(x), [2 * x[0] + x[1] - 5, x[0] + 20 * x[1] - 3], rtol=1e-14)
    np.testing.assert_allclose(p.hessian(x), A)
    assert float(p(p.x0)) == pytest.approx(p.f_x0, rel=1e-14)
    r = _bfgs(p)
    np.testing.assert_allclose(r.x, p.x_min, atol=1e-8)
    assert r.fun == pytest.approx(p.f_min, rel=1e-12)


def test_elongated_bowl():
    p = course.elongated_bowl()
    np.testing.assert_allclose(p.hessian(p.x0), np.diag([2.0, 20.0]))
    assert float(p(p.x0)) == p.f_x0 == 64.0 + 40.0
    r = _bfgs(p)
    np.testing.assert_allclose(r.x, p.x_min, atol=1e-8)


def test_box_quadratic_constrained_minimum():
    p = course.box_quadratic()
    Q, c = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([-2.0, 1.0])
    lo, hi = p.bounds
    L = course.BOX_QUADRATIC_L
    assert L == pytest.approx(np.max(np.linalg.eigvalsh(Q)), rel=1e-14)
    # L is the Lipschitz constant of the gradient: the ratio is attained along the top eigenvector
    rng = np.random.default_rng(1)
    ratios = [np.linalg.norm(p.grad(x) - p.grad(y)) / np.linalg.norm(x - y) for x, y in rng.normal(size=(200, 2, 2))]
    assert max(ratios) <= L * (1 + 1e-12)
    v = np.linalg.eigh(Q)[1][:, -1]
    assert np.linalg.norm(p.grad(v) - p.grad(0 * v)) == pytest.approx(L, rel=1e-12)
    # KKT: x* feasible, and -grad f(x*) in the normal cone (x* interior: grad = 0)
    x = p.x_min
    assert np.all((lo <= x) & (x <= hi))
    g = p.grad(x)
    for i in range(2):
        if lo[i] < x[i] < hi[i]:
            assert abs(g[i]) < 1e-14
        elif x[i] == lo[i]:
            assert g[i] >= 0
        else:
            assert g[i] <= 0
    # fixed point of the projected-gradient map for any step
    for eta in (1 / L, 0.1, 1.0):
        np.testing.assert_allclose(np.clip(x - eta * g, lo, hi), x, atol=1e-14)
    assert float(p(x)) == pytest.approx(p.f_min, rel=1e-14)
    # the source's run: projected GD with step 1/L from (1.8, -1.5)
    z = p.x0.copy()
    assert float(p(z)) == pytest.approx(p.f_x0, rel=1e-14)
    for _ in range(200):
        z = np.clip(z - p.grad(z) / L, lo, hi)
    np.testing.assert_allclose(z, x, atol=1e-10)
    # and scipy's bound-constrained solver agrees
    r = so.minimize(lambda x: float(p(x)), np.array([-2.0, 2.0]), jac=sl.grad(p.fun), method="L-BFGS-B",
                    bounds=list(zip(lo, hi)), options={"gtol": 1e-12})
    np.testing.assert_allclose(r.x, x, atol=1e-7)
    # closed form: the unconstrained minimizer -Q^{-1} c is interior, hence the constrained one
    assert np.all(np.abs(-np.linalg.solve(Q, c) - x) < 1e-14)


def test_saddle():
    p = course.saddle()
    assert p.f_min == -np.inf and p.x_min is None
    o = np.zeros(2)
    np.testing.assert_allclose(p.grad(o), 0.0)
    ev = np.linalg.eigvalsh(p.hessian(o))
    assert ev[0] < 0 < ev[1]
    assert float(p(np.array([0.0, 1e-3]))) < float(p(o)) < float(p(np.array([1e-3, 0.0])))
    assert float(p(np.array([0.0, 1e6]))) == -1e12  # unbounded below
    assert float(p(p.x0)) == pytest.approx(p.f_x0)


def test_square_sgd_gradients():
    p = course.square_sgd()
    assert p.x0[0] == 80.0 and p.f_min == 0.0
    x = np.array([1.5])
    np.testing.assert_allclose(p.grad(x), [3.0])                      # exact: 2x
    z = p.sample(5, np.random.default_rng(3))
    np.testing.assert_allclose(sl.grad(lambda x_: p.batch_loss(x_, z))(x), [2 * (x[0] - z.mean())], rtol=1e-14)
    np.testing.assert_allclose(p.sample_loss(x, z), (x[0] - z) ** 2)
    # same seed, same result; and the batch loss estimates x^2 + loss_offset
    assert np.array_equal(p.minibatch_grad(x, 7, 11), p.minibatch_grad(x, 7, 11))
    big = p.sample(200_000, np.random.default_rng(4))
    assert float(p.batch_loss(x, big)) == pytest.approx(x[0] ** 2 + p.loss_offset, abs=0.03)


def test_square_sgd_minibatch_variance_falls_like_one_over_m():
    p = course.square_sgd()
    x = np.array([2.0])
    rng = np.random.default_rng(2024)
    ms = [1, 4, 16, 64]
    reps = 1500
    variances, means = [], []
    for m in ms:
        g = np.array([p.minibatch_grad(x, m, rng)[0] for _ in range(reps)])
        means.append(g.mean())
        variances.append(g.var(ddof=1))
    variances = np.array(variances)
    # unbiased for 2x (standard error 2/sqrt(m reps))
    for m, mu in zip(ms, means):
        assert abs(mu - 4.0) < 5 * 2 / np.sqrt(m * reps)
    # variance 4/m: each within 15% (the sampling sd of a variance from 1500 draws is ~3.7%)
    np.testing.assert_allclose(variances * ms, 4.0, rtol=0.15)
    slope = np.polyfit(np.log(ms), np.log(variances), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.05)


# --- an independent, loop-by-loop transcription of the data-fitting definitions ---------------

def _ref_residuals(name, x):
    """Scalar Python loops straight from the paper's formulas (i counts from 1)."""
    from math import atan, cos, exp, pi, sin, sqrt

    if name == "bard":
        y = [0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39]
        return [y[i - 1] - (x[0] + i / ((16 - i) * x[1] + min(i, 16 - i) * x[2])) for i in range(1, 16)]
    if name == "gaussian":
        y = [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989]
        y = y + y[-2::-1]
        return [x[0] * exp(-x[1] * ((8 - i) / 2 - x[2]) ** 2 / 2) - y[i - 1] for i in range(1, 16)]
    if name == "meyer":
        y = [34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005, 5147, 4427, 3820, 3307, 2872]
        return [x[0] * exp(x[1] / (45 + 5 * i + x[2])) - y[i - 1] for i in range(1, 17)]
    if name == "kowalik_osborne":
        y = [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246]
        u = [4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625]
        return [y[k] - x[0] * (u[k] ** 2 + u[k] * x[1]) / (u[k] ** 2 + u[k] * x[2] + x[3]) for k in range(11)]
    if name == "biggs_exp6":
        out = []
        for i in range(1, 14):
            t = 0.1 * i
            y = exp(-t) - 5 * exp(-10 * t) + 3 * exp(-4 * t)
            out.append(x[2] * exp(-t * x[0]) - x[3] * exp(-t * x[1]) + x[5] * exp(-t * x[4]) - y)
        return out
    if name == "box_3d":
        return [exp(-0.1 * i * x[0]) - exp(-0.1 * i * x[1]) - x[2] * (exp(-0.1 * i) - exp(-i)) for i in range(1, 11)]
    if name == "jennrich_sampson":
        return [2 + 2 * i - (exp(i * x[0]) + exp(i * x[1])) for i in range(1, 11)]
    if name == "trigonometric":
        n = len(x)
        s = sum(cos(v) for v in x)
        return [n - s + i * (1 - cos(x[i - 1])) - sin(x[i - 1]) for i in range(1, n + 1)]
    if name == "watson":
        out = []
        for i in range(1, 30):
            t = i / 29
            a = sum((j - 1) * x[j - 1] * t ** (j - 2) for j in range(2, 7))
            b = sum(x[j - 1] * t ** (j - 1) for j in range(1, 7))
            out.append(a - b * b - 1)
        return out + [x[0], x[1] - x[0] ** 2 - 1]
    if name == "penalty_i":
        return [sqrt(1e-5) * (v - 1) for v in x] + [sum(v * v for v in x) - 0.25]
    if name == "helical_valley":
        theta = atan(x[1] / x[0]) / (2 * pi) + (0.0 if x[0] > 0 else 0.5)
        return [10 * (x[2] - 10 * theta), 10 * (sqrt(x[0] ** 2 + x[1] ** 2) - 1), x[2]]
    raise KeyError(name)


@pytest.mark.parametrize("name", ["bard", "gaussian", "meyer", "kowalik_osborne", "biggs_exp6", "box_3d",
                                  "jennrich_sampson", "trigonometric", "watson", "penalty_i", "helical_valley"])
def test_mgh_matches_loop_transcription(name):
    p = sl.problems.get(name)
    rng = np.random.default_rng(7)
    for x in [p.x0, p.x0 + 0.05 * rng.normal(size=p.n) * np.maximum(1.0, np.abs(p.x0)), -p.x0 - 0.3]:
        if name == "meyer" and x[2] < 0:
            x = x.copy()
            x[2] = 250.0
        np.testing.assert_allclose(np.asarray(p.residuals(x)), _ref_residuals(name, list(x)), rtol=1e-12, atol=1e-14)
        assert float(p(x)) == pytest.approx(sum(r * r for r in _ref_residuals(name, list(x))), rel=1e-12)
