"""LinearRegression, LogisticRegression, SoftmaxRegression against scikit-learn, closed forms and
NumPy gradients / Hessians written independently here."""

import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax

import slopes as sl
from slopes.ml import (
    ConvergenceWarning,
    LinearRegression,
    LogisticRegression,
    SoftmaxRegression,
    Standardizer,
    datasets,
    train_test_split,
)
from slopes.ml.logistic import _Problem

# ---------------------------------------------------------------- data


@pytest.fixture(scope="module")
def diabetes():
    d = datasets.load("diabetes")
    return d.X, d.y


@pytest.fixture(scope="module")
def cancer():
    d = datasets.load("breast_cancer")
    X_tr, X_te, y_tr, y_te = train_test_split(d.X, d.y, test_size=0.25, seed=0, stratify=True)
    sc = Standardizer().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


@pytest.fixture(scope="module")
def digits():
    d = datasets.load("digits")
    X_tr, X_te, y_tr, y_te = train_test_split(d.X, d.y, test_size=0.25, seed=0, stratify=True)
    sc = Standardizer().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


def numpy_logistic_grad(X, y, coef, intercept, C):
    """Gradient of the scaled objective mean logloss + ||w||^2 / (2 C n), by hand."""
    n = len(y)
    r = expit(X @ coef + intercept) - y
    return np.concatenate([X.T @ r / n + coef / (C * n), [r.mean()]])


def numpy_logistic_hessian(X, coef, intercept, C):
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    p = expit(X @ coef + intercept)
    H = A.T @ (A * (p * (1 - p))[:, None]) / n
    H[:d, :d] += np.eye(d) / (C * n)
    return H


# ---------------------------------------------------------------- linear regression


@pytest.mark.parametrize("alpha", [0.0, 0.5, 10.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_matches_sklearn(diabetes, alpha, fit_intercept):
    lm = pytest.importorskip("sklearn.linear_model")
    X, y = diabetes
    ref = (lm.Ridge(alpha=alpha) if alpha else lm.LinearRegression()).set_params(fit_intercept=fit_intercept)
    ref.fit(X, y)
    ours = LinearRegression(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-8)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-10)


def test_ridge_normal_equations(diabetes):
    """Closed form (X^T X + alpha I) w = X^T y on centred data, solved here."""
    X, y = diabetes
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + 3.0 * np.eye(X.shape[1]), Xc.T @ yc)
    ours = LinearRegression(alpha=3.0).fit(X, y)
    np.testing.assert_allclose(ours.coef_, w, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(y.mean() - X.mean(0) @ w, rel=1e-10)


@pytest.mark.parametrize("solver, tol", [("gd", 1e-8), ("lbfgs", 1e-8), ("newton", 1e-8)])
def test_iterative_solvers_reach_closed_form(diabetes, solver, tol):
    X, y = diabetes
    Xs = Standardizer().fit_transform(X)
    exact = LinearRegression(alpha=1.0).fit(Xs, y)
    it = LinearRegression(alpha=1.0, solver=solver, tol=tol, max_iter=20000).fit(Xs, y)
    np.testing.assert_allclose(it.coef_, exact.coef_, rtol=1e-4, atol=1e-6)
    assert it.intercept_ == pytest.approx(exact.intercept_, rel=1e-8)
    assert it.history_.grad_norm[-1] <= tol and len(it.history_) == it.n_iter_ + 1
    if solver == "newton":
        assert it.n_iter_ == 1  # a quadratic: one exact Newton step


def test_linear_regression_float32_and_warnings(diabetes):
    X, y = diabetes
    Xs = Standardizer().fit_transform(X).astype(np.float32)
    m = LinearRegression(alpha=1.0).fit(Xs, y.astype(np.float32))
    assert m.coef_.dtype == np.float32 and m.predict(Xs).dtype == np.float32
    ref = LinearRegression(alpha=1.0).fit(Xs.astype(np.float64), y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5)
    m32 = LinearRegression(alpha=1.0, solver="lbfgs").fit(Xs, y)  # reaches tol=1e-8 from float32 data
    np.testing.assert_allclose(m32.coef_, ref.coef_, rtol=1e-5)
    with pytest.warns(ConvergenceWarning, match="Raise max_iter"):
        LinearRegression(solver="gd", max_iter=3).fit(Xs.astype(np.float64), y)


def test_linear_regression_bad_params(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="solver must be one of"):
        LinearRegression(solver="sgd").fit(X, y)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        LinearRegression(alpha=-1.0).fit(X, y)


# ---------------------------------------------------------------- logistic regression, bars


def test_breast_cancer_accuracy_and_sklearn_coefficients(cancer):
    lm = pytest.importorskip("sklearn.linear_model")
    X_tr, X_te, y_tr, y_te = cancer
    ref = lm.LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X_tr, y_tr)
    ours = LogisticRegression(C=1.0).fit(X_tr, y_tr)
    acc, ref_acc = ours.score(X_te, y_te), ref.score(X_te, y_te)
    assert acc >= 0.95 and abs(acc - ref_acc) <= 0.01
    assert ours.coef_.shape == (1, 30) and ours.intercept_.shape == (1,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X_te), ref.predict_proba(X_te), atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X_te), ref.decision_function(X_te), atol=1e-5)


