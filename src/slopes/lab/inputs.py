"""Reading a lab request: every value checked, every refusal a :class:`LabInputError` that says what to change.

The request is a JSON object (a dict here). Numbers must be finite and inside the range
the page offers; formulas are read by :func:`slopes.parse` (never ``eval``) with the
lab's length limit; sizes are checked against :data:`~slopes.lab.limits.LIMITS`.

Examples
--------
>>> number({"lr": 0.1}, "lr", 0.01, lo=0.0, hi=1.0)
0.1
>>> number({"lr": "nan"}, "lr", 0.01, lo=0.0, hi=1.0)
Traceback (most recent call last):
...
slopes.lab.inputs.LabInputError: lr must be a finite number between 0 and 1, got 'nan'
>>> formula({"formula": "__import__('os')"}, ("x",)).variables
Traceback (most recent call last):
...
slopes.lab.inputs.LabInputError: formula: ...
"""

from __future__ import annotations

import math

import numpy as np

from ..expr import ExpressionError, parse
from .limits import LIMITS

__all__ = ["LabInputError", "choice", "formula", "integer", "number", "point", "window"]


class LabInputError(ValueError):
    """Input the lab refuses; the message is shown on the page as it is."""


def number(body: dict, key: str, default, *, lo: float, hi: float) -> float:
    """``body[key]`` (or ``default``) as a finite float in ``[lo, hi]``.

    Examples
    --------
    >>> number({}, "h", 0.5, lo=1e-6, hi=2.0)
    0.5
    """
    raw = body.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(raw, bool) or not math.isfinite(value) or not lo <= value <= hi:
        raise LabInputError(f"{key} must be a finite number between {lo:g} and {hi:g}, got {raw!r}")
    return value


def integer(body: dict, key: str, default: int, *, lo: int, hi: int) -> int:
    """``body[key]`` (or ``default``) as an int in ``[lo, hi]``; ``hi`` is the budget.

    Examples
    --------
    >>> integer({"n": 10**9}, "n", 10, lo=1, hi=5000)
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: n must be a whole number from 1 to 5000 (the lab's budget), got 1000000000
    """
    raw = body.get(key, default)
    ok = isinstance(raw, int | float | str) and not isinstance(raw, bool)
    try:
        value = int(raw) if ok and float(raw) == int(float(raw)) else None
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or not lo <= value <= hi:
        raise LabInputError(f"{key} must be a whole number from {lo} to {hi} (the lab's budget), got {raw!r}")
    return value


def choice(body: dict, key: str, default: str, options) -> str:
    """``body[key]`` (or ``default``), one of ``options``.

    Examples
    --------
    >>> choice({"model": "svm"}, "model", "mlp", ("softmax", "mlp"))
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: model must be one of softmax, mlp, got 'svm'
    """
    raw = body.get(key, default)
    if raw not in options:
        raise LabInputError(f"{key} must be one of {', '.join(options)}, got {raw!r}")
    return raw


def formula(body: dict, variables: tuple[str, ...], key: str = "formula"):
    """The formula ``body[key]`` parsed by :func:`slopes.parse` in ``variables`` (a subset may appear).

    Examples
    --------
    >>> formula({"formula": "x^2 + 10*y^2"}, ("x", "y")).variables
    ('x', 'y')
    >>> formula({"formula": "x^2 + z"}, ("x", "y"))
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: formula: use the variables x, y only (found z)
    """
    text = body.get(key, "")
    if not isinstance(text, str) or not text.strip():
        raise LabInputError(f"{key}: type a formula in {', '.join(variables)}, e.g. x^2 + 10*y^2")
    if len(text) > LIMITS.max_formula:
        raise LabInputError(
            f"{key}: {len(text)} characters is over the lab's limit of {LIMITS.max_formula}; write a shorter formula"
        )
    try:
        expr = parse(text)
        extra = sorted(set(expr.variables) - set(variables))
        if extra:
            raise LabInputError(f"{key}: use the variables {', '.join(variables)} only (found {', '.join(extra)})")
        return parse(text, variables=variables)
    except ExpressionError as e:
        raise LabInputError(f"{key}: {e}") from None


def point(body: dict, key: str, default, *, size: int, bound: float = 1e6) -> np.ndarray:
    """``body[key]`` (or ``default``) as a float vector of ``size`` finite numbers.

    Examples
    --------
    >>> point({"x0": [1, "2"]}, "x0", None, size=2)
    array([1., 2.])
    """
    raw = body.get(key, default)
    if not isinstance(raw, list | tuple) or len(raw) != size:
        raise LabInputError(f"{key} must be a list of {size} numbers, got {raw!r}")
    return np.array([number({key: v}, key, None, lo=-bound, hi=bound) for v in raw])


def window(body: dict, key: str, default) -> tuple[float, float]:
    """``body[key]`` (or ``default``) as an interval ``(lo, hi)`` with ``lo < hi``.

    Examples
    --------
    >>> window({"xlim": [2, 1]}, "xlim", None)
    Traceback (most recent call last):
    ...
    slopes.lab.inputs.LabInputError: xlim must be [lo, hi] with lo < hi, got [2, 1]
    """
    lo, hi = point(body, key, default, size=2, bound=1e4)
    if not lo < hi:
        raise LabInputError(f"{key} must be [lo, hi] with lo < hi, got {body.get(key, default)!r}")
    return float(lo), float(hi)
