"""Mini-batches over data (slopes.optim.stochastic) driving gd and the transformation methods."""

import numpy as np
import pytest

import slopes as sl
import slopes.numpy as snp
from slopes.optim import methods_smooth  # noqa: F401  (registers gd, adam, ...)
from slopes.optim.methods_base import METHODS, Problem
from slopes.optim.stochastic import BatchedProblem, MiniBatches, run_epochs, take

# ----------------------------------------------------------------------------- helpers


def ad_problem(fun, **kw):
    """A counted problem with AD gradients of ``fun(x, batch)`` (as the driver builds it)."""
    return Problem(fun, sl.grad(fun), None, sl.value_and_grad(fun), **kw)


def run(fun, x0, method, data, *, batch_size=None, shuffle=True, seed=None, epochs=1, gtol=1e-6,
        grad=None, learning_rate=None, options=None, callback=None):
    if grad is None:
        prob = ad_problem(fun, learning_rate=learning_rate)
    else:
        prob = Problem(fun, grad, learning_rate=learning_rate)
    bp = BatchedProblem(prob, MiniBatches(data, batch_size, shuffle=shuffle, seed=seed))
    meth = METHODS[method](bp, dict(options or {}))
    return run_epochs(meth, bp, np.asarray(x0, dtype=float), epochs, gtol=gtol, callback=callback,
                      method_name=method)


SQ = sl.problems.get("square_sgd")
Z = SQ.sample(256, np.random.default_rng(0))  # a fixed data set for x^2 (per-sample loss (x - z)^2)


def sq_f(x, b):
    return float(np.mean((x[0] - b) ** 2))


def sq_g(x, b):
    return np.array([2.0 * np.mean(x[0] - b)])


# ----------------------------------------------------------------------------- MiniBatches


def test_minibatches_partition_and_reshuffle():
    mb = MiniBatches(np.arange(10), 3, seed=5)
    assert mb.batches_per_epoch == 4 and mb.batch_size == 3 and not mb.full_batch
    e1, e2 = mb.epoch(), mb.epoch()
    assert [len(b) for b in e1] == [3, 3, 3, 1]
    assert sorted(np.concatenate(e1).tolist()) == list(range(10))
    assert sorted(np.concatenate(e2).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(e1), np.concatenate(e2))  # a fresh permutation per epoch
    again = MiniBatches(np.arange(10), 3, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(e1 + e2, again.epoch() + again.epoch()))


def test_minibatches_full_single_and_no_shuffle():
    X = np.arange(8.0).reshape(4, 2)
    full = MiniBatches(X, None, seed=0)
    assert full.full_batch and full.batches_per_epoch == 1 and full.epoch()[0] is X
    assert MiniBatches(X, 100).full_batch  # batch_size >= n is the full batch
    single = MiniBatches(X, 1, shuffle=False)
    assert [b.tolist() for b in single.epoch()] == [[[0.0, 1.0]], [[2.0, 3.0]], [[4.0, 5.0]], [[6.0, 7.0]]]


def test_minibatches_tuple_and_dict_data_stay_aligned():
    X = np.arange(12.0).reshape(6, 2)
    y = X[:, 0] * 10
    for Xb, yb in MiniBatches((X, y), 4, seed=1).epoch():
        np.testing.assert_array_equal(yb, Xb[:, 0] * 10)
    for b in MiniBatches({"X": X, "y": y}, 4, seed=1).epoch():
        np.testing.assert_array_equal(b["y"], b["X"][:, 0] * 10)
    assert take([X, y], np.array([1]))[1].tolist() == [20.0]


def test_minibatches_errors():
    with pytest.raises(ValueError, match="batch_size"):
        MiniBatches(np.arange(3), 0)
    with pytest.raises(ValueError, match="batch_size"):
        MiniBatches(np.arange(3), 1.5)
    with pytest.raises(ValueError, match="different numbers of samples"):
        MiniBatches((np.arange(3), np.arange(4)), 1)
    with pytest.raises(ValueError, match="no samples"):
        MiniBatches(np.zeros((0, 2)), 1)


# ----------------------------------------------------------------------------- x^2: exact, one sample, mini-batch


