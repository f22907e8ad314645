"""The estimator base: parameters, clone, scores, input checks, label encoding."""

import numpy as np
import pytest

from slopes.ml import LinearRegression, LogisticRegression, SoftmaxRegression
from slopes.ml.estimator import (
    BaseEstimator,
    ClassifierMixin,
    NotFittedError,
    RegressorMixin,
    check_choice,
    check_number,
    DataConversionWarning,
    check_X,
    check_X_y,
    encode_labels,
)

ESTIMATORS = [LinearRegression, LogisticRegression, SoftmaxRegression]


class Wrapper(BaseEstimator):
    def __init__(self, inner=None, k=3):
        self.inner = inner
        self.k = k


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_sklearn_clone_copies_params_not_fit(cls):
    base = pytest.importorskip("sklearn.base")
    est = cls(max_iter=50, tol=1e-5)
    est.fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    twin = base.clone(est)
    assert type(twin) is cls and twin is not est
    assert twin.get_params() == est.get_params()
    assert not hasattr(twin, "coef_")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_get_set_params_round_trip(cls):
    est = cls()
    params = est.get_params()
    assert list(params) == [p for p in cls.__init__.__code__.co_varnames[1 : len(params) + 1]]
    est.set_params(max_iter=5, tol=1e-3)
    assert est.max_iter == 5 and est.tol == 1e-3
    assert cls(**est.get_params()).get_params() == est.get_params()
    with pytest.raises(ValueError, match="invalid parameter 'nope'.*valid parameters"):
        est.set_params(nope=1)


def test_repr_shows_only_non_default_params():
    assert repr(LogisticRegression()) == "LogisticRegression()"
    assert repr(LogisticRegression(C=0.5, solver="lbfgs")) == "LogisticRegression(C=0.5, solver='lbfgs')"
    # 1 (int) differs in type from the default 1.0, so it is shown
    assert repr(LogisticRegression(C=1)) == "LogisticRegression(C=1)"


def test_nested_params_deep_and_set():
    w = Wrapper(inner=LinearRegression(alpha=2.0))
    deep = w.get_params(deep=True)
    assert deep["inner__alpha"] == 2.0 and deep["k"] == 3
    assert "inner__alpha" not in w.get_params(deep=False)
    w.set_params(inner__alpha=5.0, k=4)
    assert w.inner.alpha == 5.0 and w.k == 4
    with pytest.raises(ValueError, match="not an estimator"):
        w.set_params(k__x=1)


def test_varargs_init_is_refused():
    class Bad(BaseEstimator):
        def __init__(self, *args):
            self.args = args

    with pytest.raises(TypeError, match="name every parameter"):
        Bad().get_params()


def test_missing_attribute_names_the_fix():
    class Forgetful(BaseEstimator):
        def __init__(self, a=1):
            pass

    with pytest.raises(AttributeError, match=r"self\.a = a"):
        Forgetful().get_params()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_before_fit_is_not_fitted_error(cls):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        cls().predict(np.zeros((2, 1)))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_feature_count_checked_at_predict():
    est = LinearRegression().fit(np.eye(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="X has 2 features, but LinearRegression is expecting 3 features"):
        est.predict(np.zeros((1, 2)))


def test_check_X_errors_name_problem_and_fix():
    with pytest.raises(ValueError, match=r"got shape \(5,\).*X\.reshape\(-1, 1\) for one feature"):
        check_X(np.arange(5.0))
    with pytest.raises(ValueError, match=r"2-D \(got shape \(\)\)"):
        check_X(3.0)
    with pytest.raises(ValueError, match=r"flatten each sample"):
        check_X(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="0 rows"):
        check_X(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"NaN or inf \(1 entries, first at index \(1, 0\)\)"):
        check_X([[1.0, 2.0], [np.nan, 3.0]])
    with pytest.raises(TypeError, match="must be numeric.*one-hot"):
        check_X([["a", "b"]])
    with pytest.raises(ValueError, match="Complex data not supported.*np.real"):
        check_X(np.ones((2, 2), complex))
    with pytest.raises(TypeError, match=r"argument must be a string or a number.*encode categories"):
        check_X(np.array([[1.0, {"a": 1}]], dtype=object))
    assert check_X(np.array([[1.0, 2]], dtype=object)).dtype == np.float64  # numbers stored as objects


def test_check_X_dtypes():
    assert check_X(np.ones((2, 2), np.float32)).dtype == np.float32
    assert check_X(np.ones((2, 2), np.float16)).dtype == np.float32
    assert check_X([[1, 2]]).dtype == np.float64
    assert check_X(np.ones((2, 2), bool)).dtype == np.float64


def test_check_X_y():
    X, y = check_X_y(np.ones((2, 1), np.float32), [1, 2], y_numeric=True)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match="X has 2 rows but y has 3 entries"):
        check_X_y(np.ones((2, 1)), [1, 2, 3])
    with pytest.warns(DataConversionWarning, match=r"column-vector y.*1-D y"):
        _, y = check_X_y(np.ones((2, 1)), np.ones((2, 1)))
    assert y.shape == (2,)
    with pytest.raises(ValueError, match=r"requires y to be passed.*fit\(X, y\)"):
        check_X_y(np.ones((2, 1)), None)
    with pytest.raises(ValueError, match="y contains NaN"):
        check_X_y(np.ones((2, 1)), [1.0, np.nan], y_numeric=True)


