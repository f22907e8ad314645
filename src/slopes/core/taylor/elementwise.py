"""Taylor rules of elementwise primitives.

Arithmetic (``add``, ``sub``, ``neg``, ``mul``, ``div``, ``reciprocal``,
``square``, ``power``), exponentials and logarithms, trigonometric and
hyperbolic functions and their inverses, the binary functions ``hypot``,
``arctan2``, ``logaddexp``, ``maximum``/``minimum``, and ``absolute``,
``where``, ``clip``. Each rule propagates the series in one step with the
recurrences of :mod:`.series`; importing this module registers them in
:data:`~.trace.TAYLOR_RULES`.

Conventions at singular points follow forward mode: ``abs`` and ``sign`` use
``sign(x0)`` (0 at 0), ``maximum``/``minimum`` share equally on ties, ``clip``
passes the series where ``lo <= x0 <= hi``; ``hypot`` at (0, 0) and
``arctan2`` at (0, 0) give zero coefficients.
"""

from __future__ import annotations

import numpy as np

from ..ops import elementwise as ew
from ..trace import Tracer, bind, concrete, shape_of, staged
from .series import (
    _add,
    _const,
    _derivative_series,
    _div_series,
    _exp_series,
    _fit,
    _fit_each,
    _full,
    _int_power_series,
    _integrate,
    _log_series,
    _mul_series,
    _negated,
    _order,
    _over_poly,
    _over_sqrt,
    _pow_series,
    _series_or_const,
    _sincos_series,
    _sqrt_series,
    _square_series,
    _tan_series,
)
from ..dtypes import complex_valued
from .trace import TAYLOR_RULES, _fallback, deftaylor


# -- registration helpers --------------------------------------------------------------------
def _unary(prim, series_fn):
    """A unary elementwise rule from ``series_fn(x_full, y0, K) -> y_full``."""

    def rule(primals, series, params):
        x0 = primals[0]
        y0 = bind(prim, primals, params)
        s = series[0]
        K = len(s)
        return y0, series_fn(_full(x0, s), y0, K)[1:]

    TAYLOR_RULES[prim] = rule


# -- arithmetic -----------------------------------------------------------------------------------
def _add_rule(sign):
    prim = ew.add if sign > 0 else ew.sub

    def rule(primals, series, params):
        x, y = primals
        out = bind(prim, primals, params)
        sx, sy = series
        if sy is None:
            ser = sx
        elif sx is None:
            ser = sy if sign > 0 else [None if c is None else -c for c in sy]
        elif sign > 0:
            ser = [_add(a, b) for a, b in zip(sx, sy)]
        else:
            ser = [
                (None if b is None else -b) if a is None else (a if b is None else a - b)
                for a, b in zip(sx, sy)
            ]
        return out, _fit(out, ser, shape_of(x), shape_of(y))

    TAYLOR_RULES[prim] = rule


_add_rule(+1)
_add_rule(-1)


@deftaylor(ew.neg)
def _neg_rule(primals, series, params):
    return ew.neg(primals[0]), [None if c is None else -c for c in series[0]]


@deftaylor(ew.mul)
def _mul_rule(primals, series, params):
    x, y = primals
    out = bind(ew.mul, primals, params)
    sx, sy = series
    if sy is None:
        return out, [None if c is None else c * y for c in sx]
    if sx is None:
        return out, [None if c is None else x * c for c in sy]
    K = len(sx)
    return out, _mul_series(_full(x, sx), _full(y, sy), K)[1:]


@deftaylor(ew.div)
def _div_rule(primals, series, params):
    x, y = primals
    out = bind(ew.div, primals, params)
    sx, sy = series
    if sy is None:
        return out, [None if c is None else c / y for c in sx]
    K = len(sy)
    xs = _const(x, K) if sx is None else _full(x, sx)
    return out, _div_series(xs, _full(y, sy), K, z0=out)[1:]


@deftaylor(ew.reciprocal)
def _reciprocal_rule(primals, series, params):
    x = primals[0]
    out = ew.reciprocal(x)
    K = len(series[0])
    return out, _div_series(_const(1.0, K), _full(x, series[0]), K, z0=out)[1:]


@deftaylor(ew.square)
def _square_rule(primals, series, params):
    x = primals[0]
    K = len(series[0])
    return ew.square(x), _square_series(_full(x, series[0]), K)[1:]


def _nonneg_int(a):
    """``int(a)`` if ``a`` is a concrete non-negative integer scalar, else ``None``."""
    if isinstance(a, Tracer) or np.ndim(a) != 0:
        return None
    try:
        f = float(a)
    except (TypeError, ValueError):
        return None
    if f >= 0 and f.is_integer() and f <= 1 << 20:
        return int(f)
    return None


