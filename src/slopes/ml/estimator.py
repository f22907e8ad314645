"""The scikit-learn estimator convention for slopes models: parameters, scores, input checks.

An estimator stores every ``__init__`` argument unchanged as an attribute of the same name
and validates nothing there; ``fit(X, y)`` validates, learns attributes ending in ``_`` and
returns ``self``. That contract is what lets :meth:`BaseEstimator.get_params`,
:meth:`BaseEstimator.set_params` and ``sklearn.base.clone`` work without per-class code.

The helpers (:func:`check_X`, :func:`check_X_y`, :func:`check_is_fitted`,
:func:`encode_labels`, :func:`check_number`, :func:`check_choice`) are shared by every
estimator, so bad input gets one kind of message everywhere: what is wrong and how to fix it.

Examples
--------
>>> import numpy as np
>>> from slopes.ml.estimator import BaseEstimator, RegressorMixin, check_X_y, check_X
>>> class MeanRegressor(RegressorMixin, BaseEstimator):
...     def __init__(self, shift=0.0):
...         self.shift = shift
...     def fit(self, X, y):
...         X, y = check_X_y(X, y, y_numeric=True)
...         self.n_features_in_ = X.shape[1]
...         self.mean_ = y.mean() + self.shift
...         return self
...     def predict(self, X):
...         X = self._check_predict_X(X)
...         return np.full(X.shape[0], self.mean_)
>>> est = MeanRegressor(shift=1.0)
>>> est
MeanRegressor(shift=1.0)
>>> est.get_params()
{'shift': 1.0}
>>> est.fit([[0.0], [1.0]], [1.0, 3.0]).predict([[5.0]])
array([3.])
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from typing import Any

import numpy as np

from .._display import Card, table_html
from ..distributed import is_dask
from ..optim._validate import check_number  # noqa: F401  (shared with the optimizers; used by the estimators)
from . import sklearn_bridge

__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "RegressorMixin",
    "TransformerMixin",
    "NotFittedError",
    "ConvergenceWarning",
    "DataConversionWarning",
    "check_X",
    "check_X_y",
    "check_same_rows",
    "one_per_sample",
    "r2_from_sums",
    "check_is_fitted",
    "encode_labels",
    "feature_names",
    "check_number",
    "check_choice",
]


class NotFittedError(ValueError, AttributeError):
    """Raised when ``predict`` (or similar) is called before ``fit``.

    A subclass of both ValueError and AttributeError, as scikit-learn's, so code that
    catches either keeps working.

    Examples
    --------
    >>> from slopes.ml.estimator import NotFittedError
    >>> issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    True
    """


class DataConversionWarning(UserWarning):
    """Warned when input is accepted in another shape or type than expected (e.g. ``y`` of shape (n, 1)).

    Examples
    --------
    >>> import warnings
    >>> from slopes.ml.estimator import DataConversionWarning, check_X_y
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     X, y = check_X_y([[0.0], [1.0]], [[0], [1]])
    >>> y.shape, caught[0].category.__name__
    ((2,), 'DataConversionWarning')
    """


class ConvergenceWarning(UserWarning):
    """Warned when an iterative ``fit`` stops before its tolerance is met (the model is still usable).

    Examples
    --------
    >>> import warnings
    >>> from slopes.ml.estimator import ConvergenceWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("raise max_iter", ConvergenceWarning)
    >>> caught[0].category.__name__
    'ConvergenceWarning'
    """


# ---------------------------------------------------------------- parameters


def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if type(value) is not type(default):  # 1 vs 1.0 vs True: shown, as they differ in intent
        return False
    try:
        return bool(value == default)
    except (ValueError, TypeError):  # arrays and other objects without a scalar ==
        return False


class BaseEstimator:
    """Base class giving ``get_params``, ``set_params`` and a ``repr`` from ``__init__``'s signature.

    Subclasses must list every parameter explicitly in ``__init__`` (no ``*args``/``**kwargs``)
    and store each unchanged under its own name; validation belongs in ``fit``.

    Examples
    --------
    >>> from slopes.ml.estimator import BaseEstimator
    >>> class Model(BaseEstimator):
    ...     def __init__(self, alpha=1.0, solver="lbfgs"):
    ...         self.alpha = alpha
    ...         self.solver = solver
    >>> m = Model(alpha=0.1)
    >>> m
    Model(alpha=0.1)
    >>> m.set_params(solver="newton").get_params()
    {'alpha': 0.1, 'solver': 'newton'}
    """

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        """``{name: default}`` for the parameters of ``cls.__init__``, in signature order."""
        init = cls.__init__
        if init is object.__init__:
            return {}
        out = {}
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"{cls.__name__}.__init__ takes *{p.name}; estimators must name every parameter "
                    "explicitly so get_params/set_params/clone can find them"
                )
            out[p.name] = p.default
        return out

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters as a dict.

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of parameters that are estimators, as ``name__sub``.

        Returns
        -------
        dict of str to object

        Examples
        --------
        >>> from slopes.ml.estimator import BaseEstimator
        >>> class M(BaseEstimator):
        ...     def __init__(self, C=1.0):
        ...         self.C = C
        >>> M(C=3.0).get_params()
        {'C': 3.0}
        """
        out = {}
        for name in self._param_defaults():
            try:
                value = getattr(self, name)
            except AttributeError:
                raise AttributeError(
                    f"{type(self).__name__} has no attribute {name!r}: its __init__ must store every "
                    f"argument unchanged (self.{name} = {name})"
                ) from None
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params(deep=True).items())
            out[name] = value
        return out

    def set_params(self, **params: Any) -> BaseEstimator:
        """Set constructor parameters (``name`` or nested ``name__sub``); returns ``self``.

        Nothing is validated here (``fit`` validates), except that each name must exist.

        Examples
        --------
        >>> from slopes.ml.estimator import BaseEstimator
        >>> class M(BaseEstimator):
        ...     def __init__(self, C=1.0):
        ...         self.C = C
        >>> M().set_params(C=0.5).C
        0.5
        """
        valid = self._param_defaults()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid parameters are "
                    f"{sorted(valid)}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            inner = getattr(self, name)
            if not hasattr(inner, "set_params"):
                raise ValueError(f"parameter {name!r} of {type(self).__name__} is not an estimator")
            inner.set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        shown = [
            f"{name}={getattr(self, name, None)!r}"
            for name, default in defaults.items()
            if not _is_default(getattr(self, name, None), default)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def _params(self) -> tuple:
        """``(header, rows)``: every parameter, its value, and ``set`` where that is not the default."""
        rows = [
            [name, getattr(self, name, None), "" if _is_default(getattr(self, name, None), d) else "set"]
            for name, d in self._param_defaults().items()
        ]
        return ["parameter", "value", ""], rows

    def _card(self) -> Card:
        fitted = any(k.endswith("_") and not k.startswith("_") for k in vars(self))
        return Card("fitted" if fitted else "not fitted", "good" if fitted else "info", repr(self),
                    table=self._params())

    def _repr_html_(self) -> str:
        """scikit-learn's diagram where scikit-learn is installed, else a plain table of the parameters."""
        return sklearn_bridge.html_repr(self, lambda: self._card().html())

    def _get_params_html(self, deep=True, doc_link=""):
        """The parameters table that scikit-learn's diagram shows in an estimator's box."""
        return _HTMLFragment(table_html(*self._params()))

    def __sklearn_tags__(self):
        """scikit-learn's description of this estimator (``sklearn.utils.Tags``).

        Only scikit-learn calls this, so scikit-learn is imported here and nowhere else:
        slopes runs without it. The mixins below add the classifier, regressor or
        transformer parts, as scikit-learn's own mixins do.

        Examples
        --------
        >>> from slopes.ml import LinearRegression
        >>> tags = LinearRegression().__sklearn_tags__()
        >>> tags.estimator_type, tags.target_tags.required
        ('regressor', True)
        """
        return sklearn_bridge.base_tags()

    def _track_feature_names(self, X, reset: bool) -> None:
        """Remember ``X``'s column names (``reset``: in fit) or check them against fit's.

        scikit-learn's contract: ``feature_names_in_`` exists only when fit saw string
        column names; later calls with other names, or another order, are an error, and a
        switch between named and unnamed input is warned about.
        """
        names = feature_names(X)
        if reset:
            if names is None:
                self.__dict__.pop("feature_names_in_", None)
            else:
                self.feature_names_in_ = names
            return
        fitted = getattr(self, "feature_names_in_", None)
        cls = type(self).__name__
        if fitted is None and names is not None:
            warnings.warn(
                f"X has feature names, but {cls} was fitted without feature names; its columns are "
                f"taken in order (fit on a DataFrame to have them checked)",
                UserWarning,
                3,
            )
        elif fitted is not None and names is None:
            warnings.warn(
                f"X does not have valid feature names, but {cls} was fitted with feature names; its "
                f"columns are taken in fit's order (pass a DataFrame to have them checked)",
                UserWarning,
                3,
            )
        elif fitted is not None and not np.array_equal(fitted, names):
            raise ValueError(_names_mismatch(fitted, names))

    # shared by every predict-like method of subclasses
    def _check_predict_X(self, X) -> np.ndarray:
        """``X`` checked for prediction: fitted estimator, 2-D finite floats, right feature count and names."""
        check_is_fitted(self, "n_features_in_")
        self._track_feature_names(X, reset=False)
        X = check_X(X)
        self._check_n_features(X)
        return X

    def _check_n_features(self, X: np.ndarray) -> None:
        """``X`` (checked) has the columns of fit, or scikit-learn's message says how many are expected."""
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input; pass rows with the same columns as in fit"
            )


