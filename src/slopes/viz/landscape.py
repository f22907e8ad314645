"""Landscapes of ``f: R^2 -> R``: level sets with gradient arrows, the 3-D surface, critical points.

* :func:`contour_gradients` -- contour lines and normalized gradient arrows, which cross the
  level sets at right angles (the axes have equal aspect so the right angle shows).
* :func:`surface` -- the graph of ``f`` as a 3-D surface, with its contours on the floor.
* :func:`critical_points_plot` -- minima, maxima and saddles marked by kind on the contours.
* :func:`landscape_grid` -- the numbers behind them: ``f`` on a grid and its contour levels.

``f`` takes a vector of shape ``(2,)`` and is written with :mod:`slopes.numpy`; it is
evaluated on the grid in one :func:`slopes.vmap` pass (a point at a time when it cannot be
vectorized, e.g. a Python ``if`` on values). Marker styles by kind (:data:`KIND_STYLE`):
minima green circles, maxima red triangles, saddles orange crosses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from .io import Figure  # a matplotlib Figure that a notebook shows inline
from matplotlib.lines import Line2D

from ..analysis import critical_points
from ..transforms import grad as _grad
from ..transforms import vmap as _vmap

__all__ = ["KIND_STYLE", "LandscapeGrid", "contour_gradients", "critical_points_plot", "landscape_grid", "surface"]

#: Marker style of each kind of critical point (keyword arguments of ``Axes.plot``).
KIND_STYLE = {
    "minimum": dict(marker="o", color="tab:green", markeredgecolor="black", markersize=9),
    "maximum": dict(marker="^", color="tab:red", markeredgecolor="black", markersize=10),
    "saddle": dict(marker="x", color="tab:orange", markeredgewidth=3, markersize=10),
    "degenerate": dict(marker="D", color="tab:gray", markeredgecolor="black", markersize=7),
    "not critical": dict(marker="s", color="tab:purple", markeredgecolor="black", markersize=6),
}


# beside the axes: a landscape has no empty corner to put it in
_LEGEND_OUTSIDE = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")


def _check_callable(f, who):
    if not callable(f):
        raise TypeError(f"{who}: f must be a callable f(x) -> scalar, got {type(f).__name__}")


def _check_lim(lim, name, who):
    """``(lo, hi)`` as floats, finite with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in lim)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a pair (low, high) of numbers, got {lim!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{who}: {name} needs finite low < high, got ({lo}, {hi})")
    return lo, hi


def _check_int(v, name, who, least):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise ValueError(f"{who}: {name} must be an integer >= {least}, got {v!r}")
    return int(v)


def _batched(fun, points):
    """``fun`` at each row of ``points``: one vmap pass, or a Python loop when ``fun`` cannot be batched."""
    try:
        out = np.asarray(_vmap(fun)(points), dtype=np.float64)
    except Exception:  # untraceable under vmap (value-dependent Python control flow): loop instead
        out = np.array([np.asarray(fun(p), dtype=np.float64) for p in points])
    return out


def _grid(xlim, ylim, n):
    """The meshgrid ``X, Y`` of ``n x n`` points and its rows as points of shape ``(n*n, 2)``."""
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    return X, Y, np.stack([X.ravel(), Y.ravel()], axis=1)


def _values(f, xlim, ylim, n):
    """``X, Y, Z = f(X, Y)`` on an ``n x n`` grid, non-finite values masked (silently: masking is the answer)."""
    X, Y, P = _grid(xlim, ylim, n)
    with np.errstate(all="ignore"):
        Z = _batched(f, P)
    if Z.shape != (P.shape[0],):
        raise ValueError(
            f"f must map a point of shape (2,) to a scalar; it returned shape {Z.shape[1:]} per point"
        )
    return X, Y, np.ma.masked_invalid(Z.reshape(X.shape))


def _levels(Z, levels):
    """Contour levels: an int gives that many at quantiles of ``Z``, denser towards low values.

    Quantiles (not equal spacing) keep a landscape readable when ``f`` spans decades
    (Rosenbrock's valley next to walls of 1e3); crowding them towards the low end draws
    the valley floors and the basins around minima, where the interest is.
    """
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        if levels < 1:
            raise ValueError(f"levels must be a positive integer or a sequence of values, got {levels}")
        z = Z.compressed() if np.ma.isMaskedArray(Z) else np.ravel(Z)
        if z.size == 0:
            raise ValueError("f is not finite anywhere on the grid; choose xlim/ylim inside its domain")
        # squared spacing of the quantiles: denser near the bottom, where the minima are
        lv = np.unique(np.quantile(z, np.linspace(0.0, 1.0, levels + 2)[1:-1] ** 2))
        return lv if lv.size else np.array([z[0]])  # a constant f: one level
    lv = np.sort(np.asarray(levels, dtype=np.float64).ravel())
    if lv.size == 0 or not np.all(np.isfinite(lv)):
        raise ValueError(f"levels must be a positive integer or a sequence of finite values, got {levels!r}")
    return lv


class LandscapeGrid(NamedTuple):
    """``f`` on an ``n x n`` grid (``Z`` masked where not finite) and the contour levels drawn for it."""

    X: np.ndarray
    Y: np.ndarray
    Z: np.ma.MaskedArray
    levels: np.ndarray


def landscape_grid(f, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), n=160, levels=25) -> LandscapeGrid:
    """``f`` evaluated on a grid, with the contour levels every slopes landscape figure uses.

    The numbers behind :func:`contour_gradients`, :func:`surface` and
    :func:`trajectories`, for drawing them with your own tools (or serving them, as
    ``slopes lab`` does).

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` for ``x`` of shape ``(2,)``, written with :mod:`slopes.numpy`.
    xlim, ylim : (float, float)
        The window, finite with low < high.
    n : int
        Points per side (at least 2).
    levels : int or sequence of float
        An int gives that many levels at quantiles of ``f`` on the grid, denser towards
        low values (so a valley and the basins of minima are drawn even when ``f`` spans
        decades); a sequence is used as given (sorted).

    Returns
    -------
    LandscapeGrid
        ``X, Y`` (the meshgrid, shape ``(n, n)``), ``Z = f(X, Y)`` masked where not finite,
        and ``levels`` (increasing).

    Raises
    ------
    ValueError
        When the window or ``n`` is invalid, or ``f`` is not finite anywhere on the grid.

    Examples
    --------
    >>> import slopes as sl
    >>> g = sl.viz.landscape_grid(lambda x: x[0] ** 2 + x[1] ** 2, (-1, 1), (-1, 1), n=5, levels=3)
    >>> g.Z.shape, float(g.Z[2, 2]), float(g.Z[0, 0])
    ((5, 5), 0.0, 2.0)
    >>> g.levels.size, bool(g.levels[0] < g.levels[-1])
    (3, True)
    """
    X, Y, Z = _checked_values(f, xlim, ylim, n, "landscape_grid")
    return LandscapeGrid(X, Y, Z, _levels(Z, levels))


