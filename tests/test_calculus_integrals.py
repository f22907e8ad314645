"""Integrals and expectations (sl.calculus.integrals).

References: closed-form integrals and moments (normal, exponential, beta, uniform),
scipy.stats cdf/moments, and the Monte Carlo error law (within 4 standard errors,
standard error ~ 1/sqrt(n)).
"""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from slopes.calculus import (
    MonteCarloEstimate,
    cdf_from_pdf,
    expectation,
    integrate,
    integrate_nd,
    moments,
    monte_carlo,
)

# ---------------------------------------------------------------- quadrature


def test_integrate_closed_forms():
    v, e = integrate(lambda x: x**3, 0.0, 2.0)  # x^4/4
    assert v == pytest.approx(4.0, abs=1e-13) and 0 <= e < 1e-10
    v, _ = integrate(lambda x: np.exp(-(x**2) / 2), -np.inf, np.inf)
    assert v == pytest.approx(math.sqrt(2 * math.pi), rel=1e-12)
    v, _ = integrate(np.cos, math.pi / 2, 0.0)  # reversed limits: -sin(pi/2)
    assert v == pytest.approx(-1.0, abs=1e-13)


def test_integrate_passes_quad_options():
    # a kink at 1/3 that quadrature finds faster when told about it
    v, _ = integrate(lambda x: abs(x - 1 / 3), 0.0, 1.0, points=[1 / 3])
    assert v == pytest.approx((1 / 3) ** 2 / 2 + (2 / 3) ** 2 / 2, abs=1e-14)


def test_integrate_nd_box_and_nested_ranges():
    v, e = integrate_nd(lambda x: x[0] * x[1] ** 2, [(0.0, 1.0), (0.0, 2.0)])  # 1/2 * 8/3
    assert v == pytest.approx(4 / 3, abs=1e-12) and e < 1e-8
    # the integral of exp(-x^T A x / 2) over the plane is 2 pi / sqrt(det A)
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    v, _ = integrate_nd(lambda x: math.exp(-0.5 * (x @ A @ x)), [(-np.inf, np.inf)] * 2)
    assert v == pytest.approx(2 * math.pi / math.sqrt(np.linalg.det(A)), rel=1e-7)
    # quarter disc: x0 in [0, sqrt(1 - x1^2)], x1 in [0, 1] -> pi / 4
    v, _ = integrate_nd(lambda x: 1.0, [lambda x1: (0.0, math.sqrt(max(0.0, 1 - x1**2))), (0.0, 1.0)])
    assert v == pytest.approx(math.pi / 4, abs=1e-9)
    # 3-D: int over the unit cube of x0 + x1 + x2 = 3/2
    v, _ = integrate_nd(np.sum, [(0.0, 1.0)] * 3)
    assert v == pytest.approx(1.5, abs=1e-12)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: integrate(3.0, 0, 1), TypeError, "callable"),
        (lambda: integrate(np.sin, "a", 1), TypeError, "lower bound"),
        (lambda: integrate(np.sin, 0, float("nan")), ValueError, "NaN"),
        (lambda: integrate(lambda x: np.array([x, x]), 0, 1), ValueError, "one number per point"),
        (lambda: integrate_nd(np.sum, []), ValueError, "empty"),
        (lambda: integrate_nd(np.sum, [(0, 1, 2)]), ValueError, r"bounds\[0\]"),
        (lambda: integrate_nd(np.sum, 5), TypeError, "sequence"),
    ],
)
def test_integrate_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


# ---------------------------------------------------------------- Monte Carlo


def test_monte_carlo_within_four_standard_errors():
    # E[X^4] = 3 for a standard normal; E[U^2] = 1/3 for a uniform
    for seed in range(5):
        est = monte_carlo(lambda x: x**4, stats.norm(), n=20_000, seed=seed)
        assert abs(est.value - 3.0) < 4 * est.stderr
        value, stderr = monte_carlo(lambda u: u**2, lambda rng, n: rng.uniform(size=n), n=5000, seed=seed)
        assert abs(value - 1 / 3) < 4 * stderr


def test_monte_carlo_standard_error_matches_the_exact_std_and_shrinks_like_one_over_sqrt_n():
    # Var(U^2) = E[U^4] - E[U^2]^2 = 1/5 - 1/9 = 4/45
    exact_std = math.sqrt(4 / 45)
    ses = []
    for n in (1_000, 4_000, 16_000, 64_000):
        est = monte_carlo(lambda u: u**2, stats.uniform(), n=n, seed=7)
        assert est.stderr == pytest.approx(exact_std / math.sqrt(n), rel=0.06)
        assert est.std == pytest.approx(exact_std, rel=0.06)
        ses.append(est.stderr)
    ratios = np.array(ses[:-1]) / np.array(ses[1:])  # each 4x more samples halves the error
    np.testing.assert_allclose(ratios, 2.0, rtol=0.08)
    slope = np.polyfit(np.log([1_000, 4_000, 16_000, 64_000]), np.log(ses), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.03)