class _HTMLFragment:
    """A piece of HTML in the wrapper scikit-learn's diagram reads it from (``_repr_html_inner``)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_inner(self) -> str:
        return self.html


class ClassifierMixin:
    """``score(X, y)`` = accuracy of ``predict(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.estimator import BaseEstimator, ClassifierMixin
    >>> class Always(ClassifierMixin, BaseEstimator):
    ...     def predict(self, X):
    ...         return np.array(["a"] * len(X))
    >>> Always().score(np.zeros((4, 1)), ["a", "a", "b", "a"])
    0.75
    """

    _estimator_type = "classifier"

    def __sklearn_tags__(self):
        return sklearn_bridge.with_role(super().__sklearn_tags__(), "classifier")

    def score(self, X, y, sample_weight=None) -> float:
        """Fraction of rows whose predicted label equals ``y`` (weighted by ``sample_weight``).

        Examples
        --------
        >>> import numpy as np
        >>> from slopes.ml.estimator import BaseEstimator, ClassifierMixin
        >>> class Zero(ClassifierMixin, BaseEstimator):
        ...     def predict(self, X):
        ...         return np.zeros(len(X), int)
        >>> Zero().score(np.zeros((2, 1)), [0, 1])
        0.5
        >>> Zero().score(np.zeros((2, 1)), [0, 1], sample_weight=[3.0, 1.0])
        0.75
        """
        if is_dask(X) or is_dask(y):
            from .lazy import dask_score  # dask is loaded already: a dask array came in

            return dask_score(self, X, y, sample_weight)
        y = _check_y(y)
        pred = self.predict(X)
        if pred.shape != y.shape:
            raise ValueError(f"y has {y.shape[0]} labels but X has {pred.shape[0]} rows")
        return float(np.average(pred == y, weights=_check_weights(sample_weight, y.shape[0])))


class RegressorMixin:
    """``score(X, y)`` = coefficient of determination R^2 of ``predict(X)``.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.estimator import BaseEstimator, RegressorMixin
    >>> class Identity(RegressorMixin, BaseEstimator):
    ...     def predict(self, X):
    ...         return np.asarray(X, float)[:, 0]
    >>> Identity().score([[1.0], [2.0], [3.0]], [1.0, 2.0, 4.0])
    0.7857142857142857
    """

    _estimator_type = "regressor"

    def __sklearn_tags__(self):
        return sklearn_bridge.with_role(super().__sklearn_tags__(), "regressor")

    def score(self, X, y, sample_weight=None) -> float:
        """``1 - sum w (y - pred)^2 / sum w (y - mean_w y)^2``, averaged over the columns of a 2-D ``y``.

        A constant ``y`` column (zero denominator) scores 1.0 for a perfect fit and 0.0
        otherwise, as scikit-learn's ``r2_score``.

        Examples
        --------
        >>> import numpy as np
        >>> from slopes.ml.estimator import BaseEstimator, RegressorMixin
        >>> class Zero(RegressorMixin, BaseEstimator):
        ...     def predict(self, X):
        ...         return np.zeros(len(X))
        >>> Zero().score([[0.0], [0.0]], [1.0, -1.0])
        0.0
        """
        if is_dask(X) or is_dask(y):
            from .lazy import dask_score  # dask is loaded already: a dask array came in

            return dask_score(self, X, y, sample_weight)
        y = np.asarray(y)
        y = (check_X(y, name="y") if y.ndim == 2 else _check_y(y, numeric=True)).astype(np.float64)
        pred = np.asarray(self.predict(X), dtype=np.float64)
        if pred.shape != y.shape:
            raise ValueError(f"y has shape {y.shape} but the predictions for X have shape {pred.shape}")
        w = _check_weights(sample_weight, y.shape[0])
        w = np.ones(y.shape[0]) if w is None else w
        Y, P = y.reshape(len(y), -1), pred.reshape(len(y), -1)
        ss_res = w @ (Y - P) ** 2
        ss_tot = w @ (Y - np.average(Y, axis=0, weights=w)) ** 2
        return r2_from_sums(ss_res, ss_tot)


def r2_from_sums(ss_res, ss_tot) -> float:
    """``1 - ss_res / ss_tot`` averaged over columns; a constant column (``ss_tot = 0``) scores 1.0 for
    a perfect fit, else 0.0, as scikit-learn's ``r2_score``.

    Examples
    --------
    >>> from slopes.ml.estimator import r2_from_sums
    >>> r2_from_sums(1.0, 4.0), r2_from_sums([0.0, 1.0], [0.0, 0.0])
    (0.75, 0.5)
    """
    ss_res, ss_tot = np.asarray(ss_res, float), np.asarray(ss_tot, float)
    flat = ss_tot == 0.0
    per_column = np.where(flat, (ss_res == 0.0).astype(float), 1.0 - ss_res / np.where(flat, 1.0, ss_tot))
    return float(np.mean(per_column))


class TransformerMixin:
    """``fit_transform``, ``set_output`` and ``get_feature_names_out`` for a feature-wise transformer.

    ``set_output(transform="pandas")`` (or scikit-learn's ``set_config(transform_output=
    "pandas")``) makes ``transform`` return a pandas DataFrame; pandas is imported only then.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.estimator import BaseEstimator, TransformerMixin
    >>> class Double(TransformerMixin, BaseEstimator):
    ...     def fit(self, X, y=None):
    ...         self.n_features_in_ = np.shape(X)[1]
    ...         return self
    ...     def transform(self, X):
    ...         return self._wrap_output(2 * self._check_predict_X(X), X)
    >>> Double().fit_transform([[1.0, 2.0]])
    array([[2., 4.]])
    >>> Double().fit([[1.0, 2.0]]).get_feature_names_out().tolist()
    ['x0', 'x1']
    """

    def __sklearn_tags__(self):
        return sklearn_bridge.transformer_tags(super().__sklearn_tags__())

    def fit_transform(self, X, y=None):
        """``fit(X, y)`` then ``transform(X)``.

        Examples
        --------
        >>> from slopes.ml import Standardizer
        >>> Standardizer().fit_transform([[0.0], [2.0]])
        array([[-1.],
               [ 1.]])
        """
        return self.fit(X, y).transform(X)

    def set_output(self, *, transform=None):
        """Choose what ``transform`` returns: ``"default"`` (NumPy), ``"pandas"`` or ``"polars"``.

        ``None`` leaves the choice unchanged (scikit-learn's global ``transform_output``
        applies until one is set). Returns ``self``.

        Examples
        --------
        >>> from slopes.ml import Standardizer
        >>> Standardizer().set_output(transform="default").fit_transform([[0.0], [2.0]]).shape
        (2, 1)
        """
        if transform is not None:
            # the attribute scikit-learn's clone() copies, so GridSearchCV's clones keep the choice
            self._sklearn_output_config = {"transform": check_choice(transform, "transform", _CONTAINERS)}
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: the input's (``x0, x1, ...`` unless given), one per feature.

        Examples
        --------
        >>> from slopes.ml import Standardizer
        >>> Standardizer().fit([[0.0, 1.0]]).get_feature_names_out(["a", "b"]).tolist()
        ['a', 'b']
        """
        check_is_fitted(self, "n_features_in_")
        fitted = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if fitted is not None:
                return fitted.copy()
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        names = np.asarray(input_features, dtype=object)
        if fitted is not None and not np.array_equal(names, fitted):
            raise ValueError(
                f"input_features is not equal to feature_names_in_ {fitted.tolist()}; pass those names or None"
            )
        if names.shape != (self.n_features_in_,):
            raise ValueError(
                f"input_features has {names.size} names but {type(self).__name__} was fitted with "
                f"{self.n_features_in_} features; pass one name per column"
            )
        return names

    def _wrap_output(self, out: np.ndarray, X) -> Any:
        """``out`` in the container chosen by :meth:`set_output` (rows indexed as ``X``'s)."""
        chosen = getattr(self, "_sklearn_output_config", {}).get("transform")
        container = chosen or sklearn_bridge.global_transform_output()
        if container == "default":
            return out
        try:
            module = importlib.import_module(container)
        except ImportError:
            raise ImportError(
                f"set_output(transform={container!r}) needs {container}, which is not installed; "
                f"install it or use set_output(transform='default')"
            ) from None
        columns = list(self.get_feature_names_out())
        if container == "pandas":
            return module.DataFrame(out, columns=columns, index=getattr(X, "index", None), copy=False)
        return module.DataFrame(out, schema=columns, orient="row")


