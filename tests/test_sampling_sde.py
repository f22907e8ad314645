"""slopes.sampling.sde: Brownian paths against their law, Euler-Maruyama and Milstein against hand
transcriptions, closed-form moments, and the exact solution of geometric Brownian motion."""

import math

import numpy as np
import pytest
from scipy import stats

import slopes.numpy as snp
from slopes.sampling import brownian_path, euler_maruyama, milstein, strong_error

# ---------------------------------------------------------------- Brownian paths


def test_brownian_increments_are_normal_with_variance_dt():
    path = brownian_path(2.0, 50, n_paths=400, seed=0)
    dt = 2.0 / 50
    np.testing.assert_allclose(path.t, np.linspace(0.0, 2.0, 51))
    assert path.dW.shape == (400, 50) and path.W.shape == (400, 51)
    assert np.all(path.W[:, 0] == 0.0)
    # 20000 increments / sqrt(dt) against N(0, 1) (scipy's KS test)
    assert stats.kstest(path.dW.ravel() / math.sqrt(dt), "norm").pvalue > 0.01


def test_brownian_covariance_is_min_s_t():
    path = brownian_path(1.0, 4, n_paths=20_000, seed=1)
    W = path.W[:, 1:]  # times 0.25, 0.5, 0.75, 1
    t = path.t[1:]
    cov = W.T @ W / W.shape[0]  # E[W_s W_t], the mean is 0
    # the Monte Carlo sd of the mean of W_s W_t is sqrt(s t + min(s, t)^2) / sqrt(n)
    se = np.sqrt(np.outer(t, t) + np.minimum.outer(t, t) ** 2) / math.sqrt(W.shape[0])
    assert np.all(np.abs(cov - np.minimum.outer(t, t)) < 4 * se)


def test_coarsen_is_the_same_path_on_a_coarser_grid():
    path = brownian_path(1.0, 12, n_paths=5, shape=(2,), seed=2)
    coarse = path.coarsen(3)
    assert coarse.dW.shape == (5, 4, 2)
    np.testing.assert_allclose(coarse.t, path.t[::3])
    np.testing.assert_allclose(coarse.W, path.W[:, ::3], atol=1e-14)
    with pytest.raises(ValueError, match="must divide"):
        path.coarsen(5)


def test_brownian_same_seed_same_path():
    a = brownian_path(1.0, 10, n_paths=3, seed=4).dW
    np.testing.assert_array_equal(a, brownian_path(1.0, 10, n_paths=3, seed=4).dW)


# ---------------------------------------------------------------- the schemes, step by step


def test_euler_maruyama_matches_hand_transcription():
    drift = lambda t, x: np.sin(x) - t  # noqa: E731
    diffusion = lambda t, x: 0.3 + 0.1 * x**2  # noqa: E731
    path = brownian_path(1.0, 10, n_paths=3, seed=5)
    sol = euler_maruyama(drift, diffusion, 0.4, 1.0, 10, dW=path.dW)
    x, dt = np.full(3, 0.4), 0.1
    for k in range(10):
        x = x + (np.sin(x) - k * dt) * dt + (0.3 + 0.1 * x**2) * path.dW[:, k]
    np.testing.assert_allclose(sol.x[:, -1], x, rtol=1e-13)
    np.testing.assert_allclose(sol.t, path.t)


def test_milstein_matches_hand_transcription_with_ad_derivative():
    # vector state, diagonal noise b_i = sin(x_i) + c_i: db_i/dx_i = cos(x_i), written by hand below
    c = np.array([0.5, 1.0])
    drift = lambda t, x: -x  # noqa: E731
    diffusion = lambda t, x: snp.sin(x) + c  # noqa: E731
    path = brownian_path(0.5, 20, n_paths=4, shape=(2,), seed=6)
    sol = milstein(drift, diffusion, np.array([0.2, -0.3]), 0.5, 20, dW=path.dW)
    x, dt = np.tile([0.2, -0.3], (4, 1)), 0.5 / 20
    for k in range(20):
        dw, b = path.dW[:, k], np.sin(x) + c
        x = x - x * dt + b * dw + 0.5 * b * np.cos(x) * (dw**2 - dt)
    assert sol.x.shape == (4, 21, 2)
    np.testing.assert_allclose(sol.x[:, -1], x, rtol=1e-12)
    # the user-supplied derivative gives the same paths
    sol2 = milstein(
        drift, diffusion, np.array([0.2, -0.3]), 0.5, 20, dW=path.dW, diffusion_dx=lambda t, x: np.cos(x)
    )
    np.testing.assert_allclose(sol2.x, sol.x, rtol=1e-13)


def test_milstein_equals_euler_maruyama_for_additive_noise():
    path = brownian_path(1.0, 16, n_paths=3, seed=7)
    args = (lambda t, x: -2.0 * x, lambda t, x: 0.7, 1.0, 1.0, 16)
    np.testing.assert_allclose(milstein(*args, dW=path.dW).x, euler_maruyama(*args, dW=path.dW).x, rtol=1e-14)


