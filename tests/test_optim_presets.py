"""slopes.optim.presets: closed forms, the spectral radius of each method's iteration, observed rates."""

import math

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.optim import presets

KAPPAS = (1.0, 4.0, 10.0, 100.0, 1e4)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_presets_match_their_closed_forms(kappa):
    L = 20.0
    mu = L / kappa
    s = math.sqrt(kappa)
    gd = presets.gradient_descent(L, mu)
    assert (gd.method, gd.learning_rate, gd.beta) == ("gd", 1 / L, None)
    assert gd.rate == pytest.approx(1 - 1 / kappa, rel=1e-14, abs=1e-15)
    hb = presets.heavy_ball(L, mu)
    assert hb.method == "momentum"
    assert hb.learning_rate == pytest.approx(4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rel=1e-14)
    assert hb.beta == pytest.approx(((s - 1) / (s + 1)) ** 2, rel=1e-12, abs=1e-15)
    assert hb.rate == pytest.approx((s - 1) / (s + 1), rel=1e-12, abs=1e-15)
    nv = presets.nesterov(L, mu)
    assert (nv.method, nv.learning_rate) == ("nesterov", 1 / L)
    assert nv.beta == pytest.approx((s - 1) / (s + 1), rel=1e-12, abs=1e-15)
    assert nv.rate == pytest.approx(1 - 1 / s, rel=1e-12, abs=1e-15)
    for p in (gd, hb, nv):
        assert p.kappa == pytest.approx(kappa) and f"{p.learning_rate:.4g}" in p.rule
        with pytest.raises(AttributeError):  # a frozen record
            p.beta = 0.5


def spectral_radius(p, lams):
    """Largest |root| of the 2-term recurrence of the method on the eigenvalues ``lams`` (numpy roots)."""
    beta = p.beta or 0.0
    radius = 0.0
    for lam in lams:
        h = p.learning_rate * lam
        if p.method == "nesterov":  # x+ = (1 + b)(1 - h) x - b (1 - h) x-
            coeffs = [1.0, -(1 + beta) * (1 - h), beta * (1 - h)]
        else:  # heavy ball (gd: b = 0): x+ = (1 + b - h) x - b x-
            coeffs = [1.0, -(1 + beta - h), beta]
        radius = max(radius, float(np.max(np.abs(np.roots(coeffs)))))
    return radius


@pytest.mark.parametrize("kappa", KAPPAS[1:])
@pytest.mark.parametrize("make", [presets.gradient_descent, presets.heavy_ball, presets.nesterov])
def test_rate_is_the_spectral_radius_over_the_spectrum(make, kappa):
    L, mu = 3.0, 3.0 / kappa
    p = make(L, mu)
    lams = np.linspace(mu, L, 401)
    # a repeated root at the ends: np.roots splits it by ~sqrt(eps), so compare to 1e-6
    assert spectral_radius(p, lams) == pytest.approx(p.rate, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("make", [presets.gradient_descent, presets.heavy_ball, presets.nesterov])
def test_observed_rate_on_a_quadratic_matches_the_prediction(make):
    lam = np.array([1.0, 2.5, 10.0, 40.0, 100.0])  # mu = 1, L = 100, inner eigenvalues too
    f = lambda x: 0.5 * snp.sum(lam * x**2)  # noqa: E731
    p = make(100.0, 1.0)
    res = sl.minimize(f, np.ones(5), gtol=0.0, maxiter=1000 if p.method == "gd" else 300, record_x=True, **p.options)
    observed = presets.observed_rate(res, np.zeros(5))
    assert observed == pytest.approx(p.rate, rel=0.02)
    # the same contraction read off the raw distances: ||x_k|| over the last 50 iterations
    d = np.linalg.norm(res.history.x, axis=1)
    assert (d[-1] / d[-51]) ** (1 / 50) == pytest.approx(p.rate, rel=0.02)


def test_tuned_momentum_beats_tuned_gd_by_iterations():
    f = lambda x: x[0] ** 2 + 10 * x[1] ** 2  # noqa: E731
    counts = {}
    for make in (presets.gradient_descent, presets.heavy_ball, presets.nesterov):
        p = make(20.0, 2.0)
        counts[p.method] = sl.minimize(f, [-8.0, 2.0], gtol=1e-8, maxiter=1000, **p.options).nit
    assert counts["momentum"] < counts["nesterov"] < counts["gd"]


def test_for_problem_reads_L_and_mu_off_the_hessian():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    f = lambda x: 0.5 * x @ A @ x  # noqa: E731
    w = np.linalg.eigvalsh(A)
    p = presets.for_problem(f, [0.3, -2.0], "momentum")
    assert (p.L, p.mu) == pytest.approx((w[1], w[0]), rel=1e-12)
    assert p == presets.heavy_ball(p.L, p.mu)
    box = presets.for_problem(f, None, "nesterov", bounds=[(-1, 1), (-1, 1)])
    assert (box.L, box.mu) == pytest.approx((w[1], w[0]), rel=1e-9)
    gd = presets.for_problem(lambda x: x[0] ** 2 - x[1] ** 2, [0.0, 0.0], "gd")  # a saddle: still L
    assert (gd.L, gd.mu, gd.rate) == (2.0, 0.0, 1.0) and "no linear rate" in gd.rule


def test_observed_rate_leaves_out_the_rounding_floor():
    path = np.vstack([np.outer(0.25 ** np.arange(20), [1.0, 1.0]), np.zeros((30, 2))])
    assert presets.observed_rate(path, [0.0, 0.0]) == pytest.approx(0.25, rel=1e-12)
    assert math.isnan(presets.observed_rate(path[:3], [0.0, 0.0]))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: presets.heavy_ball(10.0, 0.0), ValueError, "mu > 0.*gradient_descent"),
        (lambda: presets.nesterov(10.0, 20.0), ValueError, "mu"),
        (lambda: presets.gradient_descent(0.0), ValueError, "L"),
        (lambda: presets.gradient_descent(float("nan")), ValueError, "finite"),
        (lambda: presets.for_problem(lambda x: x[0] ** 2, [1.0, 1.0], "momentum"), ValueError, "method='gd'"),
        (lambda: presets.for_problem(lambda x: x[0] ** 2, [1.0], "adam"), ValueError, "one of"),
        (lambda: presets.for_problem(lambda x: x[0] + x[1], [1.0, 1.0], "gd"), ValueError, "affine"),
        (lambda: presets.observed_rate(np.zeros((5, 3)), [0.0, 0.0]), ValueError, "shape"),
        (
            lambda: presets.observed_rate(sl.minimize(lambda x: x @ x, [1.0, 1.0], maxiter=3), [0.0, 0.0]),
            ValueError,
            "record_x=True",
        ),
    ],
)
def test_bad_input_is_refused_with_the_fix(call, err, match):
    with pytest.raises(err, match=match):
        call()
