"""Taylor mode: carry a truncated power series beside every value.

``taylor_call(fn, primals, series, order)`` runs ``fn`` with each input replaced
by a :class:`TaylorTracer` holding the value ``x0`` and the coefficients
``[x1, ..., xK]`` of a curve through it,

    x(t) = x0 + x1 t + x2 t**2 + ... + xK t**K,

and returns the same ``K`` coefficients of every output ``f(x(t))``. The
coefficients are *normalized*: ``xk = x^(k)(0) / k!`` (the k-th derivative
divided by ``k!``), so high orders neither overflow nor lose precision to
factorials; the k-th derivative of an output is ``k! * yk``.

Every primitive with a rule in :data:`TAYLOR_RULES` propagates the series in
one step, with the classical recurrences of automatic differentiation
(Griewank & Walther, *Evaluating Derivatives*, ch. 13): products are Cauchy
products, ``exp``, ``log``, ``x**a``, ``sqrt``, ``sin``/``cos`` and friends
follow from the ordinary differential equations they satisfy (``e' = e x'``,
``x y' = a x' y``, ...), and the inverse functions integrate their derivative
series (``arctan(x)' = x' / (1 + x**2)``). Each costs ``O(K**2)`` operations on
coefficient arrays (``O(K)`` where the input series is sparse, as along a
straight line), against ``O(2**K)`` for ``K`` nested first-order derivatives.

A *zero* coefficient is ``None`` and costs nothing; an input without a series
(a constant) is a plain value. Rules compute with Python operators and slopes
primitives, never with raw NumPy on possibly traced values, so when the
coefficients are tracers of an outer transform (``grad``, ``vmap``, another
Taylor pass) the whole computation is seen by that transform: Taylor mode
nests inside and around every other transform.

A primitive without a Taylor rule falls back on its forward-mode (JVP) rule:
the derivative of ``y = f(x(t))`` is ``y'(t) = J(x(t)) x'(t)``, so running the
JVP rule under a Taylor pass of one order less, with the series of ``x(t)``
and of ``x'(t)``, gives the series of ``y'``, and integrating it termwise gives
the series of ``y``. This is exact. It costs a polynomial in ``K`` when the
JVP rule applies the primitive itself at most once to series-carrying values
(``exp``-like rules that reuse the output, linear primitives), but ``m**K``
when it applies it ``m > 1`` times (a product rule: ``einsum``, ``solve``,
which therefore have dedicated rules here) -- the same growth as ``K`` nested
first-order JVPs, never worse. Non-differentiable primitives (comparisons,
``floor``, ``stop_gradient``) give constants, as in every mode.

Conventions at singular points follow forward mode: ``abs`` and ``sign`` use
``sign(x0)`` (0 at 0), ``maximum``/``minimum`` share equally on ties, ``clip``
passes the series where ``lo <= x0 <= hi``; ``hypot`` at (0, 0) and
``arctan2`` at (0, 0) give zero coefficients.
"""

from __future__ import annotations

import numpy as np

from .ops import decompositions as dc
from .ops import einsum as es
from .ops import elementwise as ew
from .ops import linalg as la
from .ops import reduce as rd
from .ops import reorder as ro
from .ops import shape as sh
from .trace import Trace, Tracer, bind, concrete, new_level, shape_of

__all__ = ["TaylorTrace", "TaylorTracer", "taylor_call", "deftaylor", "TAYLOR_RULES"]

#: ``TAYLOR_RULES[prim] = rule(primals, series, params) -> (out, out_series)``.
#:
#: ``primals`` are the values of the arguments; ``series[i]`` is ``None`` for a
#: constant argument, else a list of ``K`` coefficients ``[x1, ..., xK]`` where
#: a zero coefficient may be ``None``. The rule returns the output value and its
#: ``K`` coefficients (``None`` entries for zeros, or ``None`` for a constant),
#: each of the output's shape. Register rules with :func:`deftaylor`.
TAYLOR_RULES = {}


class TaylorTracer(Tracer):
    """A value ``primal`` with the Taylor coefficients ``series = [x1, ..., xK]`` of its curve."""

    __slots__ = ("series",)

    def __init__(self, trace, primal, series):
        self._trace = trace
        self.primal = primal
        self.series = series


