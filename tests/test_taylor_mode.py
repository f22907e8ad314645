"""Taylor mode (``slopes.core.taylor``) and ``sl.derivative`` of any order.

References, all independent of slopes:

- sympy's exact symbolic derivatives (``sympy.diff``) for every elementary
  function alone and for small compositions, up to order 8;
- for random compositions (trees of up to five operations, where ``sympy.diff``
  to order 8 would take seconds to minutes), the same expression built in sympy
  and evaluated by mpmath's arbitrary-precision Taylor expansion at 40 digits
  (``mpmath.taylor`` on ``sympy.lambdify(..., "mpmath")``);
- closed forms (order 20 of ``exp``, ``sin`` and ``1/(1+x)``; polynomials);
- other transforms of slopes where the claim is that transforms compose
  (``grad`` of ``derivative``, ``vmap`` of ``derivative``), and the fallback
  (a primitive's JVP rule) against the dedicated Taylor rules.
"""

from __future__ import annotations

import math
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

import slopes as sl
import slopes.numpy as snp
from slopes.core import taylor as tm
from slopes.core.ops import decompositions as dc
from slopes.core.ops import einsum as es
from slopes.core.ops import elementwise as ew
from slopes.core.ops import linalg as la
from slopes.core.ops import reduce as rd
from slopes.core.ops import reorder as ro
from slopes.core.ops import shape as sh

X = sp.Symbol("x", real=True)
MAX_ORDER = 8


def close(got, want, rtol=1e-8, scale=0.0):
    """``|got - want| <= rtol * max(|want|, scale)``."""
    return abs(got - want) <= rtol * max(abs(want), scale)


def coefficients_mp(expr, x0, order, dps=40):
    """Taylor coefficients f^(k)(x0) / k!, k = 0..order, of a sympy expression, by mpmath."""
    with mpmath.workdps(dps):
        f = sp.lambdify(X, expr, "mpmath")
        return [float(c) for c in mpmath.taylor(f, mpmath.mpf(x0), order)]


# -- the functions under test: slopes, sympy, and the domain kept away from singularities -------
UNARY = {
    "exp": (snp.exp, sp.exp, lambda v: v < 2.5),
    "exp2": (snp.exp2, lambda e: 2**e, lambda v: v < 3.0),
    "expm1": (snp.expm1, lambda e: sp.exp(e) - 1, lambda v: v < 2.5),
    "log": (snp.log, sp.log, lambda v: v > 0.2),
    "log2": (snp.log2, lambda e: sp.log(e, 2), lambda v: v > 0.2),
    "log10": (snp.log10, lambda e: sp.log(e, 10), lambda v: v > 0.2),
    "log1p": (snp.log1p, lambda e: sp.log(1 + e), lambda v: v > -0.8),
    "sqrt": (snp.sqrt, sp.sqrt, lambda v: v > 0.2),
    "cbrt": (snp.cbrt, lambda e: e ** sp.Rational(1, 3), lambda v: v > 0.2),
    "square": (snp.square, lambda e: e**2, lambda v: True),
    "reciprocal": (snp.reciprocal, lambda e: 1 / e, lambda v: abs(v) > 0.3),
    "negative": (snp.negative, lambda e: -e, lambda v: True),
    "sin": (snp.sin, sp.sin, lambda v: True),
    "cos": (snp.cos, sp.cos, lambda v: True),
    "tan": (snp.tan, sp.tan, lambda v: abs(math.cos(v)) > 0.3),
    "arcsin": (snp.arcsin, sp.asin, lambda v: abs(v) < 0.8),
    "arccos": (snp.arccos, sp.acos, lambda v: abs(v) < 0.8),
    "arctan": (snp.arctan, sp.atan, lambda v: True),
    "sinh": (snp.sinh, sp.sinh, lambda v: abs(v) < 3.0),
    "cosh": (snp.cosh, sp.cosh, lambda v: abs(v) < 3.0),
    "tanh": (snp.tanh, sp.tanh, lambda v: True),
    "arcsinh": (snp.arcsinh, sp.asinh, lambda v: True),
    "arccosh": (snp.arccosh, sp.acosh, lambda v: v > 1.2),
    "arctanh": (snp.arctanh, sp.atanh, lambda v: abs(v) < 0.8),
    "abs": (snp.abs, sp.Abs, lambda v: abs(v) > 0.1),
    "clip": (
        lambda e: snp.clip(e, -1.0, 1.0),
        lambda e: sp.Max(-1, sp.Min(e, 1)),
        lambda v: abs(abs(v) - 1) > 0.1,
    ),
}

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, lambda a, b: True),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, lambda a, b: True),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, lambda a, b: True),
    "div": (lambda a, b: a / b, lambda a, b: a / b, lambda a, b: abs(b) > 0.3),
    "power": (lambda a, b: a**b, lambda a, b: a**b, lambda a, b: a > 0.2 and abs(b) < 3),
    "logaddexp": (snp.logaddexp, lambda a, b: sp.log(sp.exp(a) + sp.exp(b)), lambda a, b: True),
    "hypot": (snp.hypot, lambda a, b: sp.sqrt(a**2 + b**2), lambda a, b: a * a + b * b > 0.04),
    "arctan2": (snp.arctan2, sp.atan2, lambda a, b: b > 0.2),
    "maximum": (snp.maximum, sp.Max, lambda a, b: abs(a - b) > 0.1),
    "minimum": (snp.minimum, sp.Min, lambda a, b: abs(a - b) > 0.1),
    "where": (  # a where a > b else b * b: a selection with two differently smooth branches
        lambda a, b: snp.where(a > b, a, b * b),
        lambda a, b: sp.Piecewise((a, a > b), (b * b, True)),
        lambda a, b: abs(a - b) > 0.1,
    ),
}