@pytest.mark.parametrize("batch_size", [None, 1, 16])
def test_square_same_seed_same_result(batch_size):
    kw = dict(batch_size=batch_size, epochs=2, learning_rate=0.05)
    r1 = run(SQ.batch_loss, SQ.x0, "gd", Z, seed=7, **kw)
    r2 = run(SQ.batch_loss, SQ.x0, "gd", Z, seed=7, **kw)
    np.testing.assert_array_equal(r1.x, r2.x)
    np.testing.assert_array_equal(r1.history.f, r2.history.f)
    r3 = run(SQ.batch_loss, SQ.x0, "gd", Z, seed=8, **kw)
    if batch_size is None:  # the full batch is deterministic: the seed does not matter
        np.testing.assert_array_equal(r1.x, r3.x)
    else:
        assert not np.array_equal(r1.x, r3.x)
    assert r1.nit == 2 * MiniBatches(Z, batch_size).batches_per_epoch


def test_square_full_batch_is_exact_gradient_descent():
    r = run(SQ.batch_loss, SQ.x0, "gd", Z, epochs=300, learning_rate=0.1, gtol=1e-8)
    # full-batch GD on mean (x - z)^2: x_k - zbar = 0.8^k (x0 - zbar), exactly
    zbar = Z.mean()
    np.testing.assert_allclose(r.history.f[:4], [np.mean((zbar + 0.8**k * (80 - zbar) - Z) ** 2) for k in range(4)],
                               rtol=1e-12)
    assert r.success and abs(r.x[0] - zbar) < 1e-8
    assert r.grad_norm <= 1e-8 and r.status == 0


def test_square_one_sample_and_minibatch_reach_the_data_mean():
    zbar = Z.mean()
    for m, epochs, tol in ((1, 2, 0.8), (16, 20, 0.3)):
        r = run(SQ.batch_loss, SQ.x0, "gd", Z, batch_size=m, seed=0, epochs=epochs, learning_rate=0.05)
        assert abs(r.x[0] - zbar) < tol
        assert not r.success  # the noise floor keeps the full-data gradient above 1e-6: no false success
        assert r.grad_norm == pytest.approx(abs(2 * (r.x[0] - zbar)), rel=1e-9)


def test_minibatch_noise_falls_with_batch_size():
    var = {}
    for m in (1, 4, 16, 64):
        finals = [run(sq_f, SQ.x0, "gd", Z, batch_size=m, seed=s, epochs=3 if m < 16 else 10, grad=sq_g,
                      learning_rate=0.1).x[0] for s in range(30)]
        var[m] = float(np.var(finals))
    assert var[1] > var[4] > var[16] > var[64] > 0
    # roughly like 1/m (the population variance of the one-sample gradient is 4)
    assert var[1] / var[16] > 6
    assert var[4] / var[64] > 6


