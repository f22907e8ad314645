"""``slopes.scipy.special``: SciPy's special functions, differentiable by every transform.

Values are :mod:`scipy.special`'s own; derivatives are closed forms written with
differentiable operations, so ``sl.grad``, ``sl.hessian``, ``sl.jvp``, Taylor mode,
``sl.vmap`` and ``sl.jit`` all apply, to any order. Replace
``from scipy import special`` (or ``jax.scipy.special``) by
``from slopes.scipy import special`` and go on.

Only some arguments have a closed-form derivative; the others are constants and
differentiating in them raises an error naming the argument: the order ``n`` of
:func:`polygamma`, the shapes of :func:`gammainc`/:func:`gammaincc`/:func:`betainc`/:func:`betaincc`, the
exponent ``x`` of :func:`zeta` (``q`` is differentiable), the order ``v`` of
:func:`iv`/:func:`ive`/:func:`jv`/:func:`yv`/:func:`jn`/:func:`yn`, and ``d`` of :func:`multigammaln`.

Examples
--------
>>> import slopes as sl
>>> from slopes.scipy import special
>>> float(sl.grad(special.gammaln)(3.0))       # digamma(3) = 3/2 - Euler's gamma
0.9227843350984671
"""

from __future__ import annotations

import inspect
import math

import numpy as np

import slopes.numpy as snp

from ..core.ops import special as sp
from ..core.ops.logsumexp import log_softmax as _log_softmax
from ..core.trace import concrete
from ..numpy._axes import normalize_axes
from ..numpy._wrap import asarray_args

__all__ = [
    "beta", "betainc", "betaincc", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfinv",
    "expit", "gamma",
    "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i0e", "i1", "i1e", "iv", "ive", "j0", "j1",
    "jn", "jv", "kl_div",
    "log_expit", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
    "polygamma",
    "psi", "rel_entr", "rgamma", "softmax", "xlog1py", "xlogy", "y0", "y1", "yn", "yv", "zeta",
]


def _real(name, *args):
    """The arguments as arrays; a clear error for what is not a real number."""
    args = asarray_args(args)
    for a in args:
        value = concrete(a)
        dtype = getattr(value, "dtype", None) or np.asarray(value).dtype
        if dtype.kind not in "biuf":
            raise TypeError(
                f"special.{name}() takes real numbers (floats, ints, bools), got an array of dtype "
                f"{dtype}; convert it with np.asarray(x, dtype=float)"
            )
    return args


# -- gamma family ----------------------------------------------------------------------------
def gamma(x):
    """The gamma function; ``d/dx gamma(x) = gamma(x) digamma(x)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.gamma(5.0)), round(float(sl.grad(special.gamma)(1.0)), 6)   # -Euler's gamma
    (24.0, -0.577216)
    """
    return sp.gamma(*_real("gamma", x))


def gammaln(x):
    """``log|gamma(x)|``, without overflow; its derivative is :func:`digamma`.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.gammaln(200.0)), 4)
    857.9337
    """
    return sp.gammaln(*_real("gammaln", x))


def digamma(x):
    """The logarithmic derivative of gamma, ``psi(x)``; its derivative is ``polygamma(1, x)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(sl.grad(special.digamma)(1.0)), 6)    # pi**2 / 6
    1.644934
    """
    return sp.digamma(*_real("digamma", x))


psi = digamma


def gammasgn(x):
    """The sign of the gamma function: ``+1`` or ``-1`` (``nan`` at its poles ``0, -1, -2, ...``).

    Piecewise constant, so its derivative is 0; ``gammasgn(x) * exp(gammaln(x))`` is ``gamma(x)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.gammasgn(-0.5)), float(special.gammasgn(-1.5)), float(sl.grad(special.gammasgn)(-0.5))
    (-1.0, 1.0, 0.0)
    """
    return sp.gammasgn(*_real("gammasgn", x))


def rgamma(x):
    """The reciprocal gamma function ``1 / gamma(x)``, an entire function (0 at the poles of gamma).

    Its derivative ``-digamma(x) / gamma(x)`` is evaluated through the reflection formula for
    ``x < 1/2``, so it is finite everywhere: ``(-1)**n n!`` at ``x = -n``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.rgamma(-2.0)), float(sl.grad(special.rgamma)(-2.0))   # 0 and 2!
    (0.0, 2.0)
    """
    return sp.rgamma(*_real("rgamma", x))


