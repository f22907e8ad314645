"""Convergence diagnostics of several Markov chains: split-R-hat and effective sample sizes.

The estimators follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC" (as Stan and
ArviZ compute them). Every chain is split in halves, so a chain that drifts shows up as two
chains that disagree; the draws are replaced by the normal scores of their ranks
(``ndtri((rank - 3/8) / (S + 1/4))`` over all ``S`` draws), which makes the statistics
well defined for heavy tails and invariant under monotone transformations.

Arrays of draws are shaped ``(chains, draws, ...)``; each statistic is computed per trailing
coordinate.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

__all__ = ["rhat", "ess", "autocorrelation_time"]


def _draws(samples, who: str, min_chains: int = 1) -> np.ndarray:
    """``samples`` as float64 of shape ``(chains, draws, m)``, checked."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] < min_chains or x.shape[1] < 4:
        raise ValueError(
            f"{who}: need draws shaped (chains, draws, ...) with at least {min_chains} chain(s) of "
            f">= 4 draws (got shape {x.shape}); one chain of shape (n, d) is samples[None]"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{who}: the draws contain NaN or inf")
    return x.reshape(x.shape[0], x.shape[1], -1)


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain's first and last ``draws // 2`` draws as two chains (a middle draw is dropped)."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def _normal_scores(x: np.ndarray) -> np.ndarray:
    """Rank-normalise per coordinate over all chains and draws (average ranks for ties)."""
    from scipy.stats import rankdata  # scipy.stats is slow to import: only when ranks are needed

    c, n, m = x.shape
    ranks = rankdata(x.reshape(c * n, m), axis=0)
    return ndtri((ranks - 0.375) / (c * n + 0.25)).reshape(c, n, m)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Gelman-Rubin ``sqrt(((n - 1)/n W + B/n) / W)`` of chains ``x`` (no splitting)."""
    n = x.shape[1]
    between = n * np.var(x.mean(axis=1), axis=0, ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def rhat(samples, method: str = "rank"):
    """Potential scale reduction ``R-hat`` of several chains: about 1 when they agree.

    Parameters
    ----------
    samples : array_like
        Draws shaped ``(chains, draws, ...)``: at least 2 chains of at least 4 draws.
    method : {'rank', 'split'}
        ``'rank'`` (the default, Vehtari et al. 2021): the larger of the split-R-hat of
        the rank-normalised draws (bulk) and of the rank-normalised distances to the
        median (tail), which also catches chains that agree in location but not in
        scale. ``'split'``: the classic split-R-hat of the draws themselves.

    Returns
    -------
    float or np.ndarray
        One value per coordinate (shape ``samples.shape[2:]``); a float for scalar draws.
        NaN for a coordinate whose draws never vary within the chains. Values above
        about 1.01 mean the chains have not mixed: run them longer.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mixed = rng.standard_normal((4, 1000))
    >>> float(np.round(rhat(mixed), 2))
    1.0
    >>> stuck = mixed + np.arange(4)[:, None]  # four chains around four different means
    >>> rhat(stuck) > 1.5
    True
    """
    if method not in ("rank", "split"):
        raise ValueError(f"rhat(): method must be 'rank' or 'split' (got {method!r})")
    x = _draws(samples, "rhat()", min_chains=2)
    split = _split(x)
    if method == "split":
        out = _rhat(split)
    else:
        folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
        out = np.fmax(_rhat(_normal_scores(split)), _rhat(_normal_scores(folded)))
    return _shaped(out, samples)


def ess(samples, method: str = "bulk"):
    """Effective sample size of several chains together (Vehtari et al. 2021).

    The chains' autocorrelations are combined through the between-chain variance:
    ``rho_t = 1 - (W - mean_c acov_c(t)) / var_plus``, and ``ESS = S / tau`` with
    ``tau = -1 + 2 sum rho_t`` truncated by Geyer's initial positive and monotone
    sequences (:func:`autocorrelation_time`) over all ``S`` draws.

    Parameters
    ----------
    samples : array_like
        Draws shaped ``(chains, draws, ...)``: at least 4 draws per chain.
    method : {'bulk', 'mean'}
        ``'bulk'``: of the rank-normalised split chains (the default; it measures how
        well the centre of the distribution is explored, and exists for heavy tails).
        ``'mean'``: of the split chains themselves (the ESS of the posterior mean).

    Returns
    -------
    float or np.ndarray
        One value per coordinate (shape ``samples.shape[2:]``). NaN where the draws never
        vary. Independent draws give about ``chains * draws``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> e = ess(rng.standard_normal((4, 500, 2)))
    >>> e.shape, bool(np.all(np.abs(e / 2000 - 1) < 0.15))
    ((2,), True)
    """
    if method not in ("bulk", "mean"):
        raise ValueError(f"ess(): method must be 'bulk' or 'mean' (got {method!r})")
    split = _split(_draws(samples, "ess()"))
    if method == "bulk":
        split = _normal_scores(split)
    c, n, _ = split.shape
    return _shaped(c * n / autocorrelation_time(split), samples)


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of each chain along axis 1, by FFT (zero-padded: no wrap-around)."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :n] / n


def autocorrelation_time(chains) -> np.ndarray:
    """Integrated autocorrelation time ``tau`` of chains shaped ``(chains, draws, m)``, per coordinate.

    The combined autocorrelation ``rho_t`` (see :func:`ess`) is summed in pairs
    ``P_k = rho_2k + rho_2k+1`` while they stay positive (Geyer's initial positive
    sequence), the pairs made non-increasing (initial monotone sequence), as Stan does:
    ``tau = -1 + 2 sum_{k<K} P_k + rho_2K``, ``rho_2K`` counted only while positive.
    ``tau`` is floored at ``1 / log10(S)`` (``S`` all draws), so antithetic chains
    keep a finite ESS. NaN where the draws never vary.

    Examples
    --------
    An AR(1) chain with coefficient ``phi`` has ``tau = (1 + phi) / (1 - phi)``:

    >>> from scipy.signal import lfilter
    >>> x = lfilter([1.0], [1.0, -0.5], np.random.default_rng(0).standard_normal((2, 20000)), axis=1)
    >>> tau = autocorrelation_time(x[:, :, None])
    >>> tau.shape, bool(abs(tau[0] - 3.0) < 0.2)  # (1 + 0.5) / (1 - 0.5) = 3
    ((1,), True)
    """
    x = np.asarray(chains, dtype=np.float64)
    c, n, m = x.shape
    acov = _autocovariance(x)
    within = acov[:, 0].mean(axis=0) * n / (n - 1)  # mean within-chain variance (unbiased)
    var_plus = within * (n - 1) / n + (np.var(x.mean(axis=1), axis=0, ddof=1) if c > 1 else 0.0)
    tau = np.full(m, np.nan)
    moving = var_plus > 1e-300
    if not np.any(moving):
        return tau
    rho = 1.0 - (within[moving] - acov[:, :, moving].mean(axis=0)) / var_plus[moving]
    rho[0] = 1.0
    # Stan computes the pairs k = 1 .. (n - 3) // 2 and stops at the first one <= 0
    k_max = max((n - 3) // 2, 0)
    pairs = rho[0 : 2 * k_max + 1 : 2] + rho[1 : 2 * k_max + 2 : 2]  # P_0 .. P_k_max
    stops = pairs[1:] <= 0
    ended = stops.any(axis=0)
    first_stop = np.argmax(stops, axis=0) + 1 if k_max > 0 else np.zeros(ended.shape, dtype=int)
    big_k = np.where(ended, first_stop, k_max)  # the pairs below K are summed
    summed = np.arange(pairs.shape[0])[:, None] < big_k
    monotone = np.minimum.accumulate(np.where(summed, pairs, np.inf), axis=0)
    even = np.take_along_axis(rho, 2 * big_k[None, :], axis=0)[0]
    # after a stop the even lag counts only when positive; at the end of the draws it always counts
    tail = np.where(ended, np.maximum(even, 0.0), even)
    t = -1.0 + 2.0 * np.sum(np.where(summed, monotone, 0.0), axis=0) + tail
    tau[moving] = np.maximum(t, 1.0 / math.log10(c * n))
    return tau


def _shaped(values: np.ndarray, samples):
    out = values.reshape(np.shape(samples)[2:])
    return float(out) if out.ndim == 0 else out
