"""slopes.ml.fit: iterates against hand-written NumPy GD, lstsq, early stopping, checkpoints, interrupts."""

import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import EarlyStopping, fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
W_TRUE = np.array([1.0, -2.0, 0.5])
Y = X @ W_TRUE + 0.1 * RNG.normal(size=40)


def lsq(w, b):
    return 0.5 * snp.mean((b[0] @ w - b[1]) ** 2)


def lsq_np(w, Xb, yb):  # the same loss and its gradient, by hand
    r = Xb @ w - yb
    return 0.5 * np.mean(r**2), Xb.T @ r / len(yb)


def record_params(store):
    def cb(info):
        if info.event == "step":
            store.append(np.array(info.params, copy=True))

    return cb


def test_full_batch_gd_matches_hand_iterates():
    lr, steps = 0.1, 15
    seen = []
    res = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(lr), epochs=steps, callbacks=[record_params(seen)])
    w, ref, losses, norms = np.zeros(3), [], [], []
    for _ in range(steps):
        f, g = lsq_np(w, X, Y)
        losses.append(f)
        norms.append(np.linalg.norm(g))
        w = w - lr * g
        ref.append(w)
    np.testing.assert_allclose(np.array(seen), np.array(ref), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.params, ref[-1], rtol=1e-12)
    np.testing.assert_allclose(res.history.step["loss"], losses, rtol=1e-12)
    np.testing.assert_allclose(res.history.step["grad_norm"], norms, rtol=1e-12)
    np.testing.assert_array_equal(res.history.step["lr"], np.full(steps, lr))
    assert res.message == f"completed {steps} epochs" and not (res.stopped_early or res.diverged)


def test_minibatch_regression_converges_to_lstsq():
    ref = np.linalg.lstsq(X, Y, rcond=None)[0]
    opt = so.adam(so.cosine_decay(0.05, 400))
    res = fit(lsq, np.zeros(3), (X, Y), optimizer=opt, epochs=80, batch_size=8, seed=1)
    np.testing.assert_allclose(res.params, ref, atol=2e-3)


def test_history_shapes_and_first_step_values():
    n, bs, epochs, seed = 40, 16, 3, 7
    sched = so.exponential_decay(0.1, 0.9)
    res = fit(
        lsq,
        np.zeros(3),
        (X, Y),
        optimizer=so.momentum(sched),
        epochs=epochs,
        batch_size=bs,
        seed=seed,
        val_data=(X[:10], Y[:10]),
        metrics={"mae": lambda w, d: np.mean(np.abs(d[0] @ w - d[1]))},
    )
    steps = epochs * math.ceil(n / bs)
    h = res.history
    assert len(h.step) == steps and h.step["loss"].shape == (steps,)
    assert set(h.step.fields) == {"loss", "lr", "grad_norm", "epoch"}
    assert set(h.epoch.fields) == {"epoch", "loss", "val_loss", "mae", "val_mae", "time"}
    assert h.epoch["val_loss"].shape == (epochs,)
    np.testing.assert_array_equal(h.step["epoch"], np.repeat(np.arange(epochs), 3))
    # lr of step k is the schedule at k: 0.1 * 0.9**k (the formula, by hand)
    np.testing.assert_allclose(h.step["lr"], 0.1 * 0.9 ** np.arange(steps), rtol=1e-12)
    # the first batch is the first bs samples of default_rng(seed).permutation(n)
    idx = np.random.default_rng(seed).permutation(n)[:bs]
    f0, g0 = lsq_np(np.zeros(3), X[idx], Y[idx])
    assert h.step["loss"][0] == pytest.approx(f0, rel=1e-12)
    assert h.step["grad_norm"][0] == pytest.approx(np.linalg.norm(g0), rel=1e-12)
    # epoch loss = the mean per sample: batch losses weighted by rows (16, 16, 8); metrics at the end params
    per_sample = h.step["loss"].reshape(epochs, 3) @ np.array([16, 16, 8]) / 40
    np.testing.assert_allclose(h.epoch["loss"], per_sample, rtol=1e-12)
    w = res.params
    assert h.epoch["val_loss"][-1] == pytest.approx(lsq_np(w, X[:10], Y[:10])[0], rel=1e-12)
    assert h.epoch["mae"][-1] == pytest.approx(np.mean(np.abs(X @ w - Y)), rel=1e-12)
    assert h.epoch["val_mae"][-1] == pytest.approx(np.mean(np.abs(X[:10] @ w - Y[:10])), rel=1e-12)
    assert np.all(h.epoch["time"] >= 0)


