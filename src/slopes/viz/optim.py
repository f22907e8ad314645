"""Optimizer figures: iterates over the contours of ``f``, and one line search's trial steps."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from .io import Figure  # a matplotlib Figure that a notebook shows inline
from matplotlib.patches import Rectangle

from ..optim.bounds import read_bounds
from ..optim.linesearch import strong_wolfe
from ..optim.result import Result
from ..transforms import grad
from ._style import LAYOUT, run_styles
from .landscape import _check_lim, _levels, _values

__all__ = ["trajectories", "line_search_iterates"]


def _scalar(value, where):
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"{where}: f must return a scalar, got an array of shape {value.shape}")
    return float(value.reshape(()))


def _path(run, label):
    if isinstance(run, Result):
        if not run.history.record_x:
            raise ValueError(
                f"run {label!r}: its history has no iterates; call sl.minimize(..., record_x=True)"
            )
        run = run.history.x
    path = np.asarray(run, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] < 1:
        raise ValueError(
            f"run {label!r}: expected a Result of a 2-D problem or an (n, 2) array of iterates, "
            f"got shape {path.shape}"
        )
    return path


def _visual_length(path, xlim, ylim):
    """Arc length of a path in units of the window's width and height (what the eye sees)."""
    steps = np.diff(path, axis=0) / [xlim[1] - xlim[0], ylim[1] - ylim[0]]
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    return float(np.sum(lengths[np.isfinite(lengths)]))  # a diverged tail (inf, nan) is not drawn


def _drawing_order(paths, xlim, ylim, lo, hi):
    """Labels from the bottom layer to the top one.

    Runs whose iterates all satisfy the box (the projected ones) go on top of those that
    leave it; within each group the shorter path goes on top, so a long path cannot bury it.
    """

    def key(label):
        path = paths[label]
        feasible = lo is not None and bool(np.all((path >= lo) & (path <= hi)))
        return (feasible, -_visual_length(path, xlim, ylim))

    return sorted(paths, key=key)


def _aspect(aspect, xlim, ylim):
    """``"equal"`` or ``"auto"``: by default equal unless the window is more than 3:1 (too thin to read)."""
    if aspect is None:
        ratio = (xlim[1] - xlim[0]) / (ylim[1] - ylim[0])
        return "equal" if 1 / 3 <= ratio <= 3 else "auto"
    if aspect not in ("equal", "auto"):
        raise ValueError(f"trajectories(): aspect must be None, 'equal' or 'auto', got {aspect!r}")
    return aspect


def _figsize(aspect, xlim, ylim, n_entries):
    """A 6.4 in wide figure as high as the axes need: the window's shape when equal, plus the legend rows."""
    plot_height = 4.6 * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0]) if aspect == "equal" else 4.0
    return (6.4, float(np.clip(plot_height + 1.0 + 0.25 * math.ceil(n_entries / 2), 3.0, 10.0)))


