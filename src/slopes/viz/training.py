"""Training figures: loss curves, learning-rate schedules, the LR range test, gradient norms, seed spread."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from .io import Figure  # a matplotlib Figure that a notebook shows inline

from ..ml.health import DepthStudy
from ..ml.lr_finder import LRFindResult
from ..ml.training import TrainResult
from ..optim.result import Result
from ._style import LAYOUT, legend, run_styles

__all__ = ["loss_curves", "schedules", "lr_range_test", "gradient_norms_by_depth", "batch_spread"]

_AXES = ("step", "epoch")


def _check_runs(runs, where, what):
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"{where}: expected a non-empty dict label -> {what}, got {type(runs).__name__}")


def _check_axis(x, where):
    if x not in _AXES:
        raise ValueError(f"{where}: x must be 'step' or 'epoch', got {x!r}")


def _losses(run, x, label):
    """The loss sequence of one run: a 1-D array, ``Result.history.f`` or a TrainResult's history."""
    if isinstance(run, TrainResult):
        table = run.history.epoch if x == "epoch" else run.history.step
        values = table["loss"] if "loss" in table else np.zeros(0)
    elif isinstance(run, Result):
        values = run.history.f
    else:
        values = run
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"run {label!r}: expected a 1-D array of losses, a Result or a TrainResult, got {type(run).__name__}"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"run {label!r}: expected a non-empty 1-D sequence of losses, got shape {values.shape}"
        )
    return np.where(np.isinf(values), np.nan, values)  # a diverged tail is left out, not drawn to the edge


def _check_log(values, label, where):
    if np.any(values[np.isfinite(values)] < 0):
        raise ValueError(
            f"{where}: run {label!r} has negative losses, which a log scale cannot show; "
            "pass log=False (or plot f - f_min)"
        )


def _x_values(run, x, length):
    if isinstance(run, TrainResult) and x == "epoch" and "epoch" in run.history.epoch:
        return run.history.epoch["epoch"].astype(float)
    return np.arange(length, dtype=float)


def loss_curves(runs, *, log=True, x="step", figsize=(6.0, 4.0)):
    """Loss against step (or epoch) for several runs.

    Parameters
    ----------
    runs : dict
        ``label -> losses``: a 1-D array, a :class:`~slopes.optim.Result` (its ``history.f``, per
        iteration) or a :class:`~slopes.ml.TrainResult` (``history.step["loss"]``, or with
        ``x="epoch"`` the epoch means ``history.epoch["loss"]``, plus ``val_loss`` dashed in the run's colour if recorded).
    log : bool
        Logarithmic loss axis (losses must then be >= 0).
    x : {"step", "epoch"}
        What the horizontal axis counts (arrays and Results are indexed from 0).
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = loss_curves({"lr=0.1": 0.9 ** np.arange(50), "lr=0.01": 0.99 ** np.arange(50)})
    >>> len(fig.axes[0].lines), fig.axes[0].get_yscale()
    (2, 'log')
    """
    _check_runs(runs, "loss_curves()", "losses, Result or TrainResult")
    _check_axis(x, "loss_curves()")
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    for (label, run), style in zip(runs.items(), run_styles(len(runs), markers=False)):
        y = _losses(run, x, label)
        if log:
            _check_log(y, label, "loss_curves()")
        ax.plot(_x_values(run, x, len(y)), y, **style, linewidth=1.3, label=str(label))
        if isinstance(run, TrainResult) and x == "epoch" and "val_loss" in run.history.epoch:
            val = np.asarray(run.history.epoch["val_loss"], dtype=float)
            ax.plot(
                _x_values(run, x, len(val)),
                val,
                "--",
                color=style["color"],
                linewidth=1.3,
                label=f"{label} (validation)",
            )
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="epoch" if x == "epoch" else "step", ylabel="loss", title="loss curves")
    legend(ax)
    return fig