def test_determinism_with_seed():
    kw = dict(optimizer=so.adam(0.01), epochs=3, batch_size=7)
    a = fit(lsq, np.zeros(3), (X, Y), seed=5, **kw)
    b = fit(lsq, np.zeros(3), (X, Y), seed=5, **kw)
    c = fit(lsq, np.zeros(3), (X, Y), seed=6, **kw)
    assert np.array_equal(a.params, b.params)
    assert np.array_equal(a.history.step["loss"], b.history.step["loss"])
    assert not np.array_equal(a.params, c.params)


def test_early_stopping_restores_best_params():
    # GD on mean (w - 2)^2 from w = 0: w_k = 2 (1 - (1 - 2 lr)^k); validation target 1
    lr = 0.1
    loss = lambda w, y: snp.mean((w[0] - y) ** 2)
    seen = []
    res = fit(
        loss,
        np.zeros(1),
        np.full(4, 2.0),
        optimizer=so.sgd(lr),
        epochs=50,
        val_data=np.ones(3),
        early_stopping=EarlyStopping(patience=2),
        callbacks=[record_params(seen)],
    )
    k = np.arange(1, len(seen) + 1)
    w_hand = 2 * (1 - (1 - 2 * lr) ** k)
    val_hand = (w_hand - 1) ** 2
    np.testing.assert_allclose(np.array(seen)[:, 0], w_hand, rtol=1e-12)
    np.testing.assert_allclose(res.history.epoch["val_loss"], val_hand, rtol=1e-9)
    best = int(np.argmin(val_hand))
    assert best == 2 and res.best_epoch == best
    assert res.stopped_early and len(seen) == best + 1 + 2
    np.testing.assert_array_equal(res.best_params, seen[best])
    np.testing.assert_array_equal(res.params, seen[-1])
    assert "early stopping" in res.message


def test_early_stopping_int_patience_monitors_train_loss_without_val():
    loss = lambda w, y: snp.mean((w[0] - y) ** 2)
    res = fit(loss, np.zeros(1), np.full(4, 2.0), optimizer=so.sgd(1.0), epochs=10, early_stopping=1)
    # lr 1 on (w-2)^2 oscillates 0 -> 4 -> 0: the loss never improves after epoch 0
    assert res.stopped_early and res.best_epoch == 0 and len(res.history.epoch) == 2


def test_growing_finite_loss_is_divergence_as_in_minimize():
    # sgd at lr 1.2 on least squares: the loss grows x~20 per epoch but stays finite for
    # dozens of epochs (it reached 1e84 in 50); minimize's blow-up rule must end the run
    rng = np.random.default_rng(0)
    Xg = rng.normal(size=(64, 3))
    yg = Xg @ np.array([1.0, -2.0, 0.5])
    loss = lambda w, b: snp.mean((b[0] @ w - b[1]) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning leaks
        res = fit(loss, np.zeros(3), (Xg, yg), optimizer=so.sgd(1.2), epochs=50, batch_size=16)
        ref = sl.minimize(lambda w: loss(w, (Xg, yg)), np.zeros(3), method="gd", learning_rate=1.2, maxiter=200)
    assert not ref.success and "diverged" in ref.message  # the peer verdict on the same step size
    assert res.diverged and "loss grew from" in res.message and res.step < 50 * 4
    # best_params: those at the end of the epoch with the lowest epoch loss, far from the blow-up
    assert res.best_epoch == int(np.argmin(res.history.epoch["loss"]))
    full = lambda w: float(np.mean((Xg @ w - yg) ** 2))  # the loss on all rows, by hand
    assert np.all(np.isfinite(res.best_params)) and full(res.best_params) < 1e-3 * full(res.params)


def test_overflow_is_reported_not_warned():
    loss = lambda w, y: snp.mean((w[0] * y) ** 2) * 1e150  # 1e150 at w = 1, then w = 1 - 8e150
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the square overflows to inf: reported, not warned
        res = fit(loss, np.ones(1), np.full(4, 2.0), optimizer=so.sgd(1.0), epochs=3)
    # the update to 1 - 8e150 passes the blow-up bound 1e12 (1 + |w0|): refused before it is applied
    assert res.diverged and "would take a parameter to 8e+150" in res.message and res.step == 0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the blow-up being detected
def test_divergence_stops_and_keeps_finite_best():
    loss = lambda w, y: snp.mean((w[0] - y) ** 2)
    res = fit(loss, np.zeros(1), np.full(4, 2.0), optimizer=so.sgd(1e3), epochs=500)
    assert res.diverged and "diverged" in res.message
    assert np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.best_params))
    assert res.best_epoch == 0 and res.step < 500


