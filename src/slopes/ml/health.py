"""Gradient health: measure vanishing and exploding gradients, dead ReLUs, activation scale.

Backpropagation multiplies one local Jacobian per layer, so the gradient reaching the
first layer of a deep network is a long product: it shrinks geometrically when each
factor is small (sigmoid's derivative is at most 1/4: vanishing gradients) and grows
geometrically when each is large (weights initialized too large: exploding gradients).
The functions here measure this on a :class:`~slopes.ml.layers.MLP` instead of
asserting it:

- :func:`layer_grad_norms`: the gradient norm of each layer, input to output;
- :func:`depth_study`: first- and last-layer gradient norms as the depth grows;
- :func:`activation_variances`: the forward signal's variance per hidden layer (He init
  keeps ReLU activations' scale, Xavier halves it at every layer);
- :func:`dead_relu_fraction`: units whose pre-activation is never positive on a data
  set, which therefore get no gradient at all.

Examples
--------
>>> import slopes.ml as ml
>>> study = ml.depth_study([2, 8], activation="sigmoid", seed=0)
>>> bool(study.ratio[1] < study.ratio[0] / 10)     # deeper: the first layer gets far less
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..optim import global_norm
from ..transforms import grad
from .layers import MLP, default_init
from .losses import cross_entropy

__all__ = ["DepthStudy", "activation_variances", "dead_relu_fraction", "depth_study", "layer_grad_norms"]


def _check_model(model, params, where):
    if not isinstance(model, MLP):
        raise TypeError(f"{where}: model must be a slopes.ml.MLP, got {type(model).__name__}")
    if not isinstance(params, list | tuple) or len(params) != len(model.sizes) - 1:
        raise ValueError(
            f"{where}: params must be the list of {len(model.sizes) - 1} layer dicts of model.init()"
        )


def layer_grad_norms(model, params, loss, batch):
    """The 2-norm of the loss gradient for each layer's parameters, input layer first.

    Parameters
    ----------
    model : MLP
    params : list of layer dicts (``model.init()``)
    loss : callable
        ``loss(outputs, targets) -> scalar``, e.g. :func:`slopes.ml.cross_entropy` or
        :func:`slopes.ml.mse`.
    batch : tuple ``(X, targets)``

    Returns
    -------
    ndarray of shape (n_layers,)
        ``sqrt(sum of squared gradient entries)`` over all arrays of each layer (weights,
        biases, and the block's or norm's arrays).

    Examples
    --------
    >>> import slopes.ml as ml
    >>> model = ml.MLP([3, 4, 2], seed=0)
    >>> X, y = np.ones((5, 3)), np.zeros(5, int)
    >>> layer_grad_norms(model, model.init(), ml.cross_entropy, (X, y)).shape
    (2,)
    """
    _check_model(model, params, "layer_grad_norms()")
    if not callable(loss):
        raise TypeError("layer_grad_norms(): loss must be a function loss(outputs, targets)")
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        raise ValueError("layer_grad_norms(): batch must be a pair (X, targets)")
    X, targets = batch
    g = grad(lambda p: loss(model(p, X), targets))(list(params))
    return np.array([global_norm(layer) for layer in g])


def _hidden(model, params, X, where):
    _check_model(model, params, where)
    if model.n_hidden == 0:
        raise ValueError(f"{where}: the model has no hidden layer (sizes {list(model.sizes)})")
    return model.hidden_states(params, np.asarray(X))


def dead_relu_fraction(model, params, X):
    """Per hidden layer, the fraction of units whose pre-activation is ``<= 0`` on every row of ``X``.

    Such a ReLU unit outputs 0 and has derivative 0 on the whole data set, so no gradient
    reaches its incoming weights: it stays dead. (For a residual block the inner units
    are counted.)

    Parameters
    ----------
    model : MLP
    params : list of layer dicts
    X : array of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_hidden,), values in [0, 1]

    Examples
    --------
    >>> import slopes.ml as ml
    >>> model = ml.MLP([2, 4, 1], seed=0)
    >>> params = model.init()
    >>> params[0]["b"][:] = -100.0                     # every unit pushed far below zero
    >>> dead_relu_fraction(model, params, np.ones((8, 2)))
    array([1.])
    """
    states = _hidden(model, params, X, "dead_relu_fraction()")
    return np.array([float(np.mean(np.all(np.asarray(s["pre"]) <= 0, axis=0))) for s in states])


def activation_variances(model, params, X):
    """Per hidden layer, the variance of its outputs over all rows and units of ``X``.

    With ``n`` units per layer and weights of variance ``v``, a layer multiplies the
    second moment of its input by ``n v`` before the activation; ReLU then halves it.
    He init (``v = 2 / n``) therefore keeps ReLU activations at a constant scale, while
    Xavier (``v = 1 / n`` for equal fans) halves it at every layer. For tanh, which is
    linear near 0, Xavier is the scale-preserving choice.

    Parameters
    ----------
    model : MLP
    params : list of layer dicts
    X : array of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_hidden,)

    Examples
    --------
    >>> import slopes.ml as ml
    >>> model = ml.MLP([2, 3, 3, 1])
    >>> activation_variances(model, model.init(), np.zeros((4, 2)))   # zero in, zero biases
    array([0., 0.])
    """
    states = _hidden(model, params, X, "activation_variances()")
    return np.array([float(np.var(np.asarray(s["post"]))) for s in states])


@dataclass
class DepthStudy:
    """Gradient norms of MLPs of growing depth (see :func:`depth_study`).

    Attributes
    ----------
    depths : ndarray of int
        Hidden layers of each network.
    first, last : ndarray
        Gradient norm of the first (input) and last (output) layer.
    total : ndarray
        Global gradient norm over all parameters.
    config : dict
        The arguments of the study.
    """

    depths: np.ndarray
    first: np.ndarray
    last: np.ndarray
    total: np.ndarray
    config: dict

    @property
    def ratio(self) -> np.ndarray:
        """``first / last``: far below 1 means vanishing gradients, far above 1 exploding ones."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.first / self.last

    def __str__(self) -> str:
        head = ", ".join(f"{k}={v}" for k, v in self.config.items())
        lines = [
            f"depth study ({head})",
            f"{'depth':>6} {'|g| first':>12} {'|g| last':>12} {'first/last':>12} {'|g| total':>12}",
        ]
        for row in zip(self.depths, self.first, self.last, self.ratio, self.total):
            d, f, la, r, t = row
            lines.append(f"{d:>6d} {f:>12.4g} {la:>12.4g} {r:>12.4g} {t:>12.4g}")
        return "\n".join(lines)