def test_newton_converges_to_1e_8_in_15_iterations(cancer):
    X_tr, _, y_tr, _ = cancer
    clf = LogisticRegression(solver="newton", tol=1e-8).fit(X_tr, y_tr)
    g = numpy_logistic_grad(X_tr, y_tr, clf.coef_[0], clf.intercept_[0], C=1.0)
    assert clf.n_iter_ <= 15
    assert np.max(np.abs(g)) <= 1e-8
    # quadratic convergence: each of the last steps at least squares the gradient (up to a constant)
    gn = clf.history_.grad_norm
    assert gn[-1] <= 1e-3 * gn[-2] or gn[-1] < 1e-13


@pytest.fixture(scope="module")
def to_1e_6(cancer):
    """Newton, natural gradient and GD run to max|grad| <= 1e-6 on the same objective."""
    X_tr, _, y_tr, _ = cancer
    fits = {
        s: LogisticRegression(solver=s, tol=1e-6, max_iter=50000)
        for s in ("newton", "natural_gradient", "gd")
    }
    return {s: m.fit(X_tr, y_tr) for s, m in fits.items()}


def test_newton_vs_gd_iterations(cancer, to_1e_6):
    """Same tolerance, same objective: GD needs thousands of iterations, Newton fewer than ten.

    Measured: newton 8, gd 9119 at tol 1e-6 (C=1, standardized breast_cancer).
    """
    X_tr, _, y_tr, _ = cancer
    newton, gd = to_1e_6["newton"], to_1e_6["gd"]
    for m in (newton, gd):
        g = numpy_logistic_grad(X_tr, y_tr, m.coef_[0], m.intercept_[0], C=1.0)
        assert np.max(np.abs(g)) <= 1e-6
    assert gd.n_iter_ >= 100 * newton.n_iter_, (gd.n_iter_, newton.n_iter_)
    np.testing.assert_allclose(gd.coef_, newton.coef_, atol=1e-3)


# ---------------------------------------------------------------- natural gradient


def test_fisher_equals_ad_hessian_and_numpy(cancer):
    X_tr, _, y_tr, _ = cancer
    n = len(y_tr)
    prob = _Problem(X_tr, y_tr.astype(float), 1, True, 1.0 / n, 0.0)
    theta = np.random.default_rng(0).normal(scale=0.3, size=prob.size)
    F = prob.fisher(theta)
    np.testing.assert_allclose(F, numpy_logistic_hessian(X_tr, theta[:-1], theta[-1], C=1.0), atol=1e-12)
    np.testing.assert_allclose(F, sl.hessian(prob.full)(theta), atol=1e-10)


def test_fisher_softmax_equals_ad_hessian():
    d = datasets.load("iris")
    X = Standardizer().fit_transform(d.X)
    prob = _Problem(X, d.y, 3, True, 0.1, 0.0)
    theta = np.random.default_rng(1).normal(size=prob.size)
    np.testing.assert_allclose(prob.fisher(theta), sl.hessian(prob.full)(theta), atol=1e-10)


@pytest.mark.parametrize("k, fit_intercept", [(1, True), (1, False), (3, True), (3, False)])
def test_closed_form_value_and_gradient_equal_ad(k, fit_intercept):
    d = datasets.load("iris")
    X = Standardizer().fit_transform(d.X)
    y = (d.y == 2).astype(float) if k == 1 else d.y
    prob = _Problem(X, y, k, fit_intercept, 0.1, 0.0)
    theta = np.random.default_rng(2).normal(size=prob.size)
    f, g = prob.value_and_gradient(theta)
    assert f == pytest.approx(float(prob.full(theta)), rel=1e-13)
    np.testing.assert_allclose(g, sl.grad(prob.full)(theta), rtol=1e-12, atol=1e-14)


