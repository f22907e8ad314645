"""Work at the end of each epoch of sl.ml.fit, counted in calls (not time): the epoch's mean
loss by np.average's arithmetic without its Python checks, and the best parameters' finiteness
read from the replayed step's norm instead of a pass over every parameter."""

import numpy as np
import pytest

import slopes.numpy as snp
import slopes.optim as so
from calls import calls_during
from slopes.ml import training
from slopes.ml.training import fit


def problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(45, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=45)
    loss = lambda p, b: snp.mean((b[0] @ p["w"] + p["c"] - b[1]) ** 2)  # noqa: E731
    return loss, {"w": np.zeros(4), "c": np.zeros(1)}, (X, y)


def entries(code, fn, *args):
    """``(entries of the Python function with this code object while fn runs, fn's result)``."""
    return calls_during(fn, *args, events=("call",), code=code)


@pytest.mark.parametrize("jit", [True, False])
def test_the_epoch_loss_is_np_average_of_the_batch_losses_bit_for_bit(jit):
    loss, p, data = problem()
    averages, res = entries(np.average.__wrapped__.__code__, lambda: fit(
        loss, p, data, optimizer=so.adam(0.05), epochs=4, batch_size=16, shuffle=True, progress=False, jit=jit))
    assert averages == 0  # before: one np.average an epoch
    steps = res.history.step["loss"].reshape(4, 3)
    want = [np.average(row, weights=[16, 16, 13]) for row in steps]
    assert np.array_equal(res.history.epoch["loss"], want)


def test_the_epoch_loss_is_numpys_weighted_average_bit_for_bit():
    from slopes.ml.callbacks import TrainHistory
    from slopes.ml.training import _epoch_loss

    rng = np.random.default_rng(11)
    for n, holes in ((29, ()), (29, (3, 17)), (5, (0, 1, 2, 3, 4)), (7, (6,))):
        history = TrainHistory(("loss",), ("loss",))
        values = rng.lognormal(size=n + 4) * 10.0 ** rng.integers(-3, 4, n + 4)
        values[[4 + h for h in holes]] = np.nan
        for v in values:
            history.step.append(loss=float(v))
        sizes = np.full(n, 64)
        sizes[-1] = 5
        got = _epoch_loss(history, 4, sizes)
        kept = np.isfinite(values[4:])
        want = float(np.average(values[4:][kept], weights=sizes[kept])) if kept.any() else np.nan
        assert got == want or (np.isnan(got) and np.isnan(want))


def test_a_replayed_run_keeps_its_best_parameters_without_a_pass_over_them():
    loss, p, data = problem(1)
    passes, res = entries(training._all_finite.__code__, lambda: fit(
        loss, p, data, optimizer=so.adam(0.05), epochs=5, batch_size=16, progress=False))
    assert passes == 0  # before: one pass over the parameters each improving epoch
    assert res.best_epoch == 4
    for k in p:
        assert np.array_equal(res.best_params[k], res.params[k])


def test_a_run_by_parts_still_checks_its_best_parameters():
    loss, p, data = problem(2)
    passes, _ = entries(training._all_finite.__code__, lambda: fit(
        loss, p, data, optimizer=so.adam(0.05), epochs=3, batch_size=16, progress=False, jit=False))
    assert passes == 3
