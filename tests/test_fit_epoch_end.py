"""Work at the end of each epoch of sl.ml.fit, counted in calls (not time): the epoch's mean
loss by np.average's arithmetic without its Python checks, and the best parameters' finiteness
read from the replayed step's norm instead of a pass over every parameter."""

import numpy as np
import pytest

import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import training
from slopes.ml.training import fit


def problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(45, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=45)
    loss = lambda p, b: snp.mean((b[0] @ p["w"] + p["c"] - b[1]) ** 2)  # noqa: E731
    return loss, {"w": np.zeros(4), "c": np.zeros(1)}, (X, y)


def counting(monkeypatch, owner, name):
    calls = []
    real = getattr(owner, name)

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.mark.parametrize("jit", [True, False])
def test_the_epoch_loss_is_np_average_of_the_batch_losses_bit_for_bit(jit, monkeypatch):
    loss, p, data = problem()
    averages = counting(monkeypatch, np, "average")
    res = fit(loss, p, data, optimizer=so.adam(0.05), epochs=4, batch_size=16, shuffle=True, progress=False, jit=jit)
    assert not averages  # before: one np.average an epoch
    monkeypatch.undo()
    steps = res.history.step["loss"].reshape(4, 3)
    want = [np.average(row, weights=[16, 16, 13]) for row in steps]
    assert np.array_equal(res.history.epoch["loss"], want)


def test_an_epoch_with_skipped_steps_averages_the_others():
    history = training._new_history(None, None, {})
    add = history.step.appender(*training._STEP_FIELDS)
    for value in (1.0, np.nan, 4.0):
        add(value, 0.1, 1.0, 0)
    sizes = np.array([16, 16, 13])
    assert training._epoch_loss(history, 0, sizes) == np.average([1.0, 4.0], weights=[16, 13])
    history = training._new_history(None, None, {})
    history.step.appender(*training._STEP_FIELDS)(np.nan, 0.1, 1.0, 0)
    assert np.isnan(training._epoch_loss(history, 0, np.array([16])))


def test_a_replayed_run_keeps_its_best_parameters_without_a_pass_over_them(monkeypatch):
    loss, p, data = problem(1)
    passes = counting(monkeypatch, training, "_all_finite")
    res = fit(loss, p, data, optimizer=so.adam(0.05), epochs=5, batch_size=16, progress=False)
    assert not passes  # before: one pass over the parameters each improving epoch
    assert res.best_epoch == 4
    for k in p:
        assert np.array_equal(res.best_params[k], res.params[k])


def test_a_run_by_parts_still_checks_its_best_parameters(monkeypatch):
    loss, p, data = problem(2)
    passes = counting(monkeypatch, training, "_all_finite")
    fit(loss, p, data, optimizer=so.adam(0.05), epochs=3, batch_size=16, progress=False, jit=False)
    assert len(passes) == 3