def _checked_values(f, xlim, ylim, n, who):
    """:func:`_values` after checking the arguments, refusing a grid where ``f`` is nowhere finite."""
    _check_callable(f, who)
    xlim, ylim = _check_lim(xlim, "xlim", who), _check_lim(ylim, "ylim", who)
    n = _check_int(n, "n", who, 2)
    X, Y, Z = _values(f, xlim, ylim, n)
    if Z.count() == 0:
        raise ValueError(f"{who}: f is not finite anywhere on the grid; choose xlim/ylim inside its domain")
    return X, Y, Z


def _as_points(points, who):
    """``points`` as ``(kind, xy)`` pairs: CriticalPoints keep their kind, plain rows get ``None``."""
    if points is None:
        return []
    pts = list(points)
    out = []
    for p in pts:
        kind = getattr(p, "kind", None)
        xy = np.asarray(getattr(p, "x", p), dtype=np.float64).ravel()
        if xy.shape != (2,):
            raise ValueError(
                f"{who}: points must be (x, y) pairs or CriticalPoints of a 2-D f, got one of shape {xy.shape}"
            )
        out.append((kind, xy))
    return out


def _mark_points(ax, marked):
    """One marker artist per kind (legend label with the count); plain points are black stars."""
    kinds = [k for k in KIND_STYLE if any(kind == k for kind, _ in marked)]
    handles = []
    for kind in kinds + ([None] if any(kind is None for kind, _ in marked) else []):
        xy = np.array([p for k, p in marked if k == kind])
        style = KIND_STYLE.get(kind, dict(marker="*", color="black", markersize=11))
        label = f"{kind or 'points'} ({len(xy)})"
        (line,) = ax.plot(xy[:, 0], xy[:, 1], linestyle="none", label=label, zorder=5, **style)
        line.set_gid(f"points:{kind or 'points'}")
        handles.append(line)
    return handles


