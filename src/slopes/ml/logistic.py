"""Logistic and softmax regression as scikit-learn-style estimators, with every classic solver.

The objective is scikit-learn's ``LogisticRegression`` objective, exactly:

    ``C * sum_i logloss_i + R(w)``,  ``R`` = ``||w||^2 / 2`` (``"l2"``), ``||w||_1`` (``"l1"``),
    ``l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2`` (``"elasticnet"``), or 0 (``None``),

with the intercept never penalized. The solvers minimize it divided by ``C n``,

    ``mean_i logloss_i + R(w) / (C n)``,

which has the same minimizer and a gradient whose size does not grow with ``n``; ``tol``
and ``history_`` refer to this scaled objective. The log loss is computed from the logits
(``softplus(z) - y z``; ``log_softmax``), so it is finite for any weights.

Two classes: ``classes_`` with two labels give the sigmoid model (``coef_`` of shape
``(1, d)``); more give the multinomial softmax model (``(K, d)``), as scikit-learn does.
:class:`SoftmaxRegression` always uses the softmax model.

Solvers (``solver=``):

``"newton"``
    Newton's method (IRLS) with a strong Wolfe line search from the unit step, on the exact
    gradient ``X^T (p - y) / n + w / (C n)`` and Hessian ``X^T W X / n + I_w / (C n)`` in
    closed form (the tests check both against slopes' :func:`slopes.grad` and
    :func:`slopes.hessian`; closed forms spare each fit a new trace of the objective).
    Quadratic convergence: a handful of iterations.
``"natural_gradient"``
    ``theta <- theta - lr (F + R'' + damping I)^{-1} g`` with ``F`` the Fisher information
    ``X^T W X / n`` (``W = diag(p (1 - p))``; block ``diag(p) - p p^T`` for softmax), the
    expected Hessian of the log loss. For these models it *equals* the Hessian of the log
    loss (the Hessian does not depend on ``y``), so with ``learning_rate=1`` (the default)
    and ``fisher_damping=0`` each step is a full Newton step.
``"lbfgs"``, ``"gd"``, ``"adam"``
    :func:`slopes.minimize` on the full data; ``"gd"`` steps ``1 / L`` with
    ``L = ||[X, 1]||_2^2 / (4 n) + 1 / (C n)`` (a bound on the Hessian; ``/ (2 n)`` for
    softmax) unless ``learning_rate`` is given; ``"adam"`` uses ``learning_rate`` 0.01.
``"sgd"``
    Mini-batch gradient descent (``batch_size``, default 32, reshuffled every epoch with
    ``random_state``) for ``max_iter`` epochs, step ``learning_rate`` (default ``1 / L``).
    ``"adam"`` with a ``batch_size`` runs on mini-batches the same way.
``partial_fit``
    With ``"sgd"`` or ``"adam"``: one epoch per call on the chunk given, continuing the
    coefficients and the optimizer's state (the other solvers have no ``partial_fit``).
``"proximal"``
    FISTA (accelerated proximal gradient, with restart) with soft thresholding of ``w``:
    the solver for ``"l1"`` and ``"elasticnet"``, which are not differentiable at 0.

On dask arrays, ``fit`` runs the full-batch solvers on the same closed forms, each one a
sum over rows evaluated one task per row chunk (``X`` is never gathered); the labels come
from ``da.unique(y)``, and the predictions are lazy dask arrays (:mod:`slopes.ml.lazy`).

Examples
--------
>>> import numpy as np
>>> from slopes.ml import LogisticRegression
>>> X = np.array([[-2.0], [-1.0], [1.0], [2.0], [0.5], [-0.5]]); y = np.array([0, 0, 1, 1, 0, 1])
>>> clf = LogisticRegression(C=10.0).fit(X, y)
>>> clf.predict([[-3.0], [3.0]]), clf.predict_proba([[0.0]]).shape
(array([0, 1]), (1, 2))
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax

import slopes.numpy as snp

from .. import optim as so
from ..distributed import is_dask
from ..optim.driver import minimize
from ..optim.prox import Prox, soft_threshold
from ..optim.result import History
from . import sklearn_bridge
from .estimator import (
    BaseEstimator,
    ClassifierMixin,
    ConvergenceWarning,
    check_choice,
    check_number,
    check_X_y,
    available_if,
    encode_labels,
    incremental_codes,
    _require_finite,
    resumed,
)
from .chunked import RowChunks
from .lazy import check_dask_X_y, encode_dask_labels, rowwise
from .losses import binary_cross_entropy_with_logits, cross_entropy
from .training import fit

__all__ = ["LogisticRegression", "SoftmaxRegression"]

_PENALTIES = ("l2", "l1", "elasticnet", None)
_SOLVERS = ("newton", "lbfgs", "gd", "sgd", "adam", "natural_gradient", "proximal")
_BATCHED = ("sgd", "adam")


def _augment(X, fit_intercept):
    """``[X, 1]`` (or ``X``): the design matrix of ``theta``'s rows of ``[[W], [b]]``."""
    return np.hstack([X, np.ones((X.shape[0], 1), X.dtype)]) if fit_intercept else X


