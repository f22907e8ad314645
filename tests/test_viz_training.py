"""slopes.viz training figures: drawn data equal the histories, schedules in closed form, min/max bands."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from test_viz_io import assert_rendered_image

import slopes as sl
import slopes.ml as ml
import slopes.numpy as snp
import slopes.optim as so
from slopes import viz

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 2))
Y = X @ np.array([1.0, -2.0])
XV = RNG.normal(size=(8, 2))
YV = XV @ np.array([1.0, -2.0])


def lsq(w, batch):
    return 0.5 * snp.mean((batch[0] @ w - batch[1]) ** 2)


def lines_data(ax):
    return [(line.get_label(), *line.get_data()) for line in ax.lines]


def test_loss_curves_one_line_per_run_equal_to_histories():
    res = sl.minimize(lambda w: lsq(w, (X, Y)), np.zeros(2), method="gd", learning_rate=0.1, maxiter=20)
    tr = ml.fit(lsq, np.zeros(2), (X, Y), optimizer=so.sgd(0.1), epochs=3, batch_size=8, seed=0, jit=False)
    arr = 0.8 ** np.arange(15)
    fig = viz.loss_curves({"gd, lr=0.1": res, "sgd, bs=8": tr, "geometric": arr})
    ax = fig.axes[0]
    (l1, x1, y1), (l2, x2, y2), (l3, x3, y3) = lines_data(ax)
    assert (l1, l2, l3) == ("gd, lr=0.1", "sgd, bs=8", "geometric")
    np.testing.assert_array_equal(y1, res.history.f)
    np.testing.assert_array_equal(y2, tr.history.step["loss"])
    assert len(y2) == 3 * 4  # 32 samples / batch 8 = 4 steps per epoch
    np.testing.assert_array_equal(y3, arr)
    np.testing.assert_array_equal(x3, np.arange(15))
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [l1, l2, l3]
    assert_rendered_image(fig)

    assert viz.loss_curves({"a": arr}, log=False).axes[0].get_yscale() == "linear"


def test_loss_curves_per_epoch_with_validation():
    tr = ml.fit(
        lsq,
        np.zeros(2),
        (X, Y),
        optimizer=so.sgd(0.05),
        epochs=4,
        batch_size=16,
        val_data=(XV, YV),
        jit=False,
    )
    ax = viz.loss_curves({"sgd": tr}, x="epoch").axes[0]
    (lab, xs, ys), (vlab, vxs, vys) = lines_data(ax)
    np.testing.assert_array_equal(xs, [0, 1, 2, 3])
    np.testing.assert_array_equal(ys, tr.history.epoch["loss"])
    assert vlab == "sgd (validation)" and ax.get_xlabel() == "epoch"
    # the validation loss is the least-squares loss at each epoch's end, recomputed in NumPy for the last one
    assert vys[-1] == pytest.approx(0.5 * np.mean((XV @ tr.params - YV) ** 2), rel=1e-10)


def test_loss_curves_errors():
    with pytest.raises(ValueError, match="negative losses.*log=False"):
        viz.loss_curves({"f": np.array([1.0, -0.5])})
    with pytest.raises(ValueError, match="x must be 'step' or 'epoch'"):
        viz.loss_curves({"f": np.ones(3)}, x="time")
    with pytest.raises(ValueError, match="1-D sequence"):
        viz.loss_curves({"f": np.ones((2, 2))})
    with pytest.raises(TypeError, match="non-empty dict"):
        viz.loss_curves({})


def test_schedules_curves_equal_closed_forms():
    peak, warm, total = 0.1, 10, 60
    t = np.arange(total)
    expected = {
        "warmup_cosine": np.where(
            t < warm, peak * t / warm, peak * (1 + np.cos(np.pi * (t - warm) / (total - warm))) / 2
        ),
        "step_decay": 0.1 * 0.5 ** (t // 20),
        "exponential": 0.1 * 0.9**t,
    }
    scheds = {
        "warmup_cosine": so.warmup_cosine(peak, warm, total),
        "step_decay": so.step_decay(0.1, 20, 0.5),
        "exponential": lambda s: 0.1 * 0.9**s,  # any function of the step
    }
    fig = viz.schedules(scheds, total)
    for (label, xs, ys), (name, ref) in zip(lines_data(fig.axes[0]), expected.items(), strict=True):
        assert label == name
        np.testing.assert_array_equal(xs, t)
        np.testing.assert_allclose(ys, ref, rtol=1e-12, atol=1e-15)
    assert_rendered_image(fig)

    xs, ys = viz.schedules({"s": so.step_decay(1.0, 3, 0.5)}, np.array([0, 3, 7])).axes[0].lines[0].get_data()
    np.testing.assert_array_equal(ys, [1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="steps must be"):
        viz.schedules({"s": so.constant(1.0)}, 0)
    with pytest.raises(TypeError, match="not a schedule"):
        viz.schedules({"s": 0.1}, 5)


def test_lr_range_test_marks_the_suggestion():
    res = ml.lr_find(
        lsq, np.zeros(2), (X, Y), min_lr=1e-4, max_lr=100.0, num_steps=60, smoothing=0.5, jit=False
    )
    fig = viz.lr_range_test(res)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    by_label = {lab: (xs, ys) for lab, xs, ys in lines_data(ax)}
    np.testing.assert_array_equal(by_label["batch loss"][1], res.losses)
    np.testing.assert_array_equal(by_label["smoothed loss"][0], res.lrs)
    (sugg,) = [k for k in by_label if k.startswith("suggestion")]
    np.testing.assert_array_equal(by_label[sugg][0], [res.suggestion, res.suggestion])  # vertical line
    # the marker on the smoothed curve, at lr = lr_min / 10
    assert res.suggestion == pytest.approx(res.lrs[np.argmin(res.smoothed)] / 10)
    marker = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(marker) == 1 and marker[0].get_xdata()[0] == res.suggestion
    assert_rendered_image(fig)
    with pytest.raises(TypeError, match="LRFindResult"):
        viz.lr_range_test(res.losses)


def test_gradient_norms_by_depth():
    studies = {
        a: ml.depth_study([1, 3, 6], activation=a, width=6, n_in=4, n_classes=3, n_samples=8)
        for a in ("sigmoid", "relu")
    }
    fig = viz.gradient_norms_by_depth(studies)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    for (label, xs, ys), (name, s) in zip(lines_data(ax), studies.items(), strict=True):
        assert label == name
        np.testing.assert_array_equal(xs, [1, 3, 6])
        np.testing.assert_array_equal(ys, s.first)
    assert_rendered_image(fig)

    s = studies["sigmoid"]
    ys = viz.gradient_norms_by_depth({"s": s}, quantity="ratio").axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(ys, s.first / s.last, rtol=1e-15)

    # per-layer norms (from layer_grad_norms), against the layer index
    norms = 0.25 ** np.arange(5)
    xs, ys = viz.gradient_norms_by_depth({"per layer": norms}).axes[0].lines[0].get_data()
    np.testing.assert_array_equal(xs, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(ys, norms)
    with pytest.raises(ValueError, match="mix of DepthStudy"):
        viz.gradient_norms_by_depth({"a": s, "b": norms})
    with pytest.raises(ValueError, match="quantity"):
        viz.gradient_norms_by_depth({"a": s}, quantity="middle")


def test_batch_spread_mean_line_and_min_max_band():
    rng = np.random.default_rng(1)
    base = np.exp(-0.2 * np.arange(12))
    runs = {"SGD": [base * (1 + 0.5 * rng.random(12)) for _ in range(4)], "full batch": [base, base]}
    fig = viz.batch_spread(runs)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for line, band, seeds in zip(ax.lines, bands, runs.values(), strict=True):
        Y = np.vstack(seeds)
        np.testing.assert_allclose(line.get_ydata(), Y.sum(axis=0) / len(seeds), rtol=1e-14)
        verts = band.get_paths()[0].vertices
        for k in range(12):  # at each step the band spans exactly [min, max] over the seeds
            ys = verts[verts[:, 0] == k, 1]
            assert ys.min() == Y[:, k].min() and ys.max() == Y[:, k].max()
    assert_rendered_image(fig)

    with pytest.raises(ValueError, match="different lengths"):
        viz.batch_spread({"SGD": [np.ones(3), np.ones(4)]})
    with pytest.raises(TypeError, match="list of runs"):
        viz.batch_spread({"SGD": np.ones(3)})
