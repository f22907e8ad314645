"""Normalising NumPy's ``axis`` arguments."""

from __future__ import annotations

import operator

__all__ = ["normalize_axis", "normalize_axes"]


def normalize_axis(axis, ndim, name="axis"):
    """One axis as a non-negative int, with NumPy's error for one out of range."""
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {axis!r}") from None
    if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
        raise ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")
    return a % ndim if ndim else 0


def normalize_axes(axis, ndim):
    """``None`` or a sorted tuple of distinct non-negative axes."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(sorted(normalize_axis(a, ndim) for a in axes))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return out
