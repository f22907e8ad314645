"""Variational inference: the ELBO by the reparameterization trick, maximized by a gradient method.

For a model ``p(x, z)`` and an approximation ``q(z)`` of the posterior,

    ELBO(q) = E_q[log p(x, z)] - E_q[log q(z)] = log p(x) - KL(q || p(z | x)),

so maximizing the ELBO over ``q`` both tightens a lower bound on the log
evidence and moves ``q`` towards the posterior. Here ``q`` is a diagonal
Gaussian ``N(m, diag(s^2))`` with ``s = exp(log_s)`` (unconstrained
parameters), the expectation is a Monte Carlo mean over ``z = m + s * eps``,
``eps ~ N(0, I)`` -- the reparameterization trick, which makes the estimate a
differentiable function of ``(m, log_s)`` -- and the entropy ``-E_q[log q]`` is
exact.

For the conjugate model "Normal likelihood with known variance, Normal prior on
the mean" the posterior and the evidence are known in closed form
(:func:`normal_mean_posterior`), which makes it the test bed for the rest.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import numpy as snp
from ..core.trace import Tracer, shape_of
from ..optim import adam, apply_updates, cosine_decay
from ..transforms import jit, value_and_grad, vmap
from .integrals import _as_rng, _check_n

__all__ = [
    "NormalPosterior",
    "normal_mean_posterior",
    "kl_normal",
    "elbo",
    "VIFit",
    "fit_gaussian_vi",
]

_HALF_LOG_2PI_E = 0.5 * (1.0 + math.log(2.0 * math.pi))


class NormalPosterior(NamedTuple):
    """The exact posterior ``N(mean, std^2)`` of the conjugate model and its ``log_evidence`` ``log p(x)``."""

    mean: float
    std: float
    log_evidence: float


def _positive(v, name, what):
    v = float(v)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}(): {what} must be a positive finite number, got {v!r}")
    return v


def normal_mean_posterior(x, noise_std: float, prior_mean: float, prior_std: float) -> NormalPosterior:
    """Closed-form posterior of ``mu`` for ``x_i ~ N(mu, noise_std^2)`` iid and ``mu ~ N(prior_mean, prior_std^2)``.

    The precisions add: ``1 / std^2 = 1 / prior_std^2 + n / noise_std^2``, and the
    mean is the precision-weighted average ``std^2 (prior_mean / prior_std^2 +
    sum(x) / noise_std^2)``. Marginally ``x ~ N(prior_mean 1, noise_std^2 I +
    prior_std^2 1 1^T)``; its log-density (the evidence) is evaluated in ``O(n)`` with
    the matrix determinant lemma and the Sherman-Morrison formula.

    Parameters
    ----------
    x : array_like
        The observations, shape ``(n,)``.
    noise_std, prior_mean, prior_std : float

    Returns
    -------
    NormalPosterior
        ``mean``, ``std`` and ``log_evidence``.

    Examples
    --------
    >>> post = normal_mean_posterior([1.0, 3.0], noise_std=1.0, prior_mean=0.0, prior_std=1.0)
    >>> post.mean, round(post.std**2, 12)       # precision 1 + 2 = 3
    (1.3333333333333333, 0.333333333333)
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"normal_mean_posterior(): x must be a non-empty 1-D array, got shape {x.shape}")
    sigma = _positive(noise_std, "normal_mean_posterior", "noise_std")
    s0 = _positive(prior_std, "normal_mean_posterior", "prior_std")
    m0 = float(prior_mean)
    n = x.size
    precision = 1.0 / s0**2 + n / sigma**2
    var = 1.0 / precision
    mean = var * (m0 / s0**2 + x.sum() / sigma**2)
    r = x - m0
    c = sigma**2 + n * s0**2  # the one eigenvalue of the marginal covariance that is not sigma^2
    logdet = 2.0 * (n - 1) * math.log(sigma) + math.log(c)
    quad = (r @ r - s0**2 * r.sum() ** 2 / c) / sigma**2
    log_evidence = -0.5 * (n * math.log(2.0 * math.pi) + logdet + quad)
    return NormalPosterior(float(mean), math.sqrt(var), float(log_evidence))