def polygamma(n, x):
    """``polygamma(n, x)``, the ``n``-th derivative of :func:`digamma`.

    Differentiable in ``x`` (the derivative is ``polygamma(n + 1, x)``); the
    integer order ``n`` is a constant.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(special.polygamma(1, 1.0)), 6)
    1.644934
    >>> round(float(sl.grad(lambda x: special.polygamma(1, x))(1.0)), 6)
    -2.404114
    """
    n, x = _real("polygamma", n, x)
    n_value = np.asarray(concrete(n))
    if np.any(n_value < 0) or np.any(n_value != np.round(n_value)):
        raise ValueError(f"special.polygamma(): the order n must be a non-negative integer, got {n_value!r}")
    return sp.polygamma(n, x)


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension ``d``.

    ``log Gamma_d(a) = d(d-1)/4 log(pi) + sum_{j=0}^{d-1} gammaln(a - j/2)``;
    differentiable in ``a``. As in SciPy, every ``a`` must exceed ``(d - 1) / 2``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.multigammaln(3.0, 2)), 6)
    1.550195
    """
    (a,) = _real("multigammaln", a)
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"special.multigammaln(): d must be a positive integer, got {d!r}")
    if np.any(np.asarray(concrete(a)) <= 0.5 * (d - 1)):
        raise ValueError(
            f"special.multigammaln(): every a must be greater than (d - 1) / 2 = {0.5 * (d - 1)}"
        )
    terms = sp.gammaln(snp.subtract(snp.expand_dims(a, -1), 0.5 * np.arange(d)))
    return snp.sum(terms, axis=-1) + 0.25 * d * (d - 1) * math.log(math.pi)


def beta(a, b):
    """The beta function ``gamma(a) gamma(b) / gamma(a + b)``, differentiable in both.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.beta(2.0, 3.0))
    0.08333333333333333
    """
    return sp.beta(*_real("beta", a, b))


def betaln(a, b):
    """``log|beta(a, b)|``; ``d/da = digamma(a) - digamma(a + b)`` (and alike in ``b``).

    Accurate where the sum of three ``gammaln`` would cancel (large ``a`` and ``b``).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> g = sl.grad(special.betaln, argnums=(0, 1))(1.0, 1.0)
    >>> [round(float(v), 6) for v in g]     # digamma(1) - digamma(2) = -1
    [-1.0, -1.0]
    """
    return sp.betaln(*_real("betaln", a, b))


def gammainc(a, x):
    """The regularized lower incomplete gamma function ``P(a, x)``.

    Differentiable in ``x`` (``x**(a-1) exp(-x) / gamma(a)``, evaluated in logs); the
    shape ``a`` is a constant (its derivative has no closed form).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(special.gammainc(1.0, 1.0)), 6)     # 1 - exp(-1)
    0.632121
    >>> round(float(sl.grad(lambda x: special.gammainc(1.0, x))(1.0)), 6)
    0.367879
    """
    return sp.gammainc(*_real("gammainc", a, x))


def gammaincc(a, x):
    """``Q(a, x) = 1 - gammainc(a, x)``, accurate where ``Q`` is tiny; differentiable in ``x``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.gammaincc(1.0, 1.0)), 6)      # exp(-1)
    0.367879
    """
    return sp.gammaincc(*_real("gammaincc", a, x))


def betainc(a, b, x):
    """The regularized incomplete beta function ``I_x(a, b)`` (the beta distribution's CDF).

    Differentiable in ``x`` (``x**(a-1) (1-x)**(b-1) / beta(a, b)``, evaluated in logs);
    the shapes ``a`` and ``b`` are constants (no closed-form derivative).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.betainc(2.0, 1.0, 0.5)), float(sl.grad(special.betainc, argnums=2)(2.0, 1.0, 0.5))
    (0.25, 1.0)
    """
    return sp.betainc(*_real("betainc", a, b, x))


def betaincc(a, b, x):
    """``1 - betainc(a, b, x)``, accurate where it is tiny; differentiable in ``x``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.betaincc(2.0, 1.0, 0.5))
    0.75
    """
    return sp.betaincc(*_real("betaincc", a, b, x))


def zeta(x, q=None):
    """The Riemann (``q=None``) or Hurwitz zeta function ``sum_k (k + q)**-x``.

    Differentiable in ``q``: ``d/dq zeta(x, q) = -x zeta(x + 1, q)``; ``x`` is a
    constant (no closed form).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(special.zeta(2.0)), 6), round(float(sl.grad(lambda q: special.zeta(2.0, q))(1.0)), 6)
    (1.644934, -2.404114)
    """
    return sp.zeta(*_real("zeta", x, 1.0 if q is None else q))


# -- error function and the normal distribution -------------------------------------------------
def erf(x):
    """The error function; ``erf'(x) = 2/sqrt(pi) exp(-x**2)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(sl.grad(special.erf)(0.0)), 6)
    1.128379
    """
    return sp.erf(*_real("erf", x))


def erfc(x):
    """``1 - erf(x)``, accurate where it is tiny (large ``x``).

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.erfc(10.0)) > 0
    True
    """
    return sp.erfc(*_real("erfc", x))


def erfinv(y):
    """The inverse of :func:`erf` on ``(-1, 1)``; derivative ``sqrt(pi)/2 exp(erfinv(y)**2)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(sl.grad(special.erfinv)(0.0)), 6)     # sqrt(pi) / 2
    0.886227
    """
    return sp.erfinv(*_real("erfinv", y))


def erfcinv(y):
    """The inverse of :func:`erfc` on ``(0, 2)``; derivative ``-sqrt(pi)/2 exp(erfcinv(y)**2)``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.erfcinv(1.0))
    0.0
    """
    return sp.erfcinv(*_real("erfcinv", y))


def ndtr(x):
    """The standard normal CDF; its derivative is the normal density.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.ndtr(0.0)), round(float(sl.grad(special.ndtr)(0.0)), 6)
    (0.5, 0.398942)
    """
    return sp.ndtr(*_real("ndtr", x))


def ndtri(y):
    """The standard normal quantile (inverse of :func:`ndtr`); derivative ``1 / density(ndtri(y))``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.ndtri(0.975)), 6)
    1.959964
    """
    return sp.ndtri(*_real("ndtri", y))


def log_ndtr(x):
    """``log(ndtr(x))``, accurate far in both tails.

    The derivative, density over CDF, is evaluated as ``exp(log density - log_ndtr)``,
    so it stays finite (about ``-x``) deep in the left tail where both underflow.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(sl.grad(special.log_ndtr)(-40.0)), 3)
    40.025
    """
    return sp.log_ndtr(*_real("log_ndtr", x))


# -- logistic ---------------------------------------------------------------------------------
def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``; derivative ``expit(x) expit(-x)`` (no cancellation).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.expit(0.0)), float(sl.grad(special.expit)(0.0))
    (0.5, 0.25)
    """
    return sp.expit(*_real("expit", x))


