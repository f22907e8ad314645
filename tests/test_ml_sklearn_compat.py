"""slopes' estimators inside scikit-learn: its own checks, tools, and scores side by side.

Every test here needs scikit-learn (part of the ``dev`` extra) and skips cleanly without it;
``import slopes`` itself must not need it, which a subprocess with scikit-learn hidden checks.
"""

import pickle
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning  # noqa: E402
from sklearn.exceptions import NotFittedError as SkNotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import slopes.ml as ml  # noqa: E402

# small networks with a larger step: scikit-learn's checks fit each estimator ~50 times
SMALL_MLP = {"hidden_layer_sizes": (16,), "learning_rate_init": 0.02, "max_iter": 50}


with warnings.catch_warnings():
    # slopes' BaseEstimator is its own by design (scikit-learn stays optional); say so once, here
    warnings.filterwarnings("ignore", "Estimator .* does not inherit from `sklearn.base.BaseEstimator`")
    SKLEARN_CHECKS = parametrize_with_checks(
        [
            ml.LinearRegression(),
            ml.LinearRegression(solver="lbfgs", alpha=1.0),
            ml.LogisticRegression(),
            ml.LogisticRegression(solver="sgd"),  # with partial_fit
            ml.SoftmaxRegression(),
            ml.SoftmaxRegression(solver="adam", learning_rate=0.05, max_iter=200),  # with partial_fit
            ml.MLPClassifier(**SMALL_MLP),
            ml.MLPRegressor(**SMALL_MLP),
            ml.Standardizer(),
            # configurations with their own paths: a flat objective on one sample, the softmax
            # Hessian's flat directions, a validation split of too few rows, float32 weights
            ml.LinearRegression(solver="gd"),
            ml.SoftmaxRegression(solver="newton"),
            ml.MLPRegressor(early_stopping=True, n_iter_no_change=20, **{**SMALL_MLP, "max_iter": 200}),
            ml.MLPRegressor(mixed_precision=True, **SMALL_MLP),
        ]
    )


@SKLEARN_CHECKS
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter kept small
def test_passes_sklearn_check_estimator(estimator, check):
    check(estimator)


def test_import_needs_no_sklearn():
    code = (
        "import sys\n"
        "import slopes, slopes.ml as ml\n"
        "assert 'sklearn' not in sys.modules, 'import slopes imported scikit-learn'\n"
        "sys.modules['sklearn'] = None  # now any import of it fails\n"
        "clf = ml.LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])\n"
        "assert clf.predict([[3.0]]).tolist() == [1]\n"
        "print(ml.Standardizer().set_output(transform='default').fit_transform([[0.0], [2.0]]).ravel())\n"
        "try:\n"
        "    ml.LinearRegression().predict([[0.0]])\n"
        "except ml.NotFittedError as e:\n"
        "    print(type(e).__mro__[1].__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[-1.  1.]", "ValueError"]  # plain slopes class, no bridge


def test_issue_grid_search_and_cross_val_score_equal_sklearn_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    grid = {"logisticregression__C": [0.01, 0.1, 1.0]}
    ours = GridSearchCV(make_pipeline(StandardScaler(), ml.LogisticRegression()), grid).fit(X, y)
    ref = GridSearchCV(make_pipeline(StandardScaler(), SkLogisticRegression()), grid).fit(X, y)
    # the same objective, solved to tol: the same predictions, so the same fold scores
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])
    assert ours.best_params_ == ref.best_params_
    # the issue's own calls: no AttributeError, no nan scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)  # raw, unstandardized features
        search = GridSearchCV(ml.LogisticRegression(), {"C": [0.1, 1]}).fit(X[:, :5], y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = cross_val_score(make_pipeline(StandardScaler(), ml.LogisticRegression()), X, y)
    ref_scores = cross_val_score(make_pipeline(StandardScaler(), SkLogisticRegression()), X, y)
    np.testing.assert_allclose(scores, ref_scores)


def test_roles_clone_and_sklearn_exception_classes():
    assert is_classifier(ml.MLPClassifier()) and is_classifier(ml.SoftmaxRegression())
    assert is_regressor(ml.MLPRegressor()) and is_regressor(ml.LinearRegression())
    est = ml.MLPRegressor(hidden_layer_sizes=(3,), alpha=0.5)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    with pytest.raises(SkNotFittedError, match="not fitted yet"):  # scikit-learn catches its own class
        ml.LogisticRegression().predict([[0.0]])
    with pytest.raises(ml.NotFittedError) as caught:  # and slopes' still works
        ml.LogisticRegression().predict([[0.0]])
    back = pickle.loads(pickle.dumps(caught.value))  # as a joblib worker sends it
    assert type(back) is ml.NotFittedError and back.args == caught.value.args
    with pytest.warns(SkConvergenceWarning):
        ml.LogisticRegression(solver="gd", max_iter=2).fit([[0.0], [1.0], [2.0]], [0, 1, 1])


def test_set_output_default_in_a_pipeline_and_global_config():
    X = load_diabetes().data
    pipe = make_pipeline(ml.Standardizer(), StandardScaler()).set_output(transform="default")
    out = pipe.fit_transform(X)
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, StandardScaler().fit_transform(X), atol=1e-12)
    with sklearn.config_context(transform_output="default"):
        assert type(ml.Standardizer().fit_transform(X)) is np.ndarray
    # clone (as GridSearchCV does) keeps the choice, as for scikit-learn's own transformers
    twin = clone(ml.Standardizer().set_output(transform="pandas"))
    assert twin._sklearn_output_config == {"transform": "pandas"}
    names = ml.Standardizer().fit(X).get_feature_names_out()
    assert names.tolist() == [f"x{i}" for i in range(X.shape[1])]
    with pytest.raises(ValueError, match="transform must be one of"):
        ml.Standardizer().set_output(transform="arrow")


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(load_diabetes().data[:5, :2], columns=["age", "sex"], index=list("abcde"))
    out = ml.Standardizer().set_output(transform="pandas").fit(X).transform(X)
    ref = StandardScaler().set_output(transform="pandas").fit(X).transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list("abcde")
    assert list(out.columns) == list(ref.columns) == ["age", "sex"]
    np.testing.assert_allclose(out.to_numpy(), ref.to_numpy())


