"""More elementwise primitives: ``sinc`` and its derivatives, ``fmod``.

``sinc(x) = sin(pi x) / (pi x)`` is smooth, but the quotient is 0/0 at ``x = 0``
and so would be every derivative written as one. One primitive, ``sinc_derivative``
with the order ``k`` as a parameter, gives the k-th derivative everywhere: at
``x = 0`` from the Maclaurin series (the limit, as JAX does), and its own
derivative is the same primitive with order ``k + 1``, so derivatives of every
order (forward, reverse, Taylor) are exact at 0.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .elementwise import div, mask_zero, mul, neg, rint, sub, unbroadcast
from .rules import defjvp, elementwise_batch
from ..trace import Primitive, shape_of

__all__ = ["sinc_derivative", "fmod"]

# below this |pi x| the Maclaurin series is summed instead of the closed form, whose terms
# cancel there; for |u| <= 1 a term is at most its coefficient, so the series stops once
# the coefficients fall below 1e-18 of the largest (the first 30 terms bound the search)
_SERIES_BELOW = 1.0
_SERIES_TERMS = 30
_SERIES_CUTOFF = 1e-18


@functools.cache
def _sinc_series_coefficients(k):
    """Coefficients of the k-th derivative of sin(u)/u as a polynomial in u**2 (times u if k is odd)."""
    first = (k + 1) // 2
    coefs = [(-1) ** n * math.perm(2 * n, k) / math.factorial(2 * n + 1)
             for n in range(first, first + _SERIES_TERMS)]
    largest = max(abs(c) for c in coefs)
    return [c for c in coefs if abs(c) >= _SERIES_CUTOFF * largest]


def _sinc_series(u, k):
    """k-th derivative of sin(u)/u from its series sum_n (-1)^n u^(2n) / (2n+1)!, by Horner in u**2."""
    u2 = u * u
    total = np.zeros_like(u)
    for c in reversed(_sinc_series_coefficients(k)):
        total *= u2
        total += c
    return total * u if k % 2 else total


def _sinc_closed_form(u, k):
    """k-th derivative of sin(u) * u^-1 by Leibniz's rule."""
    total = np.zeros_like(u)
    inverse = 1.0 / u
    power = inverse  # u^-(j+1)
    for j in range(k + 1):
        dsin = np.sin(u + (k - j) * np.pi / 2)  # (k-j)-th derivative of sin
        total += float(math.comb(k, j) * (-1) ** j * math.factorial(j)) * dsin * power
        power = power * inverse
    return total


def _sinc_derivative_impl(x, order=0):
    if order == 0:  # the value itself: NumPy's, bit for bit
        return np.sinc(x)
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64
    u = np.pi * x.astype(dtype, copy=False)
    small = np.abs(u) < _SERIES_BELOW
    out = np.empty_like(u)
    # each formula only on its own entries: the closed form never sees 0, nor the series a large u
    out[small] = _sinc_series(u[small], order)
    with np.errstate(over="ignore", invalid="ignore"):
        out[~small] = _sinc_closed_form(u[~small], order)
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
