"""slopes.viz.landscape: contours with gradient arrows, the 3-D surface, critical points, on Himmelblau.

References: Himmelblau's gradient and Hessian written out by hand, its four minima from the
literature ((3, 2) exactly), the PNG rendered by Agg and decoded by Pillow.
"""

import io
import warnings

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.contour import ContourSet
from matplotlib.quiver import Quiver
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from PIL import Image

import slopes.numpy as snp
import slopes.viz as sv

BOX = (-5.0, 5.0)
HIMMELBLAU_MINIMA = np.array(
    [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]]
)


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def himmelblau_grad(x, y):
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b], axis=-1)


def himmelblau_hessian(x, y):
    return np.array([[12 * x**2 + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y**2 - 26]])


def assert_renders(fig):
    """The figure renders to a PNG that Pillow decodes, at the figure's size, and not in one flat colour."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.size == tuple(int(round(v)) for v in fig.get_size_inches() * fig.dpi)
    pixels = np.asarray(img.convert("RGB"))
    drawn = np.any(pixels != pixels[0, 0], axis=-1)  # differs from the background in the corner
    assert drawn.mean() > 0.02


def contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def test_contour_gradients_arrows_are_the_unit_gradient_and_orthogonal_to_the_contours():
    fig = sv.contour_gradients(himmelblau, BOX, BOX, levels=12, n_arrows=9, points=HIMMELBLAU_MINIMA[:1])
    assert_renders(fig)
    (ax,) = fig.axes
    assert ax.get_xlabel() and ax.get_ylabel() and "grad" in ax.get_title()
    assert ax.get_xlim() == BOX and ax.get_ylim() == BOX

    (q,) = [c for c in ax.collections if isinstance(c, Quiver)]
    xy = q.get_offsets()
    assert xy.shape == (81, 2)
    assert np.all((xy > -5) & (xy < 5))
    g = himmelblau_grad(xy[:, 0], xy[:, 1])
    unit = g / np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(np.column_stack([q.U, q.V]), unit, atol=1e-12)

    # every contour segment is perpendicular to the analytic gradient at its midpoint
    (cs,) = contour_sets(ax)
    assert len(cs.levels) == 12
    cosines = []
    for path in cs.get_paths():
        for poly in path.to_polygons(closed_only=False):
            t = np.diff(poly, axis=0)
            mid = 0.5 * (poly[1:] + poly[:-1])
            gm = himmelblau_grad(mid[:, 0], mid[:, 1])
            keep = np.linalg.norm(t, axis=1) > 1e-9  # repeated vertices
            t, gm = t[keep], gm[keep]
            cos = np.abs(np.sum(t * gm, axis=1)) / (np.linalg.norm(t, axis=1) * np.linalg.norm(gm, axis=1))
            cosines.append(cos[np.linalg.norm(gm, axis=1) > 1.0])
    cosines = np.concatenate(cosines)
    assert cosines.size > 500
    # chords of curved level sets, linearly interpolated in the grid cells: a few short ones tilt more
    assert np.median(cosines) < 0.01 and np.percentile(cosines, 99) < 0.1 and np.max(cosines) < 0.5

    (star,) = ax.lines
    np.testing.assert_array_equal(star.get_xydata(), [[3.0, 2.0]])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "level sets of f" and "nabla" in texts[1] and texts[2] == "points (1)"


def test_contour_gradients_zero_gradient_gives_a_zero_arrow_without_warnings():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        fig = sv.contour_gradients(
            lambda x: x[0] ** 2 + 4 * x[1] ** 2, (-1, 1), (-1, 1), levels=[0.1, 0.5], n_arrows=3
        )
    (q,) = [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    centre = np.flatnonzero(np.all(q.get_offsets() == 0.0, axis=1))
    assert centre.size == 1 and q.U[centre[0]] == 0.0 and q.V[centre[0]] == 0.0
    # elsewhere the direction of (2x, 8y)
    xy = np.delete(q.get_offsets(), centre, axis=0)
    g = np.column_stack([2 * xy[:, 0], 8 * xy[:, 1]])
    np.testing.assert_allclose(
        np.delete(np.column_stack([q.U, q.V]), centre, axis=0),
        g / np.linalg.norm(g, axis=1, keepdims=True),
        atol=1e-12,
    )
    np.testing.assert_array_equal(contour_sets(fig.axes[0])[0].levels, [0.1, 0.5])


def test_critical_points_plot_marks_himmelblau_by_kind():
    fig = sv.critical_points_plot(himmelblau, BOX, BOX)
    assert_renders(fig)
    (ax,) = fig.axes
    marks = {line.get_gid(): line for line in ax.lines}
    assert set(marks) == {"points:minimum", "points:maximum", "points:saddle"}
    minima = marks["points:minimum"].get_xydata()
    saddles = marks["points:saddle"].get_xydata()
    maxima = marks["points:maximum"].get_xydata()
    assert (len(minima), len(saddles), len(maxima)) == (4, 4, 1)

    # the minima are the known ones; every mark is a root of the analytic gradient of its Hessian type
    order = [np.argmin(np.linalg.norm(minima - m, axis=1)) for m in HIMMELBLAU_MINIMA]
    np.testing.assert_allclose(minima[order], HIMMELBLAU_MINIMA, atol=2e-6)
    for pts, sign in ((minima, "pos"), (saddles, "mixed"), (maxima, "neg")):
        np.testing.assert_allclose(himmelblau_grad(pts[:, 0], pts[:, 1]), 0.0, atol=1e-8)
        for x, y in pts:
            eig = np.linalg.eigvalsh(himmelblau_hessian(x, y))
            assert {"pos": eig[0] > 0, "neg": eig[1] < 0, "mixed": eig[0] < 0 < eig[1]}[sign]

    # house style: minima green circles, maxima red triangles, saddles orange crosses
    assert (marks["points:minimum"].get_marker(), marks["points:minimum"].get_color()) == ("o", "tab:green")
    assert (marks["points:maximum"].get_marker(), marks["points:maximum"].get_color()) == ("^", "tab:red")
    assert (marks["points:saddle"].get_marker(), marks["points:saddle"].get_color()) == ("x", "tab:orange")
    assert all(line.get_linestyle() == "None" for line in ax.lines)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["minimum (4)", "maximum (1)", "saddle (4)"]
    assert len(contour_sets(ax)) == 1 and ax.get_title() == "Critical points of f"


def test_critical_points_plot_with_given_points_and_none_found():
    fig = sv.critical_points_plot(himmelblau, BOX, BOX, points=[])
    (ax,) = fig.axes
    assert not ax.lines and ax.get_legend() is None
    assert any("no critical points" in t.get_text() for t in ax.texts)


def test_surface_is_a_3d_graph_of_f():
    fig = sv.surface(himmelblau, BOX, BOX, n=15)
    assert_renders(fig)
    (ax,) = fig.axes
    assert ax.name == "3d"
    (surf,) = [c for c in ax.collections if isinstance(c, Poly3DCollection)]
    assert len(surf.get_paths()) == 14 * 14  # one quad per grid cell
    assert ax.get_zlabel() == "f(x)" and ax.get_xlabel() and ax.get_title()
    # the z range is that of f on the grid (the floor below it holds the projected contours)
    X, Y = np.meshgrid(np.linspace(*BOX, 15), np.linspace(*BOX, 15))
    zlo, zhi = ax.get_zlim()
    assert zhi == pytest.approx(himmelblau(np.stack([X, Y])).max())
    assert zlo < himmelblau(np.stack([X, Y])).min()


def test_functions_that_cannot_be_vectorized_are_evaluated_point_by_point():
    def kinked(x):  # a Python `if` on the value: vmap cannot trace it
        return (x[0] ** 2 if x[0] > 0 else 0.0) + x[1] ** 2

    fig = sv.surface(kinked, (-1, 1), (-1, 1), n=5)
    assert fig.axes[0].get_zlim()[1] == pytest.approx(2.0)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: sv.contour_gradients(himmelblau, (5, -5), BOX), ValueError, "low < high"),
        (lambda: sv.contour_gradients(himmelblau, BOX, (0, np.inf)), ValueError, "finite"),
        (lambda: sv.contour_gradients(himmelblau, BOX, "ab"), TypeError, "pair"),
        (lambda: sv.contour_gradients(himmelblau, BOX, BOX, n_arrows=1), ValueError, "n_arrows"),
        (lambda: sv.contour_gradients(himmelblau, BOX, BOX, levels=0), ValueError, "levels"),
        (lambda: sv.contour_gradients(himmelblau, BOX, BOX, points=[(1, 2, 3)]), ValueError, r"\(x, y\)"),
        (lambda: sv.contour_gradients("f", BOX, BOX), TypeError, "callable"),
        (lambda: sv.surface(lambda x: x, BOX, BOX, n=5), ValueError, "scalar"),
        (lambda: sv.surface(himmelblau, BOX, BOX, n=1), ValueError, "n must"),
        (lambda: sv.critical_points_plot(himmelblau, BOX, None), TypeError, "ylim"),
    ],
)
def test_bad_input_raises_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_landscape_grid_is_f_on_the_meshgrid_with_the_figures_levels():
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    g = sv.landscape_grid(f, (-2, 2), (-1, 3), n=41, levels=10)
    X, Y = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-1, 3, 41))
    np.testing.assert_allclose(g.X, X)
    np.testing.assert_allclose(g.Z, (1 - X) ** 2 + 100 * (Y - X**2) ** 2, rtol=1e-14)
    assert g.levels.size == 10 and np.all(np.diff(g.levels) > 0)
    # quantile levels crowd the valley: most of them lie below the grid's median value
    assert np.sum(g.levels < np.ma.median(g.Z)) >= 6
    # the contour figure draws exactly these levels
    fig = sv.contour_gradients(f, (-2, 2), (-1, 3), levels=10)
    drawn = fig.axes[0].collections[0].levels
    np.testing.assert_allclose(drawn, sv.landscape_grid(f, (-2, 2), (-1, 3), levels=10).levels)


def test_landscape_grid_masks_undefined_points_and_refuses_an_undefined_window():
    g = sv.landscape_grid(lambda x: snp.log(x[0]), (-1, 1), (0, 1), n=5, levels=[0.0, -1.0])
    assert g.Z.mask[:, :2].all() and not g.Z.mask[:, 3:].any()
    np.testing.assert_array_equal(g.levels, [-1.0, 0.0])
    with pytest.raises(ValueError, match="not finite anywhere.*xlim/ylim"):
        sv.landscape_grid(lambda x: snp.log(x[0]), (-2, -1), (0, 1))
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        sv.landscape_grid(lambda x: x[0], n=1)