EXPONENTS = [2, 3, -1, 0.5, 1.5, -2.5]

_FLOAT = {  # plain-float versions, to check domains while generating
    "exp": math.exp,
    "exp2": lambda v: 2.0**v,
    "expm1": math.expm1,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "log1p": math.log1p,
    "sqrt": math.sqrt,
    "cbrt": lambda v: v ** (1 / 3),
    "square": lambda v: v * v,
    "reciprocal": lambda v: 1 / v,
    "negative": lambda v: -v,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "arcsin": math.asin,
    "arccos": math.acos,
    "arctan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "arcsinh": math.asinh,
    "arccosh": math.acosh,
    "arctanh": math.atanh,
    "abs": abs,
    "clip": lambda v: min(max(v, -1.0), 1.0),
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "power": lambda a, b: a**b,
    "logaddexp": lambda a, b: max(a, b) + math.log1p(math.exp(-abs(a - b))),
    "hypot": math.hypot,
    "arctan2": math.atan2,
    "maximum": max,
    "minimum": min,
    "where": lambda a, b: a if a > b else b * b,
}


# -- random expression trees ------------------------------------------------------------------------
def random_tree(rng, size):
    """A random expression of about ``size`` operations in ``x``."""
    if size <= 0:
        if rng.random() < 0.8:
            return ("x",)
        return ("c", rng.choice(["0.5", "0.75", "1.25", "1.5", "2", "-0.5"]))
    r = rng.random()
    if r < 0.55:
        return ("u", rng.choice(sorted(UNARY)), random_tree(rng, size - 1))
    if r < 0.9:
        left = rng.randint(0, size - 1)
        return ("b", rng.choice(sorted(BINARY)), random_tree(rng, left), random_tree(rng, size - 1 - left))
    return ("p", rng.choice(EXPONENTS), random_tree(rng, size - 1))


def has_x(tree):
    return tree[0] == "x" or any(has_x(t) for t in tree[1:] if isinstance(t, tuple))


class OutOfDomain(Exception):
    pass


def value(tree, x0):
    """The float value of ``tree`` at ``x0``, checking every argument's domain with a margin."""
    kind = tree[0]
    if kind == "x":
        v = x0
    elif kind == "c":
        v = float(tree[1])
    elif kind == "u":
        a = value(tree[2], x0)
        if not UNARY[tree[1]][2](a):
            raise OutOfDomain
        v = _FLOAT[tree[1]](a)
    elif kind == "b":
        a, b = value(tree[2], x0), value(tree[3], x0)
        if not BINARY[tree[1]][2](a, b):
            raise OutOfDomain
        v = _FLOAT[tree[1]](a, b)
    else:
        a, e = value(tree[2], x0), tree[1]
        if (float(e).is_integer() and e < 0 and abs(a) < 0.3) or (not float(e).is_integer() and a < 0.2):
            raise OutOfDomain
        v = a**e
    if isinstance(v, complex) or not abs(v) < 30.0:
        raise OutOfDomain
    return v


