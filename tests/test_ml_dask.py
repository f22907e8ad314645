"""Estimators and ``sl.ml.fit`` on dask arrays: never all of X in memory, results as in memory.

Chunk computes are counted by a ``map_blocks`` identity that tallies each block it sees;
whole-array computes of X are caught by wrapping ``dask.array.Array.compute`` and
``__array__``. Data: up to 20,000 x 5 in uneven row chunks, the local threaded scheduler
(and an in-process ``distributed`` client where the client path is the point).
"""

import subprocess
import sys
import threading
from collections import Counter

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import slopes as sl  # noqa: E402
import slopes.numpy as snp  # noqa: E402
import slopes.optim as so  # noqa: E402
from slopes.ml import LinearRegression, LogisticRegression, SoftmaxRegression  # noqa: E402
from slopes.ml.streaming import ChunkStream  # noqa: E402

CHUNKS = (4200, 3600, 2700, 1500)  # uneven row chunks of 12,000 rows
W_TRUE = np.array([1.0, -2.0, 0.5, 0.0, 1.5])


_TALLIES: dict = {}  # BlockCounter's counts: a pickled counter (sent to a worker) counts here too
_TALLY_LOCK = threading.Lock()


class BlockCounter:
    """A ``map_blocks`` identity counting the computes of each block (thread-safe, picklable)."""

    def __init__(self):
        self.key = len(_TALLIES)
        _TALLIES[self.key] = Counter()

    @property
    def counts(self):
        return _TALLIES[self.key]

    def __call__(self, block, block_info=None):
        if block_info is not None:  # None: dask probing the function's output type
            with _TALLY_LOCK:
                _TALLIES[self.key][block_info[0]["chunk-location"][0]] += 1
        return block

    def total(self):
        return sum(self.counts.values())


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(17)
    X = rng.normal(size=(sum(CHUNKS), 5)) * [1.0, 2.0, 0.5, 1.0, 3.0] + [0.5, -1.0, 2.0, 0.0, 1.0]
    z = X @ W_TRUE - 1.0
    y_bin = (z + rng.logistic(size=len(z)) > 0).astype(np.int64)
    y_multi = np.digitize(z + rng.normal(size=len(z)), [-2.0, 1.0])
    y_reg = z + 0.3 * rng.normal(size=len(z))
    return X, y_bin, y_multi, y_reg


@pytest.fixture
def gathered(monkeypatch):
    """The shapes of X-like arrays (rows of 5 features) computed or converted to NumPy as a whole."""
    seen = []
    compute, to_numpy = da.Array.compute, da.Array.__array__

    def guarded_compute(self, **kw):
        if self.ndim == 2 and self.shape[1] == 5:
            seen.append(self.shape)
        return compute(self, **kw)

    def guarded_array(self, *args, **kw):
        if self.ndim == 2 and self.shape[1] == 5:
            seen.append(self.shape)
        return to_numpy(self, *args, **kw)

    monkeypatch.setattr(da.Array, "compute", guarded_compute)
    monkeypatch.setattr(da.Array, "__array__", guarded_array)
    return seen


@pytest.fixture
def counted_X(data, gathered):
    """X as a dask array whose block computes are counted, and the list of whole-X computes."""
    X = data[0]
    counter = BlockCounter()
    return da.from_array(X, chunks=(CHUNKS, 5)).map_blocks(counter, dtype=X.dtype), counter, gathered


def labels(y):
    return da.from_array(y, chunks=3000)  # other chunks than X's: aligned by the estimator


def assert_passes(counter, n_chunks=len(CHUNKS)):
    """Every chunk computed the same number of times: whole passes over the data, one task per chunk."""
    assert set(counter.counts) == set(range(n_chunks))
    assert len(set(counter.counts.values())) == 1
    return next(iter(counter.counts.values()))


# ---------------------------------------------------------------- import laziness