def test_natural_gradient_step_one_is_newton_step(cancer):
    X_tr, _, y_tr, _ = cancer
    one = LogisticRegression(solver="natural_gradient", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one.fit(X_tr, y_tr)
    w0, b0 = np.zeros(X_tr.shape[1]), 0.0
    H = numpy_logistic_hessian(X_tr, w0, b0, C=1.0)
    g = numpy_logistic_grad(X_tr, y_tr, w0, b0, C=1.0)
    newton_step = -np.linalg.solve(H, g)
    np.testing.assert_allclose(np.r_[one.coef_[0], one.intercept_], newton_step, rtol=1e-10, atol=1e-13)


def test_natural_gradient_damping(cancer):
    X_tr, _, y_tr, _ = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = LogisticRegression(solver="natural_gradient", max_iter=1, fisher_damping=0.5).fit(X_tr, y_tr)
    w0 = np.zeros(X_tr.shape[1])
    H = numpy_logistic_hessian(X_tr, w0, 0.0, C=1.0) + 0.5 * np.eye(X_tr.shape[1] + 1)
    step = -np.linalg.solve(H, numpy_logistic_grad(X_tr, y_tr, w0, 0.0, C=1.0))
    np.testing.assert_allclose(np.r_[one.coef_[0], one.intercept_], step, rtol=1e-10, atol=1e-13)


def test_natural_gradient_vs_gd_and_newton(cancer, to_1e_6):
    """Iterations to max|grad| <= 1e-6. Measured: natural gradient 8, newton 8, gd 9119."""
    X_tr, _, y_tr, _ = cancer
    ng, newton, gd = to_1e_6["natural_gradient"], to_1e_6["newton"], to_1e_6["gd"]
    assert abs(ng.n_iter_ - newton.n_iter_) <= 1
    assert gd.n_iter_ >= 100 * ng.n_iter_
    np.testing.assert_allclose(ng.coef_, newton.coef_, atol=1e-6)
    g = numpy_logistic_grad(X_tr, y_tr, ng.coef_[0], ng.intercept_[0], C=1.0)
    assert np.max(np.abs(g)) <= 1e-6


# ---------------------------------------------------------------- other solvers and penalties


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(solver="lbfgs"),
        dict(solver="adam", max_iter=2000, tol=1e-4, learning_rate=0.05),
        dict(solver="adam", batch_size=64, max_iter=30, random_state=0, learning_rate=0.01),
        dict(solver="sgd", max_iter=30, random_state=0),
    ],
)
def test_first_order_solvers(cancer, kwargs):
    X_tr, X_te, y_tr, y_te = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the stochastic ones stop at max_iter
        clf = LogisticRegression(**kwargs).fit(X_tr, y_tr)
        again = LogisticRegression(**kwargs).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.95
    np.testing.assert_array_equal(clf.coef_, again.coef_)  # same seed, same result
    if kwargs["solver"] == "lbfgs":
        g = numpy_logistic_grad(X_tr, y_tr, clf.coef_[0], clf.intercept_[0], C=1.0)
        assert np.max(np.abs(g)) <= 1e-8


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", None), ("elasticnet", 0.5)])
def test_l1_proximal_satisfies_kkt(cancer, penalty, l1_ratio):
    """Optimality of C sum logloss + l1_ratio ||w||_1 + (1-l1_ratio)/2 ||w||^2, checked in NumPy:
    zero weights have |grad| <= lam, nonzero ones grad = -lam sign(w)."""
    X_tr, X_te, y_tr, y_te = cancer
    C = 0.1
    clf = LogisticRegression(
        penalty=penalty, l1_ratio=l1_ratio, C=C, solver="proximal", tol=1e-8, max_iter=5000
    )
    clf.fit(X_tr, y_tr)
    n = len(y_tr)
    r1 = 1.0 if l1_ratio is None else l1_ratio
    w, b = clf.coef_[0], clf.intercept_[0]
    r = expit(X_tr @ w + b) - y_tr
    g = X_tr.T @ r / n + (1 - r1) * w / (C * n)  # smooth part
    lam = r1 / (C * n)
    zero = w == 0
    assert zero.sum() >= 5  # the lasso selects features
    assert np.all(np.abs(g[zero]) <= lam + 1e-7)
    np.testing.assert_allclose(g[~zero], -lam * np.sign(w[~zero]), atol=1e-7)
    assert abs(r.mean()) <= 1e-7  # intercept unpenalized
    assert clf.score(X_te, y_te) >= 0.95