def _loss_grad_sums(theta, k, A, t):
    """Sum over the rows of ``A`` of the log loss and of its gradient ``A^T (p - t)``.

    ``p`` is the sigmoid (or softmax rows) of the logits and ``t`` the labels (one-hot for
    softmax). Sums, not means, so the terms of row chunks add up to the whole data's.
    """
    Z = A @ theta.reshape(-1, k)
    if k == 1:
        z = Z[:, 0]
        return np.sum(np.logaddexp(0.0, z) - t * z), A.T @ (expit(z) - t)
    rows = np.arange(A.shape[0])
    logp = log_softmax(Z, axis=1)
    P = np.exp(logp)
    P[rows, t] -= 1.0
    return -np.sum(logp[rows, t]), (A.T @ P).ravel()


def _fisher_sum(theta, k, A, t):
    """Sum over the rows of ``A`` of the Fisher information (= Hessian) of the log loss."""
    Z = A @ theta.reshape(-1, k)
    if k == 1:
        p = expit(Z[:, 0])
        return (A * (p * (1.0 - p))[:, None]).T @ A
    P = softmax(Z, axis=1)
    n, q = A.shape
    # sum_i kron(a_i a_i^T, diag(p_i) - p_i p_i^T), with theta's (row, class) ordering
    F4 = np.zeros((q, k, q, k), A.dtype)
    for c in range(k):
        F4[:, c, :, c] = (A * P[:, c : c + 1]).T @ A
    G = (A[:, :, None] * P[:, None, :]).reshape(n, q * k)
    return F4.reshape(q * k, q * k) - G.T @ G


def _gram(A, t):
    return A.T @ A


class _InMemoryRows:
    """The rows of an in-memory fit: ``[X, 1]`` built once, every sum in one call."""

    def __init__(self, X, t, fit_intercept):
        self.X, self.t = X, t
        self.A = _augment(X, fit_intercept)

    def sum(self, fn, *args):
        return fn(*args, self.A, self.t)


class _ChunkedRows:
    """The rows of a fit on dask arrays: each sum is one task per row chunk, added in chunk order."""

    def __init__(self, X, t, fit_intercept):
        self.chunks = RowChunks(X, t)
        self.fit_intercept = fit_intercept

    def sum(self, fn, *args):
        return self.chunks.sum(_on_chunk, fn, self.fit_intercept, args)


def _on_chunk(fn, fit_intercept, args, X, t):
    _require_finite(X, "X")
    return fn(*args, _augment(X, fit_intercept), t)


