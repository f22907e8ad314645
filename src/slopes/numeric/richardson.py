"""Richardson extrapolation over a geometric sequence of steps, with error estimates."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

__all__ = ["Extrapolation", "richardson"]

EPS = np.finfo(np.float64).eps
NOISE = 16.0  # rounding noise weight: function values are rarely exact to the last bit
SAFETY = 2.0  # weight of the truncation estimate (the smallest of many estimates is optimistic)


class Extrapolation(NamedTuple):
    """Richardson's answer: the best value and an estimate of its absolute error (same shape)."""

    value: np.ndarray
    error: np.ndarray


def richardson(values, steps, order=2, increment=None, noise=None):
    """Extrapolate quotients ``A(h_0), A(h_1), ...`` to ``h -> 0``, with an error estimate.

    Assumes ``A(h) = A + c_1 h**p + c_2 h**(p+q) + ...`` with ``p = order``
    and ``q = increment`` (central quotients: ``p = q = 2``; one-sided:
    ``p = q = 1``), and steps in a geometric sequence. It builds the
    extrapolation table; each entry's error is estimated from its distance to
    the neighbouring entries plus the propagated rounding ``noise``, and the
    entry with the smallest estimate is returned, separately for every
    component.

    Parameters
    ----------
    values : array_like, shape (n, ...)
        ``values[j]`` is the quotient at ``steps[j]``; any trailing shape.
    steps : array_like, shape (n,)
        Decreasing or increasing geometric sequence of steps (ratio ``!= 1``).
    order : int
        Leading error exponent ``p``.
    increment : int, optional
        Exponent increment ``q``; defaults to ``order``.
    noise : array_like, optional
        Rounding error of each value (shape of ``values``); defaults to
        ``eps * |values|``.

    Returns
    -------
    Extrapolation
        ``(value, error)``, each with the trailing shape of ``values``.

    Examples
    --------
    >>> import slopes as sl
    >>> h = 0.1 / 2.0 ** np.arange(5)
    >>> A = (np.exp(h) - np.exp(-h)) / (2 * h)     # central quotients for exp'(0) = 1
    >>> value, error = sl.numeric.richardson(A, h, order=2)
    >>> bool(abs(value - 1) < 1e-14), bool(abs(value - 1) <= error)
    (True, True)
    """
    values = np.asarray(values, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if values.ndim < 1 or values.shape[0] < 2:
        raise ValueError(f"richardson(): needs at least two values (one per step), got shape {values.shape}")
    if steps.ndim != 1 or steps.size != values.shape[0]:
        raise ValueError(
            f"richardson(): steps must be 1-D with one step per value ({values.shape[0]}), got shape {steps.shape}"
        )
    ratios = steps[:-1] / steps[1:]
    if not (np.all(steps > 0) and np.allclose(ratios, ratios[0], rtol=1e-10)) or ratios[0] == 1:
        raise ValueError(
            f"richardson(): steps must be positive and geometric (constant ratio != 1), got {steps.tolist()}"
        )
    if ratios[0] < 1:  # increasing: reverse to decreasing
        values, steps = values[::-1], steps[::-1]
        noise = None if noise is None else np.asarray(noise, dtype=float)[::-1]
    q = order if increment is None else increment
    if order <= 0 or q <= 0:
        raise ValueError(f"richardson(): order and increment must be positive, got {order}, {q}")
    noise = (
        np.zeros_like(values)
        if noise is None
        else np.broadcast_to(np.asarray(noise, dtype=float), values.shape)
    )
    value, error, _ = extrapolate(values, noise, float(steps[0] / steps[1]), order, q)
    return Extrapolation(value, error)


def extrapolate(values, noise, ratio, order, increment):
    """Best value, error estimate and row (step index) per component; values (n, ...) at decreasing steps.

    Every tableau entry, and the differences its error estimate uses, is a
    fixed linear combination of the values: one matrix product each
    (matrices cached per table shape). Entries that depend on a non-finite
    value are never chosen; a component with no finite candidate gets value
    NaN and error inf.
    """
    n = values.shape[0]
    tail = values.shape[1:]
    D = values.reshape(n, -1)
    N = noise.reshape(n, -1)
    M, A1, A2, absM, dep, rows = _tables(n, float(ratio), float(order), float(increment))
    finite = np.isfinite(D)
    if not finite.all():
        D = np.where(finite, D, 0.0)
        N = np.where(finite, N, 0.0)
        invalid = dep @ (~finite).astype(float) > 0
    else:
        invalid = None
    with np.errstate(over="ignore", invalid="ignore"):  # overflowing entries are never chosen
        V = M @ D
        E = SAFETY * (np.abs(A1 @ D) + np.abs(A2 @ D)) + NOISE * (absM @ N) + 4 * EPS * np.abs(V)
    if invalid is not None:
        E[invalid] = np.inf
    E[~np.isfinite(E)] = np.inf
    best = np.argmin(E, axis=0)
    cols = np.arange(V.shape[1])
    value, error, row = V[best, cols], E[best, cols], rows[best]
    value = np.where(np.isfinite(error), value, np.nan)
    return value.reshape(tail), error.reshape(tail), row.reshape(tail)


@functools.lru_cache(maxsize=64)
def _tables(n, ratio, order, increment):
    """Linear maps from the n values to the tableau's candidates and their error terms.

    Candidates: column 0 rows 1..n-1 (judged by the change from the previous
    step, weight 2), then for each level k >= 1 rows k..n-1 (judged by the
    change from level k-1 plus the change from the previous row, or twice the
    former on the level's first row).
    """
    eye = np.eye(n)
    cols = [eye]  # cols[k][j] = coefficients of T[j, k] (rows j < k unused)
    for k in range(1, n):
        c = ratio ** (order + (k - 1) * increment) - 1.0
        prev = cols[-1]
        Tk = np.zeros((n, n))
        Tk[k:] = prev[k:] + (prev[k:] - prev[k - 1 : n - 1]) / c
        cols.append(Tk)
    M, A1, A2, R = [], [], [], []
    for j in range(1, n):
        M.append(eye[j])
        A1.append(2 * (eye[j] - eye[j - 1]))
        A2.append(np.zeros(n))
        R.append(j)
    for k in range(1, n):
        for j in range(k, n):
            t = cols[k][j]
            d1 = t - cols[k - 1][j]
            M.append(t)
            A1.append(d1)
            A2.append(d1 if j == k else t - cols[k][j - 1])
            R.append(j)
    M, A1, A2 = np.array(M), np.array(A1), np.array(A2)
    dep = ((M != 0) | (A1 != 0) | (A2 != 0)).astype(float)
    return M, A1, A2, np.abs(M), dep, np.array(R)