def test_encode_labels_any_type():
    for y in (["b", "a", "b", "c"], [True, False, True, False], [2.0, -1.0, 2.0, 7.0], [10, 3, 10, 3]):
        classes, codes = encode_labels(y)
        assert classes.tolist() == sorted(set(y))  # reference: Python's own sort
        assert classes[codes].tolist() == list(y)
        assert codes.dtype == np.int64
    with pytest.raises(ValueError, match="at least 2 classes"):
        encode_labels([1, 1, 1])
    # non-integer floats are a regression target, as scikit-learn's type_of_target says
    with pytest.raises(ValueError, match="Unknown label type: continuous.*use a regressor"):
        encode_labels([2.5, -1.0, 2.5, 7.0])


def test_classifier_score_is_accuracy_and_fit_with_string_labels():
    metrics = pytest.importorskip("sklearn.metrics")
    X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array(["neg", "neg", "pos", "neg", "pos", "pos"])
    clf = LogisticRegression().fit(X, y)
    assert clf.score(X, y) == metrics.accuracy_score(y, clf.predict(X))
    assert set(clf.predict(X)) <= {"neg", "pos"}


def test_regressor_score_is_r2():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=30)
    est = LinearRegression().fit(X[:20], y[:20])
    pred = est.predict(X[20:])
    by_hand = 1 - np.sum((y[20:] - pred) ** 2) / np.sum((y[20:] - y[20:].mean()) ** 2)
    assert est.score(X[20:], y[20:]) == pytest.approx(by_hand, rel=1e-12)
    assert est.score(X[20:], y[20:]) == pytest.approx(metrics.r2_score(y[20:], pred), rel=1e-12)


def test_r2_constant_target():
    class Const(RegressorMixin, BaseEstimator):
        def __init__(self, c=1.0):
            self.c = c

        def predict(self, X):
            return np.full(len(X), self.c)

    assert Const(1.0).score(np.zeros((3, 1)), [1.0, 1.0, 1.0]) == 1.0
    assert Const(2.0).score(np.zeros((3, 1)), [1.0, 1.0, 1.0]) == 0.0


def test_classifier_mixin_shape_mismatch():
    class Zero(ClassifierMixin, BaseEstimator):
        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(ValueError, match="y has 3 labels but X has 2 rows"):
        Zero().score(np.zeros((2, 1)), [0, 0, 0])


def test_check_number_and_choice():
    assert check_number(3, "max_iter", low=1, integer=True) == 3
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        check_number(2.5, "max_iter", integer=True)
    with pytest.raises(TypeError, match="must be a number"):
        check_number(True, "C")
    with pytest.raises(ValueError, match="must be finite"):
        check_number(float("nan"), "C")
    with pytest.raises(ValueError, match="l1_ratio must be <= 1"):
        check_number(1.5, "l1_ratio", low=0, high=1)
    assert check_number(None, "lr", allow_none=True) is None
    with pytest.raises(ValueError, match=r"solver must be one of \('a', 'b'\), got 'c'"):
        check_choice("c", "solver", ("a", "b"))
    with pytest.raises(ValueError, match="must be one of"):
        check_choice(np.ones(2), "solver", ("a", "b"))
