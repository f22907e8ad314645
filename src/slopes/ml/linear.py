"""Least squares and ridge regression as a scikit-learn-style estimator.

:class:`LinearRegression` minimizes scikit-learn ``Ridge``'s objective

    ``||y - X w - b||^2 + alpha ||w||^2``      (the intercept ``b`` is not penalized)

in closed form (``solver="lstsq"``) or with :func:`slopes.minimize` (``"gd"``, ``"lbfgs"``,
``"newton"``). With ``alpha = 0`` it is ordinary least squares (scikit-learn's
``LinearRegression``). The iterative solvers minimize that objective divided by ``2 n``,

    ``||y - X w - b||^2 / (2 n) + alpha ||w||^2 / (2 n)``,

which has the same minimizer, so ``alpha`` means exactly what it means in ``Ridge(alpha)``;
the division keeps the gradient's size independent of the number of rows, so ``tol`` (on
``max|grad|`` of this scaled objective) does not need retuning as the data grows.

The intercept is profiled out exactly: the columns of ``X`` and ``y`` are centred, ``w``
is found on the centred data, and ``b = mean(y) - mean(X) . w``. That is the same
minimizer, and a far better conditioned problem for the iterative solvers.

On dask arrays one pass over the row chunks reduces the data to the ``R`` factor of the
centred ``[X, y]`` (TSQR: a QR per chunk, then one of the stacked factors), which has the
same normal equations; every solver then runs on that small factor, as in memory.

Examples
--------
>>> import numpy as np
>>> from slopes.ml import LinearRegression
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
>>> model = LinearRegression().fit(X, y)
>>> model.coef_.round(6), round(float(model.intercept_), 6)
(array([2.]), 1.0)
>>> model.predict([[10.0]]).round(6)
array([21.])
"""

from __future__ import annotations

import warnings

import numpy as np

import slopes.numpy as snp

from ..distributed import is_dask
from ..optim.driver import minimize
from . import sklearn_bridge
from .chunked import RowChunks
from .estimator import (
    BaseEstimator,
    ConvergenceWarning,
    RegressorMixin,
    check_choice,
    check_number,
    check_X_y,
    _require_finite,
)
from .lazy import check_dask_X_y, rowwise

__all__ = ["LinearRegression"]

_SOLVERS = ("lstsq", "gd", "lbfgs", "newton")


