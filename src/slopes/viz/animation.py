"""A GIF of an optimizer's path: :func:`animate_descent`.

The frames are drawn with matplotlib's Agg renderer and written with Pillow (no ffmpeg):
one frame per iterate, the path so far as a trail, the current point and its ``f`` in the
title. A path of one variable moves along the graph of ``f``; a path of two over the
contours of ``f``. Paths come from ``sl.minimize(..., record_x=True).history.x``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .calculus import _curve, _ylim_of
from .landscape import _batched, _check_callable, _check_int, _check_lim, _levels, _values

__all__ = ["animate_descent"]


def _as_path(path):
    """The iterates as a float array ``(n,)``, ``(n, 1)`` or ``(n, 2)``; a Result gives its history.x."""
    history = getattr(path, "history", None)
    if history is not None:
        if not getattr(history, "record_x", False):
            raise ValueError(
                "animate_descent: this Result has no iterates; run sl.minimize(..., record_x=True)"
            )
        path = history.x
    try:
        arr = np.asarray(path, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"animate_descent: path must be an array of iterates, got {type(path).__name__}"
        ) from None
    if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] in (1, 2))) or arr.shape[0] == 0:
        raise ValueError(
            "animate_descent: path must have shape (n,) or (n, 1) for f of one variable, (n, 2) for two "
            f"(got {arr.shape}); pass result.history.x of a 1-D or 2-D run"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            "animate_descent: path holds non-finite iterates (a diverged run?); cut them off first"
        )
    return arr


def _frame_indices(n, max_frames):
    """All ``n`` iterates, or ``max_frames`` of them evenly spaced with the first and last kept."""
    if max_frames is None or n <= max_frames:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(int))


def _pad(lo, hi, frac, least=1.0):
    span = hi - lo
    m = frac * span if span > 0 else least
    return lo - m, hi + m


def _fill_box(xlim, ylim, ratio):
    """Widen the shorter side about its centre to a height/width ``ratio``: equal aspect fills the axes."""
    (x0, x1), (y0, y1) = xlim, ylim
    if y1 - y0 < ratio * (x1 - x0):
        c, h = (y0 + y1) / 2, ratio * (x1 - x0) / 2
        return xlim, (c - h, c + h)
    c, h = (x0 + x1) / 2, (y1 - y0) / ratio / 2
    return (c - h, c + h), ylim


def _setup_1d(ax, f, path, xlim):
    """The graph of ``f`` and the path's values on it; returns ``(xs, values)`` of the iterates."""
    xs = path[:, 0] if path.ndim == 2 else path
    vec = path.ndim == 2  # f takes a vector of shape (1,), as after sl.minimize
    fun = (lambda x: f(x[None])) if vec else f  # grid points as the same shape as the iterates
    if xlim is None:
        xlim = _pad(xs.min(), xs.max(), 0.3)
    xlim = _check_lim(xlim, "xlim", "animate_descent")
    grid = np.linspace(*xlim, 300)
    ys = _curve(fun, grid, "animate_descent")
    values = np.asarray(_batched(f, path), dtype=np.float64).reshape(len(path))
    ax.plot(grid, ys, color="black", linewidth=2, label="f", gid="f")
    ax.set_xlim(*xlim)
    ax.set_ylim(*_ylim_of(np.concatenate([ys, values])))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    return xs, values


def _setup_2d(ax, f, path, xlim, ylim):
    """Contours of ``f`` around the path; returns the path's coordinates and values."""
    if xlim is None and ylim is None:
        xlim, ylim = _fill_box(
            _pad(path[:, 0].min(), path[:, 0].max(), 0.25),
            _pad(path[:, 1].min(), path[:, 1].max(), 0.25),
            0.8,
        )
    if xlim is None:
        xlim = _pad(path[:, 0].min(), path[:, 0].max(), 0.25)
    if ylim is None:
        ylim = _pad(path[:, 1].min(), path[:, 1].max(), 0.25)
    xlim = _check_lim(xlim, "xlim", "animate_descent")
    ylim = _check_lim(ylim, "ylim", "animate_descent")
    X, Y, Z = _values(f, xlim, ylim, 120)
    ax.contour(X, Y, Z, levels=_levels(Z, 25), cmap="viridis", linewidths=0.9)
    values = _batched(f, path)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return path[:, 0], path[:, 1], values