def to_slopes(tree):
    kind = tree[0]
    if kind == "x":
        return lambda x: x
    if kind == "c":
        c = float(tree[1])
        return lambda x: c
    if kind == "u":
        f, g = UNARY[tree[1]][0], to_slopes(tree[2])
        return lambda x: f(g(x))
    if kind == "b":
        f, g, h = BINARY[tree[1]][0], to_slopes(tree[2]), to_slopes(tree[3])
        return lambda x: f(g(x), h(x))
    e, g = tree[1], to_slopes(tree[2])
    return lambda x: g(x) ** e


def to_sympy(tree):
    kind = tree[0]
    if kind == "x":
        return X
    if kind == "c":
        return sp.Rational(tree[1])
    if kind == "u":
        return UNARY[tree[1]][1](to_sympy(tree[2]))
    if kind == "b":
        return BINARY[tree[1]][1](to_sympy(tree[2]), to_sympy(tree[3]))
    e = tree[1]
    return to_sympy(tree[2]) ** (sp.Integer(e) if float(e).is_integer() else sp.Rational(str(e)))


def random_case(seed):
    rng = random.Random(seed)
    while True:
        tree = random_tree(rng, rng.randint(2, 5))
        if not has_x(tree):
            continue
        for _ in range(20):
            x0 = round(rng.uniform(-1.5, 1.5), 3)
            try:
                value(tree, x0)
            except (OutOfDomain, ValueError, ZeroDivisionError, OverflowError):
                continue
            return tree, x0


@pytest.mark.parametrize("seed", range(100))
def test_random_compositions_match_sympy_up_to_order_8(seed):
    tree, x0 = random_case(seed)
    f, expr = to_slopes(tree), to_sympy(tree)
    want = coefficients_mp(expr, x0, MAX_ORDER)
    # the scale of the coefficients so far: a derivative that is small by cancellation
    # is checked against it (absolute accuracy), the others relative to themselves
    scale = 0.0
    for n in range(MAX_ORDER + 1):
        got = float(sl.derivative(f, order=n)(x0)) / math.factorial(n)
        scale = max(scale, abs(want[n]))
        assert close(got, want[n], 1e-8, 1e-6 * scale), (tree, x0, n, got, want[n])


