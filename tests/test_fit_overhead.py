"""The work ``sl.ml.fit`` adds around its replayed training step, counted: function entries per
step, copies of the data per epoch, memory read at an epoch's end, traces per run.

Counts, not times (``benchmarks/speed.py``'s ``mlp`` row has the times).
"""

import gc
import warnings
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
    # trees at every step: 43 and 61 entries a step with 2 and 8 parameter arrays. Then the
    # step took their leaves as arguments and kept those of its last result: 28 for both.
    # Now the learning rate is read at known positions of the state's leaves (not by a search
    # of the state tree), the divergence tests pass in one chain of comparisons, and the
    # floating-point error state is set once around the loop, not per step: 16 (11 once the
    # jitted call's compiled entry served it). Now a step fed its own results is replayed
    # directly, the batch alone choosing the program: 7.
    two, eight = python_entries_per_step(2), python_entries_per_step(8)
    assert abs(two - eight) <= 1
    assert two <= 7


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


def test_a_run_without_a_progress_bar_builds_none(monkeypatch):
    # Before: every call made a disabled tqdm bar, after trying to import ipywidgets (a failed
    # import searches the path each time): about 0.2 ms a call for nothing shown
    import slopes.ml.training as training

    def no_bar():
        raise AssertionError("a progress bar was looked for")

    monkeypatch.setattr(training, "_progress_bar", no_bar)
    res = fit(loss, params(1), (X, Y), optimizer=so.sgd(0.01), epochs=2, batch_size=35, progress=False)
    assert res.step == 4


def _eager_run(p, opt, batches):
    """The reference: each step by parts, eagerly (value and gradient, update, new parameters)."""
    import slopes as sl

    state, rows = opt.init(p), []
    for b in batches:
        lr = so.learning_rate(state)
        value, grads = sl.value_and_grad(mlp_loss)(p, b)
        updates, state = opt.update(grads, state, p, loss=value)
        p = so.apply_updates(p, updates)
        rows.append((float(value), lr, float(so.global_norm(grads))))
    return p, np.array(rows)


def _assert_rows_match(rows, ref):
    """Rows of (loss, lr, grad_norm): the loss and the rate bit for bit; the gradient's norm to
    the rounding of its sum, which the replay takes over the flat gradient buffer, not leaf by leaf."""
    rows = np.asarray(rows)
    np.testing.assert_array_equal(rows[:, :2], ref[:, :2])
    np.testing.assert_allclose(rows[:, 2], ref[:, 2], rtol=4 * np.finfo(float).eps, atol=0)


def mlp_loss(p, b):
    h = snp.maximum(b[0] @ p["W1"] + p["b1"], 0.0)
    z = h @ p["W2"] + p["b2"]
    return -snp.mean(snp.sum(b[1] * (z - snp.log(snp.sum(snp.exp(z), axis=1, keepdims=True))), axis=1))


def mlp_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(70, 6))
    Y = np.eye(3)[rng.integers(0, 3, 70)]
    p = {"W1": rng.normal(size=(6, 8)) / 2, "b1": np.zeros(8), "W2": rng.normal(size=(8, 3)) / 2, "b2": np.zeros(3)}
    return p, X, Y


def test_fit_takes_bit_for_bit_the_steps_of_the_eager_step_and_records_them():
    p, Xm, Ym = mlp_problem()
    # a schedule and a plateau rule: the rate recorded is the state's lr times its lr_scale
    opt = so.chain(so.clip_by_global_norm(1.0), so.adam(so.cosine_decay(0.05, 15)),
                   so.reduce_on_plateau(factor=0.5, patience=0))
    res = fit(mlp_loss, p, (Xm, Ym), optimizer=opt, epochs=3, batch_size=16, shuffle=False, progress=False)
    batches = [(Xm[i:i + 16], Ym[i:i + 16]) for i in range(0, 70, 16)] * 3
    ref, rows = _eager_run(p, opt, batches)
    for k in p:
        np.testing.assert_array_equal(res.params[k], ref[k])
    h = res.history.step
    _assert_rows_match(np.stack([h["loss"], h["lr"], h["grad_norm"]], axis=1), rows)
    assert len(set(rows[:, 1])) == 15  # the rate moved every step and was read each time
    assert np.any(h["lr"] < 0.5 * np.array([so.cosine_decay(0.05, 15)(t) for t in range(15)]))  # scaled


