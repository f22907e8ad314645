"""Activation functions, written with :mod:`slopes.numpy` so every transform applies.

Each function works on plain arrays (returning NumPy results) and on traced
values (inside ``sl.grad``, ``sl.hessian``, ``sl.jit``, ``sl.vmap``); derivatives
come from the engine. The formulations avoid overflow: for ``|x|`` up to 1e4
the values, gradients and second derivatives are finite and raise no
overflow/invalid warnings, in float64 and float32 (float32 in, float32 out).

Conventions at kinks: the derivative of :func:`relu` at 0 is 0, and
:func:`leaky_relu` and :func:`elu` take their left-hand derivative at 0
(``negative_slope`` and ``alpha``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

import slopes.numpy as snp

from ..core.ops.logsumexp import log_softmax as _log_softmax
from ..core.ops.rules import elementwise_batch
from ..numpy._axes import normalize_axes
from ..custom import custom_jvp

__all__ = [
    "elu",
    "gelu",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]

# Reused as is: slopes.numpy's logsumexp factors out the maximum, so it is
# overflow-free, and its gradient is softmax.
logsumexp = snp.logsumexp
tanh = snp.tanh


# softplus is one primitive (NumPy's logaddexp) whose derivative is given as
# sigmoid: differentiating logaddexp's own rule twice would compute 1 - sigmoid(x)
# by cancellation and lose the relative accuracy of softplus'' in the right tail.
@custom_jvp
def _softplus(x):
    return np.logaddexp(0.0, x)


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * sigmoid(x)


elementwise_batch(_softplus.prim)  # vmap/jacfwd: apply to the whole batch at once


def softplus(x):
    """Softplus ``log(1 + exp(x))``, a smooth ReLU; its derivative is :func:`sigmoid`.

    The value is NumPy's ``logaddexp(0, x)`` (no overflow); the derivative is
    given as :func:`sigmoid`, so derivatives of every order keep full relative
    accuracy in both tails.

    Parameters
    ----------
    x : array_like or traced array

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.softplus(np.array([-1000.0, 0.0, 1000.0])).round(6).tolist()
    [0.0, 0.693147, 1000.0]
    """
    return _softplus(snp.asarray(x))


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, exact where ``sigmoid(x)`` underflows.

    Parameters
    ----------
    x : array_like or traced array

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.log_sigmoid(np.array([-1000.0, 0.0])).round(6).tolist()
    [-1000.0, -0.693147]
    """
    x = snp.asarray(x)
    return -softplus(-x)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``.

    Computed as ``exp(-logaddexp(0, -x))``: the exponent is never positive, so
    nothing overflows, and the derivative the engine takes,
    ``sigmoid(x) * sigmoid(-x)``, has no cancellation in either tail.

    Parameters
    ----------
    x : array_like or traced array

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.ml as ml
    >>> ml.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    >>> float(sl.grad(ml.sigmoid)(0.0))    # sigmoid(0) * (1 - sigmoid(0))
    0.25
    """
    x = snp.asarray(x)
    return snp.exp(-snp.logaddexp(0.0, -x))


def relu(x):
    """Rectified linear unit ``max(x, 0)``; its derivative at 0 is 0 (house convention).

    Written as ``where(x > 0, x, 0)``: two operations, the fewest of the
    formulations measured (``maximum(x, 0)`` would split the derivative at
    the tie, giving 1/2 at 0, and costs more under ``sl.jit``).

    Parameters
    ----------
    x : array_like or traced array

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.ml as ml
    >>> ml.relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    >>> sl.grad(lambda x: ml.relu(x).sum())(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    x = snp.asarray(x)
    return snp.where(x > 0, x, 0.0)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (derivative ``negative_slope`` at 0).

    Parameters
    ----------
    x : array_like or traced array
    negative_slope : float, default 0.01

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
    array([-0.2,  3. ])
    """
    x = snp.asarray(x)
    return snp.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    The exponential only sees ``min(x, 0)`` (so the branch not taken cannot
    overflow); the derivative at 0 is the left one, ``alpha``.

    Parameters
    ----------
    x : array_like or traced array
    alpha : float, default 1.0

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.elu(np.array([-1000.0, 0.0, 2.0]))
    array([-1.,  0.,  2.])
    """
    x = snp.asarray(x)
    pos = x > 0
    return snp.where(pos, x, alpha * snp.expm1(snp.where(pos, 0.0, x)))


# The standard normal CDF Phi: scipy's ndtr is accurate in both tails; its
# derivative, the normal density, is given as a rule so every order works.
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@custom_jvp
def _normal_cdf(x):
    return special.ndtr(x)


@_normal_cdf.defjvp
def _normal_cdf_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _normal_cdf(x), t * (_INV_SQRT_2PI * snp.exp(-0.5 * x * x))


elementwise_batch(_normal_cdf.prim)  # vmap/jacfwd: apply to the whole batch at once


def gelu(x, approximate=False):
    """Gaussian error linear unit ``x * Phi(x)``, ``Phi`` the standard normal CDF.

    ``approximate=False`` (default) is exact: ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``,
    evaluated with :func:`scipy.special.ndtr` (accurate in both tails) and
    differentiated through its derivative, the normal density.
    ``approximate=True`` uses the tanh form
    ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`` (as in PyTorch's
    ``approximate="tanh"``), built from elementwise operations only.

    Parameters
    ----------
    x : array_like or traced array
    approximate : bool, default False

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes as sl, slopes.ml as ml
    >>> ml.gelu(np.array([-1000.0, 0.0, 1.0]))
    array([-0.        ,  0.        ,  0.84134475])
    >>> float(sl.grad(ml.gelu)(0.0))    # Phi(0) + 0 * density(0)
    0.5
    """
    x = snp.asarray(x)
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(f"gelu(): approximate must be True or False, got {approximate!r}")
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + snp.tanh(c * (x + 0.044715 * x * x * x)))
    return x * _normal_cdf(x)


def _check_axis(x, axis):
    if axis is None or isinstance(axis, tuple):
        return
    ndim = len(getattr(x, "shape", ()))
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an input with {ndim} dimension(s)")


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``: log-probabilities, stable for any logits.

    Computed as ``(x - m) - log(sum(exp(x - m)))`` with ``m`` the maximum, one
    primitive whose gradient is ``g - softmax(x) * sum(g)`` read from its output.

    Parameters
    ----------
    x : array_like or traced array
        Logits.
    axis : int or tuple of int, default -1
        The axis (axes) that sums to one after exponentiation.

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.log_softmax(np.array([1000.0, 1000.0]))
    array([-0.69314718, -0.69314718])
    """
    x = snp.asarray(x)
    _check_axis(x, axis)
    return _log_softmax(x, axis=normalize_axes(axis, x.ndim))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, computed as ``exp(log_softmax(x))`` (no overflow).

    Parameters
    ----------
    x : array_like or traced array
        Logits.
    axis : int or tuple of int, default -1

    Returns
    -------
    ndarray (or a traced array inside a transform), same shape and dtype as ``x``,
    non-negative and summing to 1 along ``axis``.

    Examples
    --------
    >>> import numpy as np, slopes.ml as ml
    >>> ml.softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    return snp.exp(log_softmax(x, axis=axis))
