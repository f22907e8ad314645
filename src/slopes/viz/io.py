"""Figures that show themselves in a notebook, and writing them to disk or to bytes (PNG, SVG)."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib import figure

_FORMATS = {".png": "png", ".svg": "svg"}


class Figure(figure.Figure):
    """The figure every :mod:`slopes.viz` function returns: a matplotlib Figure, made
    without pyplot, that a notebook shows inline (as PNG) when it is a cell's value.

    A bare matplotlib Figure shows only as ``<Figure size ...>`` unless pyplot's inline
    backend has been loaded; this one answers Jupyter's ``_repr_png_`` itself. Nothing
    is registered with pyplot, so no figure is left open.

    Examples
    --------
    >>> fig = Figure(figsize=(2, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> fig._repr_png_()[:4] == b"\\x89PNG"
    True
    """

    def _repr_png_(self) -> bytes:
        return to_png_bytes(self)


def _check_figure(fig) -> None:
    if not isinstance(fig, figure.Figure):
        raise TypeError(
            f"expected a matplotlib.figure.Figure, got {type(fig).__name__}; "
            "pass the value returned by a slopes.viz figure function"
        )


def _check_dpi(dpi) -> float:
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    return float(dpi)


def save(fig: Figure, path, *, dpi: float = 100) -> Path:
    """Write a figure as PNG or SVG, chosen by the suffix of ``path``.

    Parent directories are created as needed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write.
    path : str or os.PathLike
        Output file; its suffix (``.png`` or ``.svg``, any case) selects the format.
    dpi : float, default 100
        Resolution of a PNG (pixels per inch); an SVG is vector and keeps only the size.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the suffix is not ``.png`` or ``.svg``, or ``dpi`` is not positive.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 2)); ax = fig.add_subplot(); _ = ax.plot([0, 1], [1, 0])
    >>> out = save(fig, pathlib.Path(tempfile.mkdtemp()) / "sub" / "line.png")
    >>> out.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    _check_figure(fig)
    dpi = _check_dpi(dpi)
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot save a figure as {path.name!r}: unknown suffix {path.suffix!r}; "
            "use a path ending in .png or .svg"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt, dpi=dpi)
    return path


def to_png_bytes(fig: Figure, dpi: float = 100) -> bytes:
    """Render a figure to PNG bytes in memory (for embedding in HTML, e.g. as base64).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to render.
    dpi : float, default 100
        Pixels per inch; the image is ``figsize * dpi`` pixels.

    Returns
    -------
    bytes
        A complete PNG file.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1)); _ = fig.add_subplot().plot([0, 1])
    >>> data = to_png_bytes(fig, dpi=50)
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    _check_figure(fig)
    dpi = _check_dpi(dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
