"""slopes.ml.lr_find: the sweep against hand-run GD, the smoothing formula, and the 2/L divergence bound."""

import numpy as np
import pytest

import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import lr_find

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 3)) * np.array([3.0, 1.0, 0.3])
Y = X @ np.array([1.0, -1.0, 2.0])
L = float(np.linalg.eigvalsh(X.T @ X / len(X)).max())  # curvature of the loss below: GD diverges above 2/L


def lsq(w, b):
    return 0.5 * snp.mean((b[0] @ w - b[1]) ** 2)


def test_sweep_stops_at_divergence_and_suggests_below_2_over_L():
    res = lr_find(lsq, np.zeros(3), (X, Y), min_lr=1e-5, max_lr=100.0, num_steps=100)
    assert res.stopped_early
    assert res.lrs[-1] > 2 / L  # it ran until GD actually diverged ...
    assert res.lrs[-1] < 100.0  # ... and stopped there, before the end of the sweep
    assert 1e-3 / L < res.suggestion < 2 / L
    assert res.suggestion == pytest.approx(res.lrs[np.argmin(res.smoothed)] / 10)


def test_sweep_matches_hand_gd_and_smoothing_formula():
    min_lr, max_lr, n, beta = 1e-4, 10.0, 50, 0.9
    res = lr_find(lsq, np.zeros(3), (X, Y), min_lr=min_lr, max_lr=max_lr, num_steps=n, smoothing=beta)
    k = len(res.lrs)
    np.testing.assert_allclose(res.lrs, np.geomspace(min_lr, max_lr, n)[:k], rtol=1e-12)
    # full-batch GD by hand with those learning rates; the loss is recorded before each step
    w, losses = np.zeros(3), []
    for lr in res.lrs:
        r = X @ w - Y
        losses.append(0.5 * np.mean(r**2))
        w = w - lr * X.T @ r / len(Y)
    np.testing.assert_allclose(res.losses, losses, rtol=1e-10)
    # bias-corrected exponential moving average
    avg, sm = 0.0, []
    for i, v in enumerate(losses):
        avg = beta * avg + (1 - beta) * v
        sm.append(avg / (1 - beta ** (i + 1)))
    np.testing.assert_allclose(res.smoothed, sm, rtol=1e-10)
    assert res.smoothed[-1] > 4.0 * np.min(res.smoothed[:-1])


def test_minibatch_adam_sweep_runs_to_max_without_divergence_when_range_is_small():
    res = lr_find(
        lsq,
        np.zeros(3),
        (X, Y),
        optimizer_fn=so.adam,
        min_lr=1e-6,
        max_lr=1e-3,
        num_steps=30,
        batch_size=16,
        seed=2,
    )
    assert not res.stopped_early and len(res.lrs) == 30
    assert res.lrs[-1] == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(min_lr=1.0, max_lr=0.1), "min_lr"),
        (dict(num_steps=1), "num_steps"),
        (dict(smoothing=1.0), "smoothing"),
        (dict(diverge_factor=1.0), "diverge_factor"),
        (dict(batch_size=0), "batch_size"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lr_find(lsq, np.zeros(3), (X, Y), **kwargs)


@pytest.mark.parametrize("max_lr, num_steps", [(3.0, 20), (4.0, 20), (6.0, 20)])
def test_diverged_says_whether_the_sweep_reached_the_blow_up(max_lr, num_steps):
    # GD on |w|^2 / 2 from w = 1: the loss before step k is prod_{j<k} (1 - lr_j)^2 (closed form)
    loss = lambda w, b: 0.5 * snp.sum(w**2) + 0 * snp.sum(b)  # noqa: E731
    res = lr_find(loss, np.ones(2), np.zeros(1), min_lr=1e-2, max_lr=max_lr, num_steps=num_steps,
                  smoothing=0.0)
    lrs = 1e-2 * (max_lr / 1e-2) ** (np.arange(num_steps) / (num_steps - 1))
    exact = np.concatenate([[1.0], np.cumprod((1 - lrs[:-1]) ** 2)])
    blow = np.flatnonzero(exact > 4.0 * np.minimum.accumulate(exact))  # the default diverge_factor
    assert res.diverged == bool(blow.size)
    assert res.stopped_early == bool(blow.size and blow[0] < num_steps - 1)
    np.testing.assert_allclose(res.losses, exact[: len(res.losses)], rtol=1e-12)