@deftaylor(ew.power)
def _power_rule(primals, series, params):
    x, a = primals
    out = bind(ew.power, primals, params)
    sx, sa = series
    K = _order(series)
    if sa is None:
        n = _nonneg_int(a)
        if n == 0:
            return out, None
        xs = _full(x, sx)
        if n is not None:
            ys = _int_power_series(xs, n, K)
        else:
            ys = _pow_series(xs, a, out, K)
        return out, _fit(out, ys[1:], shape_of(x))
    # x ** a = exp(a log x), with a varying
    if sx is None:
        # d/da 0**a = 0 (a > 0), as in forward mode: log 0 is replaced by log 1
        lx = ew.log(ew.where(ew.equal(x, 0), 1.0, x))
        w = [None] + [None if c is None else c * lx for c in sa]
    else:
        lx = _log_series(_full(x, sx), ew.log(x), K)
        w = _mul_series(_full(a, sa), lx, K)
    ys = _exp_series(w, out, K)
    return out, _fit(out, ys[1:], shape_of(x), shape_of(a))


# -- exponentials and logarithms --------------------------------------------------------------------
_unary(ew.exp, lambda x, y0, K: _exp_series(x, y0, K))
_unary(
    ew.exp2, lambda x, y0, K: _exp_series([None] + [None if c is None else c * ew.LN2 for c in x[1:]], y0, K)
)
_unary(ew.expm1, lambda x, y0, K: [y0] + _exp_series(x, y0 + 1.0, K)[1:])
_unary(ew.log, lambda x, y0, K: _log_series(x, y0, K))
_unary(ew.log1p, lambda x, y0, K: _log_series([x[0] + 1.0] + x[1:], y0, K))
_unary(
    ew.log2,
    lambda x, y0, K: [y0] + [None if c is None else c * (1.0 / ew.LN2) for c in _log_series(x, y0, K)[1:]],
)
_unary(
    ew.log10,
    lambda x, y0, K: [y0] + [None if c is None else c * (1.0 / ew.LN10) for c in _log_series(x, y0, K)[1:]],
)
_unary(ew.sqrt, lambda x, y0, K: _sqrt_series(x, y0, K))
_unary(ew.cbrt, lambda x, y0, K: _pow_series(x, 1.0 / 3.0, y0, K))


# -- trigonometric and hyperbolic functions ----------------------------------------------------------
def _sincos_rule(prim, other, pick, hyperbolic):
    def rule(primals, series, params):
        x0 = primals[0]
        y0 = prim(x0)
        z0 = other(x0)
        K = len(series[0])
        s0, c0 = (y0, z0) if pick == 0 else (z0, y0)
        pair = _sincos_series(_full(x0, series[0]), s0, c0, K, hyperbolic)
        return y0, pair[pick][1:]

    TAYLOR_RULES[prim] = rule


_sincos_rule(ew.sin, ew.cos, 0, False)
_sincos_rule(ew.cos, ew.sin, 1, False)
_sincos_rule(ew.sinh, ew.cosh, 0, True)
_sincos_rule(ew.cosh, ew.sinh, 1, True)
_unary(ew.tan, lambda x, y0, K: _tan_series(x, y0, K, +1))
_unary(ew.tanh, lambda x, y0, K: _tan_series(x, y0, K, -1))


def _inverse_rule(prim, make):
    """``y' = x' * g(x)``: ``make(x_full, K) -> series of y'`` (length K), then integrate."""

    def rule(primals, series, params):
        x0 = primals[0]
        y0 = prim(x0)
        K = len(series[0])
        q = make(_full(x0, series[0]), K)
        return y0, _integrate(q, K)

    TAYLOR_RULES[prim] = rule


_inverse_rule(ew.arctan, lambda x, K: _over_poly(x, K, 1.0, 1.0))
_inverse_rule(ew.arctanh, lambda x, K: _over_poly(x, K, 1.0, -1.0))
_inverse_rule(ew.arcsin, lambda x, K: _over_sqrt(x, K, 1.0, -1.0))
_inverse_rule(ew.arccos, lambda x, K: _negated(_over_sqrt(x, K, 1.0, -1.0)))
_inverse_rule(ew.arcsinh, lambda x, K: _over_sqrt(x, K, 1.0, 1.0))
_inverse_rule(ew.arccosh, lambda x, K: _over_sqrt(x, K, -1.0, 1.0))


# -- binary functions ---------------------------------------------------------------------------------
def _zero_where(mask, ser):
    """Zero coefficients where ``mask`` (a kink of the function) holds, if it ever does."""
    if not (staged(mask) or np.any(concrete(mask))):
        return ser
    return [None if c is None else ew.where(mask, 0.0, c) for c in ser]


