"""Loss functions and weight penalties, differentiable by every slopes transform.

Losses take ``reduction="mean"`` (default: the mean over examples), ``"sum"``,
or ``"none"`` (one value per example). Predictions and targets must have the
same shape: silent broadcasting of ``(n, 1)`` against ``(n,)`` is a classic bug,
so it is an error here. Losses on logits are written in their stable forms
(softplus, log-softmax), so logits of size 1e3 give finite losses and gradients.

Penalties take a params pytree (array, or nested dict/list/tuple of arrays) and
sum over all its leaves.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import slopes.numpy as snp

from ..core.pytree import leaves
from ..core.trace import Tracer
from .activations import log_softmax, relu

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "elastic_net_penalty",
    "hinge",
    "huber",
    "l1_penalty",
    "l2_penalty",
    "mae",
    "mse",
    "nll",
]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(values, reduction, name):
    if reduction == "mean":
        return snp.mean(values)
    if reduction == "sum":
        return snp.sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"{name}(): reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _pair(a, b, name, first="pred", second="target"):
    """Both as arrays of one shape (no silent broadcasting)."""
    a, b = snp.asarray(a), snp.asarray(b)
    if a.shape != b.shape:
        raise ValueError(
            f"{name}(): {first} has shape {a.shape} but {second} has shape {b.shape}; they must "
            f"match (reshape one of them, e.g. {second}.reshape({first}.shape))"
        )
    return a, _like(b, a)


def _like(b, a):
    """A concrete ``b`` in ``a``'s float dtype, so float32 inputs give float32 losses."""
    if not isinstance(b, Tracer) and np.issubdtype(a.dtype, np.floating) and b.dtype != a.dtype:
        return b.astype(a.dtype)
    return b


def _concrete(x):
    """The plain array behind ``x``, or None if it is traced (then it cannot be checked)."""
    return None if isinstance(x, Tracer) else np.asarray(x)


def mse(pred, target, reduction="mean"):
    """Mean squared error ``(pred - target)^2``.

    Parameters
    ----------
    pred, target : array_like or traced array, same shape
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean" averages over every entry (like scikit-learn's ``mean_squared_error``).

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> float(ml.mse(np.array([1.0, 2.0]), np.array([0.0, 4.0])))
    2.5
    """
    pred, target = _pair(pred, target, "mse")
    r = pred - target
    return _reduce(r * r, reduction, "mse")


def mae(pred, target, reduction="mean"):
    """Mean absolute error ``|pred - target|`` (derivative 0 where they are equal).

    Parameters
    ----------
    pred, target : array_like or traced array, same shape
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> float(ml.mae(np.array([1.0, 2.0]), np.array([0.0, 4.0])))
    1.5
    """
    pred, target = _pair(pred, target, "mae")
    return _reduce(snp.abs(pred - target), reduction, "mae")


def huber(pred, target, delta=1.0, reduction="mean"):
    """Huber loss: ``r^2 / 2`` for ``|r| <= delta``, ``delta * (|r| - delta / 2)`` beyond.

    ``r = pred - target``. Quadratic near zero, linear in the tails, so its
    gradient is ``r`` clipped to ``[-delta, delta]`` (PyTorch's ``HuberLoss``).

    Parameters
    ----------
    pred, target : array_like or traced array, same shape
    delta : float > 0, default 1.0
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.huber(np.array([0.5, 3.0]), np.array([0.0, 0.0]), reduction="none")
    array([0.125, 2.5  ])
    """
    if not delta > 0:
        raise ValueError(f"huber(): delta must be positive, got {delta!r}")
    pred, target = _pair(pred, target, "huber")
    r = pred - target
    a = snp.abs(r)
    return _reduce(snp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)), reduction, "huber")


def _check_unit_interval(y, name, what):
    c = _concrete(y)
    if c is not None and c.size and not (np.all(c >= 0) and np.all(c <= 1)):
        raise ValueError(f"{name}(): {what} must lie in [0, 1], got values from {c.min()} to {c.max()}")