class TaylorTrace(Trace):
    """Taylor mode in progress: every primitive applies its Taylor rule (or the fallback)."""

    __slots__ = ()

    def process(self, prim, args, params):
        primals = []
        series = []
        for a in args:
            if type(a) is TaylorTracer and a._trace is self:
                primals.append(a.primal)
                series.append(a.series)
            else:
                primals.append(a)
                series.append(None)
        if not prim.differentiable:
            return bind(prim, primals, params)
        rule = TAYLOR_RULES.get(prim)
        if rule is None:
            out, out_series = _fallback(prim, primals, series, params)
        else:
            out, out_series = rule(primals, series, params)
        return _wrap(self, out, out_series)


def _wrap(trace, out, ser):
    """A tracer for ``out`` with coefficients ``ser``, or ``out`` itself if they are all zero."""
    if ser is None:
        return out
    for c in ser:
        if c is not None:
            return TaylorTracer(trace, out, ser)
    return out


def taylor_call(fn, primals, series, order):
    """Evaluate ``fn`` and the Taylor coefficients of its outputs along a curve.

    Parameters
    ----------
    fn : callable
        A function of flat arrays returning a flat list of outputs.
    primals : list
        The point ``x0`` of each input.
    series : list
        For each input, ``None`` (a constant) or a list of ``order``
        coefficients ``[x1, ..., xK]`` of the curve
        ``x(t) = x0 + x1 t + ... + xK t**K`` (a ``None`` coefficient is zero);
        each coefficient is broadcast to its input's shape.
    order : int
        ``K``, the number of coefficients carried (``>= 1``).

    Returns
    -------
    (outputs, output_series)
        The values of ``fn(*primals)`` and, for each output, ``None`` when it
        does not depend on the inputs, else its ``order`` normalized
        coefficients ``yk = y^(k)(0) / k!`` (``None`` where identically zero).

    Examples
    --------
    The series of ``exp`` along ``x(t) = 0 + t`` is ``1/k!``:

    >>> import numpy as np
    >>> from slopes.core.ops.elementwise import exp
    >>> line = [np.array(1.0), None, None, None]  # x(t) = 0 + 1 t + 0 t^2 + 0 t^3 + 0 t^4
    >>> out, ser = taylor_call(lambda x: [exp(x)], [np.array(0.0)], [line], order=4)
    >>> float(out[0]), [round(float(c), 6) for c in ser[0]]
    (1.0, [1.0, 0.5, 0.166667, 0.041667])
    """
    order = int(order)
    if order < 1:
        raise ValueError(f"taylor_call(): order must be at least 1, got {order}")
    with new_level() as level:
        trace = TaylorTrace(level)
        ins = []
        for p, s in zip(primals, series):
            if s is None:
                ins.append(p)
                continue
            s = list(s)
            if len(s) != order:
                raise ValueError(
                    f"taylor_call(): an input series has {len(s)} coefficient(s), expected order={order}"
                )
            if type(p) in _PY_NUMBERS:  # Python arithmetic would differ from NumPy's (1.0 / 0.0)
                p = np.asarray(p)
            ps = shape_of(p)
            s = [_as_coefficient(c, ps) for c in s]
            ins.append(_wrap(trace, p, s))
        outs = fn(*ins)
        values, sers = [], []
        for o in outs:
            if type(o) is TaylorTracer and o._trace is trace:
                values.append(o.primal)
                sers.append(o.series)
            else:
                values.append(o)
                sers.append(None)
    return values, sers


_PY_NUMBERS = (int, float, bool)


def _as_coefficient(c, shape):
    """An input coefficient as an array (or tracer) of its input's shape; ``None`` stays."""
    if c is None:
        return None
    if type(c) in _PY_NUMBERS:
        c = np.asarray(c, dtype=float)
    if shape_of(c) != shape:
        c = sh.broadcast_to(c, shape)
    return c


def deftaylor(prim, rule=None):
    """Register the Taylor rule of ``prim``: ``rule(primals, series, params) -> (out, out_series)``.

    Usable as a decorator. See :data:`TAYLOR_RULES` for the conventions.

    Examples
    --------
    >>> from slopes.core.trace import Primitive
    >>> double = Primitive("double", lambda x: 2.0 * x)
    >>> @deftaylor(double)
    ... def _(primals, series, params):
    ...     return double(primals[0]), [None if c is None else 2.0 * c for c in series[0]]
    >>> out, ser = taylor_call(lambda x: [double(x)], [1.0], [[1.0, 3.0]], order=2)
    >>> float(out[0]), [float(c) for c in ser[0]]
    (2.0, [2.0, 6.0])
    """
    if rule is None:
        return lambda r: deftaylor(prim, r)
    TAYLOR_RULES[prim] = rule
    return rule