def test_a_nan_in_a_parameter_the_loss_does_not_read_stays_hidden_so_each_update_is_checked():
    # Why fit tests the new parameters after every step rather than waiting for the next loss
    # to turn non-finite: a parameter the batch does not select (here through snp.where, which
    # never leaks the branch not taken) can be nan while the loss and gradient stay finite
    import slopes as sl

    onehot = np.eye(5)[np.arange(40) % 4]  # rows select entries 0..3 of E, never entry 4
    y = onehot @ np.array([1.0, -1.0, 2.0, 0.5, 0.0])

    def select_loss(p, b):
        return snp.mean((snp.sum(snp.where(b[0] > 0, p["E"], 0.0), axis=1) - b[1]) ** 2)

    hidden = {"E": np.array([0.0, 0.0, 0.0, 0.0, np.nan])}
    for vg in (sl.value_and_grad(select_loss), sl.jit(sl.value_and_grad(select_loss))):
        value, grads = vg(hidden, (onehot, y))
        assert np.isfinite(value) and np.all(np.isfinite(grads["E"]))

    def poison(grads, count, params=None, **extra):  # sgd, with a nan into E[4] at the third step
        count = count + 1
        nan_at_4 = snp.where(snp.arange(5) == 4, snp.where(count == 3, np.nan, 0.0), 0.0)
        return {"E": -0.1 * grads["E"] + nan_at_4}, count

    opt = so.GradientTransformation(lambda params: np.zeros((), np.int64), poison)
    for jit in (True, False):
        res = fit(select_loss, {"E": np.zeros(5)}, (onehot, y), optimizer=opt, epochs=3, batch_size=10,
                  shuffle=False, progress=False, jit=jit)
        assert res.diverged and res.step == 2 and "step 3" in res.message and "non-finite update" in res.message
        assert np.all(np.isfinite(res.params["E"])) and np.all(np.isfinite(res.best_params["E"]))


def test_callbacks_run_under_the_callers_floating_point_settings_and_the_step_warns_nothing():
    seen = []

    def overflow(info):  # the caller's own arithmetic overflows
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            np.float64(1e308) * np.float64(10.0)
        seen.append(len(w))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fit itself warns nothing, even as its run overflows
        res = fit(lambda w, y: snp.mean((w[0] * y) ** 2) * 1e150, np.ones(1), np.full(4, 2.0),
                  optimizer=so.sgd(1.0), epochs=1, callbacks=overflow)
    assert res.diverged and seen == []  # the overflowing step is refused before any callback
    res = fit(loss, params(1), (X, Y), optimizer=so.sgd(0.01), epochs=1, batch_size=35, callbacks=overflow)
    assert res.step == 2 and seen == [1, 1, 1]  # two steps and the epoch's end warned as NumPy does


def test_the_step_program_leaves_the_norms_square_roots_to_python_floats():
    # Before: two 0-d np.sqrt calls a step (the gradient's and the new parameters' norms) in
    # the replay; global_norm itself takes the root of a Python float with math.sqrt
    from slopes.ml.train_step import StagedStep

    opt = so.sgd(0.1)
    step = StagedStep(loss, opt)
    p = params(2)
    _, gnorm, pnorm, _, new, _ = step(p, opt.init(p), (X[:7], Y[:7]))
    (entry,) = step.program._programs.values()
    assert entry.program.compile().source.count("sqrt") == 0
    import slopes as sl

    grads = sl.grad(loss)(p, (X[:7], Y[:7]))
    np.testing.assert_allclose(gnorm, np.sqrt(sum(np.sum(g * g) for g in grads.values())), rtol=1e-15)
    np.testing.assert_allclose(pnorm, np.sqrt(sum(np.sum(v * v) for v in new.values())), rtol=1e-15)


def test_the_jitted_call_is_entered_once_per_batch_shape_not_per_step():
    # Before: every step went through sl.jit's call (its argument checks, or for the first 128
    # calls its cache key), 30 calls here; the step now replays its own results directly
    from slopes.transforms.jit import Jitted

    def run():
        return fit(loss, params(2), (X, Y), optimizer=so.adam(0.01), epochs=6, batch_size=16, shuffle=False,
                   progress=False)

    entered, res = calls_during(run, events=("call",), code=Jitted.__call__.__code__)
    assert res.step == 6 * 5 and entered == 2  # the batches of 16 rows and the last one of 6


def _steps(step, opt, p, batches, forget):
    """Run ``step`` over ``batches`` carrying its results; ``forget`` makes every call take sl.jit's
    checked call (the trees are flattened and the arguments checked again)."""
    state, rows = opt.init(p), []
    for b in batches:
        if forget:
            step.forget()
        value, gnorm, pnorm, lr, p, state = step(p, state, b)
        rows.append((value, gnorm, pnorm, lr))
    return p, state, rows


