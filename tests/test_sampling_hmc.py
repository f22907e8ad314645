"""slopes.sampling.hmc: leapfrog against closed-form Hamiltonian flows, HMC against known targets,
the effective sample size against the AR(1) closed form (and arviz when installed)."""

import math
import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

import slopes as sl
import slopes.numpy as snp
from slopes.sampling import effective_sample_size, hmc, leapfrog

# ---------------------------------------------------------------- leapfrog


def test_leapfrog_energy_error_is_second_order():
    # harmonic oscillator H = (x^2 + p^2) / 2, integrated to T = 1 with eps = T / n
    x0, p0 = np.array([1.0]), np.array([0.5])
    h0 = 0.5 * (x0**2 + p0**2).item()
    steps = np.array([10, 20, 40, 80])
    errs = []
    for n in steps:
        x, p = leapfrog(lambda x: -x, x0, p0, 1.0 / n, int(n))
        errs.append(abs(0.5 * (x**2 + p**2).item() - h0))
    slope = np.polyfit(np.log(1.0 / steps), np.log(errs), 1)[0]
    assert abs(slope - 2.0) < 0.1


def test_leapfrog_position_converges_to_exact_flow():
    # H = x^2/2 + p^2/2: the exact flow is a rotation, x(T) = x0 cos T + p0 sin T
    x0, p0, T = 1.0, 0.5, 1.0
    exact = x0 * math.cos(T) + p0 * math.sin(T)
    errs = [
        abs(leapfrog(lambda x: -x, np.array([x0]), np.array([p0]), T / n, n)[0][0] - exact) for n in (20, 40)
    ]
    assert 3.6 < errs[0] / errs[1] < 4.4  # O(eps^2) global error


def test_leapfrog_with_mass_matrix_matches_closed_form():
    # logp = -x.P x / 2 with M = P: x'' = -x, so x(t) = x0 cos t + P^{-1} p0 sin t
    P = np.array([[2.0, 0.6], [0.6, 1.0]])
    x0, p0, T, n = np.array([0.3, -1.0]), np.array([1.0, 0.2]), 1.3, 400
    x, p = leapfrog(lambda x: -P @ x, x0, p0, T / n, n, mass=P)
    x_exact = x0 * math.cos(T) + np.linalg.solve(P, p0) * math.sin(T)
    p_exact = P @ (-x0 * math.sin(T) + np.linalg.solve(P, p0) * math.cos(T))
    np.testing.assert_allclose(x, x_exact, atol=1e-5)
    np.testing.assert_allclose(p, p_exact, atol=1e-5)
    # a diagonal mass: each coordinate of logp = -x^2/2 oscillates with frequency 1/sqrt(m)
    m = np.array([1.0, 4.0])
    x, _ = leapfrog(lambda x: -x, np.ones(2), np.zeros(2), T / n, n, mass=m)
    np.testing.assert_allclose(x, np.cos(T / np.sqrt(m)), atol=1e-5)


def test_leapfrog_is_reversible():
    # a non-quadratic target (banana): flip the momentum, integrate again, come back
    def logp(x):
        return -0.5 * (x[0] ** 2 + 4.0 * (x[1] - x[0] ** 2) ** 2)

    g = sl.grad(logp)
    x0, p0 = np.array([0.4, -0.2]), np.array([0.7, 1.1])
    x1, p1 = leapfrog(g, x0, p0, 0.05, 30)
    assert np.linalg.norm(x1 - x0) > 0.5  # it moved
    x2, p2 = leapfrog(g, x1, -p1, 0.05, 30)
    np.testing.assert_allclose(x2, x0, atol=1e-12)
    np.testing.assert_allclose(-p2, p0, atol=1e-12)


def test_leapfrog_keeps_float32():
    x, p = leapfrog(lambda x: -x, np.ones(3, np.float32), np.zeros(3, np.float32), 0.1, 5)
    assert x.dtype == np.float32 and p.dtype == np.float32


# ---------------------------------------------------------------- HMC