# ----------------------------------------------------------------------------- least squares


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(200, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = X @ w_true + 0.1 * rng.normal(size=200)
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, w_ls


def mse(w, batch):
    Xb, yb = batch
    return snp.mean((snp.dot(Xb, w) - yb) ** 2)


def test_least_squares_sgd_reaches_closed_form(regression):
    X, y, w_ls = regression
    r = run(mse, np.zeros(3), "gd", (X, y), batch_size=10, seed=0, epochs=40,
            learning_rate=sl.optim.step_decay(0.05, 200, 0.5), gtol=1e-3)
    np.testing.assert_allclose(r.x, w_ls, atol=5e-3)
    assert r.success and r.grad_norm <= 1e-3
    assert r.fun_best <= r.fun + 1e-15 and r.fun == pytest.approx(float(mse(r.x, (X, y))), rel=1e-12)


def test_least_squares_adam_reaches_closed_form(regression):
    X, y, w_ls = regression
    r = run(mse, np.zeros(3), "adam", (X, y), batch_size=20, seed=1, epochs=60,
            learning_rate=sl.optim.step_decay(0.05, 100, 0.5), gtol=1e-3)
    np.testing.assert_allclose(r.x, w_ls, atol=5e-3)
    assert r.success


def test_least_squares_noiseless_sgd_converges_exactly(regression):
    X, _, _ = regression
    y = X @ np.array([1.0, 2.0, 3.0])  # interpolation: every sample gradient vanishes at the solution
    r = run(mse, np.zeros(3), "gd", (X, y), batch_size=10, seed=3, epochs=40, learning_rate=0.05)
    assert r.success and r.grad_norm <= 1e-6
    np.testing.assert_allclose(r.x, [1.0, 2.0, 3.0], atol=1e-7)


# ----------------------------------------------------------------------------- the loop


def test_divergence_ends_the_run_and_keeps_the_best_point():
    r = run(sq_f, SQ.x0, "gd", Z, batch_size=8, seed=0, epochs=50, grad=sq_g, learning_rate=5.0)
    assert not r.success and r.status == 2 and "smaller learning_rate" in r.message
    assert r.fun_best <= SQ.f_x0 + 1.0 + 1e-9
    np.testing.assert_array_equal(r.x_best, SQ.x0)


def test_callback_stops_and_counts():
    calls = []
    r = run(sq_f, SQ.x0, "momentum", Z, batch_size=32, seed=0, epochs=5, grad=sq_g, learning_rate=0.01,
            callback=lambda res: calls.append(res.nit) or len(calls) == 3)
    assert r.status == 3 and r.nit == 3 and calls == [1, 2, 3]
    assert len(r.history) == 4
    assert r.nfev >= 3 and r.ngev >= 3


def test_maxiter_caps_the_epochs_and_bad_epochs():
    r = run(sq_f, SQ.x0, "gd", Z, batch_size=64, seed=0, epochs=3, grad=sq_g, learning_rate=0.1)
    prob = Problem(sq_f, sq_g, learning_rate=0.1)
    bp = BatchedProblem(prob, MiniBatches(Z, 64, seed=0))
    r5 = run_epochs(METHODS["gd"](bp, {}), bp, SQ.x0, 3, gtol=1e-6, maxiter=5)
    assert r5.nit == 5 and r5.status == 1 and not r5.success
    np.testing.assert_array_equal(r5.history.f, r.history.f[:6])  # the same trajectory, cut short
    bp = BatchedProblem(prob, MiniBatches(Z, 64, seed=0))
    with pytest.raises(ValueError, match="epochs"):
        run_epochs(METHODS["gd"](bp, {}), bp, SQ.x0, 0, gtol=1e-6)


def test_evaluations_and_epoch_best():
    r = run(sq_f, SQ.x0, "gd", Z, batch_size=64, seed=0, epochs=3, grad=sq_g, learning_rate=0.1)
    assert r.nit == 12
    # one batch evaluation per step plus the start, plus full-data ones at x0, each epoch end and the end
    assert r.ngev == 13 + 2 and r.nfev == 13 + 2 + 3
    assert r.fun_best <= r.fun


def test_minimize_with_data_sgd_and_adam(regression):
    X, y, w_ls = regression
    for method, bs in (("gd", 10), ("adam", 20)):
        kw = dict(data=(X, y), batch_size=bs, shuffle=True, seed=1, epochs=60,
                  learning_rate=sl.optim.step_decay(0.05, 100, 0.5), gtol=1e-3)
        r = sl.minimize(mse, np.zeros(3), method=method, **kw)
        np.testing.assert_allclose(r.x, w_ls, atol=5e-3)
        assert r.success and r.method == method
        assert r.nit == 60 * (200 // bs) and len(r.history) == r.nit + 1
        r2 = sl.minimize(mse, np.zeros(3), method=method, **kw)
        np.testing.assert_array_equal(r.x, r2.x)  # same seed, same result


def test_minimize_with_data_single_sample_and_full_batch_x_squared():
    full = sl.minimize(SQ.batch_loss, SQ.x0, method="gd", learning_rate=0.1, data=Z, epochs=200, gtol=1e-8)
    assert full.success and full.nit == 200 and abs(full.x[0] - Z.mean()) < 1e-8
    one = sl.minimize(SQ.batch_loss, SQ.x0, method="gd", learning_rate=0.01, data=Z, batch_size=1, seed=0,
                      epochs=2)
    assert one.nit == 2 * 256 and abs(one.x[0] - Z.mean()) < 1.0 and not one.success
