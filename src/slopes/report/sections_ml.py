"""Report sections on machine learning: logistic regression solvers, an MLP on digits, gradient health.

Each section function takes ``quick`` (smaller problems) and returns a
:class:`~slopes.report.page.Section`; :data:`SECTIONS` lists them in page order.

>>> [f.__name__ for f in SECTIONS]
['_logistic', '_mlp', '_gradient_health']
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..ml import (
    MLP,
    ConvergenceWarning,
    LogisticRegression,
    Standardizer,
    cross_entropy,
    datasets,
    depth_study,
    fit,
    train_test_split,
)
from ..optim import adamw, warmup_cosine
from .figures import draw
from .page import Section, Table

__all__ = [
    "LOGISTIC_SOLVERS",
    "SECTIONS",
    "depth_studies",
    "load_standardized",
    "logistic_fits",
    "train_mlp",
]

#: (solver, max_iter) of the logistic-regression section (GD gets 500 in quick mode).
LOGISTIC_SOLVERS = (("newton", 100), ("lbfgs", 500), ("gd", 2000))


def load_standardized(name: str, *, test_size=0.25, seed=0):
    """A real data set split (stratified) and standardized with the training statistics.

    Parameters
    ----------
    name : str
        A :func:`slopes.ml.datasets.load` name.
    test_size : float
    seed : int

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Examples
    --------
    >>> Xtr, Xte, ytr, yte = load_standardized("breast_cancer")
    >>> Xtr.shape, Xte.shape, bool(abs(Xtr.mean()) < 1e-12)
    ((426, 30), (143, 30), True)
    """
    d = datasets.load(name)
    Xtr, Xte, ytr, yte = train_test_split(d.X, d.y, test_size=test_size, seed=seed, stratify=d.y)
    scaler = Standardizer().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def logistic_fits(quick: bool = False):
    """L2-penalized logistic regression (C = 1) on breast_cancer by each solver of :data:`LOGISTIC_SOLVERS`.

    The computation of the report's logistic-regression section, shared with the tutorials.

    Parameters
    ----------
    quick : bool
        Gradient descent gets 500 iterations instead of 2000.

    Returns
    -------
    data : tuple of ndarray
        ``(X_train, X_test, y_train, y_test)`` from :func:`load_standardized`.
    fits : dict of str to (slopes.ml.LogisticRegression, int, float)
        Per solver: the fitted model, its ``max_iter`` and the fitting time in milliseconds.

    Examples
    --------
    >>> (Xtr, Xte, ytr, yte), fits = logistic_fits(quick=True)
    >>> clf = fits["newton"][0]
    >>> clf.n_iter_ < 20, bool(clf.score(Xte, yte) > 0.95)
    (True, True)
    """
    Xtr, Xte, ytr, yte = load_standardized("breast_cancer")
    fits = {}
    for solver, max_iter in LOGISTIC_SOLVERS:
        max_iter = 500 if quick and solver == "gd" else max_iter
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # GD is expected to stop at its iteration limit here: that is the point of the comparison.
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(C=1.0, solver=solver, max_iter=max_iter).fit(Xtr, ytr)
        fits[solver] = (clf, max_iter, 1e3 * (time.perf_counter() - t0))
    return (Xtr, Xte, ytr, yte), fits


def _logistic(quick: bool = False) -> Section:
    """Newton vs L-BFGS vs gradient descent for logistic regression on breast_cancer."""
    (Xtr, Xte, ytr, yte), computed = logistic_fits(quick)
    solvers = [(s, m) for s, (_, m, _) in computed.items()]
    fits, rows = {}, []
    for solver, (clf, _, ms) in computed.items():
        fits[solver] = clf
        rows.append(
            (
                solver,
                clf.n_iter_,
                float(clf.history_.f[-1]),
                float(clf.history_.grad_norm[-1]),
                float(clf.score(Xtr, ytr)),
                float(clf.score(Xte, yte)),
                ms,
            )
        )
    f_best = min(float(c.history_.f.min()) for c in fits.values())
    gaps = {f"{s} (max_iter={m})": np.maximum(fits[s].history_.f - f_best, 1e-16) for s, m in solvers}
    text = [
        f"Binary logistic regression on the breast-cancer data set ({len(ytr)} training and {len(yte)} test "
        "samples, 30 features standardized with the training statistics), with L2 penalty C = 1: "
        "`sl.ml.LogisticRegression(solver=...)` minimizes the mean log loss plus |w|^2 / (2 C n).",
        "Newton's method (IRLS) uses the exact Hessian X^T W X / n + I / (C n) from AD and converges "
        "quadratically: the gradient drops to rounding level in a handful of iterations. L-BFGS builds "
        "curvature from gradient differences and needs tens of cheap iterations; gradient descent with "
        "step 1/L (L bounds the Hessian) converges linearly and is still far from the tolerance at its "
        "limit. All three classify the test set about equally well: the differences are in the optimizer, "
        "not in the model.",
    ]
    table = Table(
        (
            "solver",
            "iterations",
            "final objective",
            "max |grad|",
            "train accuracy",
            "test accuracy",
            "time (ms)",
        ),
        rows,
        caption="Logistic regression on breast_cancer, C = 1",
    )
    zoom = 60
    figures = [
        draw(
            "loss_curves",
            gaps,
            log=True,
            x="step",
            caption="Suboptimality f_k - f* per iteration (f* = the best value reached by any solver)",
        ),
        draw(
            "loss_curves",
            {k: v[: zoom + 1] for k, v in gaps.items()},
            log=True,
            x="step",
            caption=f"The same, first {zoom} iterations: quadratic (Newton), superlinear (L-BFGS), linear (GD)",
        ),
    ]
    return Section("logistic", "Newton vs GD on logistic regression (breast cancer)", text, [table], figures)


def train_mlp(quick: bool = False):
    """An MLP 64 -> width -> 10 on digits, trained with AdamW and a warmup + cosine schedule.

    The computation of the report's MLP section, shared with the tutorials.

    Parameters
    ----------
    quick : bool
        Width 32 for 8 epochs, instead of width 64 for 40 epochs.

    Returns
    -------
    model : slopes.ml.MLP
    result : slopes.ml.TrainResult
        ``result.params`` are the trained parameters, ``result.history`` the curves.
    data : tuple of ndarray
        ``(X_train, X_test, y_train, y_test)`` from :func:`load_standardized`.
    settings : dict
        ``epochs``, ``width``, ``batch``, ``peak`` (learning rate), ``warmup`` and ``steps``.

    Examples
    --------
    >>> model, res, (Xtr, Xte, ytr, yte), settings = train_mlp(quick=True)
    >>> settings["steps"] == res.step
    True
    """
    Xtr, Xte, ytr, yte = load_standardized("digits")
    epochs, width, batch = (8, 32, 64) if quick else (40, 64, 64)
    model = MLP([Xtr.shape[1], width, 10], activation="relu", seed=0)
    steps = epochs * -(-len(ytr) // batch)
    warmup = steps // 10
    peak = 3e-3
    opt = adamw(learning_rate=warmup_cosine(peak, warmup, steps), weight_decay=1e-4)

    def loss(params, b):
        return cross_entropy(model(params, b[0]), b[1])

    res = fit(
        loss,
        model.init(),
        (Xtr, ytr),
        optimizer=opt,
        epochs=epochs,
        batch_size=batch,
        seed=0,
        val_data=(Xte, yte),
        progress=False,
    )
    settings = dict(epochs=epochs, width=width, batch=batch, peak=peak, warmup=warmup, steps=steps)
    return model, res, (Xtr, Xte, ytr, yte), settings


def _mlp(quick: bool = False) -> Section:
    """An MLP on the digits data, trained with AdamW and a warmup + cosine schedule."""
    model, res, (Xtr, Xte, ytr, yte), settings = train_mlp(quick)
    epochs, width, batch = settings["epochs"], settings["width"], settings["batch"]
    peak, warmup, steps = settings["peak"], settings["warmup"], settings["steps"]

    def accuracy(X, y):
        return float(np.mean(np.argmax(model(res.params, X), axis=1) == y))

    ep = res.history.epoch
    rows = [
        (
            epochs,
            res.step,
            batch,
            peak,
            warmup,
            float(ep["loss"][-1]),
            float(ep["val_loss"][-1]),
            accuracy(Xtr, ytr),
            accuracy(Xte, yte),
            res.elapsed,
        )
    ]
    text = [
        f"A multilayer perceptron 64 -> {width} (ReLU, He initialization) -> 10 on the 8x8 digits "
        f"({len(ytr)} training and {len(yte)} test images, pixels standardized), trained with `sl.ml.fit` on "
        f"the softmax cross-entropy: AdamW (weight decay 1e-4) with `warmup_cosine`: a linear warmup over "
        f"the first {warmup} steps to {peak:g}, then a cosine decay to 0 at step {steps}; mini-batches of "
        f"{batch}, {epochs} epochs.",
        "The curves show the mean training loss of each epoch and the loss on the held-out test images.",
    ]
    table = Table(
        (
            "epochs",
            "steps",
            "batch",
            "peak lr",
            "warmup steps",
            "final train loss",
            "final test loss",
            "train accuracy",
            "test accuracy",
            "time (s)",
        ),
        rows,
        caption="MLP on digits",
    )
    fig = draw(
        "loss_curves",
        {"MLP": res},
        log=True,
        x="epoch",
        caption="Training loss per epoch (solid) and test loss (dashed)",
    )
    return Section("mlp", "An MLP on digits with AdamW and warmup + cosine", text, [table], [fig])


def depth_studies(quick: bool = False):
    """Gradient norms through depth for sigmoid, ReLU + He, and residual ReLU + He networks.

    The computation of the report's gradient-health section, shared with the tutorials.

    Parameters
    ----------
    quick : bool
        Depths up to 16 instead of 32.

    Returns
    -------
    dict of str to slopes.ml.DepthStudy
        Keyed by ``"sigmoid (Xavier init)"``, ``"ReLU + He init"`` and ``"ReLU + He, residual"``.

    Examples
    --------
    >>> studies = depth_studies(quick=True)
    >>> bool(studies["sigmoid (Xavier init)"].ratio[-1] < 1e-3 < studies["ReLU + He, residual"].ratio[-1])
    True
    """
    depths = [2, 4, 8, 16] if quick else [2, 4, 8, 16, 32]
    configs = {
        "sigmoid (Xavier init)": dict(activation="sigmoid"),
        "ReLU + He init": dict(activation="relu", init="he_normal"),
        "ReLU + He, residual": dict(activation="relu", init="he_normal", residual=True),
    }
    return {label: depth_study(depths, seed=0, **kw) for label, kw in configs.items()}


def _gradient_health(quick: bool = False) -> Section:
    """First-layer gradient norms through depth: sigmoid vs ReLU + He vs residual."""
    studies = depth_studies(quick)
    depths = list(next(iter(studies.values())).depths)
    rows = [
        (label, int(d), float(f), float(la), float(r))
        for label, s in studies.items()
        for d, f, la, r in zip(s.depths, s.first, s.last, s.ratio)
    ]
    deepest = depths[-1]
    sig = studies["sigmoid (Xavier init)"]
    text = [
        "`sl.ml.depth_study` builds freshly initialized MLPs (width 32) with more and more hidden layers and "
        "measures, on one batch of random inputs and labels, the norm of the cross-entropy gradient with "
        "respect to the first and the last layer's weights.",
        "The sigmoid's derivative is at most 1/4, so back-propagation multiplies by a small factor per "
        f"layer: at depth {deepest} the first layer's gradient is {sig.ratio[-1]:.2g} times the last one's "
        "(vanishing gradients). ReLU with He initialization keeps the signal's variance constant through "
        "the layers, and residual connections add an identity path, so their ratios stay of order one.",
    ]
    table = Table(
        ("network", "depth", "|grad| first layer", "|grad| last layer", "first / last"),
        rows,
        caption="Gradient norms at initialization",
    )
    fig = draw(
        "gradient_norms_by_depth",
        studies,
        quantity="first",
        caption="First-layer gradient norm against depth (log scale)",
    )
    return Section("gradient-health", "Gradient health through depth", text, [table], [fig])


SECTIONS = (_logistic, _mlp, _gradient_health)
