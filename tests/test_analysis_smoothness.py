"""slopes.analysis.smoothness: L, mu, kappa against known spectra; GD's observed rate against 1 - mu/L."""

import numpy as np
import pytest

import slopes.numpy as snp
from slopes.analysis import gd_rate, smoothness


def rotated(eigs, theta=0.7):
    """A 2x2 SPD matrix with the given eigenvalues, and its eigenvectors (columns)."""
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return R @ np.diag(eigs) @ R.T, R


@pytest.mark.parametrize("mu, L", [(1.0, 2.0), (1.0, 10.0), (0.5, 50.0)])
def test_quadratic_constants_are_exact(mu, L):
    Q, _ = rotated([mu, L])
    s = smoothness(lambda x: 0.5 * x @ Q @ x, [(-1, 1), (-1, 1)], n_samples=16)
    assert s.L == pytest.approx(L, rel=1e-12) and s.L_hessian == pytest.approx(L, rel=1e-12)
    assert s.mu == pytest.approx(mu, rel=1e-12)
    assert s.kappa == pytest.approx(L / mu, rel=1e-12)
    assert s.step == pytest.approx(1 / L, rel=1e-12) and s.rate == pytest.approx(1 - mu / L, rel=1e-12)
    # a secant ratio |Q d| / |d| lies between the extreme eigenvalues
    assert mu - 1e-12 <= s.L_secant <= L + 1e-12


def test_log_cosh_smoothness_bounded_by_one():
    # f'' = 1 - tanh(x)^2: at most 1 (at 0), at least 1 - tanh(3)^2 on [-3, 3]
    s = smoothness(lambda x: snp.sum(snp.log(snp.cosh(x))), [(-3, 3)], n_samples=128)
    assert 0.999 < s.L <= 1.0
    assert s.mu >= 1 - np.tanh(3.0) ** 2 - 1e-15
    assert s.L_secant <= 1.0


def test_not_strongly_convex_and_errors():
    s = smoothness(lambda x: x[0] ** 2 - x[1] ** 2, [(-1, 1), (-1, 1)], n_samples=8)
    assert s.L == pytest.approx(2.0) and s.mu == 0.0 and s.kappa == np.inf and s.rate == 1.0
    with pytest.raises(ValueError, match="affine"):
        smoothness(lambda x: x[0] + x[1], [(-1, 1), (-1, 1)], n_samples=8)
    with pytest.raises(ValueError, match="mu <= L"):
        gd_rate(lambda x: x[0] ** 2, np.ones(1), L=1.0, mu=2.0, f_star=0.0)


def test_gd_along_the_slow_eigenvector_matches_the_closed_form():
    # worst case: x0 along the eigenvector of mu, so x_k = (1 - mu/L)^k x0 and
    # f_k = (1 - mu/L)^(2k) f_0 -- the f-gap contracts by (1 - mu/L)^2 per step
    mu, L = 1.0, 100.0
    Q, V = rotated([mu, L])
    x0 = 2.0 * V[:, 0]
    r = gd_rate(lambda x: 0.5 * x @ Q @ x, x0, L=L, mu=mu, f_star=0.0, maxiter=300)
    q = 1 - mu / L
    assert r.predicted == pytest.approx(q, rel=1e-15)
    assert r.observed == pytest.approx(q**2, rel=1e-9)
    assert r.observed <= r.predicted
    np.testing.assert_allclose(r.ratios, q**2, rtol=1e-8)
    np.testing.assert_allclose(r.result.x, q**300 * x0, rtol=1e-8)  # iterate error: rate q exactly


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_observed_rate_never_beats_the_bound(seed):
    rng = np.random.default_rng(seed)
    mu, L = 1.0, float(rng.uniform(2, 50))
    Q, _ = rotated([mu, L], theta=float(rng.uniform(0, np.pi)))
    b = rng.standard_normal(2)
    x_star = np.linalg.solve(Q, b)
    f = lambda x: 0.5 * x @ Q @ x - b @ x
    f_star = -0.5 * b @ x_star
    s = smoothness(f, [(-3, 3), (-3, 3)], n_samples=8)
    r = gd_rate(f, rng.standard_normal(2), L=s.L, mu=s.mu, f_star=f_star, maxiter=200)
    assert r.observed <= r.predicted + 1e-9
    assert np.all(r.ratios <= r.predicted + 1e-6)  # the per-step guarantee (+ rounding slack)
    assert r.result.history.lr[-1] == pytest.approx(1 / L, rel=1e-12)
