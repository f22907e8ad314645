"""HTML assembly of the lab report: :class:`Section` (text, number tables, figures) -> one page.

The page is self-contained: figures are PNG images embedded as base64 ``data:`` URIs, the
CSS is inline, and nothing refers to the network, so it opens offline and can be mailed
as a single file.

Examples
--------
>>> s = Section("demo", "A demo", "We computed `1 + 1`.", tables=[Table(("x", "x + 1"), [(1, 2)])])
>>> html = render_page("Demo", [s])
>>> html.startswith("<!DOCTYPE html>"), 'id="demo"' in html, "<code>1 + 1</code>" in html
(True, True, True)
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np

__all__ = ["FigureItem", "Section", "Table", "figure_item", "format_number", "render_page", "render_section"]

_ID = re.compile(r"^[a-z][a-z0-9-]*$")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { border-bottom: 2px solid #2a6f97; padding-bottom: .3rem; }
h2 { color: #2a6f97; margin-top: 2.5rem; }
nav ol { columns: 2; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
caption { text-align: left; font-style: italic; padding-bottom: .3rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; }
th { background: #eef4f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .9rem; color: #555; }
p.note { background: #fff4e5; border-left: 4px solid #f0a030; padding: .4rem .8rem; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; font-size: .85rem; color: #555; }
"""


def format_number(value) -> str:
    """A table cell's text: floats with 6 significant digits, ints and strings as they are.

    Parameters
    ----------
    value : int, float, bool, str, numpy scalar or None

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(np.float64(1 / 3)), format_number(7), format_number(float("nan")), format_number(None)
    ('0.333333', '7', 'nan', '')
    >>> format_number(True), format_number(1.5e-12)
    ('yes', '1.5e-12')
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        return str(v) if not math.isfinite(v) else f"{v:.6g}"
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


@dataclass
class Table:
    """A table of numbers: column headers and rows of cells (numbers or text).

    Examples
    --------
    >>> t = Table(("n", "n^2"), [(2, 4), (3, 9)], caption="squares")
    >>> len(t.rows), t.columns
    (2, ('n', 'n^2'))
    """

    columns: tuple
    rows: list
    caption: str = ""

    def __post_init__(self):
        self.columns = tuple(self.columns)
        self.rows = [tuple(r) for r in self.rows]
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError(
                    f"Table: a row has {len(r)} cells but there are {len(self.columns)} columns "
                    f"{self.columns}; give one cell per column"
                )


@dataclass
class FigureItem:
    """One figure of a section: PNG bytes and a caption, or a visible note when it is missing.

    Examples
    --------
    >>> FigureItem(None, "loss curves", note="figure omitted").png is None
    True
    """

    png: bytes | None
    caption: str
    note: str = ""


def figure_item(fig, caption: str, *, dpi: float = 100) -> FigureItem:
    """Render a matplotlib Figure to PNG bytes (through :func:`slopes.viz.to_png_bytes`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    caption : str
    dpi : float

    Returns
    -------
    FigureItem

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> figure_item(fig, "a line").png[:4]
    b'\\x89PNG'
    """
    from ..viz import to_png_bytes

    return FigureItem(to_png_bytes(fig, dpi=dpi), caption)


@dataclass
class Section:
    """One section of the report: what was computed (text), the numbers (tables), the figures.

    Parameters
    ----------
    id : str
        The HTML anchor: lowercase letters, digits and dashes, starting with a letter.
    title : str
    text : str or sequence of str
        Paragraphs of plain text; `backquoted` spans become ``<code>``.
    tables : list of Table
    figures : list of FigureItem
    notes : list of str
        Shown highlighted (e.g. a figure that could not be drawn).
    seconds : float
        Wall time spent computing the section (filled in by the builder).

    Examples
    --------
    >>> Section("bad id", "t", "x")
    Traceback (most recent call last):
    ...
    ValueError: Section id 'bad id' must be lowercase letters, digits and dashes, starting with a letter
    """

    id: str
    title: str
    text: object = ""
    tables: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: float = float("nan")

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(
                f"Section id {self.id!r} must be lowercase letters, digits and dashes, starting with a letter"
            )
        if isinstance(self.text, str):
            self.text = [self.text] if self.text else []
        self.text = list(self.text)


def _inline(text: str) -> str:
    """Escape ``text`` and turn `backquoted` spans into <code>."""
    parts = html.escape(str(text)).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _table_html(table: Table, table_id: str) -> str:
    out = [f'<table id="{table_id}">']
    if table.caption:
        out.append(f"<caption>{_inline(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in table.columns) + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        cells = []
        for v in row:
            cls = ' class="num"' if _is_number(v) else ""
            cells.append(f"<td{cls}>{html.escape(format_number(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _figure_html(item: FigureItem) -> str:
    if item.png is None:
        return f'<p class="note">{_inline(item.note or "figure omitted")} ({_inline(item.caption)})</p>'
    data = base64.b64encode(item.png).decode("ascii")
    alt = html.escape(item.caption, quote=True)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{_inline(item.caption)}</figcaption></figure>"
    )


def render_section(section: Section) -> str:
    """The HTML of one section (a ``<section>`` element with ``id``).

    Examples
    --------
    >>> render_section(Section("s", "Title", "Body.")).splitlines()[:2]
    ['<section id="s">', '<h2>Title</h2>']
    """
    out = [f'<section id="{section.id}">', f"<h2>{_inline(section.title)}</h2>"]
    out += [f"<p>{_inline(p)}</p>" for p in section.text]
    out += [f'<p class="note">{_inline(n)}</p>' for n in section.notes]
    out += [_table_html(t, f"{section.id}-table-{k}") for k, t in enumerate(section.tables)]
    out += [_figure_html(f) for f in section.figures]
    out.append("</section>")
    return "\n".join(out)


def render_page(title: str, sections, *, intro: str = "", footer_lines=()) -> str:
    """The whole page: head with inline CSS, a table of contents, the sections and a footer.

    The footer lists the time spent on each section.

    Parameters
    ----------
    title : str
    sections : sequence of Section
    intro : str
        A paragraph under the title.
    footer_lines : sequence of str
        Extra lines for the footer (e.g. versions).

    Returns
    -------
    str

    Examples
    --------
    >>> page = render_page("T", [Section("a", "A", "x", seconds=0.5)])
    >>> "<title>T</title>" in page, 'href="#a"' in page, "0.50 s" in page
    (True, True, True)
    """
    sections = list(sections)
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise ValueError(f"render_page(): section ids must be unique, got {ids}")
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>"
    )
    body = [f"<h1>{_inline(title)}</h1>"]
    if intro:
        body.append(f"<p>{_inline(intro)}</p>")
    toc = "".join(f'<li><a href="#{s.id}">{_inline(s.title)}</a></li>' for s in sections)
    body.append(f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>")
    body += [render_section(s) for s in sections]
    rows = "".join(
        f"<tr><td>{_inline(s.title)}</td><td class='num'>{s.seconds:.2f} s</td></tr>" for s in sections
    )
    total = sum(s.seconds for s in sections if math.isfinite(s.seconds))
    foot = [
        '<footer id="timings">',
        "<h2>Timings</h2>",
        f'<table id="timings-table"><thead><tr><th>section</th><th>time</th></tr></thead><tbody>{rows}'
        f"<tr><th>total</th><td class='num'>{total:.2f} s</td></tr></tbody></table>",
    ]
    foot += [f"<p>{_inline(line)}</p>" for line in footer_lines]
    foot.append("</footer>")
    return "\n".join([head, *body, *foot, "</body>\n</html>\n"])
