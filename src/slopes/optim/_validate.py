"""Argument checks shared by the optimizers, schedules, ``minimize`` and the estimators.

Every numeric argument is checked where it enters, so a bad one fails at once with
its name, instead of as a NaN or a "diverged" message many steps later.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_number", "check_learning_rate"]


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    allow_none: bool = False,
):
    """Validate a numeric argument; returns it (``int`` or ``float``), or a clear error.

    NaN and infinities are refused, and bools; with ``integer`` only integers are
    accepted (``2.5`` and ``1e3`` raise TypeError, as scikit-learn's parameter checks do).

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message (e.g. ``"sgd: learning_rate"``).
    low, high : float, optional
        Bounds (inclusive; ``low_open`` / ``high_open`` exclude them).
    integer : bool, default False
        Require an integer.
    allow_none : bool, default False
        Accept ``None`` (returned unchanged).

    Examples
    --------
    >>> from slopes.optim._validate import check_number
    >>> check_number(0.5, "C", low=0, low_open=True), check_number(np.int64(10), "steps", integer=True)
    (0.5, 10)
    >>> check_number(float("nan"), "learning_rate", low=0)
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be finite, got nan
    """
    if value is None and allow_none:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return int(value) if integer else float(value)


def check_learning_rate(value, name: str = "learning_rate", step=None, positive: bool = False):
    """A learning rate: a finite number ``>= 0`` (``> 0`` if ``positive``), or an array of them.

    ``step`` (the step count the value is for, or an array of them) goes into the
    message when the value came from a schedule.

    Examples
    --------
    >>> from slopes.optim._validate import check_learning_rate
    >>> check_learning_rate(0.1)
    0.1
    >>> check_learning_rate(np.array([0.1, -1.0]), step=np.array([0, 1]))
    Traceback (most recent call last):
    ...
    ValueError: learning_rate: the schedule gave -1.0 at step 1; a learning rate must be a finite number >= 0
    """
    if step is not None and type(value) is float and (value > 0 if positive else value >= 0) and value != math.inf:
        return value  # the common case, once per optimizer step: a valid Python float
    bound = "> 0" if positive else ">= 0"
    if step is None:
        if isinstance(value, np.ndarray) and value.ndim > 0:
            raise TypeError(f"{name} must be a number or a schedule t -> number, got an array of shape {value.shape}")
        value = check_number(value, name, low=0)
        if positive and value == 0:
            raise ValueError(f"{name} must be > 0, got {value!r}: a step of size 0 never moves")
        return value
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: the schedule returned {value!r} at step {step}; it must return a number") from None
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if np.any(bad):
        i = np.flatnonzero(bad)[0]
        at = np.broadcast_to(np.asarray(step), arr.shape).flat[i] if arr.ndim else step
        raise ValueError(
            f"{name}: the schedule gave {float(arr.flat[i])!r} at step {at}; a learning rate must be a finite "
            f"number {bound}"
        )
    return float(arr) if arr.ndim == 0 else value