def _mc_bound(values, k=4.0):
    """k Monte Carlo standard errors of the mean of ``values`` (per column), using their ESS."""
    return k * values.std(axis=0) / np.sqrt(effective_sample_size(values))


def test_hmc_correlated_gaussian_mean_and_covariance():
    C = np.array([[1.0, 0.9], [0.9, 1.0]])
    P = np.linalg.inv(C)
    r = hmc(
        lambda x: -0.5 * x @ (P @ x),
        np.zeros(2),
        n_samples=2000,
        step_size=0.2,
        n_steps=10,
        n_warmup=200,
        seed=0,
    )
    s = r.samples
    assert s.shape == (2000, 2)
    assert 0.6 < r.acceptance_rate < 1.0
    # the mean is 0 (closed form), within Monte Carlo error
    assert np.all(np.abs(s.mean(0)) < _mc_bound(s))
    # E[x_i x_j] = C_ij (the mean is known to be 0), each within its Monte Carlo error
    prods = np.stack([s[:, 0] ** 2, s[:, 1] ** 2, s[:, 0] * s[:, 1]], axis=1)
    target = np.array([C[0, 0], C[1, 1], C[0, 1]])
    assert np.all(np.abs(prods.mean(0) - target) < _mc_bound(prods))
    # the chain mixes: a few hundred effective draws at least
    assert np.all(r.ess > 200)


def test_hmc_path_length_and_adaptation():
    r = hmc(
        lambda x: -0.5 * snp.sum(x**2),
        np.zeros(3),
        n_samples=300,
        step_size=2.0,
        path_length=1.5,
        n_warmup=150,
        target_accept=0.8,
        seed=1,
    )
    # a too-large initial step is tuned down, n_steps follows the path length
    assert r.step_size < 2.0
    assert r.n_steps == math.ceil(1.5 / r.step_size)
    assert 0.6 < r.acceptance_rate < 0.97


def test_hmc_same_seed_same_chain():
    logp = lambda x: -0.5 * snp.sum(x**2)  # noqa: E731
    a = hmc(logp, np.zeros(2), n_samples=50, n_steps=3, seed=7).samples
    b = hmc(logp, np.zeros(2), n_samples=50, n_steps=3, seed=7).samples
    np.testing.assert_array_equal(a, b)


def test_hmc_rejects_outside_support_without_warnings():
    # half-normal on x > 0: logp = -inf for x <= 0; mean sqrt(2/pi), closed form
    def logp(x):
        return snp.sum(snp.where(x > 0, -0.5 * x**2, -np.inf))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = hmc(logp, np.array([1.0]), n_samples=2000, step_size=0.3, n_steps=5, n_warmup=100, seed=2)
    assert np.all(r.samples > 0)
    assert abs(r.samples.mean() - math.sqrt(2 / math.pi)) < _mc_bound(r.samples)[0]


def test_hmc_float32_stays_float32():
    r = hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(2, np.float32), n_samples=20, n_steps=3, seed=0)
    assert r.samples.dtype == np.float32


def test_hmc_untraceable_logp_falls_back_to_eager():
    def logp(x):  # Python control flow on a value: cannot be traced by sl.jit
        return -0.5 * snp.sum(x**2) if snp.sum(x) < 1e9 else -snp.sum(x**4)

    r = hmc(logp, np.zeros(2), n_samples=200, step_size=0.3, n_steps=5, seed=3)
    assert np.all(np.abs(r.samples.mean(0)) < _mc_bound(r.samples))


