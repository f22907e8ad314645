"""Figure checks read from the matplotlib objects: distinct styles per run, text inside the figure.

The helpers here (``render``, ``outside_the_figure``, ``visible_shares``) are imported by the
other figure tests.
"""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

import slopes.ml as ml
import slopes.optim as so
from slopes import viz
from slopes.viz._style import run_styles


def render(fig):
    """Draw ``fig`` with Agg; returns the RGB pixels as ints (rows from the top)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)


def outside_the_figure(fig, tol=0.5):
    """Every axes (with its tick labels, axis labels, title, child colour bar) and legend sticking out of the figure.

    The figure is laid out and its text measured without rasterizing anything.
    """
    fig.draw_without_rendering()
    fb = fig.bbox
    parts = [(f"axes {i} ({ax.get_title() or ax.get_ylabel()})", ax) for i, ax in enumerate(fig.axes)]
    parts += [(f"figure legend {i}", leg) for i, leg in enumerate(fig.legends)]
    bad = []
    for name, artist in parts:
        b = artist.get_tightbbox()
        if b.x0 < fb.x0 - tol or b.y0 < fb.y0 - tol or b.x1 > fb.x1 + tol or b.y1 > fb.y1 + tol:
            bad.append((name, tuple(np.round(b.extents, 1)), tuple(fb.extents)))
    return bad


def visible_shares(fig, lines, threshold=24):
    """For each line, the share of its own pixels that still show (change the image by > threshold).

    1.0: nothing covers it; 0.0: it is buried under the other ``lines``. The layout is frozen
    after a first draw, so hiding a line changes nothing but that line's pixels.
    """
    fig.set_dpi(60)  # enough pixels to see a line, few enough to render fast
    render(fig)
    fig.set_layout_engine("none")
    b = lines[0].axes.get_window_extent()

    def pixels():
        img = render(fig)
        height = img.shape[0]
        return img[int(height - b.y1) : int(height - b.y0), int(b.x0) : int(b.x1)]

    def changed(a, c):
        return int(np.count_nonzero(np.any(np.abs(a - c) > threshold, axis=2)))

    def with_visible(shown):
        for m in lines:
            m.set_visible(m in shown)
        return pixels()

    full, bare = with_visible(lines), with_visible([])
    shares = {}
    for line in lines:
        own = changed(with_visible([line]), bare)
        assert own > 0, f"{line.get_label()} draws nothing in the axes"
        shares[line.get_label()] = changed(full, with_visible([m for m in lines if m is not line])) / own
    with_visible(lines)
    return shares


def styles_of(lines):
    return [(to_hex(line.get_color()), line.get_linestyle()) for line in lines]


# ----------------------------------------------------------------------------- the palette


def test_run_styles_are_pairwise_distinct_up_to_forty():
    styles = run_styles(40)
    pairs = [(s["color"], s["linestyle"]) for s in styles]
    assert len(set(pairs)) == 40
    assert len({s["color"] for s in styles[:20]}) == 20  # the first twenty differ in colour alone
    assert [s["color"] for s in styles[:10]] == [to_hex(c) for c in viz._style.colormaps["tab10"].colors]
    assert "marker" not in run_styles(3, markers=False)[0]


TWENTY = {f"run {i}": 0.5 ** (np.arange(30) / (i + 1)) for i in range(20)}


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.loss_curves(TWENTY),
        lambda: viz.schedules({k: so.exponential_decay(0.1, 0.99 - i / 100) for i, k in enumerate(TWENTY)}, 50),
        lambda: viz.gradient_norms_by_depth(TWENTY),
        lambda: viz.batch_spread({k: [v, 1.1 * v] for k, v in TWENTY.items()}),
    ],
    ids=["loss_curves", "schedules", "gradient_norms_by_depth", "batch_spread"],
)
def test_twenty_runs_get_twenty_distinct_styles(make):
    fig = make()
    lines = fig.axes[0].lines
    assert len(lines) == 20
    assert len(set(styles_of(lines))) == 20
    assert outside_the_figure(fig) == []  # the long legend too


# ----------------------------------------------------------------------------- layout


def _lr_find():
    return ml.lr_find(
        lambda w, b: 0.5 * (w**2).sum() + 0 * b.sum(),
        np.ones(2),
        np.zeros(1),
        min_lr=1e-3,
        max_lr=100.0,
        num_steps=60,
        smoothing=0.0,
    )


k = np.arange(200.0)
LOG_FIGURES = {
    "loss_curves, 1 to 1e-9": lambda: viz.loss_curves({"a": 0.9**k, "b": 0.99**k}),
    "loss_curves, 1e5 to 1e-20": lambda: viz.loss_curves({"a": 10 ** (-k / 10), "b": 1e5 * 0.99**k}),
    "loss_curves, small": lambda: viz.loss_curves({"a": 10 ** (-k / 10)}, figsize=(4.0, 3.0)),
    "batch_spread": lambda: viz.batch_spread({"sgd": [1e4 * 0.8**k, 2e4 * 0.8**k]}),
    "gradient_norms_by_depth": lambda: viz.gradient_norms_by_depth({"sigmoid": 0.25 ** np.arange(30)}),
    "lr_range_test": lambda: viz.lr_range_test(_lr_find()),
    "trajectories": lambda: viz.trajectories(
        lambda x: x[0] ** 2 + 10 * x[1] ** 2, {"p": np.array([[1.0, 1.0], [0.0, 0.0]])}, (-9, 4), (-3, 3), n=20
    ),
}


@pytest.mark.parametrize("name", LOG_FIGURES)
def test_tick_labels_axis_labels_and_legends_lie_inside_the_figure(name):
    assert outside_the_figure(LOG_FIGURES[name]()) == []