class _Problem:
    """The scaled objective of one fit: ``theta = [[W], [b]].ravel()``, ``W`` of shape (d, k).

    ``X`` is a NumPy array, or a dask array whose row chunks are never gathered: the closed
    forms below are sums over rows, evaluated one task per chunk (the automatic-
    differentiation objectives :meth:`full` and :meth:`batched` need ``X`` in memory).
    """

    def __init__(self, X, t, k, fit_intercept, l2, l1):
        self.X, self.t, self.k, self.fit_intercept = X, t, k, fit_intercept
        self.n, self.d = (int(s) for s in X.shape)
        self.m = self.d * k  # number of penalized coordinates (the weights, first in theta)
        self.size = self.m + (k if fit_intercept else 0)
        self.l2, self.l1 = l2, l1  # penalty weights already divided by C n
        self.rows = (_ChunkedRows if is_dask(X) else _InMemoryRows)(X, t, fit_intercept)

    def logits(self, theta, X):
        if self.k == 1:  # sigmoid model: one logit per row
            z = X @ theta[: self.d]
            return z + theta[self.d] if self.fit_intercept else z
        Z = X @ theta[: self.m].reshape(self.d, self.k)
        return Z + theta[self.m :] if self.fit_intercept else Z

    def smooth(self, theta, X, t):
        z = self.logits(theta, X)
        loss = binary_cross_entropy_with_logits(z, t) if self.k == 1 else cross_entropy(z, t)
        if self.l2:
            w = theta[: self.m]
            loss = loss + 0.5 * self.l2 * snp.sum(w * w)
        return loss

    def full(self, theta):
        return self.smooth(theta, self.X, self.t)

    def batched(self, theta, batch):
        return self.smooth(theta, *batch)

    def value_and_gradient(self, theta):
        """:meth:`full` and its gradient ``A^T (p - t) / n`` (plus the L2 term) in closed form.

        ``A = [X, 1]``; the tests check both against ``full`` and ``sl.grad(full)``. Closed
        forms (with :meth:`fisher`) let Newton (IRLS) run without tracing the objective
        anew for each fit (each fit closes over new data), with one product by ``A`` per
        evaluation, and on dask arrays one task per row chunk.
        """
        loss, G = self.rows.sum(_loss_grad_sums, theta, self.k)
        G = G / self.n
        w = theta[: self.m]
        G[: self.m] += self.l2 * w
        return float(loss) / self.n + 0.5 * self.l2 * float(w @ w), G

    def lipschitz(self):
        """Upper bound on the Hessian's largest eigenvalue (sigmoid'' <= 1/4, softmax'' <= 1/2)."""
        bound = 0.25 if self.k == 1 else 0.5
        top = np.linalg.eigvalsh(self.rows.sum(_gram))[-1]  # ||A||_2^2, from the small Gram matrix
        return bound * top / self.n + self.l2

    def fisher(self, theta):
        """Fisher information of the mean log loss plus the L2 term's Hessian, in closed form."""
        F = self.rows.sum(_fisher_sum, theta, self.k) / self.n
        F[np.arange(self.m), np.arange(self.m)] += self.l2
        return F

    def newton_hessian(self, theta):
        """:meth:`fisher`, made invertible along the softmax model's flat directions.

        Softmax does not change when every class's logit moves by the same amount, so
        shifting all intercepts alike (and, without an L2 penalty, all classes' weights of
        one feature alike) leaves the objective flat: its Hessian is singular there, and
        so is the Newton system. Adding ``s u u^T`` for each such unit direction ``u``
        changes nothing else, because the gradient has no component along them: the step
        is the minimum-norm Newton step.
        """
        H = self.fisher(theta)
        if self.k == 1:
            return H
        rows = ([] if self.l2 else list(range(self.d))) + ([self.d] if self.fit_intercept else [])
        s = float(np.max(np.diag(H)))  # the Hessian's own scale keeps the system well conditioned
        for j in rows:  # row j of [[W], [b]] holds its K classes at j K .. j K + K - 1
            block = slice(j * self.k, (j + 1) * self.k)
            H[block, block] += s / self.k  # s u u^T with u = (1, ..., 1) / sqrt(K)
        return H

    def prox(self):
        """Soft thresholding of the weights only (the intercept is not penalized)."""
        lam, m = self.l1, self.m

        def apply(v, step):
            out = v.copy()
            out[:m] = soft_threshold(v[:m], step * lam)
            return out

        return Prox(f"l1(lam={lam!r}, weights only)", apply, lambda x: lam * np.sum(np.abs(x[:m])))


