"""Pictures of one-variable calculus: secants becoming the tangent, Taylor polynomials and their errors.

* :func:`secant_tangent` -- the secant lines through ``x0`` and ``x0 + h`` for shrinking ``h``
  (slopes: the difference quotients) and the tangent (slope ``f'(x0)`` by :func:`slopes.derivative`).
* :func:`taylor_approximations` -- Taylor polynomials of several orders (:func:`slopes.taylor`)
  over ``f``, and below them ``|f - p_n|`` on a log scale.

``f`` maps a scalar to a scalar and is written with :mod:`slopes.numpy`.
"""

from __future__ import annotations

import operator

import numpy as np
from matplotlib import colormaps
from .io import Figure  # a matplotlib Figure that a notebook shows inline

from ..taylor import TaylorPolynomial, taylor
from ..transforms import derivative
from .landscape import _batched, _check_callable, _check_lim

__all__ = ["secant_tangent", "taylor_approximations"]


def _scalar(v, name, who):
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a real number, got {v!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{who}: {name} must be finite, got {v}")
    return v


def _orders(orders, who):
    """The distinct degrees, ascending; integers >= 0 only."""
    try:
        degrees = sorted({operator.index(n) for n in np.atleast_1d(orders).tolist()})
    except TypeError:
        degrees = []
    if not degrees or degrees[0] < 0:
        raise ValueError(f"{who}: orders must be a non-empty sequence of integers >= 0, got {orders!r}")
    return degrees


def _curve(f, xs, who):
    """``f`` at each of the scalars ``xs`` (non-finite values become nan: a gap in the line)."""
    ys = _batched(f, xs)
    if ys.shape != xs.shape:
        raise ValueError(
            f"{who}: f must map a scalar to a scalar; it returned shape {ys.shape[1:]} per point"
        )
    return np.where(np.isfinite(ys), ys, np.nan)


def _ylim_of(ys, pad=0.15):
    """The range of the finite ``ys``, padded: the view of ``f`` that lines far off it must not stretch."""
    lo, hi = np.nanmin(ys), np.nanmax(ys)
    span = hi - lo if hi > lo else max(1.0, abs(hi))
    return lo - pad * span, hi + pad * span


def secant_tangent(f, x0, hs=(1.0, 0.5, 0.1), *, xlim=None):
    """Secant lines through ``(x0, f(x0))`` and ``(x0 + h, f(x0 + h))`` turning into the tangent as h -> 0.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` of a scalar ``x``, written with :mod:`slopes.numpy`.
    x0 : float
        The point of tangency.
    hs : sequence of float
        The steps ``h`` (nonzero; negative gives a backward secant). Secant ``h`` has slope
        ``(f(x0 + h) - f(x0)) / h``.
    xlim : (float, float), optional
        The x range; default: all the points ``x0 + h`` with half their spread as margin.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the graph of ``f`` (gid ``'f'``), one line per ``h`` (gid ``'secant'``,
        in the order of ``hs``), the tangent (gid ``'tangent'``, slope ``f'(x0)``), the
        points marked; the legend gives the slopes.

    Examples
    --------
    >>> import slopes.viz as sv
    >>> fig = sv.secant_tangent(lambda x: x ** 2, 1.0, hs=(1.0, 0.1))
    >>> len(fig.axes), [line.get_gid() for line in fig.axes[0].lines]
    (1, ['f', 'secant', 'secant', 'tangent'])
    """
    who = "secant_tangent"
    _check_callable(f, who)
    x0 = _scalar(x0, "x0", who)
    hs = [_scalar(h, "each h", who) for h in np.atleast_1d(np.asarray(hs, dtype=object))]
    if not hs or any(h == 0.0 for h in hs):
        raise ValueError(f"{who}: hs must be a non-empty sequence of nonzero steps, got {hs}")
    if xlim is None:
        ends = [x0] + [x0 + h for h in hs]
        margin = 0.5 * (max(ends) - min(ends))
        xlim = (min(ends) - margin, max(ends) + margin)
    xlim = _check_lim(xlim, "xlim", who)

    xs = np.linspace(*xlim, 400)
    ys = _curve(f, xs, who)
    y0 = float(f(x0))
    slope = float(derivative(f)(x0))

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(xs, ys, color="black", linewidth=2.2, label="f", gid="f")
    colors = colormaps["viridis"](np.linspace(0.85, 0.25, len(hs)))  # light to dark as h shrinks
    for h, c in zip(hs, colors):
        yh = float(f(x0 + h))
        q = (yh - y0) / h
        ax.plot(
            xs,
            y0 + q * (xs - x0),
            color=c,
            linewidth=1.3,
            linestyle="--",
            label=f"secant h = {h:g}: slope {q:.4g}",
            gid="secant",
        )
        ax.scatter([x0 + h], [yh], color=[c], edgecolors="black", zorder=4, s=30)
    ax.plot(
        xs,
        y0 + slope * (xs - x0),
        color="tab:red",
        linewidth=1.8,
        label=f"tangent: f'(x0) = {slope:.4g}",
        gid="tangent",
    )
    ax.scatter([x0], [y0], color="tab:red", edgecolors="black", zorder=5, s=45)
    ax.set_xlim(*xlim)
    ax.set_ylim(*_ylim_of(ys))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"Secants approach the tangent at x0 = {x0:g}")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return fig


