"""Elementwise functions of ``slopes.numpy``: values, first and second derivatives.

Every derivative here is checked against an independent reference: central finite
differences (``tests/checks.py``, plain NumPy), closed forms, or sympy. Inputs are
drawn with hypothesis (shape and seed) inside each function's domain, over several
shapes including 0-d arrays and broadcasting pairs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from checks import check_derivatives
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import slopes as sl
import slopes.numpy as snp
from slopes.core.trace import Tracer

# no shrinking: a failure is reported at once, keeping the suite fast even when red
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
FAST = settings(max_examples=12, deadline=None, phases=NO_SHRINK)

SHAPES = [(), (1,), (4,), (2, 3), (2, 1, 3)]
# pairs of shapes that broadcast against each other (0-d with anything, size-1 axes, rank change)
BROADCAST_PAIRS = [
    ((), ()),
    ((), (3,)),
    ((3,), ()),
    ((4,), (4,)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((1, 3), (2, 1, 3)),
    ((2, 3), (2, 3)),
]

shapes = st.sampled_from(SHAPES)
pairs = st.sampled_from(BROADCAST_PAIRS)
seeds = st.integers(0, 2**32 - 1)


def uniform(rng, shape, lo, hi):
    return lo + (hi - lo) * rng.random(shape)


def signed(rng, shape, lo, hi):
    """Magnitudes in [lo, hi] with random signs (keeps away from 0)."""
    return uniform(rng, shape, lo, hi) * rng.choice([-1.0, 1.0], size=shape)


# name -> (function, sampler(rng, shape), numpy reference)
UNARY = {
    "negative": (snp.negative, lambda r, s: uniform(r, s, -3, 3), np.negative),
    "abs": (snp.abs, lambda r, s: signed(r, s, 0.2, 3), np.abs),
    "absolute": (snp.absolute, lambda r, s: signed(r, s, 0.2, 3), np.absolute),
    "exp": (snp.exp, lambda r, s: uniform(r, s, -2, 2), np.exp),
    "exp2": (snp.exp2, lambda r, s: uniform(r, s, -2, 2), np.exp2),
    "expm1": (snp.expm1, lambda r, s: uniform(r, s, -2, 2), np.expm1),
    "log": (snp.log, lambda r, s: uniform(r, s, 0.3, 4), np.log),
    "log2": (snp.log2, lambda r, s: uniform(r, s, 0.3, 4), np.log2),
    "log10": (snp.log10, lambda r, s: uniform(r, s, 0.3, 4), np.log10),
    "log1p": (snp.log1p, lambda r, s: uniform(r, s, -0.6, 3), np.log1p),
    "sqrt": (snp.sqrt, lambda r, s: uniform(r, s, 0.3, 4), np.sqrt),
    "cbrt": (snp.cbrt, lambda r, s: signed(r, s, 0.3, 4), np.cbrt),  # both signs
    "square": (snp.square, lambda r, s: uniform(r, s, -3, 3), np.square),
    "reciprocal": (snp.reciprocal, lambda r, s: signed(r, s, 0.4, 3), np.reciprocal),
    "sin": (snp.sin, lambda r, s: uniform(r, s, -3, 3), np.sin),
    "cos": (snp.cos, lambda r, s: uniform(r, s, -3, 3), np.cos),
    "tan": (snp.tan, lambda r, s: uniform(r, s, -1.2, 1.2), np.tan),
    "arcsin": (snp.arcsin, lambda r, s: uniform(r, s, -0.8, 0.8), np.arcsin),
    "arccos": (snp.arccos, lambda r, s: uniform(r, s, -0.8, 0.8), np.arccos),
    "arctan": (snp.arctan, lambda r, s: uniform(r, s, -3, 3), np.arctan),
    "sinh": (snp.sinh, lambda r, s: uniform(r, s, -2, 2), np.sinh),
    "cosh": (snp.cosh, lambda r, s: uniform(r, s, -2, 2), np.cosh),
    "tanh": (snp.tanh, lambda r, s: uniform(r, s, -2, 2), np.tanh),
    "arcsinh": (snp.arcsinh, lambda r, s: uniform(r, s, -3, 3), np.arcsinh),
    "arccosh": (snp.arccosh, lambda r, s: uniform(r, s, 1.2, 4), np.arccosh),
    "arctanh": (snp.arctanh, lambda r, s: uniform(r, s, -0.8, 0.8), np.arctanh),
    "positive": (snp.positive, lambda r, s: uniform(r, s, -3, 3), np.positive),
}

# name -> (function, sampler for x, sampler for y, numpy reference)
BINARY = {
    "add": (snp.add, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.add),
    "subtract": (snp.subtract, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.subtract),
    "multiply": (snp.multiply, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.multiply),
    "divide": (snp.divide, lambda r, s: uniform(r, s, -3, 3), lambda r, s: signed(r, s, 0.5, 3), np.divide),
    "power": (snp.power, lambda r, s: uniform(r, s, 0.3, 3), lambda r, s: uniform(r, s, -2, 2), np.power),
    "arctan2": (snp.arctan2, lambda r, s: signed(r, s, 0.3, 3), lambda r, s: signed(r, s, 0.3, 3), np.arctan2),
    "hypot": (snp.hypot, lambda r, s: signed(r, s, 0.3, 3), lambda r, s: signed(r, s, 0.3, 3), np.hypot),
    "logaddexp": (snp.logaddexp, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.logaddexp),
    # maximum/minimum: continuous draws never tie (ties are tested as a fact below)
    "maximum": (snp.maximum, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.maximum),
    "minimum": (snp.minimum, lambda r, s: uniform(r, s, -3, 3), lambda r, s: uniform(r, s, -3, 3), np.minimum),
}


# -- unary functions -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(shape=shapes, seed=seeds)
def test_unary_values_and_derivatives(name, shape, seed):
    fn, sample, ref = UNARY[name]
    x = sample(np.random.default_rng(seed), shape)
    np.testing.assert_allclose(fn(x), ref(x), rtol=1e-14, atol=0)
    check_derivatives(fn, x, order=2, seed=seed % 1000)


def _sympy_table():
    t = sp.Symbol("t", real=True)
    return t, {
        "exp": sp.exp(t),
        "exp2": 2**t,
        "expm1": sp.exp(t) - 1,
        "log": sp.log(t),
        "log2": sp.log(t, 2),
        "log10": sp.log(t, 10),
        "log1p": sp.log(1 + t),
        "sqrt": sp.sqrt(t),
        "cbrt": t ** sp.Rational(1, 3),
        "square": t**2,
        "reciprocal": 1 / t,
        "sin": sp.sin(t),
        "cos": sp.cos(t),
        "tan": sp.tan(t),
        "arcsin": sp.asin(t),
        "arccos": sp.acos(t),
        "arctan": sp.atan(t),
        "sinh": sp.sinh(t),
        "cosh": sp.cosh(t),
        "tanh": sp.tanh(t),
        "arcsinh": sp.asinh(t),
        "arccosh": sp.acosh(t),
        "arctanh": sp.atanh(t),
    }


_T, _SYMPY = _sympy_table()
# points inside every domain above (cbrt's sympy form is the principal root: use x > 0)
_POINTS = {"arccosh": [1.3, 2.5], "arcsin": [-0.5, 0.3], "arccos": [-0.5, 0.3], "arctanh": [-0.5, 0.3], "tan": [-0.7, 1.1]}


@pytest.mark.parametrize("name", sorted(_SYMPY))
def test_unary_derivatives_match_sympy_up_to_order_3(name):
    expr = _SYMPY[name]
    fn = UNARY[name][0]
    for x0 in _POINTS.get(name, [0.4, 1.7]):
        for n in range(1, 4):
            exact = float(sp.diff(expr, _T, n).subs(_T, sp.Float(x0, 30)).evalf(25))
            got = float(sl.derivative(fn, order=n)(x0))
            assert math.isclose(got, exact, rel_tol=1e-11, abs_tol=1e-11), (name, n, x0, got, exact)


# -- binary functions with broadcasting ----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BINARY))
@FAST
@given(pair=pairs, seed=seeds)
def test_binary_values_and_derivatives_broadcasting(name, pair, seed):
    fn, sx, sy, ref = BINARY[name]
    rng = np.random.default_rng(seed)
    x, y = sx(rng, pair[0]), sy(rng, pair[1])
    out = fn(x, y)
    np.testing.assert_allclose(out, ref(x, y), rtol=1e-14, atol=0)
    assert np.shape(out) == np.broadcast_shapes(pair[0], pair[1])
    check_derivatives(fn, x, y, order=2, seed=seed % 1000)


@pytest.mark.parametrize(
    "name,dx,dy",
    [
        ("arctan2", lambda y, x: x / (x * x + y * y), lambda y, x: -y / (x * x + y * y)),
        ("hypot", lambda x, y: x / np.hypot(x, y), lambda x, y: y / np.hypot(x, y)),
        ("logaddexp", lambda x, y: 1 / (1 + np.exp(y - x)), lambda x, y: 1 / (1 + np.exp(x - y))),
        ("power", lambda x, y: y * x ** (y - 1), lambda x, y: x**y * np.log(x)),
    ],
)
def test_binary_partials_closed_form(name, dx, dy):
    fn = BINARY[name][0]
    x = np.array([0.5, 1.5, 2.0, 3.0])
    y = np.array([-1.5, 0.7, 2.0, -0.4])
    gx, gy = sl.grad(lambda a, b: snp.sum(fn(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, dx(x, y), rtol=1e-13)
    np.testing.assert_allclose(gy, dy(x, y), rtol=1e-13)


# -- operators on traced values, Python scalars and arrays mixed in ---------------------------
OPERATOR_FUNS = {
    "x+1": lambda x: x + 1,
    "1+x": lambda x: 1 + x,
    "x-1.5": lambda x: x - 1.5,
    "2-x": lambda x: 2 - x,
    "x*3": lambda x: x * 3,
    "3.5*x": lambda x: 3.5 * x,
    "x/2": lambda x: x / 2,
    "2/x": lambda x: 2 / x,
    "x**2": lambda x: x**2,
    "x**3": lambda x: x**3,
    "x**0.5": lambda x: x**0.5,
    "x**-1": lambda x: x**-1,
    "x**-2.5": lambda x: x**-2.5,
    "2.0**x": lambda x: 2.0**x,
    "3**x": lambda x: 3**x,
    "-x": lambda x: -x,
    "+x": lambda x: +x,
    "abs(x)": lambda x: abs(x),
    "np.float64*x": lambda x: np.float64(2.5) * x,
    "x*np.float64": lambda x: x * np.float64(2.5),
    "ndarray-x": lambda x: np.full(np.shape(x), 4.0) - x,
    "ndarray/x": lambda x: np.full(np.shape(x), 4.0) / x,
    "ndarray**x": lambda x: np.full(np.shape(x), 1.5) ** x,
    "mixed": lambda x: (1 - x) * (x + 2) / (3 + x**2) - 0.5 * x**4,
}


@pytest.mark.parametrize("name", sorted(OPERATOR_FUNS))
@FAST
@given(shape=shapes, seed=seeds)
def test_operators_with_scalars(name, shape, seed):
    fn = OPERATOR_FUNS[name]
    x = uniform(np.random.default_rng(seed), shape, 0.3, 2.5)  # > 0: fractional powers, 1/x
    check_derivatives(fn, x, order=2, seed=seed % 1000)


@FAST
@given(pair=pairs, seed=seeds)
def test_operators_between_traced_arrays_broadcasting(pair, seed):
    rng = np.random.default_rng(seed)
    x, y = uniform(rng, pair[0], 0.3, 2.0), uniform(rng, pair[1], 0.3, 2.0)
    check_derivatives(lambda a, b: a * b - a / b + (a + b) ** 2 - b**a + a**b - (b - a), x, y, seed=seed % 1000)


def test_power_with_array_exponents():
    x = np.array([0.7, 1.3, 2.0])
    y = np.array([-1.5, 0.5, 3.0])
    check_derivatives(lambda a, b: a**b, x, y)
    check_derivatives(lambda a: a ** np.array([1.0, 2.0, 3.0]), x)
    # an integer array exponent: d/dx x**k = k x**(k-1)
    k = np.array([1, 2, 3])
    g = sl.grad(lambda a: snp.sum(a**k))(x)
    np.testing.assert_allclose(g, k * x ** (k - 1), rtol=1e-14)
    # exponent only
    g = sl.grad(lambda b: snp.sum(x**b))(y)
    np.testing.assert_allclose(g, x**y * np.log(x), rtol=1e-14)


def test_power_special_exponents():
    x = np.array([0.5, 2.0, -1.5])
    assert np.array_equal(sl.grad(lambda a: snp.sum(a**0))(x), np.zeros(3))
    assert np.array_equal(sl.grad(lambda a: snp.sum(a**1))(x), np.ones(3))
    np.testing.assert_allclose(sl.grad(lambda a: snp.sum(a**2))(x), 2 * x)
    np.testing.assert_allclose(sl.hessian(lambda a: snp.sum(a**3))(x), np.diag(6 * x))
    # negative bases with integer exponents are fine
    np.testing.assert_allclose(sl.grad(lambda a: snp.sum(a**3))(x), 3 * x**2)


def test_power_exponent_derivative_at_zero_base_is_zero():
    # d/dy 0**y = 0 for y > 0 (the limit), not 0 * log(0) = nan
    gx, gy = sl.grad(lambda a, b: a**b, argnums=(0, 1))(0.0, 2.0)
    assert float(gx) == 0.0
    assert float(gy) == 0.0
    assert float(sl.grad(lambda b: 0.0**b)(3.0)) == 0.0


# -- singular points: the documented conventions -----------------------------------------------
def test_relu_via_maximum_splits_ties():
    """Convention: maximum/minimum split the derivative equally between tied arguments.

    relu(x) = maximum(x, 0) therefore has derivative 1/2 at x = 0 (the mean of
    the one-sided derivatives 0 and 1); away from 0 it is the indicator x > 0.
    """
    relu = lambda x: snp.maximum(x, 0.0)  # noqa: E731
    assert float(sl.grad(relu)(0.0)) == 0.5
    assert float(sl.grad(lambda x: snp.maximum(x, 0))(0.0)) == 0.5  # integer 0 too
    assert float(sl.jvp(relu, (0.0,), (1.0,))[1]) == 0.5
    x = np.array([-2.0, -0.1, 0.0, 0.1, 2.0])
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(relu(v)))(x), [0, 0, 0.5, 1, 1])
    np.testing.assert_array_equal(sl.jacfwd(relu)(x), np.diag([0, 0, 0.5, 1, 1]))
    # both tied arguments traced: the shares add up to the derivative of x -> max(x, x) = x
    gx, gy = sl.grad(snp.maximum, argnums=(0, 1))(1.0, 1.0)
    assert (float(gx), float(gy)) == (0.5, 0.5)
    gx, gy = sl.grad(snp.minimum, argnums=(0, 1))(1.0, 1.0)
    assert (float(gx), float(gy)) == (0.5, 0.5)
    assert float(sl.grad(lambda x: snp.maximum(x, x))(1.3)) == 1.0
    assert float(sl.grad(lambda x: snp.minimum(x, 0.0))(0.0)) == 0.5


def test_abs_derivative_at_zero_is_zero():
    assert float(sl.grad(snp.abs)(0.0)) == 0.0
    assert float(sl.grad(lambda x: abs(x))(0.0)) == 0.0
    assert float(sl.jvp(snp.abs, (0.0,), (1.0,))[1]) == 0.0
    assert float(sl.hessian(snp.abs)(0.0)) == 0.0
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(snp.abs(v)))(x), [-1.0, 0.0, 1.0])


def test_where_does_not_leak_nan_from_untaken_branch():
    f = lambda x: snp.where(x > 0, snp.sqrt(x), 0.0)  # noqa: E731
    with np.errstate(all="ignore"):  # NumPy still evaluates sqrt(-1) for the value
        assert float(sl.grad(f)(-1.0)) == 0.0
        assert float(sl.jvp(f, (-1.0,), (1.0,))[1]) == 0.0
        assert float(sl.hessian(f)(-1.0)) == 0.0
        x = np.array([-1.0, 4.0])
        np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(f(v)))(x), [0.0, 0.25])
        np.testing.assert_array_equal(sl.jacfwd(f)(x), np.diag([0.0, 0.25]))
        np.testing.assert_array_equal(sl.jacrev(f)(x), np.diag([0.0, 0.25]))
        # the same for log at 0 and a division by 0
        assert float(sl.grad(lambda x: snp.where(x > 0, snp.log(x), 0.0))(0.0)) == 0.0
        assert float(sl.grad(lambda x: snp.where(x != 0, 1.0 / x, 0.0))(0.0)) == 0.0
        assert float(sl.jvp(lambda x: snp.where(x != 0, 1.0 / x, 0.0), (0.0,), (1.0,))[1]) == 0.0


@FAST
@given(pair=pairs, seed=seeds)
def test_where_derivatives(pair, seed):
    rng = np.random.default_rng(seed)
    x, y = signed(rng, pair[0], 0.2, 2.0), signed(rng, pair[1], 0.2, 2.0)
    check_derivatives(lambda a, b: snp.where(a > 0, a**2 * b, snp.sin(b) - a), x, y, seed=seed % 1000)


def test_where_condition_broadcasts_and_python_scalar_branches():
    x = np.array([[-1.0, 2.0, 0.5], [3.0, -0.2, -4.0]])
    cond = np.array([True, False, True])
    g = sl.grad(lambda v: snp.sum(snp.where(cond, v**2, 1.0)))(x)
    np.testing.assert_array_equal(g, np.where(cond, 2 * x, 0.0))
    g = sl.grad(lambda v: snp.sum(snp.where(True, v, 0.0)))(x)
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_clip_derivative_is_one_on_the_closed_interval():
    points = [-0.5, 0.0, 0.3, 1.0, 1.5]
    expected = [0.0, 1.0, 1.0, 1.0, 0.0]
    for p, e in zip(points, expected):
        assert float(sl.grad(lambda x: snp.clip(x, 0.0, 1.0))(p)) == e, p
        assert float(sl.jvp(lambda x: snp.clip(x, 0.0, 1.0), (p,), (1.0,))[1]) == e, p
    x = np.array(points)
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(snp.clip(v, 0.0, 1.0)))(x), expected)
    # one-sided bounds
    assert float(sl.grad(lambda x: snp.clip(x, None, 2.0))(-5.0)) == 1.0
    assert float(sl.grad(lambda x: snp.clip(x, 2.0, None))(5.0)) == 1.0
    # traced bounds receive the derivative where they are active
    g = sl.grad(lambda x, lo, hi: snp.clip(x, lo, hi), argnums=(0, 1, 2))
    assert [float(v) for v in g(-1.0, 0.0, 1.0)] == [0.0, 1.0, 0.0]
    assert [float(v) for v in g(2.0, 0.0, 1.0)] == [0.0, 0.0, 1.0]
    assert [float(v) for v in g(0.5, 0.0, 1.0)] == [1.0, 0.0, 0.0]


@FAST
@given(shape=shapes, seed=seeds)
def test_clip_derivatives_away_from_bounds(shape, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, shape)
    x = np.where(np.abs(np.abs(x) - 1.0) < 1e-3, 0.0, x)  # keep off the kinks at -1, 1
    np.testing.assert_array_equal(snp.clip(x, -1.0, 1.0), np.clip(x, -1.0, 1.0))
    check_derivatives(lambda v: snp.clip(v, -1.0, 1.0) * v, x, seed=seed % 1000)


def test_hypot_at_origin_has_zero_gradient():
    g = sl.grad(lambda v: snp.hypot(v[0], v[1]))(np.zeros(2))
    np.testing.assert_array_equal(g, [0.0, 0.0])


# -- functions with zero derivative ---------------------------------------------------------------
ZERO_DERIVATIVE = {
    "floor": (snp.floor, np.floor),
    "ceil": (snp.ceil, np.ceil),
    "round": (snp.round, np.round),
    "around": (snp.around, np.round),
    "rint": (snp.rint, np.rint),
    "trunc": (snp.trunc, np.trunc),
    "sign": (snp.sign, np.sign),
}


@pytest.mark.parametrize("name", sorted(ZERO_DERIVATIVE))
@FAST
@given(shape=shapes, seed=seeds)
def test_piecewise_constant_functions_have_zero_derivative(name, shape, seed):
    fn, ref = ZERO_DERIVATIVE[name]
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    x = np.floor(x) + 0.25  # away from the jumps of all of them
    np.testing.assert_array_equal(fn(x), ref(x))
    assert np.array_equal(sl.grad(lambda v: snp.sum(fn(v)))(x), np.zeros(shape))
    assert np.array_equal(sl.jvp(fn, (x,), (np.ones(shape),))[1], np.zeros(shape))
    # the product rule then sees fn(x) as a constant
    np.testing.assert_array_equal(sl.grad(lambda v: snp.sum(fn(v) * v))(x), ref(x))
    check_derivatives(lambda v: fn(v) * v**2, x)


def test_round_decimals_and_floor_divide_mod():
    x = np.array([2.567, -1.234])
    np.testing.assert_array_equal(snp.round(x, 1), np.round(x, 1))
    assert np.array_equal(sl.grad(lambda v: snp.sum(snp.round(v, 2)))(x), np.zeros(2))
    # floor_divide is piecewise constant; mod(x, y) = x - floor(x/y) y
    assert float(sl.grad(lambda v: v // 3.0)(7.5)) == 0.0
    gx, gy = sl.grad(snp.mod, argnums=(0, 1))(7.5, 3.0)
    assert (float(gx), float(gy)) == (1.0, -2.0)
    assert float(sl.grad(lambda v: v % 3.0)(7.5)) == 1.0
    check_derivatives(snp.mod, np.array([7.5, -2.2, 0.4]), np.array([3.0, 1.5, 2.5]))


# -- comparisons and logical operations ------------------------------------------------------------
COMPARISONS = {
    "equal": (snp.equal, np.equal),
    "not_equal": (snp.not_equal, np.not_equal),
    "less": (snp.less, np.less),
    "less_equal": (snp.less_equal, np.less_equal),
    "greater": (snp.greater, np.greater),
    "greater_equal": (snp.greater_equal, np.greater_equal),
    "<": (lambda a, b: a < b, np.less),
    ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_are_plain_boolean_arrays_under_transforms(name):
    fn, ref = COMPARISONS[name]
    x = np.array([1.0, 2.0, 3.0, 2.0])
    y = np.array([2.0, 2.0, 1.0, 5.0])
    seen = []

    def f(a, b):
        c = fn(a, b)
        seen.append(c)
        return snp.sum(snp.where(c, a * b, a - b))

    ga, gb = sl.grad(f, argnums=(0, 1))(x, y)
    c = seen[-1]
    assert not isinstance(c, Tracer) and isinstance(c, np.ndarray) and c.dtype == bool
    np.testing.assert_array_equal(c, ref(x, y))
    # the comparison contributes nothing: only the selected branches are differentiated
    np.testing.assert_array_equal(ga, np.where(ref(x, y), y, 1.0))
    np.testing.assert_array_equal(gb, np.where(ref(x, y), x, -1.0))
    # forward mode too
    sl.jvp(f, (x, y), (np.ones(4), np.ones(4)))
    assert not isinstance(seen[-1], Tracer)


LOGICAL = {
    "logical_and": (lambda a, b: snp.logical_and(a > 1, b > 1), lambda a, b: np.logical_and(a > 1, b > 1)),
    "logical_or": (lambda a, b: snp.logical_or(a > 1, b > 1), lambda a, b: np.logical_or(a > 1, b > 1)),
    "logical_xor": (lambda a, b: snp.logical_xor(a > 1, b > 1), lambda a, b: np.logical_xor(a > 1, b > 1)),
    "logical_not": (lambda a, b: snp.logical_not(a > 1), lambda a, b: np.logical_not(a > 1)),
    "&": (lambda a, b: (a > 1) & (b > 1), lambda a, b: (a > 1) & (b > 1)),
    "|": (lambda a, b: (a > 1) | (b > 1), lambda a, b: (a > 1) | (b > 1)),
    "~": (lambda a, b: ~(a > 1), lambda a, b: ~(a > 1)),
    "isfinite": (lambda a, b: snp.isfinite(a / b), lambda a, b: np.isfinite(a / b)),
    "isnan": (lambda a, b: snp.isnan(a - b), lambda a, b: np.isnan(a - b)),
    "isinf": (lambda a, b: snp.isinf(a * b), lambda a, b: np.isinf(a * b)),
    "signbit": (lambda a, b: snp.signbit(a - b), lambda a, b: np.signbit(a - b)),
}


@pytest.mark.parametrize("name", sorted(LOGICAL))
def test_logical_operations_are_not_differentiable(name):
    fn, ref = LOGICAL[name]
    x = np.array([0.5, 2.0, 3.0, 1.5])
    y = np.array([2.0, 0.5, 3.0, 0.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(fn(x, y), ref(x, y))
        seen = []

        def f(a):
            c = fn(a, y)
            seen.append(c)
            return snp.sum(snp.where(c, a**2, 0.0))

        g = sl.grad(f)(x)
        assert not isinstance(seen[-1], Tracer)
        np.testing.assert_array_equal(seen[-1], ref(x, y))
        np.testing.assert_array_equal(g, np.where(ref(x, y), 2 * x, 0.0))


def test_jacobian_of_a_piecewise_constant_function_is_zero():
    x = np.array([1.5, -0.5, 2.25])
    for jac in (sl.jacfwd, sl.jacrev, sl.jacobian):
        J = jac(lambda v: snp.floor(v) + (v > 0))(x)
        assert isinstance(J, np.ndarray) and J.shape == (3, 3)
        assert np.array_equal(J, np.zeros((3, 3)))


def test_numpy_ufuncs_route_to_slopes():
    x = np.array([0.3, 1.1, 2.0])
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.sin(v)))(x), np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.exp(v) * np.log(v)))(x), np.exp(x) * np.log(x) + np.exp(x) / x, rtol=1e-14)
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.maximum(v, 1.0)))(x), [0.0, 1.0, 1.0])
    np.testing.assert_allclose(sl.grad(lambda v: np.sum(np.hypot(v, 1.0)))(x), x / np.hypot(x, 1.0), rtol=1e-14)
    check_derivatives(lambda v: np.arctan2(np.sqrt(v), np.tanh(v)), x)


@pytest.mark.parametrize(
    "branch",
    [
        lambda x: snp.sqrt(x) * snp.sqrt(x),
        lambda x: snp.log(x) * snp.log(x),
        lambda x: 1.0 / x,
        lambda x: x ** 0.5,
        lambda x: snp.arcsin(x) * 2.0,
    ],
)
def test_products_in_the_branch_not_taken_leak_no_nan(branch):
    """A cotangent of 0 reaching a product with inf/NaN stays 0 (first and second order)."""
    f = lambda x: snp.where(x > 0, branch(x), 0.0)
    with np.errstate(all="ignore"):
        assert sl.grad(f)(-1.0) == 0.0
        assert sl.grad(sl.grad(f))(-1.0) == 0.0
        assert sl.grad(sl.derivative(f, 2))(-1.0) == 0.0


def test_softplus_gradient_subtracts_no_zero(monkeypatch):
    # d/dm logaddexp(0, m) = expit(m): eagerly, no pass over m to subtract the constant zero
    from slopes.core.ops import elementwise

    calls = []
    impl = elementwise.sub.impl
    monkeypatch.setattr(elementwise.sub, "impl", lambda *a, **k: calls.append(a) or impl(*a, **k))
    m = np.array([-0.0, 0.0, 2.5, -40.0, 800.0, -np.inf, np.inf])
    g = sl.grad(lambda m: snp.sum(snp.logaddexp(0.0, m)))(m)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-m)), rtol=1e-15)
    assert calls == []
    # a non-zero first argument still subtracts: d/dm logaddexp(1, m) = expit(m - 1)
    g = sl.grad(lambda m: snp.sum(snp.logaddexp(1.0, m)))(m[:5])
    np.testing.assert_allclose(g, 1 / (1 + np.exp(1.0 - m[:5])), rtol=1e-15)
    assert len(calls) == 1
