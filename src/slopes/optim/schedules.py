"""Learning-rate schedules: functions of the step count ``t = 0, 1, 2, ...``.

A schedule is any callable ``t -> float``; every ``learning_rate=`` argument in
:mod:`slopes.optim` accepts one (or a plain float). Update number ``t`` (counting
from 0) uses ``schedule(t)``. The schedules here also accept an array of steps and
then return an array, which is handy for plotting.

Their parameters are checked when the schedule is made (as PyTorch's schedulers
do): values and rates must be finite, step counts positive integers. A schedule of
your own cannot be checked ahead for every step, so the value it returns is checked
at each use: NaN, an infinity or a negative learning rate is an error naming the step.

Inside a :func:`slopes.jit` program (a traced training step) ``t`` is a traced
integer: the schedules here are written with NumPy functions that trace, so the
program computes the next learning rate itself. A schedule of your own traces too
when written the same way (``np.cos``, ``np.where``; no ``float(t)``, no ``if t < ...``);
its values are then not known while tracing, so they are not checked there
(:func:`slopes.ml.fit` checks the learning rate it reads at every step).

:func:`reduce_on_plateau` is different: it depends on the observed loss, so it is a
gradient transformation whose ``update`` takes ``loss=``; chain it after an optimizer. Its
rule is written as selections (``np.where``), so it traces too, the loss a traced value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..core.pytree import tree_map
from ..core.trace import Tracer
from ._leafops import array, like, select, start
from ._validate import check_learning_rate, check_number
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
    if isinstance(x, Tracer):  # inside a traced step: the value the program computes
        return x
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def _steps(t):
    """The step(s) ``t`` as float64: an array, or a traced value inside a jitted step."""
    return t.astype(np.float64) if isinstance(t, Tracer) else np.asarray(t, dtype=np.float64)


class _Schedule:
    """A schedule as a small callable object, not a closure: plain pickle sends it to a worker
    process, and its repr shows the parameters it was made with."""

    name = ""

    def __call__(self, t):
        return _out(self.at(t))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{self.name}({args})"


class _Constant(_Schedule):
    name = "constant"

    def __init__(self, value):
        self.value = value

    def at(self, t):
        return self.value if isinstance(t, Tracer) else np.full(np.shape(t), self.value)


class _Checked:
    """A user's schedule whose every value is checked, with the step in the message."""

    def __init__(self, schedule, name):
        self.schedule, self.name = schedule, name

    def __call__(self, t):
        value = self.schedule(t)
        if isinstance(value, Tracer) or isinstance(t, Tracer):  # not known while tracing
            return value
        return check_learning_rate(value, self.name, step=t)

    def __repr__(self) -> str:
        return f"as_schedule({self.schedule!r})"


def as_schedule(learning_rate, name: str = "learning_rate") -> Callable:
    """Turn a float or a callable into a schedule ``t -> float`` whose values are checked.

    A number must be finite and ``>= 0`` (``torch.optim`` also refuses a negative
    one; 0 is allowed, as there, e.g. for a frozen phase). A callable is wrapped so
    that each value it returns is checked the same way, with the step in the message.
    ``name`` names the argument in the messages.

    Examples
    --------
    >>> from slopes.optim import as_schedule
    >>> as_schedule(0.1)(7), as_schedule(lambda t: 1.0 / (t + 1))(3)
    (0.1, 0.25)
    >>> as_schedule(lambda t: 0.1 - 0.05 * t)(3)
    Traceback (most recent call last):
    ...
    ValueError: learning_rate: the schedule gave -0.05000000000000002 at step 3; a learning rate must be a finite number >= 0
    """
    if callable(learning_rate):
        return _Checked(learning_rate, name)
    return _Constant(check_learning_rate(learning_rate, name))


def constant(value: float) -> Callable:
    """The schedule that is always ``value``.

    Examples
    --------
    >>> from slopes.optim import constant
    >>> constant(0.3)(100)
    0.3
    """
    return _Constant(check_learning_rate(value, "constant: value"))


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
    check_learning_rate(values, "piecewise_constant: values", step=np.arange(values.size))
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"piecewise_constant: need len(values) == len(boundaries) + 1, got {len(values)} and {len(boundaries)}"
        )
    if np.any(np.diff(boundaries) <= 0):
        raise ValueError("piecewise_constant: boundaries must increase strictly")
    return _PiecewiseConstant(boundaries, values)