def test_monte_carlo_ci_covers_at_the_nominal_rate():
    # 200 independent 90% intervals for E[X] = 0.5 (exponential scale 0.5): about 180 cover
    covered = 0
    for seed in range(200):
        lo, hi = monte_carlo(lambda x: x, stats.expon(scale=0.5), n=400, seed=seed).ci(0.90)
        covered += lo <= 0.5 <= hi
    # binomial(200, 0.9): mean 180, sd 4.2
    assert 163 <= covered <= 195


def test_monte_carlo_vector_valued_and_loop_and_determinism():
    mvn = stats.multivariate_normal([1.0, -2.0], [[1.0, 0.3], [0.3, 0.5]])
    est = monte_carlo(lambda z: z, mvn, n=20_000, seed=3)  # mean vector
    assert est.value.shape == (2,) and est.stderr.shape == (2,)
    assert np.all(np.abs(est.value - [1.0, -2.0]) < 4 * est.stderr)
    # stderr against the exact marginal stds
    np.testing.assert_allclose(est.stderr, np.sqrt([1.0, 0.5] / np.array(20_000)), rtol=0.05)
    a = monte_carlo(lambda z: float(z[0] * z[1]), mvn, n=2000, seed=4, vectorized=False)
    b = monte_carlo(lambda z: z[:, 0] * z[:, 1], mvn, n=2000, seed=4)
    assert a.value == pytest.approx(b.value, rel=1e-12) and a.stderr == pytest.approx(b.stderr, rel=1e-12)
    assert abs(a.value - (0.3 + 1.0 * -2.0)) < 4 * a.stderr  # E[z0 z1] = cov + product of means
    rng_a = monte_carlo(np.sin, stats.norm(), n=100, seed=np.random.default_rng(11))
    rng_b = monte_carlo(np.sin, stats.norm(), n=100, seed=11)
    assert rng_a == rng_b


def test_monte_carlo_estimate_ci_formula():
    est = MonteCarloEstimate(2.0, 0.5, 100)
    lo, hi = est.ci(0.95)
    z = stats.norm.ppf(0.975)
    assert (lo, hi) == pytest.approx((2.0 - z * 0.5, 2.0 + z * 0.5))
    with pytest.raises(ValueError, match="level"):
        est.ci(95)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: monte_carlo(np.sin, stats.norm(), n=1), ValueError, "n"),
        (lambda: monte_carlo(np.sin, stats.norm(), n=10.5), ValueError, "integer"),
        (lambda: monte_carlo(np.sin, "normal", n=10), TypeError, "sampler"),
        (lambda: monte_carlo(np.sin, lambda rng, n: rng.normal(size=n + 1), n=10), ValueError, "n = 10"),
        (lambda: monte_carlo(lambda x: 1.0, stats.norm(), n=10), ValueError, "one value per sample"),
        (lambda: monte_carlo(np.sin, stats.norm(), n=10, seed=np.random.RandomState(0)), TypeError, "seed"),
    ],
)
def test_monte_carlo_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


# ---------------------------------------------------------------- expectations, CDF, moments


def test_expectation_quad_against_closed_forms():
    v, e = expectation(lambda x: x**2, stats.norm(1.5, 2.0))
    assert v == pytest.approx(1.5**2 + 4.0, rel=1e-12) and e < 1e-6
    v, _ = expectation(np.exp, stats.norm(0.3, 0.7))  # lognormal mean
    assert v == pytest.approx(math.exp(0.3 + 0.49 / 2), rel=1e-12)
    v, _ = expectation(np.log, stats.expon(scale=2.0))  # E[log X] = log(scale) - Euler gamma
    assert v == pytest.approx(math.log(2.0) - np.euler_gamma, abs=1e-9)
    # a narrow peak far from 0 (quad over (-inf, inf) alone misses it; the split at the median does not)
    v, _ = expectation(lambda x: x, stats.norm(500.0, 0.01))
    assert v == pytest.approx(500.0, rel=1e-12)


def test_expectation_density_on_bounds_and_discrete():
    # Beta(2, 3) written by hand: 12 x (1 - x)^2 on [0, 1], mean 2/5
    v, _ = expectation(lambda x: x, lambda x: 12 * x * (1 - x) ** 2, bounds=(0.0, 1.0))
    assert v == pytest.approx(0.4, abs=1e-13)
    # a Laplace density on the whole line (default bounds): E|X| = 1
    v, _ = expectation(abs, lambda x: 0.5 * np.exp(-abs(x)))
    assert v == pytest.approx(1.0, abs=1e-9)
    v, err = expectation(lambda k: k**2, stats.poisson(3.0))  # lambda + lambda^2
    assert v == pytest.approx(12.0, rel=1e-10) and math.isnan(err)
    # g infinite where the density vanishes contributes nothing
    v, _ = expectation(lambda x: 1 / x if x else math.inf, lambda x: 2 * x, bounds=(0.0, 1.0))
    assert v == pytest.approx(2.0, abs=1e-12)