def binary_cross_entropy(prob, y, eps=None, reduction="mean"):
    """Binary cross-entropy ``-(y log p + (1 - y) log(1 - p))`` on probabilities.

    ``p`` is clipped to ``[eps, 1 - eps]`` so the loss stays finite at 0 and 1
    (where the clip is active the gradient is 0). Prefer
    :func:`binary_cross_entropy_with_logits` when you have logits: it needs no
    clipping and is exact.

    Parameters
    ----------
    prob : array_like or traced array
        Predicted probabilities of class 1.
    y : array_like, same shape
        Targets in [0, 1] (hard 0/1 labels or soft labels).
    eps : float, optional
        Clipping margin; default the machine epsilon of ``prob``'s dtype (as
        scikit-learn's ``log_loss``), so ``1 - eps`` stays below 1 in float32 too.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> round(float(ml.binary_cross_entropy(np.array([0.8, 0.4]), np.array([1.0, 0.0]))), 6)
    0.366985
    """
    prob, y = _pair(prob, y, "binary_cross_entropy", "prob", "y")
    _check_unit_interval(prob, "binary_cross_entropy", "prob")
    _check_unit_interval(y, "binary_cross_entropy", "y")
    dtype = prob.dtype if np.issubdtype(prob.dtype, np.floating) else np.float64
    if eps is None:
        eps = float(np.finfo(dtype).eps)
    if not 0 < eps < 0.5:
        raise ValueError(f"binary_cross_entropy(): eps must lie in (0, 0.5), got {eps!r}")
    p = snp.clip(prob, eps, 1.0 - eps)
    return _reduce(-(y * snp.log(p) + (1.0 - y) * snp.log1p(-p)), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits, y, reduction="mean"):
    """Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits.

    Uses ``softplus(z) - y z`` (equal to ``-(y log sigmoid(z) + (1-y) log(1-sigmoid(z)))``),
    finite for any logit; its gradient is ``sigmoid(z) - y`` per example.

    Parameters
    ----------
    logits : array_like or traced array
    y : array_like, same shape
        Targets in [0, 1].
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> round(float(ml.binary_cross_entropy_with_logits(np.array([0.9]), np.array([1.0]))), 4)
    0.3412
    """
    z, y = _pair(logits, y, "binary_cross_entropy_with_logits", "logits", "y")
    _check_unit_interval(y, "binary_cross_entropy_with_logits", "y")
    return _reduce(snp.logaddexp(0.0, z) - y * z, reduction, "binary_cross_entropy_with_logits")


def _pick(log_probs, y, name):
    """``log_probs[..., y]`` for integer labels ``y`` of shape ``log_probs.shape[:-1]``."""
    if log_probs.ndim < 1 or y.shape != log_probs.shape[:-1]:
        raise ValueError(
            f"{name}(): integer labels need shape {log_probs.shape[:-1]} (one class index per row "
            f"of the {log_probs.shape} scores), got {y.shape}"
        )
    k = log_probs.shape[-1]
    c = _concrete(y)
    if c is not None and c.size and (c.min() < 0 or c.max() >= k):
        raise ValueError(f"{name}(): labels must lie in 0..{k - 1} for {k} classes, got {c.min()}..{c.max()}")
    return snp.take_along_axis(log_probs, snp.expand_dims(y, -1), axis=-1)[..., 0]


def _is_integer(y):
    return np.issubdtype(y.dtype, np.integer)


def nll(log_probs, y, reduction="mean"):
    """Negative log-likelihood ``-log_probs[i, y_i]`` of integer class labels.

    Parameters
    ----------
    log_probs : array_like or traced array, shape (..., k)
        Log-probabilities (e.g. from :func:`log_softmax`).
    y : integer array_like, shape (...)
        Class indices in ``0..k-1``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or shape (...) for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> float(ml.nll(np.log(np.array([[0.5, 0.5], [0.25, 0.75]])), np.array([0, 1])) / np.log(2))
    0.7075187496394219
    """
    log_probs, y = snp.asarray(log_probs), snp.asarray(y)
    if not _is_integer(y):
        raise TypeError(f"nll(): labels must be integers (class indices), got dtype {y.dtype}")
    return _reduce(-_pick(log_probs, y, "nll"), reduction, "nll")


def cross_entropy(logits, y, reduction="mean"):
    """Softmax cross-entropy of logits against class labels or probability rows.

    The kind of target is decided by its dtype:

    - integer ``y`` of shape ``logits.shape[:-1]``: class indices; the loss is
      ``-log_softmax(logits)[i, y_i]``;
    - floating ``y`` of shape ``logits.shape``: one-hot or probability rows;
      the loss is ``-sum_k y_k log_softmax(logits)_k``.

    The gradient with respect to the logits is ``softmax(logits) - onehot(y)``
    per example (divided by n for ``"mean"``).

    Parameters
    ----------
    logits : array_like or traced array, shape (..., k)
    y : array_like
        Integer labels, shape (...), or float rows, shape (..., k).
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean" averages over the examples (not the classes).

    Returns
    -------
    Scalar (or shape (...) for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> z = np.array([[0.0, 0.0], [1000.0, 0.0]])
    >>> ml.cross_entropy(z, np.array([0, 1]), reduction="none").round(6).tolist()
    [0.693147, 1000.0]
    >>> ml.cross_entropy(z, np.array([[1.0, 0.0], [0.0, 1.0]]), reduction="none").round(6).tolist()
    [0.693147, 1000.0]
    """
    z, y = snp.asarray(logits), snp.asarray(y)
    if z.ndim < 1:
        raise ValueError("cross_entropy(): logits need a class axis (shape (..., k)), got a scalar")
    logp = log_softmax(z, axis=-1)
    if _is_integer(y):
        return _reduce(-_pick(logp, y, "cross_entropy"), reduction, "cross_entropy")
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(
            f"cross_entropy(): y must be integer class labels or float probability rows, got dtype {y.dtype}"
        )
    if y.shape != z.shape:
        hint = " (cast float class indices to int with y.astype(int))" if y.shape == z.shape[:-1] else ""
        raise ValueError(
            f"cross_entropy(): float targets are probability rows and need the logits' shape "
            f"{z.shape}, got {y.shape}{hint}"
        )
    _check_unit_interval(y, "cross_entropy", "probability targets")
    y = _like(y, z)
    if reduction in ("mean", "sum"):  # one sum over every entry: no per-row sums to add up
        total = -snp.sum(y * logp)
        return total / math.prod(z.shape[:-1]) if reduction == "mean" else total
    return _reduce(-snp.sum(y * logp, axis=-1), reduction, "cross_entropy")