def test_set_output_pandas_missing_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    std = ml.Standardizer().set_output(transform="pandas").fit([[0.0], [2.0]])
    with pytest.raises(ImportError, match="needs pandas, which is not installed.*transform='default'"):
        std.transform([[1.0]])


# --- partial_fit -----------------------------------------------------------------------------


def test_partial_fit_continues_the_optimizer_state():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    lr0, batch = 0.01, 100
    clf = ml.MLPClassifier((8,), learning_rate_init=lr0, batch_size=batch, schedule="cosine", max_iter=4)
    for _ in range(3):
        clf.partial_fit(X, y[:300], classes=np.arange(10))
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.t_ == 9
    # the cosine schedule runs over max_iter * 3 = 12 steps; the third call starts at step 6:
    # lr_t = lr0 (1 + cos(pi t / 12)) / 2 (closed form), so the step count was carried over
    t = np.arange(6, 9)
    np.testing.assert_allclose(clf.history_.step["lr"], lr0 * (1 + np.cos(np.pi * t / 12)) / 2, rtol=1e-12)


def test_partial_fit_streaming_matches_sklearn_partial_fit():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = ml.train_test_split(X, y, seed=0, stratify=True)
    sc = ml.Standardizer().fit(Xtr)
    Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    chunks = np.array_split(np.arange(len(Xtr)), 5)
    ours = ml.MLPClassifier((32,), learning_rate_init=0.01, random_state=0)
    ref = SkMLPClassifier((32,), learning_rate_init=0.01, random_state=0)
    for _ in range(4):
        for idx in chunks:
            ours.partial_fit(Xtr[idx], ytr[idx], classes=np.arange(10))
            ref.partial_fit(Xtr[idx], ytr[idx], classes=np.arange(10))
    assert ours.n_iter_ == 20
    assert ours.score(Xte, yte) >= ref.score(Xte, yte) - 0.03