def test_keyboard_interrupt_ends_cleanly():
    def ctrl_c(info):
        if info.event == "step" and info.step == 7:
            raise KeyboardInterrupt

    res = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=5, batch_size=10, callbacks=[ctrl_c])
    assert res.interrupted and res.step == 7 and len(res.history.step) == 7
    assert len(res.history.epoch) == 1 and res.best_epoch == 0
    assert "interrupted" in res.message


def test_keyboard_interrupt_inside_loss():
    calls = []

    def loss(w, b):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return lsq(w, b)

    res = fit(loss, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=5, jit=False)
    assert res.interrupted and res.step == 2


def test_callback_stop_and_hooks():
    class Counter:
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, info):
            assert info.event == "epoch" and "loss" in info.logs
            self.epochs += 1

    c = Counter()
    res = fit(
        lsq,
        np.zeros(3),
        (X, Y),
        optimizer=so.sgd(0.1),
        epochs=10,
        batch_size=20,
        callbacks=[c, lambda info: info.event == "step" and info.step == 9],
    )
    assert res.step == 9 and c.epochs == 4 and "callback" in res.message


def test_resume_after_kill_matches_uninterrupted_run(tmp_path):
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(50, 3))
    ys = np.tanh(Xs @ W_TRUE)

    def loss(p, b):
        return snp.mean((snp.tanh(b[0] @ p["W"] + p["b"]) @ p["v"] - b[1]) ** 2)

    p0 = {"W": 0.5 * rng.normal(size=(3, 4)), "b": np.zeros(4), "v": 0.5 * rng.normal(size=4)}
    kw = dict(epochs=6, batch_size=8, seed=3, val_data=(Xs[:10], ys[:10]))
    ref = fit(loss, p0, (Xs, ys), optimizer=so.adam(so.warmup_cosine(0.05, 5, 42)), **kw)

    class Killed(Exception):
        pass

    def kill(info):
        if info.event == "step" and info.step == 23:
            raise Killed

    ck = dict(checkpoint_dir=tmp_path, checkpoint_every=5)
    with pytest.raises(Killed):
        fit(
            loss, p0, (Xs, ys), optimizer=so.adam(so.warmup_cosine(0.05, 5, 42)), callbacks=[kill], **ck, **kw
        )
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "checkpoint.prev.npz"]  # no temporary files
    res = fit(loss, p0, (Xs, ys), optimizer=so.adam(so.warmup_cosine(0.05, 5, 42)), resume=True, **ck, **kw)
    for k in p0:
        assert np.array_equal(res.params[k], ref.params[k])
        assert np.array_equal(res.best_params[k], ref.best_params[k])
    assert res.step == ref.step == 42 and res.best_epoch == ref.best_epoch
    for f in ("loss", "lr", "grad_norm"):
        assert np.array_equal(res.history.step[f], ref.history.step[f])
    assert np.array_equal(res.history.epoch["val_loss"], ref.history.epoch["val_loss"])
    assert so.step_count(res.state) == 42


def test_resume_without_checkpoint_starts_fresh_and_continues(tmp_path):
    a = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=2, checkpoint_dir=tmp_path, resume=True)
    b = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=4, checkpoint_dir=tmp_path, resume=True)
    c = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=4)
    assert a.step == 2 and b.step == 4
    assert np.array_equal(b.params, c.params)


def test_clip_norm_bounds_each_step():
    seen = []
    lr, c = 0.1, 0.01
    fit(
        lsq, np.zeros(3), (X, Y), optimizer=so.sgd(lr), epochs=3, clip_norm=c, callbacks=[record_params(seen)]
    )
    steps = np.diff(np.vstack([np.zeros(3), seen]), axis=0)
    g0 = lsq_np(np.zeros(3), X, Y)[1]
    np.testing.assert_allclose(steps[0], -lr * c * g0 / np.linalg.norm(g0), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(steps, axis=1), lr * c, rtol=1e-12)


def test_untraceable_loss_falls_back_with_one_warning():
    def loss(w, b):
        m = lsq(w, b)
        return m if m > 0 else 0.0 * m  # a Python branch on a traced value

    with pytest.warns(RuntimeWarning, match="eagerly") as rec:
        res = fit(loss, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=3, val_data=(X, Y))
    assert len([r for r in rec if "eagerly" in str(r.message)]) == 1
    ref = fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=3, jit=False)
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-12)


