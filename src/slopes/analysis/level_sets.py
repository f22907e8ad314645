"""The gradient is orthogonal to the level set: a numerical check at a point.

Where ``grad f(x) != 0`` the level set ``{y : f(y) = f(x)}`` is locally a smooth
hypersurface whose tangent space is the null space of ``grad f(x)^T``.
:func:`gradient_orthogonal_to_level_set` walks a small step along tangent directions,
pulls each point back onto the level set with Newton's method, and measures the angle
between ``grad f(x)`` and the chords to those points: it tends to 90 degrees as the step
shrinks (``|cos| = O(radius * curvature)``).

>>> import numpy as np, slopes as sl, slopes.numpy as snp
>>> chk = sl.analysis.gradient_orthogonal_to_level_set(lambda x: snp.sum(x ** 2), np.array([3.0, 4.0]))
>>> chk.max_abs_cos < 1e-3
True
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._common import Derivatives, as_point, positive_int

__all__ = ["LevelSetCheck", "gradient_orthogonal_to_level_set"]


class LevelSetCheck(NamedTuple):
    """Outcome of :func:`gradient_orthogonal_to_level_set`.

    Attributes
    ----------
    max_abs_cos : float
        The largest ``|cos|`` of the angle between ``grad f(x)`` and a chord from ``x`` to
        a point of the level set.
    points : ndarray
        The level-set points, shape ``(n_directions, n)``.
    chords : ndarray
        Unit chords ``(y - x) / ||y - x||``, shape ``(n_directions, n)``.
    level : float
        ``c = f(x)``.
    grad : ndarray
        ``grad f(x)``.
    max_level_error : float
        ``max |f(y) - c|`` over the points (how well Newton put them on the level set).
    """

    max_abs_cos: float
    points: np.ndarray
    chords: np.ndarray
    level: float
    grad: np.ndarray
    max_level_error: float


def _tangent_directions(g: np.ndarray, n_directions: int, seed) -> np.ndarray:
    n = g.size
    q = np.linalg.qr(g.reshape(n, 1), mode="complete")[0]
    basis = q[:, 1:]  # orthonormal basis of the null space of g^T
    if n == 2:
        t = basis[:, 0]
        return np.array([t if k % 2 == 0 else -t for k in range(n_directions)])
    c = np.random.default_rng(seed).standard_normal((n_directions, n - 1))
    dirs = c @ basis.T
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def gradient_orthogonal_to_level_set(
    f, x, *, radius=None, n_directions=8, seed=0, maxiter=50
) -> LevelSetCheck:
    """Check that ``grad f(x)`` is orthogonal to the level set through ``x``.

    For each tangent direction ``t`` (unit, ``grad f(x) . t = 0``; random combinations of
    a null-space basis when ``n > 2``), start at ``x + radius * t`` and apply Newton's
    correction ``y <- y - (f(y) - c) grad f(y) / ||grad f(y)||^2`` until ``f(y) = c``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` of at least two variables, written with :mod:`slopes.numpy`.
    x : array_like
        A point with ``grad f(x) != 0``.
    radius : float, optional
        Step along the tangent; default ``1e-3 * max(1, ||x||)``.
    n_directions : int
        How many level-set points (in 2-D they alternate between the two sides).
    seed : int
        Seed of the random tangent combinations (n > 2).
    maxiter : int
        Newton corrections per point.

    Returns
    -------
    LevelSetCheck
        ``max_abs_cos`` is 0 up to rounding for a flat level set (``f`` affine) and
        ``O(radius * curvature)`` otherwise: on a circle of radius ``r`` it is
        ``sin(atan(radius / r) / 2)``.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> c = sl.analysis.gradient_orthogonal_to_level_set(lambda x: x[0] + 2 * x[1], np.zeros(2))
    >>> c.max_abs_cos < 1e-12, c.chords[0].round(6).tolist()
    (True, [-0.894427, 0.447214])
    """
    x = as_point(x)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(
            f"x must be a vector of at least 2 variables (got shape {x.shape}): "
            "the level set of a function of one variable is a set of points"
        )
    n_directions = positive_int(n_directions, "n_directions")
    maxiter = positive_int(maxiter, "maxiter")
    d = Derivatives(f)
    c = d.value(x)
    g = d.grad(x)
    gnorm = float(np.linalg.norm(g))
    if not gnorm > 0:
        raise ValueError("grad f(x) is zero: x is a critical point, where the level set has no tangent plane")
    h = 1e-3 * max(1.0, float(np.linalg.norm(x))) if radius is None else float(radius)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"radius must be a positive finite number (got {radius!r})")
    tol = 4 * np.finfo(x.dtype).eps * max(1.0, abs(c))
    points, err = [], 0.0
    for t in _tangent_directions(g, n_directions, seed):
        y = x + h * t
        for _ in range(maxiter):
            r = d.value(y) - c
            if abs(r) <= tol:
                break
            gy = d.grad(y)
            y = y - r * gy / float(gy @ gy)
        points.append(y)
        err = max(err, abs(d.value(y) - c))
    P = np.array(points)
    chords = (P - x) / np.linalg.norm(P - x, axis=1, keepdims=True)
    cos = np.abs(chords @ g) / gnorm
    return LevelSetCheck(float(np.max(cos)), P, chords, c, g, float(err))
