"""The work ``sl.ml.fit`` adds around its replayed training step, counted: function entries per
step, copies of the data per epoch, memory read at an epoch's end, traces per run.

Counts, not times (``benchmarks/speed.py``'s ``mlp`` row has the times).
"""

import gc
import tracemalloc

import numpy as np

import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import fit
from slopes.optim.stochastic import MiniBatches

from calls import calls_during

RNG = np.random.default_rng(3)
X = RNG.normal(size=(70, 3))
Y = X @ np.array([1.0, -2.0, 0.5])


def params(leaves):
    return {f"w{i}": np.zeros(3) for i in range(leaves)}


def loss(p, b):
    return snp.mean((b[0] @ sum(p.values()) - b[1]) ** 2)


def python_entries_per_step(leaves):
    """Python function entries per step of an Adam run, past the tracing and the epochs' ends.

    Runs of 5 epochs less runs of 1 (each pair traces the same one program) at 10 and at 5
    steps an epoch (batches of 7 and 14 of the 70 rows): the same epochs' ends, 20 more steps.
    """
    def extra(batch_size):
        def run(epochs):
            return fit(loss, params(leaves), (X, Y), optimizer=so.adam(0.01), epochs=epochs,
                       batch_size=batch_size, shuffle=False, progress=False)

        run(1)  # imports and first-use work out of the count
        gc.disable()  # finalizers of other tests' garbage would count as calls
        try:
            (short, _), (long, res) = (calls_during(run, e, events=("call",)) for e in (1, 5))
        finally:
            gc.enable()
        assert res.step == 5 * 70 // batch_size
        return long - short

    return (extra(7) - extra(14)) / 20


def test_a_replayed_step_costs_a_fixed_number_of_python_calls_whatever_the_parameter_tree():
    # Before: the step's call keyed, and its result rebuilt, the parameter and optimizer-state
    # trees at every step: 43 and 61 entries a step with 2 and 8 parameter arrays. Now the
    # step takes their leaves as arguments and keeps those of its last result: 28 for both.
    two, eight = python_entries_per_step(2), python_entries_per_step(8)
    assert abs(two - eight) <= 1
    assert two <= 30


def test_the_short_last_batch_is_traced_once_per_run_not_per_epoch():
    traced = []

    def counting_loss(p, b):  # Python runs the loss only while a program is traced
        traced.append(len(b[1]))
        return loss(p, b)

    res = fit(counting_loss, params(1), (X, Y), optimizer=so.adam(0.01), epochs=6, batch_size=16,
              progress=False)
    assert res.step == 6 * 5
    assert sorted(traced) == [6, 16]  # 70 rows: four batches of 16, then 6


def test_in_order_batches_are_views_made_once():
    y_list = Y.tolist()  # a leaf that is not an array: converted once, not once per batch
    mb = MiniBatches((X, y_list), 16, shuffle=False)
    first, second = mb.epoch(), mb.epoch()
    assert all(np.shares_memory(xb, X) for xb, _ in first)
    ys = [yb for _, yb in first]
    assert all(yb.base is ys[0].base and yb.base is not None for yb in ys)
    assert [id(a) for b in first for a in b] == [id(a) for b in second for a in b]
    np.testing.assert_array_equal(np.concatenate(ys), Y)


def test_a_shuffled_epoch_gathers_the_rows_once():
    mb = MiniBatches((X, Y), 16, shuffle=True, seed=5)
    for _ in range(2):
        batches = mb.epoch()
        for k in (0, 1):
            bases = {id(b[k].base) for b in batches}
            assert len(bases) == 1 and batches[0][k].base is not None  # views of one gathered copy
            assert batches[0][k].base.nbytes == (X, Y)[k].nbytes
        rows = np.concatenate([b[0] for b in batches])  # a permutation of the rows, y with its x
        np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), rows @ [1.0, -2.0, 0.5])
        assert sorted(map(tuple, rows)) == sorted(map(tuple, X))
    # the same sequence of batches as a fresh generator with the same seed draws
    order = np.random.default_rng(5).permutation(len(X))
    np.testing.assert_array_equal(MiniBatches((X, Y), 16, seed=5).epoch()[0][0], X[order[:16]])


def test_memory_at_an_epoch_end_does_not_grow_with_the_run():
    # one step per epoch; before, each epoch's end turned the whole step history into arrays,
    # so the end of epoch 1501 allocated 23 kB more than that of epoch 21
    peaks = {}

    def probe(info):
        if info.event == "epoch":
            if info.epoch in (20, 1500):
                tracemalloc.reset_peak()
            if info.epoch in (21, 1501):
                current, peak = tracemalloc.get_traced_memory()
                peaks[info.epoch] = peak - current

    tracemalloc.start()
    try:
        fit(loss, params(1), (X, Y), optimizer=so.sgd(0.01), epochs=1502, progress=False,
            callbacks=probe)
    finally:
        tracemalloc.stop()
    assert peaks[1501] - peaks[21] < 4000  # bytes


def test_a_callback_that_puts_new_arrays_into_params_is_followed_by_the_replayed_step():
    # the replayed step keeps the leaves of its last result; a callback's new array must win
    def reset(info):
        if info.event == "step" and info.step == 7:
            info.params["w0"] = np.full(3, 5.0)

    runs = [fit(loss, params(2), (X, Y), optimizer=so.adam(0.01), epochs=3, batch_size=16, shuffle=False,
                progress=False, callbacks=reset, jit=jit) for jit in (True, False)]
    np.testing.assert_allclose(runs[0].params["w0"], runs[1].params["w0"], rtol=1e-12)
    assert np.all(runs[0].params["w0"] > 4.5)  # 8 Adam steps of about 0.01 from 5
