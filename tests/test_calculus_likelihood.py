"""Maximum likelihood, cross-entropy and KL (sl.calculus.likelihood).

References: the closed-form MLEs (Gaussian: sample mean and biased variance;
Poisson: sample mean) and their asymptotic standard errors, scipy.stats.norm.fit,
scipy.stats.entropy / scipy.special.rel_entr, the softmax-minus-target gradient
and central finite differences.
"""

import math

import numpy as np
import pytest
from scipy import special, stats

import slopes as sl
import slopes.numpy as snp
from slopes.calculus import cross_entropy, fit_mle, kl_divergence

RNG = np.random.default_rng(42)
X_NORMAL = RNG.normal(3.0, 1.7, size=250)
X_POISSON = RNG.poisson(4.2, size=300).astype(float)


def gaussian_nll(theta, x):  # theta = (mu, log sigma)
    mu, log_s = theta[0], theta[1]
    return snp.sum(0.5 * ((x - mu) * snp.exp(-log_s)) ** 2 + log_s) + 0.5 * x.size * math.log(2 * math.pi)


def poisson_nll(theta, x):  # theta = (log lambda,); the log(x!) constant is kept for a true NLL
    return snp.sum(snp.exp(theta[0]) - x * theta[0]) + float(np.sum(special.gammaln(x + 1)))


# ---------------------------------------------------------------- MLE


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "newton"])
def test_gaussian_mle_matches_closed_form(method):
    fit = fit_mle(gaussian_nll, [0.0, 0.0], X_NORMAL, method=method)
    assert fit.result.success
    mu_hat, var_hat = X_NORMAL.mean(), X_NORMAL.var()  # biased (1/n) variance is the MLE
    assert fit.theta[0] == pytest.approx(mu_hat, abs=1e-6)
    assert math.exp(2 * fit.theta[1]) == pytest.approx(var_hat, abs=1e-6)
    loc, scale = stats.norm.fit(X_NORMAL)  # scipy's MLE, a peer
    assert fit.theta[0] == pytest.approx(loc, abs=1e-6)
    assert math.exp(fit.theta[1]) == pytest.approx(scale, abs=1e-6)
    assert fit.nll == pytest.approx(-stats.norm(mu_hat, math.sqrt(var_hat)).logpdf(X_NORMAL).sum(), rel=1e-10)


def test_gaussian_standard_errors_from_observed_information():
    # in (mu, log sigma) the observed information at the MLE is diag(n / sigma^2, 2 n)
    fit = fit_mle(gaussian_nll, [0.0, 0.0], X_NORMAL)
    n = X_NORMAL.size
    np.testing.assert_allclose(fit.stderr, [X_NORMAL.std() / math.sqrt(n), 1 / math.sqrt(2 * n)], rtol=1e-5)
    assert fit.cov[0, 1] == pytest.approx(0.0, abs=1e-8)


def test_poisson_mle_matches_closed_form():
    fit = fit_mle(poisson_nll, [0.0], X_POISSON)
    lam_hat = X_POISSON.mean()
    assert fit.result.success
    assert math.exp(fit.theta[0]) == pytest.approx(lam_hat, abs=1e-6)
    # stderr of log lambda: 1 / sqrt(n lambda_hat); delta method gives sqrt(lambda_hat / n) for lambda
    assert fit.stderr[0] == pytest.approx(1 / math.sqrt(X_POISSON.size * lam_hat), rel=1e-6)
    assert fit.nll == pytest.approx(-stats.poisson(lam_hat).logpmf(X_POISSON).sum(), rel=1e-10)


def test_mle_with_adam_reaches_the_closed_form_loosely():
    fit = fit_mle(
        lambda th, x: gaussian_nll(th, x) / x.size,
        [0.0, 0.0],
        X_NORMAL,
        method="adam",
        learning_rate=0.05,
        maxiter=3000,
        gtol=1e-7,
    )
    assert fit.theta[0] == pytest.approx(X_NORMAL.mean(), abs=1e-4)


def test_mle_non_identifiable_gives_nan_stderr():
    # only theta[0] + theta[1] enters: the Hessian is singular
    nll = lambda th, x: snp.sum((x - th[0] - th[1]) ** 2)
    fit = fit_mle(nll, [0.0, 0.0], X_NORMAL)
    assert fit.theta.sum() == pytest.approx(X_NORMAL.mean(), abs=1e-6)
    assert np.all(np.isnan(fit.stderr))


def test_mle_bad_input():
    with pytest.raises(TypeError, match="neg_log_lik"):
        fit_mle("nll", [0.0], X_NORMAL)
    with pytest.raises(ValueError, match="vector"):
        fit_mle(gaussian_nll, 0.0, X_NORMAL)
    with pytest.raises(TypeError, match="data"):  # minimize(data=) would mean mini-batches
        fit_mle(gaussian_nll, [0.0, 0.0], X_NORMAL, data=X_NORMAL)


# ---------------------------------------------------------------- cross-entropy and KL