# -- every function alone, exactly (sympy.diff), along straight and curved paths ----------------------
_POINTS = {
    "arccosh": [1.4, 2.5],
    "arcsin": [-0.5, 0.3],
    "arccos": [-0.5, 0.3],
    "arctanh": [-0.5, 0.3],
    "tan": [-0.7, 1.1],
    "reciprocal": [-0.9, 1.3],
    "abs": [-0.7, 1.3],
    "clip": [-1.6, 0.4],
    "log1p": [-0.5, 1.2],
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_each_function_matches_sympy_diff_up_to_order_8(name):
    fn, sym, _ = UNARY[name]
    expr = sym(X)
    derivs = [expr]
    for _ in range(MAX_ORDER):
        derivs.append(sp.diff(derivs[-1], X))
    for x0 in _POINTS.get(name, [0.4, 1.7]):
        for n, d in enumerate(derivs):
            want = float(d.subs(X, sp.Float(x0, 40)).evalf(30))
            got = float(sl.derivative(fn, order=n)(x0))
            assert close(got, want, 1e-10, 1e-12), (name, x0, n, got, want)


@pytest.mark.parametrize("name", sorted(set(BINARY) - {"where"}))
def test_each_binary_function_matches_sympy_diff_up_to_order_8(name):
    """Both arguments varying (x and a curve in x), or one of them constant."""
    fn, sym, _ = BINARY[name]
    cases = [
        (lambda x: fn(x, 0.3 * x + 1.0), sym(X, sp.Rational(3, 10) * X + 1), 1.7),
        (lambda x: fn(x, 0.7), sym(X, sp.Rational(7, 10)), 1.2),
        (lambda x: fn(1.3, x), sym(sp.Rational(13, 10), X), 0.6),
    ]
    for f, expr, x0 in cases:
        d = expr
        for n in range(MAX_ORDER + 1):
            want = float(d.subs(X, sp.Float(x0, 40)).evalf(30))
            got = float(sl.derivative(f, order=n)(x0))
            assert close(got, want, 1e-10, 1e-10), (name, x0, n, got, want)
            d = sp.diff(d, X)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_each_function_along_a_curve_matches_mpmath(name):
    """Dense input series (not a straight line): the general recurrences, via ``taylor_call``."""
    fn, sym, _ = UNARY[name]
    x0 = _POINTS.get(name, [0.4])[0] if name not in ("arccosh",) else 1.4
    curve = [1.0, -0.5, 0.25, 0.3, -0.2, 0.1, 0.05, -0.04]  # x(t) = x0 + t - t^2/2 + ...
    T = sp.Symbol("t")
    path = x0 + sum(sp.Rational(str(c)) * T ** (k + 1) for k, c in enumerate(curve))
    with mpmath.workdps(40):
        g = sp.lambdify(T, sym(path), "mpmath")
        want = [float(c) for c in mpmath.taylor(g, 0, len(curve))]
    (out,), (ser,) = tm.taylor_call(
        lambda x: [fn(x)], [np.float64(x0)], [[np.float64(c) for c in curve]], len(curve)
    )
    got = [float(out)] + [0.0 if c is None else float(c) for c in ser]
    for k, (a, b) in enumerate(zip(got, want)):
        assert close(a, b, 1e-9, 1e-9 * max(map(abs, want))), (name, k, a, b)


# -- closed forms at high order -------------------------------------------------------------------
@pytest.mark.parametrize("x0", [-1.3, 0.0, 0.4, 2.1])
def test_order_20_closed_forms(x0):
    n = 20
    assert close(float(sl.derivative(snp.exp, order=n)(x0)), math.exp(x0), 1e-8)
    assert close(float(sl.derivative(snp.sin, order=n)(x0)), math.sin(x0 + n * math.pi / 2), 1e-8, 1.0)
    if x0 > -1:
        want = math.factorial(n) * (-1) ** n / (1 + x0) ** (n + 1)
        assert close(float(sl.derivative(lambda x: 1 / (1 + x), order=n)(x0)), want, 1e-8)


def test_sin_plus_cos_at_zero_cycles():
    g = lambda x: snp.sin(x) + snp.cos(x)  # noqa: E731
    pattern = [1.0, 1.0, -1.0, -1.0]
    got = [float(sl.derivative(g, order=n)(0.0)) for n in range(13)]
    np.testing.assert_allclose(got, [pattern[n % 4] for n in range(13)], rtol=0, atol=1e-13)


def test_polynomial_series_is_exact_and_finite():
    p = lambda x: x**3 + 2 * x - 5  # noqa: E731
    for x0 in [-2.0, 0.0, 1.0, 3.0]:
        want = [x0**3 + 2 * x0 - 5, 3 * x0**2 + 2, 6 * x0, 6.0, 0.0, 0.0, 0.0, 0.0]
        got = [float(sl.derivative(p, order=n)(x0)) for n in range(8)]
        assert got == want, (x0, got)
    # the series of x**3 + 2x - 5 at 1 itself: -2 + 5t + 3t^2 + t^3, nothing after
    (out,), (ser,) = tm.taylor_call(lambda x: [p(x)], [np.float64(1.0)], [[np.float64(1.0)] + [None] * 5], 6)
    assert float(out) == -2.0
    assert [None if c is None else float(c) for c in ser] == [5.0, 3.0, 1.0, None, None, None]


def test_integer_powers_at_zero_are_exact():
    for n in range(8):
        for k in range(10):
            want = math.factorial(n) if k == n else 0.0
            assert float(sl.derivative(lambda x: x**n, order=k)(0.0)) == want, (n, k)


def test_elementwise_on_arrays():
    f = lambda x: snp.tanh(x) * snp.exp(-x * x)  # noqa: E731
    xs = np.array([[-1.0, 0.0], [0.5, 2.0]])
    got = sl.derivative(f, order=5)(xs)
    assert got.shape == xs.shape
    np.testing.assert_allclose(
        got, [[float(sl.derivative(f, order=5)(v)) for v in row] for row in xs], rtol=1e-13
    )


def test_order_zero_and_float32():
    f = lambda x: snp.sin(x) * 2.0  # noqa: E731
    assert float(sl.derivative(f, order=0)(0.5)) == 2.0 * math.sin(0.5)
    out = sl.derivative(snp.sin, order=3)(np.float32(0.5))
    assert out.dtype == np.float32
    assert abs(float(out) + math.cos(0.5)) < 1e-6


def test_constant_function_and_errors():
    assert float(sl.derivative(lambda x: 3.0, order=2)(1.0)) == 0.0
    assert float(sl.derivative(lambda x: x * 0.0 + 1.0, order=4)(1.0)) == 0.0
    with pytest.raises(TypeError, match="scalar"):
        sl.derivative(lambda x: snp.sum(x), order=2)(np.ones(3))
    with pytest.raises(ValueError, match="order"):
        sl.derivative(snp.sin, order=-1)
    with pytest.raises(ValueError, match="order"):
        sl.derivative(snp.sin, order=1.5)


# -- array primitives inside a scalar function -----------------------------------------------------------
def test_array_primitives_match_sympy():
    """matmul, reductions, stacking, indexing, cumsum, reshape/transpose, index_update."""
    A = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, 3.0]])

    def f(x):
        v = snp.stack([x, x * x, snp.sin(x)])  # (3,)
        w = A @ v  # (2,)
        m = snp.reshape(snp.concatenate([w, v[1:]]), (2, 2)).T  # (2, 2)
        c = snp.cumsum(snp.exp(m[0] * 0.3))
        u = snp.at(snp.zeros(3))[1].set(x**3)
        return snp.sum(c) + snp.max(w) + snp.sum(u) + (m @ m)[0, 1] + snp.mean(v)

    s = [X, X**2, sp.sin(X)]
    w = [sum(A[i, j] * s[j] for j in range(3)) for i in range(2)]
    flat = w + s[1:]
    m = [[flat[0], flat[2]], [flat[1], flat[3]]]  # reshape (2, 2) then transpose
    c0, c1 = sp.exp(m[0][0] * sp.Rational(3, 10)), sp.exp(m[0][1] * sp.Rational(3, 10))
    expr = c0 + (c0 + c1) + w[1] + X**3 + (m[0][0] * m[0][1] + m[0][1] * m[1][1]) + sum(s) / 3
    x0 = 0.8
    assert float(A[1] @ [x0, x0**2, math.sin(x0)]) > float(A[0] @ [x0, x0**2, math.sin(x0)])  # max picks w[1]
    d = expr
    for n in range(7):
        want = float(d.subs(X, sp.Float(x0, 40)).evalf(30))
        assert close(float(sl.derivative(f, order=n)(x0)), want, 1e-10, 1e-10), n
        d = sp.diff(d, X)


