"""The learning-rate range test: sweep the learning rate up exponentially and watch the loss.

Starting from ``params``, take one optimizer step per mini-batch with the learning rate
growing geometrically from ``min_lr`` to ``max_lr`` over ``num_steps`` steps, recording
the batch loss before each step. The loss first barely moves (lr too small), then falls,
then blows up (lr too large). The losses are smoothed with a bias-corrected exponential
moving average; the sweep stops once the smoothed loss exceeds ``diverge_factor`` times
its lowest value (or a loss is not finite).

Suggestion rule: **the learning rate at the minimum of the smoothed loss, divided by
10** -- the minimum marks where the loss stops falling and starts to blow up (the
moving average lags, so it can sit somewhat past that point), and a tenth of it is a
safe rate that still trains fast. (The steepest-descent point of the curve is the other common rule;
the min/10 rule is less sensitive to noise and to the smoothing's lag.)

Examples
--------
>>> import slopes.numpy as snp
>>> X = np.random.default_rng(0).normal(size=(64, 2)); y = X @ np.array([1.0, -1.0])
>>> res = lr_find(lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2), np.zeros(2), (X, y), batch_size=16)
>>> res.stopped_early, res.lrs.shape == res.losses.shape == res.smoothed.shape
(True, True)
>>> 0.01 < res.suggestion < 1.0
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._display import Card, brief_repr, card_html
from ..optim import apply_updates, sgd
from ..optim.stochastic import MiniBatches
from ..transforms import value_and_grad
from .training import _check_params, _Staged

__all__ = ["lr_find", "LRFindResult"]


@dataclass
class LRFindResult:
    """Outcome of :func:`lr_find`; plot ``losses`` / ``smoothed`` against ``lrs`` (log x axis).

    Attributes
    ----------
    lrs : ndarray
        The learning rate of each step taken.
    losses : ndarray
        The batch loss at each step (before its update).
    smoothed : ndarray
        Bias-corrected exponential moving average of ``losses``.
    suggestion : float
        ``lr_min / 10`` (see the module docstring).
    lr_min : float
        The learning rate where ``smoothed`` is lowest.
    stopped_early : bool
        The sweep stopped at divergence before ``max_lr``.
    diverged : bool
        The loss blew up somewhere in the sweep (before ``max_lr`` or at its last step).
        When False, the sweep never reached the blow-up that the ``lr_min / 10`` rule
        assumes, and ``suggestion`` is only a guess: sweep to a larger ``max_lr``.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    lr_min: float
    stopped_early: bool
    diverged: bool

    __repr__ = brief_repr

    def _card(self) -> Card:
        status, detail = "good", "the learning rate at the smoothed loss's minimum, divided by 10"
        if not self.diverged:
            status, detail = "warn", "the loss never blew up: the suggestion is only a guess; sweep to a larger max_lr"
        rows = [("lr at the minimum", self.lr_min), ("steps", len(self.lrs)),
                ("lr range", f"{self.lrs[0]:.3g} to {self.lrs[-1]:.3g}" if len(self.lrs) else "none")]
        return Card(f"suggested lr {self.suggestion:.3g}", status, "lr_find", rows, detail,
                    curves=[("smoothed loss (lr growing)", self.smoothed), ("batch loss", self.losses)])

    _repr_html_ = card_html


def lr_find(
    loss,
    params,
    data,
    *,
    optimizer_fn=sgd,
    min_lr=1e-7,
    max_lr=10.0,
    num_steps=100,
    batch_size=None,
    seed=0,
    smoothing=0.98,
    diverge_factor=4.0,
    jit=True,
) -> LRFindResult:
    """Run the learning-rate range test (see the module docstring).

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``, as for :func:`slopes.ml.fit`.
    params : pytree of float arrays
        The starting parameters (not modified).
    data : array or tuple / list / dict of arrays
    optimizer_fn : callable
        ``learning_rate -> GradientTransformation``; it is given a schedule (a function of
        the step), so any :mod:`slopes.optim` factory works (``sgd``, ``adam``, ...).
    min_lr, max_lr : float
        The sweep's ends (``0 < min_lr < max_lr``).
    num_steps : int
        Steps from ``min_lr`` to ``max_lr`` (at least 2).
    batch_size : int or None
        Mini-batch size (None: full batch); batches are shuffled from ``seed``.
    smoothing : float
        The moving average's ``beta`` in ``[0, 1)`` (0: no smoothing).
    diverge_factor : float
        Stop when the smoothed loss exceeds this times its minimum (> 1).
    jit : bool
        Replay the gradient with ``sl.jit``.

    Returns
    -------
    LRFindResult

    Examples
    --------
    >>> import slopes.numpy as snp
    >>> res = lr_find(lambda w, b: 0.5 * snp.sum(w**2) + 0 * snp.sum(b), np.ones(2), np.zeros(1),
    ...               min_lr=1e-3, max_lr=100.0, num_steps=60, smoothing=0.0)
    >>> bool(res.lrs[-1] > 2.0), res.suggestion < 2.0, res.diverged   # GD on w^2/2 diverges for lr > 2
    (True, True, True)
    """
    if not callable(loss):
        raise TypeError(f"lr_find(): loss must be a function loss(params, batch), got {type(loss).__name__}")
    if not 0 < min_lr < max_lr:
        raise ValueError(f"lr_find(): need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"lr_find(): num_steps must be an integer >= 2, got {num_steps!r}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"lr_find(): smoothing must be in [0, 1), got {smoothing!r}")
    if not diverge_factor > 1.0:
        raise ValueError(f"lr_find(): diverge_factor must be > 1, got {diverge_factor!r}")
    params = _check_params(params)
    lr_at = min_lr * (max_lr / min_lr) ** (np.arange(num_steps) / (num_steps - 1))
    opt = optimizer_fn(lambda step: float(lr_at[min(int(step), num_steps - 1)]))
    state = opt.init(params)
    vg = _Staged(value_and_grad(loss), jit, {})
    batches = iter(MiniBatches(data, batch_size, shuffle=True, seed=seed))

    losses, smoothed = [], []
    avg, best, diverged = 0.0, math.inf, False
    for k in range(num_steps):
        _, _, batch = next(batches)
        value, grads = vg(params, batch)
        value = float(value)
        if not math.isfinite(value):
            diverged = True
            break
        avg = smoothing * avg + (1.0 - smoothing) * value
        s = avg / (1.0 - smoothing ** (k + 1))  # bias correction: the average starts at 0
        losses.append(value)
        smoothed.append(s)
        best = min(best, s)
        if s > diverge_factor * best:
            diverged = True
            break
        # grad_fn: the gradient on this batch, for optimizers that re-evaluate it (sam)
        updates, state = opt.update(grads, state, params, grad_fn=lambda p, b=batch: vg(p, b)[1], loss=value)
        params = apply_updates(params, updates)

    lrs = lr_at[: len(losses)]
    smoothed = np.asarray(smoothed)
    lr_min = float(lrs[int(np.argmin(smoothed))]) if len(losses) else math.nan
    return LRFindResult(
        lrs=lrs,
        losses=np.asarray(losses),
        smoothed=smoothed,
        suggestion=lr_min / 10.0,
        lr_min=lr_min,
        stopped_early=diverged and len(losses) < num_steps,
        diverged=diverged,
    )