P = np.array([0.1, 0.6, 0.3, 0.0])
Q = np.array([0.25, 0.4, 0.15, 0.2])


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_cross_entropy_and_kl_against_scipy():
    ce = cross_entropy(P, Q)
    assert float(ce) == pytest.approx(-np.sum(P[:3] * np.log(Q[:3])), rel=1e-14)
    assert float(ce) == pytest.approx(stats.entropy(P) + stats.entropy(P, Q), rel=1e-12)
    assert float(kl_divergence(P, Q)) == pytest.approx(special.rel_entr(P, Q).sum(), rel=1e-12)
    assert float(kl_divergence(P, P)) == 0.0
    assert float(cross_entropy(P, P)) == pytest.approx(stats.entropy(P), rel=1e-12)


def test_logits_give_the_same_values_as_probabilities():
    z = np.array([1.0, -0.5, 2.0, 0.3])
    q = softmax(z)
    assert float(cross_entropy(P, logits=z)) == pytest.approx(float(cross_entropy(P, q)), rel=1e-13)
    assert float(kl_divergence(P, logits=z)) == pytest.approx(special.rel_entr(P, q).sum(), rel=1e-12)


def test_gradient_wrt_logits_is_softmax_minus_p():
    for seed in range(3):
        rng = np.random.default_rng(seed)
        z = rng.normal(size=5) * 3
        p = rng.dirichlet(np.ones(5))
        g = sl.grad(lambda l: cross_entropy(p, logits=l))(z)
        np.testing.assert_allclose(g, softmax(z) - p, atol=1e-14)
        # KL differs from H by H(p), a constant in the logits: same gradient
        np.testing.assert_allclose(
            sl.grad(lambda l: kl_divergence(p, logits=l))(z), softmax(z) - p, atol=1e-14
        )
        np.testing.assert_allclose(g, sl.numeric.grad(lambda l: cross_entropy(p, logits=l), z), atol=1e-8)


def test_gradient_wrt_probabilities_is_minus_p_over_q():
    g = sl.grad(lambda q: cross_entropy(P, q))(Q)
    np.testing.assert_allclose(g, -P / Q, rtol=1e-14)
    h = 1e-6  # central differences in plain NumPy
    fd = [
        (-np.sum(P[:3] * np.log((Q + h * e)[:3])) + np.sum(P[:3] * np.log((Q - h * e)[:3]))) / (2 * h)
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


def test_batched_axis_and_float32():
    ps = np.stack([P, Q, np.full(4, 0.25)])
    qs = np.stack([Q, Q, P + 0.0])
    out = cross_entropy(ps, qs)
    assert out.shape == (3,)
    assert np.isinf(out[2])  # P has a zero where the uniform p is positive
    np.testing.assert_allclose(
        out[:2], [stats.entropy(P) + stats.entropy(P, Q), stats.entropy(Q)], rtol=1e-12
    )
    col = cross_entropy(ps.T, qs.T, axis=0)
    np.testing.assert_allclose(col, out, rtol=1e-15)
    z32 = np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32)
    assert cross_entropy(P.astype(np.float32), logits=z32).dtype == np.float32
    assert kl_divergence(P.astype(np.float32), Q.astype(np.float32)).dtype == np.float32
    g32 = sl.grad(lambda l: cross_entropy(P.astype(np.float32), logits=l))(z32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, softmax(z32.astype(float)) - P, atol=1e-6)


def test_zero_probabilities_and_large_logits_raise_no_warnings():
    z = np.array([1000.0, -1000.0, 999.0, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # exp underflow to 0 is fine
        value = float(cross_entropy(P, logits=z))
        g = sl.grad(lambda l: cross_entropy(P, logits=l))(z)
        assert np.isinf(float(cross_entropy(np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0]))))
        assert np.isinf(float(kl_divergence(np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0]))))
        assert float(kl_divergence(np.array([1.0, 0.0]), np.array([1.0, 0.0]))) == 0.0
        gq = sl.grad(lambda q: kl_divergence(P, q))(Q)
    log_q = z - (1000.0 + math.log1p(math.exp(-1.0)))  # log-softmax by hand, exact for these logits
    log_q[1] = -2000.0 - math.log1p(math.exp(-1.0))
    assert value == pytest.approx(-np.sum(P * np.where(P > 0, log_q, 0.0)), rel=1e-12)
    np.testing.assert_allclose(g, softmax(z) - P, atol=1e-14)
    assert np.all(np.isfinite(gq))


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: cross_entropy(P, Q, logits=np.zeros(4)), ValueError, "exactly one"),
        (lambda: cross_entropy(P), ValueError, "exactly one"),
        (lambda: cross_entropy(np.array([0.5, 0.6]), np.array([0.5, 0.5])), ValueError, "sum to 1"),
        (lambda: cross_entropy(np.array([1.5, -0.5]), np.array([0.5, 0.5])), ValueError, "non-negative"),
        (lambda: kl_divergence(P, np.array([1.0, 2.0, 3.0, 4.0])), ValueError, "logits="),
        (lambda: cross_entropy(np.array(["a", "b"]), Q), TypeError, "real"),
        (lambda: cross_entropy(np.float64(1.0), Q), ValueError, "scalar"),
    ],
)
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()