def test_the_direct_replay_is_bit_for_bit_the_jitted_call():
    from slopes.ml.train_step import StagedStep

    p, Xm, Ym = mlp_problem(1)
    batches = [(Xm[i:i + 16], Ym[i:i + 16]) for i in range(0, 70, 16)] * 3  # 16 rows, and 6 last
    opt = so.chain(so.clip_by_global_norm(1.0), so.adam(so.cosine_decay(0.05, 15)))
    runs = [_steps(StagedStep(mlp_loss, opt), opt, p, batches, forget) for forget in (False, True)]
    for k in p:
        np.testing.assert_array_equal(runs[0][0][k], runs[1][0][k])
    assert runs[0][2] == runs[1][2]  # the floats: loss, norms and rate of every step
    from slopes.core.pytree import leaves

    for a, b in zip(leaves(runs[0][1]), leaves(runs[1][1]), strict=True):  # the optimizer's state
        np.testing.assert_array_equal(a, b)
    ref, rows = _eager_run(p, opt, batches)  # and both are the eager step's bits
    for k in p:
        np.testing.assert_array_equal(runs[0][0][k], ref[k])
    _assert_rows_match(np.array(runs[0][2])[:, [0, 3, 1]], rows)


def test_leaves_of_another_dtype_are_not_given_to_the_program_of_the_first():
    from slopes.ml.train_step import StagedStep

    p, Xm, Ym = mlp_problem(2)
    batches = [(Xm[i:i + 16], Ym[i:i + 16]) for i in range(0, 64, 16)]
    opt = so.adam(0.01)
    step = StagedStep(mlp_loss, opt)
    p64, s64, _ = _steps(step, opt, p, batches, forget=False)
    # the caller puts a float32 leaf into the parameters: another signature, another program
    p32 = dict(p64, W1=p64["W1"].astype(np.float32))
    step.forget()
    got = [step(p32, s64, batches[0])]
    for b in batches[1:]:
        *_, q, s = got[-1]
        got.append(step(q, s, b))
    fresh = StagedStep(mlp_loss, opt)
    want = [fresh(p32, s64, batches[0])]
    for b in batches[1:]:
        fresh.forget()
        *_, q, s = want[-1]
        want.append(fresh(q, s, b))
    for g, w in zip(got, want):
        assert g[:4] == w[:4]
        for k in p:
            assert g[4][k].dtype == w[4][k].dtype
            np.testing.assert_array_equal(g[4][k], w[4][k])


def test_an_optimizer_whose_state_changes_dtype_is_replayed_through_the_checked_call():
    # the state comes back as float64 from a float32 start: the first program does not take its
    # own results, so the step never hands them to it
    from slopes.ml.train_step import StagedStep

    def init(params):
        return {"m": np.zeros(3, np.float32)}

    def update(grads, state, params=None, **extra):
        m = state["m"]
        if m.dtype == np.float32:  # the first step only (a dtype is static under tracing)
            m = m.astype(np.float64) + 1.0
        m = 0.5 * m + grads["w0"]
        return {"w0": -0.1 * m}, {"m": m}

    opt = so.GradientTransformation(init, update)
    batches = [(X[i:i + 10], Y[i:i + 10]) for i in range(0, 70, 10)]
    direct, checked = (_steps(StagedStep(loss, opt), opt, params(1), batches, forget)
                       for forget in (False, True))
    assert direct[2] == checked[2]  # the float64 program from the second step on, not the first one
    np.testing.assert_array_equal(direct[0]["w0"], checked[0]["w0"])
    assert direct[1]["m"].dtype == np.float64


def test_tuple_and_list_batches_of_arrays_are_replayed_directly():
    from slopes.ml.train_step import StagedStep

    opt = so.sgd(0.05)
    tuples = [(X[i:i + 14], Y[i:i + 14]) for i in range(0, 70, 14)]
    for batches in (tuples, [list(b) for b in tuples]):
        step = StagedStep(loss, opt)
        runs = [_steps(s, opt, params(2), batches, forget) for s, forget in ((step, False), (StagedStep(loss, opt), True))]
        assert runs[0][2] == runs[1][2]
        ((kind, *shapes), replay), = step._replays.items()
        assert kind is type(batches[0]) and replay is not None and shapes == [(14, 3), X.dtype, (14,), Y.dtype]