_CONTAINERS = ("default", "pandas", "polars")


def _check_weights(sample_weight, n: int) -> np.ndarray | None:
    """``sample_weight`` as n finite non-negative floats with a positive sum (None stays None)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; pass one weight per sample, shape ({n},)")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("sample_weight must be finite and >= 0 with a positive sum")
    return w


# ---------------------------------------------------------------- feature names


def feature_names(X) -> np.ndarray | None:
    """The column names of a DataFrame ``X`` when they are all strings, else None (as scikit-learn).

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.estimator import feature_names
    >>> class Frame:  # anything with .columns, e.g. a pandas DataFrame
    ...     columns = ["age", "bmi"]
    >>> feature_names(Frame()).tolist(), feature_names(np.zeros((2, 2)))
    (['age', 'bmi'], None)
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    strings = [isinstance(c, str) for c in names]
    if strings and all(strings):
        return names
    if any(strings):
        raise TypeError(
            "Feature names are only supported if all input features have string names; X has "
            "both string and non-string column names: convert them all, X.columns = X.columns.astype(str)"
        )
    return None


def _names_mismatch(fitted: np.ndarray, given: np.ndarray) -> str:
    """scikit-learn's message for columns that differ from fit's (its tools match on its text)."""

    def listed(names):
        shown = [f"- {name}\n" for name in names[:5]]
        return "".join(shown) + ("- ...\n" if len(names) > 5 else "")

    unseen = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    message = "The feature names should match those that were passed during fit.\n"
    if unseen:
        message += "Feature names unseen at fit time:\n" + listed(unseen)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listed(missing)
    if not (unseen or missing):
        message += "Feature names must be in the same order as they were in fit.\n"
    return message + "Select and order X's columns as in fit."