def trajectories(f, runs, xlim, ylim, *, bounds=None, levels=30, n=150, aspect=None, figsize=None):
    """Iterates of one or more optimizer runs over the contours of a 2-D function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (2,), e.g. written with ``slopes.numpy``.
    runs : dict
        ``label -> Result`` (from ``sl.minimize(..., record_x=True)``) or an ``(n, 2)`` array
        of iterates. Put the step size in the label (``"gd, lr=0.1"``) to show it in the legend.
    xlim, ylim : (float, float)
        The plotted window.
    bounds : optional
        Box constraints of a projected method, spelled as for :func:`slopes.minimize`
        (a list of ``(min, max)`` pairs, ``scipy.optimize.Bounds``, or ``(lo, hi)`` numbers
        for one box on both coordinates): the box is drawn, and the runs that stay in it are
        drawn above those that leave it.
    levels : int or sequence of float
        Number of contour levels (placed at quantiles of ``f`` on the grid) or the levels.
    n : int
        Grid points per axis.
    aspect : {None, "equal", "auto"}
        ``"equal"``: one unit is as long on both axes, so the level sets have their true shape
        and the gradient is seen normal to them. ``None`` (default): equal unless the window
        is more than 3 times wider than high (or higher than wide). ``"auto"``: fill the axes.
    figsize : (float, float), optional
        Default: 6.4 inches wide and as high as the window's shape and the legend need.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: contours, one line per run (gid ``"run:<label>"``; start: open circle, end:
        filled square), the legend below the axes (``fig.legends[0]``). Runs differ in colour,
        dash and marker (:func:`~slopes.viz._style.run_styles`); lower layers are drawn wider,
        and every path is slightly transparent, so a path under another one still shows.

    Examples
    --------
    >>> import slopes as sl
    >>> f = lambda x: x[0] ** 2 + 5 * x[1] ** 2
    >>> res = sl.minimize(f, [2.0, 1.0], method="gd", learning_rate=0.05, maxiter=30, record_x=True)
    >>> fig = trajectories(f, {"gd, lr=0.05": res}, (-2.5, 2.5), (-1.5, 1.5))
    >>> [t.get_text() for t in fig.legends[0].get_texts()], fig.axes[0].get_aspect()
    (['gd, lr=0.05 (30 it)'], 1.0)
    """
    if not callable(f):
        raise TypeError(
            f"trajectories(): f must be a function of a point x of shape (2,), got {type(f).__name__}"
        )
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("trajectories(): runs must be a non-empty dict label -> Result or (n, 2) array")
    xlim, ylim = _check_lim(xlim, "xlim", "trajectories()"), _check_lim(ylim, "ylim", "trajectories()")
    aspect = _aspect(aspect, xlim, ylim)
    paths = {str(label): _path(run, label) for label, run in runs.items()}

    X, Y, Z = _values(f, xlim, ylim, n)  # the same grid evaluation and levels as every contour figure
    if figsize is None:
        figsize = _figsize(aspect, xlim, ylim, len(paths) + (bounds is not None))
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    cs = ax.contour(X, Y, Z, levels=_levels(Z, levels), cmap="viridis", linewidths=0.8, alpha=0.8)
    # the colour bar as a child of the axes: exactly as high as the axes, whatever the aspect
    fig.colorbar(cs, cax=ax.inset_axes([1.04, 0.0, 0.045, 1.0]), label="f(x)")

    lo = hi = None
    handles = []
    if bounds is not None:
        lo, hi = read_bounds(bounds, (2,))  # minimize's reader: the same spellings, the same meanings
        # an infinite side is drawn at the window's edge (far enough to lie outside it)
        span = max(xlim[1] - xlim[0], ylim[1] - ylim[0])
        lo_d = np.maximum(lo, [xlim[0] - span, ylim[0] - span])
        hi_d = np.minimum(hi, [xlim[1] + span, ylim[1] + span])
        box = Rectangle(
            tuple(lo_d),
            *(hi_d - lo_d),
            fill=False,
            edgecolor="black",
            linestyle="--",
            linewidth=1.5,
            label="constraint box",
            zorder=2.5,  # above the contours, under every path
        )
        handles.append(ax.add_patch(box))

    styles = dict(zip(paths, run_styles(len(paths))))
    order = _drawing_order(paths, xlim, ylim, lo, hi)
    top = max(len(order) - 1, 1)
    lines = {}
    for rank, label in enumerate(order):
        path, style = paths[label], styles[label]
        (lines[label],) = ax.plot(
            path[:, 0],
            path[:, 1],
            **style,
            markersize=4,
            markevery=max(1, len(path) // 25),  # about 25 markers, however long the run
            linewidth=1.2 + 2.4 * (top - rank) / top,  # lower layers wider: their edges show
            alpha=0.85,
            label=f"{label} ({len(path) - 1} it)",
            zorder=3 + rank / len(order),
            gid=f"run:{label}",
        )
        c = style["color"]
        ax.plot(*path[0], "o", mfc="none", mec=c, mew=1.5, markersize=9, zorder=5, gid=f"run:{label}:start")
        ax.plot(*path[-1], "s", color=c, mec="black", markersize=6, zorder=5, gid=f"run:{label}:end")
    handles += [lines[label] for label in paths]  # the legend in the caller's order

    ax.set(xlim=xlim, ylim=ylim, xlabel="$x_1$", ylabel="$x_2$", title="optimizer iterates (o start, \u25a0 end)")
    ax.set_aspect(aspect, adjustable="box")
    fig.legend(handles=handles, loc="outside lower center", ncols=min(2, len(handles)), fontsize="small")
    return fig


def line_search_iterates(
    f, x, d, *, grad_f=None, step=1.0, c1=1e-4, c2=0.9, tmax=None, n=300, figsize=(6.0, 4.0)
):
    """The trial steps of one strong Wolfe line search on the slice ``phi(t) = f(x + t d)``.

    Runs :func:`slopes.optim.strong_wolfe` with ``f`` wrapped to record every trial, then draws
    ``phi``, the sufficient-decrease (Armijo) line ``f(x) + c1 t phi'(0)``, the numbered trials
    and the accepted step.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; written with ``slopes.numpy`` unless ``grad_f`` is given.
    x, d : array_like, 1-D
        The start point and a descent direction.
    grad_f : callable, optional
        The gradient of ``f`` (default: :func:`slopes.grad`).
    step, c1, c2 :
        Passed to :func:`~slopes.optim.strong_wolfe`.
    tmax : float, optional
        Right end of the plotted ``t`` range (default: a margin past the largest trial).
    n : int
        Points on the curve.
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        One axes; ``fig.line_search`` holds the :class:`~slopes.optim.LineSearchResult` and
        ``fig.trial_steps`` the trial steps in the order tried.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: 0.5 * x[0] ** 2 + 5 * x[1] ** 2
    >>> fig = line_search_iterates(f, np.array([1.0, 1.0]), np.array([-1.0, -10.0]), c2=0.1)
    >>> fig.line_search.success, len(fig.trial_steps) == fig.line_search.trials
    (True, True)
    """
    if not callable(f):
        raise TypeError(f"line_search_iterates(): f must be a function of x, got {type(f).__name__}")
    x = np.asarray(x, dtype=float)
    d = np.asarray(d, dtype=float)
    if x.ndim != 1 or x.shape != d.shape:
        raise ValueError(
            f"line_search_iterates(): x and d must be 1-D of one shape, got {x.shape} and {d.shape}"
        )
    grad_f = grad(f) if grad_f is None else grad_f
    fx = _scalar(f(x), "line_search_iterates()")
    slope0 = float(np.dot(np.asarray(grad_f(x), dtype=float), d))
    if not slope0 < 0:
        raise ValueError(
            f"line_search_iterates(): d is not a descent direction at x (phi'(0) = g.d = {slope0:.4g} >= 0); "
            "use e.g. d = -grad f(x)"
        )

    trials = []  # (t, phi(t)) of each evaluation strong_wolfe makes away from x

    def recording_f(z):
        value = f(z)
        trials.append((float(np.dot(np.asarray(z) - x, d) / np.dot(d, d)), _scalar(value, "f")))
        return value

    res = strong_wolfe(recording_f, grad_f, x, d, fx=fx, step=step, c1=c1, c2=c2)
    ts = np.array([t for t, _ in trials])
    phis = np.array([p for _, p in trials])

    if tmax is not None:
        hi = float(tmax)
    else:
        # zoom on the trials that decreased f (a far first trial can be 1000x the accepted step)
        near = ts[np.isfinite(phis) & (phis <= fx)]
        hi = 1.15 * max([*near, 2.0 * res.step] if near.size or res.step > 0 else [step])
    if not hi > 0:
        raise ValueError(f"line_search_iterates(): tmax must be > 0, got {tmax!r}")
    grid = np.linspace(0.0, hi, n)
    with np.errstate(all="ignore"):
        curve = np.array([_scalar(f(x + t * d), "f") for t in grid])

    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    ax.plot(grid, curve, color="tab:blue", linewidth=1.5, label=r"$\phi(t) = f(x + t\,d)$")
    ax.plot(
        grid,
        fx + c1 * grid * slope0,
        "--",
        color="gray",
        linewidth=1,
        label=rf"Armijo line $\phi(0) + c_1 t \phi'(0)$, $c_1$={c1:g}",
    )
    ax.plot(ts, phis, "o", color="tab:purple", mfc="none", markersize=7, label="trial steps", zorder=4)
    for k, (t, p) in enumerate(trials, start=1):
        ax.annotate(str(k), (t, p), textcoords="offset points", xytext=(4, 4), fontsize=8)
    beyond = [(k, t, p) for k, (t, p) in enumerate(trials, start=1) if t > hi]
    if beyond:
        note = "; ".join(f"trial {k}: t = {t:.3g}, $\\phi$ = {p:.3g}" for k, t, p in beyond)
        ax.text(
            0.98,
            0.03,
            f"outside the view: {note}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="tab:purple",
        )
    if res.success:
        ax.plot(
            [res.step],
            [res.f_new],
            "o",
            color="tab:green",
            markersize=8,
            label=f"accepted t = {res.step:.4g}",
        )
    # keep the view on phi's useful range: huge values from far trials would flatten the curve
    finite = curve[np.isfinite(curve)]
    if finite.size:
        lo = float(finite.min())
        top = max(fx, lo) + 2 * abs(fx - lo) + 1e-12
        pad = 0.08 * (top - lo)
        ax.set_ylim(lo - pad, top + pad)
    ax.set(
        xlim=(0.0, hi),
        xlabel="step t",
        ylabel=r"$\phi(t)$",
        title=f"strong Wolfe line search: {res.trials} trials ($c_2$={c2:g})",
    )
    ax.legend(loc="best", fontsize="small")
    fig.line_search = res
    fig.trial_steps = ts
    return fig
