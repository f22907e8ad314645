"""slopes.distributed: losses summed over row chunks, in memory and on a 2-worker dask cluster.

References are the in-memory computations on the whole arrays (slopes' own AD on all rows,
checked elsewhere against finite differences and peers) and, for the Hessian, the closed form
of the logistic loss.
"""

import subprocess
import sys

import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import slopes as sl  # noqa: E402
import slopes.numpy as snp  # noqa: E402
from slopes.distributed import ChunkedObjective  # noqa: E402
from slopes.distributed.worker import arrivals, builds, run_chunk  # noqa: E402

ROWS = (6000, 2000, 6000, 6000)  # uneven row chunks, 20,000 rows
N = sum(ROWS)
RNG = np.random.default_rng(7)
X_NP = RNG.normal(size=(N, 5))
W_TRUE = np.array([1.0, -2.0, 0.5, 0.0, 1.5])
Y_NP = (RNG.random(N) < 1.0 / (1.0 + np.exp(-X_NP @ W_TRUE))).astype(np.float64)
W = np.array([0.1, -0.2, 0.3, 0.0, 0.5])


def logistic(w, batch):
    X, y = batch
    z = X @ w
    return snp.mean(snp.logaddexp(0.0, z) - y * z)


def in_memory(w):
    return logistic(w, (X_NP, Y_NP))


@pytest.fixture(scope="module")
def client():
    import dask

    with dask.config.set({"distributed.scheduler.work-stealing": False}):  # placement as requested
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    return da.from_array(X_NP, chunks=(ROWS, 5)), da.from_array(Y_NP, chunks=(ROWS,))


@pytest.fixture(scope="module")
def persisted(client, data):
    X, y = client.persist(list(data))
    distributed.wait([X, y])
    return X, y


def chunk_tasks(stream):
    return [t["key"] for t in stream.data if isinstance(t["key"], str) and t["key"].startswith("slopes-chunk-")]


@pytest.fixture
def no_compute_of_X(monkeypatch):
    """Materialising a whole dask array on the client fails the test."""
    def refuse(self, *a, **k):
        raise AssertionError(f"a dask array of shape {self.shape} was computed whole")

    for name in ("compute", "__array__", "persist"):
        monkeypatch.setattr(da.Array, name, refuse)


@pytest.mark.parametrize("where", ["streamed", "persisted"])
def test_value_gradient_hessian_hvp_equal_the_in_memory_ones(request, client, where):
    X, y = request.getfixturevalue("data" if where == "streamed" else "persisted")
    f = ChunkedObjective(logistic, (X, y))
    assert (f.n_rows, f.n_chunks, f.chunk_rows) == (N, len(ROWS), ROWS)
    value, grad = f.value_and_grad(W)
    assert abs(value - in_memory(W)) <= 1e-12
    np.testing.assert_allclose(grad, sl.grad(in_memory)(W), rtol=0, atol=1e-12)
    assert f.value(W) == value
    p = 1.0 / (1.0 + np.exp(-X_NP @ W))  # closed form: X^T diag(p (1 - p)) X / n
    np.testing.assert_allclose(f.hessian(W), (X_NP * (p * (1 - p))[:, None]).T @ X_NP / N, rtol=0, atol=1e-12)
    v = np.arange(5.0)
    np.testing.assert_allclose(f.hvp(W, v), sl.hvp(in_memory, W, v), rtol=0, atol=1e-12)
    assert f.passes == 4 and len(f.pass_times) == 4
    assert all(t.wall >= 0 and t.compute >= 0 for t in f.pass_times)


def test_without_a_client_dask_local_scheduler_runs_the_chunks(data, monkeypatch, no_compute_of_X):
    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "get_client", no_client)
    f = ChunkedObjective(logistic, data)
    assert f._runner.client() is None
    value, grad = f.value_and_grad(W)
    assert abs(value - in_memory(W)) <= 1e-12
    np.testing.assert_allclose(grad, sl.grad(in_memory)(W), rtol=0, atol=1e-12)


def test_sum_reduction_and_pytree_parameters(data):
    def loss(params, batch):
        X, y = batch
        return snp.sum((X @ params["w"] + params["b"] - y) ** 2)

    params = {"w": W, "b": np.array(0.25)}
    f = ChunkedObjective(loss, data, reduction="sum")
    value, grad = f.value_and_grad(params)
    ref_value, ref_grad = sl.value_and_grad(loss)(params, (X_NP, Y_NP))
    assert abs(value - ref_value) <= 1e-12 * abs(ref_value)
    assert sorted(grad) == ["b", "w"]
    np.testing.assert_allclose(grad["w"], ref_grad["w"], rtol=1e-12)
    np.testing.assert_allclose(grad["b"], ref_grad["b"], rtol=1e-12)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "newton"])
