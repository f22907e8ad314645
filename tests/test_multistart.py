"""multistart: one minimize run per start, serially or on any executor, bit-identical either way."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp

X = np.random.default_rng(3).normal(size=(64, 2))
Y = X @ np.array([1.5, -0.5]) + 0.1 * np.random.default_rng(4).normal(size=64)
STARTS = np.array([[2.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])


def double_well(x):
    """(x^2 - 1)^2 + 0.3 x: minima at the real roots of 4x^3 - 4x + 0.3 with f'' > 0."""
    return (x[0] ** 2 - 1.0) ** 2 + 0.3 * x[0]


def batch_loss(w, batch):
    xb, yb = batch
    return snp.mean((xb @ w - yb) ** 2)


def tree_loss(p):
    return snp.sum((p["w"] - 2.0) ** 2) + (p["b"] + 1.0) ** 2


def stochastic(executor, seed=11):
    return sl.optim.multistart(batch_loss, STARTS, method="adam", executor=executor, seed=seed,
                               data=(X, Y), batch_size=8, epochs=3, learning_rate=0.05)


def assert_same_runs(a, b):
    assert len(a) == len(b) and a.best_index == b.best_index
    for ra, rb in zip(a, b):
        assert ra.nit == rb.nit and ra.fun == rb.fun
        assert np.array_equal(ra.x, rb.x) and np.array_equal(ra.history.f, rb.history.f)


def test_best_is_the_global_minimum_of_a_double_well():
    crit = np.roots([4.0, 0.0, -4.0, 0.3]).real
    minima = crit[12 * crit**2 - 4 > 0]
    r = sl.optim.multistart(double_well, [[1.5], [-0.5], [0.8]], method="bfgs")
    f_at = (minima**2 - 1) ** 2 + 0.3 * minima
    assert r.best_index == 1 and r.x[0] == pytest.approx(minima[np.argmin(f_at)], abs=1e-6)
    assert r.funs[0] == pytest.approx(f_at.max(), abs=1e-9) and r.fun == pytest.approx(f_at.min(), abs=1e-9)
    assert [x[0] for x in r.x0s] == [1.5, -0.5, 0.8]


def test_ties_go_to_the_earlier_start():
    r = sl.optim.multistart(double_well, [[1.5], [1.5], [-0.5], [-0.5]], method="bfgs")
    assert r.best_index == 2


def test_thread_and_process_pools_match_serial_bit_for_bit(process_pool):
    serial = stochastic(None)
    with ThreadPoolExecutor(3) as pool:
        assert_same_runs(serial, stochastic(pool))
    assert_same_runs(serial, stochastic(process_pool))


def test_each_run_gets_its_own_spawned_seed():
    r = sl.optim.multistart(batch_loss, np.zeros((2, 2)), method="adam", seed=5, data=(X, Y),
                            batch_size=8, epochs=1, learning_rate=0.05)
    expect = np.random.SeedSequence(5).spawn(3)[:2]
    assert [s.generate_state(2).tolist() for s in r.seeds] == [s.generate_state(2).tolist() for s in expect]
    # same start, different seed: different mini-batch order, different iterates
    assert not np.array_equal(r[0].x, r[1].x)
    assert not np.array_equal(stochastic(None, seed=1)[0].x, stochastic(None, seed=2)[0].x)
    root = np.random.SeedSequence(8)  # a SeedSequence as the root: the same runs every time
    assert_same_runs(stochastic(None, seed=root), stochastic(None, seed=root))


def test_lambdas_reach_a_process_pool_by_value(process_pool):
    pytest.importorskip("cloudpickle")
    r = sl.optim.multistart(lambda x: snp.sum((x - 3.0) ** 2), STARTS, executor=process_pool)
    assert np.allclose(np.array([run.x for run in r]), 3.0, atol=1e-6)


def test_without_cloudpickle_a_lambda_for_a_process_pool_gets_a_clear_error(monkeypatch, process_pool):
    import slopes.executors

    monkeypatch.setattr(slopes.executors, "_portable", lambda fn: fn)  # as if cloudpickle were absent
    with pytest.raises(TypeError, match="define the function at module level"):
        sl.optim.multistart(lambda x: snp.sum(x**2), STARTS, executor=process_pool)
    # a module-level function needs nothing more
    assert sl.optim.multistart(double_well, [[1.5], [-0.5]], executor=process_pool).best_index == 1


def test_pytree_starts_come_back_as_pytrees():
    starts = [{"w": np.zeros(2), "b": 0.0}, {"w": np.ones(2), "b": 5.0}]
    r = sl.optim.multistart(tree_loss, starts, method="lbfgs")
    for run in r:
        assert set(run.x) == {"w", "b"}
        assert np.allclose(run.x["w"], 2.0, atol=1e-6) and abs(float(run.x["b"]) + 1.0) < 1e-6
        assert run.grad["w"].shape == (2,)


def test_drawn_starts_are_seeded_and_inside_the_box():
    box = [(-2.0, 2.0), (0.0, 1.0)]
    a = sl.optim.multistart(double_well, 5, sampler=box, seed=3, maxiter=2)
    b = sl.optim.multistart(double_well, 5, sampler=box, seed=3, maxiter=2)
    starts = np.array(a.x0s)
    assert starts.shape == (5, 2) and np.array_equal(starts, np.array(b.x0s))
    assert np.all((starts >= [-2, 0]) & (starts <= [2, 1]))
    assert len(np.unique(starts[:, 0])) == 5
    drawn = sl.optim.multistart(double_well, 3, sampler=lambda rng: rng.normal(size=1), seed=3)
    assert np.array_equal(np.array(drawn.x0s), np.random.default_rng(np.random.SeedSequence(3).spawn(4)[3]).normal(size=(3, 1)))


def test_a_dask_executor_matches_serial():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        serial = stochastic(None)
        assert_same_runs(serial, stochastic(client.get_executor()))
        assert_same_runs(serial, stochastic(client))  # the Client itself submits too


@pytest.mark.parametrize(
    "x0s, kwargs, match",
    [
        ([], {}, "x0s is empty"),
        (np.zeros((0, 2)), {}, "x0s is empty"),
        (np.zeros(3), {}, "one start per row"),
        (0, {"sampler": [(0, 1)]}, "at least one start"),
        (4, {}, "give sampler="),
        (2, {"sampler": [(0, np.inf)]}, "must be finite"),
        ([{"w": np.zeros(2)}, {"v": np.zeros(2)}], {}, "different structures"),
        (STARTS, {"sampler": [(0, 1)]}, "only when x0s is their number"),
    ],
)
def test_bad_starts_are_refused_with_the_fix(x0s, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sl.optim.multistart(double_well, x0s, **kwargs)


@pytest.mark.parametrize("executor, match", [("threads", "submit"), (ThreadPoolExecutor, "pass an instance")])
def test_a_non_executor_is_refused(executor, match):
    with pytest.raises(TypeError, match=match):
        sl.optim.multistart(double_well, STARTS, executor=executor)
