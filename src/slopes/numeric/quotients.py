"""Difference quotients: the stencil for a derivative order and accuracy, and one quotient."""

from __future__ import annotations

import numpy as np

from ._common import as_point, call, check_finite
from .weights import fd_weights

__all__ = ["stencil", "difference_quotient"]

KINDS = ("forward", "backward", "central")


def stencil(order=1, accuracy=2, kind="central"):
    """Offsets of the standard ``kind`` stencil for the ``order``-th derivative.

    The quotient built on it has truncation error ``O(h**accuracy)``.
    Central stencils are symmetric and need an even ``accuracy``; forward
    stencils are ``0, 1, ..., order + accuracy - 1`` and backward ones their
    negatives.

    Examples
    --------
    >>> import slopes as sl
    >>> sl.numeric.stencil(1, 2, "central")
    array([-1.,  0.,  1.])
    >>> sl.numeric.stencil(2, 1, "forward")
    array([0., 1., 2.])
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"stencil(): order must be a positive integer, got {order!r}")
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, np.integer)) or accuracy < 1:
        raise ValueError(f"stencil(): accuracy must be a positive integer, got {accuracy!r}")
    if kind not in KINDS:
        raise ValueError(f"stencil(): kind must be one of {KINDS}, got {kind!r}")
    if kind == "central":
        if accuracy % 2:
            raise ValueError(
                f"stencil(): central differences have even accuracy orders (2, 4, ...), got {accuracy}"
            )
        m = (order - 1) // 2 + accuracy // 2  # half-width
        return np.arange(-m, m + 1, dtype=float)
    s = np.arange(order + accuracy, dtype=float)
    return s if kind == "forward" else -s


def difference_quotient(f, x, h, order=1, accuracy=2, kind="central"):
    """The ``order``-th derivative of ``f`` at ``x`` by one finite-difference quotient of step ``h``.

    ``sum_k w_k f(x + s_k h) / h**order`` on the :func:`stencil` for
    ``order``, ``accuracy`` and ``kind``, with :func:`fd_weights`. ``f`` maps a
    scalar to a scalar; called with an array, the quotient is taken entry by
    entry (right for elementwise functions), like :func:`slopes.derivative`.

    Parameters
    ----------
    f : callable
        Scalar (or elementwise) function, written with NumPy or slopes.numpy.
    x : float or array of float
        The point.
    h : float or array of float
        The step (broadcast against ``x``); positive.
    order : int
        Derivative order.
    accuracy : int
        Order of the truncation error; even for ``kind="central"``.
    kind : {"central", "forward", "backward"}

    Returns
    -------
    np.ndarray
        The quotient, shape of ``x``.

    Examples
    --------
    >>> import slopes as sl
    >>> float(sl.numeric.difference_quotient(np.exp, 0.0, 1e-3))   # (e^h - e^-h) / 2h
    1.0000001666666813
    >>> float(sl.numeric.difference_quotient(lambda t: t ** 3, 2.0, 0.1, order=2))
    12.0
    """
    s = stencil(order, accuracy, kind)
    w = fd_weights(s, order)
    x, dtype = as_point(x, "difference_quotient")
    h = np.asarray(h, dtype=float)
    if not np.all(h > 0) or not np.all(np.isfinite(h)):
        raise ValueError(f"difference_quotient(): the step h must be positive and finite, got {h!r}")
    total = 0.0
    for sk, wk in zip(s, w):
        if wk == 0.0:
            continue
        xk = x + sk * h
        fk = call(f, xk)
        if fk.shape != np.shape(xk):
            raise TypeError(
                f"difference_quotient() needs a scalar (or elementwise) function; it mapped shape "
                f"{np.shape(xk)} to {fk.shape}. Use slopes.numeric.grad or jacobian."
            )
        check_finite(f, "difference_quotient", xk, fk, where="at the stencil point")
        total = total + wk * fk
    return np.asarray(total / h**order).astype(dtype, copy=False)