def taylor_approximations(f, x0, orders=(1, 2, 3, 5), *, xlim=None):
    """Taylor polynomials ``p_n`` of ``f`` about ``x0`` over its graph, and their errors ``|f - p_n|``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` of a scalar ``x``, written with :mod:`slopes.numpy`.
    x0 : float
        The center of the expansions.
    orders : sequence of int
        The degrees ``n >= 0`` shown (one :func:`slopes.taylor` call of the highest order,
        truncated for the others).
    xlim : (float, float), optional
        The x range; default ``(x0 - 2, x0 + 2)``.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes sharing x. Top: ``f`` (gid ``'f'``) and one line per order, ascending
        (gid ``'taylor'``, label ``'order n'``); the y range is that of ``f``, so
        polynomials running off are clipped. Bottom: ``|f - p_n|`` on a log scale (gid
        ``'error'``; exact zeros left out), the error shrinking like ``|x - x0|**(n+1)``
        near ``x0``.

    Examples
    --------
    >>> import slopes.viz as sv, slopes.numpy as snp
    >>> fig = sv.taylor_approximations(snp.sin, 0.0, orders=(1, 3))
    >>> len(fig.axes), [line.get_label() for line in fig.axes[0].lines]
    (2, ['f', 'order 1', 'order 3'])
    """
    who = "taylor_approximations"
    _check_callable(f, who)
    x0 = _scalar(x0, "x0", who)
    orders = _orders(orders, who)
    xlim = _check_lim((x0 - 2.0, x0 + 2.0) if xlim is None else xlim, "xlim", who)

    xs = np.linspace(*xlim, 400)
    ys = _curve(f, xs, who)
    full = taylor(f, x0, orders[-1])

    fig = Figure(figsize=(6.4, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw=dict(height_ratios=(3, 2)))
    top.plot(xs, ys, color="black", linewidth=2.4, label="f", gid="f")
    colors = colormaps["plasma"](np.linspace(0.0, 0.8, len(orders)))
    positive = []
    for n, c in zip(orders, colors):
        p = TaylorPolynomial(full.center, full.derivatives[: n + 1])
        pn = np.asarray(p(xs), dtype=np.float64)
        top.plot(xs, pn, color=c, linewidth=1.4, label=f"order {n}", gid="taylor")
        err = np.abs(ys - pn)
        err = np.where(err > 0, err, np.nan)  # log scale: an exact match is left out, not -inf
        bottom.plot(xs, err, color=c, linewidth=1.4, label=f"order {n}", gid="error")
        positive.append(err[np.isfinite(err)])
    top.scatter([x0], [full.derivatives[0]], color="black", zorder=5, s=30)
    top.set_ylim(*_ylim_of(ys, pad=0.25))
    top.set_ylabel("f(x), $p_n(x)$")
    top.set_title(f"Taylor polynomials about x0 = {x0:g}")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)

    bottom.set_yscale("log")
    errs = np.concatenate(positive)
    if errs.size:  # floor the axis at rounding level so the 1e-300 of an exact fit does not squash it
        scale = max(1.0, float(np.nanmax(np.abs(ys))))
        bottom.set_ylim(max(float(errs.min()), 1e-16 * scale) / 2, float(errs.max()) * 2)
    bottom.set_xlim(*xlim)
    bottom.set_xlabel("x")
    bottom.set_ylabel("$|f(x) - p_n(x)|$")
    bottom.set_title("Error of each order (log scale)")
    bottom.grid(alpha=0.3, which="both")
    return fig
