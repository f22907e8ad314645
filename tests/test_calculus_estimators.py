"""Gradient estimators of expectations (sl.calculus.estimators).

q = N(mu, sigma^2) with theta = (mu, sigma). Closed forms:
g = z^2:    E = mu^2 + sigma^2,           grad = (2 mu, 2 sigma)
g = e^z:    E = exp(mu + sigma^2 / 2),    grad = E * (1, sigma)
g = 1{z>0}: E = Phi(mu / sigma),          grad = phi(mu / sigma) * (1 / sigma, -mu / sigma^2)
Unbiasedness is checked as "closed form within 4 standard errors"; the per-sample
variances of the reparameterization estimator for g = z^2 are known exactly too.
"""

import math

import numpy as np
import pytest
from scipy import stats

import slopes.numpy as snp
from slopes.calculus import GradientEstimate, reparam_grad, score_function_grad

THETA = np.array([0.7, 1.3])  # mu, sigma


def logq(th, z):
    return -0.5 * ((z - th[0]) / th[1]) ** 2 - snp.log(th[1]) - 0.5 * math.log(2 * math.pi)


def sample(th, rng, n):
    return th[0] + th[1] * rng.standard_normal(n)


def transform(th, eps):
    return th[0] + th[1] * eps


def base(rng, n):
    return rng.standard_normal(n)


def square(z):
    return z**2


def expo(z):
    return snp.exp(z)


def exact_grad(name, th):
    mu, s = th
    if name == "square":
        return np.array([2 * mu, 2 * s])
    if name == "exp":
        e = math.exp(mu + s**2 / 2)
        return np.array([e, e * s])
    phi = stats.norm.pdf(mu / s)
    return np.array([phi / s, -mu * phi / s**2])