def _decorate(ax, xlim, ylim, title):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")  # so that right angles look right
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)


def contour_gradients(f, xlim, ylim, *, levels=30, n_arrows=15, points=None):
    """Level sets of ``f`` with its normalized gradient field, orthogonal to them.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` for ``x`` of shape ``(2,)``, written with :mod:`slopes.numpy`.
    xlim, ylim : (float, float)
        The box shown.
    levels : int or sequence of float
        Number of contour levels (placed at quantiles of ``f`` on the grid, denser towards
        low values, so steep walls do not take all the lines) or the level values themselves.
    n_arrows : int
        Arrows per side: ``grad f / ||grad f||`` (from :func:`slopes.grad`) on an
        ``n_arrows x n_arrows`` grid; arrows where the gradient is zero have length 0.
    points : sequence, optional
        Points to mark: ``(x, y)`` pairs (black stars) or
        :class:`~slopes.analysis.CriticalPoint` objects (marked by kind).

    Returns
    -------
    matplotlib.figure.Figure
        One axes (equal aspect) holding the :class:`~matplotlib.contour.ContourSet`, the
        :class:`~matplotlib.quiver.Quiver` and the markers.

    Examples
    --------
    >>> import slopes.viz as sv
    >>> fig = sv.contour_gradients(lambda x: x[0] ** 2 + 3 * x[1] ** 2, (-2, 2), (-2, 2), n_arrows=5)
    >>> len(fig.axes), fig.axes[0].get_title()
    (1, 'Level sets of f and the direction of grad f')
    """
    who = "contour_gradients"
    _check_callable(f, who)
    xlim, ylim = _check_lim(xlim, "xlim", who), _check_lim(ylim, "ylim", who)
    n_arrows = _check_int(n_arrows, "n_arrows", who, 2)
    marked = _as_points(points, who)
    X, Y, Z = _values(f, xlim, ylim, 160)

    fig = Figure(figsize=(7.6, 5.6), layout="constrained")
    ax = fig.add_subplot()
    cs = ax.contour(X, Y, Z, levels=_levels(Z, levels), cmap="viridis", linewidths=1.0)

    # arrows at cell centres of an n_arrows grid, so none sits on the frame
    dx, dy = (xlim[1] - xlim[0]) / n_arrows, (ylim[1] - ylim[0]) / n_arrows
    ax_x = np.linspace(xlim[0] + dx / 2, xlim[1] - dx / 2, n_arrows)
    ax_y = np.linspace(ylim[0] + dy / 2, ylim[1] - dy / 2, n_arrows)
    AX, AY = np.meshgrid(ax_x, ax_y)
    G = _batched(_grad(f), np.stack([AX.ravel(), AY.ravel()], axis=1))
    norm = np.linalg.norm(G, axis=1, keepdims=True)
    U = np.divide(G, norm, out=np.zeros_like(G), where=norm > 0)
    # angles/scale in data units: with equal aspect the arrows are drawn at the gradient's true angle
    ax.quiver(
        AX.ravel(),
        AY.ravel(),
        U[:, 0],
        U[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1.0 / (0.7 * min(dx, dy)),
        color="0.25",
        width=0.004,
        pivot="tail",
        zorder=3,
    )

    handles = [
        Line2D([], [], color=cs.cmap(0.5), label="level sets of f"),
        Line2D(
            [],
            [],
            color="0.25",
            marker=r"$\rightarrow$",
            markersize=14,
            linestyle="none",
            label=r"$\nabla f / \|\nabla f\|$",
        ),
    ]
    handles += _mark_points(ax, marked)
    _decorate(ax, xlim, ylim, "Level sets of f and the direction of grad f")
    ax.legend(handles=handles, **_LEGEND_OUTSIDE)
    return fig


def surface(f, xlim, ylim, *, n=60):
    """The graph of ``f`` over a box as a 3-D surface, its contour lines projected below.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` for ``x`` of shape ``(2,)``.
    xlim, ylim : (float, float)
        The box.
    n : int
        Grid points per side (``n * n`` evaluations of ``f``).

    Returns
    -------
    matplotlib.figure.Figure
        One 3-D axes (``fig.axes[0].name == '3d'``).

    Examples
    --------
    >>> import slopes.viz as sv
    >>> fig = sv.surface(lambda x: x[0] ** 2 - x[1] ** 2, (-1, 1), (-1, 1), n=10)
    >>> len(fig.axes), fig.axes[0].name
    (1, '3d')
    """
    X, Y, Z = _checked_values(f, xlim, ylim, n, "surface")
    zmin, zmax = float(Z.min()), float(Z.max())

    fig = Figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(
        X, Y, Z.filled(np.nan), cmap="viridis", linewidth=0, antialiased=True, alpha=0.9, rstride=1, cstride=1
    )
    if zmax > zmin:  # a constant f has no contours
        floor = zmin - 0.1 * (zmax - zmin)
        ax.contour(X, Y, Z, levels=_levels(Z, 12), zdir="z", offset=floor, cmap="viridis", linewidths=0.8)
        ax.set_zlim(floor, zmax)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("f(x)")
    ax.set_title("Graph of f")
    return fig


def critical_points_plot(f, xlim, ylim, points=None):
    """The critical points of ``f`` in a box, marked by kind on its contour lines.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` for ``x`` of shape ``(2,)``.
    xlim, ylim : (float, float)
        The box (and the search box when ``points`` is None).
    points : sequence of CriticalPoint, optional
        Default: ``sl.analysis.critical_points(f, [xlim, ylim])`` (multi-start Newton on
        ``grad f = 0``, every point classified by the Hessian test).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one marker artist per kind (gid ``'points:<kind>'``), minima green
        circles, maxima red triangles, saddles orange crosses, the count in the legend.

    Examples
    --------
    >>> import slopes.viz as sv
    >>> fig = sv.critical_points_plot(lambda x: x[0] ** 3 - 3 * x[0] + x[1] ** 2, (-2, 2), (-2, 2))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['minimum (1)', 'saddle (1)']
    """
    who = "critical_points_plot"
    _check_callable(f, who)
    xlim, ylim = _check_lim(xlim, "xlim", who), _check_lim(ylim, "ylim", who)
    if points is None:
        points = critical_points(f, [xlim, ylim])
    marked = _as_points(points, who)
    X, Y, Z = _values(f, xlim, ylim, 160)

    fig = Figure(figsize=(7.6, 5.6), layout="constrained")
    ax = fig.add_subplot()
    ax.contour(X, Y, Z, levels=_levels(Z, 25), cmap="Greys_r", linewidths=0.8, alpha=0.7)
    handles = _mark_points(ax, marked)
    if handles:
        ax.legend(handles=handles, **_LEGEND_OUTSIDE)
    else:
        ax.text(0.5, 0.5, "no critical points found", transform=ax.transAxes, ha="center")
    _decorate(ax, xlim, ylim, "Critical points of f")
    return fig
