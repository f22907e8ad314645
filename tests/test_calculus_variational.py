"""Variational inference on a conjugate model (sl.calculus.variational).

Model: x_i ~ N(mu, SIGMA^2) iid (SIGMA known), prior mu ~ N(M0, S0^2).
References: the evidence from scipy.stats.multivariate_normal (x ~ N(M0 1,
SIGMA^2 I + S0^2 1 1^T)), the posterior from Bayes' rule by quadrature, the
Gaussian KL by quadrature, and the ELBO of a Gaussian q in closed form
(E_q[log p(x, mu)] is a quadratic in mu, plus the Gaussian entropy).
"""

import math

import numpy as np
import pytest
from scipy import stats

import slopes as sl
import slopes.numpy as snp
from slopes.calculus import elbo, expectation, fit_gaussian_vi, kl_normal, normal_mean_posterior

SIGMA, M0, S0 = 0.8, -0.5, 2.0
X = np.random.default_rng(1).normal(1.3, SIGMA, size=20)


def log_joint(z):  # z = (mu,)
    mu = z[0]
    lik = -0.5 * snp.sum((X - mu) ** 2) / SIGMA**2 - X.size * math.log(SIGMA * math.sqrt(2 * math.pi))
    prior = -0.5 * (mu - M0) ** 2 / S0**2 - math.log(S0 * math.sqrt(2 * math.pi))
    return lik + prior


def elbo_closed_form(m, s):
    # E_q[(x_i - mu)^2] = (x_i - m)^2 + s^2, E_q[(mu - M0)^2] = (m - M0)^2 + s^2
    n = X.size
    lik = -0.5 * (np.sum((X - m) ** 2) + n * s**2) / SIGMA**2 - n * math.log(SIGMA * math.sqrt(2 * math.pi))
    prior = -0.5 * ((m - M0) ** 2 + s**2) / S0**2 - math.log(S0 * math.sqrt(2 * math.pi))
    entropy = math.log(s) + 0.5 * (1 + math.log(2 * math.pi))
    return lik + prior + entropy


def test_posterior_and_evidence_match_independent_references():
    post = normal_mean_posterior(X, SIGMA, M0, S0)
    n = X.size
    cov = SIGMA**2 * np.eye(n) + S0**2 * np.ones((n, n))
    ref = stats.multivariate_normal(np.full(n, M0), cov).logpdf(X)
    assert post.log_evidence == pytest.approx(ref, rel=1e-12)
    # Bayes' rule by quadrature: evidence, posterior mean and variance
    unnorm = lambda mu: math.exp(float(log_joint(np.array([mu]))) - ref)  # divided by the evidence
    mass, _ = expectation(lambda mu: 1.0, unnorm, bounds=(-10.0, 10.0))
    assert mass == pytest.approx(1.0, abs=1e-9)
    mean, _ = expectation(lambda mu: mu, unnorm, bounds=(-10.0, 10.0))
    var, _ = expectation(lambda mu: (mu - mean) ** 2, unnorm, bounds=(-10.0, 10.0))
    assert post.mean == pytest.approx(mean, abs=1e-9)
    assert post.std**2 == pytest.approx(var, rel=1e-8)


def test_kl_normal_against_quadrature():
    for m1, s1, m2, s2 in [(0.0, 1.0, 0.0, 1.0), (1.0, 0.5, -0.3, 2.0), (2.0, 3.0, 1.0, 0.7)]:
        p, q = stats.norm(m1, s1), stats.norm(m2, s2)
        ref, _ = expectation(lambda x: p.logpdf(x) - q.logpdf(x), p)
        assert float(kl_normal(m1, s1, m2, s2)) == pytest.approx(ref, abs=1e-10)
    with pytest.raises(ValueError, match="positive"):
        kl_normal(0.0, -1.0, 0.0, 1.0)


@pytest.mark.parametrize("m, s", [(0.0, 1.0), (1.2, 0.15), (1.5, 0.5)])
def test_elbo_identity_log_evidence_minus_kl(m, s):
    post = normal_mean_posterior(X, SIGMA, M0, S0)
    identity = post.log_evidence - float(kl_normal(m, s, post.mean, post.std))
    assert elbo_closed_form(m, s) == pytest.approx(identity, rel=1e-12, abs=1e-10)
    # the reparameterized Monte Carlo estimate agrees within 4 standard errors
    eps = np.random.default_rng(0).standard_normal((100_000, 1))
    est = float(elbo(log_joint, np.array([m, math.log(s)]), eps))
    z = m + s * eps[:, 0]
    values = -0.5 * ((X[None, :] - z[:, None]) ** 2).sum(1) / SIGMA**2 - 0.5 * (z - M0) ** 2 / S0**2
    stderr = values.std(ddof=1) / math.sqrt(eps.shape[0])
    assert abs(est - identity) < 4 * stderr
    assert elbo_closed_form(m, s) <= post.log_evidence  # a lower bound


