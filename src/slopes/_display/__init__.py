"""How slopes' objects show themselves: in a terminal and in a Jupyter notebook.

The bottom of the house, beside ``core``: it imports nothing of slopes, only NumPy (and
sympy inside :mod:`.latex`, when asked for LaTeX). One mechanism serves every class:

* :mod:`.brief` -- short terminal text: numbers to 6 digits, arrays longer than six
  entries summarised, and :func:`.brief.brief_repr`, a ``__repr__`` for NamedTuples and
  dataclasses built from their fields;
* :mod:`.html` -- a :class:`~.html.Card` (a verdict first, a title, rows of key numbers,
  an optional table and small curves) rendered as escaped HTML with one inline style;
  :func:`.html.card_html` is a ready ``_repr_html_`` for any class with a ``_card()``;
* :mod:`.svg` -- an inline SVG sparkline of a loss or gradient-norm curve;
* :mod:`.latex` -- LaTeX for Jupyter's ``_repr_latex_``, through sympy's printer.
"""

from .brief import brief_repr, summarize
from .html import Card, card_html, escape, table_html
from .latex import latex_name, math_display
from .svg import sparkline

__all__ = [
    "Card",
    "brief_repr",
    "card_html",
    "escape",
    "latex_name",
    "math_display",
    "sparkline",
    "summarize",
    "table_html",
]