# ---------------------------------------------------------------- input checks


def _float_dtype(a: np.ndarray, name: str) -> np.dtype:
    """float32/float64 kept; bool/int become float64, float16 becomes float32; others refused."""
    kind = a.dtype.kind
    if kind == "f":
        return np.dtype(np.float32) if a.dtype.itemsize <= 4 else np.dtype(np.float64)
    if kind in "biu":
        return np.dtype(np.float64)
    if kind == "c":  # scikit-learn's tools look for "Complex data not supported"
        raise ValueError(
            f"Complex data not supported: {name} is complex; pass its real part (np.real({name})) "
            f"or split real/imag columns"
        )
    raise TypeError(
        f"{name} must be numeric, got dtype {a.dtype}; encode text/categorical columns as numbers "
        f"first (e.g. one-hot), then pass a float array"
    )


def _as_array(X, name: str) -> np.ndarray:
    """Anything array-like as an ndarray: DataFrames, lists, object arrays of numbers; sparse refused."""
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):  # scipy.sparse, without importing it
        raise TypeError(
            f"{name} is a sparse matrix, and sparse input is not supported; pass {name}.toarray() "
            f"(dense) if it fits in memory"
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas without importing it
        X = X.to_numpy()
    a = np.asarray(X)
    if a.dtype.kind == "O":  # e.g. DataFrame.to_numpy() of mixed columns: numbers stored as objects
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"argument must be a string or a number convertible to float: {name} (dtype object) holds "
                f"other values; encode categories as numbers first"
            ) from None
    return a