def kl_normal(m1, s1, m2, s2):
    """``KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2``.

    Elementwise on arrays (sum the result for diagonal Gaussians); differentiable.

    Examples
    --------
    >>> float(kl_normal(0.0, 1.0, 0.0, 1.0)), round(float(kl_normal(1.0, 1.0, 0.0, 2.0)), 6)
    (0.0, 0.443147)
    """
    if not any(isinstance(v, Tracer) for v in (s1, s2)) and (
        np.any(np.asarray(s1) <= 0) or np.any(np.asarray(s2) <= 0)
    ):
        raise ValueError("kl_normal(): the standard deviations s1 and s2 must be positive")
    return snp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2.0 * s2**2) - 0.5


def _split_params(params, name):
    shape = tuple(shape_of(params))
    if len(shape) != 1 or shape[0] == 0 or shape[0] % 2:
        raise ValueError(
            f"{name}(): params must be a vector [m (D values), log_s (D values)] of even length 2 D, "
            f"got shape {shape}"
        )
    d = shape[0] // 2
    return params[:d], params[d:], d


def elbo(log_joint, params, eps):
    """Monte Carlo ELBO of a diagonal Gaussian ``q = N(m, diag(exp(log_s)^2))``, reparameterized.

    ``ELBO ~= mean_i log_joint(m + exp(log_s) * eps_i) + sum(log_s) + D (1 + log 2 pi) / 2``,
    the last two terms being the exact entropy of ``q``. For fixed ``eps`` it is a smooth
    function of ``params``, so :func:`slopes.grad` gives the reparameterization gradient.

    Parameters
    ----------
    log_joint : callable
        ``log_joint(z) -> scalar``, ``log p(x, z)`` for one latent ``z`` of shape ``(D,)``
        (the data fixed inside), written with ``slopes.numpy``.
    params : array_like, shape (2 D,)
        ``[m, log_s]``.
    eps : array_like, shape (n, D)
        Standard normal draws (shape ``(n,)`` is accepted for ``D = 1``). Passing them
        in keeps the randomness outside: reuse them for common random numbers.

    Returns
    -------
    scalar
        The estimate (a 0-d array, or a traced value when differentiated).

    Examples
    --------
    With ``log_joint = log N(z; 0, 1)`` (a normalized density: log evidence 0) and
    ``q = N(0, 1)`` (the exact posterior) the ELBO is 0; the estimate is
    ``(1 - mean(eps^2)) / 2``, exactly 0 for the draws ``eps = -1, 1``:

    >>> import slopes.numpy as snp
    >>> log_joint = lambda z: -0.5 * snp.sum(z**2) - 0.5 * np.log(2 * np.pi)
    >>> abs(float(elbo(log_joint, np.array([0.0, 0.0]), np.array([[-1.0], [1.0]])))) < 1e-15
    True
    >>> eps = np.random.default_rng(0).standard_normal((100, 1))
    >>> bool(np.isclose(elbo(log_joint, np.array([0.0, 0.0]), eps), (1 - np.mean(eps**2)) / 2))
    True
    """
    if not callable(log_joint):
        raise TypeError(f"elbo(): log_joint must be callable as log_joint(z), got {type(log_joint).__name__}")
    if not isinstance(params, Tracer):
        params = np.asarray(params, dtype=np.result_type(np.asarray(params).dtype, np.float32))
    m, log_s, d = _split_params(params, "elbo")
    if not isinstance(eps, Tracer):  # eps is traced under sl.jit (fit_gaussian_vi)
        eps = np.asarray(eps)
    shape = tuple(shape_of(eps))
    if len(shape) == 1 and d == 1:
        eps, shape = eps[:, None], (shape[0], 1)
    if len(shape) != 2 or shape[1] != d or shape[0] < 1:
        raise ValueError(
            f"elbo(): eps must have shape (n, D) = (n, {d}) for params of length {2 * d}, got {shape}"
        )
    z = m + snp.exp(log_s) * eps
    values = vmap(log_joint)(z)
    vshape = tuple(shape_of(values))
    if vshape != (shape[0],):
        raise ValueError(
            f"elbo(): log_joint(z) must return a scalar per z, got shape {vshape[1:]} per sample"
        )
    return snp.mean(values) + snp.sum(log_s) + d * _HALF_LOG_2PI_E


