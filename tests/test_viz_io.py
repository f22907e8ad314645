"""slopes.viz.save / to_png_bytes: valid PNG and SVG files, decoded by Pillow and an XML parser."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from slopes import viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_rendered_image(fig, dpi=50):
    """The figure renders to a PNG that Pillow decodes to ``figsize * dpi`` pixels, not one flat colour."""
    data = viz.to_png_bytes(fig, dpi=dpi)
    assert data.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(data)) as img:
        w, h = fig.get_size_inches() * dpi
        assert img.size == (round(w), round(h))
        pixels = np.asarray(img.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # lines, text and fills, not a blank canvas
    return pixels


def _figure():
    fig = Figure(figsize=(3.0, 2.0))
    ax = fig.add_subplot()
    ax.plot(np.arange(5), np.arange(5) ** 2, label="x^2")
    ax.set_title("t")
    return fig


def test_to_png_bytes_size_follows_dpi():
    assert_rendered_image(_figure(), dpi=40)
    assert_rendered_image(_figure(), dpi=80)


def test_save_png_and_svg_create_parent_dirs(tmp_path):
    png = viz.save(_figure(), tmp_path / "a" / "b" / "fig.png", dpi=60)
    assert png == tmp_path / "a" / "b" / "fig.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(png) as img:
        assert img.size == (180, 120)  # 3 x 2 inches at 60 dpi

    svg = viz.save(_figure(), str(tmp_path / "c" / "fig.SVG"))  # suffix case is ignored
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_save_rejects_unknown_suffix_and_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"unknown suffix '\.pdf'.*\.png or \.svg"):
        viz.save(_figure(), tmp_path / "fig.pdf")
    with pytest.raises(ValueError, match="unknown suffix ''"):
        viz.save(_figure(), tmp_path / "fig")
    assert not any(tmp_path.iterdir())  # nothing written on error
    with pytest.raises(TypeError, match="matplotlib.figure.Figure"):
        viz.save("not a figure", tmp_path / "fig.png")
    with pytest.raises(ValueError, match="dpi must be a positive number"):
        viz.to_png_bytes(_figure(), dpi=0)