def _natural_gradient(problem, theta, max_iter, tol, lr, damping):
    """Fisher-preconditioned steps; returns ``(theta, n_iter, history, converged, message)``."""
    vg = problem.value_and_gradient
    hist = History()
    f, g = vg(theta)
    n_eval = 1
    eye = damping * np.eye(problem.size, dtype=theta.dtype)

    def record(step):
        hist.append(
            f=float(f),
            grad_norm=float(np.max(np.abs(g))),
            step_size=step,
            lr=lr,
            nfev=n_eval,
            ngev=n_eval,
            nhev=max(n_eval - 1, 0),
        )

    record(float("nan"))
    for k in range(max_iter + 1):
        if np.max(np.abs(g)) <= tol:
            return theta, k, hist, True, f"converged: max|grad| <= tol {tol:g}"
        if k == max_iter:
            break
        M = problem.fisher(theta) + eye
        try:  # Cholesky succeeds when M is positive definite (any L2 penalty or damping)
            L = np.linalg.cholesky(M)
            step = np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:  # singular Fisher (no penalty, softmax): minimum-norm step
            step = np.linalg.lstsq(M, g, rcond=None)[0]
        theta = (theta - lr * step).astype(theta.dtype, copy=False)
        f, g = vg(theta)
        n_eval += 1
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            return (
                theta,
                k + 1,
                hist,
                False,
                "diverged: non-finite loss; lower learning_rate or set fisher_damping",
            )
        record(float(lr * np.linalg.norm(step)))
    return theta, max_iter, hist, False, f"maximum number of iterations ({max_iter}) reached"


