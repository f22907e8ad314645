"""Shared input checks and derivative plumbing of :mod:`slopes.analysis` (private)."""

from __future__ import annotations

import numpy as np

from ..transforms import grad as _grad
from ..transforms import hessian as _hessian
from ..transforms.jit import TracingError, jit


def as_point(x, name: str = "x") -> np.ndarray:
    """A float vector copy of ``x`` (float32 kept, anything else float64)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array (got dtype {arr.dtype})")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = np.array(arr, dtype=dtype, copy=True)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D vector (got shape {arr.shape}); flatten it first")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got {arr})")
    return arr


def as_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    """``bounds`` as ``(lo, hi)`` float64 vectors from a sequence of ``(low, high)`` pairs."""
    try:
        b = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"bounds must be a sequence of (low, high) pairs of numbers: {e}") from None
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] == 0:
        raise ValueError(
            "bounds must be one (low, high) pair per coordinate, e.g. [(-5, 5), (-5, 5)] "
            f"(got shape {b.shape})"
        )
    lo, hi = b[:, 0].copy(), b[:, 1].copy()
    if not (np.all(np.isfinite(b)) and np.all(lo < hi)):
        raise ValueError(f"bounds need finite low < high in every coordinate (got {b.tolist()})")
    return lo, hi


def positive_int(value, name: str) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


def _staged(fn):
    """``fn`` replayed by :func:`slopes.jit`, falling back to eager calls if it cannot be traced."""
    state = {"jitted": jit(fn)}

    def call(x):
        if state["jitted"] is not None:
            try:
                return state["jitted"](x)
            except TracingError:
                state["jitted"] = None  # Python control flow on values: stay eager
        return fn(x)

    return call


class Derivatives:
    """``f``, its gradient and Hessian at a point, as float arrays of the point's dtype.

    AD derivatives (:func:`slopes.grad`, :func:`slopes.hessian`) traced once with
    :func:`slopes.jit` (many analyses evaluate them hundreds of times).
    """

    def __init__(self, f):
        if not callable(f):
            raise TypeError(f"f must be a callable f(x) -> scalar (got {type(f).__name__})")
        self.fun = f
        self._f = _staged(f)
        self._g = _staged(_grad(f))
        self._h = _staged(_hessian(f))

    def value(self, x: np.ndarray) -> float:
        v = np.asarray(self._f(x))
        if v.size != 1:
            raise TypeError(f"f must return a scalar (got an output of shape {v.shape})")
        return float(v.reshape(()))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._g(x), dtype=x.dtype).reshape(x.shape)

    def hess(self, x: np.ndarray) -> np.ndarray:
        n = x.size
        return np.asarray(self._h(x), dtype=x.dtype).reshape(n, n)


def hessian_extremes(d: Derivatives, samples: np.ndarray):
    """Over the sample rows: the smallest eigenvalue, its point and eigenvector, and the largest ``|lambda|``."""
    min_eig, x_min, v_min, max_abs = np.inf, None, None, 0.0
    for x in samples:
        H = d.hess(x)
        w, V = np.linalg.eigh(0.5 * (H + H.T))  # AD Hessians are symmetric up to rounding
        max_abs = max(max_abs, float(np.max(np.abs(w))))
        if w[0] < min_eig:
            min_eig, x_min, v_min = float(w[0]), x, V[:, 0]
    return min_eig, x_min, v_min, max_abs


def relative_tol(tol) -> float:
    """``tol``, default ``sqrt(eps)`` of float64, checked to be a finite number >= 0."""
    if tol is None:
        return float(np.sqrt(np.finfo(np.float64).eps))
    if not (np.isscalar(tol) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0 or None for the default (got {tol!r})")
    return float(tol)