def hinge(scores, y, reduction="mean"):
    """Hinge loss ``max(0, 1 - y * score)`` for binary labels.

    Labels may be given as ``{-1, +1}`` or as ``{0, 1}`` (0 is read as -1, as
    scikit-learn's ``hinge_loss`` does); any other value is an error. The
    derivative at the kink ``y * score = 1`` is 0 (as for :func:`relu`).

    Parameters
    ----------
    scores : array_like or traced array
        Decision values (signed margins).
    y : array_like, same shape
        Labels in {-1, +1} or {0, 1}.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    Scalar (or per-entry array for ``"none"``).

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.hinge(np.array([2.0, 0.5, -1.0]), np.array([1, 1, 1]), reduction="none")
    array([0. , 0.5, 2. ])
    """
    scores, y = _pair(scores, y, "hinge", "scores", "y")
    c = _concrete(y)
    if c is not None:
        vals = set(np.unique(c).tolist())
        if not (vals <= {-1, 1} or vals <= {0, 1}):
            raise ValueError(
                f"hinge(): labels must be in {{-1, +1}} or in {{0, 1}}, got values {sorted(vals)}"
            )
    one = np.ones((), scores.dtype if np.issubdtype(scores.dtype, np.floating) else np.float64)
    sign = snp.where(y > 0, one, -one)  # both label conventions, also for traced labels
    return _reduce(relu(1.0 - sign * scores), reduction, "hinge")


# ---- penalties on a params pytree -------------------------------------------------


def _check_lam(lam, name):
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not lam >= 0:
        raise ValueError(f"{name}(): lam must be a non-negative number, got {lam!r}")


def _sum_over_leaves(params, fn, name):
    ls = leaves(params)
    if not ls:
        raise ValueError(f"{name}(): params has no arrays (got {params!r})")
    total = snp.sum(fn(snp.asarray(ls[0])))
    for leaf in ls[1:]:
        total = total + snp.sum(fn(snp.asarray(leaf)))
    return total


def l1_penalty(params, lam):
    """``lam * sum |w|`` over every entry of every leaf of ``params`` (lasso).

    Parameters
    ----------
    params : array or pytree of arrays
    lam : float >= 0

    Returns
    -------
    Scalar.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> float(ml.l1_penalty({"w": np.array([1.0, -2.0]), "b": np.array([3.0])}, 0.1))
    0.6000000000000001
    """
    _check_lam(lam, "l1_penalty")
    return lam * _sum_over_leaves(params, snp.abs, "l1_penalty")


def _square(w):
    return w * w


def l2_penalty(params, lam):
    """``lam / 2 * sum w^2`` over every leaf of ``params`` (ridge, weight decay).

    The factor 1/2 makes the gradient ``lam * w``, the weight-decay term of SGD.

    Parameters
    ----------
    params : array or pytree of arrays
    lam : float >= 0

    Returns
    -------
    Scalar.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.ml as ml
    >>> float(ml.l2_penalty([np.array([1.0, -2.0]), np.array([3.0])], 0.1))
    0.7000000000000001
    >>> sl.grad(lambda w: ml.l2_penalty(w, 0.1))(np.array([1.0, -2.0]))
    array([ 0.1, -0.2])
    """
    _check_lam(lam, "l2_penalty")
    return 0.5 * lam * _sum_over_leaves(params, _square, "l2_penalty")


def elastic_net_penalty(params, lam, l1_ratio=0.5):
    """``lam * (l1_ratio * sum |w| + (1 - l1_ratio) / 2 * sum w^2)``, scikit-learn's ElasticNet term.

    ``l1_ratio=1`` is :func:`l1_penalty`, ``l1_ratio=0`` is :func:`l2_penalty`.

    Parameters
    ----------
    params : array or pytree of arrays
    lam : float >= 0
    l1_ratio : float in [0, 1], default 0.5

    Returns
    -------
    Scalar.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> float(ml.elastic_net_penalty(np.array([1.0, -2.0]), 1.0, l1_ratio=0.5))
    2.75
    """
    _check_lam(lam, "elastic_net_penalty")
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real) or not 0 <= l1_ratio <= 1:
        raise ValueError(f"elastic_net_penalty(): l1_ratio must lie in [0, 1], got {l1_ratio!r}")
    return lam * l1_ratio * _sum_over_leaves(params, snp.abs, "elastic_net_penalty") + 0.5 * lam * (
        1.0 - l1_ratio
    ) * _sum_over_leaves(params, _square, "elastic_net_penalty")
