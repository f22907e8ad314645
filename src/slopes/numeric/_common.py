"""What the numeric differentiators share: input checks, evaluation, non-finite errors."""

from __future__ import annotations

import numpy as np

from ..core.dtypes import is_floating

__all__ = ["NonFiniteError", "as_point", "call", "check_finite", "fun_name", "METHODS"]

METHODS = ("central", "forward", "backward", "complex")


class NonFiniteError(ValueError, FloatingPointError):
    """The function returned NaN or infinity where a finite difference needs its value."""


def fun_name(f):
    return getattr(f, "__name__", type(f).__name__)


def as_point(x, name):
    """``x`` as a float64 array (and its original dtype), or a TypeError for non-float input."""
    try:
        a = np.asarray(x)
    except ValueError:  # ragged nesting
        a = np.empty((), dtype=object)
    if a.dtype == object and isinstance(x, (list, tuple, dict)):
        raise TypeError(
            f"numeric.{name}() takes one array as the point, got a {type(x).__name__} of arrays (a pytree); "
            f"numeric.grad, jacobian and hessian take pytrees, or pass np.asarray(x)."
        )
    if a.dtype.kind == "c":
        raise TypeError(
            f"numeric.{name}() differentiates with respect to real inputs, but the point is {a.dtype}; "
            f"numeric.grad and numeric.jacobian take complex points (df/dx - i df/dy, as sl.grad)."
        )
    if not is_floating(a.dtype):
        raise TypeError(
            f"numeric.{name}() differentiates with respect to floating-point inputs, but the point has "
            f"dtype {a.dtype}. Pass floats, e.g. 1.0 instead of 1, or np.asarray(x, dtype=float)."
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"numeric.{name}(): the point must be finite, got {_show(a)}")
    return a.astype(np.float64, copy=True), a.dtype


def call(f, x):
    """``f(x)`` as a float64 array (slopes.numpy or NumPy results alike); non-finite values are reported, not warned."""
    with np.errstate(all="ignore"):
        return np.asarray(f(x), dtype=np.float64)


def check_finite(
    f, name, x, fx, where="at the point", hint="Check the function's domain, or pass a smaller step."
):
    """Raise NonFiniteError naming the point when ``fx`` holds NaN or inf."""
    if not np.all(np.isfinite(fx)):
        raise NonFiniteError(
            f"numeric.{name}(): {fun_name(f)} returned a non-finite value ({_show(fx)}) {where} "
            f"x = {_show(x)}; finite differences need finite values there. {hint}"
        )


def _show(a):
    a = np.asarray(a)
    return repr(a.item()) if a.size == 1 else np.array2string(a, threshold=8, precision=6)