def schedules(scheds, steps, *, figsize=(6.0, 4.0)):
    """Learning rate against step for one or more schedules.

    Parameters
    ----------
    scheds : dict
        ``label -> schedule``, a callable of the step count (``slopes.optim.warmup_cosine(...)``
        and friends, or any ``t -> float``).
    steps : int or 1-D array
        ``n`` plots the steps ``0 .. n - 1``; an array plots those steps (each passed to the
        schedule as a Python int or float).
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import slopes.optim as so
    >>> fig = schedules({"cosine": so.cosine_decay(0.1, 100), "step": so.step_decay(0.1, 30, 0.5)}, 100)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['cosine', 'step']
    """
    _check_runs(scheds, "schedules()", "schedule")
    if isinstance(steps, int | np.integer) and not isinstance(steps, bool):
        if steps < 1:
            raise ValueError(f"schedules(): steps must be >= 1, got {steps}")
        ts = np.arange(int(steps))
    else:
        ts = np.asarray(steps)
        if ts.ndim != 1 or ts.size == 0 or not np.issubdtype(ts.dtype, np.number) or np.iscomplexobj(ts):
            raise ValueError(
                f"schedules(): steps must be an int or a non-empty 1-D array of steps, got {steps!r}"
            )
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    for (label, sched), style in zip(scheds.items(), run_styles(len(scheds), markers=False)):
        if not callable(sched):
            raise TypeError(
                f"schedules(): {label!r} is not a schedule (a function of the step), got {sched!r}"
            )
        values = [float(np.asarray(sched(t.item()))) for t in ts]
        ax.plot(ts, values, **style, linewidth=1.5, label=str(label))
    ax.set(xlabel="step", ylabel="learning rate", title="learning-rate schedules")
    legend(ax)
    return fig