def test_taylor_call_on_vectors_matches_nested_jvp():
    """A vector function along a vector line: coefficient k * k! is the k-th nested jvp."""
    W = np.array([[0.3, -1.0, 0.5], [1.2, 0.4, -0.7]])

    def F(x):
        h = snp.tanh(W @ x)
        return snp.concatenate([h * snp.sum(x**2), snp.cumsum(snp.sin(x))[::-1]])

    x0, v = np.array([0.2, -0.4, 0.9]), np.array([1.0, 0.5, -2.0])
    K = 4
    (out,), (ser,) = tm.taylor_call(lambda x: [F(x)], [x0], [[v] + [None] * (K - 1)], K)

    g = F
    for k in range(1, K + 1):
        g = (lambda h: lambda x: sl.jvp(h, (x,), (v,))[1])(g)
        np.testing.assert_allclose(ser[k - 1] * math.factorial(k), g(x0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, F(x0))


# -- composition with the other transforms ---------------------------------------------------------------
FUNCS = [
    lambda x: snp.sin(x) * snp.exp(-0.3 * x),
    lambda x: snp.tanh(x) / (1.0 + x * x),
    lambda x: snp.sqrt(1.0 + x * x) * snp.log1p(x * x),
    lambda x: snp.logaddexp(0.0, 2.0 * x) + snp.arctan(x) ** 2,
    lambda x: snp.where(x > 0, x**3, snp.sin(x)) + snp.maximum(x, 0.5 * x),
]


@pytest.mark.parametrize("k", range(len(FUNCS)))
def test_grad_of_derivative_is_next_derivative(k):
    f = FUNCS[k]
    for x0 in [-0.7, 0.3, 1.4]:
        a = float(sl.grad(lambda x: sl.derivative(f, 3)(x))(x0))
        b = float(sl.derivative(f, 4)(x0))
        assert close(a, b, 1e-10, 1e-10), (k, x0, a, b)
        # and forward over Taylor, reverse over reverse over Taylor, Taylor over Taylor
        assert close(
            float(sl.jvp(sl.derivative(f, 2), (x0,), (1.0,))[1]), float(sl.derivative(f, 3)(x0)), 1e-10, 1e-10
        )
        assert close(float(sl.grad(sl.grad(sl.derivative(f, 2)))(x0)), b, 1e-10, 1e-10)
        assert close(float(sl.derivative(sl.derivative(f, 2), 2)(x0)), b, 1e-10, 1e-10)


@pytest.mark.parametrize("k", range(len(FUNCS)))
def test_vmap_of_derivative_equals_loop(k):
    f = FUNCS[k]
    xs = np.array([-1.1, -0.2, 0.0, 0.6, 1.5])
    got = sl.vmap(sl.derivative(f, 3))(xs)
    np.testing.assert_allclose(got, [float(sl.derivative(f, 3)(x)) for x in xs], rtol=1e-12, atol=1e-12)


def test_nested_derivatives_do_not_confuse_perturbations():
    # d/dx [x * d/dy (x + y)] = 1: the inner derivative must not see the outer x's series
    f = lambda x: x * sl.derivative(lambda y: x + y, 1)(x)  # noqa: E731
    assert float(sl.derivative(f, 1)(2.0)) == 1.0
    g = lambda x: x * sl.derivative(lambda y: x * y**2, 2)(x)  # x * 2x  # noqa: E731
    assert [float(sl.derivative(g, n)(1.5)) for n in range(4)] == [4.5, 6.0, 4.0, 0.0]


# -- the fallback: primitives without a Taylor rule ----------------------------------------------------------
def test_custom_jvp_function_uses_the_fallback():
    @sl.custom_jvp
    def softplus(x):
        return snp.logaddexp(0.0, x)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + snp.exp(-x))

    assert softplus.prim not in tm.TAYLOR_RULES
    expr = sp.log(1 + sp.exp(X)) * sp.sin(X)
    f = lambda x: softplus(x) * snp.sin(x)  # noqa: E731
    for x0 in [-1.0, 0.5]:
        want = coefficients_mp(expr, x0, MAX_ORDER)
        for n in range(MAX_ORDER + 1):
            got = float(sl.derivative(f, order=n)(x0)) / math.factorial(n)
            assert close(got, want[n], 1e-9, 1e-9), (x0, n, got, want[n])


