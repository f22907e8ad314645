"""The lab's pages, put together once at startup from one layout and a body per page.

``templates/layout.html`` holds what every page shares: the head, and the header whose nav
lists the pages (its link text is each page's title). ``templates/<page>.html`` holds the page's
own ``<main>``; a line ``<!-- include NAME -->`` in it stands for a part that pages share,
``templates/NAME.html`` (the code panel, the schedule menu). A page with a script of its own (``static/js/<page>.js``)
gets its module tag, so no page carries inline code.

Examples
--------
>>> pages = assemble_pages()
>>> sorted(pages)[:2]
['derivative.html', 'index.html']
>>> "<title>Optimizer race · slopes lab</title>" in pages["race.html"]
True
"""

from __future__ import annotations

import re
from importlib import resources

__all__ = ["assemble_pages"]

_INCLUDE = re.compile(r"^[ \t]*<!-- include ([\w-]+) -->\n", re.MULTILINE)
_NAV_LINK = re.compile(r'<a href="(?P<page>[\w-]+\.html)">(?P<title>[^<]+)</a>')


def assemble_pages(folder=None) -> dict[str, str]:
    """Every page of the lab as the HTML the browser gets, by file name (``"race.html"``, ...).

    Parameters
    ----------
    folder : path-like or Traversable, optional
        The lab package's folder (holding ``templates/`` and ``static/``); the installed one by default.

    Returns
    -------
    dict of str to str
        One entry per link of the layout's nav, in its order; the page's own link carries
        ``aria-current="page"``.

    Raises
    ------
    FileNotFoundError
        When the nav names a page, or a page includes a part, that ``templates/`` lacks.

    Examples
    --------
    >>> page = assemble_pages()["derivative.html"]
    >>> '<a href="derivative.html" aria-current="page">Derivative</a>' in page, page.count("aria-current")
    (True, 1)
    """
    folder = resources.files("slopes.lab") if folder is None else folder
    templates = folder / "templates"
    layout = (templates / "layout.html").read_text(encoding="utf-8")

    def part(include) -> str:
        source = templates / f"{include[1]}.html"
        if not source.is_file():
            raise FileNotFoundError(f"a lab page includes {include[1]} but templates/{include[1]}.html is missing; add it or drop the include")
        return source.read_text(encoding="utf-8")

    pages = {}
    for link in _NAV_LINK.finditer(layout):
        name, title = link["page"], link["title"]
        body_file = templates / name
        if not body_file.is_file():
            raise FileNotFoundError(f"the lab's nav links {name} but templates/{name} is missing; add its body or drop the link")
        body = _INCLUDE.sub(part, body_file.read_text(encoding="utf-8"))
        script = f"js/{name.removesuffix('.html')}.js"
        if (folder / "static" / script).is_file():
            body += f'  <script type="module" src="{script}"></script>\n'
        current = link[0].replace('">', '" aria-current="page">', 1)
        pages[name] = layout.replace(link[0], current).replace("{title}", title).replace("{main}", body)
    return pages
