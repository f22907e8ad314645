"""Integrals and expectations: quadrature, Monte Carlo, CDFs and moments of a density.

The integrals of probability -- a CDF is the integral of the PDF, an
expectation ``E[g(X)] = int g(x) p(x) dx``, the moments are expectations of
powers -- computed two ways:

* deterministically, by adaptive quadrature (:func:`scipy.integrate.quad`,
  :func:`scipy.integrate.nquad`), with scipy's estimate of the absolute error;
* by Monte Carlo, the sample mean of ``g`` over draws, with its standard error
  ``std / sqrt(n)`` -- the error shrinks like ``1 / sqrt(n)`` whatever the
  dimension, which is why ML estimates expectations (losses, ELBOs, policy
  gradients) this way.

A distribution is either a frozen :mod:`scipy.stats` distribution (its support
gives the integration bounds, its ``rvs`` the samples) or a plain callable
density ``pdf(x)`` on explicit ``bounds``.

>>> from scipy import stats
>>> value, err = expectation(lambda x: x**2, stats.norm(1.0, 2.0))   # mu^2 + sigma^2
>>> round(value, 10), err < 1e-6
(5.0, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "integrate",
    "integrate_nd",
    "monte_carlo",
    "MonteCarloEstimate",
    "expectation",
    "cdf_from_pdf",
    "moments",
    "Moments",
]


# ---------------------------------------------------------------- helpers



def _scipy_integrate():
    """scipy.integrate, imported on first use (it would add ~0.4 s to `import slopes`)."""
    from scipy import integrate

    return integrate

def _as_rng(seed) -> np.random.Generator:
    """``seed`` (None, an int, a SeedSequence or a Generator) as a :class:`numpy.random.Generator`."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        raise TypeError("seed must be None, an int or a numpy.random.Generator (not a legacy RandomState)")
    return np.random.default_rng(seed)


def _check_n(n, name, minimum=2, what="n (the number of samples)"):
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise ValueError(f"{name}(): {what} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_callable(f, name, what="f"):
    if not callable(f):
        raise TypeError(f"{name}() expects a callable {what}, got {type(f).__name__}")


def _scalar(f, name):
    """Wrap ``f`` so that quadrature gets a Python float, with a clear error for non-scalar output."""

    def call(*x):
        out = np.asarray(f(*x))
        if out.size != 1:
            raise ValueError(
                f"{name}(): the integrand must return one number per point, got an output of shape "
                f"{out.shape}; integrate each component separately"
            )
        return float(out.reshape(()))

    return call


def _bound(v, name, which):
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name}(): the {which} bound must be a real number (or +-inf), got {v!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name}(): the {which} bound is NaN")
    return v


def _is_scipy(dist) -> bool:
    return (
        hasattr(dist, "rvs") and hasattr(dist, "support") and (hasattr(dist, "pdf") or hasattr(dist, "pmf"))
    )


def _density(dist, bounds, name):
    """(pdf, lo, hi, split) for a continuous scipy distribution or a density on ``bounds``.

    ``split`` is a point inside the bulk of the mass; quadrature over an infinite range is
    split there so that a narrow peak far from 0 is not missed.
    """
    if _is_scipy(dist):
        if not hasattr(dist, "pdf"):
            raise TypeError(f"{name}() needs a continuous distribution (with a pdf); got a discrete one")
        if bounds is not None:
            raise ValueError(
                f"{name}(): bounds is only for a density callable; a scipy.stats distribution is "
                "integrated over its support (truncate it with scipy.stats.truncnorm etc. instead)"
            )
        lo, hi = (float(v) for v in dist.support())
        return dist.pdf, lo, hi, float(dist.median())
    if not callable(dist):
        raise TypeError(
            f"{name}() expects a frozen scipy.stats distribution (e.g. stats.norm(0, 1)) or a density "
            f"callable pdf(x), got {type(dist).__name__}"
        )
    if bounds is None:
        lo, hi = -math.inf, math.inf
    else:
        try:
            lo, hi = bounds
        except (TypeError, ValueError):
            raise ValueError(f"{name}(): bounds must be a pair (lo, hi), got {bounds!r}") from None
        lo, hi = _bound(lo, name, "lower"), _bound(hi, name, "upper")
        if not lo < hi:
            raise ValueError(f"{name}(): bounds must satisfy lo < hi, got ({lo}, {hi})")
    split = 0.0 if math.isinf(lo) and math.isinf(hi) else None
    return dist, lo, hi, split