def test_import_slopes_and_ml_does_not_import_dask():
    code = (
        "import sys, slopes, slopes.ml, slopes.ml.lazy, slopes.ml.streaming\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'dask_ml')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- estimators: fit


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_logistic_fit_on_dask_equals_in_memory_without_computing_X(data, counted_X, solver):
    X, y = data[0], data[1]
    Xd, counter, whole = counted_X
    mem = LogisticRegression(solver=solver, C=0.5).fit(X, y)
    lazy = LogisticRegression(solver=solver, C=0.5).fit(Xd, labels(y))
    assert whole == []
    passes = assert_passes(counter)
    assert passes >= mem.n_iter_  # one pass per evaluation (and per Hessian for newton)
    np.testing.assert_allclose(lazy.coef_, mem.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(lazy.intercept_, mem.intercept_, rtol=0, atol=1e-8)
    assert lazy.n_iter_ == mem.n_iter_ and lazy.classes_.tolist() == [0, 1]


def test_logistic_on_dask_matches_scikit_learn(data):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = data[0], data[1]
    ours = LogisticRegression(C=0.5).fit(da.from_array(X, chunks=(CHUNKS, 5)), labels(y))
    ref = linear_model.LogisticRegression(C=0.5, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-6)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_softmax_fit_on_dask_equals_in_memory(data, counted_X, solver):
    X, y = data[0], data[2]
    Xd, counter, whole = counted_X
    mem = SoftmaxRegression(solver=solver, tol=1e-9).fit(X, y)
    lazy = SoftmaxRegression(solver=solver, tol=1e-9).fit(Xd, labels(y))
    assert whole == [] and assert_passes(counter) >= 1
    assert lazy.coef_.shape == (3, 5) and lazy.n_iter_ == mem.n_iter_
    np.testing.assert_allclose(lazy.coef_, mem.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(lazy.intercept_, mem.intercept_, rtol=0, atol=1e-8)


@pytest.mark.parametrize(
    "params", [{}, {"alpha": 3.0}, {"fit_intercept": False}, {"alpha": 1.0, "solver": "lbfgs", "tol": 1e-10}]
)
def test_linear_regression_on_dask_one_pass_equals_closed_form(data, counted_X, params):
    X, y = data[0], data[3]
    Xd, counter, whole = counted_X
    model = LinearRegression(**params).fit(Xd, labels(y))
    assert whole == [] and assert_passes(counter) == 1  # one pass, whatever the solver
    # reference: the ridge normal equations, intercept unpenalized, solved directly
    alpha, intercept = params.get("alpha", 0.0), params.get("fit_intercept", True)
    A = np.column_stack([X, np.ones(len(X))]) if intercept else X
    penalty = alpha * np.diag([1.0] * 5 + ([0.0] if intercept else []))
    beta = np.linalg.solve(A.T @ A + penalty, A.T @ y)
    np.testing.assert_allclose(model.coef_, beta[:5], rtol=0, atol=1e-8)
    assert model.intercept_ == pytest.approx(beta[5] if intercept else 0.0, abs=1e-8)


def test_column_chunked_X_is_refused_with_the_fix(data):
    Xd = da.from_array(data[0], chunks=(5000, 2))
    with pytest.raises(ValueError, match=r"X.rechunk\(\{1: -1\}\)"):
        LogisticRegression().fit(Xd, data[1])


def test_chunks_of_unknown_size_are_refused_with_the_fix(data):
    Xd = da.from_array(data[0], chunks=(CHUNKS, 5))
    kept = Xd[:, 0] > 0  # boolean selection: dask no longer knows the rows per chunk
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        LinearRegression().fit(Xd[kept], da.from_array(data[3], chunks=(CHUNKS,))[kept])


def test_minibatch_solver_on_dask_names_the_alternatives(data):
    Xd = da.from_array(data[0], chunks=(CHUNKS, 5))
    with pytest.raises(ValueError, match="Incremental"):
        LogisticRegression(solver="sgd").fit(Xd, labels(data[1]))


# ---------------------------------------------------------------- estimators: lazy outputs


def test_predictions_are_lazy_dask_arrays_equal_to_numpy(data, counted_X):
    X, y = data[0], data[2]
    Xd, counter, _ = counted_X
    clf = LogisticRegression().fit(X, y)
    outputs = {name: getattr(clf, name)(Xd) for name in ("predict", "predict_proba", "decision_function")}
    assert counter.total() == 0  # nothing computed yet
    for name, lazy in outputs.items():
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == CHUNKS
        np.testing.assert_array_equal(lazy.compute(), getattr(clf, name)(X))
    reg = LinearRegression().fit(X, data[3])
    assert isinstance(reg.predict(Xd), da.Array)
    np.testing.assert_allclose(reg.predict(Xd).compute(), reg.predict(X), rtol=0, atol=1e-12)


def test_score_on_dask_is_the_computed_scalar(data):
    metrics = pytest.importorskip("sklearn.metrics")
    X, y_multi, y_reg = data[0], data[2], data[3]
    Xd = da.from_array(X, chunks=(CHUNKS, 5))
    clf = SoftmaxRegression().fit(X, y_multi)
    score = clf.score(Xd, labels(y_multi))
    assert type(score) is float
    assert score == pytest.approx(metrics.accuracy_score(y_multi, clf.predict(X)), abs=1e-12)
    reg = LinearRegression().fit(X, y_reg)
    weights = np.linspace(0.5, 2.0, len(y_reg))
    r2 = reg.score(Xd, labels(y_reg), sample_weight=weights)
    assert r2 == pytest.approx(metrics.r2_score(y_reg, reg.predict(X), sample_weight=weights), abs=1e-12)


# ---------------------------------------------------------------- fit: streaming


def _regression_loss(w, batch):
    X, y = batch
    return snp.mean((X @ w - y) ** 2)


def test_fit_streams_each_chunk_once_per_epoch(data, counted_X):
    X, y = data[0], data[3]
    Xd, counter, whole = counted_X
    epochs, batch = 2, 300
    res = sl.ml.fit(_regression_loss, np.zeros(5), (Xd, labels(y)), optimizer=so.adam(0.05),
                    epochs=epochs, batch_size=batch, seed=3)  # fmt: skip
    assert whole == []
    assert res.step == epochs * sum(-(-c // batch) for c in CHUNKS)  # 40 batches per epoch
    assert assert_passes(counter) == epochs  # 8 chunk computes for 80 steps (in memory: 80 of all X)
    again = sl.ml.fit(_regression_loss, np.zeros(5), (Xd, labels(y)), optimizer=so.adam(0.05),
                      epochs=epochs, batch_size=batch, seed=3)  # fmt: skip
    np.testing.assert_array_equal(again.params, res.params)  # seeded: the same run


def test_fit_on_dask_validation_loss_and_checkpoint_resume(data, gathered, tmp_path):
    X, y = data[0][:6000], data[3][:6000]
    Xd, yd = da.from_array(X[:4000], chunks=((1500, 1500, 1000), 5)), da.from_array(y[:4000], chunks=1500)
    Xv, yv = X[4000:], y[4000:]
    val = (da.from_array(Xv, chunks=((700, 800, 500), 5)), da.from_array(yv, chunks=700))
    common = dict(optimizer=so.adam(0.05), batch_size=300, seed=1, val_data=val, checkpoint_dir=tmp_path)
    sl.ml.fit(_regression_loss, np.zeros(5), (Xd, yd), epochs=2, **common)
    resumed = sl.ml.fit(_regression_loss, np.zeros(5), (Xd, yd), epochs=3, resume=True, **common)
    straight = sl.ml.fit(_regression_loss, np.zeros(5), (Xd, yd), epochs=3, **{**common, "checkpoint_dir": None})
    np.testing.assert_array_equal(resumed.params, straight.params)  # the chunk order and shuffles restored
    assert gathered == []  # fingerprinting the data computed nothing
    w = straight.params
    assert straight.history.epoch["val_loss"][-1] == pytest.approx(np.mean((Xv @ w - yv) ** 2), rel=1e-12)


def test_stream_shuffles_within_chunks_and_visits_every_row_once():
    rows = np.arange(20.0)
    stream = ChunkStream(da.from_array(rows, chunks=(8, 7, 5)), batch_size=3, seed=0)
    bounds = np.array([0, 8, 15, 20])
    orders = []
    for _ in range(3):
        batches = list(stream.epoch())
        seen = np.concatenate(batches)
        assert sorted(seen) == rows.tolist()  # every row once per epoch
        for b in batches:  # chunk-local: a batch never spans two chunks
            assert len(set(np.searchsorted(bounds, b, side="right"))) == 1
        orders.append(seen.tolist())
    stream.close()
    assert orders[0] != orders[1] != orders[2] and stream.computes == 9
    assert [list(b) for b in ChunkStream(da.from_array(rows, chunks=8), 3, seed=0).epoch()] == [
        list(b) for b in ChunkStream(da.from_array(rows, chunks=8), 3, seed=0).epoch()
    ]


def test_stream_prefetches_the_next_chunk():
    stream = ChunkStream(da.from_array(np.arange(12.0), chunks=4), batch_size=4, shuffle=False)
    epoch = stream.epoch()
    epoch[0]  # chunk 0 computed; chunk 1 on its way in the background
    assert epoch._next is not None and epoch._next[0] == 1
    epoch._next[1].result()
    assert stream.computes == 2  # the prefetched chunk is used, not computed again
    epoch[1]
    assert epoch._next[0] == 2  # ... and chunk 2 is the one now prefetched
    epoch._next[1].result()
    assert stream.computes == 3
    stream.close()


def test_fit_on_dask_refuses_a_full_batch_with_the_fix(data):
    Xd = da.from_array(data[0], chunks=(CHUNKS, 5))
    with pytest.raises(ValueError, match="batch_size"):
        sl.ml.fit(_regression_loss, np.zeros(5), (Xd, labels(data[3])), batch_size=None)


def test_fit_and_estimators_with_a_distributed_client(data):
    distributed = pytest.importorskip("distributed")
    X, y_bin, y_reg = data[0][:4000], data[1][:4000], data[3][:4000]
    counter = BlockCounter()
    Xd = da.from_array(X, chunks=((1500, 1500, 1000), 5)).map_blocks(counter, dtype=X.dtype)
    yd = da.from_array(y_reg, chunks=((1500, 1500, 1000),))
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"):
        res = sl.ml.fit(_regression_loss, np.zeros(5), (Xd, yd), optimizer=so.adam(0.05), epochs=2,
                        batch_size=400)  # fmt: skip
        assert res.step == 2 * (4 + 4 + 3) and assert_passes(counter, 3) == 2
        clf = LogisticRegression().fit(Xd, da.from_array(y_bin, chunks=1000))
    np.testing.assert_allclose(clf.coef_, LogisticRegression().fit(X, y_bin).coef_, rtol=0, atol=1e-8)


# ---------------------------------------------------------------- dask-ml and scikit-learn tools


def test_incremental_calls_partial_fit_per_block(data):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = data[0][:6000], data[1][:6000]
    chunks = ((2500, 2000, 1500),)
    Xd, yd = da.from_array(X, chunks=(chunks[0], 5)), da.from_array(y, chunks=chunks)
    inc = wrappers.Incremental(LogisticRegression(solver="sgd", batch_size=100, random_state=0))
    inc.fit(Xd, yd, classes=[0, 1])
    assert inc.estimator_.n_iter_ == 3  # one partial_fit (one epoch) per block
    assert isinstance(inc.predict(Xd), da.Array) and inc.score(Xd, yd) > 0.8


def test_partial_fit_classes_contract_as_scikit_learn():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    for est in (LogisticRegression(solver="sgd"), linear_model.SGDClassifier()):
        with pytest.raises(ValueError, match="classes"):
            est.partial_fit(X, y)  # the first call needs every label
        est.partial_fit(X, y, classes=[0, 1, 2])
        est.partial_fit(X, y)  # later calls may omit them
        with pytest.raises(ValueError):
            est.partial_fit(X, y, classes=[0, 1])  # ... or must repeat the same ones
        assert est.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("source", ["sklearn.model_selection", "dask_ml.model_selection"])
def test_grid_search_on_dask_input(data, gathered, source):
    model_selection = pytest.importorskip(source)
    X, y = data[0][:3000], data[3][:3000]
    Xd, yd = da.from_array(X, chunks=((1200, 1000, 800), 5)), da.from_array(y, chunks=1000)
    search = model_selection.GridSearchCV(LinearRegression(), {"alpha": [0.0, 1e4]}, cv=3).fit(Xd, yd)
    assert search.best_params_ == {"alpha": 0.0} and search.best_score_ > 0.95
    assert gathered == []  # no fold of X gathered on the client