def _require_finite(a: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains NaN or inf ({int(bad.sum())} entries, first at index {where}); "
            f"remove or impute those entries first"
        )


def check_X(X, name: str = "X", allow_nd: bool = False) -> np.ndarray:
    """``X`` as a 2-D finite float array (samples x features), or a clear error.

    float32 and float64 are kept (float32 in, float32 out); integers and booleans become
    float64, float16 becomes float32. The messages contain the phrases scikit-learn's own
    validation uses ("Reshape your data", "0 sample(s)", "0 feature(s)", "sparse", "Complex
    data not supported"), so scikit-learn's tools recognise them.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    name : str, default "X"
        Used in error messages.
    allow_nd : bool, default False
        Also accept rows that are arrays (``X`` of shape ``(n_samples, ...)``, 2 or more axes).

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Raises
    ------
    ValueError
        Not 2-D, no rows or no columns, NaN or inf, complex.
    TypeError
        Non-numeric dtype or sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml.estimator import check_X
    >>> check_X([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> check_X(np.arange(5.0))
    Traceback (most recent call last):
    ...
    ValueError: X must be 2-D (got shape (5,)). Reshape your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample
    """
    a = _as_array(X, name)
    dtype = _float_dtype(a, name)
    if a.ndim != 2 and not (allow_nd and a.ndim > 2):
        if a.ndim == 1:
            hint = f"{name}.reshape(-1, 1) for one feature or {name}.reshape(1, -1) for one sample"
        elif a.ndim == 0:
            hint = f"[[{name}]] for a single value"
        else:
            hint = f"{name}.reshape(len({name}), -1) to flatten each sample"
        raise ValueError(f"{name} must be 2-D (got shape {a.shape}). Reshape your data with {hint}")
    if a.shape[0] == 0:
        raise ValueError(
            f"{name} has 0 rows: found 0 sample(s) (shape={a.shape}) while a minimum of 1 is required; "
            f"pass at least one sample"
        )
    if a.shape[1] == 0:
        raise ValueError(
            f"{name} has no columns: found 0 feature(s) (shape={a.shape}) while a minimum of 1 is required; "
            f"pass at least one feature"
        )
    a = a.astype(dtype, copy=False)
    _require_finite(a, name)
    return a


