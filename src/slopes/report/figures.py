"""Drawing a report figure with a :mod:`slopes.viz` function, by name.

A figure function that this installation of :mod:`slopes.viz` does not provide gives a
visible note in the section instead of a figure, so the rest of the report still builds.
"""

from __future__ import annotations

from .page import FigureItem, figure_item

__all__ = ["draw"]


def draw(name: str, *args, caption: str, **kwargs) -> FigureItem:
    """Call ``slopes.viz.<name>(*args, **kwargs)`` and render the Figure for the page.

    Parameters
    ----------
    name : str
        A figure function of :mod:`slopes.viz` (e.g. ``"loss_curves"``).
    *args, **kwargs
        Its arguments.
    caption : str
        The caption under the figure.

    Returns
    -------
    FigureItem
        With PNG bytes, or with ``png=None`` and a note when ``slopes.viz`` has no ``name``.

    Examples
    --------
    >>> draw("no_such_figure", caption="nothing").note
    'Figure omitted: `slopes.viz.no_such_figure` is not available in this installation.'
    """
    from .. import viz

    fn = getattr(viz, name, None)
    if fn is None:
        return FigureItem(
            None, caption, f"Figure omitted: `slopes.viz.{name}` is not available in this installation."
        )
    return figure_item(fn(*args, **kwargs), caption)