def lr_range_test(result, *, figsize=(6.0, 4.0)):
    """The learning-rate range test: loss against learning rate (log axis), with the suggestion.

    Parameters
    ----------
    result : slopes.ml.LRFindResult
        From :func:`slopes.ml.lr_find`.
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        Raw batch losses (faint), the smoothed loss, its minimum ``lr_min`` (dotted) and the
        suggested rate ``lr_min / 10`` (solid vertical line and marker).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> res = ml.lr_find(lambda w, b: 0.5 * (w**2).sum() + 0 * b.sum(), np.ones(2), np.zeros(1),
    ...                  min_lr=1e-3, max_lr=100.0, num_steps=60, smoothing=0.0)
    >>> fig = lr_range_test(res)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if not isinstance(result, LRFindResult):
        raise TypeError(
            f"lr_range_test(): expected the LRFindResult of slopes.ml.lr_find, got {type(result).__name__}"
        )
    if len(result.lrs) == 0:
        raise ValueError("lr_range_test(): the result has no finite loss to plot (the first step diverged)")
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    ax.plot(result.lrs, result.losses, color="tab:blue", alpha=0.35, linewidth=1, label="batch loss")
    ax.plot(result.lrs, result.smoothed, color="tab:blue", linewidth=1.8, label="smoothed loss")
    ax.axvline(result.lr_min, color="gray", linestyle=":", label=f"min of smoothed, lr = {result.lr_min:.3g}")
    ax.axvline(
        result.suggestion,
        color="tab:green",
        linewidth=1.5,
        label=f"suggestion lr_min / 10 = {result.suggestion:.3g}",
    )
    # the marker sits on the smoothed curve (interpolated in log lr)
    y_s = np.interp(np.log(result.suggestion), np.log(result.lrs), result.smoothed)
    ax.plot([result.suggestion], [y_s], "o", color="tab:green", markersize=7)
    ax.set_xscale("log")
    # the last losses can be huge (the sweep runs until divergence): keep the smoothed range in view
    s = result.smoothed[np.isfinite(result.smoothed)]
    lo, hi = float(min(s.min(), np.nanmin(result.losses))), float(s.max())
    if hi > lo:
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.15 * (hi - lo))
    ax.set(xlabel="learning rate", ylabel="loss", title="learning-rate range test")
    legend(ax)
    return fig


_QUANTITIES = {
    "first": "gradient norm of the first layer",
    "last": "gradient norm of the last layer",
    "total": "global gradient norm",
    "ratio": "first / last layer gradient norm",
}


def gradient_norms_by_depth(studies, *, quantity="first", figsize=(6.0, 4.0)):
    """Gradient norms against depth (log scale): vanishing and exploding gradients at a glance.

    Parameters
    ----------
    studies : dict
        ``label -> DepthStudy`` (from :func:`slopes.ml.depth_study`; plotted against the network
        depth) or ``label -> per-layer norms`` (1-D arrays from :func:`slopes.ml.layer_grad_norms`;
        plotted against the layer index, input layer = 1). All values must be of one kind.
    quantity : {"first", "last", "total", "ratio"}
        For a DepthStudy, which of its arrays to plot (``ratio`` = first / last).
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        One line per study, log y axis.

    Examples
    --------
    >>> import numpy as np
    >>> fig = gradient_norms_by_depth({"sigmoid": 0.25 ** np.arange(6), "relu": np.ones(6)})
    >>> len(fig.axes[0].lines), fig.axes[0].get_yscale()
    (2, 'log')
    """
    _check_runs(studies, "gradient_norms_by_depth()", "DepthStudy or 1-D array of per-layer norms")
    if quantity not in _QUANTITIES:
        raise ValueError(
            f"gradient_norms_by_depth(): quantity must be one of {sorted(_QUANTITIES)}, got {quantity!r}"
        )
    kinds = {isinstance(s, DepthStudy) for s in studies.values()}
    if len(kinds) > 1:
        raise ValueError(
            "gradient_norms_by_depth(): mix of DepthStudy and per-layer norms (their x axes differ: "
            "depth vs layer); plot them in separate figures"
        )
    by_depth = kinds == {True}
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    for (label, study), style in zip(studies.items(), run_styles(len(studies))):
        if by_depth:
            xs, ys = study.depths, getattr(study, quantity)
        else:
            ys = np.asarray(study, dtype=float)
            if ys.ndim != 1 or ys.size == 0:
                raise ValueError(
                    f"gradient_norms_by_depth(): {label!r} must be a non-empty 1-D array, got {ys.shape}"
                )
            xs = np.arange(1, ys.size + 1)
        ax.plot(xs, ys, **style, markersize=4, linewidth=1.4, label=str(label))
    ax.set_yscale("log")
    if by_depth:
        ax.set(
            xlabel="network depth (hidden layers)",
            ylabel=_QUANTITIES[quantity],
            title="gradient norm by depth",
        )
    else:
        ax.set(xlabel="layer (1 = input)", ylabel="gradient norm", title="gradient norm by layer")
    legend(ax)
    return fig


def batch_spread(runs, *, log=True, x="step", figsize=(6.0, 4.0)):
    """Mean loss over seeds with a min-max band, per configuration (full batch vs SGD vs mini-batch).

    Parameters
    ----------
    runs : dict
        ``label -> list of runs over seeds``; each run as in :func:`loss_curves` (a 1-D array, a
        Result or a TrainResult), all runs of one label of the same length.
    log : bool
        Logarithmic loss axis.
    x : {"step", "epoch"}
        Axis label, and for TrainResults whether step or epoch losses are used.
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        Per label: the mean line and a ``fill_between`` band from the minimum to the maximum.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sgd = [np.exp(-0.1 * np.arange(40)) * (1 + 0.3 * rng.random(40)) for _ in range(5)]
    >>> fig = batch_spread({"SGD (5 seeds)": sgd})
    >>> len(fig.axes[0].lines), len(fig.axes[0].collections)
    (1, 1)
    """
    _check_runs(runs, "batch_spread()", "list of runs over seeds")
    _check_axis(x, "batch_spread()")
    fig = Figure(figsize=figsize, layout=LAYOUT)
    ax = fig.add_subplot()
    for (label, seeds), style in zip(runs.items(), run_styles(len(runs), markers=False)):
        if isinstance(seeds, np.ndarray) and seeds.ndim == 2:
            seeds = list(seeds)
        if not isinstance(seeds, list | tuple) or not seeds:
            raise TypeError(f"batch_spread(): {label!r} must be a non-empty list of runs (one per seed)")
        curves = [_losses(run, x, label) for run in seeds]
        lengths = {len(c) for c in curves}
        if len(lengths) > 1:
            raise ValueError(
                f"batch_spread(): the runs of {label!r} have different lengths {sorted(lengths)}; "
                "run every seed for the same number of steps"
            )
        Y = np.vstack(curves)
        if log:
            _check_log(Y.ravel(), label, "batch_spread()")
        xs = _x_values(seeds[0], x, Y.shape[1])
        ax.plot(xs, Y.mean(axis=0), **style, linewidth=1.5, label=f"{label} (mean of {len(curves)})")
        ax.fill_between(xs, Y.min(axis=0), Y.max(axis=0), color=style["color"], alpha=0.2, linewidth=0)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=x, ylabel="loss", title="spread over seeds (band: min to max)")
    legend(ax)
    return fig
