"""Styles shared by the figures that draw one line per run: distinct colours, dashes and markers.

Matplotlib's default cycle has ten colours, so an eleventh run would repeat the first one's
look. :func:`run_styles` pairs a colour with a dash pattern so that up to 40 runs are told
apart: tab10 solid, then tab10's light partners (from tab20) dashed, then both again dotted
and dash-dotted.
"""

from __future__ import annotations

import math

from matplotlib import colormaps
from matplotlib.colors import to_hex

__all__ = ["LAYOUT", "legend", "run_styles"]

#: Every figure is laid out by matplotlib's constrained layout: tick labels of any width
#: (``10^-300`` on a log axis), axis labels, colour bars and outside legends stay inside it.
LAYOUT = "constrained"

_DASHES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def run_styles(n: int, *, markers: bool = True) -> list[dict]:
    """``n`` line styles, pairwise distinct in ``(color, linestyle)`` for ``n <= 40``.

    Parameters
    ----------
    n : int
        How many runs.
    markers : bool
        Include a ``marker`` (ten shapes, one per colour of a cycle).

    Returns
    -------
    list of dict
        Keyword arguments ``color`` (hex), ``linestyle`` and ``marker`` for ``Axes.plot``.

    Examples
    --------
    >>> styles = run_styles(12)
    >>> styles[0], styles[10]["linestyle"]
    ({'color': '#1f77b4', 'linestyle': '-', 'marker': 'o'}, '--')
    >>> len({(s["color"], s["linestyle"]) for s in run_styles(40)})
    40
    """
    dark = colormaps["tab10"].colors
    light = colormaps["tab20"].colors[1::2]  # tab20 interleaves each tab10 colour with a lighter one
    styles = []
    for i in range(n):
        cycle, k = divmod(i, len(dark))
        color = (dark if cycle % 2 == 0 else light)[k]
        style = dict(color=to_hex(color), linestyle=_DASHES[cycle % len(_DASHES)])
        styles.append({**style, "marker": _MARKERS[k]} if markers else style)
    return styles


#: Legend entries that still fit inside the axes; more go beside them.
_INSIDE = 6
#: Entries per column beside the axes (a 4-inch-high figure holds about 15 small rows).
_ROWS = 15


def legend(ax):
    """The axes' legend: inside at the best spot for a few entries, beside the axes for many.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        With its labelled artists drawn.

    Returns
    -------
    matplotlib.legend.Legend

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure(layout=LAYOUT).add_subplot()
    >>> for i in range(20):
    ...     _ = ax.plot([0, 1], [0, i], label=f"run {i}")
    >>> legend(ax).get_bbox_to_anchor() is not ax.bbox, legend(ax)._ncols
    (True, 2)
    """
    n = len(ax.get_legend_handles_labels()[1])
    if n <= _INSIDE:
        return ax.legend(loc="best", fontsize="small")
    # outside: constrained layout makes room for it
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), ncols=math.ceil(n / _ROWS), fontsize="small")