@deftaylor(ew.hypot)
def _hypot_rule(primals, series, params):
    x, y = primals
    out = bind(ew.hypot, primals, params)
    K = _order(series)
    xs = _series_or_const(x, series[0], K)
    ys = _series_or_const(y, series[1], K)
    w = [_add(a, b) for a, b in zip(_square_series(xs, K), _square_series(ys, K))]
    zero = ew.equal(out, 0.0)
    r0 = ew.where(zero, 1.0, out) if staged(zero) or np.any(concrete(zero)) else out
    ser = _sqrt_series(w, r0, K)[1:]
    return out, _fit_each(out, _zero_where(zero, ser))


@deftaylor(ew.arctan2)
def _arctan2_rule(primals, series, params):
    y, x = primals
    out = bind(ew.arctan2, primals, params)
    K = _order(series)
    ys = _series_or_const(y, series[0], K)
    xs = _series_or_const(x, series[1], K)
    # z' = (x y' - y x') / (x^2 + y^2)
    num = [None] * K
    if series[0] is not None:
        num = [_add(a, b) for a, b in zip(num, _mul_series(xs, _derivative_series(ys, K), K - 1))]
    if series[1] is not None:
        neg = _mul_series(ys, _derivative_series(xs, K), K - 1)
        num = [_add(a, None if b is None else -b) for a, b in zip(num, neg)]
    den = [_add(a, b) for a, b in zip(_square_series(xs, K - 1), _square_series(ys, K - 1))]
    zero = ew.equal(den[0], 0.0)
    if staged(zero) or np.any(concrete(zero)):
        den[0] = ew.where(zero, 1.0, den[0])
    ser = _integrate(_div_series(num, den, K - 1), K)
    return out, _fit_each(out, _zero_where(zero, ser))


@deftaylor(ew.logaddexp)
def _logaddexp_rule(primals, series, params):
    x, y = primals
    out = bind(ew.logaddexp, primals, params)
    K = _order(series)
    m = ew.stop_gradient(ew.maximum(x, y))
    parts = []
    for v, s in zip(primals, series):
        d = v - m
        parts.append(_exp_series(_series_or_const(d, s, K), ew.exp(d), K))
    total = [_add(a, b) for a, b in zip(*parts)]
    ser = _log_series(total, None, K)[1:]
    return out, _fit_each(out, ser)


def _first_wins(x, y):
    return ew.where(ew.equal(x, y), 0.5, ew.where(ew.greater(x, y), 1.0, 0.0))


def _extremum_rule(prim, x_weight):
    def rule(primals, series, params):
        x, y = primals
        out = bind(prim, primals, params)
        w = x_weight(x, y)
        sx, sy = series
        K = _order(series)
        sx = [None] * K if sx is None else sx
        sy = [None] * K if sy is None else sy
        wy = 1.0 - w
        ser = [_add(None if a is None else w * a, None if b is None else wy * b) for a, b in zip(sx, sy)]
        return out, _fit_each(out, ser)

    TAYLOR_RULES[prim] = rule


_extremum_rule(ew.maximum, _first_wins)
_extremum_rule(ew.minimum, lambda x, y: _first_wins(y, x))


@deftaylor(ew.absolute)
def _abs_rule(primals, series, params):
    x = primals[0]
    if complex_valued(x):  # |z| is not sign(z) z: integrate its forward rule instead
        return _fallback(ew.absolute, primals, series, params)
    sg = ew.sign(x)
    return ew.absolute(x), [None if c is None else sg * c for c in series[0]]


@deftaylor(ew.where)
def _where_rule(primals, series, params):
    c, x, y = primals
    if series[0] is not None:
        raise TypeError("'where' is not differentiable in its condition")
    out = bind(ew.where, primals, params)
    K = _order(series)
    sx = [None] * K if series[1] is None else series[1]
    sy = [None] * K if series[2] is None else series[2]
    ser = [
        None if a is None and b is None else ew.where(c, 0.0 if a is None else a, 0.0 if b is None else b)
        for a, b in zip(sx, sy)
    ]
    return out, _fit_each(out, ser)


@deftaylor(ew.clip)
def _clip_rule(primals, series, params):
    x, lo, hi = primals
    out = bind(ew.clip, primals, params)
    K = _order(series)
    masks = (
        lambda: ew.logical_and(ew.greater_equal(x, lo), ew.less_equal(x, hi)),
        lambda: ew.less(x, lo),
        lambda: ew.greater(x, hi),
    )
    ser = [None] * K
    for s, mask in zip(series, masks):
        if s is None:
            continue
        m = mask()
        ser = [_add(acc, None if c is None else ew.where(m, c, 0.0)) for acc, c in zip(ser, s)]
    return out, _fit_each(out, ser)
