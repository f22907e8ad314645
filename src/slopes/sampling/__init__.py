"""Sampling and stochastic calculus: Hamiltonian Monte Carlo and SDE solvers.

>>> import slopes as sl, slopes.numpy as snp
>>> r = sl.sampling.hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(1), n_samples=200, n_steps=5, seed=0)
>>> r.samples.shape
(200, 1)
"""

from . import diagnostics
from .hmc import ChainsResult, HMCResult, effective_sample_size, hmc, hmc_chains, leapfrog
from .sde import (
    BrownianPath,
    SDESolution,
    StrongError,
    brownian_path,
    euler_maruyama,
    milstein,
    strong_error,
)

__all__ = [
    "BrownianPath",
    "ChainsResult",
    "HMCResult",
    "SDESolution",
    "StrongError",
    "brownian_path",
    "diagnostics",
    "effective_sample_size",
    "euler_maruyama",
    "hmc",
    "hmc_chains",
    "leapfrog",
    "milstein",
    "strong_error",
]