def test_elbo_gradient_matches_closed_form_on_common_random_numbers():
    # for fixed eps the estimate is a smooth function of (m, log s): its AD gradient must
    # equal the mean of the per-sample pathwise gradients (written out in NumPy), agree
    # with finite differences, and cover the closed-form ELBO gradient within 4 SE
    eps = np.random.default_rng(3).standard_normal((4000, 1))
    params = np.array([0.4, math.log(0.3)])
    g = sl.grad(lambda p: elbo(log_joint, p, eps))(params)
    np.testing.assert_allclose(g, sl.numeric.grad(lambda p: elbo(log_joint, p, eps), params), rtol=1e-7)
    s = math.exp(params[1])
    z = params[0] + s * eps[:, 0]
    dlj = (X.sum() - X.size * z) / SIGMA**2 - (z - M0) / S0**2  # d log p(x, z) / dz
    per_sample = np.stack([dlj, dlj * s * eps[:, 0] + 1.0], axis=1)  # + 1: d entropy / d log s
    np.testing.assert_allclose(g, per_sample.mean(0), rtol=1e-10)
    stderr = per_sample.std(0, ddof=1) / math.sqrt(len(eps))
    h = 1e-5
    exact = [
        (
            elbo_closed_form(params[0] + h * e[0], math.exp(params[1] + h * e[1]))
            - elbo_closed_form(params[0] - h * e[0], math.exp(params[1] - h * e[1]))
        )
        / (2 * h)
        for e in np.eye(2)
    ]
    assert np.all(np.abs(g - exact) < 4 * stderr)


@pytest.mark.parametrize("seed", [0, 1])
def test_vi_recovers_the_exact_posterior(seed):
    post = normal_mean_posterior(X, SIGMA, M0, S0)
    fit = fit_gaussian_vi(log_joint, dim=1, steps=1500, n_samples=64, learning_rate=0.05, seed=seed)
    assert fit.mean[0] == pytest.approx(post.mean, rel=0.02)
    assert fit.std[0] == pytest.approx(post.std, rel=0.02)
    # the ELBO climbed to (nearly) the log evidence: at the optimum KL(q || posterior) = 0
    assert np.mean(fit.elbo[-100:]) == pytest.approx(post.log_evidence, abs=0.05)
    assert fit.elbo[-100:].mean() > fit.elbo[:10].mean()
    again = fit_gaussian_vi(log_joint, dim=1, steps=1500, n_samples=64, learning_rate=0.05, seed=seed)
    np.testing.assert_array_equal(fit.params, again.params)


def test_mean_field_vi_on_a_correlated_gaussian():
    # target N(mu, inv(Lam)): the best diagonal Gaussian (in KL(q || p)) has the exact mean
    # and variances 1 / Lam_ii (smaller than the marginal variances: mean-field underestimates)
    mu = np.array([1.0, -2.0])
    Lam = np.array([[2.0, 0.9], [0.9, 1.5]])
    fit = fit_gaussian_vi(lambda z: -0.5 * (z - mu) @ Lam @ (z - mu), dim=2, steps=1500, n_samples=64, seed=0)
    np.testing.assert_allclose(fit.mean, mu, atol=0.02)
    np.testing.assert_allclose(fit.std, 1 / np.sqrt(np.diag(Lam)), rtol=0.02)
    assert np.all(fit.std**2 < np.diag(np.linalg.inv(Lam)))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: elbo(log_joint, np.array([0.0, 0.0, 1.0]), np.zeros((5, 1))), ValueError, "even length"),
        (lambda: elbo(log_joint, np.array([0.0, 0.0]), np.zeros((5, 2))), ValueError, r"\(n, 1\)"),
        (lambda: elbo(lambda z: z, np.zeros(4), np.zeros((5, 2))), ValueError, "scalar per z"),
        (lambda: elbo("lj", np.zeros(2), np.zeros((5, 1))), TypeError, "callable"),
        (lambda: fit_gaussian_vi(log_joint, 0), ValueError, "dim"),
        (lambda: fit_gaussian_vi(log_joint, 1, learning_rate=-1.0), ValueError, "learning_rate"),
        (lambda: fit_gaussian_vi(log_joint, 1, init=[0.0]), ValueError, "init"),
        (lambda: fit_gaussian_vi(log_joint, 1, steps=0), ValueError, "steps"),
        (lambda: normal_mean_posterior(X, -1.0, 0.0, 1.0), ValueError, "noise_std"),
        (lambda: normal_mean_posterior([], 1.0, 0.0, 1.0), ValueError, "non-empty"),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_divergent_fit_raises_a_clear_error():
    # an improper "log density" growing like z^4: the ELBO is unbounded, gradients blow up
    with pytest.raises(FloatingPointError, match="not finite"), np.errstate(all="ignore"):
        fit_gaussian_vi(lambda z: snp.sum(z**4) * 1e300, dim=1, steps=50, seed=0)
