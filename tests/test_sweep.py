"""sweep: one training run per config with spawned seeds, the same table on every executor."""

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

X = np.random.default_rng(0).normal(size=(48, 3))
Y = X @ np.array([1.0, -1.0, 0.5])


def mse(w, batch):
    xb, yb = batch
    return snp.mean((xb @ w - yb) ** 2)


def train(lr, batch_size, seed):
    """A real mini-batch fit whose start and shuffling both come from ``seed``."""
    w0 = np.random.default_rng(seed).normal(size=3)
    res = sl.ml.fit(mse, w0, (X, Y), optimizer=sl.optim.sgd(lr), epochs=2, batch_size=batch_size,
                    seed=seed)
    return {"loss": float(mse(res.params, (X, Y))), "w": res.params}


GRID = {"lr": [0.01, 0.1], "batch_size": [8, 16]}


def test_runs_in_grid_order_with_spawned_int_seeds():
    s = sl.ml.sweep(train, GRID, seed=4)
    assert s.configs == [dict(zip(GRID, c)) for c in itertools.product(*GRID.values())]
    expect = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(4).spawn(4)]
    assert s.seeds == expect and all(isinstance(v, int) and 0 <= v < 2**32 for v in s.seeds)
    # the contract: each record is exactly train_fn(**config, seed=its seed)
    for rec in s:
        direct = train(**rec["config"], seed=rec["seed"])
        assert rec["result"]["loss"] == direct["loss"] and np.array_equal(rec["result"]["w"], direct["w"])


def test_best_by_key_and_by_function():
    s = sl.ml.sweep(train, GRID, seed=4)
    losses = [r["loss"] for r in s.results]
    assert s.best("loss") is s[int(np.argmin(losses))]
    assert s.best(lambda r: -r["loss"]) is s[int(np.argmax(losses))]
    assert s.best("loss", mode="max") is s[int(np.argmax(losses))]
    with pytest.raises(KeyError, match="no entry 'acc'"):
        s.best("acc")


def test_thread_and_process_pools_match_serial_bit_for_bit(process_pool):
    serial = sl.ml.sweep(train, GRID, seed=9)
    with ThreadPoolExecutor(2) as pool:
        threaded = sl.ml.sweep(train, GRID, seed=9, executor=pool)
    processes = sl.ml.sweep(train, GRID, seed=9, executor=process_pool)
    for other in (threaded, processes):
        assert other.seeds == serial.seeds
        for a, b in zip(serial.results, other.results):
            assert a["loss"] == b["loss"] and np.array_equal(a["w"], b["w"])


def test_to_pandas_spreads_scalar_results():
    pytest.importorskip("pandas")
    s = sl.ml.sweep(train, GRID, seed=1)
    df = s.to_pandas()
    assert df.columns.tolist() == ["lr", "batch_size", "seed", "loss"]  # the array "w" stays out
    assert df["loss"].tolist() == [r["loss"] for r in s.results] and df["seed"].tolist() == s.seeds
    plain = sl.ml.sweep(lambda a, seed: a * 2.0, [{"a": 1.0}, {"a": 2.0}])
    assert plain.to_pandas()["result"].tolist() == [2.0, 4.0] and plain.best()["config"] == {"a": 1.0}


@pytest.mark.parametrize(
    "configs, match",
    [([], "no configs"), ([{"lr": 0.1}, 0.2], "config 1 is float"), ([{"lr": 0.1, "seed": 3}], "'seed' key")],
)
def test_bad_configs_are_refused(configs, match):
    with pytest.raises(ValueError, match=match):
        sl.ml.sweep(train, configs)


def test_a_non_executor_is_refused():
    with pytest.raises(TypeError, match="submit"):
        sl.ml.sweep(train, GRID, executor=object())
