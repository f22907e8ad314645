"""Functional layers: parameters are plain pytrees of arrays, layers are plain functions.

An ``*_init`` function returns a dict of NumPy arrays; the matching apply function takes
that dict and an input, and works unchanged on traced values (inside ``sl.grad``,
``sl.jit``, ``sl.vmap``). :class:`MLP` stacks them: ``model.init()`` gives a list of layer
dicts, ``model(params, x)`` the outputs (logits for a classifier).

Weights have shape ``(fan_in, fan_out)`` and act as ``x @ W + b``, as in
:mod:`slopes.ml.initializers`.

Examples
--------
>>> import slopes as sl, slopes.ml as ml
>>> model = ml.MLP([4, 8, 3], seed=0)
>>> params = model.init()
>>> x = np.ones((5, 4))
>>> model(params, x).shape
(5, 3)
>>> g = sl.grad(lambda p: ml.cross_entropy(model(p, x), np.zeros(5, int)))(params)
>>> [sorted(layer) for layer in g]
[['W', 'b'], ['W', 'b']]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import slopes.numpy as snp

from . import activations as _act
from . import initializers as _init

__all__ = [
    "MLP",
    "batch_norm",
    "batch_norm_init",
    "batch_norm_state",
    "dense",
    "default_init",
    "dense_init",
    "get_activation",
    "layer_norm",
    "layer_norm_init",
    "residual_block",
    "residual_block_init",
]


def _identity(x):
    return snp.asarray(x)


_ACTIVATIONS = {
    "relu": _act.relu,
    "leaky_relu": _act.leaky_relu,
    "elu": _act.elu,
    "gelu": _act.gelu,
    "softplus": _act.softplus,
    "sigmoid": _act.sigmoid,
    "logistic": _act.sigmoid,  # scikit-learn's name
    "tanh": _act.tanh,
    "identity": _identity,
    "linear": _identity,
}
# He init suits activations that zero (about) half their input; the rest get Xavier.
_RELU_FAMILY = {"relu", "leaky_relu", "elu", "gelu"}

_INITS = {
    "he_normal": _init.he_normal,
    "he_uniform": _init.he_uniform,
    "xavier_normal": _init.xavier_normal,
    "xavier_uniform": _init.xavier_uniform,
}


def get_activation(activation):
    """The activation function for a name, or ``activation`` itself if it is callable.

    Parameters
    ----------
    activation : str or callable
        One of ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``,
        ``"sigmoid"`` (alias ``"logistic"``), ``"tanh"``, ``"identity"`` (alias ``"linear"``),
        or a function of one array written with :mod:`slopes.numpy`.

    Returns
    -------
    callable

    Examples
    --------
    >>> from slopes.ml.layers import get_activation
    >>> get_activation("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(f"unknown activation {activation!r}; use one of {sorted(_ACTIVATIONS)} or a function")


def default_init(activation) -> str:
    """The default weight initializer for an activation: He for the ReLU family, else Xavier.

    Examples
    --------
    >>> from slopes.ml.layers import default_init
    >>> default_init("relu"), default_init("tanh")
    ('he_normal', 'xavier_uniform')
    """
    return "he_normal" if isinstance(activation, str) and activation in _RELU_FAMILY else "xavier_uniform"


def _initializer(init):
    if callable(init):
        return init
    if isinstance(init, str) and init in _INITS:
        return _INITS[init]
    raise ValueError(
        f"unknown init {init!r}; use one of {sorted(_INITS)} or a function init(shape, seed) -> array"
    )


def _positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _as_rng(seed, where):
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"{where}: seed must be an int or a numpy.random.Generator, got {seed!r}")


def dense_init(fan_in, fan_out, *, seed, init="he_normal", dtype=np.float64):
    """Parameters of a dense layer: ``{"W": (fan_in, fan_out), "b": (fan_out,)}``, ``b = 0``.

    Parameters
    ----------
    fan_in, fan_out : int
    seed : int or numpy.random.Generator
        Same seed, same weights (a Generator is advanced).
    init : str or callable, default "he_normal"
        ``"he_normal"``, ``"he_uniform"``, ``"xavier_normal"``, ``"xavier_uniform"``, or a
        function ``init(shape, seed) -> array``.
    dtype : floating dtype, default float64

    Returns
    -------
    dict with ``"W"`` and ``"b"``

    Examples
    --------
    >>> from slopes.ml.layers import dense_init
    >>> p = dense_init(3, 2, seed=0)
    >>> p["W"].shape, p["b"].tolist()
    ((3, 2), [0.0, 0.0])
    """
    fan_in = _positive_int(fan_in, "fan_in", "dense_init()")
    fan_out = _positive_int(fan_out, "fan_out", "dense_init()")
    W = np.asarray(_initializer(init)((fan_in, fan_out), seed), dtype=dtype)
    if W.shape != (fan_in, fan_out):
        raise ValueError(f"dense_init(): init returned shape {W.shape}, expected {(fan_in, fan_out)}")
    return {"W": W, "b": np.zeros(fan_out, dtype=dtype)}