def test_unsupported_pairs_and_bad_params(cancer):
    X_tr, _, y_tr, _ = cancer
    with pytest.raises(ValueError, match="not differentiable at 0.*solver='proximal'"):
        LogisticRegression(penalty="l1", solver="newton").fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="needs l1_ratio"):
        LogisticRegression(penalty="elasticnet", solver="proximal").fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="batch_size applies to solver='sgd' or 'adam'"):
        LogisticRegression(batch_size=8).fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="C must be > 0"):
        LogisticRegression(C=0.0).fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="penalty must be one of"):
        LogisticRegression(penalty="l3").fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X_tr, np.zeros(len(X_tr)))
    with pytest.warns(ConvergenceWarning, match="Raise max_iter"):
        LogisticRegression(solver="gd", max_iter=5).fit(X_tr, y_tr)


def test_no_overflow_for_huge_logits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * 1e3
    y = (X[:, 0] > 0).astype(int)  # separable: weights grow and logits reach 1e3 and beyond
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(C=1e6, max_iter=30).fit(X, y)
        P = clf.predict_proba(X)
        logP = clf.predict_log_proba(X)
    assert np.abs(clf.decision_function(X)).max() > 1e2
    assert np.all(np.isfinite(logP)) and np.allclose(P.sum(1), 1.0)
    assert clf.score(X, y) == 1.0


def test_float32_in_float32_out(cancer):
    X_tr, X_te, y_tr, y_te = cancer
    clf = LogisticRegression().fit(X_tr.astype(np.float32), y_tr)
    assert clf.coef_.dtype == np.float32 and clf.predict_proba(X_te.astype(np.float32)).dtype == np.float32
    ref = LogisticRegression().fit(X_tr, y_tr)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5, atol=1e-6)  # float32 rounding of X


# ---------------------------------------------------------------- multiclass


def test_multiclass_logistic_matches_sklearn_multinomial():
    lm = pytest.importorskip("sklearn.linear_model")
    d = datasets.load("iris")
    X = Standardizer().fit_transform(d.X)
    labels = np.array(d.target_names)[d.y]  # string labels
    ours = LogisticRegression(C=1.0).fit(X, labels)
    ref = lm.LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X, labels)
    assert ours.coef_.shape == (3, 4) and list(ours.classes_) == list(ref.classes_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_softmax_digits(digits):
    lm = pytest.importorskip("sklearn.linear_model")
    X_tr, X_te, y_tr, y_te = digits
    ours = SoftmaxRegression(C=1.0, tol=1e-8).fit(X_tr, y_tr)
    ref = lm.LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X_tr, y_tr)
    assert ours.score(X_te, y_te) >= 0.95
    assert ours.score(X_te, y_te) == ref.score(X_te, y_te)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X_te), ref.predict_proba(X_te), atol=1e-4)
    # probabilities by hand from the fitted parameters
    np.testing.assert_allclose(
        ours.predict_proba(X_te), softmax(X_te @ ours.coef_.T + ours.intercept_, axis=1)
    )


def test_softmax_natural_gradient_and_newton_small():
    d = datasets.load("iris")
    X = Standardizer().fit_transform(d.X)
    ng = SoftmaxRegression(solver="natural_gradient", tol=1e-8, max_iter=50).fit(X, d.y)
    newton = SoftmaxRegression(solver="newton", tol=1e-8, max_iter=50).fit(X, d.y)
    lb = SoftmaxRegression(tol=1e-8).fit(X, d.y)
    assert ng.n_iter_ <= 15 and newton.n_iter_ <= 15
    np.testing.assert_allclose(ng.coef_, lb.coef_, atol=1e-6)
    np.testing.assert_allclose(newton.coef_, lb.coef_, atol=1e-6)


@pytest.mark.parametrize("penalty", ["l2", None])
def test_softmax_newton_two_classes_flat_directions(penalty):
    # softmax is unchanged by shifting every class's logit alike: the Hessian is singular along
    # that direction (it used to stop Newton with LinAlgError); the fit must match scikit-learn's
    lm = pytest.importorskip("sklearn.linear_model")
    X = 3 * np.random.default_rng(0).uniform(size=(20, 5))
    y = (X[:, 0] > 1.5).astype(int) + 1
    X[:4, 1] += 3 * (y[:4] == 1)  # not separable, so the unpenalized optimum exists
    clf = SoftmaxRegression(solver="newton", penalty=penalty, tol=1e-10).fit(X, y)
    # two-class softmax is the logistic model in w = w_2 - w_1; its L2 term on both rows is
    # |w|^2 / 4 at the optimum (w_1 = -w_2), scikit-learn's |w|^2 / 2 with C doubled
    ref = lm.LogisticRegression(C=2.0 if penalty else np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert clf.n_iter_ <= 30
