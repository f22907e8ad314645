"""Escaped HTML for notebooks: a :class:`Card` (verdict first, then key numbers) and tables.

Every piece of text that reaches the page -- a formula, a function's name, a label, a
message -- goes through :func:`escape`, so user text shows as text and never runs. One
small set of CSS classes (``sl-*``) travels inline with each card: no external file, and
nothing outside the card is styled.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .brief import summarize
from .svg import sparkline

__all__ = ["Card", "STATUSES", "card_html", "escape", "table_html"]

#: The verdict's status: its colour and mark.
STATUSES = {"good": "\u2714", "bad": "\u2718", "warn": "\u26a0", "info": "\u2139"}

_STYLE = (
    "<style>"
    ".sl-card{font-family:system-ui,sans-serif;font-size:13px;line-height:1.35;max-width:46em}"
    ".sl-card table{border-collapse:collapse;margin:.3em 0}"
    ".sl-card td,.sl-card th{padding:.1em .7em .1em 0;text-align:left;vertical-align:top}"
    ".sl-card th{font-weight:600;border-bottom:1px solid #ccc}"
    ".sl-card td.sl-key{color:#555}"
    ".sl-card code,.sl-card td.sl-num{font-family:ui-monospace,monospace}"
    ".sl-verdict{font-weight:600}"
    ".sl-good{color:#1a7f37}.sl-bad{color:#cf222e}.sl-warn{color:#9a6700}.sl-info{color:#0969da}"
    ".sl-title{color:#333}.sl-detail{color:#555;margin:.2em 0}"
    ".sl-curves{display:flex;gap:1.2em;flex-wrap:wrap}"
    ".sl-curve figcaption{color:#555;font-size:11px}.sl-curve{margin:0}"
    "</style>"
)


def escape(value) -> str:
    """``str(value)`` with ``& < > " '`` escaped for HTML.

    Examples
    --------
    >>> escape("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def _cell(value) -> str:
    return escape(value if isinstance(value, str) else summarize(value))


def table_html(header, rows, *, numeric_from: int = 1) -> str:
    """An HTML table: ``header`` (column names) and ``rows`` (sequences of cells), all escaped.

    Cells that are not strings print through :func:`~slopes._display.brief.summarize`;
    columns from ``numeric_from`` on are set in a monospace font. A row of ``None``
    stands for rows left out and prints as ``...``.

    Examples
    --------
    >>> print(table_html(["op", "shape"], [["sin", (3,)], None]))
    <table><tr><th>op</th><th>shape</th></tr><tr><td>sin</td><td class="sl-num">(3,)</td></tr><tr><td>...</td><td class="sl-num"></td></tr></table>
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = ["..."] + [""] * (len(header) - 1) if row is None else row
        tds = "".join(
            f'<td class="sl-num">{_cell(c)}</td>' if k >= numeric_from else f"<td>{_cell(c)}</td>"
            for k, c in enumerate(cells)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


@dataclass
class Card:
    """What a result shows in a notebook: its verdict first, then its key numbers.

    Attributes
    ----------
    verdict : str
        A few words: ``"converged"``, ``"ok"``, ``"saddle"``...
    status : str
        ``"good"``, ``"bad"``, ``"warn"`` or ``"info"``: the verdict's colour and mark.
    title : str
        What was computed: ``"minimize (lbfgs)"``, ``"check_grad: gradient of f"``.
    rows : list of (str, object)
        Key numbers, one per row; values print through ``summarize``.
    detail : str
        A sentence under the verdict (a message, a summary), or ``""``.
    table : (header, rows) or None
        A table below the rows (entries of a check, operations of a program).
    curves : list of (str, array)
        Small inline sparklines (a loss, a gradient norm), each with its label.
    """

    verdict: str
    status: str
    title: str
    rows: list = field(default_factory=list)
    detail: str = ""
    table: tuple | None = None
    curves: list = field(default_factory=list)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Card status must be one of {sorted(STATUSES)}, got {self.status!r}")

    def html(self) -> str:
        """The card as one ``<div>`` of escaped HTML with its inline style.

        Examples
        --------
        >>> c = Card("converged", "good", "minimize (<b>)", [("f(x)", 1e-12)], curves=[("f", [3.0, 1.0, 0.5])])
        >>> out = c.html()
        >>> out.index("converged") < out.index("minimize"), "<b>" in out, "<svg" in out
        (True, False, True)
        """
        parts = [
            f'<div class="sl-card">{_STYLE}<div><span class="sl-verdict sl-{self.status}">'
            f"{STATUSES[self.status]} {escape(self.verdict)}</span> "
            f'<span class="sl-title">{escape(self.title)}</span></div>'
        ]
        if self.detail:
            parts.append(f'<div class="sl-detail">{escape(self.detail)}</div>')
        if self.rows:
            trs = "".join(
                f'<tr><td class="sl-key">{escape(k)}</td><td class="sl-num">{_cell(v)}</td></tr>'
                for k, v in self.rows
            )
            parts.append(f"<table>{trs}</table>")
        if self.table is not None:
            parts.append(table_html(*self.table))
        if self.curves:
            figs = "".join(
                f'<figure class="sl-curve">{sparkline(values, label=label)}'
                f"<figcaption>{escape(label)}</figcaption></figure>"
                for label, values in self.curves
            )
            parts.append(f'<div class="sl-curves">{figs}</div>')
        parts.append("</div>")
        return "".join(parts)


def card_html(self) -> str:
    """``self._card().html()``: a ready ``_repr_html_`` for any class with a ``_card()`` method.

    Examples
    --------
    >>> class Done:
    ...     def _card(self):
    ...         return Card("ok", "good", "a check")
    ...     _repr_html_ = card_html
    >>> Done()._repr_html_().startswith('<div class="sl-card">')
    True
    """
    return self._card().html()
