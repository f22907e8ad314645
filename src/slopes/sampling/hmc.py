"""Hamiltonian Monte Carlo: the leapfrog integrator, the sampler, and the effective sample size.

HMC samples a density ``p(x) ∝ exp(logp(x))`` by simulating the Hamiltonian
``H(x, p) = -logp(x) + p^T M^{-1} p / 2`` with a fresh Gaussian momentum
``p ~ N(0, M)`` at every iteration, then accepting the end point with
probability ``min(1, exp(H_start - H_end))``. The gradient of ``logp`` comes
from :func:`slopes.value_and_grad`, traced once with :func:`slopes.jit` when
``logp`` can be traced.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from .._display import Card, brief_repr, card_html
from ..transforms import value_and_grad
from ._staging import Staged
from .diagnostics import autocorrelation_time

__all__ = ["leapfrog", "hmc", "hmc_chains", "HMCResult", "ChainsResult", "effective_sample_size"]


class _Metric:
    """The mass matrix ``M``: identity, a positive scalar, a positive diagonal, or an SPD matrix."""

    def __init__(self, mass, d: int, who: str):
        self.kind = "identity"
        if mass is None:
            return
        m = np.asarray(mass, dtype=np.float64)
        if m.ndim == 0 or (m.ndim == 1 and m.size == d):
            if not (np.all(np.isfinite(m)) and np.all(m > 0)):
                raise ValueError(f"{who}: mass must be positive and finite (got {mass!r})")
            self.kind, self.diag = "diag", m
        elif m.shape == (d, d):
            if not np.allclose(m, m.T, rtol=1e-10, atol=1e-12 * np.max(np.abs(m))):
                raise ValueError(f"{who}: a mass matrix must be symmetric; pass (M + M.T) / 2")
            try:
                self.chol = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"{who}: the mass matrix is not positive definite; use a covariance-like SPD "
                    "matrix (e.g. the Hessian of -logp at the mode) or a positive diagonal"
                ) from None
            self.kind, self.matrix = "full", m
        else:
            raise ValueError(
                f"{who}: mass must be a positive scalar, a vector of length {d} (a diagonal), or a "
                f"{d}x{d} SPD matrix (got shape {m.shape})"
            )

    def velocity(self, p):
        """``M^{-1} p``."""
        if self.kind == "identity":
            return p
        if self.kind == "diag":
            return p / self.diag
        return np.linalg.solve(self.matrix, p)

    def kinetic(self, p) -> float:
        return 0.5 * float(np.dot(p, self.velocity(p)))

    def sample(self, rng, d: int):
        z = rng.standard_normal(d)
        if self.kind == "identity":
            return z
        if self.kind == "diag":
            return z * np.sqrt(self.diag)
        return self.chol @ z


def _trajectory(vg, x, p, g, eps, n_steps, metric):
    """``n_steps`` leapfrog steps from ``(x, p)`` with gradient ``g`` at ``x``.

    Returns ``(x, p, logp, g, ok)``; ``ok`` is False when the trajectory left the
    region where ``logp`` and its gradient are finite (it stops there).
    """
    lp = None
    p = p + 0.5 * eps * g
    for i in range(n_steps):
        x = (x + eps * metric.velocity(p)).astype(x.dtype, copy=False)
        lp, g = vg(x)
        if not (np.all(np.isfinite(g)) and (lp is None or np.isfinite(lp))):
            return x, p, lp, g, False
        # the two half kicks between drifts merge into one full kick
        p = (p + (eps if i < n_steps - 1 else 0.5 * eps) * g).astype(x.dtype, copy=False)
    return x, p, lp, g, True


def _positive_int(value, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer (got {value!r})")
    return int(value)


def _positive_float(value, name: str, who: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a positive number (got {value!r})") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{who}: {name} must be positive and finite (got {value!r})")
    return v


def _float_dtype(x) -> np.dtype:
    dt = np.asarray(x).dtype
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def leapfrog(grad_logp, x, p, step_size, n_steps, *, mass=None):
    """Integrate Hamilton's equations for ``H = -logp(x) + p^T M^{-1} p / 2`` with the leapfrog scheme.

    Each step is a half kick ``p += eps/2 grad_logp(x)``, a drift
    ``x += eps M^{-1} p`` and another half kick. The scheme is symplectic and
    time-reversible: the energy error stays bounded and is ``O(eps^2)``, and
    flipping the final momentum and integrating again returns to the start.

    Parameters
    ----------
    grad_logp : callable
        ``grad_logp(x) -> array`` shaped like ``x`` (e.g. ``slopes.grad(logp)``).
    x, p : array_like
        Start position and momentum, of the same shape.
    step_size : float
        The step ``eps > 0``.
    n_steps : int
        Number of leapfrog steps (``>= 1``).
    mass : float, array_like or None
        The mass matrix ``M``: None (identity), a positive scalar, a positive
        vector (diagonal) or an SPD matrix over the flattened ``x``.

    Returns
    -------
    x, p : np.ndarray
        End position and momentum.

    Examples
    --------
    A harmonic oscillator ``logp(x) = -x^2 / 2`` rotates ``(x, p)`` by about ``eps * n_steps``:

    >>> import slopes as sl
    >>> x, p = leapfrog(lambda x: -x, np.array([1.0]), np.array([0.0]), 0.01, 157)
    >>> np.round(x, 2), np.round(p, 2)
    (array([0.]), array([-1.]))
    """
    who = "leapfrog()"
    if not callable(grad_logp):
        raise TypeError(f"{who}: grad_logp must be callable, e.g. slopes.grad(logp) (got {grad_logp!r})")
    eps = _positive_float(step_size, "step_size", who)
    n_steps = _positive_int(n_steps, "n_steps", who)
    dtype = _float_dtype(x)
    x = np.asarray(x, dtype=dtype)
    p = np.asarray(p, dtype=dtype)
    if x.shape != p.shape:
        raise ValueError(f"{who}: x and p must have the same shape (got {x.shape} and {p.shape})")
    metric = _Metric(mass, x.size, who)
    shape = x.shape

    def vg(flat):
        return None, np.asarray(grad_logp(flat.reshape(shape)), dtype=dtype).reshape(-1)

    g = vg(x.reshape(-1))[1]
    xe, pe, _, _, _ = _trajectory(vg, x.reshape(-1), p.reshape(-1), g, eps, n_steps, metric)
    return xe.reshape(shape).astype(dtype, copy=False), pe.reshape(shape).astype(dtype, copy=False)


class HMCResult(NamedTuple):
    """What :func:`hmc` returns.

    ``samples`` has shape ``(n_samples,) + x0.shape``; ``log_prob`` the value of
    ``logp`` at each sample; ``acceptance_rate`` the mean acceptance probability
    after warmup; ``ess`` the effective sample size of each coordinate
    (:func:`effective_sample_size`); ``step_size`` and ``n_steps`` what the
    sampling phase used (after adaptation); ``n_divergent`` the number of
    trajectories that left the finite region of ``logp`` after warmup.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> r = hmc(lambda x: -0.5 * snp.sum(x**2), np.zeros(3), n_samples=100, n_steps=4, seed=0)
    >>> r.samples.shape, r.log_prob.shape, r.ess.shape, r.n_steps
    ((100, 3), (100,), (3,), 4)
    """

    samples: np.ndarray
    log_prob: np.ndarray
    acceptance_rate: float
    ess: np.ndarray
    step_size: float
    n_steps: int
    n_divergent: int

    __repr__ = brief_repr

    def _card(self) -> Card:
        verdict, status = f"acceptance {self.acceptance_rate:.2f}", "good"
        if self.n_divergent:
            verdict, status = f"{self.n_divergent} divergent trajectories", "warn"
        rows = [("samples", f"{len(self.samples)} of shape {self.samples.shape[1:]}"),
                ("sample mean", np.mean(self.samples, axis=0)), ("effective sample size (min)", float(np.min(self.ess))),
                ("step size, leapfrog steps", (self.step_size, self.n_steps))]
        return Card(verdict, status, "hmc", rows, curves=[("log p of the samples", self.log_prob)])

    _repr_html_ = card_html


def hmc(
    logp,
    x0,
    *,
    n_samples,
    step_size=0.1,
    n_steps=None,
    path_length=None,
    n_warmup=0,
    adapt_step_size=True,
    target_accept=0.8,
    mass=None,
    seed=None,
) -> HMCResult:
    """Sample ``p(x) ∝ exp(logp(x))`` with Hamiltonian Monte Carlo.

    Parameters
    ----------
    logp : callable
        Log density up to a constant, ``logp(x) -> scalar``, written with
        :mod:`slopes.numpy` (its gradient comes from automatic differentiation).
        ``-inf`` outside the support is allowed: such proposals are rejected.
    x0 : array_like
        Starting point (any shape; float32 samples stay float32).
    n_samples : int
        Number of samples kept after warmup.
    step_size : float
        Leapfrog step (the initial one when it is adapted).
    n_steps : int, optional
        Leapfrog steps per iteration. Give this or ``path_length``; default 10.
    path_length : float, optional
        Trajectory length ``step_size * n_steps``: ``n_steps`` follows the
        (adapted) step size.
    n_warmup : int
        Iterations run first and discarded; during them the step size is tuned.
    adapt_step_size : bool
        Tune the step size during warmup by dual averaging (Hoffman & Gelman,
        2014) so that the mean acceptance probability approaches ``target_accept``.
    target_accept : float
        In ``(0, 1)``.
    mass : float, array_like or None
        Mass matrix ``M`` (see :func:`leapfrog`). An estimate of the posterior
        precision (e.g. the Hessian of ``-logp`` at the mode) makes a badly
        scaled target isotropic for the sampler.
    seed : int or None
        Seed of the random generator; same seed, same chain.

    Returns
    -------
    HMCResult
        ``samples``, ``log_prob``, ``acceptance_rate``, ``ess``, ``step_size``,
        ``n_steps``, ``n_divergent``.

    Raises
    ------
    ValueError
        For a non-positive size or step, both ``n_steps`` and ``path_length``
        given, a mass that is not positive (definite), or ``logp(x0)`` not finite.

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> logp = lambda x: -0.5 * snp.sum((x - 3.0) ** 2)
    >>> r = sl.sampling.hmc(logp, np.zeros(2), n_samples=500, n_steps=5, step_size=0.3, n_warmup=100, seed=0)
    >>> r.samples.shape, bool(np.all(np.abs(r.samples.mean(0) - 3.0) < 0.3)), r.acceptance_rate > 0.6
    ((500, 2), True, True)
    """
    who = "hmc()"
    if not callable(logp):
        raise TypeError(f"{who}: logp must be a callable returning the log density (got {logp!r})")
    n_samples = _positive_int(n_samples, "n_samples", who)
    eps = _positive_float(step_size, "step_size", who)
    if isinstance(n_warmup, bool) or not isinstance(n_warmup, int | np.integer) or n_warmup < 0:
        raise ValueError(f"{who}: n_warmup must be a non-negative integer (got {n_warmup!r})")
    if n_steps is not None and path_length is not None:
        raise ValueError(f"{who}: give n_steps or path_length, not both")
    if path_length is not None:
        path_length = _positive_float(path_length, "path_length", who)
    else:
        n_steps = 10 if n_steps is None else _positive_int(n_steps, "n_steps", who)
    if not 0.0 < float(target_accept) < 1.0:
        raise ValueError(f"{who}: target_accept must lie in (0, 1) (got {target_accept!r})")

    dtype = _float_dtype(x0)
    x0 = np.asarray(x0, dtype=dtype)
    shape, d = x0.shape, x0.size
    metric = _Metric(mass, d, who)
    rng = np.random.default_rng(seed)
    staged = Staged(value_and_grad(logp))

    def vg(flat):
        lp, g = staged(flat.reshape(shape))
        return float(lp), np.asarray(g, dtype=dtype).reshape(-1)

    x = x0.reshape(-1).copy()
    lp, g = vg(x)
    if not (np.isfinite(lp) and np.all(np.isfinite(g))):
        raise ValueError(f"{who}: logp(x0) = {lp} (or its gradient) is not finite; start inside the support")

    def steps_for(e):
        return n_steps if path_length is None else int(min(max(1, math.ceil(path_length / e)), 10_000))

    # dual averaging state (Hoffman & Gelman 2014, Algorithm 5, their default constants)
    mu, gamma, t0, kappa = math.log(10.0 * eps), 0.05, 10.0, 0.75
    h_bar, log_eps_bar = 0.0, 0.0
    adapt = adapt_step_size and n_warmup > 0

    samples = np.empty((n_samples, d), dtype=dtype)
    log_prob = np.empty(n_samples)
    accept_sum, n_divergent = 0.0, 0
    with np.errstate(all="ignore"):  # a wild trajectory may overflow; it is rejected, not warned about
        for it in range(n_warmup + n_samples):
            p = metric.sample(rng, d).astype(dtype)
            h0 = -lp + metric.kinetic(p)
            xn, pn, lpn, gn, ok = _trajectory(vg, x, p, g, eps, steps_for(eps), metric)
            h1 = -lpn + metric.kinetic(pn) if ok else math.inf
            accept = math.exp(min(0.0, h0 - h1)) if math.isfinite(h1) else 0.0
            if rng.random() < accept:
                x, lp, g = xn, lpn, gn
            if it < n_warmup:
                if adapt:
                    m = it + 1
                    h_bar += (target_accept - accept - h_bar) / (m + t0)
                    log_eps = mu - math.sqrt(m) / gamma * h_bar
                    w = m**-kappa
                    log_eps_bar = w * log_eps + (1.0 - w) * log_eps_bar
                    eps = math.exp(log_eps) if it < n_warmup - 1 else math.exp(log_eps_bar)
                continue
            k = it - n_warmup
            samples[k], log_prob[k] = x, lp
            accept_sum += accept
            n_divergent += not (ok and math.isfinite(h1) and h1 - h0 < 1000.0)
    samples = samples.reshape((n_samples, *shape))
    return HMCResult(
        samples=samples,
        log_prob=log_prob,
        acceptance_rate=accept_sum / n_samples,
        ess=effective_sample_size(samples) if n_samples >= 4 else np.full(shape, np.nan),
        step_size=eps,
        n_steps=steps_for(eps),
        n_divergent=n_divergent,
    )


def effective_sample_size(samples):
    """Effective sample size of one Markov chain, per coordinate (Geyer's initial monotone sequence).

    ``ESS = n / tau`` with the integrated autocorrelation time
    ``tau = -1 + 2 * sum_k (rho_{2k} + rho_{2k+1})``, summed while the pair sums
    stay positive and made non-increasing (Geyer, 1992), as Stan computes it for
    one chain (:func:`slopes.sampling.diagnostics.autocorrelation_time`; the chain
    is not split). For an AR(1) chain with coefficient ``phi`` it estimates
    ``n (1 - phi) / (1 + phi)``. As in Stan, ``tau`` is floored at
    ``1 / log10(n)``, so the ESS of an antithetic chain stays finite. For several
    chains, use :func:`slopes.sampling.diagnostics.ess`.

    Parameters
    ----------
    samples : array_like
        Shape ``(n,)`` or ``(n, ...)``: ``n >= 4`` draws of one chain.

    Returns
    -------
    float or np.ndarray
        A float for a 1-D chain, else an array of shape ``samples.shape[1:]``;
        NaN for a coordinate that never moves (its ESS is undefined).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> iid = rng.standard_normal((4000, 2))
    >>> ess = effective_sample_size(iid)
    >>> ess.shape, bool(np.all(np.abs(ess / 4000 - 1) < 0.3))  # iid: ESS ~ n, a noisy estimate
    ((2,), True)
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 0 or x.shape[0] < 4:
        raise ValueError(
            f"effective_sample_size(): need an array of n >= 4 draws along axis 0 (got shape {x.shape})"
        )
    n = x.shape[0]
    flat = x.reshape(n, -1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("effective_sample_size(): samples contain NaN or inf")
    ess = n / autocorrelation_time(flat[None])
    out = ess.reshape(x.shape[1:])
    return float(out) if out.ndim == 0 else out


class ChainsResult(NamedTuple):
    """What :func:`hmc_chains` returns: every chain's draws and the multi-chain diagnostics.

    ``samples`` has shape ``(chains, n_samples) + x0.shape``; ``log_prob`` ``(chains,
    n_samples)``; ``acceptance_rate``, ``step_size``, ``n_steps`` and ``n_divergent`` one
    entry per chain (as in :class:`HMCResult`); ``rhat`` the rank-normalised split-R-hat
    and ``ess`` the bulk effective sample size of all chains together, per coordinate
    (:mod:`slopes.sampling.diagnostics`; NaN with fewer than 4 draws, and ``rhat`` NaN for
    one chain); ``seeds`` the ``np.random.SeedSequence`` each chain ran with.

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> r = hmc_chains(lambda x: -0.5 * snp.sum(x**2), np.zeros((2, 3)), n_samples=50, seed=0)
    >>> r.samples.shape, r.log_prob.shape, r.rhat.shape, r.acceptance_rate.shape
    ((2, 50, 3), (2, 50), (3,), (2,))
    """

    samples: np.ndarray
    log_prob: np.ndarray
    acceptance_rate: np.ndarray
    step_size: np.ndarray
    n_steps: np.ndarray
    n_divergent: np.ndarray
    rhat: np.ndarray
    ess: np.ndarray
    seeds: list


def hmc_chains(logp, x0s, *, n_samples, executor=None, seed=None, **hmc_options) -> ChainsResult:
    """Run one :func:`hmc` chain per start, serially or on an executor, and diagnose them together.

    Chain ``i`` starts at ``x0s[i]`` with seed ``np.random.SeedSequence(seed).spawn(chains)[i]``
    (fixed before any chain is dispatched), so every executor gives bit-identical draws.

    Parameters
    ----------
    logp : callable
        As for :func:`hmc`. With a ``ProcessPoolExecutor`` it is pickled: a module-level
        function always works, a lambda or closure when ``cloudpickle`` is installed.
    x0s : array_like
        One start per chain, stacked along axis 0: shape ``(chains,) + x0.shape``. Starts
        spread over the target's bulk make R-hat meaningful (chains from one point can
        agree without having mixed).
    n_samples : int
        Draws kept per chain.
    executor : concurrent.futures.Executor or None
        Where the chains run (see :mod:`slopes.executors`); None runs them one after another.
    seed : None, int or np.random.SeedSequence
        Root of the chains' seeds.
    **hmc_options
        Passed to every :func:`hmc` call (``step_size``, ``n_steps``, ``n_warmup``, ``mass``, ...).

    Returns
    -------
    ChainsResult

    Examples
    --------
    >>> import slopes as sl, slopes.numpy as snp
    >>> logp = lambda x: -0.5 * snp.sum((x - 1.0) ** 2)
    >>> starts = np.array([[-2.0, 0.0], [0.0, 3.0], [4.0, 1.0], [1.0, -1.0]])
    >>> r = sl.sampling.hmc_chains(logp, starts, n_samples=300, n_warmup=100, n_steps=5, seed=0)
    >>> r.samples.shape, bool(np.all(r.rhat < 1.05)), bool(np.all(np.abs(r.samples.mean((0, 1)) - 1) < 0.2))
    ((4, 300, 2), True, True)
    """
    from ..executors import run_tasks, spawn_seeds
    from .diagnostics import ess, rhat

    who = "hmc_chains()"
    if "seed" in hmc_options or "x0" in hmc_options:
        raise TypeError(f"{who}: give the starts as x0s and one seed for all chains")
    starts = np.asarray(x0s)
    if starts.ndim == 0 or starts.shape[0] == 0:
        raise ValueError(f"{who}: x0s needs one start per chain along axis 0, shape (chains, ...) "
                         f"(got shape {starts.shape}); np.tile(x0, (k, 1)) starts k chains at x0")
    seeds = spawn_seeds(seed, starts.shape[0], who)
    task = functools.partial(_one_chain, logp, dict(hmc_options, n_samples=n_samples))
    runs = run_tasks(task, zip(starts, seeds), executor, who)
    samples = np.stack([r.samples for r in runs])
    nan = np.full(starts.shape[1:], np.nan)
    return ChainsResult(
        samples=samples,
        log_prob=np.stack([r.log_prob for r in runs]),
        acceptance_rate=np.array([r.acceptance_rate for r in runs]),
        step_size=np.array([r.step_size for r in runs]),
        n_steps=np.array([r.n_steps for r in runs]),
        n_divergent=np.array([r.n_divergent for r in runs]),
        rhat=rhat(samples) if len(runs) > 1 and samples.shape[1] >= 4 else nan,
        ess=ess(samples) if samples.shape[1] >= 4 else nan,
        seeds=seeds,
    )


def _one_chain(logp, options, x0, seed) -> HMCResult:
    return hmc(logp, x0, seed=seed, **options)
