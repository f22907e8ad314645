"""Weight initializers: plain NumPy arrays from an explicit seed (same seed, same array).

Weight layout: a dense layer's weight has shape ``(fan_in, fan_out)`` and is
used as ``x @ W + b`` (the transpose of PyTorch's ``(out, in)``). For more than
two axes (convolution kernels ``(*window, in, out)``) the fans are
``window_size * in`` and ``window_size * out``. Biases are usually :func:`zeros`.

Every random initializer takes ``seed``: an int, or a ``numpy.random.Generator``
(which is advanced, so successive calls with one generator differ).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "fan_in_and_out",
    "he_normal",
    "he_uniform",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


def _shape(shape, name):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{name}(): shape must be an int or a tuple of ints, got {shape!r}") from None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ValueError(f"{name}(): shape entries must be non-negative ints, got {shape!r}")
    return tuple(int(s) for s in shape)


def _dtype(dtype, name):
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{name}(): dtype must be a floating dtype (float64, float32, ...), got {dt}")
    return dt


def _rng(seed, name):
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name}(): seed must be an int or a numpy.random.Generator (explicit, for reproducibility), "
        f"got {seed!r}"
    )


def fan_in_and_out(shape):
    """The fans of a weight of ``shape``: ``(fan_in, fan_out)``.

    ``(fan_in, fan_out)`` for a 2-D weight; for ``(*window, in, out)``,
    ``(window_size * in, window_size * out)``.

    Parameters
    ----------
    shape : tuple of int, at least 2 axes, all positive

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> from slopes.ml.initializers import fan_in_and_out
    >>> fan_in_and_out((784, 128))
    (784, 128)
    >>> fan_in_and_out((3, 3, 16, 32))
    (144, 288)
    """
    shape = _shape(shape, "fan_in_and_out")
    if len(shape) < 2:
        raise ValueError(
            f"fans need a weight with at least 2 axes (fan_in, fan_out), got shape {shape}; "
            "initialize biases with zeros(shape) or normal/uniform"
        )
    if 0 in shape:
        raise ValueError(f"fans need positive sizes, got shape {shape}")
    window = math.prod(shape[:-2])
    return window * shape[-2], window * shape[-1]


def zeros(shape, dtype=np.float64):
    """An array of zeros (for biases).

    Parameters
    ----------
    shape : int or tuple of int
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from slopes.ml.initializers import zeros
    >>> zeros(3)
    array([0., 0., 0.])
    """
    return np.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros"))


def normal(shape, std=1.0, *, seed, mean=0.0, dtype=np.float64):
    """Independent normal entries with the given ``mean`` and ``std``.

    Parameters
    ----------
    shape : int or tuple of int
    std : float >= 0, default 1.0
    seed : int or numpy.random.Generator
    mean : float, default 0.0
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from slopes.ml.initializers import normal
    >>> w = normal((2, 3), std=0.01, seed=0)
    >>> w.shape, bool((w == normal((2, 3), std=0.01, seed=0)).all())
    ((2, 3), True)
    """
    shape, dt, rng = _shape(shape, "normal"), _dtype(dtype, "normal"), _rng(seed, "normal")
    if not std >= 0:
        raise ValueError(f"normal(): std must be non-negative, got {std!r}")
    return rng.normal(mean, std, size=shape).astype(dt, copy=False)


def uniform(shape, low, high, seed, *, dtype=np.float64):
    """Independent entries uniform on ``[low, high)``.

    Parameters
    ----------
    shape : int or tuple of int
    low, high : float, ``low <= high``
    seed : int or numpy.random.Generator
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from slopes.ml.initializers import uniform
    >>> w = uniform((1000,), -0.5, 0.5, seed=0)
    >>> bool(w.min() >= -0.5 and w.max() < 0.5)
    True
    """
    shape, dt, rng = _shape(shape, "uniform"), _dtype(dtype, "uniform"), _rng(seed, "uniform")
    if not low <= high:
        raise ValueError(f"uniform(): need low <= high, got low={low!r}, high={high!r}")
    return rng.uniform(low, high, size=shape).astype(dt, copy=False)


def _scaled(name, shape, seed, gain, dtype, fan, dist):
    """Uniform or normal entries with variance ``gain^2 * 2 / fan`` (fan: in, or in + out average)."""
    shape = _shape(shape, name)
    fan_in, fan_out = fan_in_and_out(shape)
    if not gain > 0:
        raise ValueError(f"{name}(): gain must be positive, got {gain!r}")
    n = fan_in if fan == "in" else (fan_in + fan_out) / 2
    std = gain * math.sqrt(1.0 / n)
    if dist == "normal":
        return normal(shape, std, seed=_rng(seed, name), dtype=_dtype(dtype, name))
    limit = math.sqrt(3.0) * std  # a uniform on [-a, a] has std a / sqrt(3)
    return uniform(shape, -limit, limit, _rng(seed, name), dtype=_dtype(dtype, name))


def xavier_uniform(shape, seed, gain=1.0, *, dtype=np.float64):
    """Glorot/Xavier uniform: ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Keeps the variance of activations and of gradients roughly constant
    through layers with tanh/sigmoid-like activations.

    Parameters
    ----------
    shape : tuple of int, ``(fan_in, fan_out)`` or ``(*window, in, out)``
    seed : int or numpy.random.Generator
    gain : float > 0, default 1.0
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from slopes.ml.initializers import xavier_uniform
    >>> w = xavier_uniform((300, 100), seed=0)
    >>> bool(abs(w).max() <= (6 / 400) ** 0.5)
    True
    """
    return _scaled("xavier_uniform", shape, seed, gain, dtype, "avg", "uniform")


def xavier_normal(shape, seed, gain=1.0, *, dtype=np.float64):
    """Glorot/Xavier normal: ``N(0, std^2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int, ``(fan_in, fan_out)`` or ``(*window, in, out)``
    seed : int or numpy.random.Generator
    gain : float > 0, default 1.0
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray (an untruncated normal, like PyTorch's ``xavier_normal_``)

    Examples
    --------
    >>> from slopes.ml.initializers import xavier_normal
    >>> round(float(xavier_normal((500, 300), seed=0).std()), 3)   # sqrt(2 / 800) = 0.05
    0.05
    """
    return _scaled("xavier_normal", shape, seed, gain, dtype, "avg", "normal")


def he_uniform(shape, seed, *, dtype=np.float64):
    """He/Kaiming uniform for ReLU layers: ``U(-a, a)``, ``a = sqrt(6 / fan_in)``.

    Parameters
    ----------
    shape : tuple of int, ``(fan_in, fan_out)`` or ``(*window, in, out)``
    seed : int or numpy.random.Generator
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray

    Examples
    --------
    >>> from slopes.ml.initializers import he_uniform
    >>> w = he_uniform((600, 50), seed=0)
    >>> bool(abs(w).max() <= 0.1)     # sqrt(6 / 600)
    True
    """
    return _scaled("he_uniform", shape, seed, math.sqrt(2.0), dtype, "in", "uniform")


def he_normal(shape, seed, *, dtype=np.float64):
    """He/Kaiming normal for ReLU layers: ``N(0, 2 / fan_in)``.

    Parameters
    ----------
    shape : tuple of int, ``(fan_in, fan_out)`` or ``(*window, in, out)``
    seed : int or numpy.random.Generator
    dtype : floating dtype, default float64

    Returns
    -------
    np.ndarray (an untruncated normal, like PyTorch's ``kaiming_normal_``)

    Examples
    --------
    >>> from slopes.ml.initializers import he_normal
    >>> round(float(he_normal((800, 500), seed=0).std()), 3)   # sqrt(2 / 800) = 0.05
    0.05
    """
    return _scaled("he_normal", shape, seed, math.sqrt(2.0), dtype, "in", "normal")
