"""Continuous families on the real line: ``norm``, ``t``, ``cauchy``, ``laplace``, ``logistic``,
``expon``, ``gamma``, ``chi2``, ``beta``, ``lognorm``, ``uniform``.

Each is written in standard form (``z = (x - loc) / scale``) for points inside its support;
:func:`._family.continuous` adds SciPy's signature, ``loc``/``scale``, parameter checks and
the support. Formulas stay in log space and use each tail's own expression, so values
match SciPy's far into both tails and the derivatives never see a branch not taken.
"""

from __future__ import annotations

import math

from ... import numpy as snp
from ...core.ops.special import stdtr, t_log_density
from ._family import Shape, continuous, doctests

__all__ = ["norm", "t", "cauchy", "laplace", "logistic", "expon", "gamma", "chi2", "beta", "lognorm",
           "uniform"]

_LOG_2PI_HALF = 0.5 * math.log(2 * math.pi)
_LOG2 = math.log(2.0)


def _special():
    from .. import special  # loaded on first use: only some families need it

    return special


# the incomplete gamma and beta functions of slopes.scipy.special have no derivative in their shapes
_NOT_IN_SHAPE = ", except in ``{}`` (a shape of ``{}``, constant in slopes.scipy.special)"


def _positive(name, doc):
    return Shape(name, lambda v: snp.greater(v, 0), 1.0, doc)


def _exp_minus_abs(z):
    """``exp(-|z|)``, with the one-sided derivatives that each side of 0 has (none is lost at 0)."""
    return snp.exp(snp.where(snp.less(z, 0), z, -z))


# -- symmetric families --------------------------------------------------------------------
def _norm_logpdf(z):
    return -0.5 * z * z - _LOG_2PI_HALF


norm = continuous(
    "norm", __name__,
    {"logpdf": _norm_logpdf, "cdf": lambda z: _special().ndtr(z), "logcdf": lambda z: _special().log_ndtr(z)},
    symmetric=True,
    notes="The normal law; ``logcdf`` and ``logsf`` stay accurate far into the tails (``log_ndtr``).",
)


def _t_logpdf(z, df):
    return t_log_density(df, z)


def _t_cdf(z, df):
    # SciPy's own t cdf, one primitive whose z-derivative is the density (smooth at 0 too)
    return stdtr(df, z)


t = continuous(
    "t", __name__, {"logpdf": _t_logpdf, "cdf": _t_cdf}, shapes=(_positive("df", "degrees of freedom, > 0"),),
    symmetric=True, cdf_limits=", except in ``df`` (constant, as in SciPy's ``stdtr``)",
    notes="Student's t law.", example="0.5, 3.0",
)

cauchy = continuous(
    "cauchy", __name__,
    # arctan2(1, -z) / pi is the cdf without the cancellation of 1/2 + arctan(z) / pi as z -> -inf
    {"logpdf": lambda z: -math.log(math.pi) - snp.log1p(z * z), "cdf": lambda z: snp.arctan2(1.0, -z) / math.pi},
    symmetric=True,
    notes="The Cauchy law.",
)

laplace = continuous(
    "laplace", __name__,
    {
        "logpdf": lambda z: -snp.abs(z) - _LOG2,
        "cdf": lambda z: snp.where(snp.less(z, 0), 0.5 * _exp_minus_abs(z), 1.0 - 0.5 * _exp_minus_abs(z)),
        "logcdf": lambda z: snp.where(snp.less(z, 0), z - _LOG2, snp.log1p(-0.5 * _exp_minus_abs(z))),
    },
    symmetric=True,
    notes="The Laplace (double exponential) law. At ``x = loc`` the derivative of ``logpdf`` "
    "in ``x`` and ``loc`` is taken to be 0, slopes' convention for ``abs`` at 0: a valid "
    "subgradient, where the mode is stationary (JAX returns one side's derivative, -1).",
)


def _logistic_logcdf(z):
    return -snp.logaddexp(0.0, -z)


logistic = continuous(
    "logistic", __name__,
    {"logpdf": lambda z: _logistic_logcdf(z) + _logistic_logcdf(-z), "logcdf": _logistic_logcdf},
    symmetric=True,
    notes="The logistic law (its cdf is the sigmoid).",
)

