"""slopes.analysis.convexity: sampled convexity checks against closed-form Hessians and gaps."""

import numpy as np
import pytest

import slopes.numpy as snp
from slopes.analysis import convexity, first_order_gap

THETA = 0.3
R = np.array([[np.cos(THETA), -np.sin(THETA)], [np.sin(THETA), np.cos(THETA)]])
Q = R @ np.diag([1.0, 5.0]) @ R.T  # eigenvalues 1 and 5 by construction
C = np.array([0.5, -1.0])


def quad(x):
    return 0.5 * x @ Q @ x + C @ x


def rosen(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosen_grad(x):  # by hand
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosen_hess(x):  # by hand
    return np.array([[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]], [-400 * x[0], 200.0]])


def test_convex_quadratic_mu_is_the_smallest_eigenvalue():
    r = convexity(quad, [(-2, 2), (-2, 2)], n_samples=32)
    assert r.no_counterexample and r.counterexample is None
    assert r.mu == pytest.approx(1.0, abs=1e-12)
    assert r.min_eigenvalue == pytest.approx(1.0, abs=1e-12)
    assert r.min_gap > 0


def test_log_sum_exp_is_convex_but_not_strongly():
    # Hessian diag(p) - p p^T has the null vector (1, ..., 1): smallest eigenvalue exactly 0
    r = convexity(lambda x: snp.logsumexp(x), [(-3, 3)] * 3, n_samples=64)
    assert r.no_counterexample
    assert r.mu == 0.0 and abs(r.min_eigenvalue) < 1e-12
    p = np.exp(r.x_min_eigenvalue - np.max(r.x_min_eigenvalue))
    p /= p.sum()
    H = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(H @ np.ones(3), 0.0, atol=1e-15)


def test_rosenbrock_counterexample_checked_by_hand():
    r = convexity(rosen, [(-2, 2), (-1, 3)], n_samples=64)
    assert not r.no_counterexample
    x, y = r.counterexample
    gap = rosen(y) - rosen(x) - rosen_grad(x) @ (y - x)
    assert gap < -1e-6
    assert r.min_gap == pytest.approx(min(r.min_gap, gap))
    w = np.linalg.eigvalsh(rosen_hess(r.x_min_eigenvalue))
    assert r.min_eigenvalue == pytest.approx(w[0], rel=1e-10) and w[0] < 0
    for p in (x, y):
        assert -2 <= p[0] <= 2 and -1 <= p[1] <= 3


def test_counterexample_built_along_the_negative_eigenvector():
    # one random pair only: the counterexample must then come from the Hessian
    f = lambda x: x[0] ** 2 + 0.3 * snp.cos(5 * x[0])  # f'' = 2 - 7.5 cos(5x) < 0 near 0
    r = convexity(f, [(-1, 1)], n_samples=64, n_pairs=1)
    assert r.min_eigenvalue == pytest.approx(2 - 7.5 * np.cos(5 * r.x_min_eigenvalue[0]), rel=1e-12)
    assert r.min_eigenvalue < 0 and not r.no_counterexample
    x, y = r.counterexample
    fh = lambda t: t**2 + 0.3 * np.cos(5 * t)
    dfh = lambda t: 2 * t - 1.5 * np.sin(5 * t)
    assert fh(y[0]) - fh(x[0]) - dfh(x[0]) * (y[0] - x[0]) < 0


def test_quartic_convex_with_mu_tending_to_zero():
    mus = []
    for n in (16, 256):
        r = convexity(lambda x: x[0] ** 4, [(-1, 1)], n_samples=n)
        assert r.no_counterexample
        assert r.mu == pytest.approx(12 * r.x_min_eigenvalue[0] ** 2, rel=1e-12)  # f'' = 12 x^2
        mus.append(r.mu)
    assert mus[1] < mus[0] and mus[1] < 1e-3


def test_first_order_gap_closed_form_and_errors():
    x, y = np.array([1.0, -1.0]), np.array([0.5, 2.0])
    d = y - x
    assert first_order_gap(quad, x, y) == pytest.approx(0.5 * d @ Q @ d, rel=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        first_order_gap(quad, x, np.zeros(3))
    with pytest.raises(ValueError, match="n_samples"):
        convexity(quad, [(-1, 1), (-1, 1)], n_samples=0)
    with pytest.raises(ValueError, match="tol"):
        convexity(quad, [(-1, 1), (-1, 1)], tol=float("nan"))


def test_seeded_and_warning_free_on_a_wide_box():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # exp underflow to 0 is fine
        a = convexity(lambda x: snp.logsumexp(x), [(-1e3, 1e3)] * 2, n_samples=16, seed=1)
    b = convexity(lambda x: snp.logsumexp(x), [(-1e3, 1e3)] * 2, n_samples=16, seed=1)
    assert a.no_counterexample and a.min_gap == b.min_gap