class VIFit(NamedTuple):
    """A variational fit: ``mean`` and ``std`` of ``q``, the raw ``params`` ``[m, log_s]``, the ELBO trace."""

    mean: np.ndarray
    std: np.ndarray
    params: np.ndarray
    elbo: np.ndarray


def fit_gaussian_vi(
    log_joint,
    dim: int,
    *,
    n_samples: int = 32,
    steps: int = 2000,
    learning_rate: float = 0.05,
    seed=0,
    init=None,
) -> VIFit:
    """Fit a diagonal Gaussian ``q`` to ``p(z | x)`` by maximizing the reparameterized ELBO with Adam.

    Each step draws fresh ``eps`` (``n_samples x dim``) from the seeded generator,
    takes the gradient of :func:`elbo` with :func:`slopes.value_and_grad` (traced once
    with :func:`slopes.jit`) and applies :func:`slopes.optim.adam` with a cosine-decayed
    learning rate: the decay averages the gradient noise away at the end.

    Parameters
    ----------
    log_joint : callable
        ``log p(x, z)`` for one ``z`` of shape ``(dim,)``, written with ``slopes.numpy``.
    dim : int
        The dimension ``D`` of ``z``.
    n_samples, steps, learning_rate :
        Draws per step, Adam steps, initial learning rate.
    seed : None, int or numpy.random.Generator
        Same seed, same fit.
    init : array_like, optional
        Initial ``[m, log_s]`` (default zeros: ``q = N(0, I)``).

    Returns
    -------
    VIFit
        ``mean = m``, ``std = exp(log_s)``, ``params`` and ``elbo`` (the estimate at each step).

    Examples
    --------
    A 1-D Gaussian target ``N(2, 0.5^2)`` (up to a constant) is recovered:

    >>> import slopes.numpy as snp
    >>> fit = fit_gaussian_vi(lambda z: -0.5 * snp.sum(((z - 2.0) / 0.5) ** 2), dim=1, steps=500, seed=0)
    >>> fit.mean.round(2), fit.std.round(2)
    (array([2.]), array([0.5]))
    """
    if not callable(log_joint):
        raise TypeError(f"fit_gaussian_vi(): log_joint must be callable as log_joint(z), got {log_joint!r}")
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(f"fit_gaussian_vi(): dim must be a positive integer, got {dim!r}")
    n_samples = _check_n(n_samples, "fit_gaussian_vi", minimum=1, what="n_samples")
    steps = _check_n(steps, "fit_gaussian_vi", minimum=1, what="steps")
    if not (math.isfinite(float(learning_rate)) and float(learning_rate) > 0):
        raise ValueError(f"fit_gaussian_vi(): learning_rate must be positive, got {learning_rate!r}")
    params = np.zeros(2 * dim) if init is None else np.array(init, dtype=float)
    if params.shape != (2 * dim,):
        raise ValueError(
            f"fit_gaussian_vi(): init must have shape (2 dim,) = ({2 * dim},), got {params.shape}"
        )
    rng = _as_rng(seed)
    neg_elbo = jit(value_and_grad(lambda prm, e: -elbo(log_joint, prm, e)))
    opt = adam(cosine_decay(float(learning_rate), steps))
    state = opt.init(params)
    trace = np.empty(steps)
    for t in range(steps):
        value, g = neg_elbo(params, rng.standard_normal((n_samples, dim)))
        if not np.all(np.isfinite(g)):
            raise FloatingPointError(
                f"fit_gaussian_vi(): the ELBO gradient is not finite at step {t} (params {params}); "
                "lower learning_rate or start closer (init=)"
            )
        trace[t] = -float(value)
        updates, state = opt.update(g, state, params)
        params = apply_updates(params, updates)
    return VIFit(params[:dim].copy(), np.exp(params[dim:]), params, trace)