def _quad_split(f, lo, hi, split, **quad_opts):
    """Quadrature of ``f`` over (lo, hi), split at ``split`` when the range is infinite."""
    if split is not None and (math.isinf(lo) or math.isinf(hi)) and lo < split < hi:
        v1, e1 = _scipy_integrate().quad(f, lo, split, **quad_opts)
        v2, e2 = _scipy_integrate().quad(f, split, hi, **quad_opts)
        return v1 + v2, e1 + e2
    v, e = _scipy_integrate().quad(f, lo, hi, **quad_opts)
    return v, e


# ---------------------------------------------------------------- quadrature


def integrate(f, a, b, **quad_opts):
    """The definite integral ``int_a^b f(x) dx`` by adaptive quadrature (:func:`scipy.integrate.quad`).

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for a scalar ``x``.
    a, b : float
        The limits; either may be ``-np.inf`` / ``np.inf``. ``a > b`` gives minus the
        integral from ``b`` to ``a``.
    **quad_opts
        Passed to :func:`scipy.integrate.quad` (``epsabs``, ``epsrel``, ``limit``,
        ``points``, ...).

    Returns
    -------
    value, abserr : float, float
        The integral and scipy's estimate of its absolute error.

    Examples
    --------
    >>> value, err = integrate(np.sin, 0.0, np.pi)
    >>> round(value, 12), err < 1e-10
    (2.0, True)
    >>> round(integrate(lambda x: np.exp(-x**2), -np.inf, np.inf)[0] ** 2, 12)   # pi
    3.14159265359
    """
    _check_callable(f, "integrate")
    a, b = _bound(a, "integrate", "lower"), _bound(b, "integrate", "upper")
    value, err = _scipy_integrate().quad(_scalar(f, "integrate"), a, b, **quad_opts)
    return float(value), float(err)


def integrate_nd(f, bounds, **nquad_opts):
    """A multiple integral over a box (or nested ranges) by :func:`scipy.integrate.nquad`.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for one point ``x`` of shape ``(D,)``.
    bounds : sequence of D pairs
        ``bounds[i] = (lo_i, hi_i)`` for coordinate ``x[i]`` (infinite limits allowed).
        An entry may also be a callable ``bounds[i](x[i+1], ..., x[D-1]) -> (lo, hi)``
        for a range that depends on the later coordinates (the outer integrals), as
        in :func:`scipy.integrate.nquad`.
    **nquad_opts
        Passed to :func:`scipy.integrate.nquad` (``opts``, ``full_output``).

    Returns
    -------
    value, abserr : float, float

    Examples
    --------
    The Gaussian integral in 2-D, and the area of the triangle ``0 <= x0 <= x1 <= 1``:

    >>> value, err = integrate_nd(lambda x: np.exp(-x[0]**2 - x[1]**2), [(-np.inf, np.inf)] * 2)
    >>> round(value, 10)        # pi
    3.1415926536
    >>> round(integrate_nd(lambda x: 1.0, [lambda x1: (0.0, x1), (0.0, 1.0)])[0], 12)
    0.5
    """
    _check_callable(f, "integrate_nd")
    try:
        ranges = list(bounds)
    except TypeError:
        raise TypeError(
            f"integrate_nd(): bounds must be a sequence of (lo, hi) pairs, got {bounds!r}"
        ) from None
    if not ranges:
        raise ValueError("integrate_nd(): bounds is empty; give one (lo, hi) pair per coordinate")
    for i, r in enumerate(ranges):
        if callable(r):
            continue
        try:
            lo, hi = r
        except (TypeError, ValueError):
            raise ValueError(
                f"integrate_nd(): bounds[{i}] must be a (lo, hi) pair or a callable, got {r!r}"
            ) from None
        ranges[i] = (_bound(lo, "integrate_nd", f"lower[{i}]"), _bound(hi, "integrate_nd", f"upper[{i}]"))
    g = _scalar(f, "integrate_nd")
    out = _scipy_integrate().nquad(lambda *x: g(np.array(x)), ranges, **nquad_opts)
    return float(out[0]), float(out[1])