def test_expectation_mc_matches_exact():
    est = expectation(lambda x: np.exp(x), stats.norm(), method="mc", n=50_000, seed=0)
    assert abs(est.value - math.exp(0.5)) < 4 * est.stderr


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: expectation(np.sin, lambda x: x, method="mc"), ValueError, "draw from"),
        (lambda: expectation(np.sin, stats.norm(), method="simpson"), ValueError, "'quad' or 'mc'"),
        (lambda: expectation(np.sin, stats.norm(), bounds=(0, 1)), ValueError, "support"),
        (lambda: expectation(np.sin, lambda x: x, bounds=(1, 0)), ValueError, "lo < hi"),
        (lambda: expectation(np.sin, lambda x: x, bounds=3), ValueError, "pair"),
        (lambda: expectation(np.sin, "norm"), TypeError, "scipy.stats"),
        (lambda: expectation(None, stats.norm()), TypeError, "g"),
    ],
)
def test_expectation_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_cdf_from_pdf_against_scipy():
    xs = np.array([[-3.0, -1.0, 0.0], [0.5, 1.96, 4.0]])
    dist = stats.norm(0.2, 1.3)
    np.testing.assert_allclose(cdf_from_pdf(dist.pdf, xs), dist.cdf(xs), atol=1e-10)
    np.testing.assert_allclose(cdf_from_pdf(dist, xs), dist.cdf(xs), atol=1e-10)
    g = stats.gamma(2.5, scale=0.8)
    pts = np.linspace(-1.0, 8.0, 13)  # includes points left of the support
    np.testing.assert_allclose(cdf_from_pdf(g, pts), g.cdf(pts), atol=1e-10)
    np.testing.assert_allclose(cdf_from_pdf(g.pdf, pts, lower=0.0), g.cdf(pts), atol=1e-10)
    b = stats.beta(2.0, 5.0)
    assert cdf_from_pdf(b.pdf, 0.3, lower=0.0) == pytest.approx(b.cdf(0.3), abs=1e-12)
    assert isinstance(cdf_from_pdf(b.pdf, 0.3, lower=0.0), float)


def test_cdf_from_pdf_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        cdf_from_pdf(stats.norm().pdf, [0.0, np.nan])
    with pytest.raises(TypeError, match="continuous"):
        cdf_from_pdf(stats.poisson(2.0), 1.0)
    with pytest.raises(TypeError, match="pdf"):
        cdf_from_pdf(4.0, 1.0)


def test_moments_normal_exponential_beta_closed_forms():
    m = moments(stats.norm(1.5, 2.0))
    assert m.mean == pytest.approx(1.5, abs=1e-12) and m.variance == pytest.approx(4.0, rel=1e-10)
    assert m.skewness == pytest.approx(0.0, abs=1e-10) and m.kurtosis == pytest.approx(0.0, abs=1e-8)
    lam = 3.0
    m = moments(stats.expon(scale=1 / lam))
    np.testing.assert_allclose(m, [1 / lam, 1 / lam**2, 2.0, 6.0], rtol=1e-9)
    for a, b in [(2.0, 5.0), (0.5, 0.5), (3.0, 1.5)]:
        s = a + b
        exact = [
            a / s,
            a * b / (s**2 * (s + 1)),
            2 * (b - a) * math.sqrt(s + 1) / ((s + 2) * math.sqrt(a * b)),
            6 * ((a - b) ** 2 * (s + 1) - a * b * (s + 2)) / (a * b * (s + 2) * (s + 3)),
        ]
        np.testing.assert_allclose(moments(stats.beta(a, b)), exact, rtol=1e-7, atol=1e-9)


def test_moments_of_a_density_callable_match_scipy():
    # gamma(k = 3, theta = 0.5) written by hand
    pdf = lambda x: x**2 * np.exp(-x / 0.5) / (2.0 * 0.5**3)
    ref = stats.gamma(3.0, scale=0.5).stats(moments="mvsk")
    np.testing.assert_allclose(moments(pdf, bounds=(0.0, np.inf)), np.array(ref, dtype=float), rtol=1e-8)


def test_moments_of_a_discrete_distribution():
    lam = 3.0  # Poisson: mean = variance = lambda, skewness 1 / sqrt(lambda), excess kurtosis 1 / lambda
    np.testing.assert_allclose(moments(stats.poisson(lam)), [lam, lam, lam**-0.5, 1 / lam], rtol=1e-9)


def test_moments_rejects_unnormalized_density():
    with pytest.raises(ValueError, match="integrates to 2"):
        moments(lambda x: 2.0 * np.exp(-x), bounds=(0.0, np.inf))


def test_no_warnings_on_heavy_tails_away_from_trouble():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, _ = expectation(lambda x: x**2, stats.t(df=5))  # df / (df - 2)
        assert v == pytest.approx(5 / 3, rel=1e-8)
