"""An inline SVG sparkline: the shape of a loss or gradient-norm curve in a few hundred bytes.

Fixed small size; a log scale when the values are positive and span two decades or more
(a loss falling from 1 to 1e-8 is a line, not a cliff and a floor); NaN and inf leave a
gap in the line and are counted in the tooltip, so a diverged run shows where it broke.
"""

from __future__ import annotations

import html

import numpy as np

__all__ = ["HEIGHT", "MAX_POINTS", "WIDTH", "sparkline"]

WIDTH, HEIGHT = 160, 40
#: A longer curve is drawn through this many evenly spaced samples (the output's size is bounded).
MAX_POINTS = 240
_PAD = 2.0
_LOG_SPAN = 100.0  # max / min at or above this (two decades): log scale


def _is_log(good: np.ndarray) -> bool:
    """Log scale for positive values spanning two decades or more."""
    return bool(good.size) and good.min() > 0 and good.max() / good.min() >= _LOG_SPAN


def _scale(v: np.ndarray, finite: np.ndarray, log: bool) -> np.ndarray:
    """The values mapped to ``[0, 1]`` (nan where not finite)."""
    good = v[finite]
    w = np.full(v.shape, np.nan)
    w[finite] = np.log10(good) if log else good
    if good.size:
        lo, hi = np.nanmin(w), np.nanmax(w)
        w = (w - lo) / (hi - lo) if hi > lo else np.where(finite, 0.5, np.nan)
    return w


def _path(x: np.ndarray, y: np.ndarray) -> str:
    """``M x y L x y ...`` through the finite points, a new ``M`` after every gap."""
    out, pen_down = [], False
    for xi, yi in zip(x, y):
        if np.isnan(yi):
            pen_down = False
            continue
        out.append(f"{'L' if pen_down else 'M'}{xi:.1f} {yi:.1f}")
        pen_down = True
    return " ".join(out)


def _facts(v: np.ndarray, label: str) -> str:
    """The tooltip: the curve's name and length, its scale, its finite values' ends and low."""
    good = v[np.isfinite(v)]
    facts = [f"{label or 'values'}: {v.size} points"]
    facts.append("log scale" if _is_log(good) else "linear scale")
    if good.size:
        facts.append(f"first {good[0]:.4g}, last {good[-1]:.4g}, min {good.min():.4g}")
    if good.size < v.size:
        facts.append(f"{v.size - good.size} not finite")
    return "; ".join(facts)


def sparkline(values, *, label: str = "") -> str:
    """A small inline SVG of ``values`` against their index.

    Parameters
    ----------
    values : array_like
        The curve (1-D); NaN and inf leave gaps.
    label : str
        Its name, shown in the tooltip (escaped).

    Returns
    -------
    str
        One ``<svg>`` element of :data:`WIDTH` x :data:`HEIGHT` pixels; its ``<title>``
        names the curve, its scale, its first / last / lowest finite values and how
        many were not finite.

    Examples
    --------
    >>> s = sparkline([1.0, 1e-2, 1e-4, float("nan"), 1e-6], label="loss")
    >>> s.startswith("<svg") and "log scale" in s and "1 not finite" in s
    True
    """
    v = np.asarray(values, dtype=float).ravel()
    title = html.escape(_facts(v, label), quote=True)
    log = _is_log(v[np.isfinite(v)])  # decided on the whole curve, before thinning it out
    if v.size > MAX_POINTS:
        v = v[np.unique(np.linspace(0, v.size - 1, MAX_POINTS).round().astype(int))]
    finite = np.isfinite(v)
    w = _scale(v, finite, log)
    x = _PAD + (WIDTH - 2 * _PAD) * (np.arange(v.size) / max(v.size - 1, 1))
    y = _PAD + (HEIGHT - 2 * _PAD) * (1.0 - w)
    dot = ""
    if finite.any():  # the last finite point, red when the curve broke off
        k = int(np.flatnonzero(finite)[-1])
        colour = "#0969da" if finite.all() else "#cf222e"
        dot = f'<circle cx="{x[k]:.1f}" cy="{y[k]:.1f}" r="1.8" fill="{colour}"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}"><title>{title}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f6f8fa"/>'
        f'<path d="{_path(x, y)}" fill="none" stroke="#0969da" stroke-width="1.2"/>{dot}</svg>'
    )