class LinearRegression(RegressorMixin, BaseEstimator):
    """Ordinary least squares, or ridge regression when ``alpha > 0``.

    Parameters
    ----------
    fit_intercept : bool, default True
        Learn an unpenalized intercept ``b`` (else ``b = 0``).
    solver : {"lstsq", "gd", "lbfgs", "newton"}, default "lstsq"
        ``"lstsq"``: :func:`numpy.linalg.lstsq` on the centred data, for ``alpha > 0`` on the
        augmented system ``[X; sqrt(alpha) I] w = [y; 0]`` (whose normal equations are ridge's).
        The others run :func:`slopes.minimize` on the scaled objective (module docstring)
        from ``w = 0``; ``"gd"`` steps ``1 / L`` with ``L`` the largest eigenvalue of the
        scaled objective's Hessian ``(X^T X + alpha I) / n`` unless ``learning_rate`` is given;
        ``"newton"`` uses slopes' automatic-differentiation Hessian (one step is exact).
    alpha : float >= 0, default 0.0
        Ridge strength, exactly scikit-learn ``Ridge(alpha)``'s.
    max_iter : int, default 1000
        Iteration limit of the iterative solvers.
    tol : float, default 1e-8
        Stop when ``max|grad|`` of the scaled objective is ``<= tol`` (iterative solvers).
    learning_rate : float, optional
        Fixed step of ``"gd"`` (default ``1 / L``).
    random_state : int, optional
        Unused (every solver is deterministic); kept for a uniform interface.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Iterations of the iterative solver (1 for ``"lstsq"``: one direct solve).
    history_ : slopes.optim.History or None
        Per-iteration ``f`` (scaled objective) and ``grad_norm`` of the iterative solver.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.ml import LinearRegression
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]); y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> ridge = LinearRegression(alpha=1.0).fit(X, y)
    >>> lbfgs = LinearRegression(alpha=1.0, solver="lbfgs").fit(X, y)
    >>> bool(np.allclose(ridge.coef_, lbfgs.coef_, atol=1e-7)), lbfgs.n_iter_ > 0
    (True, True)
    """

    def __init__(
        self,
        fit_intercept=True,
        solver="lstsq",
        alpha=0.0,
        max_iter=1000,
        tol=1e-8,
        learning_rate=None,
        random_state=None,
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, X, y) -> LinearRegression:
        """Fit ``coef_`` and ``intercept_`` to ``X`` (n x d) and ``y`` (n,); returns ``self``.

        Examples
        --------
        >>> from slopes.ml import LinearRegression
        >>> LinearRegression(fit_intercept=False).fit([[1.0], [2.0]], [2.0, 4.0]).coef_
        array([2.])
        """
        solver = check_choice(self.solver, "solver", _SOLVERS)
        alpha = check_number(self.alpha, "alpha", low=0.0)
        max_iter = check_number(self.max_iter, "max_iter", low=1, integer=True)
        tol = check_number(self.tol, "tol", low=0.0, low_open=True)
        lr = check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True, allow_none=True)
        self._track_feature_names(X, reset=True)
        if is_dask(X) or is_dask(y):
            X_in, y = check_dask_X_y(X, y, y_numeric=True)
            n, d = X_in.shape
            x_mean, y_mean, Xc, yc, rest = _reduced(RowChunks(X_in.astype(np.float64), y), self.fit_intercept)
        else:
            X_in, y = check_X_y(X, y, y_numeric=True)
            # solved in float64 for any input (tol=1e-8 is below float32 rounding); coef_ in X's dtype
            X, y = X_in.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
            n, d = X.shape
            if self.fit_intercept:
                x_mean, y_mean = X.mean(axis=0), y.mean()
                Xc, yc = X - x_mean, y - y_mean
            else:
                x_mean, y_mean = np.zeros(d), 0.0
                Xc, yc = X, y
            rest = 0.0

        self.n_iter_, self.history_ = 1, None
        if solver == "lstsq":
            if alpha > 0:  # [X; sqrt(a) I] w = [y; 0]: least squares of it = (X^T X + a I)^-1 X^T y
                A = np.vstack([Xc, np.sqrt(alpha) * np.eye(d)])
                b = np.concatenate([yc, np.zeros(d)])
            else:
                A, b = Xc, yc
            w = np.linalg.lstsq(A, b, rcond=None)[0]
        else:
            w = self._iterate(Xc, yc, n, rest, alpha, solver, max_iter, tol, lr)
        self.coef_ = w.astype(X_in.dtype, copy=False)
        self.intercept_ = float(y_mean - x_mean @ w) if self.fit_intercept else 0.0
        self.n_features_in_ = d
        return self

    def _iterate(self, Xc, yc, n, rest, alpha, solver, max_iter, tol, lr):
        """The iterative solvers on the centred rows, or on rows with the same normal equations
        (dask input: ``R`` of a QR), whose residual then misses ``rest`` (a constant)."""
        d = Xc.shape[1]
        scale = 1.0 / (2.0 * n)

        def objective(w):
            r = Xc @ w - yc
            return scale * (snp.sum(r * r) + rest + alpha * snp.sum(w * w))

        options = {}
        if solver == "gd":
            if lr is None:  # 1/L, L the top eigenvalue of the Hessian (X^T X + alpha I) / n
                L = (np.linalg.norm(Xc, 2) ** 2 + alpha) / n
                # L = 0: every row equal after centring, a flat objective; w = 0 is a minimizer
                options["L"] = L if L > 0 else 1.0
            else:
                options["learning_rate"] = lr
        res = minimize(objective, np.zeros(d), method=solver, gtol=tol, maxiter=max_iter, **options)
        if not res.success:
            warnings.warn(
                f"LinearRegression(solver={solver!r}) stopped before max|grad| <= tol={tol:g}: "
                f"{res.message}. Raise max_iter, standardize the features, or use solver='lstsq'",
                sklearn_bridge.bridged(ConvergenceWarning, "ConvergenceWarning"),
                stacklevel=3,
            )
        self.n_iter_, self.history_ = int(res.nit), res.history
        return np.asarray(res.x)

    @rowwise
    def predict(self, X) -> np.ndarray:
        """``X @ coef_ + intercept_``, in ``X``'s float dtype.

        Examples
        --------
        >>> from slopes.ml import LinearRegression
        >>> LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0]).predict([[2.0]])
        array([5.])
        """
        X = self._check_predict_X(X)
        return X @ self.coef_.astype(X.dtype) + X.dtype.type(self.intercept_)


def _chunk_r(fit_intercept, X, y):
    """One chunk's share of the fit: ``R`` of ``[1, X, y]`` (or ``[X, y]``) and the column sums."""
    _require_finite(X, "X")
    _require_finite(y, "y")
    M = np.column_stack([np.ones(len(y)), X, y] if fit_intercept else [X, y])
    return np.linalg.qr(M, mode="r"), X.sum(axis=0), y.sum()


def _reduced(rows, fit_intercept):
    """Least-squares data of ``rows`` reduced in one pass (TSQR): ``(x_mean, y_mean, R_X, r_y, rho^2)``.

    The ``R`` factors of the chunks, stacked, have the ``R`` of the whole ``[1, X, y]``: its
    block after the ones column is the ``R`` of the centred ``[X, y]``, so ``R_X^T R_X =
    Xc^T Xc`` and ``R_X^T r_y = Xc^T yc``: the same normal equations, hence the same
    solution by every solver, with no Gram matrix formed (its condition number would be
    squared). ``rho^2`` is the residual the ``R`` rows leave out, ``||yc||^2 - ||r_y||^2``.
    """
    parts = rows.map(_chunk_r, fit_intercept)
    R = np.linalg.qr(np.vstack([p[0] for p in parts]), mode="r")
    n, d = rows.n, rows.d
    if fit_intercept:
        R = R[1:, 1:]
        x_mean = sum(p[1] for p in parts) / n
        y_mean = float(sum(p[2] for p in parts)) / n
    else:
        x_mean, y_mean = np.zeros(d), 0.0
    R = np.pad(R, ((0, d + 1 - R.shape[0]), (0, 0)))  # fewer rows than columns: zero rows add nothing
    return x_mean, y_mean, R[:d, :d], R[:d, d], float(R[d, d] ** 2)