def test_a_batch_that_is_a_dict_takes_the_checked_call():
    from slopes.ml.train_step import StagedStep

    def dict_loss(p, b):
        return loss(p, (b["x"], b["y"]))

    opt = so.sgd(0.05)
    batches = [{"x": X[i:i + 14], "y": Y[i:i + 14]} for i in range(0, 70, 14)]
    step = StagedStep(dict_loss, opt)
    runs = [_steps(s, opt, params(2), batches, forget) for s, forget in ((step, False), (StagedStep(dict_loss, opt), True))]
    assert runs[0][2] == runs[1][2]
    assert step._replays == {}  # no replay of its own: sl.jit's call keys such batches


def test_the_direct_replays_kept_are_no_more_than_the_programs_sl_jit_keeps():
    # Before: one replay kept per batch shape, without bound (a stream has many last-batch sizes)
    from slopes.ml.train_step import StagedStep

    opt = so.sgd(0.05)
    batches = [(X[:n], Y[:n]) for n in range(3, 9)] * 2
    step = StagedStep(loss, opt)
    step(params(1), opt.init(params(1)), batches[0])  # makes the program, then caps its cache
    step.program.cache_size = 3
    direct = _steps(step, opt, params(1), batches, forget=False)
    checked = _steps(StagedStep(loss, opt), opt, params(1), batches, forget=True)
    assert direct[2] == checked[2]
    assert len(step._replays) == 3 and len(step.program._programs) <= 3


def test_a_lone_array_batch_is_replayed_directly():
    from slopes.ml.train_step import StagedStep

    Z = np.hstack([X, Y[:, None]])

    def array_loss(p, b):
        return loss(p, (b[:, :3], b[:, 3]))

    opt = so.adam(0.01)
    batches = [Z[i:i + 14] for i in range(0, 70, 14)]
    step = StagedStep(array_loss, opt)
    direct = _steps(step, opt, params(1), batches, forget=False)
    checked = _steps(StagedStep(array_loss, opt), opt, params(1), batches, forget=True)
    assert direct[2] == checked[2]
    assert list(step._replays) == [((14, 4), Z.dtype)]


def test_a_python_int_in_the_state_stays_a_static_value_of_the_replayed_step(monkeypatch):
    # Before: the int became a 0-d array after the first step, sl.jit traced it, the optimizer's
    # `if` on it raised a TracingError, and fit took every later step by parts
    import slopes.ml.training as training

    def every_other(lr):  # sgd on the steps a Python count says (the count decided in Python)
        def update(grads, state, params=None, **kw):
            scale = -lr if state["n"] % 2 == 0 else 0.0
            return {k: scale * g for k, g in grads.items()}, {"n": state["n"] + 1, "seen": state["seen"] + 1.0}
        return so.GradientTransformation(lambda p: {"n": 0, "seen": 0.0}, update)

    by_parts = []
    real = training._gradient
    monkeypatch.setattr(training, "_gradient", lambda *a: by_parts.append(1) or real(*a))
    run = dict(optimizer=every_other(0.05), epochs=2, batch_size=14, shuffle=False, progress=False)
    replayed = fit(loss, params(1), (X, Y), **run)
    assert by_parts == []  # every step replayed (a trace per count: it is static)
    eager = fit(loss, params(1), (X, Y), jit=False, **run)
    assert len(by_parts) == 10
    np.testing.assert_array_equal(replayed.params["w0"], eager.params["w0"])
    assert list(replayed.history.step.column("loss")) == list(eager.history.step.column("loss"))
    assert replayed.state["n"] == eager.state["n"] == 10 and type(replayed.state["n"]) is int


def test_dict_keys_that_compare_equal_keep_their_own_type():
    # the compiled tree builders are shared by structure: {1: w} and {1.0: w} are not one structure
    for key in (1, 1.0, 1):
        res = fit(lambda p, b: snp.mean((b[0] @ p[key] - b[1]) ** 2), {key: np.zeros(3)}, (X, Y),
                  optimizer=so.sgd(0.01), epochs=1, batch_size=35, progress=False)
        assert [type(k) for k in res.params] == [type(key)]


def test_the_tree_builder_is_compiled_once_for_many_fit_calls():
    from slopes.transforms._callpath import tree_builder

    tree_builder.cache_clear()
    for _ in range(3):
        fit(loss, params(2), (X, Y), optimizer=so.adam(0.01), epochs=1, batch_size=35, progress=False)
    info = tree_builder.cache_info()
    assert info.misses == 1 and info.hits == 2  # the step's (params, state) builder, made once