@pytest.mark.parametrize("name, g", [("square", square), ("exp", expo)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_estimators_are_unbiased(name, g, seed):
    exact = exact_grad(name, THETA)
    sf = score_function_grad(g, logq, sample, THETA, n=40_000, seed=seed)
    rp = reparam_grad(g, transform, base, THETA, n=40_000, seed=seed)
    for est in (sf, rp):
        assert isinstance(est, GradientEstimate)
        assert est.grad.shape == est.stderr.shape == est.variance.shape == THETA.shape
        assert np.all(np.abs(est.grad - exact) < 4 * est.stderr), (est, exact)


@pytest.mark.parametrize("name, g", [("square", square), ("exp", expo)])
def test_reparameterization_has_lower_variance_than_score_function(name, g):
    sf = score_function_grad(g, logq, sample, THETA, n=20_000, seed=5)
    rp = reparam_grad(g, transform, base, THETA, n=20_000, seed=5)
    assert np.all(rp.variance < sf.variance), (rp.variance, sf.variance)
    np.testing.assert_allclose(rp.stderr, np.sqrt(rp.variance / 20_000), rtol=1e-12)


def test_reparameterization_variance_matches_closed_form():
    # per-sample gradient of (mu + s eps)^2: (2 z, 2 z eps); Var(2 z) = 4 s^2,
    # Var(2 z eps) = Var(2 mu eps + 2 s eps^2) = 4 mu^2 + 8 s^2
    mu, s = THETA
    rp = reparam_grad(square, transform, base, THETA, n=200_000, seed=0)
    np.testing.assert_allclose(rp.variance, [4 * s**2, 4 * mu**2 + 8 * s**2], rtol=0.02)


def test_score_function_handles_a_discontinuous_g_where_reparameterization_fails():
    step = lambda z: snp.where(z > 0, 1.0, 0.0)
    exact = exact_grad("step", THETA)
    sf = score_function_grad(step, logq, sample, THETA, n=40_000, seed=3)
    assert np.all(np.abs(sf.grad - exact) < 4 * sf.stderr)
    # the pathwise derivative of a step is 0 almost everywhere: biased, documented
    rp = reparam_grad(step, transform, base, THETA, n=1000, seed=3)
    np.testing.assert_array_equal(rp.grad, 0.0)
    # a g written with plain Python control flow is evaluated sample by sample
    sf_py = score_function_grad(lambda z: 1.0 if z > 0 else 0.0, logq, sample, THETA, n=40_000, seed=3)
    np.testing.assert_allclose(sf_py.grad, sf.grad, rtol=1e-12)


def gaussian_poly_variance(coeffs):
    """Var[P(eps)] for eps ~ N(0, 1) and the polynomial P with these coefficients (lowest first)."""
    moment = lambda k: 0.0 if k % 2 else float(np.prod(np.arange(k - 1, 0, -2)))  # (k - 1)!!
    expect = lambda c: sum(ck * moment(k) for k, ck in enumerate(c))
    return expect(np.polynomial.polynomial.polymul(coeffs, coeffs)) - expect(coeffs) ** 2


@pytest.mark.parametrize("b", [0.0, 1.36])
def test_score_function_variance_matches_closed_form(b):
    # z = mu + s eps; g(z) - b = c0 + c1 eps + c2 eps^2; the per-sample terms are
    # (g - b) eps / s (for mu) and (g - b)(eps^2 - 1) / s (for s): polynomials in eps
    th = np.array([1.0, 0.6])
    mu, s = th
    g_poly = [mu**2 - b, 2 * mu * s, s**2]
    pm = np.polynomial.polynomial.polymul(g_poly, [0.0, 1.0]) / s
    ps = np.polynomial.polynomial.polymul(g_poly, [-1.0, 0.0, 1.0]) / s
    exact = [gaussian_poly_variance(pm), gaussian_poly_variance(ps)]
    est = score_function_grad(square, logq, sample, th, n=200_000, seed=9, baseline=b)
    np.testing.assert_allclose(est.variance, exact, rtol=0.05)


def test_leave_one_out_baseline_keeps_the_estimate_unbiased_and_reduces_variance():
    th = np.array([1.0, 0.6])  # g = z^2 is far from 0 where q has its mass: a baseline helps
    exact = exact_grad("square", th)
    plain = score_function_grad(square, logq, sample, th, n=30_000, seed=9)
    for seed in range(3):
        based = score_function_grad(square, logq, sample, th, n=30_000, seed=seed, baseline="loo")
        assert np.all(np.abs(based.grad - exact) < 4 * based.stderr)
        assert np.all(based.variance < 0.8 * plain.variance)


def test_standard_error_shrinks_like_one_over_sqrt_n():
    small = reparam_grad(expo, transform, base, THETA, n=5_000, seed=1)
    big = reparam_grad(expo, transform, base, THETA, n=80_000, seed=2)
    np.testing.assert_allclose(small.stderr / big.stderr, 4.0, rtol=0.15)
    small = score_function_grad(expo, logq, sample, THETA, n=5_000, seed=1)
    big = score_function_grad(expo, logq, sample, THETA, n=80_000, seed=2)
    np.testing.assert_allclose(small.stderr / big.stderr, 4.0, rtol=0.25)


def test_scipy_base_distribution_determinism_and_float32():
    a = reparam_grad(square, transform, stats.norm(), THETA, n=500, seed=4)
    b = reparam_grad(square, transform, stats.norm(), THETA, n=500, seed=4)
    np.testing.assert_array_equal(a.grad, b.grad)
    c = score_function_grad(square, logq, sample, THETA, n=500, seed=np.random.default_rng(4))
    d = score_function_grad(square, logq, sample, THETA, n=500, seed=4)
    np.testing.assert_array_equal(c.grad, d.grad)
    th32 = THETA.astype(np.float32)
    r32 = reparam_grad(square, transform, base, th32, n=20_000, seed=0)
    s32 = score_function_grad(square, logq, sample, th32, n=20_000, seed=0)
    assert r32.grad.dtype == s32.grad.dtype == r32.stderr.dtype == np.float32
    assert np.all(np.abs(r32.grad - exact_grad("square", THETA)) < 4 * r32.stderr)


def test_multivariate_theta_matches_closed_form():
    # z ~ N(m, diag(s^2)) in 3-D, g = sum(z^2): grad_m = 2 m, grad_s = 2 s
    th = np.array([[0.5, -1.0, 2.0], [1.0, 0.3, 0.7]])  # rows: m, s
    T = lambda t, e: t[0] + t[1] * e
    est = reparam_grad(
        lambda z: snp.sum(z**2), T, lambda rng, n: rng.standard_normal((n, 3)), th, n=20_000, seed=0
    )
    assert est.grad.shape == (2, 3)
    assert np.all(np.abs(est.grad - 2 * th) < 4 * est.stderr)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: score_function_grad(square, logq, sample, THETA, n=1), ValueError, "n"),
        (lambda: score_function_grad(square, "logq", sample, THETA), TypeError, "logq"),
        (
            lambda: score_function_grad(square, logq, lambda t, r, n: r.normal(size=3), THETA, n=10),
            ValueError,
            "n = 10",
        ),
        (lambda: score_function_grad(square, logq, sample, THETA, baseline="mean"), ValueError, "loo"),
        (
            lambda: score_function_grad(lambda z: snp.stack([z, z]), logq, sample, THETA, n=10),
            ValueError,
            "one number",
        ),
        (lambda: score_function_grad(square, logq, sample, ["a", "b"]), TypeError, "real"),
        (lambda: reparam_grad(square, None, base, THETA), TypeError, "transform"),
        (lambda: reparam_grad(square, transform, 3.0, THETA), TypeError, "sampler"),
        (
            lambda: reparam_grad(lambda z: snp.stack([z, z]), transform, base, THETA, n=10),
            ValueError,
            "one number",
        ),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()