def test_fallback_composes_with_grad_and_vmap():
    @sl.custom_jvp
    def softplus(x):
        return snp.logaddexp(0.0, x)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1.0 + snp.exp(-x))

    ref = lambda x: snp.logaddexp(0.0, x)  # noqa: E731  (its own rules)
    for x0 in [-0.8, 0.4]:
        a = float(sl.grad(lambda x: sl.derivative(softplus, 3)(x))(x0))
        assert close(a, float(sl.derivative(ref, 4)(x0)), 1e-12, 1e-12)
    xs = np.array([-0.8, 0.1, 0.4])
    np.testing.assert_allclose(sl.vmap(sl.derivative(softplus, 3))(xs), sl.derivative(ref, 3)(xs), rtol=1e-12)


def test_custom_vjp_function_differentiates_its_code():
    @sl.custom_vjp
    def f(x):
        return snp.sin(x) * x

    f.defvjp(lambda x: (f(x), None), lambda res, g: (g,))
    for n in range(7):
        want = float(sp.diff(sp.sin(X) * X, X, n).subs(X, sp.Float(0.4, 30)))
        assert close(float(sl.derivative(f, n)(0.4)), want, 1e-12, 1e-12), n


def test_custom_jvp_with_a_rule_that_does_not_call_itself():
    @sl.custom_jvp
    def cube(x):
        return x * x * x

    @cube.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return x * x * x, 3.0 * x * x * t

    got = [float(sl.derivative(lambda x: cube(snp.sin(x)), n)(0.7)) for n in range(7)]
    want = [float(sp.diff(sp.sin(X) ** 3, X, n).subs(X, sp.Float(0.7, 30))) for n in range(7)]
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_cumprod_and_linalg_match_sympy():
    def f(x):
        c = snp.cumprod(snp.stack([x, x + 1.0, 2.0 * x]))
        M = snp.stack([snp.stack([x, 1.0]), snp.stack([2.0, x * x])])
        b = snp.stack([1.0, x])
        return snp.sum(c) + snp.linalg.det(M) + snp.sum(snp.linalg.solve(M, b)) + snp.linalg.inv(M)[0, 0]

    # cumprod: x + x(x+1) + 2x^2(x+1); det = x^3 - 2; solve(M, b) and inv(M) by Cramer's rule
    det = X**3 - 2
    expr = X + X * (X + 1) + 2 * X**2 * (X + 1) + det + ((X**2 - X) + (X * X - 2)) / det + X**2 / det
    x0 = 1.6
    for n in range(7):
        want = float(sp.diff(expr, X, n).subs(X, sp.Float(x0, 40)).evalf(30))
        assert close(float(sl.derivative(f, order=n)(x0)), want, 1e-9, 1e-9), n


