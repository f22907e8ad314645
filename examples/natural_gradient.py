"""Natural gradient descent vs plain gradient descent on a Gaussian's maximum likelihood.

The model is x ~ N(mu, sigma^2) with parameters theta = (mu, s), s = log sigma. Its Fisher
information per observation is known in closed form, F(theta) = diag(1 / sigma^2, 2); here it
is also estimated as E[grad log p grad log p^T] from per-sample scores (sl.vmap of sl.grad).
Natural gradient descent steps along F^{-1} grad: the geometry of the model, not of the
coordinates, sets the step, so a badly scaled parametrization no longer slows it down.

Run: python examples/natural_gradient.py
"""

from __future__ import annotations

import math

import numpy as np

import slopes as sl
import slopes.numpy as snp


def log_density(theta, x):
    """log N(x; mu, exp(s)^2) for one observation ``x``, theta = (mu, s)."""
    mu, s = theta[0], theta[1]
    return -s - 0.5 * (x - mu) ** 2 * snp.exp(-2.0 * s) - 0.5 * math.log(2.0 * math.pi)


def neg_log_likelihood(theta, data):
    """Mean negative log-likelihood of the observations ``data``."""
    return -snp.mean(log_density(theta, data))


def fisher_closed_form(theta):
    """F(theta) = diag(1 / sigma^2, 2), per observation."""
    return np.diag([math.exp(-2.0 * theta[1]), 2.0])


def scores(theta, x):
    """Per-sample gradients of ``log_density`` with respect to theta, shape (len(x), 2)."""
    return sl.vmap(sl.grad(log_density), in_axes=(None, 0))(np.asarray(theta, float), np.asarray(x, float))


def fisher_monte_carlo(theta, n_samples, seed=0):
    """E[score score^T] with x drawn from the model at theta; also returns the per-sample products."""
    rng = np.random.default_rng(seed)
    x = theta[0] + math.exp(theta[1]) * rng.standard_normal(n_samples)
    g = scores(theta, x)
    outer = g[:, :, None] * g[:, None, :]
    return outer.mean(axis=0), outer


def fit(data, theta0, *, natural, learning_rate, gtol=1e-8, maxiter=20_000):
    """Minimize the negative log-likelihood by (natural) gradient descent.

    Returns (theta, iterations until max|grad| <= gtol (or maxiter), losses).
    """
    grad = sl.jit(sl.grad(neg_log_likelihood))
    theta = np.asarray(theta0, dtype=float)
    losses = []
    for it in range(maxiter):
        g = grad(theta, data)
        losses.append(float(neg_log_likelihood(theta, data)))
        if np.max(np.abs(g)) <= gtol:
            return theta, it, losses
        step = np.linalg.solve(fisher_closed_form(theta), g) if natural else g
        theta = theta - learning_rate * step
    return theta, maxiter, losses


def main():
    rng = np.random.default_rng(0)
    data = 3.0 + 5.0 * rng.standard_normal(1000)  # mu = 3, sigma = 5: F = diag(0.04, 2) at the optimum
    mle = np.array([data.mean(), math.log(data.std())])
    theta0 = np.array([0.0, 1.0])
    print(f"closed-form MLE: mu = {mle[0]:.6f}, log sigma = {mle[1]:.6f}")
    # GD: the curvature in s is 2 at the optimum, so steps above 1 diverge; in mu it is 1/sigma^2 = 0.04
    for name, natural, lr in [("gradient descent", False, 0.9), ("natural gradient", True, 1.0)]:
        theta, n_iter, _ = fit(data, theta0, natural=natural, learning_rate=lr)
        print(f"{name:>17}: {n_iter:5d} iterations, theta = {theta}")
    F_mc, _ = fisher_monte_carlo(mle, 100_000)
    print("Fisher at the MLE, closed form:\n", fisher_closed_form(mle))
    print("Fisher at the MLE, E[score score^T] from 100000 samples:\n", F_mc)


if __name__ == "__main__":
    main()
