"""Monte Carlo gradients of an expectation: the score-function and reparameterization estimators.

For ``L(theta) = E_{z ~ q_theta}[g(z)]`` the distribution itself depends on
``theta``, so the gradient cannot simply be pushed inside a sample mean. Two
unbiased estimators do it:

* **score function** (REINFORCE, likelihood ratio):
  ``grad L = E[g(z) grad_theta log q_theta(z)]``. It needs only ``log q`` to be
  differentiable in ``theta`` -- ``g`` may be a black box, even discontinuous --
  but its variance is often large. Subtracting a baseline ``b`` that does not
  depend on ``z`` keeps it unbiased (``E[grad log q] = 0``) and can cut the
  variance a lot.
* **reparameterization** (pathwise): write ``z = T_theta(eps)`` with ``eps`` from
  a fixed base distribution, then ``grad L = E[grad_theta g(T_theta(eps))]``.
  It needs ``g`` and ``T`` differentiable and usually has a much lower variance
  (it uses the derivative of ``g``); it is what variational autoencoders use.

Both return the estimate with its per-coordinate standard error and the
variance of the single-sample estimator, so they can be compared directly.
Per-sample gradients come from :func:`slopes.vmap` over :func:`slopes.grad`
(one batched pass, no Python loop).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..core.trace import Tracer
from ..transforms import grad, vmap
from .integrals import _as_rng, _check_n, _draw

__all__ = ["GradientEstimate", "score_function_grad", "reparam_grad"]


class GradientEstimate(NamedTuple):
    """A Monte Carlo gradient: the mean ``grad``, its standard error and the per-sample variance.

    ``variance`` is the (``ddof=1``) sample variance, coordinate by coordinate, of the
    single-sample estimator; ``stderr = sqrt(variance / n)``. All three have the shape
    of ``theta``.
    """

    grad: np.ndarray
    stderr: np.ndarray
    variance: np.ndarray


def _theta(theta, name):
    t = np.asarray(theta)
    if not np.issubdtype(t.dtype, np.floating):
        if not np.issubdtype(t.dtype, np.number) or np.iscomplexobj(t):
            raise TypeError(f"{name}(): theta must be a real array, got dtype {t.dtype}")
        t = t.astype(np.float64)
    return np.array(t, copy=True)


def _summarize(per_sample, dtype) -> GradientEstimate:
    per_sample = np.asarray(per_sample)
    n = per_sample.shape[0]
    mean = per_sample.mean(axis=0)
    var = per_sample.var(axis=0, ddof=1)
    return GradientEstimate(mean.astype(dtype), np.sqrt(var / n).astype(dtype), var.astype(dtype))


def _per_sample_values(g, z, name):
    """``g`` on each sample: one vmapped pass, or a loop when ``g`` cannot be traced (plain NumPy)."""
    try:
        values = np.asarray(vmap(g)(z))
    # g cannot be traced (plain NumPy, Python `if`): fall back to a loop, where a real error recurs
    except (TypeError, ValueError):
        values = np.asarray([np.asarray(g(zi)) for zi in z])
    if values.shape != (z.shape[0],):
        raise ValueError(
            f"{name}(): g must return one number per sample z, got an output of shape {values.shape[1:]} "
            "per sample"
        )
    return values


def score_function_grad(
    g, logq, sample, theta, n: int = 1000, seed=None, *, baseline=None
) -> GradientEstimate:
    """The score-function (REINFORCE) estimate of ``grad_theta E_{q_theta}[g(z)]``.

    ``grad ~= mean_i (g(z_i) - b) grad_theta log q_theta(z_i)`` with ``z_i ~ q_theta``.

    Parameters
    ----------
    g : callable
        ``g(z)`` for one sample ``z``, returning a number. It is never differentiated: a
        step function or a simulator is fine.
    logq : callable
        ``logq(theta, z)``, the log-density of one sample, written with ``slopes.numpy``
        so that it can be differentiated in ``theta``.
    sample : callable
        ``sample(theta, rng, n)`` returning ``n`` draws from ``q_theta`` along the first axis.
    theta : array_like
        The parameters (float32 is kept).
    n : int
        Number of samples (>= 2).
    seed : None, int or numpy.random.Generator
    baseline : None, float or "loo"
        Subtracted from ``g``: a constant, or ``"loo"`` -- for sample ``i`` the mean of
        ``g`` over the *other* samples, which is independent of ``z_i`` and so keeps
        the estimate unbiased (the per-sample terms are then slightly correlated, and
        ``stderr`` is approximate).

    Returns
    -------
    GradientEstimate
        ``grad``, ``stderr`` and ``variance``, each with the shape of ``theta``.

    Examples
    --------
    ``q = N(mu, sigma^2)``, ``theta = (mu, sigma)``, ``g(z) = z^2``: ``E = mu^2 + sigma^2``,
    gradient ``(2 mu, 2 sigma) = (1, 2)``.

    >>> import slopes.numpy as snp
    >>> logq = lambda th, z: -0.5 * ((z - th[0]) / th[1]) ** 2 - snp.log(th[1])
    >>> sample = lambda th, rng, n: th[0] + th[1] * rng.standard_normal(n)
    >>> est = score_function_grad(lambda z: z**2, logq, sample, [0.5, 1.0], n=100_000, seed=0)
    >>> bool(np.all(np.abs(est.grad - [1.0, 2.0]) < 4 * est.stderr))
    True
    """
    for f, what in ((g, "g"), (logq, "logq"), (sample, "sample")):
        if not callable(f):
            raise TypeError(f"score_function_grad(): {what} must be callable, got {type(f).__name__}")
    n = _check_n(n, "score_function_grad")
    theta = _theta(theta, "score_function_grad")
    z = np.asarray(sample(theta, _as_rng(seed), n))
    if z.ndim == 0 or z.shape[0] != n:
        raise ValueError(
            f"score_function_grad(): sample(theta, rng, n) must return n = {n} draws along the first axis, "
            f"got shape {z.shape}"
        )
    if np.issubdtype(z.dtype, np.floating):
        z = z.astype(theta.dtype)
    gz = _per_sample_values(g, z, "score_function_grad")
    if baseline is None:
        b = 0.0
    elif isinstance(baseline, str):
        if baseline != "loo":
            raise ValueError(
                f"score_function_grad(): baseline must be None, a number or 'loo', got {baseline!r}"
            )
        b = (gz.sum() - gz) / (n - 1)
    else:
        b = float(baseline)
    scores = vmap(grad(logq), in_axes=(None, 0))(theta, z)  # (n, *theta.shape)
    weights = (gz - b).reshape((n,) + (1,) * theta.ndim)
    return _summarize(weights * scores, theta.dtype)


def reparam_grad(g, transform, base_sample, theta, n: int = 1000, seed=None) -> GradientEstimate:
    """The reparameterization (pathwise) estimate of ``grad_theta E_{q_theta}[g(z)]``.

    With ``z = T_theta(eps)``, ``eps ~ p(eps)`` free of ``theta``:
    ``grad ~= mean_i grad_theta g(T_theta(eps_i))``.

    Parameters
    ----------
    g : callable
        ``g(z)`` for one sample, written with ``slopes.numpy`` (it is differentiated).
        A piecewise-constant ``g`` has gradient 0 almost everywhere, so this estimator
        returns 0 for it -- use :func:`score_function_grad` there.
    transform : callable
        ``transform(theta, eps) -> z`` for one base sample ``eps``, differentiable in
        ``theta`` (e.g. ``mu + sigma * eps`` for a normal).
    base_sample : callable or frozen scipy.stats distribution
        ``base_sample(rng, n)`` returning ``n`` base draws along the first axis, or a
        distribution (``rvs(size=n, random_state=rng)``).
    theta : array_like
        The parameters (float32 is kept).
    n : int
        Number of samples (>= 2).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    GradientEstimate
        ``grad``, ``stderr`` and ``variance``, each with the shape of ``theta``.

    Examples
    --------
    The same problem as in :func:`score_function_grad`, with a far smaller standard error:

    >>> from scipy import stats
    >>> T = lambda th, eps: th[0] + th[1] * eps
    >>> est = reparam_grad(lambda z: z**2, T, stats.norm(), [0.5, 1.0], n=100_000, seed=0)
    >>> bool(np.all(np.abs(est.grad - [1.0, 2.0]) < 4 * est.stderr)), est.stderr.round(4)
    (True, array([0.0063, 0.0095]))
    """
    for f, what in ((g, "g"), (transform, "transform")):
        if not callable(f):
            raise TypeError(f"reparam_grad(): {what} must be callable, got {type(f).__name__}")
    n = _check_n(n, "reparam_grad")
    theta = _theta(theta, "reparam_grad")
    eps = _draw(base_sample, _as_rng(seed), n, "reparam_grad")
    if eps.ndim == 0 or eps.shape[0] != n:
        raise ValueError(
            f"reparam_grad(): expected n = {n} base draws along the first axis, got shape {eps.shape}"
        )
    if np.issubdtype(eps.dtype, np.floating):
        eps = eps.astype(theta.dtype)

    def per_sample(th, e):
        out = g(transform(th, e))
        shape = out.shape if isinstance(out, Tracer) else np.shape(out)
        if math.prod(shape) != 1:
            raise ValueError(
                f"reparam_grad(): g(transform(theta, eps)) must be one number per sample, got shape {tuple(shape)}"
            )
        return out.reshape(()) if tuple(shape) else out

    return _summarize(vmap(grad(per_sample), in_axes=(None, 0))(theta, eps), theta.dtype)