def dense(params, x):
    """``x @ W + b``, for ``x`` of shape ``(..., fan_in)``.

    Parameters
    ----------
    params : dict with ``"W"`` (fan_in, fan_out) and ``"b"`` (fan_out,)
    x : array_like or traced array

    Returns
    -------
    Array of shape ``(..., fan_out)``.

    Examples
    --------
    >>> from slopes.ml.layers import dense
    >>> dense({"W": np.eye(2), "b": np.array([1.0, -1.0])}, np.array([[2.0, 3.0]]))
    array([[3., 2.]])
    """
    W, b = params["W"], params["b"]
    x = snp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != W.shape[0]:
        raise ValueError(
            f"dense(): the input has shape {tuple(x.shape)} but W has shape {tuple(W.shape)}; "
            f"the input's last axis must have {W.shape[0]} features"
        )
    return snp.matmul(x, W) + b


def layer_norm_init(d, dtype=np.float64):
    """Layer-norm parameters for ``d`` features: ``gain = 1``, ``bias = 0``.

    Examples
    --------
    >>> from slopes.ml.layers import layer_norm_init
    >>> layer_norm_init(2)
    {'gain': array([1., 1.]), 'bias': array([0., 0.])}
    """
    return _affine_init(d, dtype, "layer_norm_init()")


def _normalization_input(params, x, eps, where):
    """``x`` as an array whose last axis matches ``params["gain"]``, after checking ``eps``."""
    if not (isinstance(eps, numbers.Real) and eps >= 0):
        raise ValueError(f"{where}: eps must be a non-negative number, got {eps!r}")
    x = snp.asarray(x)
    d = params["gain"].shape[0]
    if x.ndim < 1 or x.shape[-1] != d:
        raise ValueError(f"{where}: the input has shape {tuple(x.shape)}; its last axis must have {d}")
    return x


def _affine_init(d, dtype, where):
    """The per-feature ``gain = 1``, ``bias = 0`` that follow a normalization."""
    d = _positive_int(d, "d", where)
    return {"gain": np.ones(d, dtype=dtype), "bias": np.zeros(d, dtype=dtype)}


def layer_norm(params, x, eps=1e-5):
    """Normalize over the last axis to mean 0 and variance 1, then ``* gain + bias``.

    ``(x - mean) / sqrt(var + eps)``, with the (biased) variance computed from the centred
    values (two passes, no ``E[x^2] - E[x]^2`` cancellation); ``eps`` keeps a constant row
    finite. This is ``torch.nn.functional.layer_norm`` over the last axis.

    Parameters
    ----------
    params : dict with ``"gain"`` and ``"bias"`` of shape (d,)
    x : array_like or traced array of shape (..., d)
    eps : float > 0, default 1e-5

    Returns
    -------
    Array of the shape and dtype of ``x``.

    Examples
    --------
    >>> from slopes.ml.layers import layer_norm, layer_norm_init
    >>> layer_norm(layer_norm_init(3), np.array([[1.0, 2.0, 3.0]]), eps=0.0).round(4)
    array([[-1.2247,  0.    ,  1.2247]])
    """
    x = _normalization_input(params, x, eps, "layer_norm()")
    centred = x - snp.mean(x, axis=-1, keepdims=True)
    var = snp.mean(centred * centred, axis=-1, keepdims=True)
    return centred / snp.sqrt(var + eps) * params["gain"] + params["bias"]


def batch_norm_init(d, dtype=np.float64):
    """Batch-norm parameters for ``d`` features: ``gain = 1``, ``bias = 0`` (trained).

    Examples
    --------
    >>> from slopes.ml.layers import batch_norm_init
    >>> batch_norm_init(2)
    {'gain': array([1., 1.]), 'bias': array([0., 0.])}
    """
    return _affine_init(d, dtype, "batch_norm_init()")


