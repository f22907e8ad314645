"""Arithmetic on truncated power series: lists ``[c0, c1, ..., cK]`` (``None`` = 0).

Cauchy products and their sparse convolutions, quotients, and the classical
recurrences (Griewank & Walther, *Evaluating Derivatives*, ch. 13) for
``exp``, ``log``, ``x**a``, integer powers, ``sqrt``, ``sin``/``cos`` (and
``sinh``/``cosh``), ``tan``/``tanh`` and the derivative series of the inverse
functions; the series of ``x'(t)`` and the termwise integral; and the
broadcasting of coefficients to an output's shape. The Taylor rules are built
on these. Every operation uses Python operators and slopes primitives, so the
coefficients may be tracers of an outer transform.
"""

from __future__ import annotations

from ..ops import elementwise as ew
from ..ops import shape as sh
from ..trace import shape_of


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


def _series_or_const(x0, s, K):
    return _const(x0, K) if s is None else _full(x0, s)


# -- coefficients to the output's shape ------------------------------------------------------------
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