def test_minimize_on_dask_takes_the_in_memory_iterates(persisted, method):
    r = sl.minimize(logistic, np.zeros(5), method=method, data=persisted, record_x=True)
    ref = sl.minimize(in_memory, np.zeros(5), method=method, record_x=True)
    assert r.success and r.nit == ref.nit
    np.testing.assert_allclose(r.history.x, ref.history.x, rtol=0, atol=1e-10)
    assert r.passes == len(r.pass_times) >= r.nit + 1


def test_line_search_gd_and_proximal_gradient_on_dask(data):
    r = sl.minimize(logistic, np.zeros(5), method="gd", data=data, maxiter=6, record_x=True)
    ref = sl.minimize(in_memory, np.zeros(5), method="gd", maxiter=6, record_x=True)
    assert r.nit == ref.nit == 6
    np.testing.assert_allclose(r.history.x, ref.history.x, rtol=0, atol=1e-10)
    l1 = sl.optim.prox.l1(0.01)
    r = sl.minimize(logistic, np.zeros(5), method="proximal_gradient", prox=l1, data=data, maxiter=6)
    ref = sl.minimize(in_memory, np.zeros(5), method="proximal_gradient", prox=l1, maxiter=6)
    assert r.nit == ref.nit
    np.testing.assert_allclose(r.x, ref.x, rtol=0, atol=1e-10)


def test_one_task_per_chunk_per_pass_and_no_compute_of_X(client, data, persisted, no_compute_of_X):
    for X, y in (data, persisted):
        f = ChunkedObjective(logistic, (X, y))
        with distributed.get_task_stream(client) as stream:
            f.value_and_grad(W)
            f.value(W)
        keys = chunk_tasks(stream)
        assert len(keys) == 2 * len(ROWS) and len(set(keys)) == len(keys)
        with distributed.get_task_stream(client) as stream:
            r = sl.minimize(logistic, np.zeros(5), method="lbfgs", data=(X, y), maxiter=5)
        assert len(chunk_tasks(stream)) == r.passes * len(ROWS)


def test_tasks_run_where_their_persisted_chunk_lives(client, persisted):
    X, y = persisted
    # a chunk an earlier computation copied lives on both workers: either is its home then
    holders = {f.key: set(ws) for f, ws in zip(*_who_has(client, X))}
    f = ChunkedObjective(logistic, (X, y))
    f.value(W)  # traced and shipped; then a holder of chunk 0 is kept busy for a while
    busy = client.submit(time.sleep, 1.0, workers=[min(holders[X.__dask_keys__()[0][0]])], pure=False)
    time.sleep(0.1)
    with distributed.get_task_stream(client) as stream:
        f.value_and_grad(W)  # left alone, the scheduler moves chunk 0 to the idle worker
    busy.result()
    ran_on = {int(t["key"].rsplit("-", 1)[1]): t["worker"] for t in stream.data
              if isinstance(t["key"], str) and t["key"].startswith("slopes-chunk-")}
    keys = [k[0] for k in X.__dask_keys__()]
    assert all(ran_on[i] in holders[k] for i, k in enumerate(keys)), (ran_on, holders)
    assert len(ran_on) == len(ROWS)


def _who_has(client, X):
    futures = distributed.futures_of(X)
    who = client.who_has(futures)
    return futures, [who[f.key] for f in futures]


def test_the_functions_are_sent_once_per_objective(client, persisted, monkeypatch):
    scatters = []
    real = client.scatter
    monkeypatch.setattr(client, "scatter", lambda *a, **k: scatters.append(1) or real(*a, **k))
    f = ChunkedObjective(logistic, persisted)
    for _ in range(4):
        f.value_and_grad(W)
    f.hessian(W)
    assert len(scatters) == 1
    (program,) = f._programs.values()
    arrived = [got.get(program.token, 0) for got in client.run(arrivals).values()]
    built = [got.get(program.token, 0) for got in client.run(builds).values()]
    assert sum(arrived) >= 1
    assert max(built) == 1  # built and traced once on each worker that ran it, however often it arrived