def batch_norm_state(d, dtype=np.float64):
    """Running statistics of a batch norm for ``d`` features: ``mean = 0``, ``var = 1``.

    They are not trained: :func:`batch_norm` in training mode returns updated ones,
    which the training loop threads to the next call (and keeps for evaluation).

    Examples
    --------
    >>> from slopes.ml.layers import batch_norm_state
    >>> batch_norm_state(2)
    {'mean': array([0., 0.]), 'var': array([1., 1.])}
    """
    d = _positive_int(d, "d", "batch_norm_state()")
    return {"mean": np.zeros(d, dtype=dtype), "var": np.ones(d, dtype=dtype)}


def batch_norm(params, state, x, *, training=True, momentum=0.1, eps=1e-5):
    """Normalize each feature over the batch, then ``* gain + bias``; returns ``(y, new_state)``.

    Features are the last axis; statistics run over all the others (for ``(n, d)``
    input, the ``n`` samples). In training mode ``y = (x - mean) / sqrt(var + eps)``
    with the batch's mean and biased variance (two passes), the gradient flows
    through both, and the running statistics move towards the batch's:
    ``running <- (1 - momentum) running + momentum batch_stat``, the variance
    entering unbiased (``n / (n - 1)`` times). In evaluation mode
    (``training=False``) the running statistics normalize instead and come back
    unchanged. This is ``torch.nn.BatchNorm1d`` (its ``momentum=0.1`` convention,
    not Keras's ``momentum=0.99``, which weighs the old value).

    Parameters
    ----------
    params : dict with ``"gain"`` and ``"bias"`` of shape (d,), from :func:`batch_norm_init`
    state : dict with ``"mean"`` and ``"var"`` of shape (d,), from :func:`batch_norm_state`
    x : array_like or traced array of shape (..., d)
    training : bool, default True
    momentum : float in [0, 1], default 0.1
    eps : float >= 0, default 1e-5

    Returns
    -------
    y : array of the shape of ``x``
    new_state : dict of plain arrays (never differentiated; inside ``sl.grad`` return it
        as an auxiliary output, ``has_aux=True``)

    Examples
    --------
    >>> from slopes.ml.layers import batch_norm, batch_norm_init, batch_norm_state
    >>> x = np.array([[1.0], [3.0]])
    >>> y, stats = batch_norm(batch_norm_init(1), batch_norm_state(1), x, eps=0.0)
    >>> y.ravel(), stats        # running: 0.9 * (0, 1) + 0.1 * (mean 2, unbiased var 2)
    (array([-1.,  1.]), {'mean': array([0.2]), 'var': array([1.1])})
    >>> batch_norm(batch_norm_init(1), stats, x, training=False, eps=0.0)[0].ravel().round(4)
    array([0.7628, 2.6698])

    A training step threads the statistics through ``has_aux``:

    >>> import slopes as sl
    >>> def loss(p, s, x):
    ...     y, s = batch_norm(p, s, x)
    ...     return snp.sum(y ** 3), s
    >>> g, stats = sl.grad(loss, has_aux=True)(batch_norm_init(1), stats, x)
    >>> g["bias"], stats["mean"]
    (array([6.]), array([0.38]))
    """
    if not (isinstance(momentum, numbers.Real) and 0 <= momentum <= 1):
        raise ValueError(
            f"batch_norm(): momentum must be a number in [0, 1] (torch's convention), got {momentum!r}"
        )
    x = _normalization_input(params, x, eps, "batch_norm()")
    if not training:
        return (x - state["mean"]) / snp.sqrt(state["var"] + eps) * params["gain"] + params["bias"], state
    axes = tuple(range(x.ndim - 1))
    n = math.prod(x.shape[:-1])
    if n < 2:
        raise ValueError(
            f"batch_norm(): training mode needs at least 2 samples per feature, got input shape "
            f"{tuple(x.shape)}; use training=False (running statistics) for a single sample"
        )
    mean = snp.mean(x, axis=axes)
    centred = x - mean
    var = snp.mean(centred * centred, axis=axes)
    y = centred / snp.sqrt(var + eps) * params["gain"] + params["bias"]
    # the running statistics are bookkeeping, not part of the function being differentiated
    batch_mean, batch_var = snp.stop_gradient(mean), snp.stop_gradient(var) * (n / (n - 1))
    new_state = {
        "mean": (1 - momentum) * state["mean"] + momentum * batch_mean,
        "var": (1 - momentum) * state["var"] + momentum * batch_var,
    }
    return y, new_state


