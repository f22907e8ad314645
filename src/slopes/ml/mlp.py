"""MLPClassifier and MLPRegressor: scikit-learn's multilayer-perceptron estimators on slopes.

The parameters keep scikit-learn's names and meanings where they exist
(``hidden_layer_sizes``, ``activation``, ``solver``, ``alpha``, ``batch_size``,
``learning_rate_init``, ``max_iter``, ``tol``, ``n_iter_no_change``, ``early_stopping``,
``validation_fraction``, ``momentum``, ``random_state``, ``verbose``) and so do the fitted
attributes (``coefs_``, ``intercepts_``, ``loss_curve_``, ``n_iter_``, ``classes_``,
``best_loss_``, ``validation_scores_``). Training is :func:`slopes.ml.fit` (jitted gradient)
on an :class:`~slopes.ml.layers.MLP`, so any :mod:`slopes.optim` transformation,
schedule, gradient clipping and mixed precision are available too.

Training follows scikit-learn's: the per-epoch loss (``loss_curve_``) is the mean over the
epoch's samples, training stops by its ``tol`` / ``n_iter_no_change`` rule, and
``partial_fit`` runs one epoch per call, continuing the optimizer's state. Both estimators
pass scikit-learn's ``check_estimator``.

Differences from scikit-learn: ``random_state=None`` means seed 0 (every run is
reproducible); a two-class classifier has two softmax outputs (scikit-learn uses one
logistic unit, so its last ``coefs_`` has one column); the default init is He normal for
the ReLU family and Xavier uniform otherwise.

Examples
--------
>>> import slopes.ml as ml
>>> d = ml.datasets.load("iris")
>>> clf = ml.MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, tol=None)
>>> clf.fit(d.X, d.y).score(d.X, d.y) > 0.95
True
>>> [W.shape for W in clf.coefs_], clf.n_iter_
([(4, 16), (16, 3)], 100)
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

import slopes.numpy as snp

from .. import optim as so
from . import sklearn_bridge
from .activations import softmax
from .callbacks import EarlyStopping
from .datasets import train_test_split
from .estimator import (
    BaseEstimator,
    ClassifierMixin,
    ConvergenceWarning,
    RegressorMixin,
    check_choice,
    check_number,
    check_X,
    check_X_y,
    encode_labels,
    incremental_codes,
    resumed,
)
from .layers import _ACTIVATIONS, MLP
from .losses import cross_entropy
from .training import fit

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("adam", "adamw", "sgd")
_SCHEDULES = (None, "constant", "cosine", "warmup_cosine")


def _accuracy(logits, codes) -> float:
    return float(np.mean(np.argmax(np.asarray(logits), axis=1) == codes))


def _half_mse(pred, target):
    r = pred - target
    return 0.5 * snp.mean(r * r)


def _r2(pred, target) -> float:
    """Mean over outputs of R^2 (a constant target column counts its R^2 as 1 - ss_res)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    ss_res = np.sum((target - pred) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0)))


def _hidden_sizes(h) -> tuple[int, ...]:
    if isinstance(h, numbers.Integral) and not isinstance(h, bool):
        h = (h,)
    try:
        h = tuple(h)
    except TypeError:
        raise TypeError(f"hidden_layer_sizes must be an int or a tuple of ints, got {h!r}") from None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in h):
        raise ValueError(f"hidden_layer_sizes must hold positive integers, got {h!r}")
    return tuple(int(s) for s in h)


