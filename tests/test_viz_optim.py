"""slopes.viz.trajectories / line_search_iterates: the drawn data equal the runs' iterates and f recomputed in NumPy."""

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.patches import Rectangle
from test_viz_io import assert_rendered_image
from test_viz_style import outside_the_figure, styles_of, visible_shares

import slopes as sl
import slopes.numpy as snp
from slopes import viz


def rosen(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosen_np(x0, x1):
    return (1 - x0) ** 2 + 100 * (x1 - x0**2) ** 2


def labelled_lines(ax):
    """The runs' lines in the caller's order (they are drawn in their layer order), found by gid."""
    runs = {line.get_gid(): line for line in ax.lines if (line.get_gid() or "").count(":") == 1}
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    return [runs[f"run:{text.rsplit(' (', 1)[0]}"] for text in legend if f"run:{text.rsplit(' (', 1)[0]}" in runs]


def test_trajectories_one_line_per_run_with_its_iterates():
    runs = {
        f"gd, lr={lr}": sl.minimize(
            rosen, [-1.2, 1.0], method="gd", learning_rate=lr, maxiter=40, record_x=True
        )
        for lr in (1e-3, 2e-3)
    }
    hand = np.array([[-1.2, 1.0], [-1.0, 0.5], [0.0, 0.0]])  # an (n, 2) array is a run too
    fig = viz.trajectories(rosen, {**runs, "by hand": hand}, (-2.0, 2.0), (-1.0, 3.0), n=80)
    ax = fig.axes[0]
    lines = labelled_lines(ax)
    assert len(lines) == 3
    for line, path in zip(lines, [r.history.x for r in runs.values()] + [hand]):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), path)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("lr=0.001" in t for t in legend) and any("lr=0.002" in t for t in legend)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert_rendered_image(fig)