def residual_block_init(d, *, seed, hidden=None, init="he_normal", scale=1.0, dtype=np.float64):
    """Parameters of a residual block ``x + dense_out(act(dense_in(x)))`` of width ``d``.

    Parameters
    ----------
    d : int
        Input and output width.
    seed : int or numpy.random.Generator
    hidden : int, optional
        Width of the inner layer (default ``d``).
    init : str or callable, default "he_normal"
    scale : float > 0, default 1.0
        Multiplies the outer weight. A stack of ``n`` blocks is well behaved with
        ``scale = 1 / sqrt(n)``: each block then adds ``O(1/n)`` to the signal's variance,
        instead of doubling it (with He init and ReLU, the branch alone preserves variance).

    Returns
    -------
    dict ``{"inner": dense params, "outer": dense params}``

    Examples
    --------
    >>> from slopes.ml.layers import residual_block_init
    >>> p = residual_block_init(4, seed=0, hidden=8)
    >>> p["inner"]["W"].shape, p["outer"]["W"].shape
    ((4, 8), (8, 4))
    """
    d = _positive_int(d, "d", "residual_block_init()")
    hidden = d if hidden is None else _positive_int(hidden, "hidden", "residual_block_init()")
    if not (isinstance(scale, numbers.Real) and scale > 0):
        raise ValueError(f"residual_block_init(): scale must be a positive number, got {scale!r}")
    rng = _as_rng(seed, "residual_block_init()")
    inner = dense_init(d, hidden, seed=rng, init=init, dtype=dtype)
    outer = dense_init(hidden, d, seed=rng, init=init, dtype=dtype)
    outer["W"] = (outer["W"] * scale).astype(dtype, copy=False)
    return {"inner": inner, "outer": outer}


def residual_block(params, x, activation="relu"):
    """``x + dense(params["outer"], act(dense(params["inner"], x)))``.

    The identity path carries the gradient past the block unchanged, so the gradient of a
    deep stack does not have to pass through every activation's derivative.

    Parameters
    ----------
    params : dict from :func:`residual_block_init`
    x : array_like or traced array of shape (..., d)
    activation : str or callable, default "relu"

    Returns
    -------
    Array of shape (..., d).

    Examples
    --------
    >>> from slopes.ml.layers import residual_block
    >>> p = {"inner": {"W": np.eye(2), "b": np.zeros(2)}, "outer": {"W": 2 * np.eye(2), "b": np.ones(2)}}
    >>> residual_block(p, np.array([[1.0, -1.0]]))     # x + 2 relu(x) + 1
    array([[4., 0.]])
    """
    x = snp.asarray(x)
    return x + dense(params["outer"], get_activation(activation)(dense(params["inner"], x)))