def test_pytree_params_and_dict_data_and_default_optimizer():
    data = {"x": X, "y": Y}
    loss = lambda p, b: 0.5 * snp.mean((b["x"] @ p["w"] + p["c"] - b["y"]) ** 2)
    res = fit(loss, {"w": np.zeros(3), "c": np.zeros(())}, data, epochs=2, batch_size=20, jit=True)
    f0 = lsq_np(np.zeros(3), X, Y)[0]
    assert res.history.step["lr"][0] == 1e-3  # adam(1e-3) by default
    assert res.history.epoch["loss"][-1] < f0


def test_progress_bar_writes_to_stderr(capsys):
    fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=2, progress=True)
    assert "step" in capsys.readouterr().err
    fit(lsq, np.zeros(3), (X, Y), optimizer=so.sgd(0.1), epochs=2)  # not a terminal: quiet
    assert capsys.readouterr().err == ""


def test_no_warnings_on_a_normal_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(lsq, np.zeros(3), (X, Y), optimizer=so.adam(0.1), epochs=2, batch_size=16)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(epochs=0), ValueError, "epochs"),
        (dict(data=(X, Y[:-1])), ValueError, "different numbers of samples"),
        (dict(params=np.zeros(3, dtype=int)), TypeError, "floating-point"),
        (dict(loss=lambda w, b: b[0] @ w), TypeError, "scalar"),
        (dict(checkpoint_every=3), ValueError, "checkpoint_dir"),
        (dict(early_stopping=EarlyStopping(monitor="acc")), ValueError, "cannot monitor"),
        (dict(early_stopping=True), TypeError, "patience"),
        (dict(metrics={"m": 3}), TypeError, "metric"),
        (dict(callbacks=[3]), TypeError, "callback"),
        (dict(optimizer="adam"), TypeError, "GradientTransformation"),
        (dict(clip_norm=-1.0), ValueError, "clip_norm"),
        (dict(kernels="cuda"), ValueError, "kernels must be 'numpy' or 'numba'"),
        (dict(jit=False, kernels="numba"), ValueError, "needs jit=True"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = dict(loss=lsq, params=np.zeros(3), data=(X, Y))
    for k in ("loss", "params", "data"):
        if k in kwargs:
            args[k] = kwargs.pop(k)
    with pytest.raises(exc, match=match):
        fit(args["loss"], args["params"], args["data"], **kwargs)


def test_early_stopping_object_validates():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="rule must be 'keras' or 'sklearn'"):
        EarlyStopping(rule="torch")


def sklearn_mlp_stop_epoch(losses, tol, n_iter_no_change):
    """scikit-learn's MLP _update_no_improvement_count, transcribed: the epoch count it runs."""
    best, count = math.inf, 0
    for epoch, loss in enumerate(losses):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch + 1
    return len(losses)


@given(
    st.lists(st.floats(0.0, 10.0), min_size=1, max_size=40),
    st.sampled_from([0.0, 1e-4, 0.1, 1.0]),
    st.integers(1, 5),
)
# scikit-learn compares the loss with best - tol: 7.9e-193 is not below 0.1 - 0.1 = 0 although
# 0.1 - 7.9e-193 rounds to 0.1 >= tol
@example([0.1, 1.0, 1.0, 1.0, 7.9e-193, 0.0], 0.1, 3)
def test_sklearn_rule_stops_where_sklearn_mlp_stops(losses, tol, patience):
    es = EarlyStopping(patience, min_delta=tol, rule="sklearn")
    ran = len(losses)
    for epoch, loss in enumerate(losses):
        if es.update(loss)[1]:
            ran = epoch + 1
            break
    assert ran == sklearn_mlp_stop_epoch(losses, tol, patience)
    assert es.best == min(losses[:ran])  # the best is the best seen, improved by tol or not


def test_fit_is_exported():
    assert sl.ml.fit is fit


def test_callers_params_untouched_and_best_params_a_snapshot():
    w0 = np.zeros(3)
    # validation target far from the train optimum: val loss is best early, then rises
    val = (X, Y + 5.0)
    res = fit(lsq, w0, (X, Y), optimizer=so.sgd(0.1), epochs=30, val_data=val)
    np.testing.assert_array_equal(w0, np.zeros(3))  # fit trains its own copies
    assert res.best_epoch < 29
    # the best params are the epoch's parameters, not the live ones that kept training
    assert not np.shares_memory(res.best_params, res.params)
    best_val = float(lsq(res.best_params, val))
    assert best_val == pytest.approx(res.history.epoch["val_loss"][res.best_epoch], rel=1e-12)
    assert best_val < float(lsq(res.params, val))


