"""The natural-gradient and TV-denoising examples: their core functions against closed forms,
hand-derived gradients and finite differences."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import slopes as sl

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ng = _load("natural_gradient")
tv = _load("tv_denoising")

# ---------------------------------------------------------------- natural gradient


@pytest.fixture(scope="module")
def gaussian_data():
    return 3.0 + 5.0 * np.random.default_rng(0).standard_normal(1000)


def test_per_sample_scores_match_hand_derivation():
    theta = np.array([0.7, math.log(1.5)])
    x = np.array([-1.0, 0.0, 0.7, 2.5])
    sigma2 = 1.5**2
    # d/dmu log p = (x - mu) / sigma^2,  d/ds log p = (x - mu)^2 / sigma^2 - 1
    expected = np.stack([(x - 0.7) / sigma2, (x - 0.7) ** 2 / sigma2 - 1.0], axis=1)
    np.testing.assert_allclose(ng.scores(theta, x), expected, rtol=1e-12)


def test_fisher_from_scores_matches_closed_form():
    theta = np.array([1.0, math.log(2.0)])
    F, outer = ng.fisher_monte_carlo(theta, 20_000, seed=1)
    F_exact = np.diag([1 / 4.0, 2.0])  # diag(1 / sigma^2, 2)
    np.testing.assert_allclose(ng.fisher_closed_form(theta), F_exact, rtol=1e-14)
    se = outer.std(axis=0) / math.sqrt(outer.shape[0])  # Monte Carlo error of each entry
    assert np.all(np.abs(F - F_exact) < 4 * se)


def test_hessian_at_the_mle_equals_the_fisher(gaussian_data):
    # at the MLE the observed information equals F(theta) exactly: diag(1 / sigma^2, 2)
    mle = np.array([gaussian_data.mean(), math.log(gaussian_data.std())])
    H = sl.hessian(ng.neg_log_likelihood)(mle, gaussian_data)
    np.testing.assert_allclose(H, ng.fisher_closed_form(mle), rtol=1e-10, atol=1e-12)


def test_natural_gradient_reaches_the_mle_in_far_fewer_steps(gaussian_data):
    mle = np.array([gaussian_data.mean(), math.log(gaussian_data.std())])  # closed form
    theta0 = np.array([0.0, 1.0])
    th_gd, n_gd, _ = ng.fit(gaussian_data, theta0, natural=False, learning_rate=0.9)
    th_ng, n_ng, losses = ng.fit(gaussian_data, theta0, natural=True, learning_rate=1.0)
    np.testing.assert_allclose(th_gd, mle, atol=1e-6)
    np.testing.assert_allclose(th_ng, mle, atol=1e-6)
    assert n_gd < 20_000 and n_ng * 20 < n_gd  # measured: 7 vs 427 iterations
    assert losses[-1] <= losses[0]


# ---------------------------------------------------------------- TV denoising


def _tv_grad_by_hand(u, f, lam, eps):
    """u - f + lam (Dx^T (w dx) + Dy^T (w dy)), w = 1 / sqrt(dx^2 + dy^2 + eps^2), in plain NumPy."""
    dx = np.zeros_like(u)
    dy = np.zeros_like(u)
    dx[:, :-1] = u[:, 1:] - u[:, :-1]
    dy[:-1, :] = u[1:, :] - u[:-1, :]
    w = 1.0 / np.sqrt(dx**2 + dy**2 + eps**2)
    qx, qy = w * dx, w * dy  # zero on the last column / row, where the difference is fixed at 0
    gx, gy = -qx, -qy
    gx[:, 1:] += qx[:, :-1]
    gy[1:, :] += qy[:-1, :]
    return u - f + lam * (gx + gy)


def test_tv_gradient_matches_hand_formula_and_finite_differences():
    rng = np.random.default_rng(3)
    _, f = tv.make_image(n=16, seed=2)
    u = f + 0.05 * rng.standard_normal(f.shape)
    lam, eps = 0.08, 0.01
    g = sl.grad(tv.tv_energy)(u, f, lam, eps)
    np.testing.assert_allclose(g, _tv_grad_by_hand(u, f, lam, eps), rtol=1e-10, atol=1e-12)
    # central differences of the energy along random directions
    for _ in range(3):
        v = rng.standard_normal(u.shape)
        h = 1e-6
        fd = (tv.tv_energy(u + h * v, f, lam, eps) - tv.tv_energy(u - h * v, f, lam, eps)) / (2 * h)
        assert float(fd) == pytest.approx(float(np.sum(g * v)), rel=1e-6)


def test_tv_denoising_improves_psnr():
    clean, noisy = tv.make_image(n=64, noise=0.1, seed=0)
    u, result = tv.denoise(noisy, lam=0.08, eps=0.01)
    assert result.success
    before, after = tv.psnr(noisy, clean), tv.psnr(u, clean)
    assert after >= before + 3.0  # measured: 20.0 -> 31.6 dB
    # PSNR by its definition, in plain NumPy
    assert after == pytest.approx(10 * np.log10(1.0 / np.mean((u - clean) ** 2)))
    # the minimizer has a lower energy than the noisy image and the clean one
    e = lambda w: float(tv.tv_energy(w, noisy, 0.08, 0.01))  # noqa: E731
    assert e(u) < e(noisy) and e(u) < e(clean)


def test_examples_run(capsys):
    ng.main()
    tv.main()
    out = capsys.readouterr().out
    assert "natural gradient" in out and "PSNR denoised" in out