class MLP:
    """A multilayer perceptron: dense layers with an activation between them.

    ``sizes = [n_in, h_1, ..., h_k, n_out]``. With ``residual=False`` hidden layer ``i``
    computes ``act(dense(h))`` (``act(layer_norm(dense(h)))`` with ``layer_norm=True``).
    With ``residual=True`` all hidden widths must be equal: the first hidden layer
    projects the input as before, and each further one is a :func:`residual_block`
    (pre-normalized, ``h + dense(act(dense(layer_norm(h))))``, with ``layer_norm=True``),
    its outer weight scaled by ``1/sqrt(number of blocks)``. The last layer is a plain
    dense layer with no activation (logits, or regression outputs).

    Parameters
    ----------
    sizes : sequence of int, at least 2 entries
    activation : str or callable, default "relu"
        See :func:`get_activation`.
    init : str or callable, optional
        Weight initializer for every layer; default He normal for the ReLU family
        (relu, leaky_relu, elu, gelu) and Xavier uniform otherwise (see :func:`dense_init`).
    residual : bool, default False
    layer_norm : bool, default False
    seed : int, default 0
        Seed of :meth:`init`.

    Examples
    --------
    >>> from slopes.ml.layers import MLP
    >>> model = MLP([2, 16, 16, 1], activation="tanh", seed=0)
    >>> params = model.init()
    >>> len(params), params[0]["W"].shape, model.init_name
    (3, (2, 16), 'xavier_uniform')
    >>> model(params, np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(self, sizes, activation="relu", init=None, residual=False, layer_norm=False, seed=0):
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"MLP: sizes must be a sequence of ints [n_in, ..., n_out], got {sizes!r}"
            ) from None
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes!r}")
        self.sizes = tuple(_positive_int(s, "every size", "MLP") for s in sizes)
        get_activation(activation)  # fail early on a bad name
        self.activation = activation
        self.init_name = default_init(activation) if init is None else init
        _initializer(self.init_name)
        self.residual = bool(residual)
        self.layer_norm = bool(layer_norm)
        hidden = self.sizes[1:-1]
        if self.residual and len(set(hidden)) > 1:
            raise ValueError(
                f"MLP: residual=True needs equal hidden widths (a block maps width d to d), got {hidden}"
            )
        self.seed = seed
        self._act = get_activation(activation)

    @property
    def n_hidden(self) -> int:
        """Number of hidden layers."""
        return len(self.sizes) - 2

    def _kind(self, i: int) -> str:
        if i == len(self.sizes) - 2:
            return "output"
        return "block" if self.residual and i > 0 else "dense"

    def init(self, dtype=np.float64):
        """Fresh parameters: a list with one dict per layer, input to output.

        A dense layer is ``{"W", "b"}`` (plus ``"norm": {"gain", "bias"}`` with layer norm);
        a residual block is ``{"inner", "outer"}`` (plus ``"norm"``). Same seed, same arrays.

        Examples
        --------
        >>> from slopes.ml.layers import MLP
        >>> [sorted(p) for p in MLP([3, 4, 4, 2], residual=True, layer_norm=True).init()]
        [['W', 'b', 'norm'], ['inner', 'norm', 'outer'], ['W', 'b']]
        """
        rng = _as_rng(self.seed, "MLP.init()")
        n_blocks = max(self.n_hidden - 1, 1)
        params = []
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            kind = self._kind(i)
            if kind == "block":
                layer = residual_block_init(
                    fan_in, seed=rng, init=self.init_name, scale=1.0 / math.sqrt(n_blocks), dtype=dtype
                )
            else:
                layer = dense_init(fan_in, fan_out, seed=rng, init=self.init_name, dtype=dtype)
            if self.layer_norm and kind != "output":
                layer["norm"] = layer_norm_init(fan_in if kind == "block" else fan_out, dtype=dtype)
            params.append(layer)
        return params

    def _forward(self, params, x, record=None):
        if not isinstance(params, list | tuple) or len(params) != len(self.sizes) - 1:
            n = len(params) if isinstance(params, list | tuple) else type(params).__name__
            raise ValueError(
                f"MLP: params must be the list of {len(self.sizes) - 1} layer dicts from model.init(), got {n}"
            )
        h = snp.asarray(x)
        for i, layer in enumerate(params):
            kind = self._kind(i)
            if kind == "output":
                return dense(layer, h)
            if kind == "block":
                u = layer_norm(layer["norm"], h) if self.layer_norm else h
                pre = dense(layer["inner"], u)
                h = h + dense(layer["outer"], self._act(pre))
            else:
                pre = dense(layer, h)
                if self.layer_norm:
                    pre = layer_norm(layer["norm"], pre)
                h = self._act(pre)
            if record is not None:
                record.append({"pre": pre, "post": h})
        raise AssertionError("unreachable: the last layer is the output")

    def __call__(self, params, x):
        """The outputs (logits or regression values), shape ``(..., sizes[-1])``."""
        return self._forward(params, x)

    def hidden_states(self, params, x):
        """Per hidden layer, ``{"pre": argument of the activation, "post": the layer's output}``.

        For a residual block ``pre`` is its inner pre-activation and ``post`` the stream
        after the block.

        Examples
        --------
        >>> from slopes.ml.layers import MLP
        >>> model = MLP([2, 3, 3, 1])
        >>> states = model.hidden_states(model.init(), np.ones((5, 2)))
        >>> len(states), states[0]["pre"].shape
        (2, (5, 3))
        """
        record: list = []
        self._forward(params, x, record)
        return record

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}" for k, v in (("residual", self.residual), ("layer_norm", self.layer_norm)) if v
        )
        return (
            f"MLP(sizes={list(self.sizes)}, activation={self.activation!r}, init={self.init_name!r}{extra})"
        )
