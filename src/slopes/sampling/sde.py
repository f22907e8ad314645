"""Stochastic differential equations ``dX = a(t, X) dt + b(t, X) dW`` with scalar or diagonal noise.

Brownian paths, the Euler-Maruyama scheme (strong order 1/2), the Milstein
scheme (strong order 1; the derivative ``db/dx`` it needs comes from
:func:`slopes.grad`), and a measurement of the strong order against an exact
solution on the same Brownian paths at refined step sizes.

Noise is *diagonal*: each component ``X_i`` has its own Brownian motion
``W_i`` and ``b_i`` depends on ``X_i`` only, so ``b`` acts elementwise.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..numpy import sum as snp_sum
from ..transforms import grad
from ._staging import Staged

__all__ = [
    "BrownianPath",
    "brownian_path",
    "SDESolution",
    "euler_maruyama",
    "milstein",
    "StrongError",
    "strong_error",
]


def _positive_int(value, name: str, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer (got {value!r})")
    return int(value)


def _positive_time(T, who: str) -> float:
    try:
        T = float(T)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: T must be a positive number (got {T!r})") from None
    if not (math.isfinite(T) and T > 0):
        raise ValueError(f"{who}: T must be positive and finite (got {T!r})")
    return T


class BrownianPath(NamedTuple):
    """Sampled Brownian motion: times ``t`` (``n_steps + 1``) and increments ``dW``.

    ``dW`` has shape ``(n_paths, n_steps) + shape``; :attr:`W` is the path itself
    (starting at 0) and :meth:`coarsen` sums consecutive increments, giving the
    *same* Brownian motion sampled on a coarser grid.

    Examples
    --------
    >>> path = brownian_path(1.0, 4, n_paths=2, seed=0)
    >>> path.t, path.dW.shape, path.W.shape
    (array([0.  , 0.25, 0.5 , 0.75, 1.  ]), (2, 4), (2, 5))
    """

    t: np.ndarray
    dW: np.ndarray

    @property
    def W(self) -> np.ndarray:
        """The path, shape ``(n_paths, n_steps + 1) + shape``, with ``W[:, 0] = 0``."""
        zero = np.zeros_like(self.dW[:, :1])
        return np.concatenate([zero, np.cumsum(self.dW, axis=1)], axis=1)

    def coarsen(self, factor: int) -> BrownianPath:
        """The same path on every ``factor``-th time: increments summed in groups of ``factor``.

        Examples
        --------
        >>> path = brownian_path(1.0, 8, n_paths=3, seed=0)
        >>> coarse = path.coarsen(4)
        >>> coarse.dW.shape, np.allclose(coarse.W[:, -1], path.W[:, -1])
        ((3, 2), True)
        """
        factor = _positive_int(factor, "factor", "BrownianPath.coarsen()")
        n_paths, n_steps = self.dW.shape[:2]
        if n_steps % factor:
            raise ValueError(
                f"BrownianPath.coarsen(): factor {factor} must divide the number of steps {n_steps}"
            )
        dW = self.dW.reshape(n_paths, n_steps // factor, factor, *self.dW.shape[2:]).sum(axis=2)
        return BrownianPath(t=self.t[::factor], dW=dW)


def brownian_path(T, n_steps, *, n_paths=1, shape=(), seed=None) -> BrownianPath:
    """Sample Brownian motion on ``[0, T]`` at ``n_steps`` equal steps.

    Increments are independent ``N(0, dt)`` with ``dt = T / n_steps``.

    Parameters
    ----------
    T : float
        Final time (> 0).
    n_steps : int
        Number of steps.
    n_paths : int
        Number of independent paths.
    shape : tuple of ints
        Shape of one increment: ``()`` for a scalar Brownian motion, ``(d,)``
        for ``d`` independent ones (diagonal noise of a ``d``-vector SDE).
    seed : int or None
        Seed of the random generator.

    Returns
    -------
    BrownianPath
        ``t`` (``n_steps + 1`` times), ``dW`` (``(n_paths, n_steps) + shape``),
        and the path ``W``.

    Examples
    --------
    >>> path = brownian_path(2.0, 4, n_paths=10_000, seed=0)
    >>> path.t
    array([0. , 0.5, 1. , 1.5, 2. ])
    >>> path.dW.shape, bool(abs(path.W[:, -1].var() - 2.0) < 0.1)
    ((10000, 4), True)
    """
    who = "brownian_path()"
    T = _positive_time(T, who)
    n_steps = _positive_int(n_steps, "n_steps", who)
    n_paths = _positive_int(n_paths, "n_paths", who)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if not all(isinstance(s, int | np.integer) and s >= 1 for s in shape):
        raise ValueError(f"{who}: shape must be a tuple of positive integers (got {shape!r})")
    dt = T / n_steps
    dW = np.random.default_rng(seed).standard_normal((n_paths, n_steps, *shape)) * math.sqrt(dt)
    return BrownianPath(t=np.linspace(0.0, T, n_steps + 1), dW=dW)


class SDESolution(NamedTuple):
    """A numerical solution: times ``t`` (``n_steps + 1``) and states ``x``
    (``(n_paths, n_steps + 1) + x0.shape``, ``x[:, 0] = x0``).

    Examples
    --------
    >>> x0 = np.array([1.0, 2.0])
    >>> sol = euler_maruyama(lambda t, x: -x, lambda t, x: 0.1, x0, 1.0, 10, n_paths=3, seed=0)
    >>> sol.t.shape, sol.x.shape, sol.x[0, 0]
    ((11,), (3, 11, 2), array([1., 2.]))
    """

    t: np.ndarray
    x: np.ndarray


def _increments(x0, T, n_steps, dW, n_paths, seed, who):
    """Validated ``(x0, dW)``: dW given by the user or sampled here."""
    if dW is None:
        n_paths = _positive_int(n_paths, "n_paths", who)
        return brownian_path(T, n_steps, n_paths=n_paths, shape=x0.shape, seed=seed).dW
    dW = np.asarray(dW, dtype=np.float64)
    want = f"(n_paths, {n_steps}) + {x0.shape}"
    if dW.ndim != 2 + x0.ndim or dW.shape[1] != n_steps or dW.shape[2:] != x0.shape:
        raise ValueError(
            f"{who}: dW must have shape {want} (n_steps increments per path, one per component of x0); "
            f"got {dW.shape}. Use brownian_path(T, n_steps, shape=np.shape(x0)).dW"
        )
    return dW


def _diffusion_derivative(diffusion):
    """``db/dx`` elementwise: for diagonal noise ``d/dx_i sum_j b_j(x) = db_i/dx_i``."""
    dsum = grad(lambda x, t: snp_sum(diffusion(t, x)))
    return Staged(dsum)


def _solve(drift, diffusion, x0, T, n_steps, dW, n_paths, seed, who, diffusion_dx=None, milstein=False):
    for name, fn in (("drift", drift), ("diffusion", diffusion)):
        if not callable(fn):
            raise TypeError(f"{who}: {name} must be a callable f(t, x) (got {fn!r})")
    T = _positive_time(T, who)
    n_steps = _positive_int(n_steps, "n_steps", who)
    dt_in = np.asarray(x0).dtype
    dtype = dt_in if np.issubdtype(dt_in, np.floating) else np.dtype(np.float64)
    x0 = np.asarray(x0, dtype=dtype)
    dW = _increments(x0, T, n_steps, dW, n_paths, seed, who).astype(dtype, copy=False)
    if milstein:
        if diffusion_dx is None:
            dbdx = _diffusion_derivative(diffusion)
        elif callable(diffusion_dx):
            dbdx = lambda x, t: diffusion_dx(t, x)  # noqa: E731
        else:
            raise TypeError(f"{who}: diffusion_dx must be None or a callable f(t, x) (got {diffusion_dx!r})")
    dt = T / n_steps
    x = np.broadcast_to(x0, (dW.shape[0], *x0.shape)).copy()
    out = np.empty((dW.shape[0], n_steps + 1, *x0.shape), dtype=dtype)
    out[:, 0] = x
    for k in range(n_steps):
        t = k * dt
        a = np.asarray(drift(t, x), dtype=dtype)
        b = np.asarray(diffusion(t, x), dtype=dtype)
        dw = dW[:, k]
        step = x + a * dt + b * dw
        if milstein:
            db = np.asarray(dbdx(x, t), dtype=dtype)
            # Ito correction: the dW^2 term of the Ito-Taylor expansion, with E[dW^2] = dt removed
            step = step + 0.5 * b * db * (dw * dw - dt)
        x = np.broadcast_to(step, x.shape).astype(dtype, copy=True)
        out[:, k + 1] = x
    return SDESolution(t=np.linspace(0.0, T, n_steps + 1), x=out)


def euler_maruyama(drift, diffusion, x0, T, n_steps, *, dW=None, n_paths=1, seed=None) -> SDESolution:
    """Solve ``dX = a(t, X) dt + b(t, X) dW`` by Euler-Maruyama (strong order 1/2, weak order 1).

    ``X_{k+1} = X_k + a(t_k, X_k) dt + b(t_k, X_k) dW_k``.

    Parameters
    ----------
    drift, diffusion : callable
        ``a(t, x)`` and ``b(t, x)``, applied to the states of all paths at once
        (``x`` has shape ``(n_paths,) + x0.shape``), so they must act
        elementwise / broadcast over the leading axis.
    x0 : float or array_like
        Initial state (shared by all paths).
    T : float
        Final time.
    n_steps : int
        Number of equal steps ``dt = T / n_steps``.
    dW : array_like, optional
        Brownian increments of shape ``(n_paths, n_steps) + x0.shape`` (e.g.
        ``brownian_path(...).dW``); sampled from ``seed`` when omitted.
    n_paths : int
        Number of paths when ``dW`` is omitted.
    seed : int or None
        Seed for the increments when ``dW`` is omitted.

    Returns
    -------
    SDESolution
        ``t`` and ``x`` of shape ``(n_paths, n_steps + 1) + x0.shape``.

    Examples
    --------
    Geometric Brownian motion; its mean is ``x0 exp(mu T)``:

    >>> sol = euler_maruyama(lambda t, x: 0.5 * x, lambda t, x: 0.2 * x, 1.0, 1.0, 50, n_paths=20_000, seed=0)
    >>> sol.x.shape, bool(abs(sol.x[:, -1].mean() - np.exp(0.5)) < 0.01)
    ((20000, 51), True)
    """
    return _solve(drift, diffusion, x0, T, n_steps, dW, n_paths, seed, "euler_maruyama()")


def milstein(
    drift, diffusion, x0, T, n_steps, *, dW=None, n_paths=1, seed=None, diffusion_dx=None
) -> SDESolution:
    """Solve ``dX = a(t, X) dt + b(t, X) dW`` by the Milstein scheme (strong order 1).

    ``X_{k+1} = X_k + a dt + b dW_k + (1/2) b (db/dx) (dW_k^2 - dt)``, all
    evaluated at ``(t_k, X_k)``. For diagonal noise (``b_i`` depends on ``x_i``
    only) ``db_i/dx_i`` is the gradient of ``sum(b(t, x))``, computed by
    :func:`slopes.grad` (traced once with :func:`slopes.jit` when possible), so
    ``diffusion`` must be written with :mod:`slopes.numpy`; or pass
    ``diffusion_dx``.

    Parameters
    ----------
    drift, diffusion, x0, T, n_steps, dW, n_paths, seed
        As in :func:`euler_maruyama`.
    diffusion_dx : callable, optional
        ``db/dx (t, x)`` elementwise, instead of automatic differentiation.

    Returns
    -------
    SDESolution
        ``t`` and ``x`` of shape ``(n_paths, n_steps + 1) + x0.shape``.

    Examples
    --------
    On geometric Brownian motion Milstein tracks the exact solution
    ``x0 exp((mu - sigma^2 / 2) T + sigma W_T)`` much more closely than Euler-Maruyama:

    >>> path = brownian_path(1.0, 64, n_paths=2000, seed=1)
    >>> a, b = (lambda t, x: 1.0 * x), (lambda t, x: 0.8 * x)
    >>> exact = np.exp((1.0 - 0.32) + 0.8 * path.W[:, -1])
    >>> err_m = np.abs(milstein(a, b, 1.0, 1.0, 64, dW=path.dW).x[:, -1] - exact).mean()
    >>> err_e = np.abs(euler_maruyama(a, b, 1.0, 1.0, 64, dW=path.dW).x[:, -1] - exact).mean()
    >>> bool(err_m < err_e / 3)
    True
    """
    return _solve(
        drift, diffusion, x0, T, n_steps, dW, n_paths, seed, "milstein()", diffusion_dx, milstein=True
    )


class StrongError(NamedTuple):
    """What :func:`strong_error` returns: step sizes ``dt``, mean absolute errors
    ``error`` at ``T``, and the fitted ``order`` (slope of ``log error`` vs ``log dt``).

    Examples
    --------
    >>> exact = lambda T, W: np.exp(W - 0.5 * T)  # dX = X dW
    >>> r = strong_error("euler_maruyama", lambda t, x: 0.0, lambda t, x: x, 1.0, 1.0, exact, seed=0)
    >>> r.dt.shape, r.error.shape, bool(0.35 < r.order < 0.65)
    ((5,), (5,), True)
    """

    dt: np.ndarray
    error: np.ndarray
    order: float


_METHODS = {"euler_maruyama": euler_maruyama, "em": euler_maruyama, "milstein": milstein}


def strong_error(
    method, drift, diffusion, x0, T, exact, *, n_steps=(16, 32, 64, 128, 256), n_paths=1000, seed=None
) -> StrongError:
    """Measure the strong error ``E|X_N - X(T)|`` of a scheme and its convergence order.

    One set of Brownian paths is sampled on the finest grid; each coarser run
    uses the same paths (increments summed, :meth:`BrownianPath.coarsen`), so
    the error measures the scheme and not the sampling of different noise.

    Parameters
    ----------
    method : {'euler_maruyama', 'milstein'} or callable
        The scheme (a function with the signature of :func:`euler_maruyama`).
    drift, diffusion, x0, T
        The SDE, as in :func:`euler_maruyama`.
    exact : callable
        ``exact(T, W_T) -> X(T)`` for every path, ``W_T`` of shape
        ``(n_paths,) + x0.shape``.
    n_steps : sequence of int
        Step counts; each must divide the largest.
    n_paths : int
        Number of Brownian paths.
    seed : int or None
        Seed of the paths.

    Returns
    -------
    StrongError
        ``dt``, ``error`` (one per entry of ``n_steps``) and the least-squares
        slope ``order`` of ``log(error)`` against ``log(dt)``.

    Examples
    --------
    Geometric Brownian motion ``dX = mu X dt + sigma X dW``:

    >>> mu, sigma = 1.0, 0.5
    >>> exact = lambda T, W: np.exp((mu - sigma**2 / 2) * T + sigma * W)
    >>> r = strong_error("milstein", lambda t, x: mu * x, lambda t, x: sigma * x, 1.0, 1.0, exact, seed=0)
    >>> r.dt
    array([0.0625    , 0.03125   , 0.015625  , 0.0078125 , 0.00390625])
    >>> bool(0.85 < r.order < 1.15)
    True
    """
    who = "strong_error()"
    if isinstance(method, str):
        if method not in _METHODS:
            raise ValueError(f"{who}: unknown method {method!r}; use 'euler_maruyama' or 'milstein'")
        method = _METHODS[method]
    elif not callable(method):
        raise TypeError(f"{who}: method must be 'euler_maruyama', 'milstein' or a solver function")
    if not callable(exact):
        raise TypeError(f"{who}: exact must be a callable exact(T, W_T) returning the exact X(T)")
    T = _positive_time(T, who)
    levels = [_positive_int(n, "each entry of n_steps", who) for n in np.atleast_1d(n_steps).tolist()]
    if len(levels) < 2:
        raise ValueError(f"{who}: n_steps needs at least two step counts to fit an order (got {n_steps!r})")
    finest = max(levels)
    if any(finest % n for n in levels):
        raise ValueError(f"{who}: every entry of n_steps must divide the largest, {finest} (got {levels})")
    path = brownian_path(T, finest, n_paths=n_paths, shape=np.shape(x0), seed=seed)
    x_exact = np.asarray(exact(T, path.W[:, -1]), dtype=np.float64)
    errors = []
    for n in levels:
        x_T = method(drift, diffusion, x0, T, n, dW=path.coarsen(finest // n).dW).x[:, -1]
        diff = np.abs(x_T - x_exact).reshape(n_paths, -1)
        errors.append(np.linalg.norm(diff, axis=1).mean())
    dt = T / np.asarray(levels, dtype=np.float64)
    error = np.asarray(errors)
    order = float(np.polyfit(np.log(dt), np.log(error), 1)[0])
    return StrongError(dt=dt, error=error, order=order)
