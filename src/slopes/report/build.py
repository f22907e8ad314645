"""``build``: run every section of the lab report and write the page."""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np

from . import sections_calculus, sections_ml, sections_optim
from .page import render_page

__all__ = ["SECTIONS", "build"]

#: Every section function, in page order.
SECTIONS = sections_calculus.SECTIONS + sections_optim.SECTIONS + sections_ml.SECTIONS

TITLE = "slopes lab report: the calculus and optimization of machine learning, computed"
FILENAME = "report.html"


def build(out_dir, *, quick=False) -> Path:
    """Compute every section of the lab report and write it as one self-contained HTML page.

    The page (``out_dir / "report.html"``) walks through derivatives and their checks, Taylor
    polynomials, Jacobians and Hessians, critical points and convexity, step sizes, GD vs
    momentum vs Adam, batch sizes, schedules, projected gradient, logistic regression and an
    MLP on real data, and gradient health through depth -- each with the numbers computed
    on the spot and a figure. Figures are embedded as PNG data URIs and the CSS is inline:
    the file opens offline, with no external resources. The footer gives each section's
    computing time.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Directory for the page (created if needed).
    quick : bool
        Smaller problems and fewer epochs (measured on two cores: about 8 s, against about
        12 s for the full report).

    Returns
    -------
    pathlib.Path
        The path of the page.

    Raises
    ------
    ValueError
        If ``out_dir`` exists and is not a directory, or no file can be written in it
        (checked before any section is computed).

    Examples
    --------
    >>> import tempfile
    >>> from slopes.report import build
    >>> page = build(tempfile.mkdtemp(), quick=True)  # doctest: +SKIP
    >>> page.name  # doctest: +SKIP
    'report.html'
    >>> build(__file__)  # a file, not a directory
    Traceback (most recent call last):
    ...
    ValueError: build(): out_dir '...' exists and is not a directory; pass a directory path
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(
            f"build(): out_dir {str(out)!r} exists and is not a directory; pass a directory path"
        )
    if not isinstance(quick, bool):
        raise TypeError(f"build(): quick must be True or False, got {quick!r}")
    _prepare_out_dir(out)
    sections = []
    for make in SECTIONS:
        t0 = time.perf_counter()
        section = make(quick)
        section.seconds = time.perf_counter() - t0
        sections.append(section)
    from .. import __version__

    mode = "quick (smaller problems, fewer epochs)" if quick else "full"
    intro = (
        "Every number and figure on this page was computed by slopes when the page was built, on plain "
        "NumPy: derivatives by automatic differentiation checked against finite differences and sympy, "
        "optimizers run on the course's problems, and models trained on real data sets bundled with slopes. "
        f"Mode: {mode}."
    )
    footer = [
        f"slopes {__version__}, NumPy {np.__version__}, matplotlib {matplotlib.__version__}, "
        f"Python {platform.python_version()}; built {time.strftime('%Y-%m-%d %H:%M:%S')} in {mode} mode.",
    ]
    path = out / FILENAME
    path.write_text(render_page(TITLE, sections, intro=intro, footer_lines=footer), encoding="utf-8")
    return path


def _prepare_out_dir(out: Path) -> None:
    """Create ``out`` and write a scratch file in it: an unwritable place fails before the work."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise ValueError(
            f"build(): cannot write the report to {str(out)!r} ({e.strerror or e}); "
            "choose a folder you can write to"
        ) from None
