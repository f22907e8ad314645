"""Fit a damped oscillator's damping ratio and frequency to noisy observations of its position.

The model is x'' + 2 zeta omega x' + omega^2 x = 0, solved by ``slopes.integrate.odeint``
(SciPy's LSODA). The loss, the mean squared error against the data, is differentiated by the
adjoint method (one backward ODE solve per gradient, whatever the number of parameters), and
``sl.minimize`` runs L-BFGS on it.

Run: python examples/ode_fit.py
"""

from __future__ import annotations

import numpy as np

import slopes as sl
import slopes.numpy as snp
from slopes.integrate import odeint

TRUE_PARAMS = np.array([0.15, 2.0])  # zeta (damping ratio), omega (natural frequency)
Y0 = np.array([1.0, 0.0])  # released at rest from x = 1
TIMES = np.linspace(0.0, 10.0, 41)
START = np.array([0.4, 1.7])
TOLERANCES = dict(rtol=1e-10, atol=1e-10)


def oscillator(y, t, zeta, omega):
    """d/dt (x, v) for the damped oscillator."""
    return snp.stack([y[1], -2.0 * zeta * omega * y[1] - omega**2 * y[0]])


def positions(params):
    """x(t) at ``TIMES`` for params = (zeta, omega)."""
    return odeint(oscillator, Y0, TIMES, args=(params[0], params[1]), **TOLERANCES)[:, 0]


def observations(seed=0, noise=0.02):
    """The true positions plus Gaussian noise of standard deviation ``noise``."""
    rng = np.random.default_rng(seed)
    return positions(TRUE_PARAMS) + noise * rng.standard_normal(TIMES.size)


DATA = observations()


def loss(params):
    """Mean squared error between the model's positions and the data."""
    return snp.mean((positions(params) - DATA) ** 2)


def fit():
    """L-BFGS from ``START``; returns sl.minimize's Result."""
    return sl.minimize(loss, START, method="lbfgs", gtol=1e-8, maxiter=200)


if __name__ == "__main__":
    result = fit()
    print(f"true   zeta, omega = {TRUE_PARAMS}")
    print(f"fitted zeta, omega = {np.round(result.x, 4)}")
    print(f"{result.nit} iterations, {result.nfev} evaluations")
    print(f"loss {result.fun:.3e} (noise variance 4.0e-04), |grad| {np.linalg.norm(result.grad):.1e}")
