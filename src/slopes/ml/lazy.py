"""The estimator convention on dask arrays, as dask-ml users expect it.

``fit`` checks ``X`` and ``y`` from their metadata (shape, dtype, row chunks) and reads
values only chunk by chunk, inside the tasks; labels come from ``da.unique(y)`` (small, so
computed). Prediction methods decorated with :func:`rowwise` return lazy dask arrays
(one ``map_blocks`` task per row chunk, nothing computed); ``score`` computes its one
scalar (as dask-ml's own estimators and scikit-learn's search tools expect a float).

Examples
--------
>>> import numpy as np, dask.array as da
>>> from slopes.ml import LinearRegression
>>> X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(3, 2)); y = X[:, 0] - X[:, 1]
>>> model = LinearRegression().fit(X, y)
>>> type(model.predict(X)).__name__, model.predict(X).compute().round(9).tolist()
('Array', [-1.0, -1.0, -1.0, -1.0])
"""

from __future__ import annotations

import functools

import numpy as np

from ..distributed import is_dask
from .chunked import check_row_chunked, map_rows
from .estimator import (
    _check_weights,
    _float_dtype,
    check_is_fitted,
    check_same_rows,
    encode_labels,
    one_per_sample,
    r2_from_sums,
)

__all__ = ["rowwise", "check_dask_X_y", "encode_dask_labels", "dask_score"]


def _as_dask(a, like=None):
    """``a`` as a dask array; a NumPy ``a`` takes the row chunks of ``like``."""
    import dask.array as da

    if is_dask(a):
        return da.asarray(a)
    a = np.asarray(a)
    return da.from_array(a, chunks=(like.chunks[0], *a.shape[1:]) if like is not None else -1)


def check_dask_X(X, n_features=None):
    """``X`` (dask) checked from its metadata: 2-D, row-chunked, numeric (cast lazily to a float dtype).

    Values (NaN, inf) are checked inside the tasks, chunk by chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> from slopes.ml.lazy import check_dask_X
    >>> check_dask_X(da.ones((4, 2), dtype=int, chunks=2)).dtype
    dtype('float64')
    """
    X = check_row_chunked(_as_dask(X))
    if X.shape[1] == 0:
        raise ValueError(f"X has no columns: found 0 feature(s) (shape={X.shape}); pass at least one feature")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the estimator is expecting {n_features} features as input; "
            f"pass rows with the same columns as in fit"
        )
    return X.astype(_float_dtype(X, "X"), copy=False)


def check_dask_X_y(X, y, y_numeric: bool = False):
    """The lazy :func:`slopes.ml.estimator.check_X_y`: ``X`` (n x d) and ``y`` (n,) as dask arrays
    split at the same rows.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.lazy import check_dask_X_y
    >>> X, y = check_dask_X_y(da.ones((5, 2), chunks=(3, 2)), np.arange(5), y_numeric=True)
    >>> y.chunks, y.dtype
    (((3, 2),), dtype('float64'))
    """
    if y is None:
        raise ValueError("this estimator requires y to be passed, but the target y is None; call fit(X, y)")
    X = check_dask_X(X)
    y = one_per_sample(_as_dask(y, like=X), stacklevel=4)
    check_same_rows(X, y)
    if y_numeric:
        _float_dtype(y, "y")  # refuses text and complex targets
        y = y.astype(X.dtype)
    return X, y.rechunk({0: X.chunks[0]})


def encode_dask_labels(y):
    """``classes`` (computed by ``da.unique``: small) and lazy integer ``codes`` of the dask labels ``y``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.lazy import encode_dask_labels
    >>> classes, codes = encode_dask_labels(da.from_array(np.array([3, 1, 3, 2]), chunks=2))
    >>> classes.tolist(), codes.compute().tolist()
    ([1, 2, 3], [2, 0, 2, 1])
    """
    import dask.array as da

    classes, _ = encode_labels(np.asarray(da.unique(y).compute()))
    codes = y.map_blocks(functools.partial(np.searchsorted, classes), dtype=np.int64)
    return classes, codes


def rowwise(method):
    """Decorator: on a dask ``X``, ``method`` runs lazily on each row chunk (a dask array comes back).

    The estimator must be fitted; ``X``'s columns are checked against ``n_features_in_``
    from its metadata, and its values inside the tasks (by ``method`` itself, on each chunk).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml.estimator import BaseEstimator
    >>> from slopes.ml.lazy import rowwise
    >>> class Sum(BaseEstimator):
    ...     n_features_in_ = 2
    ...     @rowwise
    ...     def predict(self, X):
    ...         return np.asarray(X).sum(axis=1)
    >>> Sum().predict(da.ones((3, 2), chunks=2)).compute().tolist()
    [2.0, 2.0, 2.0]
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if not is_dask(X):
            return method(self, X, *args, **kwargs)
        check_is_fitted(self, "n_features_in_")
        X = check_dask_X(X, self.n_features_in_)
        # the bound method of the class attribute (this wrapper) travels by reference
        bound = functools.partial(getattr(type(self), method.__name__), self, *args, **kwargs)
        return map_rows(bound, X)

    return wrapper


def dask_score(estimator, X, y, sample_weight=None) -> float:
    """``estimator.score`` on dask data: predictions made lazily, the one scalar computed.

    Accuracy for a classifier, R^2 for a regressor (1-D ``y``), as their in-memory scores;
    the data reach the client only as that scalar.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from slopes.ml import LogisticRegression
    >>> X = da.from_array(np.array([[-2.0], [-1.0], [1.0], [2.0]]), chunks=2)
    >>> clf = LogisticRegression().fit(X, np.array([0, 0, 1, 1]))
    >>> clf.score(X, np.array([0, 0, 1, 0]))
    0.75
    """
    import dask
    import dask.array as da

    check_is_fitted(estimator, "n_features_in_")
    regressor = getattr(estimator, "_estimator_type", None) == "regressor"
    X, y = check_dask_X_y(X, y, y_numeric=regressor)
    pred = estimator.predict(X)  # checks X's columns against fit's
    w = _check_weights(sample_weight, X.shape[0])
    w = da.ones(X.shape[0], chunks=X.chunks[0]) if w is None else _as_dask(w, like=X)
    if not regressor:
        return float(da.average(pred == y, weights=w).compute())
    y = y.astype(np.float64)
    ss_res = w @ (y - pred) ** 2
    ss_tot = w @ (y - da.average(y, weights=w)) ** 2
    ss_res, ss_tot = dask.compute(ss_res, ss_tot)
    return r2_from_sums(ss_res, ss_tot)