# ---------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate: ``value`` (the sample mean), ``stderr`` (``std / sqrt(n)``) and ``n``.

    Unpacks as ``value, stderr = estimate``. For a vector-valued integrand both are
    arrays, one entry per component.

    Examples
    --------
    >>> est = MonteCarloEstimate(value=1.0, stderr=0.1, n=100)
    >>> value, stderr = est
    >>> est.std, est.ci(0.95)
    (1.0, (0.804..., 1.195...))
    """

    value: float | np.ndarray
    stderr: float | np.ndarray
    n: int

    def __iter__(self):
        yield self.value
        yield self.stderr

    @property
    def std(self):
        """The sample standard deviation of the integrand values (``stderr * sqrt(n)``)."""
        return self.stderr * math.sqrt(self.n)

    def ci(self, level: float = 0.95):
        """The normal-approximation confidence interval ``value -+ z * stderr`` at ``level``.

        Examples
        --------
        >>> MonteCarloEstimate(0.0, 1.0, 10).ci(0.6827)   # about one standard error
        (-1.000..., 1.000...)
        """
        if not 0.0 < float(level) < 1.0:
            raise ValueError(f"ci(): level must be in (0, 1), e.g. 0.95, got {level!r}")
        from scipy.stats import norm  # here: scipy.stats is slow to import

        z = float(norm.ppf(0.5 + 0.5 * float(level)))
        return self.value - z * self.stderr, self.value + z * self.stderr


def _draw(sampler, rng, n, name):
    if _is_scipy(sampler) or (hasattr(sampler, "rvs") and not callable(sampler)):
        return np.asarray(sampler.rvs(size=n, random_state=rng))
    if not callable(sampler):
        raise TypeError(
            f"{name}(): expected a scipy.stats distribution (with .rvs) or a sampler callable "
            f"sampler(rng, n), got {type(sampler).__name__}"
        )
    samples = np.asarray(sampler(rng, n))
    if samples.ndim == 0 or samples.shape[0] != n:
        raise ValueError(
            f"{name}(): sampler(rng, n) must return n = {n} samples along the first axis, got an array "
            f"of shape {samples.shape}"
        )
    return samples


def monte_carlo(f, sampler, n: int = 10_000, seed=None, *, vectorized: bool = True) -> MonteCarloEstimate:
    """Estimate ``E[f(X)]`` by the mean of ``f`` over ``n`` independent draws, with its standard error.

    Parameters
    ----------
    f : callable
        The integrand. With ``vectorized=True`` (default) it is called once on the whole
        batch of samples and must return one value per sample (first axis of length ``n``);
        with ``vectorized=False`` it is called on each sample in a Python loop.
    sampler : scipy.stats distribution or callable
        A frozen distribution (``sampler.rvs(size=n, random_state=rng)`` is used) or a
        callable ``sampler(rng, n)`` returning ``n`` samples along the first axis.
    n : int
        Number of samples (>= 2, for the standard error).
    seed : None, int or numpy.random.Generator
        The only source of randomness: the same seed gives the same estimate.
    vectorized : bool

    Returns
    -------
    MonteCarloEstimate
        ``value`` (sample mean), ``stderr`` (sample std with ``ddof=1`` over ``sqrt(n)``),
        ``n``; ``.ci(level)`` gives a normal-approximation confidence interval.

    Examples
    --------
    ``E[X^2] = 1`` for a standard normal:

    >>> from scipy import stats
    >>> est = monte_carlo(lambda x: x**2, stats.norm(), n=100_000, seed=0)
    >>> abs(est.value - 1.0) < 4 * est.stderr, round(float(est.stderr), 4)
    (True, 0.0045)
    >>> value, stderr = monte_carlo(lambda x: x, lambda rng, n: rng.uniform(size=n), n=1000, seed=1)
    >>> abs(value - 0.5) < 4 * stderr
    True
    """
    _check_callable(f, "monte_carlo")
    n = _check_n(n, "monte_carlo")
    samples = _draw(sampler, _as_rng(seed), n, "monte_carlo")
    if vectorized:
        values = np.asarray(f(samples), dtype=float)
    else:
        values = np.asarray([np.asarray(f(s), dtype=float) for s in samples])
    if values.ndim == 0 or values.shape[0] != n:
        raise ValueError(
            f"monte_carlo(): f returned shape {values.shape} for {n} samples; it must return one value per "
            "sample along the first axis (pass vectorized=False to call f on each sample instead)"
        )
    mean = values.mean(axis=0)
    stderr = values.std(axis=0, ddof=1) / math.sqrt(n)
    if mean.ndim == 0:
        mean, stderr = float(mean), float(stderr)
    return MonteCarloEstimate(mean, stderr, n)


# ---------------------------------------------------------------- expectations


def expectation(g, dist, *, bounds=None, method: str = "quad", n: int = 100_000, seed=None, **quad_opts):
    """The expectation ``E[g(X)]`` for ``X ~ dist``, by quadrature or by Monte Carlo.

    Parameters
    ----------
    g : callable
        ``g(x)`` for a scalar ``x`` (quadrature); for ``method="mc"`` it is called on the
        array of samples, so write it with array operations.
    dist : frozen scipy.stats distribution or callable
        A distribution, integrated over its ``support()`` (continuous ones with their
        ``pdf``; a discrete one is summed by its own ``expect``), or a density
        ``pdf(x)`` on ``bounds``.
    bounds : (lo, hi), optional
        Only for a density callable; default ``(-inf, inf)``.
    method : {"quad", "mc"}
        Quadrature (:func:`scipy.integrate.quad`) or Monte Carlo (:func:`monte_carlo`;
        needs a scipy distribution to draw from).
    n, seed :
        Monte Carlo sample size and seed.
    **quad_opts
        Passed to :func:`scipy.integrate.quad`.

    Returns
    -------
    (value, error)
        For ``"quad"``, a tuple with scipy's absolute error estimate (NaN for a discrete
        distribution, summed by scipy); for ``"mc"``, a :class:`MonteCarloEstimate`, which
        unpacks as ``(value, stderr)``.

    Examples
    --------
    >>> from scipy import stats
    >>> value, err = expectation(lambda x: x, stats.expon(scale=0.5))     # 1 / lambda
    >>> round(value, 12)
    0.5
    >>> value, err = expectation(lambda x: x, lambda x: 2 * x, bounds=(0, 1))   # density 2x on [0, 1]
    >>> round(value, 12)
    0.666666666667
    >>> est = expectation(np.cos, stats.norm(), method="mc", n=50_000, seed=0)  # e^{-1/2}
    >>> bool(abs(est.value - np.exp(-0.5)) < 4 * est.stderr)
    True
    """
    _check_callable(g, "expectation", "g")
    if method == "mc":
        if not _is_scipy(dist):
            raise ValueError(
                "expectation(method='mc') needs a distribution to draw from: pass a frozen scipy.stats "
                "distribution, or call monte_carlo(g, sampler, n, seed) with your own sampler(rng, n)"
            )
        if bounds is not None:
            raise ValueError(
                "expectation(method='mc'): bounds is only for a density callable with method='quad'"
            )
        return monte_carlo(g, dist, n, seed)
    if method != "quad":
        raise ValueError(f"expectation(): method must be 'quad' or 'mc', got {method!r}")
    if _is_scipy(dist) and not hasattr(dist, "pdf"):
        if bounds is not None:
            raise ValueError("expectation(): bounds is only for a density callable")
        return float(dist.expect(g)), math.nan
    pdf, lo, hi, split = _density(dist, bounds, "expectation")
    g_scalar = _scalar(g, "expectation")
    pdf_scalar = _scalar(pdf, "expectation")

    def integrand(x):
        p = pdf_scalar(x)
        return 0.0 if p == 0.0 else g_scalar(x) * p  # g may blow up where the density vanishes

    value, err = _quad_split(integrand, lo, hi, split, **quad_opts)
    return float(value), float(err)


def cdf_from_pdf(pdf, x, lower: float = -math.inf, **quad_opts):
    """The CDF ``F(x) = int_lower^x p(t) dt`` of a density, at one point or an array of points.

    The points are sorted and the integral accumulated piece by piece between
    consecutive points, so an array of ``m`` points costs ``m`` short quadratures.

    Parameters
    ----------
    pdf : callable or frozen scipy.stats distribution
        The density ``pdf(t)`` (a distribution's ``pdf`` is used).
    x : float or array_like
        Where to evaluate the CDF.
    lower : float
        The left end of the support (default ``-inf``; for a distribution, its support
        is used when larger). Points ``x <= lower`` get ``F = 0``.
    **quad_opts
        Passed to :func:`scipy.integrate.quad`.

    Returns
    -------
    float or np.ndarray
        ``F`` with the shape of ``x``.

    Examples
    --------
    >>> from scipy import stats
    >>> round(cdf_from_pdf(stats.norm().pdf, 1.96), 6)
    0.975002
    >>> cdf_from_pdf(lambda t: np.exp(-t), [0.0, 1.0, 2.0], lower=0.0).round(6)  # 1 - e^{-x}
    array([0.      , 0.632121, 0.864665])
    """
    lower = _bound(lower, "cdf_from_pdf", "lower")
    if _is_scipy(pdf):
        if not hasattr(pdf, "pdf"):
            raise TypeError("cdf_from_pdf() needs a continuous distribution (with a pdf)")
        lower = max(lower, float(pdf.support()[0]))
        pdf = pdf.pdf
    _check_callable(pdf, "cdf_from_pdf", "pdf")
    p = _scalar(pdf, "cdf_from_pdf")
    xs = np.asarray(x, dtype=float)
    if np.isnan(xs).any():
        raise ValueError("cdf_from_pdf(): x contains NaN")
    flat = xs.ravel()
    order = np.argsort(flat)
    out = np.zeros(flat.shape, dtype=float)
    total, prev = 0.0, lower
    for i in order:
        xi = flat[i]
        if xi <= lower:
            continue
        total += _scipy_integrate().quad(p, prev, xi, **quad_opts)[0]
        prev = xi
        out[i] = total
    out = out.reshape(xs.shape)
    return float(out) if out.ndim == 0 else out


class Moments(NamedTuple):
    """Mean, variance, skewness and excess kurtosis (0 for a normal) of a distribution."""

    mean: float
    variance: float
    skewness: float
    kurtosis: float


def moments(dist, *, bounds=None, **quad_opts) -> Moments:
    """Mean, variance, skewness and excess kurtosis of a density, by quadrature.

    ``mean = E[X]``, ``variance = E[(X - mean)^2]``, ``skewness = E[(X - mean)^3] /
    variance^1.5`` and ``kurtosis = E[(X - mean)^4] / variance^2 - 3`` (Fisher's excess
    kurtosis, scipy's convention). The central moments are integrated directly, not
    expanded from raw moments, to avoid cancellation.

    Parameters
    ----------
    dist : frozen scipy.stats distribution or callable
        A distribution (integrated over its support; a discrete one is summed by
        its own ``expect``) or a density ``pdf(x)`` on ``bounds``.
    bounds : (lo, hi), optional
        Only for a density callable; default ``(-inf, inf)``.
    **quad_opts
        Passed to :func:`scipy.integrate.quad`.

    Returns
    -------
    Moments

    Raises
    ------
    ValueError
        If the density does not integrate to 1 (within 1e-6), or the variance is not
        positive and finite.

    Examples
    --------
    >>> from scipy import stats
    >>> m = moments(stats.expon(scale=0.5))     # lambda = 2: 1/2, 1/4, skewness 2, kurtosis 6
    >>> [round(v, 8) for v in m]
    [0.5, 0.25, 2.0, 6.0]
    >>> [round(v, 8) for v in moments(lambda x: np.ones_like(x), bounds=(0, 1))]   # uniform
    [0.5, 0.08333333, 0.0, -1.2]
    """
    mass, _ = expectation(lambda x: 1.0, dist, bounds=bounds, **quad_opts)
    if not abs(mass - 1.0) <= 1e-6:
        raise ValueError(
            f"moments(): the density integrates to {mass:.8g}, not 1, over {bounds or 'its support'}; "
            "normalize it (divide by its integral) or widen the bounds"
        )
    mean, _ = expectation(lambda x: x, dist, bounds=bounds, **quad_opts)
    central = [
        expectation(lambda x, k=k: (x - mean) ** k, dist, bounds=bounds, **quad_opts)[0] for k in (2, 3, 4)
    ]
    var, m3, m4 = central
    if not (math.isfinite(var) and var > 0):
        raise ValueError(f"moments(): the variance is {var!r}; it must be positive and finite")
    return Moments(float(mean), float(var), float(m3 / var**1.5), float(m4 / var**2 - 3.0))
