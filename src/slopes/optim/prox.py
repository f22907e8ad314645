"""Proximal operators, for proximal gradient methods (ISTA / FISTA).

For a convex function ``h`` and a step ``t > 0`` the proximal operator is

    ``prox_{t h}(v) = argmin_x  h(x) + ||x - v||^2 / (2 t)``.

Each factory here (:func:`l1`, :func:`squared_l2`, :func:`elastic_net`,
:func:`box_indicator`, :func:`indicator`, :func:`zero`) binds ``h``'s parameters and
returns a :class:`Prox`: a callable ``prox(v, t)`` with ``.value(x)`` giving ``h(x)``
(needed for the composite objective ``f(x) + h(x)``) and a ``.name``. Sums run over all
entries of the array; arrays of any shape are accepted.

A proximal gradient step for ``min f(x) + h(x)`` is ``x <- prox(x - t * grad f(x), t)``,
and :func:`fixed_point_residual` measures how far ``x`` is from being a fixed point
of that step (zero exactly at a minimizer).

>>> from slopes.optim.prox import l1
>>> h = l1(0.5)
>>> h(np.array([2.0, -0.3, -1.0]), 1.0), h.value(np.array([2.0, -1.0])), h.name
(array([ 1.5,  0. , -0.5]), 1.5, 'l1(lam=0.5)')
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .projections import Projection, _as_float, box

__all__ = [
    "Prox",
    "box_indicator",
    "elastic_net",
    "fixed_point_residual",
    "indicator",
    "l1",
    "soft_threshold",
    "squared_l2",
    "zero",
]


def _check_step(t):
    t = _as_float(t)
    if not np.all(t > 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"prox: the step t must be finite and > 0, got {t!r}")
    return t


def _check_weight(name, lam):
    lam = float(lam)
    if not (lam >= 0 and np.isfinite(lam)):
        raise ValueError(f"{name} must be a finite number >= 0, got {lam!r}")
    return lam


class Prox:
    """The proximal operator of a fixed convex function ``h``.

    Built by the factories of this module, not usually by hand.
    ``prox(v, t=1.0)`` returns ``argmin_x h(x) + ||x - v||^2 / (2 t)``;
    ``prox.value(x)`` returns ``h(x)`` as a float (``inf`` outside ``h``'s domain).

    Attributes
    ----------
    name : str
        Description of ``h``, e.g. ``'l1(lam=0.1)'``.

    Examples
    --------
    >>> from slopes.optim.prox import Prox
    >>> h = Prox("half_sq", lambda v, t: v / (1 + t), lambda x: 0.5 * float(np.sum(x * x)))
    >>> h(np.array([2.0]), 1.0), h.value(np.array([2.0]))
    (array([1.]), 2.0)
    """

    __slots__ = ("name", "_prox", "_value")

    def __init__(self, name: str, prox: Callable, value: Callable):
        self.name = name
        self._prox = prox
        self._value = value

    def __call__(self, v, t=1.0) -> np.ndarray:
        """``prox_{t h}(v)``; ``t`` is a positive scalar (or array broadcasting against ``v``)."""
        v = _as_float(v)
        return np.asarray(self._prox(v, _check_step(t))).astype(v.dtype, copy=False)

    def value(self, x) -> float:
        """``h(x)``, a float (``inf`` where ``h`` is infinite)."""
        return float(self._value(_as_float(x)))

    def __repr__(self) -> str:
        return f"Prox({self.name})"


def soft_threshold(v, tau) -> np.ndarray:
    """Soft thresholding ``sign(v) * max(|v| - tau, 0)``, the prox of ``tau * ||.||_1``.

    Examples
    --------
    >>> from slopes.optim.prox import soft_threshold
    >>> soft_threshold(np.array([3.0, -0.5, -2.0]), 1.0)
    array([ 2.,  0., -1.])
    """
    v = _as_float(v)
    return np.maximum(v - tau, 0.0) + np.minimum(v + tau, 0.0)  # no -0.0 in the zeroed entries


def l1(lam: float) -> Prox:
    """``h(x) = lam * ||x||_1``; its prox is soft thresholding at ``t * lam``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite.

    Examples
    --------
    >>> from slopes.optim.prox import l1
    >>> h = l1(1.0)
    >>> h(np.array([3.0, -0.5, -2.0]), 0.5), h.value(np.array([3.0, -1.0]))
    (array([ 2.5,  0. , -1.5]), 4.0)
    """
    lam = _check_weight("l1: lam", lam)
    return Prox(
        f"l1(lam={lam!r})", lambda v, t: soft_threshold(v, t * lam), lambda x: lam * np.sum(np.abs(x))
    )


def squared_l2(lam: float) -> Prox:
    """``h(x) = lam / 2 * ||x||_2^2``; its prox is ``v / (1 + t * lam)``.

    Raises
    ------
    ValueError
        If ``lam`` is negative or not finite.

    Examples
    --------
    >>> from slopes.optim.prox import squared_l2
    >>> h = squared_l2(2.0)
    >>> h(np.array([3.0, -6.0]), 1.0), h.value(np.array([1.0, 2.0]))
    (array([ 1., -2.]), 5.0)
    """
    lam = _check_weight("squared_l2: lam", lam)
    return Prox(
        f"squared_l2(lam={lam!r})", lambda v, t: v / (1.0 + t * lam), lambda x: 0.5 * lam * np.sum(x * x)
    )


def elastic_net(l1: float, l2: float) -> Prox:
    """``h(x) = l1 * ||x||_1 + l2 / 2 * ||x||_2^2``.

    Its prox is soft thresholding followed by shrinkage:
    ``soft_threshold(v, t * l1) / (1 + t * l2)``.

    Raises
    ------
    ValueError
        If a weight is negative or not finite.

    Examples
    --------
    >>> from slopes.optim.prox import elastic_net
    >>> h = elastic_net(1.0, 1.0)
    >>> h(np.array([3.0, -0.5]), 1.0), h.value(np.array([2.0, -1.0]))
    (array([1., 0.]), 5.5)
    """
    a = _check_weight("elastic_net: l1", l1)
    b = _check_weight("elastic_net: l2", l2)
    return Prox(
        f"elastic_net(l1={a!r}, l2={b!r})",
        lambda v, t: soft_threshold(v, t * a) / (1.0 + t * b),
        lambda x: a * np.sum(np.abs(x)) + 0.5 * b * np.sum(x * x),
    )


def zero() -> Prox:
    """``h = 0``: the prox is the identity (plain gradient descent as a proximal method).

    Examples
    --------
    >>> from slopes.optim.prox import zero
    >>> zero()(np.array([1.0, -2.0]), 3.0), zero().value(np.array([5.0]))
    (array([ 1., -2.]), 0.0)
    """
    return Prox("zero()", lambda v, t: np.array(v, copy=True), lambda x: 0.0)


def indicator(projection: Projection, tol: float = 1e-9) -> Prox:
    """``h = indicator of a closed convex set C`` (0 on C, ``inf`` off it).

    Its prox is the projection onto ``C`` for every ``t``; ``.value(x)`` is 0 when
    ``projection.contains(x, tol)`` and ``inf`` otherwise.

    Parameters
    ----------
    projection : Projection
        From :mod:`slopes.optim.projections` (``box``, ``l2_ball``, ``simplex``, ...).
    tol : float
        Membership tolerance used by ``.value``.

    Examples
    --------
    >>> from slopes.optim.projections import l2_ball
    >>> from slopes.optim.prox import indicator
    >>> h = indicator(l2_ball(1.0))
    >>> h(np.array([0.0, 2.0]), 0.1), h.value(np.array([0.0, 2.0]))
    (array([0., 1.]), inf)
    """
    if not isinstance(projection, Projection):
        raise TypeError(f"indicator: expected a Projection (e.g. box(0, 1)), got {type(projection).__name__}")
    return Prox(
        f"indicator({projection.name})",
        lambda v, t: projection(v),
        lambda x: 0.0 if projection.contains(x, tol) else np.inf,
    )


def box_indicator(lower=None, upper=None, tol: float = 1e-9) -> Prox:
    """``h = indicator of the box {lower <= x <= upper}``; its prox is clipping.

    Bounds as in :func:`slopes.optim.projections.box` (``None`` = unbounded).

    Raises
    ------
    ValueError
        If some ``lower > upper``.

    Examples
    --------
    >>> from slopes.optim.prox import box_indicator
    >>> h = box_indicator(0.0, 1.0)
    >>> h(np.array([-1.0, 0.5, 3.0]), 2.0), h.value(np.array([0.5])), h.value(np.array([2.0]))
    (array([0. , 0.5, 1. ]), 0.0, inf)
    """
    return indicator(box(lower, upper), tol)


def fixed_point_residual(x, grad, step: float, projection_or_prox=None, *, normalized: bool = False) -> float:
    """Optimality measure ``||x - P(x - step * grad)||_2`` for constrained / composite problems.

    For ``min f(x)`` over a closed convex set ``C`` (``P`` = projection onto ``C``), or
    ``min f(x) + h(x)`` (``P = prox_{step h}``), with ``f`` convex and differentiable,
    ``x`` is a minimizer **if and only if** it is a fixed point of the projected /
    proximal gradient step, i.e. this residual is 0. It is the right replacement for
    ``||grad f(x)||``, which need not vanish at a constrained minimizer. With
    ``normalized=True`` the residual is divided by ``step``: the norm of the
    *gradient mapping* ``G(x) = (x - P(x - step*grad)) / step``, which equals
    ``||grad||`` when there is no constraint.

    Parameters
    ----------
    x, grad : array_like
        The point and ``grad f(x)`` (same shape).
    step : float
        The step ``> 0`` (typically ``1/L``).
    projection_or_prox : Projection, Prox, callable or None
        A :class:`Prox` (or any object with a ``.value`` method) is called as
        ``prox(v, step)``; a :class:`~slopes.optim.projections.Projection` or other
        callable as ``P(v)``; ``None`` means no constraint (``P`` = identity).
    normalized : bool
        Divide by ``step`` (gradient-mapping norm).

    Returns
    -------
    float

    Examples
    --------
    Box-constrained quadratic ``1/2 x.Qx + c.x`` on ``[-2, 2]^2``; its minimizer ``(2, -1.5)``
    sits on the boundary, where the gradient is not zero but the residual is:

    >>> from slopes.optim.projections import box
    >>> from slopes.optim.prox import fixed_point_residual
    >>> Q, c = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([-8.0, 1.0])
    >>> x = np.array([2.0, -1.5])
    >>> Q @ x + c
    array([-3.5,  0. ])
    >>> fixed_point_residual(x, Q @ x + c, 0.25, box(-2, 2))
    0.0
    >>> y = np.zeros(2)
    >>> round(fixed_point_residual(y, Q @ y + c, 0.25, box(-2, 2)), 4)
    2.0156
    """
    x = _as_float(x)
    g = _as_float(grad)
    if x.shape != g.shape:
        raise ValueError(f"fixed_point_residual: x has shape {x.shape} but grad has shape {g.shape}")
    step = float(step)
    if not (step > 0 and np.isfinite(step)):
        raise ValueError(f"fixed_point_residual: step must be finite and > 0, got {step!r}")
    v = x - step * g
    if projection_or_prox is None:
        p = v
    elif hasattr(projection_or_prox, "value") and not isinstance(projection_or_prox, Projection):
        p = projection_or_prox(v, step)
    elif callable(projection_or_prox):
        p = projection_or_prox(v)
    else:
        raise TypeError(
            "fixed_point_residual: projection_or_prox must be a Projection, a Prox, a callable or None"
        )
    d = x - np.asarray(p, dtype=x.dtype)
    r = float(np.sqrt(np.sum(d * d)))
    return r / step if normalized else r