class _PiecewiseConstant(_Schedule):
    name = "piecewise_constant"

    def __init__(self, boundaries, values):
        self.boundaries, self.values = boundaries, values

    def at(self, t):
        if not isinstance(t, Tracer):
            return self.values[np.searchsorted(self.boundaries, t, side="right")]
        # values[number of boundaries <= t], as a chain of selections a traced step records
        out = self.values[0]
        for b, v in zip(self.boundaries, self.values[1:]):
            out = np.where(t >= b, v, out)
        return out


def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Callable:
    """Multiply by ``gamma`` every ``step_size`` steps: ``init * gamma ** (t // step_size)``.

    Examples
    --------
    >>> from slopes.optim import step_decay
    >>> s = step_decay(1.0, 10, 0.5)
    >>> s(9), s(10), s(20)
    (1.0, 0.5, 0.25)
    """
    init_value = check_learning_rate(init_value, "step_decay: init_value")
    step_size = check_number(step_size, "step_decay: step_size", low=1, integer=True)
    gamma = check_number(gamma, "step_decay: gamma", low=0, low_open=True)
    return _StepDecay(init_value, step_size, gamma)


class _StepDecay(_Schedule):
    name = "step_decay"

    def __init__(self, init_value, step_size, gamma):
        self.init_value, self.step_size, self.gamma = init_value, step_size, gamma

    def at(self, t):
        return self.init_value * self.gamma ** (array(t) // self.step_size)


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
    init_value = check_learning_rate(init_value, "exponential_decay: init_value")
    decay_rate = check_number(decay_rate, "exponential_decay: decay_rate", low=0, low_open=True)
    transition_steps = check_number(transition_steps, "exponential_decay: transition_steps", low=1, integer=True)
    return _ExponentialDecay(init_value, decay_rate, transition_steps, bool(staircase))


class _ExponentialDecay(_Schedule):
    name = "exponential_decay"

    def __init__(self, init_value, decay_rate, transition_steps, staircase):
        self.init_value, self.decay_rate = init_value, decay_rate
        self.transition_steps, self.staircase = transition_steps, staircase

    def at(self, t):
        p = _steps(t) / self.transition_steps
        if self.staircase:
            p = np.floor(p)
        return self.init_value * self.decay_rate**p


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
    init_value = check_learning_rate(init_value, "cosine_decay: init_value")
    decay_steps = check_number(decay_steps, "cosine_decay: decay_steps", low=1, integer=True)
    alpha = check_number(alpha, "cosine_decay: alpha", low=0)
    return _CosineDecay(init_value, decay_steps, alpha)


class _CosineDecay(_Schedule):
    name = "cosine_decay"

    def __init__(self, init_value, decay_steps, alpha):
        self.init_value, self.decay_steps, self.alpha = init_value, decay_steps, alpha

    def at(self, t):
        final = self.alpha * self.init_value
        frac = np.minimum(_steps(t), self.decay_steps) / self.decay_steps
        return final + (self.init_value - final) * (1 + np.cos(np.pi * frac)) / 2


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
    peak_value = check_learning_rate(peak_value, "warmup_cosine: peak_value")
    init_value = check_learning_rate(init_value, "warmup_cosine: init_value")
    warmup_steps = check_number(warmup_steps, "warmup_cosine: warmup_steps", low=0, integer=True)
    total_steps = check_number(total_steps, "warmup_cosine: total_steps", low=1, integer=True)
    if not warmup_steps < total_steps:
        raise ValueError(
            f"warmup_cosine: need warmup_steps < total_steps (the cosine phase needs a step), got "
            f"{warmup_steps} and {total_steps}"
        )
    return _WarmupCosine(peak_value, warmup_steps, init_value,
                         cosine_decay(peak_value, total_steps - warmup_steps, alpha=final_fraction))


class _WarmupCosine(_Schedule):
    name = "warmup_cosine"

    def __init__(self, peak_value, warmup_steps, init_value, decay):
        self.peak_value, self.warmup_steps, self.init_value, self.decay = peak_value, warmup_steps, init_value, decay

    def at(self, t):
        t = _steps(t)
        warm = self.init_value + (self.peak_value - self.init_value) * t / max(self.warmup_steps, 1)
        return np.where(t < self.warmup_steps, warm, self.decay(np.maximum(t - self.warmup_steps, 0.0)))


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
    After step ``total_steps - 1`` it stays at that final value, as :func:`cosine_decay`
    does (PyTorch's ``OneCycleLR`` raises there instead; a run longer than planned
    should not climb back to the peak). When the rise phase ends at or before step 0
    (``pct_start * total_steps <= 1``) the schedule starts at the peak.

    Examples
    --------
    >>> from slopes.optim import one_cycle
    >>> s = one_cycle(1.0, total_steps=11, pct_start=0.1, div_factor=10, final_div_factor=10)
    >>> s(0), s(0.1), s(10), s(50)
    (0.1, 1.0, 0.01, 0.01)
    """
    if anneal not in ("cos", "linear"):
        raise ValueError(f"one_cycle: anneal must be 'cos' or 'linear', got {anneal!r}")
    max_value = check_learning_rate(max_value, "one_cycle: max_value")
    total_steps = check_number(total_steps, "one_cycle: total_steps", low=1, integer=True)
    pct_start = check_number(pct_start, "one_cycle: pct_start", low=0, high=1, high_open=True)
    div_factor = check_number(div_factor, "one_cycle: div_factor", low=0, low_open=True)
    final_div_factor = check_number(final_div_factor, "one_cycle: final_div_factor", low=0, low_open=True)
    initial = max_value / div_factor
    return _OneCycle(initial, max_value, initial / final_div_factor, float(pct_start * total_steps) - 1,
                     float(total_steps - 1), anneal)


class _OneCycle(_Schedule):
    name = "one_cycle"

    def __init__(self, initial, peak, final, mid, end, anneal):
        self.initial, self.peak, self.final, self.mid, self.end, self.anneal = initial, peak, final, mid, end, anneal

    def _ann(self, start, stop, pct):
        if self.anneal == "cos":
            return stop + (start - stop) / 2.0 * (np.cos(np.pi * pct) + 1)
        return (stop - start) * pct + start

    def at(self, t):
        t, mid = _steps(t), self.mid
        # both phases' fractions stay in [0, 1]: no division by a zero-length phase, no NaN
        # from the branch not taken, and a constant tail after the last step
        up = self._ann(self.initial, self.peak, np.clip(t / mid, 0.0, 1.0) if mid > 0 else 1.0)
        down = self._ann(self.peak, self.final, np.clip((t - mid) / (self.end - mid), 0.0, 1.0))
        return np.where(t <= mid, up, down)


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
        raise ValueError(f"reduce_on_plateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
    # PyTorch's ReduceLROnPlateau also refuses factor >= 1 (it would never reduce)
    factor = check_number(factor, "reduce_on_plateau: factor", low=0, high=1, low_open=True, high_open=True)
    patience = check_number(patience, "reduce_on_plateau: patience", low=0, integer=True)
    threshold = check_number(threshold, "reduce_on_plateau: threshold", low=0)
    cooldown = check_number(cooldown, "reduce_on_plateau: cooldown", low=0, integer=True)
    min_scale = check_number(min_scale, "reduce_on_plateau: min_scale", low=0)

    def init(params):
        return PlateauState(start(), 1.0, math.inf, start(), start())

    def update(updates, state, params=None, loss=None, **extra):
        if loss is None:
            raise ValueError("reduce_on_plateau: pass the current loss, update(grads, state, params, loss=f)")
        loss = loss if isinstance(loss, Tracer) else float(loss)
        count, scale, best, num_bad, cool = state
        # the rule as selections, not Python branches: it also runs inside a traced step
        if threshold_mode == "rel":
            better = loss < best * (1.0 - threshold)
        else:
            better = loss < best - threshold
        best, num_bad = select(better, loss, best), select(better, 0, num_bad + 1)
        cooling = cool > 0
        cool, num_bad = select(cooling, cool - 1, cool), select(cooling, 0, num_bad)
        cut = num_bad > patience
        scale = select(cut, np.maximum(scale * factor, min_scale), scale)
        cool, num_bad = select(cut, cooldown, cool), select(cut, 0, num_bad)
        if not isinstance(scale, Tracer):  # eagerly, the types init gives (save_state keeps them)
            scale, best, num_bad, cool = float(scale), float(best), np.int64(num_bad), np.int64(cool)
        out = tree_map(lambda u: like(u * scale, u), updates)
        return out, PlateauState(count + 1, scale, best, num_bad, cool)

    return GradientTransformation(init, update)
