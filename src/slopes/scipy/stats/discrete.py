"""Discrete families on the integers: ``bernoulli``, ``geom``, ``poisson``, ``binom``, ``nbinom``.

Each is written for integers ``k`` inside its support; :func:`._family.discrete` adds SciPy's
signature, ``loc``, parameter checks, the support and the lattice (``logpmf = -inf`` off the
integers, ``cdf(k) = cdf(floor(k))``). All are differentiable in the parameters. In ``k``,
``logpmf`` has the derivative of its analytic continuation (the Gamma-function form, as
JAX's), and ``cdf``/``sf`` are step functions (derivative 0).
"""

from __future__ import annotations

import math

from ... import numpy as snp
from ._family import Shape, discrete, doctests

__all__ = ["bernoulli", "geom", "poisson", "binom", "nbinom"]


def _special():
    from .. import special  # loaded on first use: only some families need it

    return special


def _probability(name, closed_below=True):
    low = snp.greater_equal if closed_below else snp.greater
    return Shape(name, lambda v: snp.logical_and(low(v, 0), snp.less_equal(v, 1)), 0.5,
                 "probability, in [0, 1]" if closed_below else "probability, in (0, 1]")


def _xlog1py(k, p):
    """``k * log1p(-p)``, taken as 0 where ``k == 0`` (also at ``p = 1``, where the log is -inf)."""
    return _special().xlog1py(k, -p)


bernoulli = discrete(
    "bernoulli", __name__,
    {
        "logpmf": lambda k, p: _special().xlogy(k, p) + _xlog1py(1.0 - k, p),
        "cdf": lambda k, p: 1.0 - p,
        "logcdf": lambda k, p: snp.log1p(-p),
        "sf": lambda k, p: p,
        "logsf": lambda k, p: snp.log(p),
    },
    shapes=(_probability("p"),), support=lambda p: (0.0, 1.0),
    notes="The Bernoulli law: 1 with probability ``p``, else 0.", example="1, 0.3",
)


def _geom_logsf(k, p):
    return k * snp.log1p(-p)  # k >= 1 here, so 0 * -inf cannot arise at p = 1


geom = discrete(
    "geom", __name__,
    {
        "logpmf": lambda k, p: _xlog1py(k - 1.0, p) + snp.log(p),
        "cdf": lambda k, p: -snp.expm1(_geom_logsf(k, p)),
        "logsf": _geom_logsf,
    },
    shapes=(_probability("p", closed_below=False),), support=lambda p: (1.0, math.inf),
    notes="The geometric law: the number of trials up to the first success, support ``k >= 1``.",
    example="3, 0.3",
)


def _poisson_logpmf(k, mu):
    sp = _special()
    return sp.xlogy(k, mu) - mu - sp.gammaln(k + 1.0)


poisson = discrete(
    "poisson", __name__,
    {
        "logpmf": _poisson_logpmf,
        "cdf": lambda k, mu: _special().gammaincc(k + 1.0, mu),
        "sf": lambda k, mu: _special().gammainc(k + 1.0, mu),
    },
    shapes=(Shape("mu", lambda v: snp.greater_equal(v, 0), 1.0, "mean, >= 0"),),
    support=lambda mu: (0.0, math.inf),
    notes="The Poisson law with mean ``mu``.", example="3, 2.5",
)


def _binom_logpmf(k, n, p):
    sp = _special()
    return (sp.gammaln(n + 1.0) - sp.gammaln(k + 1.0) - sp.gammaln(n - k + 1.0)
            + sp.xlogy(k, p) + _xlog1py(n - k, p))


def _count(v):
    return snp.logical_and(snp.greater_equal(v, 0), snp.equal(snp.floor(v), v))


# the shapes of the incomplete beta function are constants in slopes.scipy.special
_NOT_IN_N = ", except in ``n`` (a shape of ``betainc``, constant in slopes.scipy.special)"

binom = discrete(
    "binom", __name__,
    {
        "logpmf": _binom_logpmf,
        # P(K <= k) = I_{1-p}(n - k, k + 1), for 0 <= k < n
        "cdf": lambda k, n, p: _special().betainc(n - k, k + 1.0, 1.0 - p),
        "sf": lambda k, n, p: _special().betainc(k + 1.0, n - k, p),
    },
    shapes=(Shape("n", _count, 1.0, "number of trials, an integer >= 0"), _probability("p")),
    support=lambda n, p: (0.0, n), cdf_limits=_NOT_IN_N,
    notes="The binomial law: successes in ``n`` trials of probability ``p`` (differentiable in ``p``).",
    example="3, 10, 0.4",
)


def _nbinom_logpmf(k, n, p):
    sp = _special()
    return sp.gammaln(n + k) - sp.gammaln(k + 1.0) - sp.gammaln(n) + n * snp.log(p) + _xlog1py(k, p)


nbinom = discrete(
    "nbinom", __name__,
    {
        "logpmf": _nbinom_logpmf,
        # P(K <= k) = I_p(n, k + 1)
        "cdf": lambda k, n, p: _special().betainc(n, k + 1.0, p),
        "sf": lambda k, n, p: _special().betaincc(n, k + 1.0, p),
    },
    shapes=(Shape("n", lambda v: snp.greater(v, 0), 1.0, "number of successes, > 0"),
            _probability("p", closed_below=False)),
    support=lambda n, p: (0.0, math.inf), cdf_limits=_NOT_IN_N,
    notes="The negative binomial law: failures before the ``n``-th success (``n`` may be real).",
    example="3, 4.0, 0.4",
)

__test__ = doctests(bernoulli, geom, poisson, binom, nbinom)