def nested_jvp_derivative(f, n):
    """The n-th derivative by n nested first-order jvp's (exponential cost; a reference)."""
    for _ in range(n):
        f = (lambda h: lambda x: sl.jvp(h, (x,), (np.ones_like(x),))[1])(f)
    return f


_M0 = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
_M1 = np.array([[1.0, 0.2, 0.0], [0.2, -0.5, 0.1], [0.0, 0.1, 0.3]])


def _matrix(x):
    """A symmetric positive definite matrix curve (near x = 0.35)."""
    return _M0 + x * _M1 + (x * x) * np.eye(3) * 0.1


ARRAY_FUNCS = {
    "einsum": lambda x: snp.einsum(
        "ij,j,i->", _matrix(x), snp.stack([x, snp.sin(x), 1.0]), snp.stack([1.0, x, x])
    ),
    "take_along_axis": lambda x: snp.sum(
        snp.take_along_axis(snp.stack([x, x * x, snp.exp(x)]), np.array([2, 0, 0]), axis=0)
    ),
    "sort": lambda x: snp.sum(snp.sort(snp.stack([snp.sin(x), x * x, 0.3])) * np.array([1.0, 2.0, 3.0])),
    "prod": lambda x: snp.prod(snp.stack([x, x + 1.0, snp.cos(x)])),
    "cumprod": lambda x: snp.sum(snp.cumprod(snp.stack([x, x + 1.0, snp.cos(x), 2.0 * x]))),
    "cumprod_zero": lambda x: snp.sum(snp.cumprod(snp.stack([x, x - 0.35, snp.cos(x), 2.0 * x]))),
    "det": lambda x: snp.linalg.det(_matrix(x)),
    "slogdet": lambda x: snp.linalg.slogdet(_matrix(x))[1],
    "inv": lambda x: snp.sum(snp.linalg.inv(_matrix(x)) * _M1),
    "solve": lambda x: snp.sum(snp.linalg.solve(_matrix(x), snp.stack([1.0, x, x * x]))),
    "cholesky": lambda x: snp.sum(snp.linalg.cholesky(_matrix(x)) * _M0),
    "eigvalsh": lambda x: snp.sum(snp.linalg.eigvalsh(_matrix(x)) ** 3),
    "norm": lambda x: snp.linalg.norm(snp.stack([x, 2.0, snp.sin(x)])),
}


@pytest.mark.parametrize("name", sorted(ARRAY_FUNCS))
def test_array_functions_match_nested_jvp(name):
    """Rules (einsum, gather, cumprod, inv, solve, cholesky, ...) and the fallback (det, eigh)."""
    f = ARRAY_FUNCS[name]
    x0 = np.float64(0.35)
    for n in range(6):
        got = float(sl.derivative(f, order=n)(x0))
        want = float(nested_jvp_derivative(f, n)(x0))
        assert close(got, want, 1e-10, 1e-10), (name, n, got, want)
    # high order stays cheap (a fallback or rule that recursed exponentially would not finish)
    assert np.isfinite(float(sl.derivative(f, order=16)(x0)))