class _BaseMLP(BaseEstimator):
    """Shared hyperparameters, validation and training of the two estimators."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        schedule=None,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        clip_norm=None,
        mixed_precision=False,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.schedule = schedule
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.clip_norm = clip_norm
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ configuration

    def _seed(self) -> int:
        if self.random_state is None:
            return 0
        return check_number(self.random_state, "random_state", low=0, integer=True)

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        bs = check_number(self.batch_size, "batch_size", low=1, integer=True)
        return min(bs, n)

    def _learning_rate(self, total_steps: int):
        lr = check_number(self.learning_rate_init, "learning_rate_init", low=0, low_open=True)
        s = self.schedule
        if callable(s):
            return s
        check_choice(s, "schedule", _SCHEDULES)
        if s == "cosine":
            return so.cosine_decay(lr, total_steps)
        if s == "warmup_cosine":
            warmup = min(max(1, total_steps // 20), total_steps - 1)  # 5% linear warmup
            return so.warmup_cosine(lr, warmup, total_steps) if total_steps > 1 else lr
        return lr

    def _optimizer(self, total_steps: int):
        solver = self.solver
        if hasattr(solver, "init") and hasattr(solver, "update"):
            if self.schedule is not None:
                raise ValueError(
                    "schedule applies to the named solvers only; put the schedule inside your optimizer, "
                    "e.g. so.adam(so.cosine_decay(1e-3, steps))"
                )
            return solver
        if not isinstance(solver, str) or solver not in _SOLVERS:
            raise ValueError(
                f"solver must be one of {_SOLVERS} or a slopes.optim GradientTransformation, got {solver!r}"
            )
        lr = self._learning_rate(total_steps)
        if solver == "adam":
            return so.adam(lr)
        if solver == "adamw":
            return so.adamw(lr)
        beta = check_number(self.momentum, "momentum", low=0, high=1)
        if beta == 0:
            return so.sgd(lr)
        if beta >= 1:
            raise ValueError(f"momentum must be < 1, got {beta!r}")
        return so.nesterov(lr, beta=beta)  # scikit-learn's default nesterovs_momentum=True

    def _stopping(self):
        """fit()'s early_stopping: validation score when early_stopping, else the training loss."""
        patience = check_number(self.n_iter_no_change, "n_iter_no_change", low=1, integer=True)
        tol = check_number(self.tol, "tol", low=0, allow_none=True)
        if self.early_stopping:
            return EarlyStopping(patience, tol or 0.0, monitor="val_score", mode="max", rule="sklearn")
        if tol is None:
            return None
        return EarlyStopping(patience, min_delta=tol, monitor="loss", mode="min", rule="sklearn")

    def _check_common(self):
        if isinstance(self.activation, str):
            check_choice(self.activation, "activation", tuple(_ACTIVATIONS))
        elif not callable(self.activation):
            raise TypeError(f"activation must be a name or a function, got {self.activation!r}")
        check_number(self.alpha, "alpha", low=0)
        check_number(self.max_iter, "max_iter", low=1, integer=True)
        check_number(self.clip_norm, "clip_norm", low=0, low_open=True, allow_none=True)
        if not isinstance(self.early_stopping, bool | np.bool_):
            raise TypeError(f"early_stopping must be True or False, got {self.early_stopping!r}")

    # ------------------------------------------------------------ training

    def _fit(self, X, targets, n_outputs, data_loss, score, stratify, incremental=False):
        """Train on ``(X, targets)``; sets the fitted attributes. ``score(outputs, targets)`` -> float.

        ``incremental``: one epoch, continuing from the fitted parameters and optimizer state
        if there are any (``partial_fit``), without early stopping.
        """
        self._check_common()
        hidden = _hidden_sizes(self.hidden_layer_sizes)
        seed = self._seed()
        warm = incremental and hasattr(self, "params_")
        if warm:
            self._check_n_features(X)
        if warm and n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs but {type(self).__name__} was fitted with {self.n_outputs_}; "
                "partial_fit continues the same model (call fit to start afresh)"
            )
        es = None if incremental else self._stopping()
        early_stopping = self.early_stopping and not incremental
        dtype = self.coefs_[0].dtype if warm else (np.float32 if self.mixed_precision else X.dtype)
        if not self.mixed_precision:  # with it, fit casts the data to its compute dtype, checking the range
            X = X.astype(dtype, copy=False)
            if targets.dtype.kind == "f":
                targets = targets.astype(dtype, copy=False)

        val_data, metrics = None, None
        if early_stopping:
            frac = check_number(self.validation_fraction, "validation_fraction", low=0, high=1, low_open=True)
            if frac >= 1:
                raise ValueError(f"validation_fraction must be < 1, got {frac!r}")
            try:
                X, Xv, targets, tv = train_test_split(
                    X, targets, test_size=frac, seed=seed, stratify=True if stratify else None
                )
            except ValueError as e:
                raise ValueError(
                    f"early_stopping=True holds out validation_fraction={frac:g} of the training data "
                    f"(n_samples={X.shape[0]}), which fails: {e}. Pass more samples or early_stopping=False"
                ) from None
            val_data = (Xv, tv)

        if warm:
            model, params0 = self.model_, self.params_
            steps = self._schedule_steps
        else:
            model = MLP((X.shape[1], *hidden, n_outputs), activation=self.activation, seed=seed)
            params0 = model.init(dtype=dtype)
            max_iter = check_number(self.max_iter, "max_iter", low=1, integer=True)
            steps = max_iter * math.ceil(X.shape[0] / self._batch_size(X.shape[0]))  # the schedules' horizon
        optimizer = self._optimizer(steps)
        if self.clip_norm is not None:  # chained here, so that partial_fit resumes the whole state
            optimizer = so.chain(so.clip_by_global_norm(float(self.clip_norm)), optimizer)
        if warm:  # rebuilt, not stored: an optimizer's closures cannot be pickled, its state can
            optimizer = resumed(optimizer, self._optimizer_state_)
        alpha = float(self.alpha)

        def loss(params, batch):
            xb, tb = batch
            value = data_loss(model(params, xb), tb)
            if alpha == 0.0:
                return value
            # scikit-learn's L2 term: alpha / (2 n_batch) * sum of squared weights (biases excluded)
            sq = sum(snp.sum(layer["W"] * layer["W"]) for layer in params)
            return value + (0.5 * alpha / xb.shape[0]) * sq

        if early_stopping:
            metrics = {"score": lambda p, data: score(model(p, data[0]), data[1])}

        done = self.n_iter_ if warm else 0
        res = fit(
            loss,
            params0,
            (X, targets),
            optimizer=optimizer,
            epochs=1 if incremental else int(self.max_iter),
            batch_size=self._batch_size(X.shape[0]),
            seed=[seed, done] if done else seed,  # a new shuffle for every partial_fit epoch
            val_data=val_data,
            metrics=metrics,
            early_stopping=es,
            progress=bool(self.verbose),
            mixed_precision=self.mixed_precision,
        )
        if res.diverged:
            warnings.warn(
                f"{type(self).__name__}: training {res.message}; lower learning_rate_init or set clip_norm",
                RuntimeWarning,
                stacklevel=3,
            )
        elif not res.stopped_early and es is not None:
            warnings.warn(
                f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the optimization "
                "has not converged yet; raise max_iter or tol",
                sklearn_bridge.bridged(ConvergenceWarning, "ConvergenceWarning"),
                stacklevel=3,
            )
        # early stopping on validation keeps the best epoch (as scikit-learn); otherwise the last one
        params = res.best_params if (early_stopping or res.diverged) else res.params
        epochs = res.history.epoch
        losses = [float(v) for v in epochs["loss"]]  # [] when the run diverged in its first epoch
        self.model_ = model
        self.params_ = params
        self._schedule_steps = steps
        self._optimizer_state_ = res.state
        self.train_result_ = res
        self.history_ = res.history
        self.loss_curve_ = (self.loss_curve_ if warm else []) + losses
        finite = [v for v in self.loss_curve_ if math.isfinite(v)]  # mixed precision skips steps: nan epochs
        self.best_loss_ = None if early_stopping else (min(finite) if finite else math.nan)
        self.validation_scores_ = [float(v) for v in epochs["val_score"]] if early_stopping else None
        if early_stopping:  # nan when the run diverged before its first epoch ended
            self.best_validation_score_ = max(self.validation_scores_, default=math.nan)
        else:
            self.best_validation_score_ = None
        self.n_iter_ = done + len(epochs)
        self.t_ = (self.t_ if warm else 0) + res.step
        self.coefs_ = [np.asarray(layer["W"]) for layer in params]
        self.intercepts_ = [np.asarray(layer["b"]) for layer in params]
        self.n_layers_ = len(params) + 1
        self.n_outputs_ = n_outputs
        self.n_features_in_ = X.shape[1]
        return self

    def _outputs(self, X) -> np.ndarray:
        """The network's outputs for ``X``, in ``X``'s float dtype (float32 weights of mixed precision too)."""
        X = self._check_predict_X(X)
        out = np.asarray(self.model_(self.params_, X.astype(self.coefs_[0].dtype, copy=False)))
        return out.astype(X.dtype, copy=False)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer-perceptron classifier trained on the softmax cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
    activation : str or callable, default "relu"
        ``"relu"``, ``"tanh"``, ``"logistic"`` (= ``"sigmoid"``), ``"identity"``, ``"gelu"``,
        ``"elu"``, ``"leaky_relu"``, ``"softplus"`` or a function.
    solver : {"adam", "adamw", "sgd"} or GradientTransformation, default "adam"
        ``"sgd"`` is Nesterov momentum (``momentum``) as scikit-learn's default; ``"adamw"``
        is :func:`slopes.optim.adamw` (decoupled weight decay 0.01, on top of ``alpha``). A
        GradientTransformation is used as given (``learning_rate_init`` and ``schedule``
        then do not apply).
    alpha : float >= 0, default 1e-4
        L2 penalty as in scikit-learn: ``alpha / (2 n_batch) * sum ||W||^2`` added to the
        mean batch loss (biases are not penalized).
    batch_size : int or "auto", default "auto"
        ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float > 0, default 1e-3
    schedule : None, "constant", "cosine", "warmup_cosine" or callable, default None
        Learning-rate schedule over all ``max_iter * batches_per_epoch`` steps, starting at
        ``learning_rate_init`` (``"warmup_cosine"``: 5% linear warmup); a callable
        ``t -> lr`` replaces ``learning_rate_init``.
    max_iter : int, default 200
        Maximum number of epochs.
    tol : float or None, default 1e-4
        scikit-learn's stopping rule: an epoch whose loss (the mean over its samples, as
        ``loss_curve_``; with ``early_stopping``, the validation accuracy) does not beat the
        best so far by more than ``tol`` counts, and training stops when more than
        ``n_iter_no_change`` epochs in a row counted (``EarlyStopping(rule="sklearn")``).
        None: always run ``max_iter`` epochs (without early stopping).
    n_iter_no_change : int, default 10
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified), monitor its
        accuracy, and keep the parameters of the best epoch.
    validation_fraction : float in (0, 1), default 0.1
    momentum : float in [0, 1), default 0.9
        For ``solver="sgd"`` (0: plain SGD).
    clip_norm : float, optional
        Clip each gradient's global norm to this.
    mixed_precision : bool, default False
        float16 forward/backward passes with dynamic loss scaling, float32 parameters.
    random_state : int or None, default None
        Seed of the initialization, shuffling and validation split (None: 0).
    verbose : bool, default False
        Show a progress bar.

    Attributes
    ----------
    classes_ : ndarray
    coefs_, intercepts_ : list of ndarray
        Weights ``(fan_in, fan_out)`` and biases of each layer.
    loss_curve_ : list of float
        Mean training loss per sample (with the penalty) of each epoch: the batch losses
        weighted by batch size, as scikit-learn's.
    best_loss_ : float or None
    validation_scores_, best_validation_score_ : list of float, float, or None
        With ``early_stopping``.
    n_iter_ : int
        Epochs run.
    t_ : int
        Optimizer steps taken.
    history_ : TrainHistory
        The full per-step and per-epoch record of :func:`slopes.ml.fit`.
    train_result_ : TrainResult
    model_ : MLP
    params_ : list of dict
        The parameters as used by ``model_``.
    n_features_in_, n_layers_, n_outputs_ : int

    Examples
    --------
    >>> import slopes.ml as ml
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    >>> y = np.array(["even", "odd", "odd", "even"] * 10)          # XOR
    >>> clf = ml.MLPClassifier((16,), learning_rate_init=0.05, max_iter=200, random_state=0)
    >>> clf.fit(X, y).predict([[0.0, 1.0], [1.0, 1.0]]).tolist()
    ['odd', 'even']
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(12).tolist()
    [1.0, 1.0]
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,); returns ``self``."""
        self._track_feature_names(X, reset=True)
        X, y = check_X_y(X, y)
        classes, codes = encode_labels(y)
        self.classes_ = classes
        return self._fit(X, codes, len(classes), cross_entropy, _accuracy, stratify=True)

    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)``, continuing from the current parameters and optimizer state.

        For data that comes in chunks (or streams): the first call needs every label that
        will ever appear, ``classes``, since the output layer has one unit per class; later
        calls may omit it. Early stopping does not apply; ``n_iter_`` counts the calls and
        ``loss_curve_`` grows by one entry per call.

        Examples
        --------
        >>> import numpy as np
        >>> import slopes.ml as ml
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
        >>> clf = ml.MLPClassifier((4,), learning_rate_init=0.1)
        >>> for _ in range(3):
        ...     clf = clf.partial_fit(X, y, classes=[0, 1])
        >>> clf.n_iter_, len(clf.loss_curve_), clf.classes_.tolist()
        (3, 3, [0, 1])
        """
        self._track_feature_names(X, reset=not hasattr(self, "n_features_in_"))
        X, y = check_X_y(X, y)
        codes = incremental_codes(self, y, classes)
        return self._fit(X, codes, len(self.classes_), cross_entropy, _accuracy, stratify=True, incremental=True)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        return np.asarray(softmax(self._outputs(X)))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        logits = self._outputs(X)
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class of each row."""
        logits = self._outputs(X)  # checks fitted first
        return self.classes_[np.argmax(logits, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer-perceptron regressor trained on half the mean squared error.

    The loss is ``mean((y - pred)^2) / 2`` per batch (mean over rows and targets), as in scikit-learn, plus the ``alpha``
    penalty; the output layer is linear. ``y`` may be 1-D (one target) or 2-D
    (several); :meth:`predict` returns the same shape. All parameters and attributes are
    those of :class:`MLPClassifier` (without ``classes_``); ``early_stopping`` monitors
    the validation R^2.

    Examples
    --------
    >>> import slopes.ml as ml
    >>> X = np.linspace(-1, 1, 100)[:, None]
    >>> reg = ml.MLPRegressor((32,), learning_rate_init=0.03, max_iter=300, tol=None)
    >>> reg.fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.99
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y may be 2-D: one output unit per column
        return tags

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) or (n_samples, k)."""
        self._track_feature_names(X, reset=True)
        X, Y = self._targets(X, y)
        return self._fit(X, Y, Y.shape[1], _half_mse, _r2, stratify=False)

    def partial_fit(self, X, y):
        """One epoch on ``(X, y)``, continuing from the current parameters and optimizer state.

        For data that comes in chunks: each call is one more epoch (``n_iter_`` counts
        them, ``loss_curve_`` grows by one); early stopping does not apply.

        Examples
        --------
        >>> import numpy as np
        >>> import slopes.ml as ml
        >>> X = np.linspace(-1, 1, 20)[:, None]
        >>> reg = ml.MLPRegressor((8,), learning_rate_init=0.05)
        >>> for _ in range(2):
        ...     reg = reg.partial_fit(X, 2 * X[:, 0])
        >>> reg.n_iter_, reg.predict(X[:3]).shape
        (2, (3,))
        """
        self._track_feature_names(X, reset=not hasattr(self, "n_features_in_"))
        X, Y = self._targets(X, y)
        return self._fit(X, Y, Y.shape[1], _half_mse, _r2, stratify=False, incremental=True)

    def _targets(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """``X`` checked and ``y`` as a 2-D float array (one column per output); remembers y's shape."""
        y_arr = np.asarray(y)
        if y_arr.ndim == 2:
            X = check_X(X)
            Y = check_X(y_arr, name="y").astype(X.dtype, copy=False)
            if Y.shape[0] != X.shape[0]:
                raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}; they must match")
        else:
            X, y1 = check_X_y(X, y, y_numeric=True)
            Y = y1[:, None]
        self._y_1d = y_arr.ndim != 2
        return X, Y

    def predict(self, X):
        """Predictions, shape (n_samples,) if fitted on a 1-D ``y``, else (n_samples, k)."""
        out = self._outputs(X)
        return out[:, 0] if self._y_1d else out
