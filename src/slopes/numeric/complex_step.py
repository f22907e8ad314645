"""The complex-step derivative: f'(x) = Im f(x + i h) / h, free of cancellation."""

from __future__ import annotations

import numpy as np

from ._common import as_point, check_finite, fun_name

__all__ = ["complex_step", "complex_eval"]


def complex_eval(f, z, name):
    """``f(z)`` for complex ``z``, as a complex array; a clear TypeError if ``f`` drops the imaginary part."""
    try:
        out = np.asarray(f(z))
    except Exception as e:  # the user's function could not take complex input
        raise TypeError(
            f"numeric.{name}(method='complex'): {fun_name(f)} failed on complex input ({type(e).__name__}: "
            f"{e}). The complex step needs a real-analytic function that accepts complex arrays: "
            f"write it with plain NumPy, or use method='central'."
        ) from e
    if out.dtype.kind != "c":
        raise TypeError(
            f"numeric.{name}(method='complex'): {fun_name(f)} returned dtype {out.dtype} for complex input, "
            f"so the imaginary part carrying the derivative was lost (abs, real, comparisons or a float "
            f"cast do this). Write the function with plain NumPy complex-safe operations, or use "
            f"method='central'."
        )
    return out


def complex_step(f, x, h=1e-20, *, direction=None):
    """First derivative of a real-analytic ``f`` by the complex step ``Im f(x + i h) / h``.

    There is no subtraction, so no cancellation: the step can be tiny and the
    result is accurate to rounding (about 1e-15 relative). ``f`` must accept
    complex input and be real-analytic there: write it with plain NumPy
    (``np.exp``, ``np.sin``, ``@``, ...), not with ``abs``, ``np.real``,
    comparisons or float casts.

    Parameters
    ----------
    f : callable
        Without ``direction``: a scalar (or elementwise) function; the
        derivative is taken entry by entry. With ``direction``: any function
        of an array; the result is the directional derivative ``J(x) @ direction``.
    x : float or array of float
        The point.
    h : float
        The (imaginary) step.
    direction : array of float, optional
        Direction ``v`` (shape of ``x``).

    Returns
    -------
    np.ndarray
        Shape of ``x`` (elementwise), or of ``f(x)`` (with ``direction``).

    Examples
    --------
    >>> import slopes as sl
    >>> bool(sl.numeric.complex_step(np.sin, 0.5) == np.cos(0.5))
    True
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> sl.numeric.complex_step(f, np.array([1.0, 2.0]), direction=np.array([1.0, 0.0]))
    array(4.)
    """
    x, dtype = as_point(x, "complex_step")
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"complex_step(): the step h must be positive and finite, got {h!r}")
    if direction is None:
        v = 1.0
    else:
        v = np.asarray(direction, dtype=float)
        if v.shape != x.shape:
            raise ValueError(f"complex_step(): direction has shape {v.shape}, the point has shape {x.shape}")
    out = complex_eval(f, x + 1j * h * v, "complex_step")
    if direction is None and out.shape != x.shape:
        raise TypeError(
            f"complex_step() without a direction needs a scalar (or elementwise) function; it mapped "
            f"shape {x.shape} to {out.shape}. Pass direction=, or use slopes.numeric.grad or jacobian."
        )
    check_finite(f, "complex_step", x, out.real)
    d = np.asarray(out.imag / h)
    return d.astype(dtype, copy=False) if dtype != np.float64 else d