_RULED = [
    ew.exp,
    ew.exp2,
    ew.expm1,
    ew.log,
    ew.log2,
    ew.log10,
    ew.log1p,
    ew.sqrt,
    ew.cbrt,
    ew.square,
    ew.reciprocal,
    ew.sin,
    ew.cos,
    ew.tan,
    ew.tanh,
    ew.sinh,
    ew.cosh,
    ew.arctan,
    ew.arcsin,
    ew.arccos,
    ew.arcsinh,
    ew.arctanh,
    ew.mul,
    ew.div,
    ew.power,
    ew.logaddexp,
    ew.hypot,
    ew.arctan2,
    ew.maximum,
    ew.where,
    ew.absolute,
    la.matmul,
    rd.reduce_sum,
    rd.reduce_max,
    sh.getitem,
    sh.stack,
]


@pytest.mark.parametrize("prim", _RULED, ids=lambda p: p.name)
def test_fallback_agrees_with_the_dedicated_rule(prim, monkeypatch):
    """Remove one rule: the JVP-based fallback must give the same series."""
    v = np.array([0.3, 0.6])

    def f(x):
        a = 0.5 + 0.2 * x  # in every domain for x near 0.4
        vec = snp.stack([a, 0.9 - 0.3 * x])
        out = (
            snp.exp(a)
            + snp.exp2(a)
            + snp.expm1(a)
            + snp.log(a)
            + snp.log2(a)
            + snp.log10(a)
            + snp.log1p(a)
            + snp.sqrt(a)
            + snp.cbrt(a)
            + snp.square(a)
            + snp.reciprocal(a)
            + snp.sin(a)
            + snp.cos(a)
            + snp.tan(a)
            + snp.tanh(a)
            + snp.sinh(a)
            + snp.cosh(a)
            + snp.arctan(a)
            + snp.arcsin(a)
            + snp.arccos(a)
            + snp.arcsinh(a)
            + snp.arctanh(a)
            + a * x / (1.0 + x)
            + a**x
            + x**2.5
            + snp.logaddexp(a, x)
            + snp.hypot(a, x)
            + snp.arctan2(x, a)
            + snp.maximum(a, x)
            + snp.where(x > 0, a, x)
            + snp.abs(a - 1.0)
        )
        return out + vec @ v + snp.sum(vec * vec) + snp.max(vec) + vec[1]

    x0, K = 0.4, 6
    want = [float(sl.derivative(f, n)(x0)) for n in range(K + 1)]
    monkeypatch.delitem(tm.TAYLOR_RULES, prim)
    got = [float(sl.derivative(f, n)(x0)) for n in range(K + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


_ARRAY_RULED = [
    la.matmul,
    rd.reduce_sum,
    sh.getitem,
    es.einsum,
    ro.gather,
    ro.linrec,
    ro.cumprod,
    dc.inv,
    dc.solve,
    dc.cholesky,
]


@pytest.mark.parametrize("prim", _ARRAY_RULED, ids=lambda p: p.name)
def test_fallback_agrees_with_the_array_rules(prim, monkeypatch):
    def f(x):
        A = _matrix(x)
        v = snp.stack([x, snp.sin(x), 1.0])
        out = (
            snp.sum(A @ v)
            + snp.einsum("ij,j->", A, v)
            + snp.sum(snp.take_along_axis(v, np.array([2, 0]), axis=0))
            + snp.sum(snp.cumprod(v))
            + snp.sum(ro.linrec(v, v * v, axis=0, reverse=True))
            + snp.sum(snp.linalg.inv(A) * _M1)
            + snp.sum(snp.linalg.solve(A, v))
            + snp.sum(snp.linalg.cholesky(A) * _M0)
        )
        return out

    x0, K = 0.35, 5
    want = [float(sl.derivative(f, n)(x0)) for n in range(K + 1)]
    ref = [float(nested_jvp_derivative(f, n)(np.float64(x0))) for n in range(K + 1)]
    np.testing.assert_allclose(want, ref, rtol=1e-10, atol=1e-10)
    monkeypatch.delitem(tm.TAYLOR_RULES, prim)
    got = [float(sl.derivative(f, n)(x0)) for n in range(K + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_fallback_at_high_order():
    """Order 16 through the fallback alone (nested first-order jvp would need 2**16 passes)."""

    @sl.custom_jvp
    def s(x):
        return snp.sin(x)

    @s.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return s(x), t * snp.cos(x)

    got = float(sl.derivative(s, 16)(0.3))
    assert close(got, math.sin(0.3), 1e-9)