def test_every_block_a_task_sees_is_c_contiguous_and_aligned():
    seen = []

    class Recorder:
        def __call__(self, kind, x, extra, blocks):
            seen.extend((b.flags.c_contiguous, b.flags.aligned) for b in blocks)
            return 0.0

    raw = np.zeros(8 * 12 + 1, dtype=np.uint8)
    unaligned = np.frombuffer(raw.data, dtype=np.float64, count=12, offset=1).reshape(4, 3)
    fortran = np.asfortranarray(np.ones((4, 3)))
    assert not unaligned.flags.aligned and not fortran.flags.c_contiguous
    run_chunk(Recorder(), "value", W, None, unaligned, fortran, Y_NP[::2])
    assert seen == [(True, True)] * 3

    def checked(w, batch):  # eager (jit=False): the loss receives the arrays themselves
        assert all(b.flags.aligned and b.flags.c_contiguous for b in batch)
        return logistic(w, batch)

    raw = np.zeros(8 * X_NP.size + 1, dtype=np.uint8)
    X_un = np.frombuffer(raw.data, dtype=np.float64, count=X_NP.size, offset=1).reshape(X_NP.shape)
    X_un[...] = X_NP
    f = ChunkedObjective(checked, (X_un, Y_NP), chunk_size=6000, jit=False)
    assert abs(f.value(W) - in_memory(W)) <= 1e-12


def test_repeated_runs_are_bit_identical(data):
    a = sl.minimize(logistic, np.zeros(5), method="lbfgs", data=data, maxiter=4, record_x=True)
    b = sl.minimize(logistic, np.zeros(5), method="lbfgs", data=data, maxiter=4, record_x=True)
    assert a.nit == b.nit and np.array_equal(a.history.x, b.history.x) and a.fun == b.fun


def test_numpy_chunks_equal_the_full_batch():
    f = ChunkedObjective(logistic, (X_NP, Y_NP), chunk_size=7000)
    assert f.chunk_rows == (7000, 7000, 6000)
    value, grad = f.value_and_grad(W)
    assert abs(value - in_memory(W)) <= 1e-12
    np.testing.assert_allclose(grad, sl.grad(in_memory)(W), rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.hessian(W), sl.hessian(in_memory)(W), rtol=0, atol=1e-12)
    r = sl.minimize(logistic, np.zeros(5), method="lbfgs", data=(X_NP, Y_NP), chunk_size=7000, record_x=True)
    ref = sl.minimize(in_memory, np.zeros(5), method="lbfgs", record_x=True)
    assert r.nit == ref.nit and r.passes == ref.nfev
    np.testing.assert_allclose(r.history.x, ref.history.x, rtol=0, atol=1e-10)
    total = lambda w, batch: snp.sum((batch[0] @ w - batch[1]) ** 2)  # noqa: E731
    r = sl.minimize(total, np.zeros(5), method="newton", data=(X_NP, Y_NP), chunk_size=7000, reduction="sum")
    np.testing.assert_allclose(r.x, np.linalg.lstsq(X_NP, Y_NP, rcond=None)[0], rtol=0, atol=1e-10)
    residual = X_NP @ r.x - Y_NP
    assert r.fun == pytest.approx(residual @ residual, rel=1e-12)  # the sum over rows, not the mean


def test_bad_data_is_refused_naming_the_fix(data):
    X, y = data
    with pytest.raises(TypeError, match="ChunkedObjective"):
        sl.jit(logistic)(W, (X, y))
    with pytest.raises(ValueError, match=r"X.rechunk\(\{1: -1\}\)"):
        ChunkedObjective(logistic, (X.rechunk({1: 2}), y))
    with pytest.raises(ValueError, match=r"y.rechunk\(X.chunks\[0\]\)"):
        ChunkedObjective(logistic, (X, y.rechunk(4000)))
    with pytest.raises(TypeError, match="not a float"):
        ChunkedObjective(logistic, (X.astype(np.int64), y))
    with pytest.raises(ValueError, match="batch_size=None"):
        sl.minimize(logistic, np.zeros(5), method="adam", learning_rate=0.1, data=data, batch_size=100)
    with pytest.raises(ValueError, match="chunk_size"):
        ChunkedObjective(logistic, data, chunk_size=100)
    with pytest.raises(ValueError, match="reduction"):
        ChunkedObjective(logistic, data, reduction="median")


def test_objective_pickles_small_and_evaluates_the_same_after(client):
    cloudpickle = pytest.importorskip("cloudpickle")
    X = da.random.default_rng(3).normal(size=(20_000, 5), chunks=(5000, 5))
    y = (X[:, 0] > 0).astype(np.float64)
    f = ChunkedObjective(logistic, (X, y))
    value = f.value(W)
    blob = cloudpickle.dumps(f)
    assert len(blob) < 20_000
    assert cloudpickle.loads(blob).value(W) == value


def test_import_slopes_does_not_import_dask():
    code = "import sys, slopes, slopes.distributed; print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