# ---------------------------------------------------------------- moments in closed form


def test_euler_maruyama_mean_of_gbm():
    # E[X_{k+1}] = (1 + mu dt) E[X_k] exactly for EM on dX = mu X dt + sigma X dW
    mu, sigma, n = 0.8, 0.4, 20
    sol = euler_maruyama(lambda t, x: mu * x, lambda t, x: sigma * x, 1.0, 1.0, n, n_paths=20_000, seed=8)
    xT = sol.x[:, -1]
    assert abs(xT.mean() - (1 + mu / n) ** n) < 4 * xT.std() / math.sqrt(xT.size)


def test_euler_maruyama_ornstein_uhlenbeck_moments():
    # dX = -theta X dt + s dW per component: EM mean x0 (1 - theta dt)^n and variance
    # s^2 dt sum_k (1 - theta dt)^(2k) (a geometric sum)
    theta, s, x0, n, T = np.array([1.0, 3.0]), np.array([0.5, 1.0]), np.array([2.0, -1.0]), 50, 1.0
    dt, paths = T / n, 40_000
    sol = euler_maruyama(lambda t, x: -theta * x, lambda t, x: s, x0, T, n, n_paths=paths, seed=9)
    xT = sol.x[:, -1]
    r = 1 - theta * dt
    mean = x0 * r**n
    var = s**2 * dt * (1 - r ** (2 * n)) / (1 - r**2)
    assert np.all(np.abs(xT.mean(0) - mean) < 4 * np.sqrt(var / paths))
    # the sd of a sample variance of Gaussian draws is var sqrt(2 / (n - 1))
    assert np.all(np.abs(xT.var(0) - var) < 4 * var * math.sqrt(2 / (paths - 1)))


# ---------------------------------------------------------------- strong convergence orders


MU, SIGMA = 2.0, 1.0


def _gbm_exact(T, W):
    return np.exp((MU - SIGMA**2 / 2) * T + SIGMA * W)


@pytest.mark.parametrize("method, order", [("euler_maruyama", 0.5), ("milstein", 1.0)])
def test_strong_order_on_geometric_brownian_motion(method, order):
    r = strong_error(
        method,
        lambda t, x: MU * x,
        lambda t, x: SIGMA * x,
        1.0,
        1.0,
        _gbm_exact,
        n_steps=(32, 64, 128, 256, 512),
        n_paths=2000,
        seed=0,
    )
    assert abs(r.order - order) < 0.15
    assert np.all(np.diff(r.error) < 0)  # refining always helps
    # the measured order is the slope of the errors (recomputed here in plain NumPy)
    assert r.order == pytest.approx(np.polyfit(np.log(r.dt), np.log(r.error), 1)[0])


def test_strong_error_of_a_vector_sde():
    # two independent GBMs with diagonal noise; the error is the mean Euclidean norm
    sig = np.array([0.5, 1.0])
    exact = lambda T, W: np.exp((1.0 - sig**2 / 2) * T + sig * W)  # noqa: E731
    r = strong_error(
        "milstein",
        lambda t, x: x,
        lambda t, x: sig * x,
        np.ones(2),
        1.0,
        exact,
        n_steps=(16, 32, 64, 128),
        n_paths=500,
        seed=1,
    )
    assert abs(r.order - 1.0) < 0.15


# ---------------------------------------------------------------- dtypes and errors


def test_float32_stays_float32():
    sol = euler_maruyama(lambda t, x: -x, lambda t, x: 0.1 * x, np.float32(1.0), 1.0, 8, n_paths=2, seed=0)
    assert sol.x.dtype == np.float32
    sol = milstein(lambda t, x: -x, lambda t, x: 0.1 * x, np.ones(2, np.float32), 1.0, 8, n_paths=2, seed=0)
    assert sol.x.dtype == np.float32


def test_bad_input():
    a = lambda t, x: x  # noqa: E731
    with pytest.raises(ValueError, match=r"dW must have shape \(n_paths, 10\)"):
        euler_maruyama(a, a, 1.0, 1.0, 10, dW=np.zeros((3, 9)))
    with pytest.raises(ValueError, match="T must be positive"):
        milstein(a, a, 1.0, -1.0, 10)
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        euler_maruyama(a, a, 1.0, 1.0, 0)
    with pytest.raises(TypeError, match="drift must be a callable"):
        euler_maruyama(1.0, a, 1.0, 1.0, 10)
    with pytest.raises(ValueError, match="unknown method"):
        strong_error("heun", a, a, 1.0, 1.0, lambda T, W: W)
    with pytest.raises(ValueError, match="must divide the largest"):
        strong_error("milstein", a, a, 1.0, 1.0, lambda T, W: W, n_steps=(3, 8))
    with pytest.raises(ValueError, match="shape must be a tuple of positive integers"):
        brownian_path(1.0, 4, shape=(0,))