def _blit_frames(canvas, moving, update, indices):
    """Render the static figure once, then per frame only the ``moving`` artists over a copy of it.

    ``update(k)`` sets the moving artists for iterate ``k``. Redrawing just these (blitting)
    keeps the contours, ticks and labels from being redrawn for every frame.
    """
    for a in moving:
        a.set_animated(True)  # left out of canvas.draw()
    canvas.draw()
    background = canvas.copy_from_bbox(canvas.figure.bbox)
    frames = []
    for k in indices:
        canvas.restore_region(background)
        update(k)
        for a in moving:
            canvas.figure.draw_artist(a)
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy()))
    return frames


def animate_descent(f, path, out, *, xlim=None, ylim=None, fps=8, max_frames=200, dpi=80):
    """Write a GIF of the iterates ``path`` moving over the landscape of ``f``.

    Parameters
    ----------
    f : callable
        The objective the path minimizes, written with :mod:`slopes.numpy`: of a scalar
        (path of shape ``(n,)``), of a vector of shape ``(1,)`` (path ``(n, 1)``, as
        ``sl.minimize`` records it for one variable) or of shape ``(2,)`` (path ``(n, 2)``).
    path : array_like or Result
        The iterates in order, or a :class:`~slopes.optim.Result` of
        ``sl.minimize(..., record_x=True)`` (its ``history.x``).
    out : str or Path
        The GIF file (suffix ``.gif``); its folder is created if needed.
    xlim, ylim : (float, float), optional
        The view; default: the path's range with a margin.
    fps : float
        Frames per second (each frame's duration is rounded to the GIF's 10 ms unit); the
        last frame is held for a second.
    max_frames : int or None
        A path longer than this is shown at ``max_frames`` evenly spaced iterates (the
        first and last included); None keeps every iterate.
    dpi : int
        Resolution of the frames (the figure is 6 x 4 inches).

    Returns
    -------
    pathlib.Path
        ``out``. The GIF has one frame per iterate shown: ``len(path)`` frames when
        ``len(path) <= max_frames`` (the step counter in each title keeps equal-looking
        frames from being merged).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, slopes as sl, slopes.numpy as snp, slopes.viz as sv
    >>> from PIL import Image
    >>> f = lambda x: snp.sum(x ** 2)
    >>> r = sl.minimize(f, np.array([2.0]), method="gd", learning_rate=0.3, maxiter=5, record_x=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     gif = sv.animate_descent(f, r, pathlib.Path(tmp) / "gd.gif")
    ...     with Image.open(gif) as im:
    ...         im.n_frames == len(r.history.x)
    True
    """
    who = "animate_descent"
    _check_callable(f, who)
    path = _as_path(path)
    out = Path(out)
    if out.suffix.lower() != ".gif":
        raise ValueError(f"{who}: out must be a .gif file, got {str(out)!r}")
    fps = float(fps)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"{who}: fps must be a positive number, got {fps}")
    if max_frames is not None:
        max_frames = _check_int(max_frames, "max_frames", who, 2)
    dpi = _check_int(dpi, "dpi", who, 10)

    fig = Figure(figsize=(6.0, 4.0), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    two_d = path.ndim == 2 and path.shape[1] == 2
    if two_d:
        px, py, values = _setup_2d(ax, f, path, xlim, ylim)
    else:
        px, values = _setup_1d(ax, f, path, xlim)
        py = values  # the point moves on the graph of f
    ax.plot(
        px[:1],
        py[:1],
        marker="s",
        color="white",
        markeredgecolor="black",
        linestyle="none",
        label="start",
        zorder=4,
    )
    (trail,) = ax.plot(
        [],
        [],
        color="tab:red",
        marker="o",
        markersize=3.5,
        linewidth=1.2,
        alpha=0.8,
        label="iterates",
        zorder=5,
    )
    (head,) = ax.plot(
        [], [], marker="o", color="tab:red", markeredgecolor="black", markersize=9, linestyle="none", zorder=6
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")  # outside: never over the path
    ax.set_title("step 0", fontsize="medium")  # so the layout leaves room for the titles to come
    fig.tight_layout()

    def update(k):
        trail.set_data(px[: k + 1], py[: k + 1])
        head.set_data(px[k : k + 1], py[k : k + 1])
        ax.title.set_text(f"step {k} of {len(path) - 1}:  f = {values[k]:.4g}")

    frames = _blit_frames(canvas, [trail, head, ax.title], update, _frame_indices(len(path), max_frames))

    # one palette for every frame (from the last, which holds all the artists): no colour flicker
    palette = frames[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = [fr.quantize(palette=palette, dither=Image.Dither.NONE) for fr in frames]
    step_ms = max(10, 10 * round(100.0 / fps))  # GIF durations count in 10 ms units
    durations = [step_ms] * (len(frames) - 1) + [max(step_ms, 1000)]
    out.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(
        out, save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False, disposal=1
    )
    return out