def log_expit(x):
    """``log(expit(x))``, exact where ``expit`` underflows; derivative ``expit(-x)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.log_expit(-1000.0)), float(sl.grad(special.log_expit)(-1000.0))
    (-1000.0, 1.0)
    """
    return sp.log_expit(*_real("log_expit", x))


def logit(p):
    """``log(p / (1 - p))``, the inverse of :func:`expit`; derivative ``1 / (p (1 - p))``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.logit(0.5)), float(sl.grad(special.logit)(0.5))
    (0.0, 4.0)
    """
    return sp.logit(*_real("logit", p))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))`` without overflow, with SciPy's signature.

    The largest entry of ``a`` (among those with ``b != 0``) is factored out as a
    constant, which leaves the value and every derivative exact. ``b`` (weights,
    possibly negative) is differentiable too. With ``return_sign=True``, returns
    ``(log|s|, sign(s))`` for the sum ``s``; otherwise a negative sum gives NaN, as in SciPy.

    Examples
    --------
    >>> import numpy as np, slopes as sl
    >>> from slopes.scipy import special
    >>> value, sign = special.logsumexp(np.array([1.0, 2.0]), b=np.array([1.0, -1.0]), return_sign=True)
    >>> round(float(value), 6), float(sign)          # log(e**2 - e), and the sum is negative
    (1.541325, -1.0)
    >>> sl.grad(lambda a: special.logsumexp(a, b=np.array([2.0, 2.0])))(np.zeros(2))
    array([0.5, 0.5])
    """
    (a,) = _real("logsumexp", a)
    if b is None and not return_sign:
        with np.errstate(divide="ignore"):  # all -inf: -inf, silently as in SciPy
            return snp.logsumexp(a, axis=axis, keepdims=keepdims)
    if b is None:
        b = 1.0
    (b,) = _real("logsumexp", b)
    shift = snp.max(snp.where(b != 0, a, -np.inf), axis=axis, keepdims=True)
    shift = snp.stop_gradient(snp.where(snp.isfinite(shift), shift, 0.0))
    # where b == 0 the term is 0 whatever a is: cap a there so exp(a - shift) cannot overflow
    # (the derivative in such a b is then exp(a - shift) / sum, exact where a <= shift)
    exponent = snp.where(b != 0, a, snp.minimum(a, shift)) - shift
    total = snp.sum(b * snp.exp(exponent), axis=axis, keepdims=keepdims)
    shift = snp.reshape(shift, snp.shape(total))
    with np.errstate(divide="ignore"):  # a zero sum: -inf, as above
        out = (snp.log(snp.abs(total)) if return_sign else snp.log(total)) + shift
    sign = snp.sign(total)
    return (out, sign) if return_sign else out


def log_softmax(x, axis=None):
    """``x - logsumexp(x, axis)``, with SciPy's default ``axis=None`` (all entries).

    The log-softmax primitive: the largest entries keep full accuracy (``x - logsumexp(x)``
    would carry the rounding of ``logsumexp``, the size of the largest entry).

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.scipy import special
    >>> special.log_softmax(np.array([1000.0, 1000.0]))
    array([-0.69314718, -0.69314718])
    >>> special.log_softmax(np.array([1e10, 1e10 + 1.0]))  # exactly -log(1 + e), -log(1 + 1/e)
    array([-1.31326169, -0.31326169])
    """
    (x,) = _real("log_softmax", x)
    return _log_softmax(x, axis=normalize_axes(axis, snp.ndim(x)))


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x), axis)`` as ``exp(log_softmax(x, axis))``, with SciPy's default ``axis=None``.

    Examples
    --------
    >>> import numpy as np
    >>> from slopes.scipy import special
    >>> special.softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]), axis=1)
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    return snp.exp(log_softmax(x, axis=axis))


# -- x log y and entropy ----------------------------------------------------------------------
def xlogy(x, y):
    """``x * log(y)``, and 0 where ``x == 0`` (even at ``y == 0``).

    Derivatives: ``log(y)`` in ``x``; ``x / y`` in ``y``, exactly 0 where ``x == 0``
    (the function is 0 along that line; JAX gives NaN at ``x = y = 0``).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.xlogy(0.0, 0.0)), float(sl.grad(special.xlogy, argnums=1)(0.0, 0.0))
    (0.0, 0.0)
    """
    return sp.xlogy(*_real("xlogy", x, y))


def xlog1py(x, y):
    """``x * log1p(y)``, and 0 where ``x == 0``; ``d/dy = x / (1 + y)``, 0 where ``x == 0``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.xlog1py(0.0, -1.0))
    0.0
    """
    return sp.xlog1py(*_real("xlog1py", x, y))


def entr(x):
    """The entropy term ``-x log x`` (0 at 0, ``-inf`` below 0); derivative ``-(log x + 1)``.

    At 0 the derivative is ``+inf`` (the one-sided slope, as JAX gives).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.entr(0.0)), float(sl.grad(special.entr)(1.0))
    (0.0, -1.0)
    """
    return sp.entr(*_real("entr", x))


def rel_entr(x, y):
    """The relative entropy term ``x log(x / y)``: 0 at ``x = 0 <= y``, ``inf`` off the domain.

    Inside ``x, y > 0`` the derivatives are ``log(x / y) + 1`` and ``-x / y``; where the
    value is the constant 0 or ``inf`` they are 0 (JAX's convention).
    ``sum(rel_entr(p, q))`` is the Kullback-Leibler divergence of distributions ``p``, ``q``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.rel_entr(0.0, 0.5)), float(sl.grad(special.rel_entr)(1.0, 1.0))
    (0.0, 1.0)
    """
    return sp.rel_entr(*_real("rel_entr", x, y))


def kl_div(x, y):
    """``x log(x / y) - x + y`` (``y`` at ``x = 0 <= y``, ``inf`` off the domain).

    Derivatives ``log(x / y)`` and ``1 - x / y`` inside ``x, y > 0``; elsewhere those of
    :func:`rel_entr` (0) plus those of ``-x + y``: ``-1`` and ``1`` (JAX's convention).

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.kl_div(1.0, 1.0)), float(special.kl_div(0.0, 2.0))
    (0.0, 2.0)
    """
    return sp.kl_div(*_real("kl_div", x, y))


# -- Bessel functions -----------------------------------------------------------------------------
def iv(v, z):
    """The modified Bessel function ``I_v(z)``, differentiable in ``z``: ``(I_{v-1} + I_{v+1}) / 2``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.iv(0.5, 1.0)), 6)
    0.937675
    """
    return sp.iv(*_real("iv", v, z))


def ive(v, z):
    """``exp(-|z|) I_v(z)``, without overflow; differentiable in ``z``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.ive(0.0, 1000.0)), 6)
    0.012617
    """
    return sp.ive(*_real("ive", v, z))


def jv(v, z):
    """The Bessel function of the first kind ``J_v(z)``; ``d/dz = (J_{v-1} - J_{v+1}) / 2``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.jv(2.0, 1.0)), 6)
    0.114903
    """
    return sp.jv(*_real("jv", v, z))


def yv(v, z):
    """The Bessel function of the second kind ``Y_v(z)`` (``z > 0``); ``d/dz = (Y_{v-1} - Y_{v+1}) / 2``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.yv(2.0, 1.0)), 6)
    -1.650683
    """
    return sp.yv(*_real("yv", v, z))


def _integer_order(name, n):
    """The order as an array, refusing what is not a whole number (SciPy would truncate it)."""
    order = np.asarray(concrete(n))
    if order.dtype.kind == "f" and not np.all(np.equal(np.mod(order, 1), 0)):
        raise ValueError(
            f"special.{name}() takes an integer order n, got {order!r}; round it, or use "
            f"special.{name.replace('n', 'v', 1)}() for a real order"
        )
    return n


def jn(n, x):
    """The Bessel function of the first kind of integer order, ``J_n(x)``: :func:`jv` at ``v = n``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> round(float(special.jn(2, 1.0)), 6), round(float(sl.grad(lambda x: special.jn(1, x))(0.0)), 6)
    (0.114903, 0.5)
    """
    return jv(_integer_order("jn", n), x)


def yn(n, x):
    """The Bessel function of the second kind of integer order, ``Y_n(x)`` (``x > 0``).

    SciPy's ``yn``, some 40 times faster than :func:`yv` at the same order; its derivative
    ``Y_{n-1} - (n/x) Y_n`` keeps the integer order.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.yn(2, 1.0)), 6)
    -1.650683
    """
    n, x = _real("yn", _integer_order("yn", n), x)
    return sp.yn(n, x)


def i0(x):
    """``I_0(x)``; its derivative is :func:`i1`.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(special.i0(0.0)), float(sl.grad(special.i0)(0.0))
    (1.0, 0.0)
    """
    return sp.i0(*_real("i0", x))


def i1(x):
    """``I_1(x)``; derivative ``(I_0 + I_2) / 2``, which is smooth at 0 (``1/2`` there).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(sl.grad(special.i1)(0.0))
    0.5
    """
    return sp.i1(*_real("i1", x))


def i0e(x):
    """``exp(-|x|) I_0(x)``; derivative ``i1e(x) - sign(x) i0e(x)`` (0 at the kink ``x = 0``, as in JAX).

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.i0e(1000.0)), 6)
    0.012617
    """
    return sp.i0e(*_real("i0e", x))


def i1e(x):
    """``exp(-|x|) I_1(x)``; derivative ``(i0e + ive(2, .)) / 2 - sign(x) i1e(x)``.

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(sl.grad(special.i1e)(0.0))
    0.5
    """
    return sp.i1e(*_real("i1e", x))


def j0(x):
    """``J_0(x)``; its derivative is ``-j1(x)``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> float(special.j0(0.0))
    1.0
    """
    return sp.j0(*_real("j0", x))


def j1(x):
    """``J_1(x)``; derivative ``(J_0 - J_2) / 2`` (``1/2`` at 0).

    Examples
    --------
    >>> import slopes as sl
    >>> from slopes.scipy import special
    >>> float(sl.grad(special.j1)(0.0))
    0.5
    """
    return sp.j1(*_real("j1", x))


def y0(x):
    """``Y_0(x)`` for ``x > 0``; its derivative is ``-y1(x)``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.y0(1.0)), 6)
    0.088257
    """
    return sp.y0(*_real("y0", x))


def y1(x):
    """``Y_1(x)`` for ``x > 0``; derivative ``(Y_0 - Y_2) / 2``.

    Examples
    --------
    >>> from slopes.scipy import special
    >>> round(float(special.y1(1.0)), 6)
    -0.781213
    """
    return sp.y1(*_real("y1", x))


# -- the Parameters and Returns sections, written once from each signature ------------------------
_CONSTANT = "a constant (not differentiable)"
_PARAMETERS = {
    ("polygamma", "n"): f"int or array_like of int\n    The order, {_CONSTANT}.",
    ("multigammaln", "d"): "int\n    The dimension, a positive constant.",
    ("gammainc", "a"): f"array_like\n    The shape, {_CONSTANT}.",
    ("gammaincc", "a"): f"array_like\n    The shape, {_CONSTANT}.",
    ("zeta", "x"): f"array_like\n    The exponent, {_CONSTANT}.",
    ("zeta", "q"): "array_like or traced array, optional\n"
    "    The shift; ``None`` (Riemann zeta) is ``q = 1``.",
    ("logsumexp", "axis"): "int or tuple of int, optional\n    Axes summed over (all by default).",
    ("logsumexp", "b"): "array_like or traced array, optional\n    Weights of ``exp(a)``, broadcast "
    "against ``a``; may be negative.",
    ("logsumexp", "keepdims"): "bool, default False",
    ("logsumexp", "return_sign"): "bool, default False\n    Also return the sign of the sum.",
    ("softmax", "axis"): "int or tuple of int, optional\n    Axes that sum to one (all by default).",
    ("log_softmax", "axis"): "int or tuple of int, optional\n    Axes normalized over (all by default).",
}
for _name in ("betainc", "betaincc"):
    _PARAMETERS[(_name, "a")] = _PARAMETERS[(_name, "b")] = f"array_like\n    A shape, {_CONSTANT}."
for _name in ("iv", "ive", "jv", "yv"):
    _PARAMETERS[(_name, "v")] = f"array_like\n    The order, {_CONSTANT}."
for _name in ("jn", "yn"):
    _PARAMETERS[(_name, "n")] = f"int or array_like of int\n    The order, {_CONSTANT}."
_RETURNS = {
    "logsumexp": "ndarray or tuple\n    The log of the sum; with ``return_sign``, the pair\n"
    "    ``(log|sum|, sign)`` (the sign carries no derivative).",
}


def _document(fn):
    """Insert NumPy-style Parameters and Returns sections before the docstring's Examples."""
    lines = ["Parameters", "----------"]
    for arg in inspect.signature(fn).parameters:
        lines.append(f"{arg} : " + _PARAMETERS.get((fn.__name__, arg), "array_like or traced array"))
    returns = _RETURNS.get(fn.__name__, "ndarray\n    Or a traced array inside a transform.")
    lines += ["", "Returns", "-------", *returns.split("\n"), "", ""]
    block = "\n".join("    " + line if line else "" for line in "\n".join(lines).split("\n"))
    fn.__doc__ = fn.__doc__.replace("    Examples\n", block + "    Examples\n", 1)


for _name in set(__all__) - {"psi"}:  # psi is digamma
    _document(globals()[_name])