# -- series arithmetic on lists [c0, c1, ..., cK] (None = 0) -----------------------------------
def _full(x0, s):
    """``[x0, x1, ..., xK]`` from a value and its series (``None``: a constant)."""
    return [x0] + list(s)


def _order(series):
    for s in series:
        if s is not None:
            return len(s)
    return 0


def _const(x0, K):
    return [x0] + [None] * K


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _nonzero(a, lo=1):
    """``[(j, a_j)]`` for the non-zero coefficients with ``j >= lo``, in order of ``j``."""
    return [(j, a[j]) for j in range(lo, len(a)) if a[j] is not None]


def _conv(nz, b, k, hi=None):
    """``sum_j a_j * b[k - j]`` over ``(j, a_j)`` in ``nz`` with ``j <= hi`` (default ``k``).

    Only non-zero terms are visited, so a sparse series (a straight line has
    one non-zero coefficient) costs ``O(1)`` per order instead of ``O(k)``.
    Returns ``None`` when no term is non-zero.
    """
    if hi is None:
        hi = k
    acc = None
    for j, aj in nz:
        if j > hi:
            break
        bj = b[k - j]
        if bj is not None:
            t = aj * bj
            acc = t if acc is None else acc + t
    return acc


def _self_conv(a, k, lo):
    """``sum_{j=lo}^{k-lo} a[j] * a[k - j]``, using the symmetry of the terms."""
    acc = None
    for j in range(lo, (k + 1) // 2):
        aj, bj = a[j], a[k - j]
        if aj is None or bj is None:
            continue
        t = aj * bj
        acc = t if acc is None else acc + t
    if acc is not None:
        acc = acc * 2.0
    if k % 2 == 0 and lo <= k // 2:
        m = a[k // 2]
        if m is not None:
            acc = m * m if acc is None else acc + m * m
    return acc


def _index_scaled(a):
    """``[(j, j * a_j)]`` for the non-zero ``a_j``, ``j >= 1`` (the sums of ``x'``)."""
    return [(j, c if j == 1 else c * float(j)) for j, c in _nonzero(a)]


def _mul_series(a, b, K):
    nz = _nonzero(a, 0)
    return [_conv(nz, b, k) for k in range(K + 1)]


def _square_series(a, K):
    return [_self_conv(a, k, 0) for k in range(K + 1)]


def _div_series(x, y, K, z0=None):
    """``z = x / y``: ``z_k = (x_k - sum_{j=1}^k y_j z_{k-j}) / y_0``."""
    y0 = y[0]
    if z0 is None and x[0] is not None:
        z0 = x[0] / y0
    ny = _nonzero(y)
    z = [z0]
    for k in range(1, K + 1):
        acc = _conv(ny, z, k)
        xk = x[k]
        if acc is None:
            z.append(None if xk is None else xk / y0)
        else:
            z.append((-acc if xk is None else xk - acc) / y0)
    return z


def _exp_series(x, e0, K):
    """``e' = e x'``: ``e_k = (1/k) sum_{j=1}^k j x_j e_{k-j}``."""
    jx = _index_scaled(x)
    e = [e0]
    if len(jx) == 1 and jx[0][0] == 1:  # a straight line: e_k = x_1 e_{k-1} / k
        x1 = jx[0][1]
        for k in range(1, K + 1):
            e.append(e[k - 1] * (x1 * (1.0 / k)))
        return e
    for k in range(1, K + 1):
        acc = _conv(jx, e, k)
        e.append(None if acc is None else acc * (1.0 / k))
    return e


def _log_series(x, l0, K):
    """``x l' = x'``: ``l_k = (x_k - (1/k) sum_{i=1}^{k-1} x_i (k-i) l_{k-i}) / x_0``."""
    x0 = x[0]
    nx = _nonzero(x)
    l = [l0]
    jl = [None]  # j * l_j
    for k in range(1, K + 1):
        acc = _conv(nx, jl, k, k - 1)
        xk = x[k]
        if acc is None:
            lk = None if xk is None else xk / x0
        else:
            acc = acc * (1.0 / k)
            lk = (-acc if xk is None else xk - acc) / x0
        l.append(lk)
        jl.append(None if lk is None else lk * float(k))
    return l


def _pow_series(x, a, y0, K):
    """``x y' = a x' y``: ``y_k = sum_{j=1}^k ((a+1) j - k) x_j y_{k-j} / (k x_0)``."""
    x0 = x[0]
    nx = _nonzero(x)
    y = [y0]
    for k in range(1, K + 1):
        acc = None
        for j, xj in nx:
            if j > k:
                break
            yk = y[k - j]
            if yk is None:
                continue
            t = xj * yk * ((a + 1.0) * j - k)
            acc = t if acc is None else acc + t
        y.append(None if acc is None else acc / (x0 * float(k)))
    return y


def _sqrt_series(x, s0, K):
    """``s^2 = x``: ``s_k = (x_k - sum_{j=1}^{k-1} s_j s_{k-j}) / (2 s_0)``."""
    two_s0 = s0 * 2.0
    s = [s0]
    for k in range(1, K + 1):
        acc = _self_conv(s, k, 1)
        xk = x[k]
        if acc is None:
            s.append(None if xk is None else xk / two_s0)
        else:
            s.append((-acc if xk is None else xk - acc) / two_s0)
    return s


def _sincos_series(x, s0, c0, K, hyperbolic=False):
    """``s' = c x'``, ``c' = -s x'`` (``+s x'`` for sinh/cosh)."""
    jx = _index_scaled(x)
    s, c = [s0], [c0]
    sign = 1.0 if hyperbolic else -1.0
    if len(jx) == 1 and jx[0][0] == 1:  # a straight line: s_k = x_1 c_{k-1} / k
        x1 = jx[0][1]
        for k in range(1, K + 1):
            v = x1 * (1.0 / k)
            s.append(c[k - 1] * v)
            c.append(s[k - 1] * (v * sign))
        return s, c
    for k in range(1, K + 1):
        a = _conv(jx, c, k)
        b = _conv(jx, s, k)
        s.append(None if a is None else a * (1.0 / k))
        c.append(None if b is None else b * (sign / k))
    return s, c


def _tan_series(x, t0, K, sign):
    """``t' = (1 + sign t^2) x'`` (tan: sign=+1, tanh: sign=-1)."""
    jx = _index_scaled(x)
    t = [t0]
    if sign > 0:
        u = [1.0 + t0 * t0]
    else:  # 1 - tanh^2 = 1 / cosh^2, without the cancellation where tanh is near +-1
        ch = ew.cosh(x[0])
        u = [ew.reciprocal(ch * ch)]
    for k in range(1, K + 1):
        acc = _conv(jx, u, k)
        t.append(None if acc is None else acc * (1.0 / k))
        sq = _self_conv(t, k, 0)
        u.append(None if sq is None else (sq if sign > 0 else -sq))
    return t


def _derivative_series(x, K):
    """Coefficients ``d_m = (m+1) x_{m+1}``, ``m = 0..K-1``, of ``x'(t)``."""
    return [None if x[m + 1] is None else x[m + 1] * float(m + 1) for m in range(K)]


def _integrate(q, K):
    """``y_k = q_{k-1} / k``: the series of ``y`` from that of ``y'`` (without ``y_0``)."""
    return [None if q[k - 1] is None else q[k - 1] * (1.0 / k) for k in range(1, K + 1)]


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


def _fit(out, ser, *arg_shapes):
    """Broadcast coefficients to the output's shape where an argument had a smaller one."""
    s = shape_of(out)
    for a in arg_shapes:
        if a != s:
            return [c if c is None or shape_of(c) == s else sh.broadcast_to(c, s) for c in ser]
    return ser


def _fit_each(out, ser):
    s = shape_of(out)
    return [c if c is None or shape_of(c) == s else sh.broadcast_to(c, s) for c in ser]


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


def _int_power_series(x, n, K):
    """``x**n`` by repeated squaring of series: exact where ``x_0 = 0``, too."""
    result = None
    base = x
    while n:
        if n & 1:
            result = base if result is None else _mul_series(result, base, K)
        n >>= 1
        if n:
            base = _square_series(base, K)
    return result


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


def _one_plus_square(x, K, a, b):
    """Series of ``a + b x**2`` to order ``K``."""
    sq = _square_series(x, K)
    return [sq[0] * b + a] + [None if c is None else (c if b == 1.0 else c * b) for c in sq[1:]]


def _over_sqrt(x, K, a, b):
    """``x' / sqrt(a + b x**2)``."""
    w = _one_plus_square(x, K - 1, a, b)
    r = _sqrt_series(w, ew.sqrt(w[0]), K - 1)
    return _div_series(_derivative_series(x, K), r, K - 1)


def _over_poly(x, K, a, b):
    """``x' / (a + b x**2)``."""
    return _div_series(_derivative_series(x, K), _one_plus_square(x, K - 1, a, b), K - 1)


def _negated(q):
    return [None if c is None else -c for c in q]


_inverse_rule(ew.arctan, lambda x, K: _over_poly(x, K, 1.0, 1.0))
_inverse_rule(ew.arctanh, lambda x, K: _over_poly(x, K, 1.0, -1.0))
_inverse_rule(ew.arcsin, lambda x, K: _over_sqrt(x, K, 1.0, -1.0))
_inverse_rule(ew.arccos, lambda x, K: _negated(_over_sqrt(x, K, 1.0, -1.0)))
_inverse_rule(ew.arcsinh, lambda x, K: _over_sqrt(x, K, 1.0, 1.0))
_inverse_rule(ew.arccosh, lambda x, K: _over_sqrt(x, K, -1.0, 1.0))


# -- binary functions ---------------------------------------------------------------------------------
def _series_or_const(x0, s, K):
    return _const(x0, K) if s is None else _full(x0, s)


def _zero_where(mask, ser):
    """Zero coefficients where ``mask`` (a kink of the function) holds, if it ever does."""
    if not np.any(concrete(mask)):
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
    r0 = ew.where(zero, 1.0, out) if np.any(concrete(zero)) else out
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
    if np.any(concrete(zero)):
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


# -- linear primitives: apply them to every coefficient -----------------------------------------------
def _linear_rule(prim):
    def rule(primals, series, params):
        out = bind(prim, primals, params)
        for s in series[1:]:
            if s is not None:
                raise TypeError(f"'{prim.name}' is not differentiable in this argument")
        rest = list(primals[1:])
        return out, [None if c is None else bind(prim, [c] + rest, params) for c in series[0]]

    TAYLOR_RULES[prim] = rule


for _p in (
    ew.astype,
    sh.reshape,
    sh.transpose,
    sh.broadcast_to,
    sh.sum_to,
    sh.getitem,
    sh.scatter_add,
    rd.reduce_sum,
    rd.cumsum,
):
    _linear_rule(_p)


def _multilinear_termwise(prim):
    """Linear in all its arguments jointly (stack, concatenate, index_update): zeros fill in."""

    def rule(primals, series, params):
        out = bind(prim, primals, params)
        K = _order(series)
        ser = []
        for k in range(K):
            cs = [None if s is None else s[k] for s in series]
            if all(c is None for c in cs):
                ser.append(None)
                continue
            args = [sh.zeros_like_value(p) if c is None else c for p, c in zip(primals, cs)]
            ser.append(bind(prim, args, params))
        return out, ser

    TAYLOR_RULES[prim] = rule


for _p in (sh.stack, sh.concatenate, sh.index_update):
    _multilinear_termwise(_p)


@deftaylor(la.matmul)
def _matmul_rule(primals, series, params):
    a, b = primals
    out = la.matmul(a, b)
    sa, sb = series
    if sb is None:
        return out, [None if c is None else la.matmul(c, b) for c in sa]
    if sa is None:
        return out, [None if c is None else la.matmul(a, c) for c in sb]
    K = len(sa)
    af, bf = _full(a, sa), _full(b, sb)
    ser = []
    for k in range(1, K + 1):
        acc = None
        for j in range(k + 1):
            if af[j] is None or bf[k - j] is None:
                continue
            t = la.matmul(af[j], bf[k - j])
            acc = t if acc is None else acc + t
        ser.append(acc)
    return out, _fit_each(out, ser)


def _compositions(k, fulls, chosen=()):
    """Index tuples ``(j_1, ..., j_m)`` summing to ``k`` whose coefficients are all non-zero."""
    i = len(chosen)
    if i == len(fulls) - 1:
        if fulls[i][k] is not None:
            yield chosen + (k,)
        return
    for j in range(k + 1):
        if fulls[i][j] is not None:
            yield from _compositions(k - j, fulls, chosen + (j,))


def _multilinear_rule(prim):
    """Linear in each argument separately (``einsum``): the Leibniz rule, order by order.

    ``z_k = sum over j_1 + ... + j_m = k of prim(a1_{j_1}, ..., am_{j_m})`` over the
    arguments that carry a series; the others stay at their values.
    """

    def rule(primals, series, params):
        out = bind(prim, primals, params)
        K = _order(series)
        traced = [i for i, s in enumerate(series) if s is not None]
        fulls = [_full(primals[i], series[i]) for i in traced]
        ser = []
        for k in range(1, K + 1):
            acc = None
            for comp in _compositions(k, fulls):
                args = list(primals)
                for i, f, j in zip(traced, fulls, comp):
                    args[i] = f[j]
                t = bind(prim, args, params)
                acc = t if acc is None else acc + t
            ser.append(acc)
        return out, ser

    TAYLOR_RULES[prim] = rule


_multilinear_rule(es.einsum)
_linear_rule(ro.gather)
_linear_rule(ro.scatter)


@deftaylor(ro.linrec)
def _linrec_rule(primals, series, params):
    """``s_i = a_i s_{i-1} + b_i``: order ``k`` solves the same recurrence with ``a_0``,
    driven by ``b_k + sum_{j=1}^k a_j s_{k-j, i-1}``."""
    a, b = primals
    axis, reverse = params["axis"], params["reverse"]
    out = bind(ro.linrec, primals, params)
    K = _order(series)
    af = _series_or_const(a, series[0], K)
    bf = _series_or_const(b, series[1], K)
    na = _nonzero(af)
    s = [out]
    for k in range(1, K + 1):
        acc = bf[k]
        for j, aj in na:
            if j > k:
                break
            if s[k - j] is not None:
                t = aj * ro.neighbor(s[k - j], axis, reverse)
                acc = t if acc is None else acc + t
        s.append(None if acc is None else ro.linrec(a, acc, axis=axis, reverse=reverse))
    return out, s[1:]


@deftaylor(ro.cumprod)
def _cumprod_rule(primals, series, params):
    """``y_i = x_i y_{i-1}`` (``y_{-1} = 1``): the ``linrec`` rule with the start folded in.

    No division, so the series is exact where entries are zero.
    """
    x = primals[0]
    axis = params["axis"]
    out = bind(ro.cumprod, primals, params)
    K = len(series[0])
    nx = _nonzero(_full(x, series[0]))
    y = [out]
    for k in range(1, K + 1):
        acc = None
        for j, xj in nx:
            if j > k:
                break
            if y[k - j] is not None:
                t = xj * ro.neighbor(y[k - j], axis, False, fill=1.0 if j == k else 0.0)
                acc = t if acc is None else acc + t
        y.append(None if acc is None else ro.linrec(x, acc, axis=axis, reverse=False))
    return out, y[1:]


# -- inverse, solve, Cholesky: order k solves with the matrix at t = 0 ---------------------------------
def _matrix_conv(af, xf, k):
    """``sum_{j=1}^k A_j @ X_{k-j}`` over the non-zero terms."""
    acc = None
    for j in range(1, k + 1):
        if af[j] is None or xf[k - j] is None:
            continue
        t = la.matmul(af[j], xf[k - j])
        acc = t if acc is None else acc + t
    return acc


@deftaylor(dc.inv)
def _inv_rule(primals, series, params):
    """``A X = I``: ``X_k = -X_0 sum_{j=1}^k A_j X_{k-j}``."""
    a = primals[0]
    out = dc.inv(a)
    K = len(series[0])
    af = _full(a, series[0])
    x = [out]
    for k in range(1, K + 1):
        acc = _matrix_conv(af, x, k)
        x.append(None if acc is None else -la.matmul(out, acc))
    return out, x[1:]


@deftaylor(dc.solve)
def _solve_rule(primals, series, params):
    """``A X = B``: ``X_k = A_0^{-1} (B_k - sum_{j=1}^k A_j X_{k-j})``."""
    a, b = primals
    out = bind(dc.solve, primals, params)
    K = _order(series)
    af = _series_or_const(a, series[0], K)
    bf = _series_or_const(b, series[1], K)
    x = [out]
    for k in range(1, K + 1):
        acc = _matrix_conv(af, x, k)
        rhs = bf[k] if acc is None else (-acc if bf[k] is None else bf[k] - acc)
        x.append(None if rhs is None else dc.solve(a, rhs))
    return out, _fit_each(out, x[1:])


def _phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    n = shape_of(x)[-1]
    return x * (np.tril(np.ones((n, n), dtype=x.dtype), -1) + np.eye(n, dtype=x.dtype) * 0.5)


@deftaylor(dc.cholesky)
def _cholesky_rule(primals, series, params):
    """``L L^T = A``: with ``R_k = A_k - sum_{j=1}^{k-1} L_j L_{k-j}^T`` (symmetric),
    ``L_k = L_0 Phi(L_0^{-1} R_k L_0^{-T})``, the forward rule applied order by order."""
    a = primals[0]
    L0 = dc.cholesky(a)
    K = len(series[0])
    af = _full(a, series[0])
    L = [L0]
    for k in range(1, K + 1):
        r = None if af[k] is None else dc.symmetrize(af[k])
        for j in range(1, k):
            if L[j] is None or L[k - j] is None:
                continue
            t = la.matmul(L[j], la.swap_last(L[k - j]))
            r = -t if r is None else r - t
        if r is None:
            L.append(None)
            continue
        S = dc.solve(L0, la.swap_last(dc.solve(L0, r)))
        L.append(la.matmul(L0, _phi(S)))
    return L0, L[1:]


def _extremum_reduce_rule(prim):
    def rule(primals, series, params):
        x = primals[0]
        out = bind(prim, primals, params)
        axis, keepdims = params["axis"], params["keepdims"]
        hit = ew.equal(x, out if keepdims else sh.reshape(out, rd.keepdims_shape(shape_of(x), axis)))
        count = rd.reduce_sum(hit, axis=axis, keepdims=True)
        ser = []
        for c in series[0]:
            if c is None:
                ser.append(None)
                continue
            share = ew.div(rd.reduce_sum(ew.where(hit, c, 0.0), axis=axis, keepdims=True), count)
            ser.append(share if keepdims else sh.reshape(share, shape_of(out)))
        return out, ser

    TAYLOR_RULES[prim] = rule


_extremum_reduce_rule(rd.reduce_max)
_extremum_reduce_rule(rd.reduce_min)


# -- the fallback: integrate the primitive's forward rule under Taylor mode --------------------------
def _zeros(p):
    return np.zeros(shape_of(p), dtype=getattr(p, "dtype", np.float64))


def _fallback(prim, primals, series, params):
    """Series of ``y = prim(x(t))`` from its JVP rule: ``y' = J(x(t)) x'(t)``, integrated.

    The JVP rule runs under an inner Taylor pass of order ``K - 1`` whose
    inputs are the series of ``x(t)`` and of ``x'(t)``; the series of the
    output tangent is that of ``y'(t)``, and ``y_k = y'_{k-1} / k``. Primitives
    the JVP rule uses are themselves expanded by their Taylor rules (or by this
    fallback, one order lower): polynomial in ``K`` when the JVP rule applies
    ``prim`` itself at most once to series-carrying values (see the module notes).
    """
    out = bind(prim, primals, params)
    if prim.jvp is None:
        raise NotImplementedError(
            f"slopes has no Taylor-mode rule for '{prim.name}', and no forward-mode rule to derive one from"
        )
    K = _order(series)
    if K == 1:
        tangents = [None if s is None else s[0] for s in series]
        if all(t is None for t in tangents):
            return out, None
        _, t = prim.jvp(list(primals), tangents, params)
        return out, None if t is None else _fit_each(out, [t])
    with new_level() as level:
        inner = TaylorTrace(level)
        xs, ts = [], []
        for p, s in zip(primals, series):
            if s is None:
                xs.append(p)
                ts.append(None)
                continue
            xs.append(_wrap(inner, p, s[: K - 1]))
            d = _derivative_series(_full(p, s), K)  # d_0..d_{K-1}
            if all(c is None for c in d):
                ts.append(None)
                continue
            ts.append(_wrap(inner, _zeros(p) if d[0] is None else d[0], d[1:]))
        if all(t is None for t in ts):
            return out, None
        _, tout = prim.jvp(xs, ts, params)
        if tout is None:
            return out, None
        if type(tout) is TaylorTracer and tout._trace is inner:
            q = [tout.primal] + list(tout.series)
        else:
            q = [tout] + [None] * (K - 1)
    return out, _fit_each(out, _integrate(q, K))