def one_per_sample(y, name: str = "y", stacklevel: int = 2):
    """``y`` (NumPy or dask) as 1-D: a column (n, 1) is taken as its one column, with a warning.

    Examples
    --------
    >>> import warnings
    >>> from slopes.ml.estimator import one_per_sample
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     one_per_sample(np.ones((2, 1))).shape
    (2,)
    """
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1d array was expected (shape {y.shape}); it is "
            f"used as {name}.ravel(). Pass a 1-D {name} to silence this warning",
            sklearn_bridge.bridged(DataConversionWarning, "DataConversionWarning"),
            stacklevel=stacklevel,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one entry per sample (got shape {y.shape})")
    return y


def _check_y(y, numeric: bool = False, name: str = "y") -> np.ndarray:
    if y is None:
        raise ValueError(
            f"this estimator requires y to be passed, but the target y is None; call fit(X, {name})"
        )
    if hasattr(y, "to_numpy") and not isinstance(y, np.ndarray):
        y = y.to_numpy()
    y = one_per_sample(_as_array(y, name) if numeric else np.asarray(y), name, stacklevel=5)
    if numeric:
        y = y.astype(_float_dtype(y, name), copy=False)
    if y.dtype.kind == "f":
        _require_finite(y, name)
    return y


def check_X_y(X, y, y_numeric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` with :func:`check_X` and ``y`` as a 1-D array of the same length.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
    y : array_like of shape (n_samples,)
        Labels of any type (classification) or numbers (regression, ``y_numeric=True``).
    y_numeric : bool, default False
        Convert ``y`` to floats in ``X``'s dtype and require it finite.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from slopes.ml.estimator import check_X_y
    >>> X, y = check_X_y([[0.0], [1.0]], [3, 4], y_numeric=True)
    >>> y
    array([3., 4.])
    >>> check_X_y([[0.0], [1.0]], [1, 2, 3])
    Traceback (most recent call last):
    ...
    ValueError: X has 2 rows but y has 3 entries; they must describe the same samples
    """
    X = check_X(X)
    y = _check_y(y, numeric=y_numeric)
    if y_numeric:
        y = y.astype(X.dtype, copy=False)
    check_same_rows(X, y)
    return X, y


def check_same_rows(X, y) -> None:
    """Raise unless ``X`` and ``y`` (NumPy or dask) have as many rows.

    Examples
    --------
    >>> from slopes.ml.estimator import check_same_rows
    >>> check_same_rows(np.ones((2, 1)), np.ones(3))
    Traceback (most recent call last):
    ...
    ValueError: X has 2 rows but y has 3 entries; they must describe the same samples
    """
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {y.shape[0]} entries; they must describe the same samples"
        )


def check_is_fitted(estimator, attributes: str | tuple[str, ...] = "n_features_in_") -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has every one of ``attributes``.

    Examples
    --------
    >>> from slopes.ml.estimator import BaseEstimator, check_is_fitted
    >>> check_is_fitted(BaseEstimator())
    Traceback (most recent call last):
    ...
    slopes.ml.estimator.NotFittedError: This BaseEstimator instance is not fitted yet; call fit(X, y) before using it.
    """
    names = (attributes,) if isinstance(attributes, str) else tuple(attributes)
    if not all(hasattr(estimator, a) for a in names):
        raise sklearn_bridge.bridged(NotFittedError, "NotFittedError")(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit(X, y) before using it."
        )


def encode_labels(y, min_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Classes and integer codes of any labels: ``classes = np.unique(y)``, ``classes[codes] == y``.

    Parameters
    ----------
    y : array_like of shape (n_samples,)
        Labels of any sortable type (ints, strings, bools, floats).
    min_classes : int, default 2
        Fewer distinct labels is an error (a classifier cannot learn from one class).

    Returns
    -------
    classes : ndarray of shape (n_classes,), sorted
    codes : ndarray of shape (n_samples,), int64 in ``0..n_classes-1``

    Examples
    --------
    >>> from slopes.ml.estimator import encode_labels
    >>> classes, codes = encode_labels(["cat", "dog", "cat"])
    >>> classes.tolist(), codes.tolist()
    (['cat', 'dog'], [0, 1, 0])
    """
    y = _check_y(y)
    if y.dtype.kind == "f" and np.any(y != np.round(y)):  # scikit-learn's wording for this case
        raise ValueError(
            "Unknown label type: continuous. y holds non-integer numbers, which a classifier cannot "
            "take as classes; use a regressor for a numeric target, or bin it into classes"
        )
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:
        raise TypeError(
            "y holds labels that cannot be sorted against each other (mixed types?); "
            "use labels of one type, e.g. y.astype(str)"
        ) from None
    if classes.shape[0] < min_classes:
        raise ValueError(
            f"y has {classes.shape[0]} class(es) {classes.tolist()}; a classifier needs at least "
            f"{min_classes} classes in the training data"
        )
    return classes, codes.reshape(-1).astype(np.int64)


# ---------------------------------------------------------------- incremental fitting (partial_fit)


class available_if:
    """Decorator: the method exists only when ``check(self)`` is true (else AttributeError).

    So ``hasattr(est, "partial_fit")`` tells whether the configured solver can learn
    incrementally, which is how scikit-learn's tools decide to call it.

    Examples
    --------
    >>> from slopes.ml.estimator import available_if
    >>> class Model:
    ...     def __init__(self, solver):
    ...         self.solver = solver
    ...     @available_if(lambda self: self.solver == "sgd")
    ...     def partial_fit(self):
    ...         return "one epoch"
    >>> Model("sgd").partial_fit(), hasattr(Model("newton"), "partial_fit")
    ('one epoch', False)
    """

    def __init__(self, check):
        self.check = check

    def __call__(self, method):
        self.method = method
        self.__doc__ = method.__doc__
        return self

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.method
        if not self.check(obj):
            raise AttributeError(
                f"{type(obj).__name__}.{self.name} is not available with these parameters "
                f"({type(obj).__name__}(solver={getattr(obj, 'solver', None)!r}))"
            )
        return self.method.__get__(obj, owner)


def incremental_codes(estimator, y, classes) -> np.ndarray:
    """Integer codes of ``y`` in a ``partial_fit``: ``classes`` is required on the first call.

    Sets ``estimator.classes_`` on the first call; later calls may omit ``classes`` or must
    repeat it, and every label of ``y`` must be one of them.

    Examples
    --------
    >>> from slopes.ml.estimator import BaseEstimator, incremental_codes
    >>> est = BaseEstimator()
    >>> incremental_codes(est, ["b", "a"], classes=["a", "b", "c"]).tolist(), est.classes_.tolist()
    ([1, 0], ['a', 'b', 'c'])
    """
    first = not hasattr(estimator, "classes_")
    if first and classes is None:
        raise ValueError(
            "classes must be passed on the first call to partial_fit: every label the "
            "model will see, e.g. partial_fit(X, y, classes=np.unique(y_all))"
        )
    if classes is not None:
        classes, _ = encode_labels(classes)
        if not first and not np.array_equal(classes, estimator.classes_):
            raise ValueError(
                f"classes={classes.tolist()} differs from the first call's {estimator.classes_.tolist()}; "
                "the model's outputs are fixed by the first call (call fit to start afresh)"
            )
        estimator.classes_ = classes
    y = _check_y(y)
    unknown = ~np.isin(y, estimator.classes_)
    if unknown.any():
        raise ValueError(
            f"y has labels {np.unique(y[unknown]).tolist()} that are not in classes "
            f"{estimator.classes_.tolist()}; pass every label in classes on the first call"
        )
    return np.searchsorted(estimator.classes_, y).astype(np.int64)


def resumed(optimizer, state):
    """``optimizer`` whose ``init`` returns ``state``: :func:`slopes.ml.fit` continues where a run stopped.

    Examples
    --------
    >>> import slopes.optim as so
    >>> opt = so.sgd(0.1)
    >>> state = opt.init(np.zeros(2))
    >>> resumed(opt, state).init(None) is state
    True
    """
    return type(optimizer)(lambda params: state, optimizer.update)


# ---------------------------------------------------------------- parameter checks (used in fit)


def check_choice(value: Any, name: str, options) -> Any:
    """Require ``value`` to be one of ``options``; returns it, or a ValueError listing them.

    Examples
    --------
    >>> from slopes.ml.estimator import check_choice
    >>> check_choice("adam", "solver", ("gd", "newton"))
    Traceback (most recent call last):
    ...
    ValueError: solver must be one of ('gd', 'newton'), got 'adam'
    """
    try:
        ok = value in options
    except (TypeError, ValueError):  # e.g. an array compared with strings
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value
