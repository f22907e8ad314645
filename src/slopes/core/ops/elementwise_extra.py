"""More elementwise primitives: ``sinc`` and its derivatives, ``fmod``.

``sinc(x) = sin(pi x) / (pi x)`` is smooth, but the quotient is 0/0 at ``x = 0``
and so would be every derivative written as one. One primitive, ``sinc_derivative``
with the order ``k`` as a parameter, gives the k-th derivative everywhere: at
``x = 0`` from the Maclaurin series (the limit, as JAX does), and its own
derivative is the same primitive with order ``k + 1``, so derivatives of every
order (forward, reverse, Taylor) are exact at 0.
"""

from __future__ import annotations

import math

import numpy as np

from .elementwise import div, mask_zero, mul, neg, rint, sub, unbroadcast
from .rules import defjvp, elementwise_batch
from ..trace import Primitive, shape_of

__all__ = ["sinc_derivative", "fmod"]

# below this |pi x| the Maclaurin series (terms shrink like u**2 / n**2) is summed instead
# of the closed form, whose terms cancel there; 30 terms reach 1e-17 relative for |u| <= 1
_SERIES_BELOW = 1.0
_SERIES_TERMS = 30


def _sinc_series(u, k):
    """k-th derivative of sin(u)/u from its series sum_n (-1)^n u^(2n) / (2n+1)!."""
    total = np.zeros_like(u)
    for n in range((k + 1) // 2, (k + 1) // 2 + _SERIES_TERMS):
        p = 2 * n - k  # power of u left after k derivatives of u^(2n)
        coef = (-1) ** n * math.perm(2 * n, k) / math.factorial(2 * n + 1)
        total = total + coef * u**p
    return total


def _sinc_closed_form(u, k):
    """k-th derivative of sin(u) * u^-1 by Leibniz's rule."""
    total = np.zeros_like(u)
    for j in range(k + 1):
        dsin = np.sin(u + (k - j) * np.pi / 2)  # (k-j)-th derivative of sin
        total = total + math.comb(k, j) * dsin * (-1) ** j * math.factorial(j) / u ** (j + 1)
    return total


def _sinc_derivative_impl(x, order=0):
    if order == 0:  # the value itself: NumPy's, bit for bit
        return np.sinc(x)
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64
    u = np.pi * x.astype(dtype, copy=False)
    small = np.abs(u) < _SERIES_BELOW
    safe = np.where(small, 1.0, u).astype(dtype, copy=False)  # the closed form never sees 0
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(small, _sinc_series(np.where(small, u, 0.0), order), _sinc_closed_form(safe, order))
    return (np.pi**order * out).astype(dtype, copy=False)


sinc_derivative = Primitive("sinc_derivative", _sinc_derivative_impl, params=("order",))
elementwise_batch(sinc_derivative)
defjvp(sinc_derivative, lambda t, ans, x, order=0: mul(t, sinc_derivative(x, order=order + 1)))
sinc_derivative.vjps = (
    lambda g, ans, x, order=0: mask_zero(g, mul(g, sinc_derivative(x, order=order + 1))),
)
sinc_derivative.keeps = (0,)


# fmod(x, y) = x - q y with q = trunc(x / y) an integer, constant almost everywhere: the
# partials are 1 and -q. q is read back from the exact result, (x - ans) / y, rounded.
fmod = Primitive("fmod", np.fmod)
elementwise_batch(fmod)


def _fmod_quotient(x, y, ans):
    return rint(div(sub(x, ans), y))


defjvp(fmod, lambda t, ans, x, y: t, lambda t, ans, x, y: mul(t, neg(_fmod_quotient(x, y, ans))))
fmod.vjps = (
    lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
    lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, neg(_fmod_quotient(x, y, ans)))), shape_of(y)),
)
fmod.keeps = (0, 1, "ans")