# the second f broadcasts over a stacked grid to the right shape, but with wrong values (sum over the grid)
@pytest.mark.parametrize("f", [rosen, lambda x: rosen(x) + 0.0 * snp.sum(x)])
def test_contour_levels_span_f_on_the_grid(f):
    fig = viz.trajectories(f, {"start": np.array([[0.0, 0.0]])}, (-2.0, 2.0), (-1.0, 3.0), n=40)
    (cs,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    X, Y = np.meshgrid(np.linspace(-2.0, 2.0, 40), np.linspace(-1.0, 3.0, 40))
    Z = rosen_np(X, Y)
    assert_quantile_levels(cs.levels, Z, 30)


def assert_quantile_levels(levels, Z, n):
    """Integer levels are quantiles of f on the grid, squared spacing (denser near the minimum)."""
    assert Z.min() <= levels[0] and levels[-1] <= Z.max() and len(levels) == n
    wanted = np.linspace(0.0, 1.0, n + 2)[1:-1] ** 2
    below = np.array([np.mean(Z <= lv) for lv in levels])
    # a quantile falls between two grid values, some of which repeat (symmetric grids): a few nodes of slack
    np.testing.assert_allclose(below, wanted, atol=4.0 / Z.size)


def test_contours_of_a_function_that_does_not_broadcast():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    fig = viz.trajectories(lambda x: x @ A @ x, {"p": np.zeros((1, 2))}, (-1.0, 1.0), (-1.0, 1.0), n=30)
    (cs,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    g = np.linspace(-1.0, 1.0, 30)
    X, Y = np.meshgrid(g, g)
    Z = 3 * X**2 + 2 * X * Y + 2 * Y**2
    assert_quantile_levels(cs.levels, Z, 30)


def test_projected_run_draws_the_constraint_box():
    q = lambda x: (x[0] - 2) ** 2 + 3 * (x[1] + 1) ** 2  # noqa: E731  (minimum outside the box)
    lo, hi = np.array([-0.5, -0.4]), np.array([0.8, 0.9])
    res = sl.minimize(
        q, [0.0, 0.5], method="projected_gradient", bounds=list(zip(lo, hi)), learning_rate=0.1, record_x=True
    )
    fig = viz.trajectories(q, {"projected gd, lr=0.1": res}, (-1.5, 3.0), (-2.0, 1.5), bounds=list(zip(lo, hi)), n=40)
    (box,) = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    np.testing.assert_allclose(box.get_xy(), lo)
    np.testing.assert_allclose([box.get_width(), box.get_height()], hi - lo)
    np.testing.assert_array_equal(np.column_stack(labelled_lines(fig.axes[0])[0].get_data()), res.history.x)
    assert_rendered_image(fig)
    # the figure reads bounds= as minimize does: (lower, upper) arrays for 2 coordinates read two ways
    with pytest.raises(ValueError, match="ambiguous"):
        viz.trajectories(q, {"run": res}, (-1.5, 3.0), (-2.0, 1.5), bounds=(lo, hi), n=10)


def test_trajectories_errors():
    res = sl.minimize(rosen, [0.0, 0.0], method="gd", learning_rate=1e-3, maxiter=3)
    with pytest.raises(ValueError, match="record_x=True"):
        viz.trajectories(rosen, {"gd": res}, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match=r"\(n, 2\) array"):
        viz.trajectories(rosen, {"3-D": np.zeros((4, 3))}, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="low < high"):
        viz.trajectories(rosen, {"p": np.zeros((1, 2))}, (1, -1), (-1, 1))
    with pytest.raises(TypeError, match="non-empty dict"):
        viz.trajectories(rosen, [], (-1, 1), (-1, 1))


def test_overlapping_paths_all_stay_visible():
    # GD, momentum and Adam on Rosenbrock follow the same valley floor (the report's runs)
    opts = [("gd", 1e-3, {}), ("momentum", 1e-3, {"beta": 0.9}), ("adam", 0.02, {})]
    runs = {
        f"{m}, lr={lr:g}": sl.minimize(rosen, [-1.2, 1.0], method=m, learning_rate=lr, maxiter=800, record_x=True, **o)
        for m, lr, o in opts
    }
    fig = viz.trajectories(rosen, runs, (-1.6, 1.4), (-0.6, 1.6), n=60)
    ax = fig.axes[0]
    lines = labelled_lines(ax)
    assert len(set(styles_of(lines))) == 3
    # a lower layer is wider than every layer above it, and the layers above let it show through
    by_layer = sorted(lines, key=lambda line: line.get_zorder())
    for below, above in zip(by_layer, by_layer[1:]):
        assert above.get_linewidth() < below.get_linewidth() and above.get_alpha() < 1
    shares = visible_shares(fig, lines)  # rendered: most of each path's own pixels still show
    assert min(shares.values()) > 0.5, shares


def test_projected_run_is_drawn_above_the_unconstrained_one():
    Q, c = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([-2.0, 1.0])
    f = lambda x: 0.5 * x @ Q @ x + c @ x  # noqa: E731
    box = [(-2.0, 2.0), (-0.5, 2.0)]
    L = (5 + np.sqrt(5)) / 2
    proj = sl.minimize(f, [1.5, 1.5], method="projected_gradient", bounds=box, L=L, maxiter=500, record_x=True)
    free = sl.minimize(f, [1.5, 1.5], method="gd", L=L, maxiter=500, record_x=True)
    fig = viz.trajectories(f, {"projected": proj, "unconstrained": free}, (-2, 2), (-2, 2), bounds=box, n=40)
    ax = fig.axes[0]
    proj_line, free_line = labelled_lines(ax)
    (rect,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    (cs,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert cs.get_zorder() < rect.get_zorder() < free_line.get_zorder() < proj_line.get_zorder()
    shares = visible_shares(fig, [proj_line, free_line])
    assert shares[proj_line.get_label()] > 0.9 and shares[free_line.get_label()] > 0.5, shares
    assert any(t.get_text() == "constraint box" for t in fig.legends[0].get_texts())


def test_layers_order_shorter_paths_on_top_even_past_a_diverged_tail():
    long = np.array([[-1.5, -1.5], [1.5, 1.5], [1.5, -1.5], [np.inf, np.nan]])  # length 3 sqrt 2 / 3 + 1
    short = np.array([[0.0, 0.0], [0.5, 0.5]])
    fig = viz.trajectories(lambda x: x[0] ** 2 + x[1] ** 2, {"short": short, "long": long}, (-2, 2), (-2, 2), n=20)
    short_line, long_line = labelled_lines(fig.axes[0])
    assert long_line.get_zorder() < short_line.get_zorder()
    assert long_line.get_linewidth() > short_line.get_linewidth()


def unit_lengths_in_pixels(ax):
    """How many pixels one data unit spans along x and along y, after drawing."""
    ax.figure.draw_without_rendering()  # lays it out: the aspect is applied at draw time
    (x0, y0), (x1, y1) = ax.transData.transform([(0.0, 0.0), (1.0, 1.0)])
    return x1 - x0, y1 - y0


def test_contours_are_drawn_with_equal_axes():
    bowl = lambda x: x[0] ** 2 + 10 * x[1] ** 2  # noqa: E731
    run = {"p": np.array([[-8.0, 2.0], [0.0, 0.0]])}
    fig = viz.trajectories(bowl, run, (-9.0, 4.0), (-3.0, 3.0), n=30)
    assert fig.axes[0].get_aspect() == 1.0
    ux, uy = unit_lengths_in_pixels(fig.axes[0])
    assert ux == pytest.approx(uy, rel=1e-9)
    assert outside_the_figure(fig) == []
    # opt out, and the automatic choice for a window too thin to draw at equal scale
    opted_out = viz.trajectories(bowl, run, (-9.0, 4.0), (-3.0, 3.0), n=30, aspect="auto")
    ux, uy = unit_lengths_in_pixels(opted_out.axes[0])
    assert opted_out.axes[0].get_aspect() == "auto" and abs(ux / uy - 1) > 0.3
    assert viz.trajectories(bowl, run, (-20.0, 20.0), (-1.0, 1.0), n=30).axes[0].get_aspect() == "auto"
    forced = viz.trajectories(bowl, run, (-20.0, 20.0), (-1.0, 1.0), n=30, aspect="equal")
    assert forced.axes[0].get_aspect() == 1.0
    with pytest.raises(ValueError, match="aspect must be None, 'equal' or 'auto'"):
        viz.trajectories(bowl, run, (-9.0, 4.0), (-3.0, 3.0), aspect="square")


def test_twenty_runs_are_told_apart():
    paths = {f"run {i}": np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 3, 30)]) * (1 + i / 20) for i in range(20)}
    fig = viz.trajectories(lambda x: x[0] ** 2 + x[1] ** 2, paths, (-2.2, 2.2), (-2.2, 2.2), n=20)
    lines = labelled_lines(fig.axes[0])
    assert len(lines) == 20 and len(set(styles_of(lines))) == 20
    assert outside_the_figure(fig) == []


def test_line_search_trials_lie_on_phi():
    x = np.array([-1.2, 1.0])
    g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])  # by hand
    d = -g
    fig = viz.line_search_iterates(rosen, x, d, step=1.0)
    ax = fig.axes[0]
    res = fig.line_search
    assert res.success and res.trials >= 2
    (trials,) = [line for line in ax.lines if line.get_label() == "trial steps"]
    ts, phis = trials.get_data()
    assert len(ts) == res.trials
    np.testing.assert_allclose(phis, rosen_np(x[0] + ts * d[0], x[1] + ts * d[1]), rtol=1e-12)
    assert ts[-1] == pytest.approx(res.step, rel=1e-12)  # the last trial is the accepted step
    # the accepted step satisfies both strong Wolfe conditions (checked with the hand gradient)
    xn = x + res.step * d
    gn = np.array([-2 * (1 - xn[0]) - 400 * xn[0] * (xn[1] - xn[0] ** 2), 200 * (xn[1] - xn[0] ** 2)])
    assert rosen_np(*xn) <= rosen_np(*x) + 1e-4 * res.step * g @ d
    assert abs(gn @ d) <= 0.9 * abs(g @ d)
    # the curve is phi itself; the first trial (t = 1) is far outside the zoomed view and listed
    t_curve, phi_curve = ax.lines[0].get_data()
    np.testing.assert_allclose(phi_curve, rosen_np(x[0] + t_curve * d[0], x[1] + t_curve * d[1]), rtol=1e-12)
    assert ax.get_xlim()[1] < 1.0
    assert any("outside the view: trial 1" in t.get_text() for t in ax.texts)
    assert_rendered_image(fig)


def test_line_search_rejects_ascent_direction():
    x = np.array([0.0, 0.0])
    with pytest.raises(ValueError, match="not a descent direction"):
        viz.line_search_iterates(rosen, x, np.array([-1.0, 0.0]))  # grad f(0) = (-2, 0): g.d = 2 > 0
