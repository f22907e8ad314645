"""Taylor rules of linear, shape and reduction primitives and of linear algebra.

Linear primitives (casts, reshapes, transposes, broadcasts, indexing, sums,
``cumsum``, ``gather``/``scatter``) apply to every coefficient; ``stack``,
``concatenate`` and ``index_update`` are linear in all their arguments
jointly; ``matmul`` and ``einsum`` follow the Leibniz rule order by order;
``linrec`` and ``cumprod`` solve the same recurrence for every order; ``inv``,
``solve`` and ``cholesky`` solve with the matrix at ``t = 0``; ``reduce_max``
and ``reduce_min`` share the series equally between ties. Importing this module
registers the rules in :data:`~.trace.TAYLOR_RULES`.
"""

from __future__ import annotations

import numpy as np

from ..ops import decompositions as dc
from ..ops import einsum as es
from ..ops import elementwise as ew
from ..ops import linalg as la
from ..ops import reduce as rd
from ..ops import reorder as ro
from ..ops import shape as sh
from ..trace import bind, shape_of
from .series import _fit_each, _full, _nonzero, _order, _series_or_const
from .trace import TAYLOR_RULES, deftaylor


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
