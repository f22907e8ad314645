"""The optimizer exercises of the source material, as checks.

"Implement Adam from scratch in NumPy on a toy quadratic; verify it converges faster than
SGD", and "minimize the elongated bowl x^2 + 10 y^2 with vanilla SGD and with momentum".
"""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

CURV = np.array([1.0, 100.0])  # f(x) = 1/2 sum CURV x^2: condition number 100


def quadratic(x):
    return 0.5 * snp.sum(CURV * x * x)


def adam_from_scratch(grad, x0, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """Kingma & Ba's Algorithm 1, line by line, in plain NumPy."""
    x, m, v, path = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), [x0.copy()]
    for t in range(1, steps + 1):
        g = grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(x.copy())
    return np.array(path)


def steps_to(fs, tol):
    below = np.flatnonzero(np.asarray(fs) < tol)
    return int(below[0]) if below.size else None


def test_slopes_adam_follows_the_from_scratch_algorithm():
    x0 = np.array([1.0, 1.0])
    ref = adam_from_scratch(lambda x: CURV * x, x0, 0.1, 60)
    opt, x = sl.optim.adam(0.1), x0.copy()
    state = opt.init(x)
    for k in range(60):
        upd, state = opt.update(sl.grad(quadratic)(x), state, x)
        x = sl.optim.apply_updates(x, upd)
        np.testing.assert_allclose(x, ref[k + 1], rtol=1e-12, atol=1e-15)


def test_adam_converges_faster_than_sgd_on_a_toy_quadratic():
    x0 = np.array([1.0, 1.0])
    tol = 1e-6
    # SGD at its best fixed step for a quadratic, 2 / (L + mu): rate (kappa - 1) / (kappa + 1)
    gd = sl.minimize(quadratic, x0, method="gd", learning_rate=2 / (CURV.max() + CURV.min()), maxiter=2000,
                     gtol=1e-14)
    adam = sl.minimize(quadratic, x0, method="adam", learning_rate=0.1, maxiter=2000, gtol=1e-14)
    n_gd, n_adam = steps_to(gd.history.f, tol), steps_to(adam.history.f, tol)
    # the predicted GD count: both coordinates contract by 99/101 per step, f by its square
    predicted = np.log(tol / quadratic(x0)) / (2 * np.log(99 / 101))
    assert n_gd == pytest.approx(predicted, abs=2)
    assert n_adam is not None and 3 * n_adam < n_gd, (n_adam, n_gd)


def test_momentum_crosses_the_elongated_bowl_faster_than_sgd():
    bowl = lambda p: p[0] ** 2 + 10 * p[1] ** 2  # noqa: E731
    x0 = np.array([-3.0, -1.0])
    L, mu = 20.0, 2.0  # the Hessian's eigenvalues
    # each at its best fixed parameters: GD rate (kappa-1)/(kappa+1) = 0.818, heavy ball
    # (sqrt(kappa)-1)/(sqrt(kappa)+1) = 0.519 (Polyak's tuning)
    lr_gd = 2 / (L + mu)
    lr_hb = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)) ** 2
    sgd = sl.minimize(bowl, x0, method="gd", learning_rate=lr_gd, maxiter=2000, gtol=1e-14, record_x=True)
    mom = sl.minimize(bowl, x0, method="momentum", learning_rate=lr_hb, beta=beta, maxiter=2000, gtol=1e-14)
    n_sgd, n_mom = steps_to(sgd.history.f, 1e-10), steps_to(mom.history.f, 1e-10)
    assert n_mom < 0.6 * n_sgd, (n_mom, n_sgd)
    # SGD along the flat axis: x_k = -3 (1 - 2 lr)^k exactly
    k = np.arange(20)
    np.testing.assert_allclose(sgd.history.x[:20, 0], -3 * (1 - 2 * lr_gd) ** k, rtol=1e-12)
    # the observed per-step contraction of |x| matches the predicted rates
    rate = lambda fs: (fs[60] / fs[40]) ** (1 / 20)  # noqa: E731  (f contracts by rate^2 per step)
    assert np.sqrt(rate(sgd.history.f)) == pytest.approx(9 / 11, rel=0.02)
    assert np.sqrt(rate(mom.history.f)) == pytest.approx((np.sqrt(10) - 1) / (np.sqrt(10) + 1), rel=0.1)