# -- families on a half-line or an interval -------------------------------------------------------
expon = continuous(
    "expon", __name__,
    {"logpdf": lambda z: -z, "cdf": lambda z: -snp.expm1(-z), "sf": lambda z: snp.exp(-z), "logsf": lambda z: -z},
    support=(0.0, math.inf), inside=1.0,
    notes="The exponential law, support ``x >= loc``.",
)


def _gamma_logpdf(z, a):
    sp = _special()
    return sp.xlogy(a - 1.0, z) - z - sp.gammaln(a)


_GAMMA = {
    "logpdf": _gamma_logpdf,
    "cdf": lambda z, a: _special().gammainc(a, z),
    "sf": lambda z, a: _special().gammaincc(a, z),
}


gamma = continuous(
    "gamma", __name__, _GAMMA, shapes=(_positive("a", "shape, > 0"),), support=(0.0, math.inf), inside=1.0,
    cdf_limits=_NOT_IN_SHAPE.format("a", "gammainc"),
    notes="The gamma law, support ``x >= loc``; at ``x = loc`` the density is "
    "infinite, 1/scale or 0 as ``a`` is below, at or above 1, as SciPy.",
    example="1.5, 2.0",
)

# chi2(df) is gamma(df / 2) at scale 2
chi2 = continuous(
    "chi2", __name__,
    {
        "logpdf": lambda z, df: _gamma_logpdf(0.5 * z, 0.5 * df) - _LOG2,
        "cdf": lambda z, df: _GAMMA["cdf"](0.5 * z, 0.5 * df),
        "sf": lambda z, df: _GAMMA["sf"](0.5 * z, 0.5 * df),
    },
    shapes=(_positive("df", "degrees of freedom, > 0"),), support=(0.0, math.inf), inside=1.0,
    cdf_limits=_NOT_IN_SHAPE.format("df", "gammainc"),
    notes="The chi-squared law, support ``x >= loc``.", example="1.5, 3.0",
)


def _beta_logpdf(z, a, b):
    sp = _special()
    return sp.xlogy(a - 1.0, z) + sp.xlog1py(b - 1.0, -z) - sp.betaln(a, b)


beta = continuous(
    "beta", __name__,
    {
        "logpdf": _beta_logpdf,
        "cdf": lambda z, a, b: _special().betainc(a, b, z),
        "sf": lambda z, a, b: _special().betaincc(a, b, z),
    },
    shapes=(_positive("a", "first shape, > 0"), _positive("b", "second shape, > 0")),
    support=(0.0, 1.0), inside=0.5, cdf_limits=_NOT_IN_SHAPE.format("a and b", "betainc"),
    notes="The beta law, support ``loc <= x <= loc + scale``.", example="0.3, 2.0, 3.0",
)


def _lognorm_logpdf(z, s):
    log_z = snp.log(z)
    return _norm_logpdf(log_z / s) - snp.log(s) - log_z


lognorm = continuous(
    "lognorm", __name__,
    {
        "logpdf": _lognorm_logpdf,
        "cdf": lambda z, s: _special().ndtr(snp.log(z) / s),
        "logcdf": lambda z, s: _special().log_ndtr(snp.log(z) / s),
        "sf": lambda z, s: _special().ndtr(-snp.log(z) / s),
        "logsf": lambda z, s: _special().log_ndtr(-snp.log(z) / s),
    },
    shapes=(_positive("s", "shape (the standard deviation of log x), > 0"),),
    support=(0.0, math.inf), inside=1.0, open_below=True,
    notes="The log-normal law: ``log((x - loc) / scale)`` is normal with standard deviation ``s``.",
    example="1.5, 0.7",
)

uniform = continuous(
    "uniform", __name__,
    {"logpdf": lambda z: 0.0 * z, "cdf": lambda z: z, "sf": lambda z: 1.0 - z},
    support=(0.0, 1.0), inside=0.5,
    notes="The uniform law on ``[loc, loc + scale]``.",
)

__test__ = doctests(norm, t, cauchy, laplace, logistic, expon, gamma, chi2, beta, lognorm, uniform)
