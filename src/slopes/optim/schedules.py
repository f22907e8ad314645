"""Learning-rate schedules: functions of the step count ``t = 0, 1, 2, ...``.

A schedule is any callable ``t -> float``; every ``learning_rate=`` argument in
:mod:`slopes.optim` accepts one (or a plain float). Update number ``t`` (counting
from 0) uses ``schedule(t)``. The schedules here also accept an array of steps and
then return an array, which is handy for plotting.

:func:`reduce_on_plateau` is different: it depends on the observed loss, so it is a
gradient transformation whose ``update`` takes ``loss=``; chain it after an optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..core.pytree import tree_map
from .base import GradientTransformation

__all__ = [
    "as_schedule",
    "constant",
    "piecewise_constant",
    "step_decay",
    "exponential_decay",
    "cosine_decay",
    "warmup_cosine",
    "one_cycle",
    "reduce_on_plateau",
    "PlateauState",
]


def _out(x):
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def as_schedule(learning_rate) -> Callable:
    """Turn a float or a callable into a schedule ``t -> float``.

    Examples
    --------
    >>> from slopes.optim import as_schedule
    >>> as_schedule(0.1)(7), as_schedule(lambda t: 1.0 / (t + 1))(3)
    (0.1, 0.25)
    """
    if callable(learning_rate):
        return learning_rate
    value = float(learning_rate)
    return lambda t: value


def constant(value: float) -> Callable:
    """The schedule that is always ``value``.

    Examples
    --------
    >>> from slopes.optim import constant
    >>> constant(0.3)(100)
    0.3
    """
    value = float(value)

    def schedule(t):
        return _out(np.full(np.shape(t), value))

    return schedule


def piecewise_constant(boundaries, values) -> Callable:
    """Step function: ``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]``.

    ``len(values) == len(boundaries) + 1``; boundaries increase.

    Examples
    --------
    >>> from slopes.optim import piecewise_constant
    >>> s = piecewise_constant([10, 20], [1.0, 0.1, 0.01])
    >>> s(0), s(9), s(10), s(25)
    (1.0, 1.0, 0.1, 0.01)
    """
    boundaries = np.asarray(boundaries)
    values = np.asarray(values, dtype=np.float64)
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"piecewise_constant: need len(values) == len(boundaries) + 1, got {len(values)} and {len(boundaries)}"
        )
    if np.any(np.diff(boundaries) <= 0):
        raise ValueError("piecewise_constant: boundaries must increase strictly")

    def schedule(t):
        return _out(values[np.searchsorted(boundaries, t, side="right")])

    return schedule


def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Callable:
    """Multiply by ``gamma`` every ``step_size`` steps: ``init * gamma ** (t // step_size)``.

    Examples
    --------
    >>> from slopes.optim import step_decay
    >>> s = step_decay(1.0, 10, 0.5)
    >>> s(9), s(10), s(20)
    (1.0, 0.5, 0.25)
    """

    def schedule(t):
        return _out(init_value * gamma ** (np.asarray(t) // step_size))

    return schedule


def exponential_decay(
    init_value: float, decay_rate: float, transition_steps: int = 1, staircase: bool = False
) -> Callable:
    """``init * decay_rate ** (t / transition_steps)`` (the exponent floored if ``staircase``).

    Examples
    --------
    >>> from slopes.optim import exponential_decay
    >>> s = exponential_decay(1.0, 0.5, transition_steps=2)
    >>> s(0), s(1), s(2)
    (1.0, 0.7071067811865476, 0.5)
    """

    def schedule(t):
        p = np.asarray(t, dtype=np.float64) / transition_steps
        if staircase:
            p = np.floor(p)
        return _out(init_value * decay_rate**p)

    return schedule


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Callable:
    """Half a cosine from ``init_value`` at ``t=0`` to ``alpha * init_value`` at ``t=decay_steps``.

    ``final + (init - final) (1 + cos(pi min(t, T) / T)) / 2`` with ``final = alpha init``,
    which is PyTorch's ``CosineAnnealingLR(T_max=T, eta_min=final)`` for ``t <= T``.

    Examples
    --------
    >>> from slopes.optim import cosine_decay
    >>> s = cosine_decay(1.0, 10, alpha=0.1)
    >>> s(0), s(5), s(10), s(50)
    (1.0, 0.55, 0.1, 0.1)
    """
    if decay_steps <= 0:
        raise ValueError("cosine_decay: decay_steps must be positive")
    final = alpha * init_value

    def schedule(t):
        frac = np.minimum(np.asarray(t, dtype=np.float64), decay_steps) / decay_steps
        return _out(final + (init_value - final) * (1 + np.cos(np.pi * frac)) / 2)

    return schedule


def warmup_cosine(
    peak_value: float,
    warmup_steps: int,
    total_steps: int,
    init_value: float = 0.0,
    final_fraction: float = 0.0,
) -> Callable:
    """Linear warmup from ``init_value`` to ``peak_value``, then a cosine down to ``final_fraction * peak``.

    For ``t < warmup_steps``: ``init + (peak - init) t / warmup_steps``; from
    ``warmup_steps`` to ``total_steps``: :func:`cosine_decay` over the remaining
    ``total_steps - warmup_steps`` steps; constant afterwards.

    Examples
    --------
    >>> from slopes.optim import warmup_cosine
    >>> s = warmup_cosine(1.0, warmup_steps=4, total_steps=14, final_fraction=0.1)
    >>> s(0), s(2), s(4), s(9), s(14), s(100)
    (0.0, 0.5, 1.0, 0.55, 0.1, 0.1)
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError("warmup_cosine: need 0 <= warmup_steps < total_steps")
    decay = cosine_decay(peak_value, total_steps - warmup_steps, alpha=final_fraction)

    def schedule(t):
        t = np.asarray(t, dtype=np.float64)
        warm = init_value + (peak_value - init_value) * t / max(warmup_steps, 1)
        return _out(np.where(t < warmup_steps, warm, decay(np.maximum(t - warmup_steps, 0.0))))

    return schedule


def one_cycle(
    max_value: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal: str = "cos",
) -> Callable:
    """The one-cycle policy (Smith & Topin), with PyTorch ``OneCycleLR``'s conventions.

    Rises from ``max_value / div_factor`` to ``max_value`` at step
    ``pct_start * total_steps - 1``, then falls to
    ``max_value / div_factor / final_div_factor`` at step ``total_steps - 1``,
    each phase by a half cosine (``anneal="cos"``) or a line (``anneal="linear"``).

    Examples
    --------
    >>> from slopes.optim import one_cycle
    >>> s = one_cycle(1.0, total_steps=11, pct_start=0.1, div_factor=10, final_div_factor=10)
    >>> s(0), s(0.1), s(10)
    (0.1, 1.0, 0.01)
    """
    if anneal not in ("cos", "linear"):
        raise ValueError("one_cycle: anneal must be 'cos' or 'linear'")
    initial = max_value / div_factor
    final = initial / final_div_factor
    mid = float(pct_start * total_steps) - 1
    end = float(total_steps - 1)

    def ann(start, stop, pct):
        if anneal == "cos":
            return stop + (start - stop) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (stop - start) * pct + start

    def schedule(t):
        t = np.asarray(t, dtype=np.float64)
        up = ann(initial, max_value, t / mid)
        down = ann(max_value, final, (t - mid) / (end - mid))
        return _out(np.where(t <= mid, up, down))

    return schedule


class PlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau`; ``lr_scale`` multiplies the optimizer's lr."""

    count: int
    lr_scale: float
    best: float
    num_bad: int
    cooldown_left: int


def reduce_on_plateau(
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_scale: float = 0.0,
) -> GradientTransformation:
    """Scale the updates down by ``factor`` when the loss stops improving.

    A transformation: chain it *after* an optimizer and pass the current loss to
    every ``update(..., loss=f)``. The loss is taken first (as PyTorch's
    ``ReduceLROnPlateau.step(loss)``, mode ``"min"``): it improves on the best if
    ``loss < best (1 - threshold)`` (``"rel"``) or ``loss < best - threshold``
    (``"abs"``); after more than ``patience`` non-improving losses the scale is
    multiplied by ``factor`` (not below ``min_scale``) and ``cooldown`` losses are
    ignored. The new scale then multiplies this update. :func:`learning_rate` of the
    chained state includes the scale.

    Examples
    --------
    >>> from slopes.optim import chain, sgd, reduce_on_plateau, learning_rate
    >>> opt = chain(sgd(1.0), reduce_on_plateau(factor=0.5, patience=1))
    >>> s = opt.init(np.zeros(1))
    >>> for f in [3.0, 2.0, 2.0, 2.0]:
    ...     upd, s = opt.update(np.ones(1), s, loss=f)
    >>> learning_rate(s), upd
    (0.5, array([-0.5]))
    """
    if threshold_mode not in ("rel", "abs"):
        raise ValueError("reduce_on_plateau: threshold_mode must be 'rel' or 'abs'")

    def init(params):
        return PlateauState(0, 1.0, math.inf, 0, 0)

    def update(updates, state, params=None, loss=None, **extra):
        if loss is None:
            raise ValueError("reduce_on_plateau: pass the current loss, update(grads, state, params, loss=f)")
        loss = float(loss)
        count, scale, best, num_bad, cool = state
        if threshold_mode == "rel":
            better = loss < best * (1.0 - threshold)
        else:
            better = loss < best - threshold
        if better:
            best, num_bad = loss, 0
        else:
            num_bad += 1
        if cool > 0:
            cool -= 1
            num_bad = 0
        if num_bad > patience:
            scale = max(scale * factor, min_scale)
            cool, num_bad = cooldown, 0
        out = tree_map(lambda u: u * scale, updates)
        return out, PlateauState(count + 1, scale, best, num_bad, cool)

    return GradientTransformation(init, update)
