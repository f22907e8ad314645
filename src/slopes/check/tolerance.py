"""The tolerance of the checks: its defaults per dtype and the comparison it decides.

The rule itself is stated in the docstring of :mod:`slopes.check`.
"""

from __future__ import annotations

import math

import numpy as np

SAFETY = 10.0
"""The finite-difference error estimate is multiplied by this in the tolerance."""


def default_tolerance(dtype=np.float64):
    """The default ``(rtol, atol)`` of the checks for a float dtype.

    ``rtol = 10 * sqrt(eps)`` and ``atol = min(1000 * eps, rtol / 10)`` with
    ``eps = np.finfo(dtype).eps`` (the cap only matters for float16); the checks multiply this ``atol`` by
    ``max(1, largest |AD entry|)``. See the module docstring for the full rule.

    Examples
    --------
    >>> from slopes.check import default_tolerance
    >>> rtol, atol = default_tolerance(np.float64)
    >>> f"{rtol:.1e} {atol:.1e}"
    '1.5e-07 2.2e-13'
    >>> f"{default_tolerance(np.float32)[0]:.1e}"
    '3.5e-03'
    """
    eps = float(np.finfo(float_dtype(dtype)).eps)
    rtol = 10.0 * math.sqrt(eps)
    return rtol, min(1000.0 * eps, rtol / 10.0)


def resolve_tolerance(dtype, rtol, atol, ad=0.0):
    """The ``(rtol, atol)`` applied: each as given, or the default for ``dtype`` (``atol`` scaled by ``ad``)."""
    d_rtol, d_atol = default_tolerance(dtype)
    return (d_rtol if rtol is None else float(rtol)), scaled_atol(atol, d_atol, ad)


def float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":  # complex64 has float32's precision
        return np.finfo(dtype).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def working_dtype(*arrays):
    """The least precise float dtype among the arrays (non-floats count as float64)."""
    dts = [float_dtype(np.asarray(a).dtype) for a in arrays if a is not None]
    return max(dts, key=lambda d: np.finfo(d).eps) if dts else np.dtype(np.float64)


def scaled_atol(atol, default, ad):
    """``atol`` as given, or the default floor scaled by the largest finite AD entry."""
    if atol is not None:
        return float(atol)
    ad = np.abs(np.asarray(ad, dtype=np.float64))
    finite = ad[np.isfinite(ad)]
    return default * max(1.0, float(finite.max()) if finite.size else 1.0)


def estimate(est, f0, order, eps):
    """(value, error) of a numeric Estimate, the error at least the rounding floor.

    A difference quotient of order ``k`` with step ``h`` cannot be more
    accurate than ``eps * s / h**k``, the rounding of the function values it
    subtracts, whatever the error estimate says. The size ``s`` of those
    values is taken as ``max(1, |f(x)|)``: ``|f(x)|`` alone can be far below
    the size of the terms that were rounded (``tanh(a) + tanh(-b)`` near
    saturation is ~1e-13, its terms are ~1), so unit scale is assumed, as for
    ``atol``. ``f0`` is ``|f(x)|``, broadcastable against the value's leading
    (output) axes.
    """
    value = np.asarray(est.value, dtype=np.float64)
    error = np.broadcast_to(np.abs(np.asarray(est.error, dtype=np.float64)), value.shape)
    step = getattr(est, "step", None)
    if step is None:
        return value, error
    h = np.abs(np.asarray(step, dtype=np.float64))
    if h.shape != value.shape and h.size != 1:
        return value, error
    f0 = np.maximum(1.0, np.abs(np.asarray(f0, dtype=np.float64)))
    f0 = f0.reshape(f0.shape + (1,) * (value.ndim - f0.ndim))
    with np.errstate(all="ignore"):
        floor = np.where(h > 0, eps * f0 / np.where(h > 0, h, 1.0) ** order, 0.0)
    return value, np.maximum(error, np.broadcast_to(floor, value.shape))


def compare(ad, ref, err, rtol, atol):
    """Per-entry absolute error, relative error, tolerance and verdict."""
    ad = np.asarray(ad, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    err = np.zeros_like(ref) if err is None else np.abs(np.asarray(err, dtype=np.float64))
    abs_err = np.abs(ad - ref)
    scale = np.maximum(np.abs(ad), np.abs(ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_err = np.where(scale > 0, abs_err / np.where(scale > 0, scale, 1.0), 0.0)
    tol = atol + rtol * scale + SAFETY * err
    return abs_err, rel_err, tol, abs_err <= tol
