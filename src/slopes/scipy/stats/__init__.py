"""``slopes.scipy.stats``: SciPy's distributions, differentiable in the data and the parameters.

Each family is a namespace of functions with SciPy's signatures (shape parameters
positionally, then ``loc`` and ``scale``), as ``jax.scipy.stats`` offers them::

    stats.norm.logpdf(x, loc=0, scale=1)        stats.gamma.logcdf(x, a, loc=0, scale=1)
    stats.poisson.logpmf(k, mu, loc=0)          stats.multivariate_normal.logpdf(x, mean, cov)

Continuous families offer ``logpdf, pdf, cdf, logcdf, sf, logsf``; discrete ones
``logpmf, pmf, cdf, logcdf, sf, logsf``. Values match SciPy's (NaN for invalid
parameters, ``-inf`` log density outside the support, with derivative 0 there).

Examples
--------
>>> import slopes as sl
>>> from slopes.scipy import stats
>>> data = np.array([0.5, 1.5, 2.5])
>>> nll = lambda mu: -sl.numpy.sum(stats.norm.logpdf(data, loc=mu))
>>> float(sl.grad(nll)(0.0))   # -(sum of x - mu)
-4.5
"""

from __future__ import annotations

from .continuous import beta, cauchy, chi2, expon, gamma, laplace, logistic, lognorm, norm, t, uniform
from .discrete import bernoulli, binom, geom, nbinom, poisson
from .multivariate import dirichlet, multivariate_normal

__all__ = [
    "norm", "t", "cauchy", "laplace", "logistic", "expon", "gamma", "beta", "chi2", "lognorm", "uniform",
    "multivariate_normal", "dirichlet",
    "poisson", "bernoulli", "binom", "geom", "nbinom",
]