def test_logistic_partial_fit_is_adam_carried_across_calls():
    # two full-chunk calls = two Adam steps on the scaled objective, by hand (closed-form gradient)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X[:100])
    y = y[:100]
    lr, C, n = 0.05, 2.0, 100
    clf = ml.LogisticRegression(solver="adam", learning_rate=lr, C=C)
    clf.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    A = np.hstack([X, np.ones((n, 1))])
    theta, m, v = np.zeros(31), np.zeros(31), np.zeros(31)
    for t in (1, 2):
        p = 1.0 / (1.0 + np.exp(-A @ theta))
        g = A.T @ (p - y) / n
        g[:30] += theta[:30] / (C * n)  # the L2 term w^2 / 2 scaled by 1 / (C n); no intercept
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        theta = theta - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(clf.coef_[0], theta[:30], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(clf.intercept_, theta[30:], rtol=1e-9, atol=1e-12)
    assert clf.n_iter_ == 2
    assert not hasattr(ml.LogisticRegression(), "partial_fit")  # newton has no epochs to continue


def test_partial_fit_errors_name_the_fix():
    X, y = np.array([[0.0], [1.0]]), np.array([0, 1])
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        ml.MLPClassifier().partial_fit(X, y)
    clf = ml.MLPClassifier((2,)).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes \[0, 1\]"):
        clf.partial_fit(X, [0, 2])
    with pytest.raises(ValueError, match="differs from the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    reg = ml.MLPRegressor((2,)).partial_fit(X, [0.0, 1.0])
    with pytest.raises(ValueError, match="y has 2 outputs but MLPRegressor was fitted with 1"):
        reg.partial_fit(X, np.zeros((2, 2)))


# --- scores next to scikit-learn's at the same parameters ------------------------------------


def standardized_split(loader):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = ml.train_test_split(X, y, test_size=0.25, seed=0)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte


def test_mlp_regressor_on_diabetes_reaches_sklearn_score():
    Xtr, Xte, ytr, yte = standardized_split(load_diabetes)
    params = {"hidden_layer_sizes": (32,), "max_iter": 2000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)  # both run all 2000 epochs
        ours = ml.MLPRegressor(**params).fit(Xtr, ytr)
        ref = SkMLPRegressor(**params).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.05
    # the per-sample epoch loss falls smoothly, as scikit-learn's: no epoch-to-epoch jumps
    curve = np.asarray(ours.loss_curve_)
    assert np.max(np.diff(curve) / curve[:-1]) < 1e-3
    assert abs(ours.n_iter_ - ref.n_iter_) <= 0.1 * ref.n_iter_


@pytest.mark.parametrize("loader", [load_digits, load_breast_cancer])
def test_mlp_classifier_accuracy_matches_sklearn(loader):
    Xtr, Xte, ytr, yte = standardized_split(loader)
    ours, ref = [], []
    for seed in range(3):  # different random streams: compare the means over seeds
        params = {"hidden_layer_sizes": (32,), "max_iter": 2000, "random_state": seed}
        ours.append(ml.MLPClassifier(**params).fit(Xtr, ytr).score(Xte, yte))
        ref.append(SkMLPClassifier(**params).fit(Xtr, ytr).score(Xte, yte))
    assert abs(np.mean(ours) - np.mean(ref)) <= 0.01


def test_stopping_epoch_count_equals_sklearn_mlp():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    # tol above any improvement: only the stopping rule decides the epoch count
    for patience in (1, 3):
        params = {"tol": 100.0, "n_iter_no_change": patience, "max_iter": 50}
        ours = ml.MLPClassifier((8,), **params).fit(X, y[:300])
        ref = SkMLPClassifier((8,), **params).fit(X, y[:300])
        assert ours.n_iter_ == ref.n_iter_ == patience + 2


# --- feature names (scikit-learn's contract; pandas may be absent, so a stand-in frame) -------


class Frame:
    """What an estimator reads of a DataFrame: ``columns`` and ``to_numpy()``."""

    def __init__(self, values, columns):
        self.values, self.columns = np.asarray(values, dtype=float), list(columns)

    def to_numpy(self):
        return self.values


def test_feature_names_are_remembered_and_checked():
    X = np.arange(12.0).reshape(4, 3) ** 2
    y = np.array([0, 1, 0, 1])
    names = ["age", "bmi", "bp"]
    std = ml.Standardizer().fit(Frame(X, names))
    assert std.feature_names_in_.tolist() == names == std.get_feature_names_out().tolist()
    clf = ml.LogisticRegression(solver="sgd").partial_fit(Frame(X, names), y, classes=[0, 1])
    # the texts scikit-learn's check_dataframe_column_names_consistency matches
    head = "The feature names should match those that were passed during fit.\n"
    cases = [
        (names[::-1], "Feature names must be in the same order as they were in fit.\n"),
        (["x", "y", "z"], "Feature names unseen at fit time:\n- x\n- y\n- z\n"),
        (["age", "bmi", "zz"], "Feature names unseen at fit time:\n- zz\nFeature names seen at fit time, yet now missing:\n- bp\n"),
    ]
    for columns, detail in cases:
        for call in (std.transform, clf.predict, lambda Xb: clf.partial_fit(Xb, y)):
            with pytest.raises(ValueError, match=re.escape(head + detail)):
                call(Frame(X, columns))
    with pytest.warns(UserWarning, match="X does not have valid feature names, but Standardizer was fitted"):
        std.transform(X)
    plain = ml.MLPRegressor((2,), max_iter=2, tol=None).fit(X, y.astype(float))
    with pytest.warns(UserWarning, match="X has feature names, but MLPRegressor was fitted without"):
        plain.predict(Frame(X, names))
    assert not hasattr(std.fit(X), "feature_names_in_")  # refit without names forgets them
    with pytest.raises(TypeError, match="all input features have string names.*astype\\(str\\)"):
        ml.LinearRegression().fit(Frame(X, ["a", 1, "c"]), y)