class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit / predict of :class:`LogisticRegression` and :class:`SoftmaxRegression`."""

    _always_softmax = False

    def _validated(self):
        penalty = check_choice(self.penalty, "penalty", _PENALTIES)
        solver = check_choice(self.solver, "solver", _SOLVERS)
        C = check_number(self.C, "C", low=0.0, low_open=True)
        check_number(self.max_iter, "max_iter", low=1, integer=True)
        check_number(self.tol, "tol", low=0.0, low_open=True)
        check_number(self.learning_rate, "learning_rate", low=0.0, low_open=True, allow_none=True)
        check_number(self.batch_size, "batch_size", low=1, integer=True, allow_none=True)
        check_number(self.fisher_damping, "fisher_damping", low=0.0)
        if penalty in ("l1", "elasticnet") and solver != "proximal":
            raise ValueError(
                f"penalty={penalty!r} is not differentiable at 0, so solver={solver!r} cannot minimize it; "
                f"use solver='proximal' (proximal gradient with soft thresholding)"
            )
        l1_ratio = self.l1_ratio
        if penalty == "elasticnet":
            if l1_ratio is None:
                raise ValueError("penalty='elasticnet' needs l1_ratio in [0, 1] (1: lasso, 0: ridge)")
            l1_ratio = check_number(l1_ratio, "l1_ratio", low=0.0, high=1.0)
        if self.batch_size is not None and solver not in _BATCHED:
            raise ValueError(
                f"batch_size applies to solver='sgd' or 'adam' (mini-batches), not {solver!r}; "
                f"leave it None for full-batch solvers"
            )
        l1_share = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio, None: 0.0}[penalty]
        l2_share = 0.0 if penalty is None else 1.0 - l1_share
        return solver, C, l1_share, l2_share

    def fit(self, X, y):
        """Fit the model to ``X`` (n x d floats) and ``y`` (n labels of any type); returns ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> from slopes.ml import LogisticRegression
        >>> clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["no", "no", "yes", "yes"])
        >>> clf.classes_.tolist(), clf.coef_.shape, clf.intercept_.shape
        (['no', 'yes'], (1, 1), (1,))
        """
        solver, C, l1_share, l2_share = self._validated()
        self._track_feature_names(X, reset=True)
        chunked = is_dask(X) or is_dask(y)
        if chunked:  # X stays in its chunks: one task per chunk per evaluation
            if solver in _BATCHED and (solver == "sgd" or self.batch_size is not None):
                raise ValueError(
                    f"solver={solver!r} with mini-batches does not run on dask arrays in fit; use a "
                    "full-batch solver ('newton', 'lbfgs', 'gd', 'proximal'), or "
                    "dask_ml.wrappers.Incremental, which calls partial_fit on each chunk"
                )
            X, y = check_dask_X_y(X, y)
            classes, codes = encode_dask_labels(y)
        else:
            X, y = check_X_y(X, y)
            classes, codes = encode_labels(y)
        problem = self._problem(X, codes, len(classes), C, l1_share, l2_share)
        X64, t = problem.X, problem.t
        tol = self.tol
        theta0 = np.zeros(problem.size)

        if solver == "natural_gradient":
            lr = 1.0 if self.learning_rate is None else self.learning_rate
            theta, nit, hist, ok, message = _natural_gradient(
                problem, theta0, self.max_iter, tol, lr, self.fisher_damping
            )
        else:
            opts = {"method": solver, "gtol": tol, "maxiter": self.max_iter}
            if solver in ("gd", "sgd"):
                lr = self.learning_rate
                opts["learning_rate"] = 1.0 / problem.lipschitz() if lr is None else lr
                opts["method"] = "gd"
            elif solver == "adam":
                opts["learning_rate"] = 0.01 if self.learning_rate is None else self.learning_rate
            elif solver == "proximal":
                opts.update(method="proximal_gradient", prox=problem.prox(), accelerate=True)
                if self.learning_rate is not None:
                    opts["learning_rate"] = self.learning_rate
            if solver == "sgd" or (solver == "adam" and self.batch_size is not None):
                batch = 32 if self.batch_size is None else self.batch_size
                del opts["maxiter"]
                res = minimize(problem.batched, theta0, data=(X64, t), batch_size=batch, epochs=self.max_iter,
                               seed=self.random_state, **opts)  # fmt: skip
            elif solver == "newton":  # IRLS: the exact gradient and Hessian (= Fisher) in closed form
                # the Hessian is positive (semi)definite: a Cholesky factorization, not an eigensolve
                res = minimize(problem.value_and_gradient, theta0, jac=True, hess=problem.newton_hessian,
                               modification="cholesky", **opts)
            else:  # the closed-form value and gradient: no trace per fit, and one task per chunk on dask
                res = minimize(problem.value_and_gradient, theta0, jac=True, **opts)
            theta, nit, hist, ok, message = np.asarray(res.x), res.nit, res.history, res.success, res.message
        if not ok and solver != "sgd":  # sgd runs its epochs by design; its noise floor is above tol
            warnings.warn(
                f"{type(self).__name__}(solver={solver!r}) stopped before max|grad| <= tol={tol:g}: "
                f"{message}. Raise max_iter, standardize the features, or try solver='newton'/'lbfgs'",
                sklearn_bridge.bridged(ConvergenceWarning, "ConvergenceWarning"),
                stacklevel=2,
            )
        self.classes_ = classes
        self._store(theta, problem, X.dtype)
        self.__dict__.pop("_optimizer_state", None)  # a later partial_fit starts a fresh optimizer
        self.n_iter_ = int(nit)
        self.history_ = hist
        return self

    @available_if(lambda self: self.solver in _BATCHED)
    def partial_fit(self, X, y, classes=None):
        """One epoch of the mini-batch solver (``"sgd"`` or ``"adam"``) on ``(X, y)``, continuing.

        Each call starts from the current coefficients and optimizer state (Adam's moments
        and step count carry over), for data that comes in chunks. The first call needs
        every label, ``classes``. Each chunk's objective is the module's scaled objective of
        that chunk (the penalty divided by ``C`` times the chunk's rows); the step size is
        fixed by the first call (``learning_rate``, else ``1 / L`` of the first chunk for
        ``"sgd"`` and 0.01 for ``"adam"``). Available for ``solver="sgd"`` and ``"adam"``.

        Examples
        --------
        >>> import numpy as np
        >>> from slopes.ml import LogisticRegression
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
        >>> clf = LogisticRegression(solver="sgd", batch_size=2, random_state=0)
        >>> for _ in range(20):
        ...     clf = clf.partial_fit(X, y, classes=[0, 1])
        >>> clf.n_iter_, clf.predict([[-3.0], [3.0]]).tolist()
        (20, [0, 1])
        """
        solver, C, l1_share, l2_share = self._validated()
        fitted = hasattr(self, "coef_")
        self._track_feature_names(X, reset=not fitted)
        X, y = check_X_y(X, y)
        if fitted:
            self._check_n_features(X)
        codes = incremental_codes(self, y, classes)
        problem = self._problem(X, codes, len(self.classes_), C, l1_share, l2_share)
        fresh = not hasattr(self, "_optimizer_state")  # the first call, or the first after fit
        if fresh:
            default = 1.0 / problem.lipschitz() if solver == "sgd" else 0.01
            self._step_size = default if self.learning_rate is None else float(self.learning_rate)
        opt = (so.sgd if solver == "sgd" else so.adam)(self._step_size)
        if not fresh:
            opt = resumed(opt, self._optimizer_state)
        theta, calls = (self._theta(), self.n_iter_) if fitted else (np.zeros(problem.size), 0)
        batch = self.batch_size or (32 if solver == "sgd" else X.shape[0])
        seed = 0 if self.random_state is None else self.random_state
        res = fit(problem.batched, theta, (problem.X, problem.t), optimizer=opt, epochs=1,
                  batch_size=min(batch, X.shape[0]), seed=[seed, calls], progress=False)  # fmt: skip
        if res.diverged:
            warnings.warn(
                f"{type(self).__name__}.partial_fit: {res.message}; lower learning_rate",
                RuntimeWarning,
                stacklevel=2,
            )
        self._optimizer_state = res.state
        self._store(res.best_params if res.diverged else res.params, problem, X.dtype)
        self.n_iter_ = calls + 1
        self.history_ = res.history
        return self

    def _problem(self, X, codes, n_classes, C, l1_share, l2_share) -> _Problem:
        """The scaled objective on ``X``, in float64 whatever ``X``'s dtype.

        A float32 gradient cannot reach ``tol=1e-8``; the attributes and predictions come
        back in ``X``'s dtype.
        """
        n = X.shape[0]
        k = 1 if (n_classes == 2 and not self._always_softmax) else n_classes
        t = codes.astype(np.float64) if k == 1 else codes
        scale = 1.0 / (C * n)
        X64 = X.astype(np.float64, copy=False)
        return _Problem(X64, t, k, bool(self.fit_intercept), l2_share * scale, l1_share * scale)

    def _store(self, theta, problem, dtype) -> None:
        """Set ``coef_``, ``intercept_`` and ``n_features_in_`` from ``theta = [[W], [b]].ravel()``."""
        theta = np.asarray(theta).astype(dtype)
        k = problem.k
        self.coef_ = np.ascontiguousarray(theta[: problem.m].reshape(problem.d, k).T)
        self.intercept_ = theta[problem.m :].copy() if self.fit_intercept else np.zeros(k, dtype)
        self.n_features_in_ = problem.d

    def _theta(self) -> np.ndarray:
        """``coef_`` and ``intercept_`` back as the float64 parameter vector of :class:`_Problem`."""
        W = self.coef_.T.astype(np.float64).ravel()
        return np.concatenate([W, self.intercept_.astype(np.float64)]) if self.fit_intercept else W

    def _logits(self, X) -> np.ndarray:
        """The model's logits: (n,) for the sigmoid model, (n, K) for the softmax model."""
        X = self._check_predict_X(X)
        Z = X @ self.coef_.T.astype(X.dtype) + self.intercept_.astype(X.dtype)
        return Z[:, 0] if self.coef_.shape[0] == 1 else Z

    @rowwise
    def decision_function(self, X) -> np.ndarray:
        """Logits: shape (n,) for two classes (positive favours ``classes_[1]``), else (n, K).

        With two classes the softmax model's score is the difference of its two logits,
        the log-odds of ``classes_[1]`` (scikit-learn's convention for any binary classifier).

        Examples
        --------
        >>> from slopes.ml import LogisticRegression
        >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
        >>> clf.decision_function([[0.5]]).round(12)
        array([0.])
        """
        Z = self._logits(X)
        return Z[:, 1] - Z[:, 0] if Z.ndim == 2 and Z.shape[1] == 2 else Z

    @rowwise
    def predict_log_proba(self, X) -> np.ndarray:
        """Log class probabilities, shape (n, K), computed stably from the logits.

        Examples
        --------
        >>> import numpy as np
        >>> from slopes.ml import LogisticRegression
        >>> clf = LogisticRegression(C=1e4).fit([[-1.0], [1.0]], [0, 1])
        >>> bool(np.all(np.isfinite(clf.predict_log_proba([[-1e3], [1e3]]))))
        True
        """
        z = self._logits(X)
        if z.ndim == 1:
            return np.stack([log_expit(-z), log_expit(z)], axis=1)
        return log_softmax(z, axis=1)

    @rowwise
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, K), columns in the order of ``classes_``; rows sum to 1.

        Examples
        --------
        >>> from slopes.ml import LogisticRegression
        >>> clf = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
        >>> clf.predict_proba([[0.5]]).round(6)
        array([[0.5, 0.5]])
        """
        z = self._logits(X)
        if z.ndim == 1:
            return np.stack([expit(-z), expit(z)], axis=1)
        return softmax(z, axis=1)

    @rowwise
    def predict(self, X) -> np.ndarray:
        """The most probable class label for each row (an entry of ``classes_``).

        Examples
        --------
        >>> from slopes.ml import LogisticRegression
        >>> LogisticRegression().fit([[0.0], [1.0]], ["a", "b"]).predict([[-5.0], [5.0]]).tolist()
        ['a', 'b']
        """
        z = self._logits(X)
        return self.classes_[(z > 0).astype(np.int64) if z.ndim == 1 else np.argmax(z, axis=1)]


class LogisticRegression(_LinearClassifier):
    """Logistic regression (two classes) or multinomial softmax regression (more).

    Minimizes ``C * sum_i logloss_i + R(w)``, scikit-learn's objective (see the module
    docstring for the penalties, the scaling and the solvers).

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
        ``"l1"`` and ``"elasticnet"`` need ``solver="proximal"``.
    C : float > 0, default 1.0
        Inverse regularization strength (ignored for ``penalty=None``).
    solver : {"newton", "lbfgs", "gd", "sgd", "adam", "natural_gradient", "proximal"}, default "newton"
    max_iter : int, default 100
        Iterations (epochs for ``"sgd"`` and mini-batch ``"adam"``).
    tol : float, default 1e-8
        Stop when ``max|grad|`` of the scaled objective is ``<= tol`` (the fixed-point residual
        for ``"proximal"``). The fit runs in float64 for any input; ``coef_``, ``intercept_``
        and the predictions are in the input's float dtype (float32 in, float32 out).
    fit_intercept : bool, default True
    learning_rate : float, optional
        Step of ``"gd"``/``"sgd"`` (default ``1 / L``), ``"adam"`` (0.01), ``"natural_gradient"``
        (1.0) and ``"proximal"`` (default: backtracking).
    batch_size : int, optional
        Mini-batch size of ``"sgd"`` (default 32) and ``"adam"`` (default: full batch).
    random_state : int, optional
        Seed of the mini-batch shuffling.
    l1_ratio : float in [0, 1], optional
        The L1 share of ``"elasticnet"``.
    fisher_damping : float >= 0, default 0.0
        ``"natural_gradient"`` solves with ``F + R'' + fisher_damping * I``.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    coef_ : ndarray of shape (1, d) for two classes, else (K, d)
    intercept_ : ndarray of shape (1,) or (K,)
    n_iter_ : int
        Iterations taken (mini-batch steps for ``"sgd"``); after ``partial_fit``, the
        epochs run by it (one per call).
    history_ : slopes.optim.History
        Per-iteration ``f`` (scaled objective) and ``grad_norm`` (``max|grad|``), row 0 the
        start: plot ``history_.grad_norm`` of two solvers to compare them.
    n_features_in_ : int

    Examples
    --------
    >>> from slopes.ml import LogisticRegression, datasets, Standardizer
    >>> data = datasets.load("breast_cancer")
    >>> X = Standardizer().fit_transform(data.X)
    >>> clf = LogisticRegression().fit(X, data.y)
    >>> clf.n_iter_ <= 15, bool(clf.history_.grad_norm[-1] <= 1e-8), clf.score(X, data.y) > 0.95
    (True, True, True)
    """

    def __init__(
        self,
        penalty="l2",
        C=1.0,
        solver="newton",
        max_iter=100,
        tol=1e-8,
        fit_intercept=True,
        learning_rate=None,
        batch_size=None,
        random_state=None,
        l1_ratio=None,
        fisher_damping=0.0,
    ):
        self.penalty = penalty
        self.C = C
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self.l1_ratio = l1_ratio
        self.fisher_damping = fisher_damping


class SoftmaxRegression(_LinearClassifier):
    """Multinomial logistic regression: ``p = softmax(X W + b)``, one weight row per class.

    Same objective, solvers and attributes as :class:`LogisticRegression` (which also uses
    this model for three or more classes), but always the softmax model, so two classes get
    two rows in ``coef_``, and L-BFGS by default (the Newton Hessian has ``((d + 1) K)^2``
    entries).

    Parameters
    ----------
    C, penalty, solver, max_iter, tol, fit_intercept, learning_rate, batch_size,
    random_state, l1_ratio, fisher_damping :
        As for :class:`LogisticRegression`; defaults ``solver="lbfgs"``, ``max_iter=1000``,
        ``tol=1e-6``.

    Attributes
    ----------
    classes_ : ndarray of shape (K,)
    coef_ : ndarray of shape (K, d)
    intercept_ : ndarray of shape (K,)
    n_iter_ : int
    history_ : slopes.optim.History
    n_features_in_ : int

    Examples
    --------
    >>> from slopes.ml import SoftmaxRegression, datasets, Standardizer
    >>> data = datasets.load("iris")
    >>> X = Standardizer().fit_transform(data.X)
    >>> clf = SoftmaxRegression().fit(X, data.y)
    >>> clf.coef_.shape, clf.predict_proba(X[:2]).sum(axis=1).round(12).tolist(), clf.score(X, data.y) > 0.95
    ((3, 4), [1.0, 1.0], True)
    """

    _always_softmax = True

    def __init__(
        self,
        C=1.0,
        penalty="l2",
        solver="lbfgs",
        max_iter=1000,
        tol=1e-6,
        fit_intercept=True,
        learning_rate=None,
        batch_size=None,
        random_state=None,
        l1_ratio=None,
        fisher_damping=0.0,
    ):
        self.C = C
        self.penalty = penalty
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self.l1_ratio = l1_ratio
        self.fisher_damping = fisher_damping
