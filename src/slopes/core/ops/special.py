"""Special functions as primitives: SciPy's implementations, closed-form derivative rules.

Each value is ``scipy.special``'s; each rule is written with primitives (often the
next function of the family: ``gammaln' = digamma``, ``digamma' = polygamma(1, .)``,
``polygamma(n, .)' = polygamma(n + 1, .)``), so derivatives of every order work and
Taylor mode integrates the forward rule exactly.

Arguments without a closed-form derivative are constants: the order ``n`` of
``polygamma``, the order ``v`` of the Bessel functions, the shapes ``a``, ``b`` of
``gammainc``/``gammaincc``/``betainc``/``betaincc``, the exponent ``x`` of ``zeta``.
Differentiating in one of them raises an error naming the argument and what to do.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special as sc

from .elementwise import (
    _elementwise,
    add,
    cos,
    div,
    equal,
    exp,
    greater,
    less,
    log,
    log1p,
    logical_and,
    mul,
    neg,
    sign,
    sin,
    stop_gradient,
    sub,
    unbroadcast,
    where,
)
from .rules import defjvp, make_nondiff, mask_zero
from ..trace import shape_of

SQRT_PI = math.sqrt(math.pi)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _define(name, impl, partials, keeps):
    """An elementwise primitive from one partial derivative per argument.

    ``partials[i](ans, *args)`` is the derivative in argument ``i`` (an expression in
    primitives), or a string naming an argument without one (``"the order n"``);
    ``keeps`` lists what the expressions read (argument indices, ``"ans"``).
    """
    p = _elementwise(name, impl)

    def tangent_rule(d):
        return _refusal(name, d) if isinstance(d, str) else (lambda t, ans, *args: mul(t, d(ans, *args)))

    def cotangent_rule(i, d):
        if isinstance(d, str):
            return _refusal(name, d)
        return lambda g, ans, *args: unbroadcast(mask_zero(g, mul(g, d(ans, *args))), shape_of(args[i]))

    defjvp(p, *[tangent_rule(d) for d in partials])
    p.vjps = tuple(cotangent_rule(i, d) for i, d in enumerate(partials))
    p.keeps = tuple(keeps)
    return p


def _refusal(name, argument):
    def rule(*args, **params):
        raise TypeError(
            f"special.{name}() is not differentiable in {argument} (its derivative has no closed "
            f"form); hold it constant: pass a plain number or array there, or wrap it in "
            f"sl.stop_gradient"
        )

    return rule


def _quotient_or_zero(x, y):
    """``x / y``, and 0 at ``x = y = 0``; only that point is changed, so the derivative in
    ``x`` at ``x = 0`` stays ``1 / y`` (a symmetric Hessian for ``xlogy`` there)."""
    both_zero = logical_and(equal(x, 0), equal(y, 0))
    return div(x, where(both_zero, 1.0, y))


# -- gamma family ------------------------------------------------------------------------
def _polygamma(n, x):
    order = np.asarray(n)
    if order.ndim == 0 and order >= 1:
        # SciPy's own formula for n >= 1, in its order of operations (the same bits), without
        # the digamma of every entry that its general path also evaluates and then discards
        out = (-1.0) ** (order + 1) * sc.gamma(order + 1.0) * sc.zeta(order + 1, x)
    else:
        out = sc.polygamma(n, x)
    # SciPy promotes an integer order to float64; keep x's precision (float32 in, float32 out)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and out.dtype != dtype:
        out = out.astype(dtype)
    return out


polygamma = _define(
    "polygamma", _polygamma, ("the order n", lambda ans, n, x: polygamma(add(n, 1), x)), (0, 1)
)
digamma = _define("digamma", sc.digamma, (lambda ans, x: polygamma(1, x),), (0,))
gammaln = _define("gammaln", sc.gammaln, (lambda ans, x: digamma(x),), (0,))
gamma = _define("gamma", sc.gamma, (lambda ans, x: mul(ans, digamma(x)),), (0, "ans"))
gammasgn = make_nondiff("gammasgn", sc.gammasgn)


def _rgamma_slope_impl(x, ans):
    """``d/dx 1/gamma(x) = -digamma(x) / gamma(x)`` from the value at hand: one ``digamma``.

    At the poles of gamma (``x = -n``) that is ``inf * 0``; the limit there, ``(-1)**n n!``
    (the reflection ``1/gamma(x) = sin(pi x) gamma(1 - x) / pi`` differentiated), is taken on
    those entries alone.
    """
    with np.errstate(invalid="ignore"):
        out = -sc.digamma(x) * ans
    pole = np.less_equal(x, 0) & np.equal(np.floor(x), x)
    if not np.any(pole):
        return out
    x, pole, out = (np.array(a) for a in np.broadcast_arrays(x, pole, out))
    out[pole] = np.cos(np.pi * x[pole]) * sc.gamma(1.0 - x[pole])
    return out if out.ndim else out[()]


def _rgamma_second_derivative(slope_value, x, ans):
    """``d^2/dx^2 1/gamma(x)``: ``rgamma (digamma^2 - trigamma)`` for ``x >= 1/2``; below, the
    reflection formula differentiated twice, finite at the poles of gamma. Each branch reads a
    harmless stand-in where it is not taken, so neither leaks NaN."""
    left = less(x, 0.5)
    xr = where(left, 1.0, x)
    p = digamma(xr)
    right = mul(rgamma(xr), sub(mul(p, p), polygamma(1, xr)))
    xl = where(left, x, 0.0)
    u, pix = sub(1.0, xl), mul(math.pi, xl)
    pu, c, s = digamma(u), cos(pix), sin(pix)
    bracket = add(mul(-2.0, mul(pu, c)), div(mul(s, add(mul(pu, pu), polygamma(1, u))), math.pi))
    reflected = mul(gamma(u), sub(bracket, mul(math.pi, s)))
    return where(left, reflected, right)


_rgamma_slope = _define("rgamma_slope", _rgamma_slope_impl, (_rgamma_second_derivative, "the value it reads"), (0,))
# the slope reads rgamma's own output; its x rule is the whole second derivative
rgamma = _define("rgamma", sc.rgamma, (lambda ans, x: _rgamma_slope(x, stop_gradient(ans)),), (0, "ans"))


def _beta_partial(first):
    def d(ans, a, b):
        return sub(digamma(a if first else b), digamma(add(a, b)))

    return d


betaln = _define("betaln", sc.betaln, (_beta_partial(True), _beta_partial(False)), (0, 1))
beta = _define(
    "beta",
    sc.beta,
    (
        lambda ans, a, b: mul(ans, _beta_partial(True)(ans, a, b)),
        lambda ans, a, b: mul(ans, _beta_partial(False)(ans, a, b)),
    ),
    (0, 1, "ans"),
)


def _gamma_density(a, x):
    """``x**(a-1) exp(-x) / Gamma(a)``, the x-derivative of ``gammainc(a, x)``, in logs."""
    return exp(sub(sub(xlogy(sub(a, 1.0), x), x), gammaln(a)))


gammainc = _define("gammainc", sc.gammainc, ("the shape a", lambda ans, a, x: _gamma_density(a, x)), (0, 1))
gammaincc = _define(
    "gammaincc", sc.gammaincc, ("the shape a", lambda ans, a, x: neg(_gamma_density(a, x))), (0, 1)
)


def _beta_density(a, b, x):
    """``x**(a-1) (1-x)**(b-1) / B(a, b)``, the x-derivative of ``betainc(a, b, x)``, in logs."""
    return exp(sub(add(xlogy(sub(a, 1.0), x), xlog1py(sub(b, 1.0), neg(x))), betaln(a, b)))


betainc = _define(
    "betainc",
    sc.betainc,
    ("the shape a", "the shape b", lambda ans, a, b, x: _beta_density(a, b, x)),
    (0, 1, 2),
)
def _betaincc_impl(a, b, x):
    """SciPy's ``betaincc``, as ``1 - betainc`` where ``betainc <= 1/2``.

    SciPy's ``betaincc`` costs some ten times its ``betainc``; where the latter is at most 1/2
    the complement is at least 1/2, so the subtraction keeps every digit, and only the other
    entries (and NaN) go to ``betaincc``.
    """
    lower = sc.betainc(a, b, x)
    out = np.asarray(1.0 - lower)
    rest = ~(lower <= 0.5)
    if rest.any():
        a, b, x, rest = np.broadcast_arrays(a, b, x, rest)
        out[rest] = sc.betaincc(a[rest], b[rest], x[rest])
    return out if out.ndim else out[()]


betaincc = _define(
    "betaincc",
    _betaincc_impl,
    ("the shape a", "the shape b", lambda ans, a, b, x: neg(_beta_density(a, b, x))),
    (0, 1, 2),
)

# Hurwitz zeta(x, q) = sum_k (k + q)**-x: d/dq = -x zeta(x + 1, q); no closed form in x
zeta = _define(
    "zeta", sc.zeta, ("the exponent x", lambda ans, x, q: neg(mul(x, zeta(add(x, 1.0), q)))), (0, 1)
)


def t_log_density(df, t):
    """Log of Student's t density with ``df`` degrees of freedom, in primitives.

    Examples
    --------
    >>> round(float(t_log_density(3.0, 0.5)), 6)  # scipy.stats.t.logpdf(0.5, 3.0)
    -1.160974
    """
    half = mul(0.5, add(df, 1.0))
    log_norm = sub(sub(gammaln(half), gammaln(mul(0.5, df))), mul(0.5, log(mul(df, math.pi))))
    return sub(log_norm, mul(half, log1p(div(mul(t, t), df))))


# SciPy's t cdf itself (scipy.stats.t.cdf calls it): one call, where a composite of the
# incomplete beta function needs both tails, a series near 0 and some forty primitives
stdtr = _define(
    "stdtr", sc.stdtr, ("the degrees of freedom df", lambda ans, df, t: exp(t_log_density(df, t))), (0, 1)
)


# -- error function and the normal distribution -----------------------------------------------
def _gauss(x):
    return exp(neg(mul(x, x)))


erf = _define("erf", sc.erf, (lambda ans, x: mul(2.0 / SQRT_PI, _gauss(x)),), (0,))
erfc = _define("erfc", sc.erfc, (lambda ans, x: mul(-2.0 / SQRT_PI, _gauss(x)),), (0,))
# inverse functions: 1 / f'(f^-1(x)), read from the output
erfinv = _define("erfinv", sc.erfinv, (lambda ans, x: mul(SQRT_PI / 2.0, exp(mul(ans, ans))),), ("ans",))
erfcinv = _define("erfcinv", sc.erfcinv, (lambda ans, x: mul(-SQRT_PI / 2.0, exp(mul(ans, ans))),), ("ans",))


def _log_normal_density(x):
    return sub(mul(-0.5, mul(x, x)), LOG_SQRT_2PI)


ndtr = _define("ndtr", sc.ndtr, (lambda ans, x: exp(_log_normal_density(x)),), (0,))
ndtri = _define("ndtri", sc.ndtri, (lambda ans, x: exp(neg(_log_normal_density(ans))),), ("ans",))
# density / cdf as exp(log density - log cdf): finite far in the left tail, where both underflow
log_ndtr = _define(
    "log_ndtr", sc.log_ndtr, (lambda ans, x: exp(sub(_log_normal_density(x), ans)),), (0, "ans")
)


# -- logistic ------------------------------------------------------------------------------
# expit' = expit(x) expit(-x): no cancellation in either tail (1 - expit(x) would have one)
expit = _define("expit", sc.expit, (lambda ans, x: mul(ans, expit(neg(x))),), (0, "ans"))
log_expit = _define("log_expit", sc.log_expit, (lambda ans, x: expit(neg(x)),), (0,))
logit = _define("logit", sc.logit, (lambda ans, x: div(1.0, mul(x, sub(1.0, x))),), (0,))


# -- x log y and entropy ---------------------------------------------------------------------
xlogy = _define(
    "xlogy", sc.xlogy, (lambda ans, x, y: log(y), lambda ans, x, y: _quotient_or_zero(x, y)), (0, 1)
)
xlog1py = _define(
    "xlog1py",
    sc.xlog1py,
    (lambda ans, x, y: log1p(y), lambda ans, x, y: _quotient_or_zero(x, add(y, 1.0))),
    (0, 1),
)


def _relative_entropy_partials(linear):
    """Partials of ``rel_entr`` (``linear=0``) and ``kl_div = rel_entr - p + q`` (``linear=1``).

    Those of ``rel_entr`` are the closed forms inside ``p, q > 0`` and 0 where its value is
    the constant 0 or ``inf``; ``kl_div`` adds ``-1`` and ``+1`` everywhere (JAX's conventions).
    """

    def inside(p, q):
        both = logical_and(greater(p, 0), greater(q, 0))
        return both, where(both, p, 1.0), where(both, q, 1.0)  # no log(0) or 0/0 where not taken

    def dp(ans, p, q):
        both, sp, sq = inside(p, q)
        return sub(where(both, add(sub(log(sp), log(sq)), 1.0), 0.0), float(linear))

    def dq(ans, p, q):
        both, sp, sq = inside(p, q)
        return add(where(both, neg(div(sp, sq)), 0.0), float(linear))

    return dp, dq


rel_entr = _define("rel_entr", sc.rel_entr, _relative_entropy_partials(0), (0, 1))
kl_div = _define("kl_div", sc.kl_div, _relative_entropy_partials(1), (0, 1))
entr = _define("entr", sc.entr, (lambda ans, x: neg(add(log(x), 1.0)),), (0,))


# -- Bessel functions --------------------------------------------------------------------------
# Order v, real x. Each derivative is a combination of neighbouring orders, which has no
# singular point: I_v' = (I_{v-1} + I_{v+1}) / 2, J_v' = (J_{v-1} - J_{v+1}) / 2 (Y alike), and
# ive' = the same minus sign(x) ive. The first derivative is one primitive (a "slope") that
# reads the value already computed: by the recurrences I_{v-1} - I_{v+1} = (2v/x) I_v and
# J_{v-1} + J_{v+1} = (2v/x) J_v (Y alike) it is f_{v-1} - (v/x) f_v for all three kinds, one
# real-order Bessel function where the symmetric form needs two (each costs some 60 us per
# 1000 entries); at x = 0, where the recurrence is 0/0, the symmetric form on those entries.
def _bessel(name, impl, step, scaled=False, order="the order v", one=1.0):
    # ``one`` steps the order: 1 keeps the integer order of yn (SciPy's yn is some 40 times
    # faster than its real-order yv)
    def slope_impl(v, x, ans):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = p.impl(v - one, x) - (v / x) * ans
            if scaled:
                out = out - np.sign(x) * ans  # the product rule of exp(-|x|) I_v(x)
        zero = np.equal(x, 0)
        if not np.any(zero):
            return out
        v, x, zero, out = (np.array(a) for a in np.broadcast_arrays(v, x, zero, out))
        vz, xz = v[zero], x[zero]
        out[zero] = 0.5 * step(p.impl(vz - one, xz), p.impl(vz + one, xz))  # sign(0) = 0
        return out if out.ndim else out[()]

    def first(ans, v, x):
        # ans only spares the evaluation of f_v: the slope's x rule is the whole derivative
        return slope(v, x, stop_gradient(ans))

    def second(d, v, x, ans):
        # the derivative of the symmetric form: each neighbour's own slope
        below, above = sub(v, one), add(v, one)
        out = mul(0.5, step(first(p(below, x), below, x), first(p(above, x), above, x)))
        return sub(out, mul(sign(x), d)) if scaled else out

    slope = _define(f"{name}_slope", slope_impl, (order, second, "the value it reads"),
                    (0, 1, "ans") if scaled else (0, 1))
    p = _define(name, impl, (order, first), (0, 1, "ans"))
    return p


iv = _bessel("iv", sc.iv, add)
ive = _bessel("ive", sc.ive, add, scaled=True)
jv = _bessel("jv", sc.jv, sub)
yv = _bessel("yv", sc.yv, sub)
yn = _bessel("yn", sc.yn, sub, order="the order n", one=1)

i0 = _define("i0", sc.i0, (lambda ans, x: i1(x),), (0,))
i1 = _define("i1", sc.i1, (lambda ans, x: mul(0.5, add(i0(x), iv(2.0, x))),), (0,))
i0e = _define("i0e", sc.i0e, (lambda ans, x: sub(i1e(x), mul(sign(x), ans)),), (0, "ans"))
i1e = _define(
    "i1e", sc.i1e, (lambda ans, x: sub(mul(0.5, add(i0e(x), ive(2.0, x))), mul(sign(x), ans)),), (0, "ans")
)
j0 = _define("j0", sc.j0, (lambda ans, x: neg(j1(x)),), (0,))
j1 = _define("j1", sc.j1, (lambda ans, x: mul(0.5, sub(j0(x), jv(2.0, x))),), (0,))
y0 = _define("y0", sc.y0, (lambda ans, x: neg(y1(x)),), (0,))
# Y_1 lives on x > 0, where Y_1' = Y_0 - Y_1 / x has no singular point; it spares the
# real-order yv(2, x), some 20 times the cost of y0 and y1 together
y1 = _define("y1", sc.y1, (lambda ans, x: sub(y0(x), div(ans, x)),), (0, "ans"))

__all__ = [
    "beta", "betainc", "betaincc", "betaln", "digamma", "entr", "erf", "erfc", "erfcinv", "erfinv",
    "expit", "gamma", "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "iv", "ive", "j0",
    "j1", "jv", "kl_div", "log_expit", "log_ndtr", "logit", "ndtr", "ndtri", "polygamma", "rel_entr",
    "gammasgn", "rgamma", "stdtr", "t_log_density", "xlog1py", "xlogy", "y0", "y1", "yn", "yv", "zeta",
]
