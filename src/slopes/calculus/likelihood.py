"""Likelihoods: maximum likelihood by gradient descent, cross-entropy and KL divergence.

Maximum likelihood maximizes ``log L(theta) = sum_i log p(x_i | theta)``; in
practice one minimizes the negative log-likelihood with a gradient method
(:func:`fit_mle`). Constrained parameters are made unconstrained first --
``log sigma`` for a scale, ``log lambda`` for a rate -- so any optimizer can
be used; the MLE is invariant under such a change of variables.

The cross-entropy ``H(p, q) = -sum_k p_k log q_k`` is the negative
log-likelihood of a categorical model ``q`` averaged over the labels ``p``;
``H(p, q) = H(p) + KL(p || q)``, so minimizing it in ``q`` pushes ``q`` to ``p``.
With ``q = softmax(logits)`` its gradient is ``softmax(logits) - p``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import numpy as snp
from ..core.trace import Tracer
from ..optim import Result, minimize
from ..transforms import hessian

__all__ = ["MLEFit", "fit_mle", "cross_entropy", "kl_divergence"]


class MLEFit(NamedTuple):
    """A maximum-likelihood fit.

    ``theta`` the estimate; ``nll`` the negative log-likelihood there; ``cov`` the
    inverse of the observed information (the Hessian of the NLL at ``theta``), the
    usual asymptotic covariance of the estimate, and ``stderr`` the square root of its
    diagonal (both NaN when the Hessian is not positive definite); ``result`` the
    optimizer's :class:`~slopes.optim.Result`.
    """

    theta: np.ndarray
    nll: float
    stderr: np.ndarray
    cov: np.ndarray
    result: Result


def fit_mle(neg_log_lik, theta0, data, *, method: str = "lbfgs", **minimize_options) -> MLEFit:
    """Maximum-likelihood estimate by minimizing the negative log-likelihood with a gradient method.

    Parameters
    ----------
    neg_log_lik : callable
        ``neg_log_lik(theta, data) -> scalar``, the **total** (summed, not averaged)
        negative log-likelihood, written with ``slopes.numpy`` so that it can be
        differentiated. Parameterize constrained parameters without constraints
        (``log sigma``, ``log lambda``, logits).
    theta0 : array_like
        The starting point, a vector.
    data : any
        Passed unchanged to ``neg_log_lik`` (the whole data set at every step).
    method : str
        A method of :func:`slopes.minimize` (default ``"lbfgs"``).
    **minimize_options
        Passed to :func:`slopes.minimize` (``gtol``, ``maxiter``, ...).

    Returns
    -------
    MLEFit
        ``theta``, ``nll``, ``stderr``, ``cov`` (from the observed information) and the
        optimizer ``result`` (check ``result.success``).

    Examples
    --------
    A Gaussian with ``theta = (mu, log sigma)``: the MLE is the sample mean and the
    biased sample variance, and ``stderr(mu) = sigma_hat / sqrt(n)``.

    >>> import slopes.numpy as snp
    >>> x = np.array([1.2, 0.7, 2.3, 1.9, 0.4])
    >>> nll = lambda th, x: snp.sum(0.5 * ((x - th[0]) / snp.exp(th[1])) ** 2 + th[1])
    >>> fit = fit_mle(nll, [0.0, 0.0], x)
    >>> bool(np.isclose(fit.theta[0], x.mean())), bool(np.isclose(np.exp(2 * fit.theta[1]), x.var()))
    (True, True)
    >>> bool(np.isclose(fit.stderr[0], x.std() / np.sqrt(x.size)))
    True
    """
    if not callable(neg_log_lik):
        raise TypeError(
            f"fit_mle(): neg_log_lik must be callable as neg_log_lik(theta, data), got {neg_log_lik!r}"
        )
    theta0 = np.asarray(theta0)
    if theta0.ndim != 1:
        raise ValueError(f"fit_mle(): theta0 must be a vector (shape (P,)), got shape {theta0.shape}")

    def objective(theta):
        return neg_log_lik(theta, data)

    result = minimize(objective, theta0, method=method, **minimize_options)
    theta = np.asarray(result.x)
    H = np.asarray(hessian(objective)(theta), dtype=float)
    H = 0.5 * (H + H.T)
    try:
        np.linalg.cholesky(H)  # observed information must be positive definite for a covariance
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
    stderr = np.sqrt(np.diag(cov))
    return MLEFit(theta, float(result.fun), stderr.astype(theta.dtype), cov.astype(theta.dtype), result)


def _is_traced(x) -> bool:
    return isinstance(x, Tracer)


def _check_probabilities(p, name, what, axis):
    """Validate a concrete probability vector (traced values are not inspected)."""
    if _is_traced(p):
        return p
    arr = np.asarray(p)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name}(): {what} must be a real array of probabilities, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        raise ValueError(
            f"{name}(): {what} must be an array of probabilities along axis {axis}, got a scalar"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}(): {what} must be finite and non-negative")
    total = arr.sum(axis=axis)
    tol = 1e-4 if arr.dtype in (np.float16, np.float32) else 1e-6
    if not np.allclose(total, 1.0, rtol=0.0, atol=tol):
        raise ValueError(
            f"{name}(): {what} must sum to 1 along axis {axis} (got sums {np.round(total, 6)}); normalize it, "
            "or pass unnormalized scores as logits="
        )
    return arr


def _log_q(q, logits, axis, name):
    """log q from probabilities (``log 0 = -inf``, without warnings) or from logits (log-softmax)."""
    if (q is None) == (logits is None):
        raise ValueError(f"{name}(): give exactly one of q (probabilities) and logits=")
    if logits is not None:
        if not _is_traced(logits):
            logits = np.asarray(logits)
            if not np.issubdtype(logits.dtype, np.floating):
                logits = logits.astype(np.float64)
        return logits - snp.logsumexp(logits, axis=axis, keepdims=True)
    q = _check_probabilities(q, name, "q", axis)
    positive = q > 0
    return snp.where(positive, snp.log(snp.where(positive, q, 1.0)), -np.inf)


def cross_entropy(p, q=None, *, logits=None, axis: int = -1):
    """The cross-entropy ``H(p, q) = -sum_k p_k log q_k`` of discrete distributions.

    Parameters
    ----------
    p : array_like
        The target probabilities (non-negative, summing to 1 along ``axis``); entries
        with ``p_k = 0`` contribute 0 (the convention ``0 log 0 = 0``).
    q : array_like, optional
        The model probabilities. ``H`` is ``inf`` when ``q_k = 0`` where ``p_k > 0``.
    logits : array_like, optional
        Instead of ``q``: unnormalized log-probabilities, ``q = softmax(logits)``,
        evaluated stably through log-sum-exp (no overflow for logits of size 1e3).
    axis : int
        The axis of the categories; the others are batch axes.

    Returns
    -------
    array
        ``H`` with ``axis`` removed (a 0-d array for single distributions); traced
        when differentiated. Differentiable in ``q`` (``-p / q``) and in the logits
        (``softmax(logits) - p``).

    Examples
    --------
    >>> import slopes as sl
    >>> p = np.array([0.7, 0.2, 0.1])
    >>> round(float(cross_entropy(p, np.array([0.5, 0.25, 0.25]))), 6)
    0.901091
    >>> logits = np.array([2.0, 0.0, -1.0])
    >>> sl.grad(lambda z: cross_entropy(p, logits=z))(logits).round(6)   # softmax(z) - p
    array([ 0.143795, -0.085805, -0.05799 ])
    """
    p = _check_probabilities(p, "cross_entropy", "p", axis)
    log_q = _log_q(q, logits, axis, "cross_entropy")
    # select before multiplying: p * log q would give 0 * (-inf) = NaN where p = q = 0
    return -snp.sum(p * snp.where(p > 0, log_q, 0.0), axis=axis)


def kl_divergence(p, q=None, *, logits=None, axis: int = -1):
    """The Kullback-Leibler divergence ``KL(p || q) = sum_k p_k log(p_k / q_k)`` of discrete distributions.

    Computed term by term (not as ``H(p, q) - H(p)``, which cancels badly when
    ``q`` is close to ``p``): it is ``>= 0``, exactly 0 for ``q = p``.

    Parameters
    ----------
    p, q, logits, axis :
        As in :func:`cross_entropy`.

    Returns
    -------
    array
        ``KL`` with ``axis`` removed; ``inf`` when ``q_k = 0`` where ``p_k > 0``.

    Examples
    --------
    >>> p = np.array([0.7, 0.2, 0.1])
    >>> round(float(kl_divergence(p, np.array([0.5, 0.25, 0.25]))), 6)
    0.099273
    >>> float(kl_divergence(p, p))
    0.0
    """
    p = _check_probabilities(p, "kl_divergence", "p", axis)
    log_q = _log_q(q, logits, axis, "kl_divergence")
    positive = p > 0
    log_p = snp.log(snp.where(positive, p, 1.0))
    return snp.sum(p * snp.where(positive, log_p - log_q, 0.0), axis=axis)