def depth_study(
    depths,
    *,
    activation="sigmoid",
    init=None,
    residual=False,
    width=32,
    n_in=16,
    n_classes=10,
    n_samples=128,
    seed=0,
):
    """Measure first- and last-layer gradient norms of freshly initialized MLPs of each depth.

    Each network has ``depth`` hidden layers of ``width`` units (with ``residual=True``,
    one input projection and ``depth - 1`` residual blocks) and is evaluated on one fixed
    batch: standard-normal inputs ``(n_samples, n_in)`` with random labels, loss
    :func:`~slopes.ml.cross_entropy`. All draws come from ``seed``.

    Parameters
    ----------
    depths : sequence of int >= 1
    activation, init, residual :
        As in :class:`~slopes.ml.layers.MLP`.
    width, n_in, n_classes, n_samples : int
    seed : int

    Returns
    -------
    DepthStudy
        ``print()`` it for a table; ``.ratio`` is first / last.

    Examples
    --------
    >>> import slopes.ml as ml
    >>> s = ml.depth_study([4], activation="relu", residual=True, seed=0)
    >>> s.depths.tolist(), bool(0.1 < s.ratio[0] < 10)
    ([4], True)
    """
    depths = np.asarray(depths)
    if depths.ndim != 1 or depths.size == 0 or depths.dtype.kind not in "iu" or (depths < 1).any():
        raise ValueError(f"depth_study(): depths must be a non-empty list of positive ints, got {depths!r}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_in))
    y = rng.integers(0, n_classes, size=n_samples)
    first, last, total = [], [], []
    for depth in depths:
        model = MLP([n_in] + [width] * int(depth) + [n_classes], activation, init, residual, seed=seed)
        params = model.init()
        norms = layer_grad_norms(model, params, cross_entropy, (X, y))
        first.append(norms[0])
        last.append(norms[-1])
        total.append(float(np.sqrt(np.sum(norms**2))))
    config = {
        "activation": activation if isinstance(activation, str) else getattr(activation, "__name__", "?"),
        "init": default_init(activation) if init is None else (init if isinstance(init, str) else "custom"),
        "residual": residual,
        "width": width,
    }
    return DepthStudy(depths.astype(int), np.array(first), np.array(last), np.array(total), config)