def test_fit_and_minimize_give_reduce_on_plateau_the_loss():
    # a loss that stops improving after the first steps: the plateau rule must see it and cut the lr
    x = np.zeros(1)
    loss = lambda w, b: snp.sum(snp.abs(w - 1.0)) + 0 * snp.sum(b)  # noqa: E731  (|w - 1|, kinked at 1)
    opt = so.chain(so.sgd(0.3), so.reduce_on_plateau(factor=0.5, patience=2))
    r = sl.ml.fit(loss, x, np.zeros((4, 1)), optimizer=opt, epochs=30, batch_size=None, progress=False)
    # by hand: sgd(0.3) from 0 oscillates 0 -> 0.3 -> 0.6 -> 0.9 -> 1.2 -> 0.9 ...; every halving after
    # 3 non-improving losses shrinks the step, so w ends within the last step size of 1
    lrs = r.history.step["lr"]
    assert lrs[0] == pytest.approx(0.3) and lrs[-1] < 0.3 * 0.5**3
    assert abs(float(r.params[0]) - 1.0) < 0.3 * 0.5**3
    base = so.chain(so.sgd(0.3), so.reduce_on_plateau(factor=0.5, patience=2))
    m = sl.minimize(lambda w: snp.sum(snp.abs(w - 1.0)), x, method="sam", rho=0.0, base=base, maxiter=40)
    assert abs(float(m.x[0]) - 1.0) < 0.3 * 0.5**3


# -- kernels="numba" (the slopes[fast] extra) -----------------------------------------------------


def _mlp_run(kernels, epochs=3):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 64))
    Y = np.eye(3)[rng.integers(0, 3, 300)]
    # 5443 parameters: the optimizer's chains on all of them at once are long enough for kernels
    p = {"W1": rng.normal(size=(64, 80)) / 8, "b1": np.zeros(80), "W2": rng.normal(size=(80, 3)) / 8,
         "b2": np.zeros(3)}

    def loss(q, b):
        return sl.ml.cross_entropy(sl.ml.relu(b[0] @ q["W1"] + q["b1"]) @ q["W2"] + q["b2"], b[1])

    return fit(loss, p, (X, Y), optimizer=so.adam(0.01), epochs=epochs, batch_size=64, shuffle=False,
               progress=False, kernels=kernels)


def test_fit_with_numba_kernels_compiles_the_optimizers_update_and_agrees(numba_cache, monkeypatch):
    from slopes.core.tiling import lower
    from slopes.ml import train_step

    made = []
    monkeypatch.setattr(train_step, "sl_jit", lambda f, **kw: made.append(sl.jit(f, **kw)) or made[-1])
    fast, plain = _mlp_run("numba"), _mlp_run("numpy")
    programs = [lower(e.program) for e in made[0]._programs.values()]  # batches of 64 and the last 44
    assert all("fused_kernel" in [e.prim.name for e in prog.equations] for prog in programs)
    # each kernel rounds its operations as NumPy does, but for the C library's functions (an ulp)
    for k in plain.params:
        np.testing.assert_allclose(fast.params[k], plain.params[k], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fast.history.step["loss"], plain.history.step["loss"], rtol=1e-12)


def test_fit_kernels_without_numba_names_the_extra(monkeypatch):
    from slopes.ml import training

    monkeypatch.setattr(training, "numba_available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install 'slopes\[fast\]'"):
        fit(lsq, np.zeros(3), (X, Y), kernels="numba", progress=False)


def test_fit_with_numba_kernels_and_mixed_precision_leaves_float16_to_numpy(numba_cache, monkeypatch):
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(512, 64)), rng.normal(size=(512, 3))
    p = {"W1": rng.normal(size=(64, 80)) / 8, "b1": np.zeros(80), "W2": rng.normal(size=(80, 3)) / 8}

    def loss(q, b):  # float16 chains of 256 x 80 entries: Numba compiles no float16, NumPy runs them
        z = b[0] @ q["W1"] + q["b1"]
        return snp.mean(((snp.tanh(z) * 0.5 + snp.exp(-(z * z))) @ q["W2"] - b[1]) ** 2)

    runs = [fit(loss, p, (X, Y), optimizer=so.adam(0.01), epochs=2, batch_size=256, shuffle=False,
                progress=False, kernels=k, mixed_precision=True) for k in ("numba", "numpy")]
    assert not runs[0].diverged
    for k in p:  # mixed precision replays the gradient only, all of it float16: the same bits
        np.testing.assert_array_equal(runs[0].params[k], runs[1].params[k])
