"""Elementwise primitives: arithmetic, the transcendental functions, comparisons.

Binary operations broadcast like NumPy; their reverse rules sum the cotangent
back to each argument's shape (``unbroadcast``). Conventions at singular points:
``abs`` and ``sign`` have derivative 0 at 0; ``maximum``/``minimum`` split the
derivative equally between tied arguments; ``clip`` passes the derivative
where ``lo <= x <= hi`` (bounds included); ``hypot`` at (0, 0) has gradient 0.

Complex values follow JAX's convention: a reverse rule is the plain transpose of
the forward rule (no conjugation), so the rules of holomorphic functions are the
same as for reals; only ``real``, ``imag``, ``conj`` and ``abs`` of complex
values, which are not holomorphic, need their own. ``abs`` at 0 has derivative 0
for complex values too.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..dtypes import complex_valued
from ..trace import Primitive, Tracer, bind, shape_of
from .rules import defjvp, elementwise_batch, make_nondiff, mask_zero
from .shape import broadcast_to, sum_to

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def unbroadcast(x, shape):
    """Sum ``x`` down to ``shape`` (the reverse of NumPy broadcasting)."""
    if shape_of(x) == shape:
        return x
    return sum_to(x, shape)


def _elementwise(name, impl):
    p = Primitive(name, impl)
    elementwise_batch(p)
    return p


# -- arithmetic -----------------------------------------------------------------
# Python's operators are NumPy's ufuncs for arrays and much faster for NumPy
# scalars (x[0] of an array). Only a pair of plain Python numbers behaves
# differently (1.0 / 0.0 raises, (-8.0) ** (1/3) is complex): those go to NumPy.
def _true_divide(x, y):
    if type(x) in _PY_NUMBERS and type(y) in _PY_NUMBERS:
        return np.true_divide(x, y)
    return x / y


def _power(x, y):
    if type(x) in _PY_NUMBERS and type(y) in _PY_NUMBERS:
        return np.power(x, y)
    return x**y


_PY_NUMBERS = {int, float, bool}

add = _elementwise("add", operator.add)
sub = _elementwise("subtract", operator.sub)
mul = _elementwise("multiply", operator.mul)
div = _elementwise("divide", _true_divide)
neg = _elementwise("negative", np.negative)
power = _elementwise("power", _power)


def _sum_jvp(sign):
    def jvp(primals, tangents, params):
        ans = bind(add if sign > 0 else sub, primals, params)
        tx, ty = tangents
        if ty is None:
            out = tx
        elif tx is None:
            out = ty if sign > 0 else neg(ty)
        else:
            out = add(tx, ty) if sign > 0 else sub(tx, ty)
        if out is not None and shape_of(out) != shape_of(ans):
            out = broadcast_to(out, shape_of(ans))
        return ans, out

    return jvp


add.jvp = _sum_jvp(+1)
sub.jvp = _sum_jvp(-1)
add.vjps = (
    lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
    lambda g, ans, x, y: unbroadcast(g, shape_of(y)),
)
sub.vjps = (
    lambda g, ans, x, y: unbroadcast(g, shape_of(x)),
    lambda g, ans, x, y: unbroadcast(neg(g), shape_of(y)),
)
# what each reverse rule reads beyond shapes (see Primitive.keeps)
add.keeps = sub.keeps = neg.keeps = ()
mul.keeps = (0, 1)
div.keeps = (1, "ans")

defjvp(mul, lambda t, ans, x, y: mul(t, y), lambda t, ans, x, y: mul(x, t))
mul.vjps = (
    lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, y)), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, x)), shape_of(y)),
)

defjvp(div, lambda t, ans, x, y: div(t, y), lambda t, ans, x, y: neg(div(mul(t, ans), y)))
div.vjps = (
    lambda g, ans, x, y: unbroadcast(mask_zero(g, div(g, y)), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(mask_zero(g, neg(div(mul(g, ans), y))), shape_of(y)),
)

neg.jvp = lambda primals, tangents, params: (
    neg(primals[0]),
    None if tangents[0] is None else neg(tangents[0]),
)
neg.vjps = (lambda g, ans, x: neg(g),)


def _dpow_dbase(x, y):
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        if y == 0:
            return 0.0
        if y == 1:
            return 1.0
        if y == 2:
            return 2.0 * x
        return y * power(x, y - 1)
    return mul(y, power(x, sub(y, 1)))


def _dpow_dexp(x, ans):
    # d/dy x**y = x**y log x; at x = 0 the limit (y > 0) is 0, not 0 * -inf.
    return mul(ans, log(where(equal(x, 0), 1.0, x)))


defjvp(
    power,
    lambda t, ans, x, y: mul(t, _dpow_dbase(x, y)),
    lambda t, ans, x, y: mul(t, _dpow_dexp(x, ans)),
)
power.vjps = (
    lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, _dpow_dbase(x, y))), shape_of(x)),
    lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, _dpow_dexp(x, ans))), shape_of(y)),
)


# -- non-differentiable elementwise operations --------------------------------------
equal = make_nondiff("equal", np.equal)
not_equal = make_nondiff("not_equal", np.not_equal)
less = make_nondiff("less", np.less)
less_equal = make_nondiff("less_equal", np.less_equal)
greater = make_nondiff("greater", np.greater)
greater_equal = make_nondiff("greater_equal", np.greater_equal)
logical_and = make_nondiff("logical_and", np.logical_and)
logical_or = make_nondiff("logical_or", np.logical_or)
logical_xor = make_nondiff("logical_xor", np.logical_xor)
logical_not = make_nondiff("logical_not", np.logical_not)
isfinite = make_nondiff("isfinite", np.isfinite)
isnan = make_nondiff("isnan", np.isnan)
isinf = make_nondiff("isinf", np.isinf)
sign = make_nondiff("sign", np.sign)
floor = make_nondiff("floor", np.floor)
ceil = make_nondiff("ceil", np.ceil)
rint = make_nondiff("rint", np.rint)
trunc = make_nondiff("trunc", np.trunc)
floor_divide = make_nondiff("floor_divide", np.floor_divide)
signbit = make_nondiff("signbit", np.signbit)
# the value of x, seen by every transform as a constant
stop_gradient = make_nondiff("stop_gradient", lambda x: x)


def _round_impl(x, decimals=0):
    return np.round(x, decimals)


round_ = make_nondiff("round", _round_impl)


# -- dtype conversion: differentiable between floating types ---------------------------
astype = _elementwise("astype", lambda x, dtype: np.asarray(x).astype(dtype))
astype.jvp = lambda primals, tangents, params: (
    astype(primals[0], **params),
    None if tangents[0] is None else astype(tangents[0], **params),
)
# a real value cast to complex receives the real part of its cotangent (the transpose of the cast)
astype.vjps = (
    lambda g, ans, x, dtype: astype(real(g) if complex_valued(g) and not complex_valued(x) else g, dtype=x.dtype),
)
astype.keeps = ()


# -- where and clip -----------------------------------------------------------------
where = _elementwise("where", np.where)
defjvp(
    where,
    None,
    lambda t, ans, c, x, y: where(c, t, 0.0),
    lambda t, ans, c, x, y: where(c, 0.0, t),
)
where.vjps = (
    None,
    lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), shape_of(x)),
    lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), shape_of(y)),
)
where.keeps = (0,)

clip = _elementwise("clip", np.clip)


def _inside(x, lo, hi):
    return logical_and(greater_equal(x, lo), less_equal(x, hi))


defjvp(
    clip,
    lambda t, ans, x, lo, hi: where(_inside(x, lo, hi), t, 0.0),
    lambda t, ans, x, lo, hi: where(less(x, lo), t, 0.0),
    lambda t, ans, x, lo, hi: where(greater(x, hi), t, 0.0),
)
clip.vjps = (
    lambda g, ans, x, lo, hi: unbroadcast(where(_inside(x, lo, hi), g, 0.0), shape_of(x)),
    lambda g, ans, x, lo, hi: unbroadcast(where(less(x, lo), g, 0.0), shape_of(lo)),
    lambda g, ans, x, lo, hi: unbroadcast(where(greater(x, hi), g, 0.0), shape_of(hi)),
)


# -- unary functions, from a table of derivatives -------------------------------------
def _unary(name, impl, deriv, reads):
    """Define ``name`` with derivative ``deriv(x, ans)`` (an expression in primitives)
    that reads ``x`` (``reads=0``) or ``ans`` (``reads="ans"``)."""
    p = _elementwise(name, impl)
    defjvp(p, lambda t, ans, x: mul(t, deriv(x, ans)))
    p.vjps = (lambda g, ans, x: mask_zero(g, mul(g, deriv(x, ans))),)
    p.keeps = (reads,)
    return p


exp = _unary("exp", np.exp, lambda x, ans: ans, "ans")
exp2 = _unary("exp2", np.exp2, lambda x, ans: mul(ans, LN2), "ans")
expm1 = _unary("expm1", np.expm1, lambda x, ans: add(ans, 1.0), "ans")
log = _unary("log", np.log, lambda x, ans: div(1.0, x), 0)
log2 = _unary("log2", np.log2, lambda x, ans: div(1.0 / LN2, x), 0)
log10 = _unary("log10", np.log10, lambda x, ans: div(1.0 / LN10, x), 0)
log1p = _unary("log1p", np.log1p, lambda x, ans: div(1.0, add(x, 1.0)), 0)
sqrt = _unary("sqrt", np.sqrt, lambda x, ans: div(0.5, ans), "ans")
cbrt = _unary("cbrt", np.cbrt, lambda x, ans: div(1.0 / 3.0, mul(ans, ans)), "ans")
square = _unary("square", np.square, lambda x, ans: mul(2.0, x), 0)
reciprocal = _unary("reciprocal", np.reciprocal, lambda x, ans: neg(mul(ans, ans)), "ans")
sin = _unary("sin", np.sin, lambda x, ans: cos(x), 0)
cos = _unary("cos", np.cos, lambda x, ans: neg(sin(x)), 0)
tan = _unary("tan", np.tan, lambda x, ans: add(1.0, mul(ans, ans)), "ans")
arcsin = _unary("arcsin", np.arcsin, lambda x, ans: div(1.0, sqrt(sub(1.0, mul(x, x)))), 0)
arccos = _unary("arccos", np.arccos, lambda x, ans: div(-1.0, sqrt(sub(1.0, mul(x, x)))), 0)
arctan = _unary("arctan", np.arctan, lambda x, ans: div(1.0, add(1.0, mul(x, x))), 0)
sinh = _unary("sinh", np.sinh, lambda x, ans: cosh(x), 0)
cosh = _unary("cosh", np.cosh, lambda x, ans: sinh(x), 0)
tanh = _unary("tanh", np.tanh, lambda x, ans: sub(1.0, mul(ans, ans)), "ans")
arcsinh = _unary("arcsinh", np.arcsinh, lambda x, ans: div(1.0, sqrt(add(mul(x, x), 1.0))), 0)
# 1 / (sqrt(x - 1) sqrt(x + 1)), not 1 / sqrt(x**2 - 1): the same for real x >= 1, and the
# derivative of NumPy's principal branch for complex x with Re x < 0 too (the other differs in sign)
arccosh = _unary("arccosh", np.arccosh, lambda x, ans: div(1.0, mul(sqrt(sub(x, 1.0)), sqrt(add(x, 1.0)))), 0)
arctanh = _unary("arctanh", np.arctanh, lambda x, ans: div(1.0, sub(1.0, mul(x, x))), 0)
# -- complex parts: linear over the reals, transposed as in JAX ----------------------------
real = _elementwise("real", np.real)
imag = _elementwise("imag", np.imag)
conj = _elementwise("conjugate", np.conjugate)
for _p in (real, imag, conj):
    _p.jvp = lambda primals, tangents, params, _p=_p: (
        _p(primals[0]),
        None if tangents[0] is None else _p(tangents[0]),
    )
    _p.keeps = ()
# <Re x, g> = Re(x g) and g Im(x) = Re(x (-i g)) for real g; for real x, imag(x) = 0
real.vjps = (lambda g, ans, x: g,)
imag.vjps = (lambda g, ans, x: mul(g, -1j) if complex_valued(x) else None,)
conj.vjps = (lambda g, ans, x: conj(g),)


def _abs_slope(x):
    """``d|x| = Re(s dx)``: ``s = sign(x)`` for reals, ``conj(x) / |x|`` for complex (0 at 0)."""
    if not complex_valued(x):
        return sign(x)
    return conj(_safe_div(x, absolute(x)))


def _abs_jvp(primals, tangents, params):
    (x,), (t,) = primals, tangents
    ans = absolute(x)
    if t is None:
        return ans, None
    dt = mul(t, _abs_slope(x))
    return ans, real(dt) if complex_valued(dt) else dt


absolute = _elementwise("absolute", np.abs)
absolute.jvp = _abs_jvp
absolute.vjps = (lambda g, ans, x: mask_zero(g, mul(g, _abs_slope(x))),)
absolute.keeps = (0,)


# -- binary functions, from a table of partial derivatives ----------------------------
def _binary(name, impl, dx, dy):
    """Define ``name`` with partials ``dx(x, y, ans)`` and ``dy(x, y, ans)``."""
    p = _elementwise(name, impl)
    defjvp(p, lambda t, ans, x, y: mul(t, dx(x, y, ans)), lambda t, ans, x, y: mul(t, dy(x, y, ans)))
    p.vjps = (
        lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, dx(x, y, ans))), shape_of(x)),
        lambda g, ans, x, y: unbroadcast(mask_zero(g, mul(g, dy(x, y, ans))), shape_of(y)),
    )
    p.keeps = (0, 1, "ans")
    return p


def _first_wins(x, y):
    """1 where x is the strict winner, 1/2 on ties, 0 where y wins (as x's share)."""
    return where(equal(x, y), 0.5, where(greater(x, y), 1.0, 0.0))


def _safe_div(a, b):
    """a / b, and 0 where b == 0 (the subgradient convention at a kink)."""
    zero = equal(b, 0)
    return where(zero, 0.0, div(a, where(zero, 1.0, b)))


maximum = _binary(
    "maximum", np.maximum, lambda x, y, a: _first_wins(x, y), lambda x, y, a: _first_wins(y, x)
)
minimum = _binary(
    "minimum", np.minimum, lambda x, y, a: _first_wins(y, x), lambda x, y, a: _first_wins(x, y)
)
arctan2 = _binary(
    "arctan2",
    np.arctan2,
    lambda y, x, a: _safe_div(x, add(mul(x, x), mul(y, y))),
    lambda y, x, a: _safe_div(neg(y), add(mul(x, x), mul(y, y))),
)
maximum.keeps = minimum.keeps = arctan2.keeps = (0, 1)  # the output is not read
hypot = _binary("hypot", np.hypot, lambda x, y, a: _safe_div(x, a), lambda x, y, a: _safe_div(y, a))
def _logaddexp(x, y):
    """NumPy's logaddexp, computed with vectorised exp/log1p for large arrays (about 2x faster)."""
    if np.size(x) + np.size(y) < 600:  # below this NumPy's own loop is faster (measured)
        return np.logaddexp(x, y)
    m = np.maximum(x, y)
    with np.errstate(invalid="ignore"):
        d = np.subtract(x, y)
    d = np.abs(d)
    np.negative(d, out=d)
    np.exp(d, out=d)
    np.log1p(d, out=d)
    out = np.add(m, d, out=d)
    bad = np.isnan(out)
    if bad.any():  # both +inf or both -inf: the maximum itself (NaN inputs stay NaN)
        out = np.where(bad & ~np.isnan(m), m, out)
    return out


def _share(x, y):
    """``d logaddexp(x, y) / dx = exp(x - logaddexp(x, y)) = expit(x - y)``, from the inputs alone.

    Not reading the output lets a gradient program drop ``logaddexp`` itself (the slowest
    operation of a logistic loss's gradient, about 4x ``expit``); ``expit`` is accurate in
    both tails, and ``x = y = inf`` gives NaN as ``exp(inf - inf)`` did.
    """
    from .special import expit  # special builds on this module

    # softplus, logaddexp(0, m): no pass over m to subtract the zero (x - 0.0 is x, -0.0 included)
    zero = type(y) in _PY_NUMBERS and y == 0
    return expit(x if zero else sub(x, y))


logaddexp = _binary("logaddexp", _logaddexp, lambda x, y, a: _share(x, y), lambda x, y, a: _share(y, x))
logaddexp.keeps = (0, 1)  # the output is not read


# -- operators on tracers ---------------------------------------------------------------
def _mod(x, y):
    return sub(x, mul(floor_divide(x, y), y))


def _method(prim):
    # straight to bind: operators are the hottest path of a traced function
    return lambda a, b: bind(prim, (a, b), {})


def _rmethod(prim):
    return lambda a, b: bind(prim, (b, a), {})


def _unary_method(prim):
    return lambda a: bind(prim, (a,), {})


_BINARY = {
    "add": add,
    "sub": sub,
    "mul": mul,
    "truediv": div,
    "pow": power,
    "floordiv": floor_divide,
    "and": logical_and,
    "or": logical_or,
    "xor": logical_xor,
}
for _name, _prim in _BINARY.items():
    setattr(Tracer, f"__{_name}__", _method(_prim))
    setattr(Tracer, f"__r{_name}__", _rmethod(_prim))
for _name, _prim in {
    "eq": equal,
    "ne": not_equal,
    "lt": less,
    "le": less_equal,
    "gt": greater,
    "ge": greater_equal,
}.items():
    setattr(Tracer, f"__{_name}__", _method(_prim))
for _name, _prim in {"neg": neg, "abs": absolute, "invert": logical_not}.items():
    setattr(Tracer, f"__{_name}__", _unary_method(_prim))
Tracer.__mod__ = _mod
Tracer.__rmod__ = lambda a, b: _mod(b, a)
Tracer.__pos__ = lambda a: a