def test_hmc_logistic_regression_posterior_breast_cancer():
    data = sl.ml.datasets.load("breast_cancer")
    X = sl.ml.datasets.Standardizer().fit_transform(data.X)
    X = np.hstack([np.ones((X.shape[0], 1)), X])
    y = data.y.astype(float)

    def logp(w):  # Bernoulli likelihood with logit X w (stable softplus) and a N(0, 1) prior
        z = X @ w
        return snp.sum(y * z - snp.logaddexp(0.0, z)) - 0.5 * snp.sum(w**2)

    neg = lambda w: -logp(w)  # noqa: E731
    fit = sl.minimize(neg, np.zeros(X.shape[1]), method="lbfgs")
    assert fit.success
    H = sl.hessian(neg)(fit.x)
    # the Hessian (the Laplace approximation's precision) as mass matrix makes the target ~isotropic
    r = hmc(logp, fit.x, n_samples=300, n_warmup=100, step_size=0.5, n_steps=5, mass=H, seed=0)
    assert 0.6 < r.acceptance_rate < 0.99
    assert r.n_divergent == 0
    sd_laplace = np.sqrt(np.diag(np.linalg.inv(H)))
    # the posterior mean sits near the MAP: within half a (Laplace) posterior sd in every coordinate
    # (the gap is the posterior's skewness plus Monte Carlo error ~ sd / sqrt(ESS))
    assert np.max(np.abs(r.samples.mean(0) - fit.x) / sd_laplace) < 0.5
    # and its spread agrees with the Laplace approximation
    np.testing.assert_allclose(r.samples.std(0) / sd_laplace, 1.0, atol=0.3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be a positive integer"),
        ({"n_samples": 10, "step_size": -0.1}, "step_size must be positive"),
        ({"n_samples": 10, "n_steps": 3, "path_length": 1.0}, "not both"),
        ({"n_samples": 10, "n_warmup": -1}, "n_warmup"),
        ({"n_samples": 10, "target_accept": 1.5}, "target_accept"),
        ({"n_samples": 10, "mass": np.array([1.0, -1.0])}, "mass must be positive"),
        ({"n_samples": 10, "mass": np.array([[1.0, 2.0], [2.0, 1.0]])}, "not positive definite"),
        ({"n_samples": 10, "mass": np.ones(3)}, "vector of length 2"),
    ],
)
def test_hmc_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(2), **kwargs)


def test_hmc_bad_start_and_logp():
    with pytest.raises(ValueError, match="start inside the support"):
        hmc(lambda x: snp.sum(snp.where(x > 0, -x, -np.inf)), np.array([-1.0]), n_samples=5)
    with pytest.raises(TypeError, match="logp must be a callable"):
        hmc(3.0, np.zeros(2), n_samples=5)
    with pytest.raises(ValueError, match="same shape"):
        leapfrog(lambda x: -x, np.zeros(2), np.zeros(3), 0.1, 2)


# ---------------------------------------------------------------- effective sample size


def _ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    e[0] /= math.sqrt(1 - phi**2)  # start in the stationary distribution
    return lfilter([1.0], [1.0, -phi], e)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8, -0.3])
def test_ess_matches_ar1_closed_form(phi):
    n = 10_000
    ratios = [effective_sample_size(_ar1(phi, n, s)) / (n * (1 - phi) / (1 + phi)) for s in range(20)]
    # averaged over 20 chains (sd of one ratio ~ 0.07): the estimator is nearly unbiased
    assert abs(np.mean(ratios) - 1.0) < 0.08
    assert np.all(np.abs(np.array(ratios) - 1.0) < 0.35)


def test_ess_shapes_and_constant_chain():
    chain = np.stack([_ar1(0.5, 1000, 0), np.full(1000, 2.0)], axis=1).reshape(1000, 1, 2)
    ess = effective_sample_size(chain)
    assert ess.shape == (1, 2)
    assert np.isfinite(ess[0, 0]) and np.isnan(ess[0, 1])
    assert isinstance(effective_sample_size(_ar1(0.5, 100, 1)), float)
    with pytest.raises(ValueError, match="n >= 4"):
        effective_sample_size(np.ones(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        effective_sample_size(np.array([1.0, 2.0, np.nan, 0.0, 1.0]))


def test_ess_matches_arviz():
    az = pytest.importorskip("arviz")
    x = _ar1(0.6, 4000, 3)
    # arviz splits the chain in two: a close, not an equal, estimate
    ref = float(az.ess(x[None, :], method="mean"))
    assert abs(effective_sample_size(x) / ref - 1.0) < 0.1
